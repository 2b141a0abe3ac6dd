//! The account half of identity over plain HTTP: account paths and the account id, the acting
//! workspace (`X-Databricks-Workspace-Id`), workspace assignments and belonging, account admins
//! and the last-admin rule, and their error shapes.

use serde_json::{json, Value};

use crate::helpers::{acc, spawn, spawn_with, TestApp, ACCOUNT, UC};

async fn user_id(app: &TestApp, name: &str) -> i64 {
    let body = app.admin().get(&acc(&format!("/scim/v2/Users?filter=userName%20eq%20%22{name}%22"))).await.ok("find");
    body["Resources"][0]["id"].as_str().expect("id").parse().expect("numeric id")
}

#[actix_web::test]
async fn account_paths_check_the_account_id_after_authentication() {
    let app = spawn().await;
    let other = "11111111-1111-4111-8111-111111111111";
    let res = app.admin().get(&format!("/api/2.0/accounts/{other}/scim/v2/Users")).await;
    let msg = res.error(404, "RESOURCE_DOES_NOT_EXIST", "another account");
    assert!(msg.contains(other), "{msg}");
    app.anonymous().get(&format!("/api/2.0/accounts/{other}/scim/v2/Users")).await.error(
        401,
        "UNAUTHENTICATED",
        "401 first",
    );
    app.admin().get(&format!("/api/2.0/accounts/{}/workspaces", ACCOUNT.to_uppercase())).await.ok("any case");
    for bad in ["startIndex=0", "count=-1", "startIndex=x"] {
        let res = app.admin().get(&acc(&format!("/scim/v2/Users?{bad}"))).await;
        res.invalid(bad.split('=').next().unwrap(), bad);
        assert_eq!(res.json()["scimType"], "invalidValue", "{bad}");
    }
    // Alice is no account admin: 403 on every account API, whatever the path's id is right.
    for path in ["/scim/v2/Users", "/workspaces", "/workspaces/1001/permissionassignments"] {
        app.alice().get(&acc(path)).await.error(403, "PERMISSION_DENIED", path);
    }
}

#[actix_web::test]
async fn the_workspace_header_selects_the_acting_workspace() {
    let app = spawn().await;
    let me = format!("{UC}/user-info/me");
    let same = app.admin().request("GET", &me).header("X-Databricks-Workspace-Id", "1001");
    assert_eq!(app.admin().execute(same).await.status, 200);
    let other = app.admin().request("GET", &me).header("X-Databricks-Workspace-Id", "1002");
    let msg = app.admin().execute(other).await.error(403, "PERMISSION_DENIED", "PAT of another workspace");
    assert!(msg.contains("1001"), "{msg}");
    let bad = app.admin().request("GET", &me).header("X-Databricks-Workspace-Id", "abc");
    app.admin().execute(bad).await.invalid("X-Databricks-Workspace-Id", "not a number");
    // Account APIs ignore it.
    let rb = app.admin().request("GET", &acc("/workspaces")).header("X-Databricks-Workspace-Id", "abc");
    assert_eq!(app.admin().execute(rb).await.status, 200);
}

