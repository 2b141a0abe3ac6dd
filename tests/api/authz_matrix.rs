//! The refusal matrix: every guarded route, called by a plain user without
//! grants (alice), answers 403 `PERMISSION_DENIED` and changes nothing. The same rows called by
//! the admin succeed, so the table cannot pass by accident.

use serde_json::Value;

use crate::helpers::{spawn, TestApp, UC};

/// method, path under the UC prefix (`{ms}` = the metastore id), body.
const REFUSED: &[(&str, &str, &str)] = &[
    // Metastores (metastore admins; creation: account admins).
    ("POST", "/metastores", r#"{"name": "m2", "storage_root": "s3://bucket/m2"}"#),
    ("GET", "/metastores/{ms}", ""),
    ("GET", "/metastores", ""),
    ("PATCH", "/metastores/{ms}", r#"{"new_name": "renamed"}"#),
    ("PATCH", "/metastores/{ms}", r#"{"owner": "alice@example.com"}"#),
    ("PATCH", "/metastores/{ms}", r#"{"delta_sharing_organization_name": "acme"}"#),
    ("DELETE", "/metastores/{ms}?force=true", ""),
    ("DELETE", "/metastores/{ms}", ""),
    // Metastore assignments (account admins; default catalog: workspace admins too).
    ("PUT", "/workspaces/1001/metastore", r#"{"metastore_id": "{ms}", "default_catalog_name": "owned"}"#),
    ("PATCH", "/workspaces/1001/metastore", r#"{"default_catalog_name": "owned"}"#),
    ("DELETE", "/workspaces/1001/metastore?metastore_id={ms}", ""),
    // Catalogs.
    ("POST", "/catalogs", r#"{"name": "alice_cat"}"#),
    ("GET", "/catalogs/owned", ""),
    ("PATCH", "/catalogs/owned", r#"{"comment": "mine now"}"#),
    ("PATCH", "/catalogs/owned", r#"{"new_name": "stolen"}"#),
    ("PATCH", "/catalogs/owned", r#"{"owner": "alice@example.com"}"#),
    ("PATCH", "/catalogs/owned", r#"{"properties": {"k": "v"}}"#),
    ("PATCH", "/catalogs/main", r#"{"comment": "mine now"}"#),
    ("DELETE", "/catalogs/owned", ""),
    ("DELETE", "/catalogs/owned?force=true", ""),
    ("DELETE", "/catalogs/empty", ""),
    // Schemas.
    ("POST", "/schemas", r#"{"name": "s2", "catalog_name": "main"}"#),
    ("POST", "/schemas", r#"{"name": "s2", "catalog_name": "owned"}"#),
    ("GET", "/schemas?catalog_name=owned", ""),
    ("GET", "/schemas/owned.s1", ""),
    ("PATCH", "/schemas/owned.s1", r#"{"comment": "mine now"}"#),
    ("PATCH", "/schemas/owned.s1", r#"{"new_name": "s9"}"#),
    ("PATCH", "/schemas/owned.s1", r#"{"owner": "alice@example.com"}"#),
    ("DELETE", "/schemas/owned.s1", ""),
    ("DELETE", "/schemas/owned.s1?force=true", ""),
    ("DELETE", "/schemas/owned.empty_schema", ""),
    // Tables.
    (
        "POST",
        "/tables",
        r#"{"name": "t2", "catalog_name": "owned", "schema_name": "s1", "table_type": "MANAGED", "data_source_format": "DELTA", "columns": []}"#,
    ),
    (
        "POST",
        "/tables",
        r#"{"name": "t3", "catalog_name": "owned", "schema_name": "s1", "table_type": "EXTERNAL", "data_source_format": "DELTA", "columns": [], "storage_location": "s3://bucket/t3"}"#,
    ),
    ("GET", "/tables?catalog_name=owned&schema_name=s1", ""),
    // Volumes and functions (SDK docstrings): creating needs CREATE_VOLUME / CREATE_FUNCTION and
    // use of the catalog and schema; listing needs use of both.
    ("POST", "/volumes", r#"{"name": "v1", "catalog_name": "owned", "schema_name": "s1", "volume_type": "MANAGED"}"#),
    ("GET", "/volumes?catalog_name=owned&schema_name=s1", ""),
    (
        "POST",
        "/functions",
        r#"{"function_info": {"name": "f1", "catalog_name": "owned", "schema_name": "s1", "input_params": {"parameters": []}, "data_type": "INT", "full_data_type": "int", "routine_body": "SQL", "routine_definition": "1", "parameter_style": "S", "is_deterministic": true, "is_null_call": false, "sql_data_access": "CONTAINS_SQL", "security_type": "DEFINER", "specific_name": "f1"}}"#,
    ),
    ("GET", "/functions?catalog_name=owned&schema_name=s1", ""),
    // An existing volume and function: reading needs READ_VOLUME / EXECUTE (or ownership) and use
    // of the parents; changing and deleting need ownership.
    ("GET", "/volumes/owned.s1.v0", ""),
    ("PATCH", "/volumes/owned.s1.v0", r#"{"comment": "mine now"}"#),
    ("PATCH", "/volumes/owned.s1.v0", r#"{"owner": "alice@example.com"}"#),
    ("PATCH", "/volumes/owned.s1.v0", r#"{"new_name": "v9"}"#),
    ("DELETE", "/volumes/owned.s1.v0", ""),
    ("GET", "/functions/owned.s1.f0", ""),
    ("PATCH", "/functions/owned.s1.f0", r#"{"owner": "alice@example.com"}"#),
    ("DELETE", "/functions/owned.s1.f0", ""),
    ("GET", "/tables/owned.s1.t1", ""),
    ("PATCH", "/tables/owned.s1.t1", r#"{"comment": "mine now"}"#),
    ("PATCH", "/tables/owned.s1.t1", r#"{"owner": "alice@example.com"}"#),
    ("PATCH", "/tables/owned.s1.t1", r#"{"new_name": "t9"}"#),
    ("DELETE", "/tables/owned.s1.t1", ""),
];

/// A SQL function `owned.s1.<name>` returning 1, as the SDK's `functions.create` sends it.
fn function_body(name: &str) -> Value {
    serde_json::json!({"function_info": {"name": name, "catalog_name": "owned", "schema_name": "s1",
        "input_params": {"parameters": []}, "data_type": "INT", "full_data_type": "int", "routine_body": "SQL",
        "routine_definition": "1", "parameter_style": "S", "is_deterministic": true, "is_null_call": false,
        "sql_data_access": "CONTAINS_SQL", "security_type": "DEFINER", "specific_name": name}})
}

/// The admin owns catalog `owned` (schemas `s1` with table `t1`, volume `v0` and function `f0`,
/// and `empty_schema`) and an empty catalog `empty`; alice has no grant at all.
async fn setup() -> (TestApp, String) {
    let app = spawn().await;
    let admin = app.admin();
    admin.create_catalog("owned").await;
    admin.create_catalog("empty").await;
    admin.create_schema("owned", "s1").await;
    admin.create_schema("owned", "empty_schema").await;
    admin.create_table("owned", "s1", "t1").await;
    let volume =
        serde_json::json!({"name": "v0", "catalog_name": "owned", "schema_name": "s1", "volume_type": "MANAGED"});
    admin.post(&format!("{UC}/volumes"), volume).await.ok("volume v0");
    admin.post(&format!("{UC}/functions"), function_body("f0")).await.ok("function f0");
    let ms = admin.get(&format!("{UC}/current-metastore-assignment")).await.ok("assignment");
    let ms = ms["metastore_id"].as_str().expect("metastore_id").to_string();
    (app, ms)
}

/// The core dump and what `owned.s1` holds besides tables, read by the admin.
async fn core_state(app: &TestApp) -> Value {
    let admin = app.admin();
    let mut out = vec![app.dump_state().await];
    for path in ["/volumes?catalog_name=owned&schema_name=s1", "/functions?catalog_name=owned&schema_name=s1"] {
        out.push(admin.get(&format!("{UC}{path}")).await.ok(path));
    }
    Value::Array(out)
}

#[actix_web::test]
async fn every_guarded_route_refuses_a_caller_without_privileges() {
    let (app, ms) = setup().await;
    let before = core_state(&app).await;
    let mut failures = Vec::new();
    for &(method, path, body) in REFUSED {
        let path = format!("{UC}{}", path.replace("{ms}", &ms));
        let body = body.replace("{ms}", &ms);
        let res = app.alice().send(method, &path, (!body.is_empty()).then_some(body.as_str())).await;
        let code =
            serde_json::from_str::<Value>(&res.text).ok().and_then(|b| b["error_code"].as_str().map(str::to_string));
        if res.status != 403
            || code.as_deref() != Some("PERMISSION_DENIED")
            || !res.content_type().starts_with("application/json")
        {
            failures.push(format!("{method} {path} {body}: got {} {}", res.status, res.text));
        }
        let after = core_state(&app).await;
        if after != before {
            failures.push(format!("{method} {path} {body}: a refusal changed state"));
            break;
        }
    }
    assert!(failures.is_empty(), "{} of {} rows:\n{}", failures.len(), REFUSED.len(), failures.join("\n"));
}

#[actix_web::test]
async fn refusals_name_the_caller_or_the_missing_privilege() {
    let (app, _) = setup().await;
    let msg = app.alice().send("POST", &format!("{UC}/catalogs"), Some(r#"{"name": "x"}"#)).await.error(
        403,
        "PERMISSION_DENIED",
        "create catalog",
    );
    assert!(msg.contains("alice@example.com") || msg.contains("CREATE_CATALOG"), "{msg}");
}

#[actix_web::test]
async fn the_admin_passes_the_same_rows() {
    // Control: the metastore owner (account admin, workspace admin) may do every row. Rows run
    // in an order where each leaves the objects the next needs.
    let (app, ms) = setup().await;
    let mut failures = Vec::new();
    let order: Vec<&(&str, &str, &str)> = REFUSED
        .iter()
        .filter(|(m, p, _)| {
            // Destructive rows on the metastore and its assignment would end the test early;
            // they get their own check below.
            *m != "DELETE" || !(p.starts_with("/metastores/{ms}") || p.starts_with("/workspaces"))
        })
        .collect();
    for &&(method, path, body) in &order {
        // Renames and owner changes would break later rows: run them on fresh objects below.
        // EXTERNAL tables also need an external location covering them, which this
        // fixture does not declare.
        if body.contains("new_name") || body.contains("\"owner\"") || body.contains("EXTERNAL") || method == "DELETE" {
            continue;
        }
        let path = format!("{UC}{}", path.replace("{ms}", &ms));
        let body = body.replace("{ms}", &ms);
        let res = app.admin().send(method, &path, (!body.is_empty()).then_some(body.as_str())).await;
        if res.status != 200 {
            failures.push(format!("{method} {path} {body}: got {} {}", res.status, res.text));
        }
    }
    assert!(failures.is_empty(), "admin was refused:\n{}", failures.join("\n"));

    // The destructive rows, as the admin, on the objects the setup made.
    let admin = app.admin();
    admin.patch(&format!("{UC}/tables/owned.s1.t1"), serde_json::json!({"new_name": "t9"})).await.ok("rename table");
    admin.patch(&format!("{UC}/volumes/owned.s1.v0"), serde_json::json!({"new_name": "v9"})).await.ok("rename volume");
    admin.delete(&format!("{UC}/volumes/owned.s1.v9")).await.ok("delete volume");
    admin.delete(&format!("{UC}/functions/owned.s1.f0")).await.ok("delete function");
    admin.delete(&format!("{UC}/tables/owned.s1.t9")).await.ok("delete table");
    admin.delete(&format!("{UC}/schemas/owned.empty_schema")).await.ok("delete schema");
    admin.delete(&format!("{UC}/catalogs/empty?force=true")).await.ok("delete catalog");
    admin.delete(&format!("{UC}/catalogs/owned?force=true")).await.ok("force-delete catalog");
    admin.delete(&format!("{UC}/workspaces/1001/metastore?metastore_id={ms}")).await.ok("unassign");
}

#[actix_web::test]
async fn alice_may_read_what_any_caller_may() {
    let (app, _) = setup().await;
    let alice = app.alice();
    alice.get(&format!("{UC}/metastore_summary")).await.ok("summary");
    alice.get(&format!("{UC}/current-metastore-assignment")).await.ok("current assignment");
    let list = alice.get(&format!("{UC}/catalogs")).await.ok("list catalogs");
    assert_eq!(list["catalogs"].as_array().map(Vec::len), Some(0), "alice sees no catalog without grants: {list}");
    app.alice().get("/api/2.0/preview/scim/v2/Me").await.ok("Me");
}

/// Every other guarded route, with full paths: (method, path, body, status, error_code) as
/// documented for a caller who may not: 403 `PERMISSION_DENIED`, `UNAUTHORIZED` on the
/// permissions endpoints. `{ms}` is the metastore id, `{pid}` a partner id, `{tid}` the admin's token id.
const REFUSED_ELSEWHERE: &[(&str, &str, &str, u16, &str)] = &[
    // Table summaries and listFiles.
    ("GET", "/api/2.1/unity-catalog/table-summaries?catalog_name=owned", "", 200, ""),
    ("GET", "/api/2.1/unity-catalog/files?url=s3://bucket/loc/x", "", 403, "PERMISSION_DENIED"),
    // Storage credentials and external locations.
    ("POST", "/api/2.1/unity-catalog/storage-credentials", r#"{"name": "c2", "aws_iam_role": {"role_arn": "arn:aws:iam::1:role/r"}}"#, 403, "PERMISSION_DENIED"),
    ("GET", "/api/2.1/unity-catalog/storage-credentials/cred", "", 403, "PERMISSION_DENIED"),
    ("PATCH", "/api/2.1/unity-catalog/storage-credentials/cred", r#"{"comment": "mine"}"#, 403, "PERMISSION_DENIED"),
    ("PATCH", "/api/2.1/unity-catalog/storage-credentials/cred", r#"{"owner": "alice@example.com"}"#, 403, "PERMISSION_DENIED"),
    ("DELETE", "/api/2.1/unity-catalog/storage-credentials/cred?force=true", "", 403, "PERMISSION_DENIED"),
    ("POST", "/api/2.1/unity-catalog/validate-storage-credentials", r#"{"storage_credential_name": "cred", "url": "s3://bucket/loc"}"#, 403, "PERMISSION_DENIED"),
    ("POST", "/api/2.1/unity-catalog/external-locations", r#"{"name": "l2", "url": "s3://bucket/l2", "credential_name": "cred"}"#, 403, "PERMISSION_DENIED"),
    ("GET", "/api/2.1/unity-catalog/external-locations/loc", "", 403, "PERMISSION_DENIED"),
    ("PATCH", "/api/2.1/unity-catalog/external-locations/loc", r#"{"comment": "mine"}"#, 403, "PERMISSION_DENIED"),
    ("PATCH", "/api/2.1/unity-catalog/external-locations/loc", r#"{"owner": "alice@example.com"}"#, 403, "PERMISSION_DENIED"),
    ("DELETE", "/api/2.1/unity-catalog/external-locations/loc", "", 403, "PERMISSION_DENIED"),
    // Permissions of UC securables.
    ("GET", "/api/2.1/unity-catalog/permissions/catalog/owned", "", 403, "UNAUTHORIZED"),
    ("PATCH", "/api/2.1/unity-catalog/permissions/catalog/owned", r#"{"changes": [{"principal": "alice@example.com", "add": ["USE_CATALOG"]}]}"#, 403, "UNAUTHORIZED"),
    ("PUT", "/api/2.1/unity-catalog/permissions/catalog/owned", r#"{"changes": [{"principal": "alice@example.com", "add": ["USE_CATALOG"]}]}"#, 403, "UNAUTHORIZED"),
    ("GET", "/api/2.1/unity-catalog/effective-permissions/catalog/owned", "", 403, "UNAUTHORIZED"),
    ("PATCH", "/api/2.1/unity-catalog/permissions/storage_credential/cred", r#"{"changes": [{"principal": "alice@example.com", "add": ["READ_FILES"]}]}"#, 403, "UNAUTHORIZED"),
    ("GET", "/api/2.1/unity-catalog/permissions/volume/owned.s1.v0", "", 403, "UNAUTHORIZED"),
    ("PATCH", "/api/2.1/unity-catalog/permissions/volume/owned.s1.v0", r#"{"changes": [{"principal": "alice@example.com", "add": ["READ_VOLUME"]}]}"#, 403, "UNAUTHORIZED"),
    ("GET", "/api/2.1/unity-catalog/permissions/function/owned.s1.f0", "", 403, "UNAUTHORIZED"),
    ("PATCH", "/api/2.1/unity-catalog/permissions/function/owned.s1.f0", r#"{"changes": [{"principal": "alice@example.com", "add": ["EXECUTE"]}]}"#, 403, "UNAUTHORIZED"),
    // Explaining another principal's decisions.
    ("GET", "/api/2.1/unity-catalog/explain?principal=admin@example.com&action=getCatalog&securable_type=catalog&full_name=owned", "", 403, "PERMISSION_DENIED"),
    // Delta Sharing.
    ("POST", "/api/2.1/unity-catalog/shares", r#"{"name": "sh2"}"#, 403, "PERMISSION_DENIED"),
    ("GET", "/api/2.1/unity-catalog/shares/sh", "", 403, "PERMISSION_DENIED"),
    ("PATCH", "/api/2.1/unity-catalog/shares/sh", r#"{"comment": "mine"}"#, 403, "PERMISSION_DENIED"),
    ("PATCH", "/api/2.1/unity-catalog/shares/sh", r#"{"owner": "alice@example.com"}"#, 403, "PERMISSION_DENIED"),
    ("DELETE", "/api/2.1/unity-catalog/shares/sh", "", 403, "PERMISSION_DENIED"),
    ("GET", "/api/2.1/unity-catalog/shares/sh/permissions", "", 403, "UNAUTHORIZED"),
    ("PATCH", "/api/2.1/unity-catalog/shares/sh/permissions", r#"{"changes": [{"principal": "rc", "add": ["SELECT"]}]}"#, 403, "UNAUTHORIZED"),
    ("POST", "/api/2.1/unity-catalog/recipients", r#"{"name": "rc2", "authentication_type": "DATABRICKS", "data_recipient_global_metastore_id": "aws:us-west-2:11111111-2222-3333-4444-555555555556"}"#, 403, "PERMISSION_DENIED"),
    ("GET", "/api/2.1/unity-catalog/recipients/rc", "", 403, "PERMISSION_DENIED"),
    ("PATCH", "/api/2.1/unity-catalog/recipients/rc", r#"{"comment": "mine"}"#, 403, "PERMISSION_DENIED"),
    ("DELETE", "/api/2.1/unity-catalog/recipients/rc", "", 403, "PERMISSION_DENIED"),
    ("POST", "/api/2.1/unity-catalog/recipients/rt/rotate-token", r#"{"existing_token_expire_in_seconds": 0}"#, 403, "PERMISSION_DENIED"),
    ("GET", "/api/2.1/unity-catalog/recipients/rc/share-permissions", "", 403, "PERMISSION_DENIED"),
    ("POST", "/api/2.1/unity-catalog/providers", r#"{"name": "pv2", "authentication_type": "DATABRICKS"}"#, 403, "PERMISSION_DENIED"),
    ("GET", "/api/2.1/unity-catalog/providers/pv", "", 403, "PERMISSION_DENIED"),
    ("PATCH", "/api/2.1/unity-catalog/providers/pv", r#"{"comment": "mine"}"#, 403, "PERMISSION_DENIED"),
    ("DELETE", "/api/2.1/unity-catalog/providers/pv", "", 403, "PERMISSION_DENIED"),
    ("GET", "/api/2.1/unity-catalog/providers/pv/shares", "", 403, "PERMISSION_DENIED"),
    // Identities (SCIM writes: workspace or account admins).
    ("POST", "/api/2.0/preview/scim/v2/Users", r#"{"userName": "eve@example.com"}"#, 403, "PERMISSION_DENIED"),
    ("POST", "/api/2.0/preview/scim/v2/Groups", r#"{"displayName": "eves"}"#, 403, "PERMISSION_DENIED"),
    ("POST", "/api/2.0/preview/scim/v2/ServicePrincipals", r#"{"displayName": "eve-bot"}"#, 403, "PERMISSION_DENIED"),
    ("PATCH", "/api/2.0/preview/scim/v2/Groups/{analysts}", r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"displayName": "mine"}}]}"#, 403, "PERMISSION_DENIED"),
    ("PUT", "/api/2.0/preview/scim/v2/Groups/{analysts}", r#"{"displayName": "mine"}"#, 403, "PERMISSION_DENIED"),
    ("DELETE", "/api/2.0/preview/scim/v2/Users/{admin}", "", 403, "PERMISSION_DENIED"),
    // Token management (workspace or account admins).
    ("GET", "/api/2.0/token-management/tokens", "", 403, "PERMISSION_DENIED"),
    ("GET", "/api/2.0/token-management/tokens/{tid}", "", 403, "PERMISSION_DENIED"),
    ("DELETE", "/api/2.0/token-management/tokens/{tid}", "", 403, "PERMISSION_DENIED"),
    ("POST", "/api/2.0/token-management/on-behalf-of/tokens", r#"{"application_id": "6f1d1c2e-0000-4000-8000-000000000001"}"#, 403, "PERMISSION_DENIED"),
    // Workspace object permissions (workspace admins or CAN_MANAGE).
    ("PUT", "/api/2.0/permissions/authorization/tokens", r#"{"access_control_list": [{"user_name": "alice@example.com", "permission_level": "CAN_USE"}]}"#, 403, "PERMISSION_DENIED"),
    ("PATCH", "/api/2.0/permissions/authorization/tokens", r#"{"access_control_list": [{"user_name": "alice@example.com", "permission_level": "CAN_USE"}]}"#, 403, "PERMISSION_DENIED"),
    // Partner Connect hooks and connectors: workspace admins. (The registry, connect, test and
    // delete answer 404 for an unknown partner or connection first; their refusals are driven
    // with a registered fake partner in tests/sdk/test_partner_connect.py.)
    ("POST", "/api/2.0/partner-connect/partners/{pid}/expire-account", r#"{"email": "a@databricks.test"}"#, 403, "PERMISSION_DENIED"),
    ("GET", "/api/2.0/partner-connect/partners/{pid}/connectors", "", 403, "PERMISSION_DENIED"),
];

/// The wider setup: a storage credential `cred`, an external location `loc`, a share `sh`, a
/// recipient `rc`, a provider `pv`, all the admin's.
async fn setup_everything() -> (TestApp, String) {
    let (app, ms) = setup().await;
    let admin = app.admin();
    for (path, body) in [
        (
            "storage-credentials",
            serde_json::json!({"name": "cred", "aws_iam_role": {"role_arn": "arn:aws:iam::1:role/r"}}),
        ),
        ("external-locations", serde_json::json!({"name": "loc", "url": "s3://bucket/loc", "credential_name": "cred"})),
        ("shares", serde_json::json!({"name": "sh"})),
        (
            "recipients",
            serde_json::json!({"name": "rc", "authentication_type": "DATABRICKS",
            "data_recipient_global_metastore_id": "aws:us-west-2:11111111-2222-3333-4444-555555555555"}),
        ),
        ("providers", serde_json::json!({"name": "pv", "authentication_type": "DATABRICKS"})),
    ] {
        admin.post(&format!("{UC}/{path}"), body).await.ok(path);
    }
    admin.post("/api/2.0/token/create", serde_json::json!({"comment": "admin's"})).await.ok("token");
    admin
        .patch(&format!("{UC}/metastores/{ms}"), serde_json::json!({"delta_sharing_scope": "INTERNAL_AND_EXTERNAL", "delta_sharing_recipient_token_lifetime_in_seconds": 3600}))
        .await
        .ok("open sharing");
    admin
        .post(&format!("{UC}/recipients"), serde_json::json!({"name": "rt", "authentication_type": "TOKEN"}))
        .await
        .ok("token recipient");
    (app, ms)
}

/// What the wider matrix can change, read by the admin.
async fn wider_state(app: &TestApp, ms: &str) -> Value {
    let admin = app.admin();
    let mut out = serde_json::Map::new();
    out.insert("core".into(), app.dump_state().await);
    for path in [
        format!("{UC}/storage-credentials"),
        format!("{UC}/external-locations"),
        format!("{UC}/shares"),
        format!("{UC}/shares/sh?include_shared_data=true"),
        format!("{UC}/shares/sh/permissions"),
        format!("{UC}/recipients"),
        format!("{UC}/providers"),
        format!("{UC}/permissions/catalog/owned"),
        format!("{UC}/permissions/storage_credential/cred"),
        format!("{UC}/permissions/volume/owned.s1.v0"),
        format!("{UC}/permissions/function/owned.s1.f0"),
        format!("{UC}/permissions/metastore/{ms}"),
        "/api/2.0/preview/scim/v2/Users".to_string(),
        "/api/2.0/preview/scim/v2/Groups".to_string(),
        "/api/2.0/preview/scim/v2/ServicePrincipals".to_string(),
        "/api/2.0/token-management/tokens".to_string(),
        "/api/2.0/permissions/authorization/tokens".to_string(),
        "/api/2.0/partner-connect/partners".to_string(),
    ] {
        let res = admin.get(&path).await;
        assert_eq!(res.status, 200, "state: {path}: {}", res.text);
        out.insert(path, res.json());
    }
    Value::Object(out)
}

/// Ids the rows need: `{analysts}`, `{admin}` (SCIM ids), `{tid}` (the admin's token), `{pid}`.
async fn ids(app: &TestApp) -> Vec<(&'static str, String)> {
    let admin = app.admin();
    let scim =
        |kind: &str, filter: &str| format!("/api/2.0/preview/scim/v2/{kind}?filter={}", crate::helpers::enc(filter));
    let analysts = admin.get(&scim("Groups", "displayName eq \"analysts\"")).await.ok("analysts");
    let me = admin.get(&scim("Users", "userName eq \"admin@example.com\"")).await.ok("admin");
    let tokens = admin.get("/api/2.0/token-management/tokens").await.ok("tokens");
    vec![
        ("{analysts}", analysts["Resources"][0]["id"].as_str().expect("group id").to_string()),
        ("{admin}", me["Resources"][0]["id"].as_str().expect("user id").to_string()),
        ("{tid}", {
            let infos = tokens["token_infos"].as_array().expect("token_infos");
            let made = infos.iter().find(|t| t["comment"] == "admin's").expect("the setup's token");
            made["token_id"].as_str().expect("token id").to_string()
        }),
        ("{pid}", "00000000-0000-4000-8000-000000000000".to_string()),
    ]
}

#[actix_web::test]
async fn every_other_guarded_route_refuses_and_changes_nothing() {
    let (app, ms) = setup_everything().await;
    let ids = ids(&app).await;
    let fill = |s: &str| ids.iter().fold(s.replace("{ms}", &ms), |s, (k, v)| s.replace(k, v));
    let before = wider_state(&app, &ms).await;
    let mut failures = Vec::new();
    for &(method, path, body, status, code) in REFUSED_ELSEWHERE {
        let (path, body) = (fill(path), fill(body));
        let res = app.alice().send(method, &path, (!body.is_empty()).then_some(body.as_str())).await;
        let got =
            serde_json::from_str::<Value>(&res.text).ok().and_then(|b| b["error_code"].as_str().map(str::to_string));
        if res.status != status || (!code.is_empty() && got.as_deref() != Some(code)) {
            failures.push(format!("{method} {path} {body}: expected {status} {code}, got {} {}", res.status, res.text));
        }
    }
    assert_eq!(wider_state(&app, &ms).await, before, "a refusal changed state");
    assert!(failures.is_empty(), "{} of {} rows:\n{}", failures.len(), REFUSED_ELSEWHERE.len(), failures.join("\n"));
}

#[actix_web::test]
async fn a_caller_who_may_passes_the_other_rows() {
    // Control: the admin (metastore owner, account and workspace admin) is allowed every row;
    // destructive rows run last, in an order that leaves what the next needs.
    let (app, ms) = setup_everything().await;
    let ids = ids(&app).await;
    let fill = |s: &str| ids.iter().fold(s.replace("{ms}", &ms), |s, (k, v)| s.replace(k, v));
    // Owner changes and renames are allowed to the admin too (the resource suites show it) but
    // would hand the objects away before the deletes; rows on an unknown partner only refuse.
    let skipped = |m: &str, p: &str, b: &str| {
        p.contains("{pid}")
            || b.contains("\"owner\"")
            || b.contains("displayName")
            || (m == "DELETE" && p.contains("/Users/"))
    };
    let mut rows: Vec<_> =
        REFUSED_ELSEWHERE.iter().filter(|(m, p, b, _, _)| !skipped(m, p, b) && *m != "DELETE").collect();
    // Deletes last, dependents before what they depend on.
    rows.extend(REFUSED_ELSEWHERE.iter().rev().filter(|(m, p, b, _, _)| !skipped(m, p, b) && *m == "DELETE"));
    let mut failures = Vec::new();
    for &&(method, path, body, _, _) in &rows {
        let (path, body) = (fill(path), fill(body));
        let res = app.admin().send(method, &path, (!body.is_empty()).then_some(body.as_str())).await;
        if !(200..300).contains(&res.status) {
            failures.push(format!("{method} {path} {body}: got {} {}", res.status, res.text));
        }
    }
    assert!(failures.is_empty(), "the admin was refused:\n{}", failures.join("\n"));
}

/// A valid Partner Connect registration (the partner is never called by these tests).
fn registration(name: &str) -> Value {
    serde_json::json!({"config": {
        "api_version": "2.1.1", "name": name, "description_blurb": "x", "category": "INGEST",
        "base_url": "http://127.0.0.1:9/acme", "endpoints": {"connect_path": "/connect"},
        "sign_up_page": "https://acme.example/signup", "privacy_policy": "https://acme.example/p",
        "terms_of_service": "https://acme.example/t", "logo_file": "acme.png", "icon_file": "acme.svg",
        "resources_to_provision": [{"resource_type": "PAT"}, {"resource_type": "SqlEndpoint"}],
        "supported_clouds": ["aws"], "hostnames": ["acme.example"], "new_user_action": "auto_add"
    }, "basic_auth": {"username": "databricks", "password": "partner-secret-123"}})
}

/// What Partner Connect requests may change: partners, connections, service principals,
/// tokens, the token ACL.
async fn partner_state(app: &TestApp) -> Value {
    let admin = app.admin();
    let mut out = Vec::new();
    for path in [
        "/api/2.0/partner-connect/partners",
        "/api/2.0/partner-connect/connections",
        "/api/2.0/preview/scim/v2/ServicePrincipals",
        "/api/2.0/token-management/tokens",
        "/api/2.0/permissions/authorization/tokens",
    ] {
        out.push(admin.get(path).await.ok(path));
    }
    Value::Array(out)
}

#[actix_web::test]
async fn partner_connect_register_and_connect_refuse_callers_who_may_not() {
    let (app, _) = setup().await;
    let pc = "/api/2.0/partner-connect";
    let empty = partner_state(&app).await;

    // Registering: a malformed registration is a 400 whoever sends it; a valid one from a plain
    // user a 403; nothing is stored either way.
    let bad = serde_json::json!({"config": {"name": "Acme"}}).to_string();
    app.alice().send("POST", &format!("{pc}/partners"), Some(&bad)).await.error(
        400,
        "INVALID_PARAMETER_VALUE",
        "register",
    );
    let good = registration("Acme Ingest").to_string();
    app.alice().send("POST", &format!("{pc}/partners"), Some(&good)).await.error(403, "PERMISSION_DENIED", "register");
    assert_eq!(partner_state(&app).await, empty, "a refused registration changed state");

    // The account admin may (control); the password is never echoed.
    let res = app.admin().send("POST", &format!("{pc}/partners"), Some(&good)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(!res.text.contains("partner-secret-123"), "the partner password was returned: {}", res.text);
    let pid = res.json()["partner_id"].as_str().expect("partner_id").to_string();
    let registered = partner_state(&app).await;

    // Connecting (a new connection) needs a workspace admin: a plain user is refused before
    // anything is provisioned or the partner is called.
    let connect = serde_json::json!({"partner_id": pid}).to_string();
    app.alice().send("POST", &format!("{pc}/connections"), Some(&connect)).await.error(
        403,
        "PERMISSION_DENIED",
        "connect",
    );
    // Deleting the partner: account admins only.
    app.alice().send("DELETE", &format!("{pc}/partners/{pid}"), None).await.error(403, "PERMISSION_DENIED", "delete");
    // The hooks that only reach the partner: workspace admins.
    app.alice()
        .send("POST", &format!("{pc}/partners/{pid}/delete-account"), Some(r#"{"domain": "databricks.test"}"#))
        .await
        .error(403, "PERMISSION_DENIED", "delete-account");
    assert_eq!(partner_state(&app).await, registered, "a refused Partner Connect request changed state");

    // A second registration under the same name is a conflict, and changes nothing either.
    let again = app.admin().send("POST", &format!("{pc}/partners"), Some(&good)).await;
    assert_eq!(again.status, 409, "{}", again.text);
    assert_eq!(partner_state(&app).await, registered);
}
