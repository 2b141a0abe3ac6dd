//! Delta Sharing over HTTP: shares and their data objects, share permissions (both paths),
//! recipients and tokens, providers, catalogs from a provider share, and sharing fixtures
//!.

use serde_json::{json, Value};

use crate::helpers::{names, spawn_with, As, Resp, TestApp, UC};

const ALICE_NAME: &str = "alice@example.com";
const BOB: &str = "dapi-bob";
const SECRET: &str = "FIXTURE-BEARER-SECRET-42";
const PROVIDER_MS: &str = "11111111-2222-4333-8444-555555555555";
const RECIPIENT_MS: &str = "66666666-7777-4888-8999-aaaaaaaaaaaa";

/// `admin` owns metastore `main` (metastore admin) and the `shared` catalog with two tables;
/// `alice` (in `analysts`) owns `alice_cat.s`; `bob` has nothing. Open sharing is on.
const FIXTURE: &str = r#"{
  "workspaces": [{"workspace_id": 1001}],
  "users": [
    {"user_name": "admin@example.com", "account_admin": true},
    {"user_name": "alice@example.com"},
    {"user_name": "bob@example.com"}
  ],
  "groups": [
    {"display_name": "analysts", "members": ["alice@example.com"]},
    {"display_name": "admins", "members": ["admin@example.com"]}
  ],
  "tokens": [
    {"token": "dapi-admin", "principal": "admin@example.com", "workspace_id": 1001},
    {"token": "dapi-alice", "principal": "alice@example.com", "workspace_id": 1001},
    {"token": "dapi-bob", "principal": "bob@example.com", "workspace_id": 1001}
  ],
  "metastores": [{"name": "main", "storage_root": "s3://root/main", "owner": "admin@example.com",
                  "delta_sharing_scope": "INTERNAL_AND_EXTERNAL",
                  "delta_sharing_recipient_token_lifetime_in_seconds": 3600,
                  "assignments": [{"workspace_id": 1001}]}],
  "catalogs": [{"name": "shared"}, {"name": "alice_cat", "owner": "alice@example.com"}],
  "schemas": [{"catalog_name": "shared", "name": "sales"},
              {"catalog_name": "alice_cat", "name": "s", "owner": "alice@example.com"}],
  "tables": [
    {"catalog_name": "shared", "schema_name": "sales", "name": "orders", "table_type": "MANAGED",
     "data_source_format": "DELTA", "columns": []},
    {"catalog_name": "shared", "schema_name": "sales", "name": "secret", "table_type": "MANAGED",
     "data_source_format": "DELTA", "columns": []},
    {"catalog_name": "alice_cat", "schema_name": "s", "name": "t", "table_type": "MANAGED",
     "data_source_format": "DELTA", "columns": [], "owner": "alice@example.com"}
  ],
  "providers": [
    {"name": "acme", "authentication_type": "TOKEN", "owner": "alice@example.com",
     "recipient_profile_str": "{\"shareCredentialsVersion\":1,\"endpoint\":\"https://acme.example/ds\",\"bearerToken\":\"FIXTURE-BEARER-SECRET-42\"}",
     "shares": ["sales_share", "hr_share"]},
    {"name": "partner", "authentication_type": "DATABRICKS",
     "data_provider_global_metastore_id": "aws:us-east-1:11111111-2222-4333-8444-555555555555"}
  ],
  "recipients": [
    {"name": "r_tok", "authentication_type": "TOKEN", "ip_access_list": {"allowed_ip_addresses": ["10.0.0.0/8"]}},
    {"name": "r_dbx", "authentication_type": "DATABRICKS",
     "data_recipient_global_metastore_id": "azure:westeurope:66666666-7777-4888-8999-aaaaaaaaaaaa"},
    {"name": "r_alice", "authentication_type": "DATABRICKS", "owner": "alice@example.com",
     "data_recipient_global_metastore_id": "aws:us-west-2:66666666-7777-4888-8999-aaaaaaaaaaab"}
  ],
  "shares": [
    {"name": "fx_share", "comment": "from the fixture", "objects": [
      {"name": "shared.sales.orders", "shared_as": "S.O", "cdf_enabled": true},
      {"name": "shared.sales.secret"}]}
  ],
  "grants": [
    {"securable_type": "share", "full_name": "fx_share", "principal": "r_tok", "privileges": ["SELECT"]},
    {"securable_type": "share", "full_name": "fx_share", "principal": "r_dbx", "privileges": ["SELECT"]}
  ]
}"#;

async fn app() -> TestApp {
    spawn_with(FIXTURE).await
}