#[actix_web::test]
async fn unassigned_principals_are_refused_and_hidden_until_assigned_again() {
    let app = spawn().await;
    let alice = user_id(&app, "alice@example.com").await;
    let analysts = {
        let b = app.admin().get(&acc("/scim/v2/Groups?filter=displayName%20eq%20analysts")).await.ok("group");
        b["Resources"][0]["id"].as_str().unwrap().parse::<i64>().unwrap()
    };
    let principal = |id: i64| acc(&format!("/workspaces/1001/permissionassignments/principals/{id}"));
    app.admin().delete(&principal(alice)).await.ok("unassign alice");
    // Still in `analysts`, which is assigned: she belongs through the group.
    app.alice().get(&format!("{UC}/catalogs")).await.ok("through analysts");
    app.admin().delete(&principal(analysts)).await.ok("unassign analysts");
    let msg = app.alice().get(&format!("{UC}/catalogs")).await.error(403, "PERMISSION_DENIED", "unassigned");
    assert!(msg.contains("not assigned to workspace 1001"), "{msg}");
    let res = app.alice().get("/api/2.0/preview/scim/v2/Me").await;
    assert_eq!(res.status, 403);
    assert_eq!(res.json()["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]));
    let users = app.admin().get("/api/2.0/preview/scim/v2/Users").await.ok("ws users");
    assert!(!users["Resources"].as_array().unwrap().iter().any(|u| u["userName"] == "alice@example.com"));
    app.admin().get(&format!("/api/2.0/preview/scim/v2/Users/{alice}")).await.error(
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "hidden",
    );
    let body = app.admin().put(&principal(alice), json!({"permissions": ["USER"]})).await.ok("assign");
    assert_eq!(body["permissions"], json!(["USER"]));
    assert_eq!(body["principal"]["user_name"], "alice@example.com");
    app.alice().get(&format!("{UC}/catalogs")).await.ok("assigned again");
    // Emptying update deletes; DELETE of nothing is 404.
    let body = app.admin().put(&principal(alice), json!({"permissions": ["UNKNOWN"]})).await.ok("empty");
    assert_eq!(body["permissions"], json!([]));
    app.admin().delete(&principal(alice)).await.error(404, "RESOURCE_DOES_NOT_EXIST", "nothing to delete");
    app.admin().put(&principal(alice), json!({"permissions": [1]})).await.invalid("permissions", "numbers");
    app.admin().put(&principal(424242), json!({"permissions": ["USER"]})).await.error(
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "unknown principal",
    );
    app.admin()
        .put(&acc("/workspaces/77/permissionassignments/principals/1"), json!({"permissions": ["USER"]}))
        .await
        .error(404, "RESOURCE_DOES_NOT_EXIST", "unknown workspace");
    app.admin().get(&acc("/workspaces/x/permissionassignments")).await.invalid("workspace_id", "non-numeric");
}

#[actix_web::test]
async fn the_last_account_admin_stays_and_a_refused_change_changes_nothing() {
    let app = spawn().await;
    let admin = user_id(&app, "admin@example.com").await;
    let before = app.dump_state().await;
    let patch = |op: Value| json!({"Operations": [op]});
    for (what, res) in [
        (
            "remove role",
            app.admin()
                .patch(
                    &acc(&format!("/scim/v2/Users/{admin}")),
                    patch(json!({"op": "remove", "path": "roles[value eq \"account_admin\"]"})),
                )
                .await,
        ),
        (
            "deactivate",
            app.admin()
                .patch(
                    &acc(&format!("/scim/v2/Users/{admin}")),
                    patch(json!({"op": "replace", "path": "active", "value": false})),
                )
                .await,
        ),
        ("delete", app.admin().delete(&acc(&format!("/scim/v2/Users/{admin}"))).await),
        ("workspace delete", app.admin().delete(&format!("/api/2.0/preview/scim/v2/Users/{admin}")).await),
    ] {
        let msg = res.invalid("", what);
        assert!(msg.contains("At least one account admin must remain."), "{what}: {msg}");
    }
    assert_eq!(app.dump_state().await, before, "refused requests change nothing");
    // Roles other than account_admin are refused.
    let res = app
        .admin()
        .patch(
            &acc(&format!("/scim/v2/Users/{admin}")),
            patch(json!({"op": "add", "path": "roles", "value": [{"value": "god"}]})),
        )
        .await;
    res.invalid("Operations[0].value", "unknown role");
}

#[actix_web::test]
async fn oauth_token_endpoint_errors_carry_both_shapes_and_tokens_authenticate() {
    let app = spawn().await;
    let sp = {
        let b = app.admin().get(&acc("/scim/v2/ServicePrincipals")).await.ok("sps");
        b["Resources"][0]["id"].as_str().unwrap().to_string()
    };
    let created = app.admin().post(&acc(&format!("/servicePrincipals/{sp}/credentials/secrets")), json!({})).await;
    let secret = created.ok("secret")["secret"].as_str().unwrap().to_string();
    let app_id = "6f1d1c2e-0000-4000-8000-000000000001";
    let token = |body: &str, basic: Option<(&str, &str)>| {
        let mut rb = app
            .anonymous()
            .request("POST", "/oidc/v1/token")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.to_string());
        if let Some((u, p)) = basic {
            rb = rb.basic_auth(u, Some(p));
        }
        rb
    };
    let res = app.anonymous().execute(token("grant_type=client_credentials", Some((app_id, "wrong")))).await;
    res.error(401, "UNAUTHENTICATED", "wrong secret");
    assert_eq!(res.json()["error"], "invalid_client");
    let res = app.anonymous().execute(token("grant_type=password", Some((app_id, &secret)))).await;
    res.error(400, "INVALID_PARAMETER_VALUE", "grant type");
    assert_eq!(res.json()["error"], "unsupported_grant_type");
    let res = app.anonymous().execute(token("scope=all-apis", Some((app_id, &secret)))).await;
    assert_eq!(res.json()["error"], "invalid_request");
    let res =
        app.anonymous().execute(token("grant_type=client_credentials&scope=all-apis", Some((app_id, &secret)))).await;
    let body = res.ok("token");
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    let access = body["access_token"].as_str().unwrap();
    let me = app.with_token(access).get("/api/2.0/preview/scim/v2/Me").await.ok("me");
    assert_eq!(me["userName"], app_id);
    // Not listed by the token APIs.
    let listed = app.admin().get("/api/2.0/token-management/tokens").await.ok("tokens");
    assert!(!listed.to_string().contains(app_id), "{listed}");
}

#[actix_web::test]
async fn rule_set_updates_check_the_etag_and_change_nothing_when_refused() {
    let app = spawn().await;
    let group = app.admin().get(&acc("/scim/v2/Groups?filter=displayName%20eq%20analysts")).await.ok("group");
    let id = group["Resources"][0]["id"].as_str().unwrap().to_string();
    let name = format!("accounts/{ACCOUNT}/groups/{id}/ruleSets/default");
    let path = "/api/2.0/preview/accounts/access-control/rule-sets";
    let current = app.admin().get(&format!("{path}?name={}&etag=", crate::helpers::enc(&name))).await.ok("get");
    let etag = current["etag"].as_str().unwrap().to_string();
    let put = |etag: &str, principal: &str| {
        json!({"name": name, "rule_set": {"name": name, "etag": etag,
               "grant_rules": [{"role": "roles/group.manager", "principals": [principal]}]}})
    };
    let ok = app.admin().put(path, put(&etag, "users/alice@example.com")).await.ok("update");
    assert_ne!(ok["etag"], json!(etag));
    let before = app.dump_state().await;
    let msg = app.admin().put(path, put(&etag, "users/admin@example.com")).await.error(
        409,
        "RESOURCE_CONFLICT",
        "stale etag",
    );
    assert!(msg.contains(&etag), "{msg}");
    app.admin()
        .put(path, put(ok["etag"].as_str().unwrap(), "users/ghost@example.com"))
        .await
        .invalid("rule_set.grant_rules[0].principals[0]", "unknown principal");
    assert_eq!(app.dump_state().await, before);
    // Alice manages analysts now: she may update its rule set herself.
    app.alice().put(path, put(ok["etag"].as_str().unwrap(), "users/alice@example.com")).await.ok("manager");
}

#[actix_web::test]
async fn an_unknown_account_storage_credential_is_storage_credential_does_not_exist() {
    let app = spawn().await;
    let list = app.admin().get(&acc("/metastores")).await.ok("metastores");
    let ms = list["metastores"][0]["metastore_id"].as_str().expect("a metastore").to_string();
    let path = acc(&format!("/metastores/{ms}/storage-credentials/no_such_cred"));
    for (method, body) in [("GET", None), ("PUT", Some(json!({"credential_info": {"comment": "x"}}))), ("DELETE", None)]
    {
        let mut rb = app.admin().request(method, &path);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let msg = app.admin().execute(rb).await.error(404, "STORAGE_CREDENTIAL_DOES_NOT_EXIST", method);
        assert!(msg.contains("no_such_cred"), "{method}: {msg}");
    }
    // The workspace API keeps its own answer for the same lookup.
    app.admin().get(&format!("{UC}/storage-credentials/no_such_cred")).await.error(
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "workspace",
    );
}

#[actix_web::test]
async fn scim_filters_refuse_active_compared_with_a_string_at_both_levels() {
    let app = spawn().await;
    for base in [acc("/scim/v2"), "/api/2.0/preview/scim/v2".to_string()] {
        for kind in ["Users", "ServicePrincipals"] {
            for f in ["active%20eq%20%22true%22", "userName%20sw%20%22a%22%20or%20active%20ne%20%22false%22"] {
                if kind == "ServicePrincipals" && f.contains("userName") {
                    continue;
                }
                let res = app.admin().get(&format!("{base}/{kind}?filter={f}")).await;
                let msg = res.invalid("filter", f);
                assert!(msg.starts_with("filter:"), "{msg}");
                assert!(msg.contains("active"), "{msg}");
                assert_eq!(res.json()["scimType"], "invalidFilter", "{base}/{kind} {f}");
            }
            // A boolean is fine.
            let page = app.admin().get(&format!("{base}/{kind}?filter=active%20eq%20true")).await.ok("bool");
            assert!(page["totalResults"].as_u64().unwrap() > 0, "{page}");
        }
    }
}

#[actix_web::test]
async fn start_index_below_one_is_refused_by_account_scim_and_read_as_one_by_workspace_scim() {
    let app = spawn().await;
    for kind in ["Users", "Groups", "ServicePrincipals"] {
        let res = app.admin().get(&acc(&format!("/scim/v2/{kind}?startIndex=0"))).await;
        res.invalid("startIndex", kind);
        assert_eq!(res.json()["scimType"], "invalidValue", "{kind}");
        app.admin().get(&acc(&format!("/scim/v2/{kind}?startIndex=-3"))).await.invalid("startIndex", kind);
        let ws = app.admin().get(&format!("/api/2.0/preview/scim/v2/{kind}?startIndex=0")).await.ok(kind);
        assert_eq!(ws["startIndex"], 1, "{kind}: {ws}");
    }
}

/// The default fixture plus a workspace admin (member of `admins`) who is no account admin, and a
/// metastore admin of `main` who is neither.
const ROLES_FIXTURE: &str = r#"{
  "workspaces": [{"workspace_id": 1001, "name": "dev"}],
  "users": [
    {"user_name": "admin@example.com", "display_name": "Ada Admin", "account_admin": true},
    {"user_name": "alice@example.com", "display_name": "Alice"},
    {"user_name": "wsadmin@example.com", "display_name": "Wes"},
    {"user_name": "msowner@example.com", "display_name": "Mo"}
  ],
  "groups": [
    {"display_name": "analysts", "members": ["alice@example.com"]},
    {"display_name": "admins", "members": ["admin@example.com", "wsadmin@example.com"]}
  ],
  "service_principals": [
    {"application_id": "6f1d1c2e-0000-4000-8000-000000000001", "display_name": "etl-bot"}
  ],
  "tokens": [
    {"token": "dapi-admin", "principal": "admin@example.com", "workspace_id": 1001},
    {"token": "dapi-alice", "principal": "alice@example.com", "workspace_id": 1001},
    {"token": "dapi-wsadmin", "principal": "wsadmin@example.com", "workspace_id": 1001},
    {"token": "dapi-msowner", "principal": "msowner@example.com", "workspace_id": 1001}
  ],
  "metastores": [
    {
      "name": "main",
      "storage_root": "s3://uc-emulator/main",
      "owner": "msowner@example.com",
      "assignments": [{"workspace_id": 1001, "default_catalog_name": "main"}]
    }
  ],
  "catalogs": [{"name": "main", "comment": "The default catalog."}]
}"#;

