//! Personal access tokens, token management and workspace object permissions
//! (the Databricks Token, Token Management and Permissions APIs).

use serde_json::{json, Value};

use crate::helpers::{spawn_with, Resp, TestApp, UC};

const CREATE: &str = "/api/2.0/token/create";
const LIST: &str = "/api/2.0/token/list";
const DELETE: &str = "/api/2.0/token/delete";
const MGMT: &str = "/api/2.0/token-management/tokens";
const OBO: &str = "/api/2.0/token-management/on-behalf-of/tokens";
const ME: &str = "/api/2.0/preview/scim/v2/Me";
const TOKEN_ACL: &str = "/api/2.0/permissions/authorization/tokens";
const PASSWORD_ACL: &str = "/api/2.0/permissions/authorization/passwords";

const SP: &str = "6f1d1c2e-0000-4000-8000-000000000001";

/// The default identities plus Bob (no groups), Carol (workspace admin only) and a second
/// workspace.
const FIXTURE: &str = r#"{
  "workspaces": [{"workspace_id": 1001, "name": "dev"}, {"workspace_id": 1002, "name": "staging"}],
  "users": [
    {"user_name": "admin@example.com", "display_name": "Ada Admin", "account_admin": true},
    {"user_name": "alice@example.com", "display_name": "Alice"},
    {"user_name": "bob@example.com", "display_name": "Bob"},
    {"user_name": "carol@example.com", "display_name": "Carol"}
  ],
  "groups": [
    {"display_name": "analysts", "members": ["alice@example.com"]},
    {"display_name": "admins", "members": ["admin@example.com", "carol@example.com"]}
  ],
  "service_principals": [
    {"application_id": "6f1d1c2e-0000-4000-8000-000000000001", "display_name": "etl-bot"}
  ],
  "tokens": [
    {"token": "dapi-admin", "principal": "admin@example.com", "workspace_id": 1001},
    {"token": "dapi-alice", "principal": "alice@example.com", "workspace_id": 1001},
    {"token": "dapi-bob", "principal": "bob@example.com", "workspace_id": 1001},
    {"token": "dapi-carol", "principal": "carol@example.com", "workspace_id": 1001},
    {"token": "dapi-admin-ws2", "principal": "admin@example.com", "workspace_id": 1002}
  ],
  "metastores": [
    {
      "name": "main",
      "storage_root": "s3://uc-emulator/main",
      "owner": "admin@example.com",
      "assignments": [{"workspace_id": 1001, "default_catalog_name": "main"}]
    }
  ],
  "catalogs": [{"name": "main", "comment": "The default catalog."}],
  "grants": [
    {"securable_type": "catalog", "full_name": "main", "principal": "account users", "privileges": ["USE_CATALOG"]}
  ]
}"#;

async fn app() -> TestApp {
    spawn_with(FIXTURE).await
}

/// Creates a token as `token`; returns (value, token_info).
async fn create(app: &TestApp, token: &str, body: Value) -> (String, Value) {
    let res = app.with_token(token).post(CREATE, body).await.ok("create token");
    (res["token_value"].as_str().expect("token_value").to_string(), res["token_info"].clone())
}

fn ids(list: &Value) -> Vec<String> {
    list["token_infos"]
        .as_array()
        .unwrap_or_else(|| panic!("no token_infos in {list}"))
        .iter()
        .map(|t| t["token_id"].as_str().expect("token_id").to_string())
        .collect()
}

async fn me(app: &TestApp, token: &str) -> Resp {
    app.with_token(token).get(ME).await
}

