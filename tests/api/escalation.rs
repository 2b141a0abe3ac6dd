//! Privilege escalation: a plain user tries every way to gain rights — granting to itself,
//! ownership transfers, SCIM self-promotion, tokens for others, reading token values and
//! secrets — and is refused with nothing changed (a full database dump before and after).

use serde_json::{json, Value};

use crate::fuzz::dump_db;
use crate::helpers::{enc, spawn_with, TestApp, UC};

/// alice is a plain user who owns recipient `r_alice` and schema `main.mine`; everything else
/// belongs to the admin.
const FIXTURE: &str = r#"{
  "workspaces": [{"workspace_id": 1001}],
  "users": [
    {"user_name": "admin@example.com", "account_admin": true},
    {"user_name": "alice@example.com"}
  ],
  "groups": [
    {"display_name": "admins", "members": ["admin@example.com"]},
    {"display_name": "analysts", "members": ["alice@example.com"]}
  ],
  "service_principals": [{"application_id": "6f1d1c2e-0000-4000-8000-000000000001", "display_name": "bot"}],
  "tokens": [
    {"token": "dapi-admin", "principal": "admin@example.com", "workspace_id": 1001},
    {"token": "dapi-alice", "principal": "alice@example.com", "workspace_id": 1001}
  ],
  "metastores": [{"name": "main", "storage_root": "s3://root/main", "owner": "admin@example.com",
                  "delta_sharing_scope": "INTERNAL_AND_EXTERNAL",
                  "delta_sharing_recipient_token_lifetime_in_seconds": 3600,
                  "assignments": [{"workspace_id": 1001}]}],
  "catalogs": [{"name": "main"}],
  "schemas": [{"catalog_name": "main", "name": "mine", "owner": "alice@example.com"}],
  "tables": [{"catalog_name": "main", "schema_name": "default", "name": "t1", "table_type": "MANAGED",
              "data_source_format": "DELTA", "columns": []}],
  "storage_credentials": [{"name": "cred", "azure_service_principal":
      {"directory_id": "d", "application_id": "a", "client_secret": "TOP-SECRET-VALUE"}}],
  "external_locations": [{"name": "zone", "url": "s3://bucket/zone", "credential_name": "cred"}],
  "shares": [{"name": "s1"}],
  "recipients": [{"name": "r1", "authentication_type": "TOKEN"},
                 {"name": "r_alice", "authentication_type": "TOKEN", "owner": "alice@example.com"}],
  "providers": [{"name": "p1", "authentication_type": "TOKEN",
                 "recipient_profile_str": "{\"shareCredentialsVersion\":1,\"endpoint\":\"https://x\",\"bearerToken\":\"PROVIDER-BEARER\"}"}]
}"#;

async fn scim_id(app: &TestApp, kind: &str, filter: &str) -> String {
    let r = app.admin().get(&format!("/api/2.0/preview/scim/v2/{kind}?filter={}", enc(filter))).await.ok(kind);
    r["Resources"][0]["id"].as_str().unwrap().to_string()
}

/// Sends `body` as alice and asserts the refusal and that nothing changed.
async fn refused(app: &TestApp, method: &str, path: &str, body: Option<Value>, status: u16, code: &str) {
    let before = dump_db(app);
    let text = body.map(|b| b.to_string());
    let r = app.alice().send(method, path, text.as_deref()).await;
    r.error(status, code, &format!("{method} {path}"));
    assert_eq!(dump_db(app), before, "{method} {path} was refused but changed the database");
}

#[actix_web::test]
async fn a_plain_user_cannot_grant_itself_anything() {
    let app = spawn_with(FIXTURE).await;
    let ms = app.admin().get(&format!("{UC}/metastore_summary")).await.ok("ms")["metastore_id"]
        .as_str()
        .unwrap()
        .to_string();
    let me = "alice@example.com";
    let add = |p: &str| json!({"changes": [{"principal": me, "add": [p]}]});
    for (sec, name, privilege) in [
        ("catalog", "main", "ALL_PRIVILEGES"),
        ("schema", "main.default", "USE_SCHEMA"),
        ("table", "main.default.t1", "SELECT"),
        ("storage_credential", "cred", "CREATE_EXTERNAL_LOCATION"),
        ("external_location", "zone", "READ_FILES"),
        ("metastore", ms.as_str(), "CREATE_CATALOG"),
        ("metastore", ms.as_str(), "CREATE_EXTERNAL_LOCATION"),
    ] {
        let path = format!("{UC}/permissions/{sec}/{name}");
        refused(&app, "PATCH", &path, Some(add(privilege)), 403, "UNAUTHORIZED").await;
        let put = json!({"privilege_assignments": [{"principal": me, "privileges": [privilege]}]});
        refused(&app, "PUT", &path, Some(put), 403, "UNAUTHORIZED").await;
    }
    // ... nor through a group it belongs to.
    let via_group = json!({"changes": [{"principal": "analysts", "add": ["USE_CATALOG"]}]});
    refused(&app, "PATCH", &format!("{UC}/permissions/catalog/main"), Some(via_group), 403, "UNAUTHORIZED").await;
    // Owning a schema lets alice grant on it, never on its catalog.
    app.alice()
        .patch(
            &format!("{UC}/permissions/schema/main.mine"),
            json!({"changes": [{"principal": me, "add": ["USE_SCHEMA"]}]}),
        )
        .await
        .ok("owner grants on her own schema");
    refused(&app, "PATCH", &format!("{UC}/permissions/catalog/main"), Some(add("USE_CATALOG")), 403, "UNAUTHORIZED")
        .await;
}