#[actix_web::test]
async fn account_routes_admit_account_admins_only() {
    let app = spawn_with(ROLES_FIXTURE).await;
    let admin = app.admin();
    let ms = admin.get(&acc("/metastores")).await.ok("metastores")["metastores"][0]["metastore_id"]
        .as_str()
        .expect("metastore id")
        .to_string();
    let alice = user_id(&app, "alice@example.com").await;
    let sp = admin.get(&acc("/scim/v2/ServicePrincipals")).await.ok("sps")["Resources"][0]["id"]
        .as_str()
        .expect("sp id")
        .to_string();
    let analysts = admin.get(&acc("/scim/v2/Groups?filter=displayName%20eq%20%22analysts%22")).await.ok("group")
        ["Resources"][0]["id"]
        .as_str()
        .expect("group id")
        .to_string();
    let cred = json!({"credential_info": {"name": "authz_cred",
        "aws_iam_role": {"role_arn": "arn:aws:iam::123456789012:role/uc"}}})
    .to_string();
    let new_ms = json!({"metastore_info": {"name": "authz_ms", "storage_root": "s3://uc-emulator/authz",
        "region": "us-east-1"}})
    .to_string();
    // (method, path, body, status the account admin gets)
    let rows: Vec<(&str, String, Option<String>, u16)> = vec![
        ("GET", acc("/scim/v2/Users"), None, 200),
        ("GET", acc("/scim/v2/Groups"), None, 200),
        ("GET", acc("/scim/v2/ServicePrincipals"), None, 200),
        ("GET", acc(&format!("/scim/v2/Users/{alice}")), None, 200),
        ("GET", acc(&format!("/scim/v2/Groups/{analysts}")), None, 200),
        ("GET", acc(&format!("/scim/v2/ServicePrincipals/{sp}")), None, 200),
        ("POST", acc("/scim/v2/Users"), Some(json!({"userName": "new@example.com"}).to_string()), 201),
        ("GET", acc("/workspaces"), None, 200),
        ("GET", acc("/workspaces/1001"), None, 200),
        ("GET", acc("/workspaces/1001/permissionassignments"), None, 200),
        ("GET", acc("/workspaces/1001/permissionassignments/permissions"), None, 200),
        (
            "PUT",
            acc(&format!("/workspaces/1001/permissionassignments/principals/{alice}")),
            Some(json!({"permissions": ["USER"]}).to_string()),
            200,
        ),
        ("GET", acc(&format!("/servicePrincipals/{sp}/credentials/secrets")), None, 200),
        ("GET", acc("/metastores"), None, 200),
        ("GET", acc(&format!("/metastores/{ms}")), None, 200),
        ("GET", acc(&format!("/metastores/{ms}/workspaces")), None, 200),
        ("GET", acc("/workspaces/1001/metastore"), None, 200),
        ("GET", acc(&format!("/metastores/{ms}/storage-credentials")), None, 200),
        ("POST", acc(&format!("/metastores/{ms}/storage-credentials")), Some(cred), 200),
        ("POST", acc("/metastores"), Some(new_ms), 200),
    ];
    let before = admin.get(&acc("/metastores")).await.ok("before");
    let users_before = admin.get(&acc("/scim/v2/Users")).await.ok("users before")["totalResults"].clone();
    // Refused first (so the admin's writes below cannot hide a refused write).
    for token in ["dapi-alice", "dapi-wsadmin", "dapi-msowner"] {
        for (method, path, body, _) in &rows {
            let res = app.with_token(token).send(method, path, body.as_deref()).await;
            let msg = res.error(403, "PERMISSION_DENIED", &format!("{token} {method} {path}"));
            assert!(msg.contains("account admin"), "{token} {method} {path}: {msg}");
        }
    }
    assert_eq!(admin.get(&acc("/metastores")).await.ok("after"), before, "refused writes change nothing");
    let users_after = admin.get(&acc("/scim/v2/Users")).await.ok("users after")["totalResults"].clone();
    assert_eq!(users_after, users_before);
    // The workspace admin is still a workspace admin (control for the fixture).
    app.with_token("dapi-wsadmin").get("/api/2.0/token-management/tokens").await.ok("workspace admin");
    app.alice().get("/api/2.0/token-management/tokens").await.error(403, "PERMISSION_DENIED", "alice");
    for (method, path, body, status) in &rows {
        let res = admin.send(method, path, body.as_deref()).await;
        assert_eq!(res.status, *status, "admin {method} {path}: {}", res.text);
    }
}