#[actix_web::test]
async fn create_list_delete_and_a_deleted_token_is_401_at_once() {
    let app = app().await;
    let (value, info) = create(&app, "dapi-alice", json!({"comment": "laptop"})).await;
    assert!(value.starts_with("dapi") && value.len() == 36, "token value {value:?}");
    assert!(value[4..].chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{value}");
    let token_id = info["token_id"].as_str().expect("token_id").to_string();
    assert!(info["creation_time"].as_i64().expect("creation_time") > 1_600_000_000_000, "{info}");
    assert_eq!(info["expiry_time"], -1, "{info}");
    assert_eq!(info["comment"], "laptop");

    // The new token is Alice's, in Alice's workspace.
    assert_eq!(me(&app, &value).await.ok("Me with the new token")["userName"], "alice@example.com");
    app.with_token(&value).get(&format!("{UC}/catalogs")).await.ok("UC with the new token");

    // Listed (without its value) for Alice only; fixture tokens are never listed.
    let list = app.alice().get(LIST).await.ok("list");
    assert_eq!(ids(&list), vec![token_id.clone()]);
    assert!(!list.to_string().contains(&value), "the value is shown once: {list}");
    assert_eq!(ids(&app.admin().get(LIST).await.ok("admin list")), Vec::<String>::new());
    assert_eq!(ids(&app.with_token(&value).get(LIST).await.ok("list via new token")), vec![token_id.clone()]);

    // Nobody else deletes it through token/delete.
    app.admin().post(DELETE, json!({"token_id": token_id})).await.error(
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "admin deletes Alice's token via token/delete",
    );
    app.alice().post(DELETE, json!({})).await.invalid("token_id", "delete without token_id");

    // Deleting it (with itself) makes it 401 on the very next request.
    assert_eq!(app.with_token(&value).post(DELETE, json!({"token_id": token_id})).await.ok("delete"), json!({}));
    me(&app, &value).await.error(401, "UNAUTHENTICATED", "deleted token");
    app.with_token(&value).get(LIST).await.error(401, "UNAUTHENTICATED", "deleted token, list");
    app.alice().post(DELETE, json!({"token_id": token_id})).await.error(
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "deleting twice",
    );
    assert_eq!(ids(&app.alice().get(LIST).await.ok("list after delete")), Vec::<String>::new());
    // The fixture token is untouched.
    me(&app, "dapi-alice").await.ok("fixture token still works");
}

#[actix_web::test]
async fn a_token_created_in_another_workspace_belongs_to_it() {
    let app = app().await;
    let (value, _) = create(&app, "dapi-admin-ws2", json!({})).await;
    // Workspace 1002 has no metastore: the new token is scoped there too.
    app.with_token(&value).get(&format!("{UC}/catalogs")).await.error(
        404,
        "METASTORE_DOES_NOT_EXIST",
        "UC from workspace 1002",
    );
    assert_eq!(ids(&app.with_token("dapi-admin-ws2").get(LIST).await.ok("ws2 list")).len(), 1);
    assert_eq!(ids(&app.admin().get(LIST).await.ok("ws1 list")).len(), 0);
    assert_eq!(ids(&app.admin().get(MGMT).await.ok("ws1 management list")).len(), 0);
}

#[actix_web::test]
async fn an_expired_token_is_401() {
    let app = app().await;
    let (value, info) = create(&app, "dapi-bob", json!({"lifetime_seconds": 1})).await;
    let created = info["creation_time"].as_i64().expect("creation_time");
    assert_eq!(info["expiry_time"].as_i64(), Some(created + 1000), "{info}");
    me(&app, &value).await.ok("before expiry");
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1200)).await;
    let msg = me(&app, &value).await.error(401, "UNAUTHENTICATED", "expired token");
    assert!(msg.to_lowercase().contains("expired"), "{msg}");
    app.with_token("dapi-bob")
        .post(CREATE, json!({"lifetime_seconds": -5}))
        .await
        .invalid("lifetime_seconds", "negative lifetime");
    app.with_token("dapi-bob")
        .post(CREATE, json!({"lifetime_seconds": "soon"}))
        .await
        .invalid("lifetime_seconds", "string lifetime");
}

