//! The error contract: every failure is
//! `{"error_code", "message"}` JSON with the matching status, bad input is a 400 naming the
//! field, and no rejected request changes state.

use serde_json::json;

use crate::helpers::{spawn, table_body, Resp, UC};

const CATALOGS: &str = "/api/2.1/unity-catalog/catalogs";

#[actix_web::test]
async fn healthz_needs_no_token() {
    let app = spawn().await;
    let res = app.anonymous().get("/healthz").await;
    assert_eq!(res.ok("healthz"), json!({"status": "ok"}));
}

#[actix_web::test]
async fn missing_other_scheme_unknown_or_empty_tokens_are_401() {
    let app = spawn().await;
    let before = app.dump_state().await;
    let cases: Vec<(&str, Option<&str>)> = vec![
        ("missing header", None),
        ("basic scheme", Some("Basic YWRtaW46cGFzc3dvcmQ=")),
        ("basic scheme carrying a valid token", Some("Basic dapi-admin")),
        ("unknown token", Some("Bearer dapi-nobody")),
        ("empty bearer", Some("Bearer ")),
        ("bare scheme", Some("Bearer")),
        ("token without scheme", Some("dapi-admin")),
    ];
    for (what, auth) in cases {
        let caller = match auth {
            None => app.anonymous(),
            Some(a) => app.with_authorization(a),
        };
        caller.get(CATALOGS).await.error(401, "UNAUTHENTICATED", &format!("GET catalogs, {what}"));
        caller.post(CATALOGS, json!({"name": "sneaky"})).await.error(
            401,
            "UNAUTHENTICATED",
            &format!("POST catalogs, {what}"),
        );
        // Authentication is decided before the body is looked at.
        caller.send("POST", CATALOGS, Some("{not json")).await.error(
            401,
            "UNAUTHENTICATED",
            &format!("POST malformed body, {what}"),
        );
        caller.delete(&format!("{CATALOGS}/main?force=true")).await.error(
            401,
            "UNAUTHENTICATED",
            &format!("DELETE main, {what}"),
        );
        caller.get("/api/2.1/unity-catalog/no-such-endpoint").await.error(
            401,
            "UNAUTHENTICATED",
            &format!("unknown /api path, {what}"),
        );
    }
    assert_eq!(app.dump_state().await, before, "a 401 changed state");
}

#[actix_web::test]
async fn unknown_paths_are_endpoint_not_found() {
    let app = spawn().await;
    for path in [
        "/api/2.1/unity-catalog/no-such-endpoint",
        "/api/2.1/unity-catalog/catalogs/main/extra/parts",
        "/api/9.9/whatever",
        "/api/2.0/unity-catalog/catalogs",
    ] {
        for method in ["GET", "POST", "DELETE"] {
            app.admin().send(method, path, None).await.error(404, "ENDPOINT_NOT_FOUND", &format!("{method} {path}"));
        }
    }
    // Outside /api no token is needed for the 404 (clients probe these when they start). `/`
    // redirects to the permission explorer (tests/api/explorer.rs).
    for path in ["/.well-known/openid-configuration", "/favicon.ico", "/oidc/v1/authorize"] {
        for method in ["GET", "POST"] {
            app.anonymous().send(method, path, None).await.error(
                404,
                "ENDPOINT_NOT_FOUND",
                &format!("{method} {path} without token"),
            );
        }
    }
}