#[actix_web::test]
async fn a_plain_user_cannot_make_itself_owner() {
    let app = spawn_with(FIXTURE).await;
    let ms = app.admin().get(&format!("{UC}/metastore_summary")).await.ok("ms")["metastore_id"]
        .as_str()
        .unwrap()
        .to_string();
    let owner = json!({"owner": "alice@example.com"});
    for path in [
        format!("{UC}/catalogs/main"),
        format!("{UC}/schemas/main.default"),
        format!("{UC}/tables/main.default.t1"),
        format!("{UC}/storage-credentials/cred"),
        format!("{UC}/external-locations/zone"),
        format!("{UC}/shares/s1"),
        format!("{UC}/recipients/r1"),
        format!("{UC}/providers/p1"),
        format!("{UC}/metastores/{ms}"),
    ] {
        refused(&app, "PATCH", &path, Some(owner.clone()), 403, "PERMISSION_DENIED").await;
        // Also to a group it is in.
        refused(&app, "PATCH", &path, Some(json!({"owner": "analysts"})), 403, "PERMISSION_DENIED").await;
    }
    // Owner of a schema, alice may not pull the table inside it (owned by the admin) to herself.
    refused(&app, "DELETE", &format!("{UC}/catalogs/main?force=true"), None, 403, "PERMISSION_DENIED").await;
    // Owning a recipient gives no right on a share alice does not own.
    let grant = json!({"changes": [{"principal": "r_alice", "add": ["SELECT"]}]});
    refused(&app, "PATCH", &format!("{UC}/shares/s1/permissions"), Some(grant), 403, "UNAUTHORIZED").await;
}

#[actix_web::test]
async fn a_plain_user_cannot_promote_itself_through_scim() {
    let app = spawn_with(FIXTURE).await;
    let me = scim_id(&app, "Users", "userName eq \"alice@example.com\"").await;
    let admin = scim_id(&app, "Users", "userName eq \"admin@example.com\"").await;
    let admins = scim_id(&app, "Groups", "displayName eq \"admins\"").await;
    let scim = "/api/2.0/preview/scim/v2";
    let op = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    let join = op(json!([{"op": "add", "value": {"members": [{"value": me}]}}]));
    refused(&app, "PATCH", &format!("{scim}/Groups/{admins}"), Some(join), 403, "PERMISSION_DENIED").await;
    let join = op(json!([{"op": "add", "path": "groups", "value": [{"value": admins}]}]));
    refused(&app, "PATCH", &format!("{scim}/Users/{me}"), Some(join), 403, "PERMISSION_DENIED").await;
    let rename = op(json!([{"op": "replace", "path": "userName", "value": "admin2@example.com"}]));
    refused(&app, "PATCH", &format!("{scim}/Users/{me}"), Some(rename), 403, "PERMISSION_DENIED").await;
    let put = json!({"userName": "alice@example.com", "groups": [{"value": admins}]});
    refused(&app, "PUT", &format!("{scim}/Users/{me}"), Some(put), 403, "PERMISSION_DENIED").await;
    let off = op(json!([{"op": "replace", "path": "active", "value": false}]));
    refused(&app, "PATCH", &format!("{scim}/Users/{admin}"), Some(off), 403, "PERMISSION_DENIED").await;
    refused(&app, "DELETE", &format!("{scim}/Users/{admin}"), None, 403, "PERMISSION_DENIED").await;
    refused(&app, "DELETE", &format!("{scim}/Groups/{admins}"), None, 403, "PERMISSION_DENIED").await;
    for (kind, body) in [
        ("Users", json!({"userName": "mallory@example.com"})),
        ("Groups", json!({"displayName": "mine", "members": [{"value": me}]})),
        ("ServicePrincipals", json!({"displayName": "my-bot"})),
    ] {
        refused(&app, "POST", &format!("{scim}/{kind}"), Some(body), 403, "PERMISSION_DENIED").await;
    }
}