#[actix_web::test]
async fn token_values_are_stored_only_as_hashes() {
    let app = app().await;
    let (value, _) = create(&app, "dapi-alice", json!({})).await;
    let conn = rusqlite::Connection::open(&app.db).expect("open db");
    let by_hash: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM tokens WHERE token_hash = ?1",
            [uc_emulator::store::tokens::hash(&value)],
            |r| r.get(0),
        )
        .expect("query");
    assert_eq!(by_hash, 1);
    drop(conn);
    for suffix in ["", "-wal"] {
        let path = format!("{}{suffix}", app.db.display());
        if let Ok(bytes) = std::fs::read(&path) {
            assert!(!bytes.windows(value.len()).any(|w| w == value.as_bytes()), "{path} holds the token value");
        }
    }
}

#[actix_web::test]
async fn token_management_for_admins() {
    let app = app().await;
    let (alice_value, alice_info) = create(&app, "dapi-alice", json!({"comment": "a"})).await;
    let (_, admin_info) = create(&app, "dapi-admin", json!({"comment": "b"})).await;
    let alice_id = alice_info["token_id"].as_str().unwrap().to_string();
    let admin_token_id = admin_info["token_id"].as_str().unwrap().to_string();
    let alice_scim_id: i64 = me(&app, "dapi-alice").await.ok("Me")["id"].as_str().unwrap().parse().unwrap();

    for who in ["dapi-admin", "dapi-carol"] {
        let list = app.with_token(who).get(MGMT).await.ok("management list");
        assert_eq!(ids(&list), vec![alice_id.clone(), admin_token_id.clone()], "{who}");
        let entry = &list["token_infos"][0];
        assert_eq!(entry["created_by_username"], "alice@example.com");
        assert_eq!(entry["created_by_id"], alice_scim_id);
        assert_eq!(entry["owner_id"], alice_scim_id);
        assert_eq!(entry["workspace_id"], 1001);
        assert_eq!(entry["comment"], "a");
    }
    let filtered =
        app.admin().get(&format!("{MGMT}?created_by_username=alice%40example.com")).await.ok("filter by name");
    assert_eq!(ids(&filtered), vec![alice_id.clone()]);
    let filtered = app.admin().get(&format!("{MGMT}?created_by_id={alice_scim_id}")).await.ok("filter by id");
    assert_eq!(ids(&filtered), vec![alice_id.clone()]);
    app.admin().get(&format!("{MGMT}?created_by_id=abc")).await.invalid("created_by_id", "non-numeric id");

    let got = app.admin().get(&format!("{MGMT}/{alice_id}")).await.ok("get");
    assert_eq!(got["token_info"]["token_id"], alice_id.as_str());
    assert_eq!(got["token_info"]["owner_id"], alice_scim_id);
    app.admin().get(&format!("{MGMT}/nope")).await.error(404, "RESOURCE_DOES_NOT_EXIST", "get unknown");

    // Non-admins: 403 on every management endpoint, nothing changes.
    for who in ["dapi-alice", "dapi-bob"] {
        let c = app.with_token(who);
        c.get(MGMT).await.error(403, "PERMISSION_DENIED", "list as non-admin");
        c.get(&format!("{MGMT}/{alice_id}")).await.error(403, "PERMISSION_DENIED", "get as non-admin");
        c.delete(&format!("{MGMT}/{alice_id}")).await.error(403, "PERMISSION_DENIED", "delete as non-admin");
        c.post(OBO, json!({"application_id": SP})).await.error(403, "PERMISSION_DENIED", "obo as non-admin");
    }
    me(&app, &alice_value).await.ok("still valid");

    // An admin deletes Alice's token: it is 401 at once.
    assert_eq!(app.admin().delete(&format!("{MGMT}/{alice_id}")).await.ok("delete"), json!({}));
    me(&app, &alice_value).await.error(401, "UNAUTHENTICATED", "token deleted by an admin");
    app.admin().delete(&format!("{MGMT}/{alice_id}")).await.error(404, "RESOURCE_DOES_NOT_EXIST", "twice");
    assert_eq!(ids(&app.admin().get(MGMT).await.ok("list")), vec![admin_token_id]);
    let res = app.admin().send("PATCH", &format!("{MGMT}/x"), Some("{}")).await;
    res.error(405, "METHOD_NOT_ALLOWED", "PATCH a token");
}