#[actix_web::test]
async fn wrong_method_on_a_served_path_is_405_with_allow() {
    let app = spawn().await;
    let before = app.dump_state().await;
    let cases: &[(&str, &str, &[&str])] = &[
        ("DELETE", "/api/2.1/unity-catalog/catalogs", &["GET", "POST"]),
        ("PUT", "/api/2.1/unity-catalog/catalogs", &["GET", "POST"]),
        ("PUT", "/api/2.1/unity-catalog/catalogs/main", &["GET", "PATCH", "DELETE"]),
        ("POST", "/api/2.1/unity-catalog/catalogs/main", &["GET", "PATCH", "DELETE"]),
        ("POST", "/api/2.1/unity-catalog/metastore_summary", &["GET"]),
        ("GET", "/api/2.1/unity-catalog/workspaces/1001/metastore", &["PUT", "PATCH", "DELETE"]),
        ("DELETE", "/api/2.1/unity-catalog/schemas", &["GET", "POST"]),
        ("PATCH", "/api/2.1/unity-catalog/tables", &["GET", "POST"]),
    ];
    for &(method, path, allowed) in cases {
        let what = format!("{method} {path}");
        let res = app.admin().send(method, path, Some(r#"{"name": "x"}"#)).await;
        res.error(405, "METHOD_NOT_ALLOWED", &what);
        let allow = res.header("allow").unwrap_or_else(|| panic!("{what}: no Allow header"));
        let listed: Vec<&str> = allow.split(',').map(str::trim).collect();
        for m in allowed {
            assert!(listed.contains(m), "{what}: Allow {allow:?} lacks {m}");
        }
        assert!(!listed.contains(&method), "{what}: Allow {allow:?} lists the refused method");
    }
    assert_eq!(app.dump_state().await, before, "a 405 changed state");
}

#[actix_web::test]
async fn body_over_4_mib_is_413_json() {
    let app = spawn().await;
    let before = app.dump_state().await;
    let comment = "x".repeat(4 * 1024 * 1024 + 1024);
    let body = json!({"name": "too_big", "comment": comment}).to_string();
    let res = app.admin().send("POST", CATALOGS, Some(&body)).await;
    assert_eq!(res.status, 413, "body: {}", res.text);
    assert!(res.content_type().starts_with("application/json"), "Content-Type {:?}", res.content_type());
    let err = res.json();
    assert!(err["error_code"].as_str().is_some_and(|c| !c.is_empty()), "{err}");
    assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()), "{err}");
    assert_eq!(app.dump_state().await, before, "a 413 changed state");

    // Just under the limit is fine.
    let comment = "y".repeat(4 * 1024 * 1024 - 1024);
    let res = app.admin().post(CATALOGS, json!({"name": "almost_too_big", "comment": comment})).await;
    let created = res.ok("a body just under 4 MiB");
    assert_eq!(created["comment"].as_str().map(str::len), Some(4 * 1024 * 1024 - 1024));
}