#[actix_web::test]
async fn a_plain_user_gets_no_tokens_or_secrets_of_others() {
    let app = spawn_with(FIXTURE).await;
    let admin_token = app.admin().post("/api/2.0/token/create", json!({"comment": "admin's"})).await.ok("token");
    let value = admin_token["token_value"].as_str().unwrap().to_string();
    let id = admin_token["token_info"]["token_id"].as_str().unwrap().to_string();
    let sp = "6f1d1c2e-0000-4000-8000-000000000001";
    refused(
        &app,
        "POST",
        "/api/2.0/token-management/on-behalf-of/tokens",
        Some(json!({"application_id": sp})),
        403,
        "PERMISSION_DENIED",
    )
    .await;
    refused(&app, "GET", "/api/2.0/token-management/tokens", None, 403, "PERMISSION_DENIED").await;
    refused(&app, "GET", &format!("/api/2.0/token-management/tokens/{id}"), None, 403, "PERMISSION_DENIED").await;
    refused(&app, "DELETE", &format!("/api/2.0/token-management/tokens/{id}"), None, 403, "PERMISSION_DENIED").await;
    refused(&app, "POST", "/api/2.0/token/delete", Some(json!({"token_id": id})), 404, "RESOURCE_DOES_NOT_EXIST").await;
    // Token ACLs: alice holds CAN_USE (through account users) and may read, never set; on
    // passwords she holds nothing.
    let acl =
        |level: &str| json!({"access_control_list": [{"user_name": "alice@example.com", "permission_level": level}]});
    for m in ["PUT", "PATCH"] {
        refused(
            &app,
            m,
            "/api/2.0/permissions/authorization/tokens",
            Some(acl("CAN_MANAGE")),
            403,
            "PERMISSION_DENIED",
        )
        .await;
        refused(
            &app,
            m,
            "/api/2.0/permissions/authorization/passwords",
            Some(acl("CAN_USE")),
            403,
            "PERMISSION_DENIED",
        )
        .await;
    }
    refused(&app, "GET", "/api/2.0/permissions/authorization/passwords", None, 403, "PERMISSION_DENIED").await;
    // Recipients alice does not own: no read, no rotation.
    refused(&app, "GET", &format!("{UC}/recipients/r1"), None, 403, "PERMISSION_DENIED").await;
    let rotate = json!({"existing_token_expire_in_seconds": 0});
    refused(&app, "POST", &format!("{UC}/recipients/r1/rotate-token"), Some(rotate), 403, "PERMISSION_DENIED").await;
    // Explaining someone else, creating or assigning metastores, registering partners.
    let explain = format!(
        "{UC}/explain?action=getTable&securable_type=table&full_name=main.default.t1&principal=admin%40example.com"
    );
    refused(&app, "GET", &explain, None, 403, "PERMISSION_DENIED").await;
    let ms = json!({"name": "mine", "storage_root": "s3://mine", "region": "us-west-2"});
    refused(&app, "POST", &format!("{UC}/metastores"), Some(ms), 403, "PERMISSION_DENIED").await;
    let assign = json!({"metastore_id": "00000000-0000-0000-0000-000000000000", "default_catalog_name": "main"});
    refused(&app, "PUT", &format!("{UC}/workspaces/1001/metastore"), Some(assign), 403, "PERMISSION_DENIED").await;
    // (Registering or deleting a partner as a plain user: the Partner Connect suites.)

    // No token value, credential secret or bearer token is ever shown again — not even to admins.
    let mut seen = String::new();
    for path in [
        "/api/2.0/token/list".to_string(),
        "/api/2.0/token-management/tokens".to_string(),
        format!("/api/2.0/token-management/tokens/{id}"),
        format!("{UC}/storage-credentials"),
        format!("{UC}/storage-credentials/cred"),
        format!("{UC}/recipients"),
        format!("{UC}/recipients/r1"),
        format!("{UC}/providers"),
        format!("{UC}/providers/p1"),
    ] {
        for who in [app.admin(), app.alice()] {
            seen.push_str(&who.get(&path).await.text);
        }
    }
    let validate = json!({"storage_credential_name": "cred", "url": "s3://bucket/zone"});
    seen.push_str(&app.admin().post(&format!("{UC}/validate-storage-credentials"), validate).await.text);
    seen.push_str(&app.admin().patch(&format!("{UC}/storage-credentials/cred"), json!({"comment": "c"})).await.text);
    for secret in [value.as_str(), "TOP-SECRET-VALUE", "PROVIDER-BEARER", "client_secret", "bearerToken"] {
        assert!(!seen.contains(secret), "{secret} appeared in a response");
    }
    // A 401 never echoes the presented token.
    let r = app.with_token("dapi-not-a-real-token-123").get(&format!("{UC}/catalogs")).await;
    r.error(401, "UNAUTHENTICATED", "bad token");
    assert!(!r.text.contains("dapi-not-a-real-token-123"));
}