#[actix_web::test]
async fn on_behalf_of_tokens_act_as_the_service_principal() {
    let app = app().await;
    let res = app
        .admin()
        .post(OBO, json!({"application_id": SP, "comment": "etl", "lifetime_seconds": 3600}))
        .await
        .ok("obo");
    let value = res["token_value"].as_str().expect("token_value").to_string();
    let info = &res["token_info"];
    assert_eq!(info["comment"], "etl");
    assert_eq!(info["expiry_time"].as_i64(), Some(info["creation_time"].as_i64().unwrap() + 3_600_000));
    assert_eq!(info["created_by_username"], "admin@example.com");
    assert_eq!(info["workspace_id"], 1001);

    let me_sp = me(&app, &value).await.ok("Me as the SP");
    assert_eq!(me_sp["userName"], SP);
    assert_eq!(me_sp["applicationId"], SP);
    assert_eq!(info["owner_id"].as_i64().unwrap().to_string(), me_sp["id"].as_str().unwrap());
    app.with_token(&value).get(&format!("{UC}/catalogs")).await.ok("UC as the SP");
    // The SP sees it among its own tokens and may delete it.
    let own = app.with_token(&value).get(LIST).await.ok("SP list");
    assert_eq!(ids(&own), vec![info["token_id"].as_str().unwrap().to_string()]);

    app.admin().post(OBO, json!({"application_id": "00000000-0000-0000-0000-000000000000"})).await.error(
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "unknown SP",
    );
    app.admin().post(OBO, json!({"application_id": "alice@example.com"})).await.error(
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "a user is not a service principal",
    );
    app.admin().post(OBO, json!({})).await.invalid("application_id", "no application_id");
}

// --- workspace object permissions ---------------------------------------------------------

fn entry<'a>(acl: &'a Value, key: &str, name: &str) -> Option<&'a Value> {
    acl["access_control_list"].as_array().expect("access_control_list").iter().find(|e| e[key] == name)
}