fn bob(app: &TestApp) -> As<'_> {
    app.with_token(BOB)
}

fn add(name: &str) -> Value {
    json!({"action": "ADD", "data_object": {"name": name, "data_object_type": "TABLE"}})
}

fn add_as(name: &str, shared_as: &str) -> Value {
    json!({"action": "ADD", "data_object": {"name": name, "shared_as": shared_as}})
}

fn remove(name: &str) -> Value {
    json!({"action": "REMOVE", "data_object": {"name": name}})
}

async fn patch_share(who: &As<'_>, share: &str, updates: Vec<Value>) -> Resp {
    who.patch(&format!("{UC}/shares/{share}"), json!({ "updates": updates })).await
}

/// Everything sharing-related (plus the UC tree), read as the admin, for before/after checks.
async fn sharing_state(app: &TestApp) -> Value {
    let admin = app.admin();
    let shares = admin.get(&format!("{UC}/shares")).await.ok("list shares");
    let mut full = Vec::new();
    for name in names(&shares, "shares") {
        let s = admin.get(&format!("{UC}/shares/{name}")).await.ok("get share");
        let p = admin.get(&format!("{UC}/shares/{name}/permissions")).await.ok("share permissions");
        full.push(json!({"share": s, "grants": p}));
    }
    let recipients = admin.get(&format!("{UC}/recipients")).await.ok("list recipients");
    let mut rec = Vec::new();
    for name in names(&recipients, "recipients") {
        let r = admin.get(&format!("{UC}/recipients/{name}")).await.ok("get recipient");
        let p = admin.get(&format!("{UC}/recipients/{name}/share-permissions")).await.ok("recipient share permissions");
        rec.push(json!({"recipient": r, "share_permissions": p}));
    }
    let providers = admin.get(&format!("{UC}/providers")).await.ok("list providers");
    let mut prov = Vec::new();
    for name in names(&providers, "providers") {
        let s = admin.get(&format!("{UC}/providers/{name}/shares")).await.ok("provider shares");
        prov.push(
            json!({"provider": admin.get(&format!("{UC}/providers/{name}")).await.ok("get provider"), "shares": s}),
        );
    }
    json!({"shares": full, "recipients": rec, "providers": prov, "uc": app.dump_state().await})
}

fn grants_of(list: &Value) -> Vec<(String, Vec<String>)> {
    list["privilege_assignments"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|a| {
            let privs = a["privileges"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string()).collect();
            (a["principal"].as_str().unwrap().to_string(), privs)
        })
        .collect()
}

fn sel(principals: &[&str]) -> Vec<(String, Vec<String>)> {
    principals.iter().map(|p| (p.to_string(), vec!["SELECT".to_string()])).collect()
}

fn no_secret(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what}: bearer token leaked: {text}");
    assert!(!text.contains("bearerToken") && !text.contains("bearer_token"), "{what}: bearer token field: {text}");
    assert!(!text.contains("recipient_profile_str"), "{what}: raw profile returned: {text}");
}

// --- fixtures ---------------------------------------------------------------------------------

#[actix_web::test]
async fn sharing_fixture_applies_and_reapplies_idempotently() {
    let mut app = app().await;
    let admin = app.admin();
    let share = admin.get(&format!("{UC}/shares/fx_share")).await.ok("fixture share");
    assert_eq!(share["comment"], "from the fixture");
    assert_eq!(share["owner"], "admin@example.com");
    let objects = share["objects"].as_array().expect("objects");
    let by_name = |n: &str| objects.iter().find(|o| o["name"] == n).unwrap_or_else(|| panic!("{n} in {share}")).clone();
    assert_eq!(by_name("shared.sales.orders")["shared_as"], "s.o");
    assert_eq!(by_name("shared.sales.orders")["cdf_enabled"], true);
    assert_eq!(by_name("shared.sales.secret")["shared_as"], "sales.secret");
    assert_eq!(by_name("shared.sales.secret")["data_object_type"], "TABLE");
    let grants = admin.get(&format!("{UC}/shares/fx_share/permissions")).await.ok("fixture grants");
    assert_eq!(grants_of(&grants), sel(&["r_dbx", "r_tok"]));
    let tok = admin.get(&format!("{UC}/recipients/r_tok")).await.ok("r_tok");
    assert_eq!(tok["tokens"].as_array().expect("tokens").len(), 1);
    assert_eq!(tok["ip_access_list"], json!({"allowed_ip_addresses": ["10.0.0.0/8"]}));
    let dbx = admin.get(&format!("{UC}/recipients/r_dbx")).await.ok("r_dbx");
    assert_eq!(
        (dbx["cloud"].as_str(), dbx["region"].as_str(), dbx["metastore_id"].as_str()),
        (Some("azure"), Some("westeurope"), Some(RECIPIENT_MS))
    );
    assert!(dbx.get("tokens").is_none_or(|t| t.as_array().is_some_and(Vec::is_empty)), "{dbx}");
    let partner = admin.get(&format!("{UC}/providers/partner")).await.ok("partner");
    assert_eq!(partner["metastore_id"], PROVIDER_MS);
    let offered = app.alice().get(&format!("{UC}/providers/acme/shares")).await.ok("acme shares");
    let mut offered = names(&offered, "shares");
    offered.sort();
    assert_eq!(offered, ["hr_share", "sales_share"]);
    let empty = admin.get(&format!("{UC}/providers/partner/shares")).await.ok("partner shares");
    assert!(empty["shares"].as_array().is_none_or(Vec::is_empty), "{empty}");

    // Activation links name the server's current address (a restart picks another port).
    async fn state(app: &TestApp) -> String {
        sharing_state(app).await.to_string().replace(&app.url, "<public>")
    }
    let before = state(&app).await;
    assert!(before.contains("<public>/delta_sharing/retrieve_config.html?"), "{before}");
    app.restart().await;
    assert_eq!(state(&app).await, before, "re-applying the fixture changed sharing state");
    app.restart().await;
    assert_eq!(state(&app).await, before, "a third start changed sharing state");
}

