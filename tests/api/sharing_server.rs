//! Delta Sharing, the recipient's side, over HTTP: the forms an activation link arrives in, and
//! the sharing server's own error shape (`errorCode` besides `error_code`), checked in the
//! protocol's order (route, authentication, validation, share, schema and table, table data).

use serde_json::{json, Value};

use crate::helpers::{enc, sharing_fixture, spawn_with, Resp, TestApp, UC};

fn fixture() -> String {
    sharing_fixture(json!({
        "tables": [{"catalog_name": "shop", "schema_name": "sales", "name": "orders", "table_type": "MANAGED",
                    "data_source_format": "DELTA", "columns": []}],
        "shares": [{"name": "feed", "objects": [{"name": "shop.sales.orders"}]}],
        "grants": [{"securable_type": "share", "full_name": "feed", "principal": "acme", "privileges": ["SELECT"]}]
    }))
}

fn protocol_error(r: &Resp, status: u16, code: &str, what: &str) -> String {
    assert_eq!(r.status, status, "{what}: {}", r.text);
    assert!(r.content_type().starts_with("application/json"), "{what}: {}", r.content_type());
    let body = r.json();
    assert_eq!(body["error_code"], code, "{what}: {body}");
    assert_eq!(body["errorCode"], code, "{what}: the protocol's spelling too: {body}");
    body["message"].as_str().unwrap_or_default().to_string()
}

async fn link(app: &TestApp) -> String {
    let r = app.admin().get(&format!("{UC}/recipients/acme")).await.ok("recipient");
    r["activation_url"].as_str().expect("an activation link").to_string()
}

async fn raw_get(app: &TestApp, path: &str, auth: Option<&str>) -> Resp {
    let mut rb = app.client.get(format!("{}{path}", app.url));
    if let Some(a) = auth {
        rb = rb.header("Authorization", a);
    }
    app.anonymous().execute(rb).await
}

#[actix_web::test]
async fn an_activation_link_is_accepted_as_token_or_whole_link_and_retrieved_once() {
    let app = spawn_with(&fixture()).await;
    let link = link(&app).await;
    let token = link.rsplit_once('?').expect("?<token>").1.to_string();
    let info = "/api/2.1/unity-catalog/public/data_sharing_activation_info/";
    // The token, the link percent-encoded, and the link raw (its `?<token>` then arrives as the
    // query string); any Authorization header is ignored.
    for (path, auth) in [
        (format!("{info}{token}"), None),
        (format!("{info}{}", enc(&link)), Some("Bearer nonsense")),
        (format!("{info}{link}"), Some("Bearer dapi-admin")),
        (format!("/api/2.0/unity-catalog/public/data_sharing_activation_info/{token}"), None),
    ] {
        let r = raw_get(&app, &path, auth).await;
        assert_eq!((r.status, r.json()), (200, json!({})), "{path}");
    }
    let retrieve = format!("/api/2.0/unity-catalog/public/data_sharing_activation/{}", enc(&link));
    let r = raw_get(&app, &retrieve, Some("Bearer garbage")).await;
    let profile: Value = r.ok("retrieve");
    assert_eq!(profile["shareCredentialsVersion"], 1);
    let bearer = profile["bearerToken"].as_str().expect("bearer").to_string();
    let endpoint = profile["endpoint"].as_str().expect("endpoint").to_string();
    assert!(endpoint.starts_with(&format!("{}/api/2.0/delta-sharing/metastores/", app.url)), "{endpoint}");
    // Once.
    let again = raw_get(&app, &format!("/api/2.1/unity-catalog/public/data_sharing_activation/{token}"), None).await;
    assert!(again.error(404, "RESOURCE_DOES_NOT_EXIST", "second retrieval").contains("already retrieved"));
    assert!(!again.text.contains(&bearer));
    raw_get(&app, &format!("{info}{token}"), None).await.error(404, "RESOURCE_DOES_NOT_EXIST", "info after");
    raw_get(&app, &format!("{info}unknown"), None).await.error(404, "RESOURCE_DOES_NOT_EXIST", "unknown");
    let r = app.admin().get(&format!("{UC}/recipients/acme")).await.ok("recipient after");
    assert_eq!((r["activated"].clone(), r["tokens"][0]["activation_url"].clone()), (json!(true), json!("")));
    // The bearer token reads the share; the workspace API does not know it.
    let shares =
        raw_get(&app, &format!("{}/shares", endpoint.replace(&app.url, "")), Some(&format!("Bearer {bearer}"))).await;
    assert_eq!(shares.json()["items"][0]["name"], "feed", "{}", shares.text);
    raw_get(&app, &format!("{UC}/catalogs"), Some(&format!("Bearer {bearer}"))).await.error(
        401,
        "UNAUTHENTICATED",
        "ws",
    );
}

