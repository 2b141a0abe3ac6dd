//! The permission explorer's HTTP surface: the embedded page and its headers, the
//! `X-UC-Emulator-View-As` read-only header, and `GET /explain/actions`.

use serde_json::{json, Value};

use crate::helpers::{spawn, TestApp, ADMIN, ALICE, UC};

const VIEW_AS: &str = "X-UC-Emulator-View-As";

async fn raw(app: &TestApp, method: &str, path: &str) -> reqwest::Response {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    client
        .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), format!("{}{path}", app.url))
        .send()
        .await
        .unwrap()
}

fn assert_page_headers(res: &reqwest::Response, what: &str) {
    let h = |n: &str| res.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let csp = h("content-security-policy");
    assert!(csp.contains("default-src 'self'"), "{what}: CSP {csp:?}");
    for bad in ["unsafe-inline", "unsafe-eval", "http:", "https:", "ws:", "*"] {
        assert!(!csp.contains(bad), "{what}: CSP {csp:?} contains {bad}");
    }
    assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(h("referrer-policy"), "no-referrer", "{what}");
}

#[actix_web::test]
async fn the_page_is_served_embedded_without_a_token() {
    let app = spawn().await;
    let res = raw(&app, "GET", "/").await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/explorer/");
    assert!(res.text().await.unwrap().is_empty());

    for path in ["/explorer/", "/explorer"] {
        let res = raw(&app, "GET", path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
        assert_eq!(res.headers()["cache-control"], "no-store");
        assert_page_headers(&res, path);
        let html = res.text().await.unwrap();
        assert!(html.contains(r#"data-testid="signin-form""#));
        assert!(html.contains(r#"rel="icon""#), "the page declares its icon");
        // Every reference is to the page's own assets: no other host.
        assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("//cdn"), "{html}");
    }
    for (file, ty) in [("app.js", "text/javascript"), ("app.css", "text/css"), ("icon.svg", "image/svg+xml")] {
        let res = raw(&app, "GET", &format!("/explorer/assets/{file}")).await;
        assert_eq!(res.status(), 200, "{file}");
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with(ty), "{file}");
        assert_page_headers(&res, file);
        // (An SVG's namespace is a name, not a request.)
        let body = res.text().await.unwrap().replace(r#"xmlns="http://www.w3.org/2000/svg""#, "");
        assert!(!body.contains("https://") && !body.contains("http://"), "{file} names another host");
    }
    let res = raw(&app, "GET", "/explorer/assets/nope.js").await;
    assert_eq!(res.status(), 404);
    assert_page_headers(&res, "404");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error_code"], "NOT_FOUND");
    let res = raw(&app, "POST", "/explorer/").await;
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "GET");
    // /favicon.ico stays a 404 (the page declares its own icon).
    assert_eq!(raw(&app, "GET", "/favicon.ico").await.status(), 404);
}

#[actix_web::test]
async fn view_as_is_for_metastore_admins_and_read_only() {
    let app = spawn().await;
    let catalogs = format!("{UC}/catalogs");
    let as_ = |token: &'static str, who: &'static str| {
        let app = &app;
        let catalogs = catalogs.clone();
        async move {
            let t = app.with_token(token);
            t.execute(t.request("GET", &catalogs).header(VIEW_AS, who)).await
        }
    };
    // Admin viewing as alice sees what alice sees (nothing: no USE_CATALOG on main).
    assert_eq!(app.alice().get(&catalogs).await.ok("alice")["catalogs"], json!([]));
    let viewed = as_(ADMIN, "alice@example.com").await.ok("view as alice");
    assert_eq!(viewed["catalogs"], json!([]));
    // SCIM Me and user-info/me answer as the viewed principal.
    let t = app.admin();
    let me = t.execute(t.request("GET", "/api/2.0/preview/scim/v2/Me").header(VIEW_AS, "alice@example.com")).await;
    assert_eq!(me.ok("Me")["userName"], "alice@example.com");
    let info = t.execute(t.request("GET", &format!("{UC}/user-info/me")).header(VIEW_AS, "alice@example.com")).await;
    assert_eq!(info.ok("user-info")["is_metastore_admin"], false);
    // An empty header is no header.
    assert_eq!(as_(ADMIN, "").await.ok("empty")["catalogs"].as_array().unwrap().len(), 1);
    // A plain user may not use it (403, even naming itself).
    let msg = as_(ALICE, "alice@example.com").await.error(403, "PERMISSION_DENIED", "alice view-as");
    assert!(msg.contains(VIEW_AS), "{msg}");
    // Unknown, a group, or the service principal's display name → 400 naming the header.
    for who in ["nobody@example.com", "analysts"] {
        let msg = as_(ADMIN, who).await.invalid(VIEW_AS, who);
        assert!(msg.contains(who), "{msg}");
    }
    // A service principal by application id is fine.
    as_(ADMIN, "6f1d1c2e-0000-4000-8000-000000000001").await.ok("view as sp");
    // Writes are refused and change nothing.
    let before = app.dump_state().await;
    let t = app.admin();
    let res = t
        .execute(
            t.request("POST", &catalogs)
                .header(VIEW_AS, "alice@example.com")
                .header("Content-Type", "application/json")
                .body(r#"{"name": "sneaky"}"#),
        )
        .await;
    let msg = res.error(403, "PERMISSION_DENIED", "view-as POST");
    assert!(msg.contains("read-only"), "{msg}");
    assert_eq!(app.dump_state().await, before);
    // 401 comes first.
    let t = app.with_token("dapi-nope");
    let res = t.execute(t.request("GET", &catalogs).header(VIEW_AS, "alice@example.com")).await;
    res.error(401, "UNAUTHENTICATED", "bad token");
}

#[actix_web::test]
async fn explain_actions_lists_what_explain_accepts() {
    let app = spawn().await;
    let all = app.alice().get(&format!("{UC}/explain/actions")).await.ok("actions");
    let all = all["actions"].as_array().unwrap().clone();
    assert_eq!(all[0], json!({"name": "getMetastore", "kind": "operation", "securable_type": "METASTORE"}));
    let first_privilege = all.iter().position(|a| a["kind"] == "privilege").unwrap();
    assert!(all[first_privilege..].iter().all(|a| a["kind"] == "privilege"), "operations come first");

    let table = app.alice().get(&format!("{UC}/explain/actions?securable_type=TABLE")).await.ok("table");
    let names: Vec<&str> = table["actions"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert!(names.starts_with(&["getTable"]), "{names:?}");
    for n in ["getPermissions", "updatePermissions", "SELECT", "MODIFY", "ALL_PRIVILEGES"] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    assert!(!names.contains(&"USE_CATALOG") && !names.contains(&"getCatalog"), "{names:?}");
    assert!(table["actions"].as_array().unwrap().iter().all(|a| a["securable_type"] == "TABLE"));
    // Every listed name is accepted by explain for a securable of that type.
    for kind in ["metastore", "catalog", "table"] {
        let listed = app.admin().get(&format!("{UC}/explain/actions?securable_type={kind}")).await.ok(kind);
        let full_name = match kind {
            "catalog" => "main",
            "table" => "main.default.t",
            _ => "",
        };
        if kind == "table" {
            let body = r#"{"name": "t", "catalog_name": "main", "schema_name": "default", "table_type": "MANAGED",
                           "data_source_format": "DELTA", "columns": []}"#;
            let r = app.admin().send("POST", &format!("{UC}/tables"), Some(body)).await;
            assert_eq!(r.status, 200, "{}", r.text);
        }
        for a in listed["actions"].as_array().unwrap() {
            let name = a["name"].as_str().unwrap();
            let r = app
                .admin()
                .get(&format!("{UC}/explain?action={name}&securable_type={kind}&full_name={full_name}"))
                .await;
            assert_eq!(r.status, 200, "{kind} {name}: {}", r.text);
        }
    }
    app.alice().get(&format!("{UC}/explain/actions?securable_type=banana")).await.invalid("securable_type", "banana");
    app.anonymous().get(&format!("{UC}/explain/actions")).await.error(401, "UNAUTHENTICATED", "anonymous");
}

/// Where the view-as header does not apply: an inactive principal, account APIs and the Delta
/// Sharing server each answer 400 naming the header, and nothing is read as anyone else.
#[actix_web::test]
async fn view_as_is_refused_for_inactive_principals_account_apis_and_the_sharing_server() {
    let fixture = crate::helpers::sharing_fixture(json!({
        "users": [{"user_name": "alice@example.com"}, {"user_name": "bob@example.com"}],
        "shares": [{"name": "feed"}],
        "grants": [{"securable_type": "share", "full_name": "feed", "principal": "acme", "privileges": ["SELECT"]}]
    }));
    let app = crate::helpers::spawn_with(&fixture).await;
    let t = app.admin();
    let get_as = |path: String, who: &'static str| {
        let t = app.admin();
        async move { t.execute(t.request("GET", &path).header(VIEW_AS, who)).await }
    };
    // bob is deactivated: no longer someone to view as.
    let bob = t.get("/api/2.0/preview/scim/v2/Users?filter=userName%20eq%20%22bob%40example.com%22").await.ok("bob");
    let bob_id = bob["Resources"][0]["id"].as_str().expect("bob's id").to_string();
    let deactivate = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                            "Operations": [{"op": "replace", "path": "active", "value": false}]});
    t.patch(&format!("/api/2.0/preview/scim/v2/Users/{bob_id}"), deactivate).await.ok("deactivate bob");
    let msg = get_as(format!("{UC}/catalogs"), "bob@example.com").await.invalid("X-UC-Emulator-View-As", "inactive");
    assert!(msg.contains("bob@example.com"), "{msg}");
    // Account APIs: 400 naming the header, even for the account admin viewing an active user.
    let users = "/api/2.0/accounts/00000000-0000-4000-8000-000000000000/scim/v2/Users";
    t.get(users).await.ok("account SCIM as the admin");
    get_as(users.to_string(), "alice@example.com").await.invalid("X-UC-Emulator-View-As", "account API");
    // The Delta Sharing server: the recipient's bearer token authenticates, the header is refused
    // in the protocol's error shape.
    let link = t.get(&format!("{UC}/recipients/acme")).await.ok("recipient")["activation_url"]
        .as_str()
        .expect("link")
        .to_string();
    let token = link.rsplit_once('?').expect("?<token>").1.to_string();
    let anon = app.anonymous();
    let profile =
        anon.get(&format!("/api/2.1/unity-catalog/public/data_sharing_activation/{token}")).await.ok("profile");
    let bearer = format!("Bearer {}", profile["bearerToken"].as_str().expect("bearer"));
    let shares = format!("{}/shares", profile["endpoint"].as_str().expect("endpoint").replace(&app.url, ""));
    let plain = anon.execute(anon.request("GET", &shares).header("Authorization", &bearer)).await;
    assert_eq!(plain.json()["items"][0]["name"], "feed", "{}", plain.text);
    let refused = anon
        .execute(anon.request("GET", &shares).header("Authorization", &bearer).header(VIEW_AS, "alice@example.com"))
        .await;
    refused.invalid("X-UC-Emulator-View-As", "sharing server");
    assert_eq!(refused.json()["errorCode"], "INVALID_PARAMETER_VALUE", "the protocol's spelling too");
}