#[actix_web::test]
async fn secrets_never_returned_by_any_provider_endpoint() {
    let app = app().await;
    let admin = app.admin();
    let alice = app.alice();
    no_secret("fixture get", &alice.get(&format!("{UC}/providers/acme")).await.text);
    no_secret("fixture list", &admin.get(&format!("{UC}/providers")).await.text);
    let profile =
        json!({"shareCredentialsVersion": 1, "endpoint": "https://x.example/ds", "bearerToken": SECRET}).to_string();
    let created = admin
        .post(
            &format!("{UC}/providers"),
            json!({"name": "p", "authentication_type": "TOKEN", "recipient_profile_str": profile}),
        )
        .await;
    let body = created.ok("create provider");
    no_secret("create", &created.text);
    assert_eq!(body["recipient_profile"]["endpoint"], "https://x.example/ds");
    assert_eq!(body["recipient_profile"]["share_credentials_version"], 1);
    let updated =
        admin.patch(&format!("{UC}/providers/p"), json!({"comment": "c", "recipient_profile_str": profile})).await;
    updated.ok("update provider");
    no_secret("update", &updated.text);
    no_secret("get", &admin.get(&format!("{UC}/providers/p")).await.text);
    no_secret("list", &admin.get(&format!("{UC}/providers")).await.text);
    no_secret("list filtered", &admin.get(&format!("{UC}/providers?max_results=1")).await.text);
}

// --- shares: data objects ---------------------------------------------------------------------

#[actix_web::test]
async fn share_objects_wire_shape_partitions_and_objects_replace() {
    let app = app().await;
    let admin = app.admin();
    admin.post(&format!("{UC}/shares"), json!({"name": "s"})).await.ok("create share");
    let body = json!({"updates": [{"action": "ADD", "data_object": {
        "name": "shared.sales.orders", "comment": "o", "cdf_enabled": true, "start_version": 0,
        "history_data_sharing_status": "ENABLED",
        "partition_specification": {"partitions": [{"values": [{"name": "id", "op": "EQUAL", "value": "1"}]}]}}}]});
    let before_add = uc_emulator_now();
    let res = admin.patch(&format!("{UC}/shares/s"), body).await.ok("add with partition_specification");
    let o = &res["objects"][0];
    assert_eq!(o["name"], "shared.sales.orders");
    assert_eq!(o["data_object_type"], "TABLE");
    assert_eq!(o["shared_as"], "sales.orders");
    assert_eq!(o["comment"], "o");
    assert_eq!(o["cdf_enabled"], true);
    assert_eq!(o["start_version"], 0);
    assert_eq!(o["history_data_sharing_status"], "ENABLED");
    assert_eq!(o["partitions"], json!([{"values": [{"name": "id", "op": "EQUAL", "value": "1"}]}]));
    assert!(o.get("partition_specification").is_none(), "{o}");
    assert_eq!(o["added_by"], "admin@example.com");
    assert!(o["added_at"].as_i64().expect("added_at") >= before_add, "{o}");
    // SDK form: `partitions` directly
    let res = patch_share(&admin, "s", vec![json!({"action": "ADD", "data_object": {
        "name": "shared.sales.secret", "shared_as": "x.y",
        "partitions": [{"values": [{"name": "region", "op": "LIKE", "value": "eu%"}, {"name": "id", "value": "2"}]}]}})])
    .await
    .ok("add with partitions");
    let secret =
        res["objects"].as_array().unwrap().iter().find(|o| o["name"] == "shared.sales.secret").unwrap().clone();
    assert_eq!(secret["partitions"][0]["values"][0], json!({"name": "region", "op": "LIKE", "value": "eu%"}));
    assert_eq!(secret["partitions"][0]["values"][1]["name"], "id");

    // the API reference's `objects` replaces the whole list
    let res = admin
        .patch(
            &format!("{UC}/shares/s"),
            json!({"objects": [{"name": "shared.sales.secret", "shared_as": "only.one"}]}),
        )
        .await
        .ok("objects replace");
    let objs = res["objects"].as_array().unwrap();
    assert_eq!(objs.len(), 1, "{res}");
    assert_eq!(
        (objs[0]["name"].as_str(), objs[0]["shared_as"].as_str()),
        (Some("shared.sales.secret"), Some("only.one"))
    );

    // include_shared_data=false drops objects; list never has them
    let lean = admin.get(&format!("{UC}/shares/s?include_shared_data=false")).await.ok("lean get");
    assert!(lean.get("objects").is_none(), "{lean}");
    let list = admin.get(&format!("{UC}/shares")).await.ok("list");
    assert!(list["shares"].as_array().unwrap().iter().all(|s| s.get("objects").is_none()), "{list}");
}