#[actix_web::test]
async fn the_sharing_server_answers_in_the_protocols_shape_and_order() {
    let app = spawn_with(&fixture()).await;
    let link = link(&app).await;
    let token = link.rsplit_once('?').expect("?<token>").1.to_string();
    let profile = raw_get(&app, &format!("/api/2.1/unity-catalog/public/data_sharing_activation/{token}"), None)
        .await
        .ok("profile");
    let bearer = format!("Bearer {}", profile["bearerToken"].as_str().expect("bearer"));
    let prefix = profile["endpoint"].as_str().expect("endpoint").replace(&app.url, "");
    let get = |p: String, auth: Option<String>| {
        let app = &app;
        async move { raw_get(app, &p, auth.as_deref()).await }
    };
    let b = || Some(bearer.clone());

    // Route first: unknown paths and methods, even without a token.
    protocol_error(&get(format!("{prefix}/nope"), None).await, 404, "ENDPOINT_NOT_FOUND", "unknown path");
    let post = app.anonymous().send("POST", &format!("{prefix}/shares"), Some("{}")).await;
    protocol_error(&post, 405, "METHOD_NOT_ALLOWED", "POST /shares");
    assert_eq!(post.header("allow").as_deref(), Some("GET"));
    // Then authentication: none, a workspace token, another metastore's path.
    protocol_error(&get(format!("{prefix}/shares"), None).await, 401, "UNAUTHENTICATED", "no token");
    protocol_error(
        &get(format!("{prefix}/shares"), Some("Bearer dapi-admin".into())).await,
        401,
        "UNAUTHENTICATED",
        "pat",
    );
    let other = "/api/2.0/delta-sharing/metastores/00000000-0000-4000-8000-000000000000/shares";
    protocol_error(&get(other.to_string(), b()).await, 401, "UNAUTHENTICATED", "other metastore");
    // Validation, then the share, schema and table.
    let m = protocol_error(
        &get(format!("{prefix}/shares?maxResults=-1"), b()).await,
        400,
        "INVALID_PARAMETER_VALUE",
        "max",
    );
    assert!(m.contains("maxResults"), "{m}");
    let m =
        protocol_error(&get(format!("{prefix}/shares/nope/schemas"), b()).await, 403, "PERMISSION_DENIED", "no grant");
    assert!(m.contains("does not have SELECT on share nope"), "{m}");
    let t = format!("{prefix}/shares/FEED/schemas/sales/tables");
    assert_eq!(get(t, b()).await.json()["items"][0]["name"], "orders", "names are case-insensitive");
    protocol_error(
        &get(format!("{prefix}/shares/feed/schemas/x/tables"), b()).await,
        404,
        "SCHEMA_DOES_NOT_EXIST",
        "schema",
    );
    let table = format!("{prefix}/shares/feed/schemas/sales/tables");
    protocol_error(&get(format!("{table}/nope/metadata"), b()).await, 404, "TABLE_DOES_NOT_EXIST", "table");
    let m = protocol_error(
        &get(format!("{table}/orders/metadata?version=x"), b()).await,
        400,
        "INVALID_PARAMETER_VALUE",
        "v",
    );
    assert!(m.contains("version"), "{m}");
    let m = protocol_error(
        &get(format!("{table}/orders/changes?startingTimestamp=yesterday"), b()).await,
        400,
        "INVALID_PARAMETER_VALUE",
        "ts",
    );
    assert!(m.contains("startingTimestamp"), "{m}");
    let q = app.with_authorization(&bearer).send("POST", &format!("{table}/orders/query"), Some("[1]")).await;
    protocol_error(&q, 400, "MALFORMED_REQUEST", "query body");
    let q = app
        .with_authorization(&bearer)
        .send("POST", &format!("{table}/orders/query"), Some(r#"{"limitHint": -1}"#))
        .await;
    assert!(protocol_error(&q, 400, "INVALID_PARAMETER_VALUE", "limitHint").contains("limitHint"));
    // The table's data: no Delta log on disk (a managed table without a mapped location).
    let m = protocol_error(&get(format!("{table}/orders/version"), b()).await, 400, "INVALID_STATE", "no log");
    assert!(m.contains("sales.orders") && !m.contains("s3://"), "{m}");
    // A HEAD answers the status only.
    let head = app.with_authorization(&bearer).send("HEAD", &format!("{table}/orders"), None).await;
    assert_eq!((head.status, head.text.as_str()), (400, ""));
    // Revoked: 403 on the next request.
    app.admin()
        .patch(
            &format!("{UC}/shares/feed/permissions"),
            json!({"changes": [{"principal": "acme", "remove": ["SELECT"]}]}),
        )
        .await
        .ok("revoke");
    assert_eq!(get(format!("{prefix}/shares"), b()).await.json(), json!({"items": []}));
    protocol_error(&get(format!("{prefix}/shares/feed"), b()).await, 403, "PERMISSION_DENIED", "revoked");
}