fn direct_levels(acl: &Value, key: &str, name: &str) -> Vec<String> {
    entry(acl, key, name)
        .map(|e| {
            e["all_permissions"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["inherited"] == false)
                .map(|p| p["permission_level"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[actix_web::test]
async fn token_acl_get_set_update_and_who_may() {
    let app = app().await;
    let acl = app.admin().get(TOKEN_ACL).await.ok("get as admin");
    assert_eq!(acl["object_id"], "authorization/tokens");
    assert_eq!(acl["object_type"], "tokens");
    let admins = entry(&acl, "group_name", "admins").expect("admins listed");
    assert_eq!(admins["all_permissions"][0]["permission_level"], "CAN_MANAGE");
    assert_eq!(admins["all_permissions"][0]["inherited"], true);
    app.with_token("dapi-carol").get(TOKEN_ACL).await.ok("workspace admin reads");

    // Every workspace starts with `account users` -> CAN_USE, so alice holds a level and reads
    // the list; she may not change it.
    let read = app.alice().get(TOKEN_ACL).await.ok("alice reads through account users");
    assert_eq!(direct_levels(&read, "group_name", "account users"), vec!["CAN_USE"]);
    app.alice()
        .put(
            TOKEN_ACL,
            json!({"access_control_list": [{"user_name": "alice@example.com", "permission_level": "CAN_MANAGE"}]}),
        )
        .await
        .error(403, "PERMISSION_DENIED", "alice grants herself");
    // ... but permission levels are for anyone.
    let levels = app.alice().get(&format!("{TOKEN_ACL}/permissionLevels")).await.ok("levels");
    let names: Vec<&str> = levels["permission_levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["permission_level"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["CAN_USE", "CAN_MANAGE"]);
    assert!(levels["permission_levels"][0]["description"].is_string());

    // PUT replaces.
    let set = app
        .admin()
        .put(
            TOKEN_ACL,
            json!({"access_control_list": [{"user_name": "alice@example.com", "permission_level": "CAN_USE"}]}),
        )
        .await
        .ok("set");
    assert_eq!(direct_levels(&set, "user_name", "alice@example.com"), vec!["CAN_USE"]);
    assert_eq!(entry(&set, "user_name", "alice@example.com").unwrap()["display_name"], "Alice");
    assert_eq!(set, app.admin().get(TOKEN_ACL).await.ok("get after set"));

    // A holder of CAN_USE reads but may not change.
    app.alice().get(TOKEN_ACL).await.ok("alice reads with CAN_USE");
    app.alice()
        .patch(
            TOKEN_ACL,
            json!({"access_control_list": [{"user_name": "bob@example.com", "permission_level": "CAN_USE"}]}),
        )
        .await
        .error(403, "PERMISSION_DENIED", "alice changes with CAN_USE");

    // PATCH adds: a group gets CAN_MANAGE and a service principal CAN_USE.
    let updated = app
        .admin()
        .patch(
            TOKEN_ACL,
            json!({"access_control_list": [
                {"group_name": "analysts", "permission_level": "CAN_MANAGE"},
                {"service_principal_name": SP, "permission_level": "CAN_USE"}
            ]}),
        )
        .await
        .ok("update");
    assert_eq!(direct_levels(&updated, "user_name", "alice@example.com"), vec!["CAN_USE"]);
    assert_eq!(direct_levels(&updated, "group_name", "analysts"), vec!["CAN_MANAGE"]);
    assert_eq!(direct_levels(&updated, "service_principal_name", SP), vec!["CAN_USE"]);
    assert_eq!(entry(&updated, "service_principal_name", SP).unwrap()["display_name"], "etl-bot");

    // Alice, through her group, now manages the list: she replaces it.
    let replaced = app
        .alice()
        .put(
            TOKEN_ACL,
            json!({"access_control_list": [{"user_name": "bob@example.com", "permission_level": "CAN_USE"}]}),
        )
        .await
        .ok("alice sets via group CAN_MANAGE");
    assert_eq!(direct_levels(&replaced, "user_name", "bob@example.com"), vec!["CAN_USE"]);
    assert!(entry(&replaced, "group_name", "analysts").is_none(), "{replaced}");
    assert!(entry(&replaced, "group_name", "admins").is_some(), "admins always shown");
    app.alice().get(TOKEN_ACL).await.error(403, "PERMISSION_DENIED", "alice after losing her level");
    app.with_token("dapi-bob").get(TOKEN_ACL).await.ok("bob reads with CAN_USE");

    // `account users` is a group every principal belongs to.
    app.admin()
        .patch(
            TOKEN_ACL,
            json!({"access_control_list": [{"group_name": "account users", "permission_level": "CAN_USE"}]}),
        )
        .await
        .ok("grant account users");
    app.alice().get(TOKEN_ACL).await.ok("alice via account users");

    // An empty PUT leaves only the admins.
    let empty = app.admin().put(TOKEN_ACL, json!({"access_control_list": []})).await.ok("clear");
    assert_eq!(empty["access_control_list"].as_array().unwrap().len(), 1, "{empty}");
    app.with_token("dapi-bob").get(TOKEN_ACL).await.error(403, "PERMISSION_DENIED", "bob after clear");
}

#[actix_web::test]
async fn acl_validation_names_the_field_and_changes_nothing() {
    let app = app().await;
    app.admin()
        .put(
            TOKEN_ACL,
            json!({"access_control_list": [{"user_name": "alice@example.com", "permission_level": "CAN_USE"}]}),
        )
        .await
        .ok("fill the list");
    let before = app.admin().get(TOKEN_ACL).await.ok("before");
    let alice_use = json!({"user_name": "bob@example.com", "permission_level": "CAN_USE"});
    let cases: Vec<(&str, Value, &str)> = vec![
        ("no principal", json!([{"permission_level": "CAN_USE"}]), "access_control_list[0]"),
        (
            "two principals",
            json!([{"user_name": "alice@example.com", "group_name": "analysts", "permission_level": "CAN_USE"}]),
            "access_control_list[0]",
        ),
        (
            "no level",
            json!([alice_use.clone(), {"user_name": "bob@example.com"}]),
            "access_control_list[1].permission_level",
        ),
        (
            "unknown level",
            json!([{"user_name": "bob@example.com", "permission_level": "CAN_FLY"}]),
            "access_control_list[0].permission_level",
        ),
        (
            "level of another object type",
            json!([{"user_name": "bob@example.com", "permission_level": "IS_OWNER"}]),
            "access_control_list[0].permission_level",
        ),
        (
            "unknown user",
            json!([alice_use.clone(), {"user_name": "nobody@example.com", "permission_level": "CAN_USE"}]),
            "access_control_list[1].user_name",
        ),
        (
            "a user named as a group",
            json!([{"group_name": "bob@example.com", "permission_level": "CAN_USE"}]),
            "access_control_list[0].group_name",
        ),
        (
            "a group named as a service principal",
            json!([{"service_principal_name": "analysts", "permission_level": "CAN_USE"}]),
            "access_control_list[0].service_principal_name",
        ),
        ("not a list", json!("everyone"), "access_control_list"),
    ];
    for (what, list, field) in cases {
        for method in ["PUT", "PATCH"] {
            let body = json!({ "access_control_list": list }).to_string();
            app.admin().send(method, TOKEN_ACL, Some(&body)).await.invalid(field, &format!("{method} {what}"));
        }
    }
    app.admin()
        .put(
            PASSWORD_ACL,
            json!({"access_control_list": [{"user_name": "bob@example.com", "permission_level": "CAN_MANAGE"}]}),
        )
        .await
        .invalid("access_control_list[0].permission_level", "CAN_MANAGE on passwords");
    assert_eq!(app.admin().get(TOKEN_ACL).await.ok("after"), before, "rejected requests changed the list");

    // The password ACL is a list of its own.
    let pw = app
        .admin()
        .patch(
            PASSWORD_ACL,
            json!({"access_control_list": [{"user_name": "bob@example.com", "permission_level": "CAN_USE"}]}),
        )
        .await
        .ok("password acl");
    assert_eq!(pw["object_id"], "authorization/passwords");
    assert_eq!(direct_levels(&pw, "user_name", "bob@example.com"), vec!["CAN_USE"]);
    assert!(entry(&pw, "user_name", "alice@example.com").is_none());
    let levels =
        app.with_token("dapi-bob").get(&format!("{PASSWORD_ACL}/permissionLevels")).await.ok("password levels");
    assert_eq!(levels["permission_levels"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn unknown_objects_are_404_and_other_methods_405() {
    let app = app().await;
    for path in [
        "/api/2.0/permissions/warehouses/0123456789abcdef",
        "/api/2.0/permissions/warehouses/0123456789abcdef/permissionLevels",
    ] {
        app.admin().get(path).await.error(404, "RESOURCE_DOES_NOT_EXIST", path);
    }
    app.admin()
        .put("/api/2.0/permissions/warehouses/0123456789abcdef", json!({"access_control_list": []}))
        .await
        .error(404, "RESOURCE_DOES_NOT_EXIST", "set on an unknown warehouse");
    app.admin().get("/api/2.0/permissions/clusters/0101-000000-abcdefgh").await.error(
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "clusters are not emulated",
    );
    app.admin().get("/api/2.0/permissions/authorization/other").await.error(404, "RESOURCE_DOES_NOT_EXIST", "other");
    let res = app.admin().delete(TOKEN_ACL).await;
    res.error(405, "METHOD_NOT_ALLOWED", "DELETE an ACL");
    let allow = res.header("allow").expect("Allow header");
    for m in ["GET", "PUT", "PATCH"] {
        assert!(allow.contains(m), "{allow}");
    }
    app.anonymous().get(TOKEN_ACL).await.error(401, "UNAUTHENTICATED", "no token");
}