fn uc_emulator_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[actix_web::test]
async fn bad_share_updates_answer_400_or_404_naming_the_field_and_change_nothing() {
    let app = app().await;
    let admin = app.admin();
    admin.post(&format!("{UC}/shares"), json!({"name": "s", "comment": "c0"})).await.ok("create share");
    patch_share(&admin, "s", vec![add_as("shared.sales.orders", "x.y")]).await.ok("first add");
    let before = sharing_state(&app).await;

    let r = patch_share(&admin, "s", vec![add("shared.sales.nope")]).await;
    assert_eq!(r.status, 404, "unknown table: {}", r.text);
    assert!(r.json()["error_code"].as_str().unwrap().ends_with("_DOES_NOT_EXIST"), "{}", r.text);
    let r = admin
        .patch(
            &format!("{UC}/shares/s"),
            json!({"comment": "c1", "updates": [add("shared.sales.secret"), add("shared.sales.nope")]}),
        )
        .await;
    assert_eq!(r.status, 404, "unknown table after a valid ADD: {}", r.text);
    patch_share(&admin, "s", vec![add_as("shared.sales.secret", "x.y")])
        .await
        .invalid("shared_as", "duplicate shared_as");
    patch_share(&admin, "s", vec![add_as("shared.sales.secret", "X.y")])
        .await
        .invalid("shared_as", "duplicate, other case");
    patch_share(&admin, "s", vec![add_as("shared.sales.secret", "nodot")]).await.invalid("shared_as", "one part");
    patch_share(&admin, "s", vec![add_as("shared.sales.secret", ".t")]).await.invalid("shared_as", "empty part");
    patch_share(&admin, "s", vec![add_as("shared.sales.orders", "other.name")]).await.error(
        400,
        "INVALID_PARAMETER_VALUE",
        "second ADD",
    );
    patch_share(&admin, "s", vec![remove("shared.sales.secret")]).await.error(
        400,
        "INVALID_PARAMETER_VALUE",
        "REMOVE absent",
    );
    patch_share(
        &admin,
        "s",
        vec![json!({"action": "UPDATE", "data_object": {"name": "shared.sales.secret", "comment": "x"}})],
    )
    .await
    .error(400, "INVALID_PARAMETER_VALUE", "UPDATE absent");
    patch_share(
        &admin,
        "s",
        vec![json!({"action": "ADD", "data_object": {"name": "shared.sales.secret", "data_object_type": "VOLUME"}})],
    )
    .await
    .error(400, "INVALID_PARAMETER_VALUE", "non-TABLE object");
    patch_share(&admin, "s", vec![json!({"action": "MERGE", "data_object": {"name": "shared.sales.secret"}})])
        .await
        .error(400, "INVALID_PARAMETER_VALUE", "unknown action");
    patch_share(
        &admin,
        "s",
        vec![json!({"action": "ADD", "data_object": {"name": "shared.sales.secret",
        "partitions": [{"values": [{"name": "id", "op": "GREATER", "value": "1"}]}]}})],
    )
    .await
    .error(400, "INVALID_PARAMETER_VALUE", "unknown partition op");
    // a duplicate shared_as inside one request, after a valid REMOVE: whole request refused
    patch_share(
        &admin,
        "s",
        vec![remove("shared.sales.orders"), add_as("shared.sales.secret", "p.q"), add_as("shared.sales.orders", "p.q")],
    )
    .await
    .invalid("shared_as", "duplicate within one request");
    // the share owner (admin) lacks SELECT on alice's table
    let r = patch_share(&admin, "s", vec![remove("shared.sales.orders"), add("alice_cat.s.t")]).await;
    assert_eq!(r.status, 403, "owner lacks SELECT: {}", r.text);
    assert_eq!(sharing_state(&app).await, before, "a refused update changed something");
}