/// Each row: method, path (under the UC prefix), raw body, what the 400's message must name.
/// `LONG256` stands for a name of 256 characters (one over the limit).
const REJECTED: &[(&str, &str, Option<&str>, &str)] = &[
    // Malformed JSON and non-object bodies.
    ("POST", "/catalogs", Some(r#"{"name": "#), "body"),
    ("POST", "/catalogs", Some(r#"{"name": "x"} trailing"#), "body"),
    ("POST", "/catalogs", Some(r#"{"name": "x",}"#), "body"),
    ("POST", "/catalogs", Some(r#"[{"name": "x"}]"#), "body"),
    ("POST", "/catalogs", Some(r#""x""#), "body"),
    ("POST", "/catalogs", Some("42"), "body"),
    ("POST", "/catalogs", Some("null"), "body"),
    ("PATCH", "/catalogs/main", Some("[]"), "body"),
    ("POST", "/schemas", Some("{{"), "body"),
    ("POST", "/tables", Some("true"), "body"),
    // Wrong field types.
    ("POST", "/catalogs", Some(r#"{"name": 5}"#), "name"),
    ("POST", "/catalogs", Some(r#"{"name": ["x"]}"#), "name"),
    ("POST", "/catalogs", Some(r#"{"name": "x", "comment": 7}"#), "comment"),
    ("POST", "/catalogs", Some(r#"{"name": "x", "properties": {"a": 1}}"#), "properties"),
    ("POST", "/catalogs", Some(r#"{"name": "x", "properties": ["a"]}"#), "properties"),
    ("POST", "/schemas", Some(r#"{"name": "x", "catalog_name": 1}"#), "catalog_name"),
    (
        "POST",
        "/tables",
        Some(
            r#"{"name": "x", "catalog_name": "main", "schema_name": "s1", "table_type": "MANAGED", "data_source_format": "DELTA", "columns": "id"}"#,
        ),
        "columns",
    ),
    (
        "POST",
        "/tables",
        Some(
            r#"{"name": "x", "catalog_name": "main", "schema_name": "s1", "table_type": "MANAGED", "data_source_format": "DELTA", "columns": [{"name": "id", "type_name": "LONG", "type_text": "bigint", "type_json": "{}", "position": "zero"}]}"#,
        ),
        "columns[0].position",
    ),
    ("PATCH", "/catalogs/main", Some(r#"{"comment": 5}"#), "comment"),
    ("PATCH", "/schemas/main.s1", Some(r#"{"comment": false}"#), "comment"),
    // Missing required fields (an empty body counts as {}).
    ("POST", "/catalogs", Some("{}"), "name"),
    ("POST", "/catalogs", Some(""), "name"),
    ("POST", "/catalogs", None, "name"),
    ("POST", "/schemas", Some(r#"{"name": "s9"}"#), "catalog_name"),
    // Unknown enum values.
    (
        "POST",
        "/tables",
        Some(
            r#"{"name": "x", "catalog_name": "main", "schema_name": "s1", "table_type": "BOGUS", "data_source_format": "DELTA", "columns": []}"#,
        ),
        "table_type",
    ),
    (
        "POST",
        "/tables",
        Some(
            r#"{"name": "x", "catalog_name": "main", "schema_name": "s1", "table_type": "managed_table", "data_source_format": "DELTA", "columns": []}"#,
        ),
        "table_type",
    ),
    (
        "POST",
        "/tables",
        Some(
            r#"{"name": "x", "catalog_name": "main", "schema_name": "s1", "table_type": "MANAGED", "data_source_format": "XLS", "columns": []}"#,
        ),
        "data_source_format",
    ),
    (
        "POST",
        "/tables",
        Some(
            r#"{"name": "x", "catalog_name": "main", "schema_name": "s1", "table_type": "MANAGED", "data_source_format": "DELTA", "columns": [{"name": "id", "type_name": "LONG", "type_text": "bigint", "type_json": "{}", "position": 0}, {"name": "s", "type_name": "STRNG", "type_text": "string", "type_json": "{}", "position": 1}]}"#,
        ),
        "columns[1].type_name",
    ),
    ("PATCH", "/catalogs/main", Some(r#"{"isolation_mode": "WIDE_OPEN"}"#), "isolation_mode"),
    // Invalid and over-long names.
    ("POST", "/catalogs", Some(r#"{"name": ""}"#), "name"),
    ("POST", "/catalogs", Some(r#"{"name": "a.b"}"#), "name"),
    ("POST", "/catalogs", Some(r#"{"name": "a/b"}"#), "name"),
    ("POST", "/catalogs", Some("{\"name\": \"tab\\there\"}"), "name"),
    ("POST", "/catalogs", Some(r#"{"name": "LONG256"}"#), "name"),
    ("POST", "/schemas", Some(r#"{"catalog_name": "main", "name": "LONG256"}"#), "name"),
    ("POST", "/schemas", Some(r#"{"name": "s", "catalog_name": "LONG256"}"#), "catalog_name"),
    (
        "POST",
        "/tables",
        Some(
            r#"{"catalog_name": "main", "schema_name": "s1", "table_type": "MANAGED", "data_source_format": "DELTA", "columns": [], "name": "LONG256"}"#,
        ),
        "name",
    ),
    (
        "POST",
        "/tables",
        Some(
            r#"{"catalog_name": "main", "schema_name": "LONG256", "table_type": "MANAGED", "data_source_format": "DELTA", "columns": [], "name": "t"}"#,
        ),
        "schema_name",
    ),
    ("GET", "/catalogs/LONG256", None, "name"),
    ("GET", "/tables/main.s1.LONG256", None, "full_name"),
    ("PATCH", "/catalogs/main", Some(r#"{"new_name": "LONG256"}"#), "new_name"),
    ("PATCH", "/catalogs/main", Some(r#"{"new_name": "x.y"}"#), "new_name"),
    // Bad full names in paths.
    ("GET", "/tables/a..b", None, "a..b"),
    ("GET", "/tables/main..t1", None, "main..t1"),
    ("GET", "/tables/only_one_part", None, "only_one_part"),
    ("GET", "/tables/a.b.c.d", None, "a.b.c.d"),
    ("GET", "/tables/main.s1.", None, "main.s1."),
    ("DELETE", "/tables/main..t1", None, "main..t1"),
    ("PATCH", "/tables/.s1.t1", Some(r#"{"comment": "x"}"#), ".s1.t1"),
    ("GET", "/schemas/a.b.c", None, "a.b.c"),
    ("GET", "/schemas/main", None, "main"),
    ("DELETE", "/schemas/main.", None, "main."),
    ("PATCH", "/schemas/.s1", Some(r#"{"comment": "x"}"#), ".s1"),
    ("GET", "/tables/a.b/exists", None, "a.b"),
    // Bad query values.
    ("GET", "/catalogs?max_results=abc", None, "max_results"),
    ("GET", "/catalogs?max_results=1.5", None, "max_results"),
    ("GET", "/catalogs?max_results=", None, "max_results"),
    ("GET", "/schemas?catalog_name=main&max_results=ten", None, "max_results"),
    ("GET", "/tables?catalog_name=main&schema_name=s1&max_results=-1", None, "max_results"),
    ("GET", "/tables?catalog_name=main&schema_name=s1&max_results=x", None, "max_results"),
    ("GET", "/tables?catalog_name=main&schema_name=s1&include_browse=2", None, "include_browse"),
    ("GET", "/metastores?max_results=many", None, "max_results"),
    ("GET", "/catalogs?include_browse=maybe", None, "include_browse"),
    ("GET", "/tables?catalog_name=main&schema_name=s1&omit_columns=yes", None, "omit_columns"),
    ("DELETE", "/catalogs/main?force=yes", None, "force"),
    ("DELETE", "/catalogs/main?force=1", None, "force"),
    ("DELETE", "/schemas/main.s1?force=on", None, "force"),
    // Bad delete options in a DELETE body.
    ("DELETE", "/catalogs/main", Some(r#"{"force": "yes"}"#), "force"),
    ("DELETE", "/catalogs/main", Some(r#"{"force": "#), "body"),
    // A path segment that is not an integer.
    (
        "PUT",
        "/workspaces/abc/metastore",
        Some(r#"{"metastore_id": "x", "default_catalog_name": "main"}"#),
        "workspace_id",
    ),
];

#[actix_web::test]
async fn bad_input_is_400_naming_the_field_and_changes_nothing() {
    let app = spawn().await;
    app.admin().create_schema("main", "s1").await;
    app.admin().create_table("main", "s1", "t1").await;
    let mut failures = Vec::new();
    let long = "x".repeat(256);
    for &(method, path, body, field) in REJECTED {
        let path = path.replace("LONG256", &long);
        let body = body.map(|b| b.replace("LONG256", &long));
        let before = app.dump_state().await;
        let res = app.admin().send(method, &format!("{UC}{path}"), body.as_deref()).await;
        let what = format!("{method} {} {}", short(&path), body.as_deref().map(short).unwrap_or_default());
        if let Some(problem) = not_invalid_naming(&res, field) {
            failures.push(format!("{what}: {problem}"));
        }
        let after = app.dump_state().await;
        if after != before {
            failures.push(format!("{what}: state changed"));
        }
    }
    assert!(failures.is_empty(), "{} of {} rows failed:\n{}", failures.len(), REJECTED.len(), failures.join("\n"));
}

fn short(s: &str) -> String {
    let mut out: String = s.chars().take(100).collect();
    if s.chars().count() > 100 {
        out.push('…');
    }
    out
}

/// Why `res` is not a JSON 400 `INVALID_PARAMETER_VALUE` naming `field`, if it is not.
fn not_invalid_naming(res: &Resp, field: &str) -> Option<String> {
    let got = format!("got {} {:?} {}", res.status, res.content_type(), short(&res.text));
    if res.status != 400 || !res.content_type().starts_with("application/json") {
        return Some(got);
    }
    let Ok(body) = serde_json::from_str::<serde_json::Value>(&res.text) else { return Some(got) };
    if body["error_code"] != "INVALID_PARAMETER_VALUE" {
        return Some(got);
    }
    match body["message"].as_str() {
        Some(m) if m.contains(field) => None,
        _ => Some(format!("message does not name {field:?}: {got}")),
    }
}

#[actix_web::test]
async fn names_of_exactly_255_characters_are_accepted() {
    let app = spawn().await;
    let name = "k".repeat(255);
    let created = app.admin().create_catalog(&name).await;
    assert_eq!(created["name"], name.as_str());
    app.admin().get(&format!("{CATALOGS}/{name}")).await.ok("get a 255-character catalog");
    // Characters, not bytes: 255 two-byte characters are fine too.
    let wide = "é".repeat(255);
    let created = app.admin().create_catalog(&wide).await;
    assert_eq!(created["name"], wide.as_str());
}

#[actix_web::test]
async fn empty_body_counts_as_an_empty_object() {
    let app = spawn().await;
    let before = app.admin().get(&format!("{CATALOGS}/main")).await.ok("get main");
    for (what, body) in [("no body", None), ("empty body", Some("")), ("whitespace body", Some("  \n"))] {
        let res = app.admin().send("PATCH", &format!("{CATALOGS}/main"), body).await;
        let after = res.ok(what);
        assert_eq!(after["name"], "main", "{what}");
        assert_eq!(after["comment"], before["comment"], "{what}: an empty update changed the comment");
        assert_eq!(after["owner"], before["owner"], "{what}");
    }
    // A create with an empty body is refused for its missing name, not as malformed JSON.
    let msg = app.admin().send("POST", CATALOGS, Some("")).await.invalid("name", "POST empty body");
    assert!(!msg.to_lowercase().contains("malformed"), "{msg}");
}

#[actix_web::test]
async fn any_content_type_or_none_is_read_as_json() {
    let app = spawn().await;
    for (name, content_type) in [
        ("ct_app_json", Some("application/json")),
        ("ct_app_json_charset", Some("application/json; charset=utf-8")),
        ("ct_text_json", Some("text/json")),
        ("ct_text_plain", Some("text/plain")),
        ("ct_form", Some("application/x-www-form-urlencoded")),
        ("ct_none", None),
    ] {
        let mut rb = app.admin().request("POST", CATALOGS).body(json!({"name": name, "comment": "c"}).to_string());
        if let Some(ct) = content_type {
            rb = rb.header("Content-Type", ct);
        }
        let res = app.admin().execute(rb).await;
        let created = res.ok(&format!("create with Content-Type {content_type:?}"));
        assert_eq!(created["name"], name);
        assert_eq!(created["comment"], "c");
        app.admin().get(&format!("{CATALOGS}/{name}")).await.ok(name);
    }
}

#[actix_web::test]
async fn json_null_means_absent() {
    let app = spawn().await;
    let created = app
        .admin()
        .post(
            CATALOGS,
            json!({"name": "nulls", "comment": null, "properties": null, "storage_root": null, "provider_name": null, "share_name": null}),
        )
        .await
        .ok("create with nulls");
    assert_eq!(created["name"], "nulls");
    assert!(created.get("comment").is_none_or(|c| c.is_null()), "{created}");

    app.admin().patch(&format!("{CATALOGS}/nulls"), json!({"comment": "kept"})).await.ok("set comment");
    let updated = app
        .admin()
        .patch(
            &format!("{CATALOGS}/nulls"),
            json!({"comment": null, "owner": null, "new_name": null, "properties": null}),
        )
        .await
        .ok("update with nulls");
    assert_eq!(updated["name"], "nulls");
    assert_eq!(updated["comment"], "kept", "null must not clear the comment");
    assert_eq!(updated["owner"], "admin@example.com", "null must not change the owner");

    // Schemas and tables too.
    app.admin()
        .post(
            &format!("{UC}/schemas"),
            json!({"name": "s", "catalog_name": "nulls", "comment": null, "storage_root": null}),
        )
        .await
        .ok("create schema with nulls");
    let mut body = table_body("nulls", "s", "t");
    body["comment"] = serde_json::Value::Null;
    body["storage_location"] = serde_json::Value::Null;
    body["properties"] = serde_json::Value::Null;
    app.admin().post(&format!("{UC}/tables"), body).await.ok("create table with nulls");
}

#[actix_web::test]
async fn trailing_slash_is_ignored() {
    let app = spawn().await;
    let list = app.admin().get(&format!("{CATALOGS}/")).await.ok("list with /");
    assert!(list["catalogs"].as_array().unwrap().iter().any(|c| c["name"] == "main"), "{list}");
    app.admin().post(&format!("{CATALOGS}/"), json!({"name": "slashed"})).await.ok("create with /");
    let got = app.admin().get(&format!("{CATALOGS}/slashed/")).await.ok("get with /");
    assert_eq!(got["name"], "slashed");
    app.admin().patch(&format!("{CATALOGS}/slashed/"), json!({"comment": "c"})).await.ok("patch with /");
    app.admin().get(&format!("{UC}/metastore_summary/")).await.ok("summary with /");
    app.admin().delete(&format!("{CATALOGS}/slashed/?force=true")).await.ok("delete with /");
    app.admin().get(&format!("{CATALOGS}/slashed")).await.error(404, "CATALOG_DOES_NOT_EXIST", "deleted catalog");
}

#[actix_web::test]
async fn unknown_fields_and_parameters_are_ignored() {
    let app = spawn().await;
    let created = app
        .admin()
        .post(
            &format!("{CATALOGS}?bogus=1&also=yes"),
            json!({"name": "extra", "bogus_field": {"nested": [1, 2]}, "x": 1}),
        )
        .await
        .ok("create with unknown fields");
    assert!(created.get("bogus_field").is_none(), "{created}");
    app.admin().get(&format!("{CATALOGS}?whatever=abc")).await.ok("list with unknown param");
}

#[actix_web::test]
async fn get_body_is_ignored_and_delete_body_carries_options() {
    let app = spawn().await;
    let res = app.admin().send("GET", &format!("{CATALOGS}/main"), Some("this is not json")).await;
    assert_eq!(res.ok("GET with a junk body")["name"], "main");

    app.admin().create_catalog("full").await;
    app.admin().create_schema("full", "s").await;
    let before = app.dump_state().await;
    // Without force a non-empty catalog stays.
    app.admin().delete(&format!("{CATALOGS}/full")).await.error(400, "CATALOG_NOT_EMPTY", "delete non-empty catalog");
    // A query parameter wins over the body.
    app.admin().send("DELETE", &format!("{CATALOGS}/full?force=false"), Some(r#"{"force": true}"#)).await.error(
        400,
        "CATALOG_NOT_EMPTY",
        "query force=false wins over body force=true",
    );
    assert_eq!(app.dump_state().await, before, "a refused delete changed state");
    // The legacy CLI's body.
    app.admin()
        .send("DELETE", &format!("{CATALOGS}/full"), Some(r#"{"force": true}"#))
        .await
        .ok("delete with body force");
    app.admin().get(&format!("{CATALOGS}/full")).await.error(404, "CATALOG_DOES_NOT_EXIST", "after forced delete");
    let res = app.admin().delete(&format!("{CATALOGS}/full")).await;
    res.error(404, "CATALOG_DOES_NOT_EXIST", "delete again");
}

#[actix_web::test]
async fn success_and_error_bodies_are_application_json() {
    let app = spawn().await;
    let checks = [
        app.admin().get(CATALOGS).await,
        app.admin().get(&format!("{CATALOGS}/main")).await,
        app.admin().get(&format!("{CATALOGS}/nope")).await,
        app.alice().post(CATALOGS, json!({"name": "x"})).await,
        app.anonymous().get(CATALOGS).await,
        app.anonymous().get("/nowhere").await,
        app.admin().send("DELETE", CATALOGS, None).await,
        app.admin().send("POST", CATALOGS, Some("{")).await,
    ];
    for res in checks {
        assert!(
            res.content_type().starts_with("application/json"),
            "Content-Type {:?} for {} {}",
            res.content_type(),
            res.status,
            res.text
        );
        let body = res.json();
        if res.status >= 400 {
            assert!(body["error_code"].is_string() && body["message"].is_string(), "{body}");
        }
    }
}

/// The `/api` scope is tried before the routes beside it (Delta Sharing, public activation) for
/// speed; what those routes serve, and what they leave, answers as it did.
#[actix_web::test]
async fn paths_beside_the_api_scope_keep_their_routes() {
    let app = spawn().await;
    // Public activation paths need no token: a bogus activation is no 401.
    for v in ["2.0", "2.1"] {
        let path = format!("/api/{v}/unity-catalog/public/data_sharing_activation_info/bogus");
        let res = app.anonymous().get(&path).await;
        assert!(res.status != 401 && res.status < 500, "GET {path}: {}", res.status);
        // A public path no route serves reaches the workspace API's authentication, then its 404.
        let other = format!("/api/{v}/unity-catalog/public/no-such-endpoint");
        app.anonymous().get(&other).await.error(401, "UNAUTHENTICATED", &format!("GET {other} without token"));
        app.admin().get(&other).await.error(404, "ENDPOINT_NOT_FOUND", &format!("GET {other}"));
    }
    // The sharing server takes recipient tokens, not workspace tokens.
    let sharing = "/api/2.0/delta-sharing/metastores/any/shares";
    let res = app.admin().get(sharing).await;
    assert!(res.status != 200 && res.status < 500, "GET {sharing} with a workspace token: {}", res.status);
    // A percent-encoded path is routed as decoded, by the same routes as before.
    app.anonymous().get("/api/2.1/unity-catalog/catalog%73").await.error(401, "UNAUTHENTICATED", "encoded, no token");
    let res = app.admin().get("/api/2.1/unity-catalog/catalog%73").await;
    assert_eq!(res.status, 200, "GET catalog%73 is listCatalogs");
    app.admin().get(&format!("{UC}/tables/main.no.such")).await.error(404, "SCHEMA_DOES_NOT_EXIST", "getTable");
}