#[actix_web::test]
async fn dropping_a_table_removes_it_from_every_share() {
    let app = app().await;
    let admin = app.admin();
    admin.post(&format!("{UC}/shares"), json!({"name": "s2"})).await.ok("create share");
    patch_share(&admin, "s2", vec![add("shared.sales.orders")]).await.ok("add");
    let r = admin.delete(&format!("{UC}/tables/shared.sales.orders")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let fx = admin.get(&format!("{UC}/shares/fx_share")).await.ok("fx_share");
    let left: Vec<&str> = fx["objects"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(left, ["shared.sales.secret"]);
    let s2 = admin.get(&format!("{UC}/shares/s2")).await.ok("s2");
    assert!(s2["objects"].as_array().is_none_or(Vec::is_empty), "{s2}");
}

// --- share permissions ------------------------------------------------------------------------

#[actix_web::test]
async fn share_permissions_both_paths_validation_and_recipient_ownership() {
    let app = app().await;
    let admin = app.admin();
    let path = format!("{UC}/shares/fx_share/permissions");
    for spelling in ["share", "SHARE", "Share"] {
        let g = admin.get(&format!("{UC}/permissions/{spelling}/fx_share")).await.ok(spelling);
        assert_eq!(grants_of(&g), sel(&["r_dbx", "r_tok"]), "{spelling}");
    }
    let before = sharing_state(&app).await;
    let change = |principal: &str, add: &[&str], remove: &[&str]| json!({"changes": [{"principal": principal, "add": add, "remove": remove}]});
    // unknown recipient / a user that is no recipient → 404 PRINCIPAL_DOES_NOT_EXIST
    admin.patch(&path, change("ghost", &["SELECT"], &[])).await.error(
        404,
        "PRINCIPAL_DOES_NOT_EXIST",
        "unknown recipient",
    );
    admin.patch(&path, change(ALICE_NAME, &["SELECT"], &[])).await.error(
        404,
        "PRINCIPAL_DOES_NOT_EXIST",
        "user as grantee",
    );
    // only SELECT
    for bad in ["MODIFY", "USE_SHARE", "ALL_PRIVILEGES", "NOT_A_PRIVILEGE"] {
        let r = admin.patch(&path, change("r_tok", &[bad], &[])).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
        let r = admin.patch(&format!("{UC}/permissions/share/fx_share"), change("r_tok", &[bad], &[])).await;
        assert_eq!(r.status, 400, "{bad} via /permissions/share: {}", r.text);
    }
    // a new grant to a recipient the caller does not own → 403, also for the admin
    let r = admin.patch(&path, change("r_alice", &["SELECT"], &[])).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = admin.patch(&format!("{UC}/permissions/share/fx_share"), change("r_alice", &["SELECT"], &[])).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = admin
        .put(&format!("{UC}/permissions/share/fx_share"),
             json!({"privilege_assignments": [{"principal": "r_tok", "privileges": ["SELECT"]}, {"principal": "r_alice", "privileges": ["SELECT"]}]}))
        .await;
    assert_eq!(r.status, 403, "PUT granting an unowned recipient: {}", r.text);
    // neither owner nor admin
    bob(&app).patch(&path, change("r_tok", &[], &["SELECT"])).await.error(403, "UNAUTHORIZED", "bob revokes");
    let r = bob(&app).get(&path).await;
    assert_eq!(r.status, 403, "bob reads: {}", r.text);
    assert_eq!(sharing_state(&app).await, before, "refused permission changes changed something");

    // revocation of a recipient the caller does not own needs nothing: alice's share owner
    let alice = app.alice();
    let r = alice.patch(&path, change("r_alice", &["SELECT"], &[])).await;
    assert_eq!(r.status, 403, "alice is not the share owner: {}", r.text);
    admin.patch(&format!("{UC}/shares/fx_share"), json!({"owner": ALICE_NAME})).await.ok("give share to alice");
    let res = alice.patch(&path, change("r_alice", &["SELECT"], &[])).await.ok("alice grants her recipient");
    assert_eq!(grants_of(&res), sel(&["r_alice", "r_dbx", "r_tok"]));
    let res = alice.patch(&path, change("r_tok", &[], &["SELECT"])).await.ok("alice revokes admin's recipient");
    assert_eq!(grants_of(&res), sel(&["r_alice", "r_dbx"]));
    let r = alice.patch(&path, change("r_tok", &["SELECT"], &[])).await;
    assert_eq!(r.status, 403, "alice re-grants admin's recipient: {}", r.text);
    // PUT replaces the whole set; answers {}
    let r = alice
        .put(
            &format!("{UC}/permissions/share/fx_share"),
            json!({"privilege_assignments": [{"principal": "r_alice", "privileges": ["SELECT"]}]}),
        )
        .await;
    assert_eq!(r.ok("PUT"), json!({}));
    let g = admin.get(&path).await.ok("after PUT");
    assert_eq!(grants_of(&g), sel(&["r_alice"]));
    let rp = admin.get(&format!("{UC}/recipients/r_alice/share-permissions")).await.ok("recipient view");
    assert_eq!(
        rp["permissions_out"],
        json!([{"share_name": "fx_share", "privilege_assignments": [{"principal": "r_alice", "privileges": ["SELECT"]}]}])
    );
    let rp = admin.get(&format!("{UC}/recipients/r_tok/share-permissions")).await.ok("recipient view, none");
    assert!(rp["permissions_out"].as_array().is_none_or(Vec::is_empty), "{rp}");
}

// --- recipients -------------------------------------------------------------------------------

#[actix_web::test]
async fn recipient_validation_answers_400_naming_the_field_and_creates_nothing() {
    let app = app().await;
    let admin = app.admin();
    let before = sharing_state(&app).await;
    let appr = &app;
    let post = move |body: Value| async move { appr.admin().post(&format!("{UC}/recipients"), body).await };
    let ips = |list: Vec<String>| json!({"name": "bad", "authentication_type": "TOKEN", "ip_access_list": {"allowed_ip_addresses": list}});
    let many: Vec<String> = (0..101).map(|i| format!("10.{}.0.0/16", i)).collect();
    post(ips(many)).await.invalid("allowed_ip_addresses", "101 addresses");
    for bad in ["10.0.0.0/33", "10.0.0.0/-1", "256.0.0.1", "not-an-ip", "1.2.3", "::1/129", ""] {
        post(ips(vec![bad.to_string()])).await.invalid("allowed_ip_addresses", bad);
        admin
            .patch(&format!("{UC}/recipients/r_tok"), json!({"ip_access_list": {"allowed_ip_addresses": [bad]}}))
            .await
            .invalid("allowed_ip_addresses", bad);
    }
    post(json!({"name": "bad", "authentication_type": "DATABRICKS"}))
        .await
        .invalid("data_recipient_global_metastore_id", "missing id");
    post(json!({"name": "bad", "authentication_type": "DATABRICKS", "data_recipient_global_metastore_id": "aws:only"}))
        .await
        .invalid("data_recipient_global_metastore_id", "malformed id");
    post(json!({"name": "bad", "authentication_type": "TOKEN", "data_recipient_global_metastore_id": format!("aws:r:{RECIPIENT_MS}")}))
        .await
        .error(400, "INVALID_PARAMETER_VALUE", "id on TOKEN");
    post(json!({"name": "bad", "authentication_type": "OAUTH_CLIENT_CREDENTIALS"})).await.error(
        400,
        "INVALID_PARAMETER_VALUE",
        "auth type",
    );
    post(json!({"name": "bad"})).await.invalid("authentication_type", "no auth type");
    let r = admin
        .post(&format!("{UC}/recipients/r_tok/rotate-token"), json!({"existing_token_expire_in_seconds": -5}))
        .await;
    r.invalid("existing_token_expire_in_seconds", "negative rotation");
    assert_eq!(sharing_state(&app).await, before, "a refused recipient request changed something");

    // 100 addresses, IPv6 and one-element array form are fine
    let hundred: Vec<String> = (0..100).map(|i| format!("10.{}.0.0/16", i)).collect();
    let ok = post(ips(hundred)).await.ok("100 addresses");
    assert_eq!(ok["ip_access_list"]["allowed_ip_addresses"].as_array().unwrap().len(), 100);
    let ok = post(json!({"name": "arr", "authentication_type": "TOKEN",
                         "ip_access_list": [{"allowed_ip_addresses": ["2001:db8::/32", "192.168.0.1"]}]}))
    .await
    .ok("array form");
    assert_eq!(ok["ip_access_list"], json!({"allowed_ip_addresses": ["2001:db8::/32", "192.168.0.1"]}));
}

#[actix_web::test]
async fn token_recipient_needs_external_scope() {
    let internal = FIXTURE
        .replace(r#""delta_sharing_scope": "INTERNAL_AND_EXTERNAL","#, "")
        .replace(r#"{"name": "r_tok", "authentication_type": "TOKEN", "ip_access_list": {"allowed_ip_addresses": ["10.0.0.0/8"]}},"#, "")
        .replace(r#"{"securable_type": "share", "full_name": "fx_share", "principal": "r_tok", "privileges": ["SELECT"]},"#, "");
    assert!(!internal.contains("INTERNAL_AND_EXTERNAL") && !internal.contains("r_tok"));
    let app = spawn_with(&internal).await;
    let admin = app.admin();
    let r = admin.post(&format!("{UC}/recipients"), json!({"name": "t", "authentication_type": "TOKEN"})).await;
    r.invalid("delta_sharing_scope", "TOKEN recipient under INTERNAL scope");
    let list = admin.get(&format!("{UC}/recipients")).await.ok("list");
    assert!(!names(&list, "recipients").contains(&"t".to_string()));
    let ms = admin.get(&format!("{UC}/metastore_summary")).await.ok("summary");
    let id = ms["metastore_id"].as_str().unwrap();
    admin
        .patch(&format!("{UC}/metastores/{id}"),
               json!({"delta_sharing_scope": "INTERNAL_AND_EXTERNAL", "delta_sharing_recipient_token_lifetime_in_seconds": 60}))
        .await
        .ok("open sharing");
    let t0 = uc_emulator_now();
    let r = admin
        .post(&format!("{UC}/recipients"), json!({"name": "t", "authentication_type": "TOKEN"}))
        .await
        .ok("now allowed");
    let t1 = uc_emulator_now();
    let tokens = r["tokens"].as_array().expect("tokens");
    assert_eq!(tokens.len(), 1);
    let exp = tokens[0]["expiration_time"].as_i64().expect("expiration_time");
    assert!(t0 + 60_000 <= exp && exp <= t1 + 60_000, "expiration {exp} not ~{t0}+60s");
    assert!(!tokens[0]["activation_url"].as_str().unwrap_or("").is_empty());
}

#[actix_web::test]
async fn rotate_zero_leaves_only_the_new_token_and_positive_never_extends() {
    let app = app().await;
    let admin = app.admin();
    let path = format!("{UC}/recipients/r_tok/rotate-token");
    let first = admin.get(&format!("{UC}/recipients/r_tok")).await.ok("r_tok");
    let a = first["tokens"][0].clone();
    let a_exp = a["expiration_time"].as_i64().unwrap();
    // 1 day > the remaining lifetime (<= 3600 s): A keeps its expiry
    let r = admin.post(&path, json!({"existing_token_expire_in_seconds": 86400})).await.ok("rotate 1 day");
    let toks = r["tokens"].as_array().unwrap();
    assert_eq!(toks.len(), 2, "{r}");
    let a_now = toks.iter().find(|t| t["id"] == a["id"]).expect("A still listed");
    assert_eq!(a_now["expiration_time"].as_i64(), Some(a_exp), "a rotation extended the old token");
    let t0 = uc_emulator_now();
    let r = admin.post(&path, json!({"existing_token_expire_in_seconds": 0})).await.ok("rotate 0");
    let t1 = uc_emulator_now();
    let toks = r["tokens"].as_array().unwrap();
    assert_eq!(toks.len(), 1, "{r}");
    assert!(toks[0]["id"] != a["id"]);
    let exp = toks[0]["expiration_time"].as_i64().unwrap();
    assert!(t0 + 3_600_000 <= exp && exp <= t1 + 3_600_000);
    let got = admin.get(&format!("{UC}/recipients/r_tok")).await.ok("after rotation");
    assert_eq!(got["tokens"], r["tokens"]);
    // owner only
    let r = app.alice().post(&path, json!({"existing_token_expire_in_seconds": 0})).await;
    assert_eq!(r.status, 403, "alice rotates: {}", r.text);
    let r = admin
        .post(&format!("{UC}/recipients/r_dbx/rotate-token"), json!({"existing_token_expire_in_seconds": 0}))
        .await;
    assert_eq!(r.status, 400, "DATABRICKS recipient has no tokens: {}", r.text);
}

#[actix_web::test]
async fn deleting_a_recipient_drops_its_grants_and_renaming_keeps_them() {
    let app = app().await;
    let admin = app.admin();
    admin.patch(&format!("{UC}/recipients/r_dbx"), json!({"new_name": "r_dbx2"})).await.ok("rename");
    let g = admin.get(&format!("{UC}/shares/fx_share/permissions")).await.ok("grants after rename");
    assert_eq!(grants_of(&g), sel(&["r_dbx2", "r_tok"]));
    let rp = admin.get(&format!("{UC}/recipients/r_dbx2/share-permissions")).await.ok("renamed view");
    assert_eq!(rp["permissions_out"][0]["share_name"], "fx_share");
    assert_eq!(rp["permissions_out"][0]["privilege_assignments"][0]["principal"], "r_dbx2");
    let r = admin.delete(&format!("{UC}/recipients/r_tok")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let g = admin.get(&format!("{UC}/shares/fx_share/permissions")).await.ok("grants after delete");
    assert_eq!(grants_of(&g), sel(&["r_dbx2"]));
    admin
        .post(&format!("{UC}/recipients"), json!({"name": "r_tok", "authentication_type": "TOKEN"}))
        .await
        .ok("recreate");
    let rp = admin.get(&format!("{UC}/recipients/r_tok/share-permissions")).await.ok("fresh view");
    assert!(rp["permissions_out"].as_array().is_none_or(Vec::is_empty), "{rp}");
    let g = admin.get(&format!("{UC}/shares/fx_share/permissions")).await.ok("grants after recreate");
    assert_eq!(grants_of(&g), sel(&["r_dbx2"]));
}

// --- providers --------------------------------------------------------------------------------

#[actix_web::test]
async fn malformed_provider_profile_is_400_and_changes_nothing() {
    let app = app().await;
    let admin = app.admin();
    let alice = app.alice();
    let before = sharing_state(&app).await;
    for bad in ["not json", "{\"bearerToken\":\"x\"}", "[1,2]", "{\"endpoint\": 5}", "{\"endpoint\": \"\"}"] {
        admin
            .post(
                &format!("{UC}/providers"),
                json!({"name": "q", "authentication_type": "TOKEN", "recipient_profile_str": bad}),
            )
            .await
            .invalid("recipient_profile_str", bad);
        alice
            .patch(&format!("{UC}/providers/acme"), json!({"recipient_profile_str": bad}))
            .await
            .invalid("recipient_profile_str", bad);
    }
    admin
        .post(&format!("{UC}/providers"), json!({"name": "q", "authentication_type": "TOKEN"}))
        .await
        .invalid("recipient_profile_str", "TOKEN without a profile");
    admin
        .post(
            &format!("{UC}/providers"),
            json!({"name": "q", "authentication_type": "DATABRICKS", "data_provider_global_metastore_id": "x:y"}),
        )
        .await
        .invalid("data_provider_global_metastore_id", "malformed global id");
    assert_eq!(sharing_state(&app).await, before);
}

// --- catalogs from a provider share -----------------------------------------------------------

#[actix_web::test]
async fn catalog_from_provider_share() {
    let app = app().await;
    let admin = app.admin();
    let cats = format!("{UC}/catalogs");
    let before = app.dump_state().await;
    admin
        .post(&cats, json!({"name": "half", "provider_name": "partner"}))
        .await
        .invalid("share_name", "provider without share");
    admin
        .post(&cats, json!({"name": "half", "share_name": "x"}))
        .await
        .invalid("provider_name", "share without provider");
    let r = admin.post(&cats, json!({"name": "ghost", "provider_name": "nope", "share_name": "x"})).await;
    assert_eq!(r.status, 404, "{}", r.text);
    // admin may create catalogs but does not own `acme`
    let r = admin.post(&cats, json!({"name": "ds", "provider_name": "acme", "share_name": "sales_share"})).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(app.dump_state().await, before);
    let c = admin
        .post(&cats, json!({"name": "ds", "provider_name": "partner", "share_name": "anything"}))
        .await
        .ok("admin owns partner");
    assert_eq!(c["catalog_type"], "DELTASHARING_CATALOG");
    assert_eq!((c["provider_name"].as_str(), c["share_name"].as_str()), (Some("partner"), Some("anything")));
    let got = admin.get(&format!("{UC}/catalogs/ds")).await.ok("get");
    assert_eq!(got["catalog_type"], "DELTASHARING_CATALOG");
    let plain = admin.post(&cats, json!({"name": "plain"})).await.ok("plain catalog");
    assert_eq!(plain["catalog_type"], "MANAGED_CATALOG");
}
