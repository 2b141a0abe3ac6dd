//! Account identity rules the other suites leave implicit: belonging through nested groups and
//! the highest permission, credentials at account level, the acting workspace of OAuth tokens,
//! the last account admin through groups and workspace SCIM, account SCIM listing and create
//! details, creator grants and roles held through groups, secret lifetimes and expiry, and the
//! token ACL for OAuth callers.

use serde_json::{json, Value};

use crate::fuzz::dump_db;
use crate::helpers::{acc, account_scim_id, enc, scim_patch, spawn_with, TestApp, ACCOUNT, UC};

const SP_APP: &str = "6f1d1c2e-0000-4000-8000-000000000001";

/// Two workspaces. `inner` (alice) is nested in `outer`, which alone is assigned to 1002 as
/// ADMIN; alice herself is a USER of 1001. bob belongs nowhere but holds a PAT of 1001.
const FIXTURE: &str = r#"{
  "workspaces": [{"workspace_id": 1001}, {"workspace_id": 1002}],
  "users": [
    {"user_name": "admin@example.com", "account_admin": true},
    {"user_name": "alice@example.com", "workspaces": [1001]},
    {"user_name": "bob@example.com", "workspaces": []}
  ],
  "groups": [
    {"display_name": "admins", "members": ["admin@example.com"]},
    {"display_name": "inner", "members": ["alice@example.com"], "workspaces": []},
    {"display_name": "outer", "members": ["inner"], "workspaces": []}
  ],
  "service_principals": [{"application_id": "6f1d1c2e-0000-4000-8000-000000000001", "display_name": "bot",
                          "workspaces": [1002, 1001]}],
  "tokens": [
    {"token": "dapi-admin", "principal": "admin@example.com", "workspace_id": 1001},
    {"token": "dapi-admin-2", "principal": "admin@example.com", "workspace_id": 1002},
    {"token": "dapi-alice", "principal": "alice@example.com", "workspace_id": 1001},
    {"token": "dapi-alice-2", "principal": "alice@example.com", "workspace_id": 1002},
    {"token": "dapi-bob", "principal": "bob@example.com", "workspace_id": 1001}
  ],
  "metastores": [{"name": "main", "storage_root": "s3://root/main", "owner": "admin@example.com",
                  "assignments": [{"workspace_id": 1001}, {"workspace_id": 1002}]}],
  "catalogs": [{"name": "main"}]
}"#;

fn assignment(ws: i64, principal: &str) -> String {
    acc(&format!("/workspaces/{ws}/permissionassignments/principals/{principal}"))
}

async fn oauth_token(app: &TestApp) -> String {
    let sp = account_scim_id(app, "ServicePrincipals", "applicationId", SP_APP).await;
    let made = app.admin().post(&acc(&format!("/servicePrincipals/{sp}/credentials/secrets")), json!({})).await;
    let secret = made.ok("secret")["secret"].as_str().unwrap().to_string();
    let rb = app
        .anonymous()
        .request("POST", "/oidc/v1/token")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .basic_auth(SP_APP, Some(secret))
        .body("grant_type=client_credentials");
    app.anonymous().execute(rb).await.ok("token")["access_token"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn belonging_follows_nested_groups_and_the_highest_permission_wins() {
    let app = spawn_with(FIXTURE).await;
    let outer = account_scim_id(&app, "Groups", "displayName", "outer").await;
    let alice2 = app.with_token("dapi-alice-2");
    let msg = alice2.get(&format!("{UC}/catalogs")).await.error(403, "PERMISSION_DENIED", "not in 1002");
    assert!(msg.contains("alice@example.com") && msg.contains("not assigned to workspace 1002"), "{msg}");
    // `outer` (holding `inner`, holding alice) assigned ADMIN in 1002: alice belongs there, as an
    // admin, and 1002's SCIM shows both groups and her.
    app.admin().put(&assignment(1002, &outer), json!({"permissions": ["ADMIN"]})).await.ok("assign outer");
    alice2.get(&format!("{UC}/catalogs")).await.ok("through outer > inner");
    alice2.get("/api/2.0/token-management/tokens").await.ok("a workspace admin of 1002");
    let groups = app.with_token("dapi-admin-2").get("/api/2.0/preview/scim/v2/Groups").await.ok("1002 groups");
    let names: Vec<&str> =
        groups["Resources"].as_array().unwrap().iter().filter_map(|g| g["displayName"].as_str()).collect();
    assert!(names.contains(&"outer") && names.contains(&"inner"), "{names:?}");
    // In 1001 she is only a USER (her own assignment), whatever she is in 1002.
    app.alice().get("/api/2.0/token-management/tokens").await.error(403, "PERMISSION_DENIED", "USER in 1001");
    // Her own USER in 1001 plus outer's ADMIN there: ADMIN wins.
    app.admin().put(&assignment(1001, &outer), json!({"permissions": ["ADMIN"]})).await.ok("outer in 1001");
    app.alice().get("/api/2.0/token-management/tokens").await.ok("ADMIN through the group wins");
    // Workspace SCIM of 1001 shows a group's members even when they do not belong (bob).
    let bob = account_scim_id(&app, "Users", "userName", "bob@example.com").await;
    let inner = account_scim_id(&app, "Groups", "displayName", "inner").await;
    app.admin()
        .patch(
            &acc(&format!("/scim/v2/Groups/{inner}")),
            scim_patch(json!([{"op": "add", "path": "members", "value": [{"value": bob}]}])),
        )
        .await
        .ok("bob into inner");
    app.with_token("dapi-bob").get(&format!("{UC}/catalogs")).await.ok("bob belongs through inner now");
    app.admin().delete(&assignment(1001, &outer)).await.ok("outer out of 1001");
    app.with_token("dapi-bob").get(&format!("{UC}/catalogs")).await.error(403, "PERMISSION_DENIED", "bob again");
    let g = app.admin().get(&format!("/api/2.0/preview/scim/v2/Groups/{inner}")).await;
    assert_eq!(g.status, 404, "inner no longer belongs to 1001: {}", g.text);
    // Deleting a principal deletes its assignments.
    let assigned = app.admin().get(&acc("/workspaces/1002/permissionassignments")).await.ok("list");
    assert!(assigned.to_string().contains(&outer), "{assigned}");
    app.admin().delete(&acc(&format!("/scim/v2/Groups/{outer}"))).await.ok("delete outer");
    let assigned = app.admin().get(&acc("/workspaces/1002/permissionassignments")).await.ok("list");
    assert!(!assigned.to_string().contains(&outer), "{assigned}");
}

#[actix_web::test]
async fn credentials_at_account_level_and_the_acting_workspace_of_oauth_tokens() {
    let app = spawn_with(FIXTURE).await;
    // Any PAT authenticates account APIs, whatever its workspace or its principal's assignments.
    app.with_token("dapi-admin-2").get(&acc("/scim/v2/Users")).await.ok("a PAT of 1002");
    let bob = account_scim_id(&app, "Users", "userName", "bob@example.com").await;
    app.admin()
        .patch(
            &acc(&format!("/scim/v2/Users/{bob}")),
            scim_patch(json!([{"op": "add", "path": "roles", "value": [{"value": "account_admin"}]}])),
        )
        .await
        .ok("bob an account admin");
    app.with_token("dapi-bob").get(&acc("/scim/v2/Users")).await.ok("an account admin of no workspace");
    app.with_token("dapi-bob").get(&format!("{UC}/catalogs")).await.error(403, "PERMISSION_DENIED", "not in 1001");
    // Revoked PATs and unknown ones: 401 at account level too.
    let made = app.admin().post("/api/2.0/token/create", json!({"comment": "short"})).await.ok("pat");
    let pat = made["token_value"].as_str().unwrap().to_string();
    app.with_token(&pat).get(&acc("/workspaces")).await.ok("fresh PAT");
    app.admin().post("/api/2.0/token/delete", json!({"token_id": made["token_info"]["token_id"]})).await.ok("revoke");
    app.with_token(&pat).get(&acc("/workspaces")).await.error(401, "UNAUTHENTICATED", "revoked PAT");
    app.with_token("dapi-nope").get(&acc("/workspaces")).await.error(401, "UNAUTHENTICATED", "unknown");

    // OAuth: without the header, the lowest workspace the service principal belongs to (1001).
    let token = oauth_token(&app).await;
    let ws = |h: Option<&str>| {
        let mut rb = app.with_token(&token).request("GET", "/api/2.0/preview/scim/v2/Users");
        if let Some(h) = h {
            rb = rb.header("X-Databricks-Workspace-Id", h);
        }
        rb
    };
    let alice = account_scim_id(&app, "Users", "userName", "alice@example.com").await;
    let seen = |body: Value| body.to_string().contains(&alice);
    assert!(seen(app.admin().execute(ws(None)).await.ok("default")), "1001 shows alice");
    assert!(!seen(app.admin().execute(ws(Some("1002"))).await.ok("1002")), "1002 does not");
    let r = app.admin().execute(ws(Some("4242"))).await;
    r.error(403, "PERMISSION_DENIED", "unknown workspace");
    let r = app.admin().execute(ws(Some("x1"))).await;
    r.invalid("X-Databricks-Workspace-Id", "not a number");
    // Unassigned from 1002: that workspace refuses it, 1001 still serves it.
    let sp = account_scim_id(&app, "ServicePrincipals", "applicationId", SP_APP).await;
    app.admin().delete(&assignment(1002, &sp)).await.ok("unassign");
    app.admin().execute(ws(Some("1002"))).await.error(403, "PERMISSION_DENIED", "not assigned");
    app.admin().execute(ws(None)).await.ok("1001");
    // Account APIs ignore the header.
    let rb = app.admin().request("GET", &acc("/workspaces")).header("X-Databricks-Workspace-Id", "4242");
    app.admin().execute(rb).await.ok("ignored");
    // An OAuth caller needs CAN_USE on the token ACL like anyone else (account users has it).
    let made = app.with_token(&token).post("/api/2.0/token/create", json!({"comment": "sp"})).await.ok("sp PAT");
    assert!(made["token_value"].as_str().is_some());
    let acl = json!({"access_control_list": [{"user_name": "admin@example.com", "permission_level": "CAN_MANAGE"}]});
    app.admin().put("/api/2.0/permissions/authorization/tokens", acl).await.ok("only admins now");
    let before = dump_db(&app);
    let msg =
        app.with_token(&token).post("/api/2.0/token/create", json!({})).await.error(403, "PERMISSION_DENIED", "acl");
    assert!(msg.contains("CAN_USE") && msg.contains("1001"), "{msg}");
    assert_eq!(dump_db(&app), before);
}

#[actix_web::test]
async fn the_last_account_admin_holds_through_groups_and_workspace_scim() {
    let app = spawn_with(FIXTURE).await;
    let admin = account_scim_id(&app, "Users", "userName", "admin@example.com").await;
    let alice = account_scim_id(&app, "Users", "userName", "alice@example.com").await;
    let inner = account_scim_id(&app, "Groups", "displayName", "inner").await;
    let outer = account_scim_id(&app, "Groups", "displayName", "outer").await;
    // `outer` carries the role: alice (through inner) is an account admin; the fixture admin's
    // own role may then go.
    let role = json!([{"op": "add", "path": "roles", "value": [{"value": "account_admin"}]}]);
    app.admin().patch(&acc(&format!("/scim/v2/Groups/{outer}")), scim_patch(role)).await.ok("outer role");
    app.alice().get(&acc("/scim/v2/Users")).await.ok("alice through outer > inner");
    let drop = json!([{"op": "remove", "path": "roles[value eq \"account_admin\"]"}]);
    app.admin().patch(&acc(&format!("/scim/v2/Users/{admin}")), scim_patch(drop)).await.ok("admin drops the role");
    app.admin().get(&acc("/scim/v2/Users")).await.error(403, "PERMISSION_DENIED", "no longer");
    let last = |r: crate::helpers::Resp, what: &str| {
        let msg = r.error(400, "INVALID_PARAMETER_VALUE", what);
        assert!(msg.contains("At least one account admin must remain"), "{what}: {msg}");
    };
    let as_alice = app.alice();
    let scim = "/api/2.0/preview/scim/v2";
    let cases: Vec<(&str, String, Option<Value>)> = vec![
        // removing alice from inner, inner from outer; deleting either group; the role off outer
        (
            "PATCH",
            acc(&format!("/scim/v2/Groups/{inner}")),
            Some(scim_patch(json!([{"op": "remove", "path": format!("members[value eq \"{alice}\"]")}]))),
        ),
        (
            "PATCH",
            acc(&format!("/scim/v2/Groups/{outer}")),
            Some(scim_patch(json!([{"op": "remove", "path": format!("members[value eq \"{inner}\"]")}]))),
        ),
        (
            "PUT",
            acc(&format!("/scim/v2/Groups/{outer}")),
            Some(json!({"displayName": "outer", "members": [{"value": inner}]})),
        ),
        ("DELETE", acc(&format!("/scim/v2/Groups/{inner}")), None),
        ("DELETE", acc(&format!("/scim/v2/Groups/{outer}")), None),
        // through workspace SCIM (alice is a workspace admin? no — the account admin is, via admins)
        (
            "PATCH",
            acc(&format!("/scim/v2/Users/{alice}")),
            Some(scim_patch(json!([{"op": "replace", "path": "active", "value": false}]))),
        ),
        ("DELETE", acc(&format!("/scim/v2/Users/{alice}")), None),
    ];
    for (method, path, body) in cases {
        let before = dump_db(&app);
        let text = body.map(|b| b.to_string());
        last(as_alice.send(method, &path, text.as_deref()).await, &format!("{method} {path}"));
        assert_eq!(dump_db(&app), before, "{method} {path}");
    }
    // Workspace SCIM too: alice is not a workspace admin of 1001, so give her ADMIN there first.
    app.with_token("dapi-alice")
        .put(&assignment(1001, &alice), json!({"permissions": ["ADMIN"]}))
        .await
        .ok("alice makes herself ADMIN (she is an account admin)");
    for (method, path, body) in [
        (
            "PATCH",
            format!("{scim}/Users/{alice}"),
            Some(scim_patch(json!([{"op": "replace", "path": "active", "value": false}]))),
        ),
        ("DELETE", format!("{scim}/Users/{alice}"), None),
        (
            "PATCH",
            format!("{scim}/Groups/{inner}"),
            Some(scim_patch(json!([{"op": "remove", "path": format!("members[value eq \"{alice}\"]")}]))),
        ),
    ] {
        let before = dump_db(&app);
        let text = body.map(|b| b.to_string());
        let r = as_alice.send(method, &path, text.as_deref()).await;
        if path.contains("Groups") && r.status == 404 {
            continue; // inner does not belong to 1001: workspace SCIM does not see it
        }
        last(r, &format!("{method} {path}"));
        assert_eq!(dump_db(&app), before, "{method} {path}");
    }
}

#[actix_web::test]
async fn account_scim_listing_and_create_details() {
    let app = spawn_with(FIXTURE).await;
    async fn list(app: &TestApp, q: &str) -> Value {
        let path = acc(&format!("/scim/v2/Users?{q}"));
        app.admin().get(&path).await.ok(&path)
    }
    let users = |q: &'static str| list(&app, q);
    let names = |v: &Value| -> Vec<String> {
        v["Resources"].as_array().unwrap().iter().map(|u| u["userName"].as_str().unwrap_or("").to_string()).collect()
    };
    // Without sortBy: by id. With it, any case of the order; sorting happens before paging.
    let by_id = users("").await;
    let ids: Vec<i64> =
        by_id["Resources"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().parse().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    let down = users("sortBy=userName&sortOrder=DESCENDING").await;
    assert_eq!(names(&down), ["bob@example.com", "alice@example.com", "admin@example.com"]);
    let page = users("sortBy=userName&sortOrder=descending&startIndex=2&count=1").await;
    assert_eq!(names(&page), ["alice@example.com"]);
    assert_eq!((page["totalResults"].as_i64(), page["itemsPerPage"].as_i64()), (Some(3), Some(1)));
    app.admin().get(&acc("/scim/v2/Users?sortBy=userName&sortOrder=up")).await.invalid("sortOrder", "bad order");
    // excludedAttributes trims, `id` stays; `account users` is never listed.
    let slim = users("excludedAttributes=emails,groups,roles,displayName,id").await;
    for u in slim["Resources"].as_array().unwrap() {
        assert!(u.get("id").is_some() && u.get("emails").is_none() && u.get("displayName").is_none(), "{u}");
    }
    let groups = app.admin().get(&acc("/scim/v2/Groups")).await.ok("groups");
    assert!(!groups.to_string().contains("account users"), "{groups}");
    // Create: an `id` sent is ignored; a name of another kind is 409 `uniqueness`; cycles are 400.
    let made = app.admin().post(&acc("/scim/v2/Groups"), json!({"displayName": "g1", "id": "42"})).await;
    assert_eq!(made.status, 201, "{}", made.text);
    let g1 = made.json()["id"].as_str().unwrap().to_string();
    assert_ne!(g1, "42");
    let r = app.admin().post(&acc("/scim/v2/Groups"), json!({"displayName": "alice@example.com"})).await;
    r.error(409, "RESOURCE_ALREADY_EXISTS", "another kind's name");
    assert_eq!(r.json()["scimType"], "uniqueness");
    let r = app.admin().post(&acc("/scim/v2/Groups"), json!({"displayName": "g2", "members": [{"value": "1"}]})).await;
    r.invalid("members[0].value", "unknown member");
    let g2 = app.admin().post(&acc("/scim/v2/Groups"), json!({"displayName": "g2", "members": [{"value": g1}]})).await;
    let g2 = g2.json()["id"].as_str().unwrap().to_string();
    let before = dump_db(&app);
    let cycle = scim_patch(json!([{"op": "add", "path": "members", "value": [{"value": g2}]}]));
    app.admin().patch(&acc(&format!("/scim/v2/Groups/{g1}")), cycle).await.error(
        400,
        "INVALID_PARAMETER_VALUE",
        "cycle",
    );
    assert_eq!(dump_db(&app), before);
    // Roles: adding one held is a no-op; `replace` sets them; PUT without `roles` removes them.
    let bob = account_scim_id(&app, "Users", "userName", "bob@example.com").await;
    let path = acc(&format!("/scim/v2/Users/{bob}"));
    for _ in 0..2 {
        let add = scim_patch(json!([{"op": "add", "path": "roles", "value": [{"value": "account_admin"}]}]));
        let r = app.admin().patch(&path, add).await.ok("add");
        assert_eq!(r["roles"], json!([{"value": "account_admin"}]));
    }
    let r = app
        .admin()
        .patch(&path, scim_patch(json!([{"op": "replace", "path": "roles", "value": []}])))
        .await
        .ok("replace");
    assert_eq!(r["roles"], json!([]));
    app.admin()
        .patch(&path, scim_patch(json!([{"op": "add", "value": {"roles": [{"value": "account_admin"}]}}])))
        .await
        .ok("add by value");
    let r = app.admin().put(&path, json!({"userName": "bob@example.com"})).await.ok("put");
    assert_eq!(r["roles"], json!([]));
    // The creator of a service principal manages it; fixture principals start with no rules.
    let sp = app.admin().post(&acc("/scim/v2/ServicePrincipals"), json!({"displayName": "made"})).await;
    let app_id = sp.json()["applicationId"].as_str().unwrap().to_string();
    let rs = format!("/api/2.0/preview/accounts/{ACCOUNT}/access-control/rule-sets?etag=&name=");
    let made = app
        .admin()
        .get(&format!("{rs}{}", enc(&format!("accounts/{ACCOUNT}/servicePrincipals/{app_id}/ruleSets/default"))))
        .await
        .ok("rs");
    assert_eq!(
        made["grant_rules"],
        json!([{"role": "roles/servicePrincipal.manager", "principals": ["users/admin@example.com"]}])
    );
    let fixture = app
        .admin()
        .get(&format!("{rs}{}", enc(&format!("accounts/{ACCOUNT}/servicePrincipals/{SP_APP}/ruleSets/default"))))
        .await
        .ok("rs");
    assert_eq!(fixture["grant_rules"], json!([]));
}

#[actix_web::test]
async fn roles_granted_to_a_group_are_held_by_its_transitive_members() {
    let app = spawn_with(FIXTURE).await;
    let outer = account_scim_id(&app, "Groups", "displayName", "outer").await;
    let g = app.admin().post(&acc("/scim/v2/Groups"), json!({"displayName": "managed"})).await;
    let g = g.json()["id"].as_str().unwrap().to_string();
    let name = format!("accounts/{ACCOUNT}/groups/{g}/ruleSets/default");
    let rs = format!("/api/2.0/preview/accounts/{ACCOUNT}/access-control/rule-sets");
    app.alice().get(&acc(&format!("/scim/v2/Groups/{g}"))).await.error(403, "PERMISSION_DENIED", "before");
    let etag = app.admin().get(&format!("{rs}?etag=&name={}", enc(&name))).await.ok("rs")["etag"].clone();
    let body = json!({"name": name, "rule_set": {"name": name, "etag": etag,
        "grant_rules": [{"role": "roles/group.manager", "principals": ["groups/outer"]}]}});
    app.admin().put(&rs, body).await.ok("outer manages");
    // alice is in inner, inner in outer: she manages the group now.
    let bob = account_scim_id(&app, "Users", "userName", "bob@example.com").await;
    let add = scim_patch(json!([{"op": "add", "path": "members", "value": [{"value": bob}]}]));
    app.alice().patch(&acc(&format!("/scim/v2/Groups/{g}")), add).await.ok("alice manages through outer");
    let _ = outer;
}

#[actix_web::test]
async fn secret_lifetimes_scopes_and_expiry() {
    let app = spawn_with(FIXTURE).await;
    let sp = account_scim_id(&app, "ServicePrincipals", "applicationId", SP_APP).await;
    let path = acc(&format!("/servicePrincipals/{sp}/credentials/secrets"));
    let made = app.admin().post(&path, json!({"lifetime": "7200"})).await.ok("no suffix");
    let (created, expires) = (made["create_time"].as_str().unwrap(), made["expire_time"].as_str().unwrap());
    let t = |s: &str| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap().unix_timestamp()
    };
    assert_eq!(t(expires) - t(created), 7200);
    assert!(created.ends_with('Z') && !created.contains('.'), "{created}");
    for bad in [json!({"scopes": "sql"}), json!({"scopes": [1]}), json!({"lifetime": 60})] {
        let field = bad.as_object().unwrap().keys().next().unwrap().clone();
        let before = dump_db(&app);
        app.admin().post(&path, bad).await.invalid(&field, "bad field");
        assert_eq!(dump_db(&app), before);
    }
    for bad in ["0", "-1", "x", "1.5", "99999999999999999999"] {
        app.admin().get(&format!("{path}?page_size={bad}")).await.invalid("page_size", bad);
    }
    // A secret of one second: listed EXPIRED afterwards and refused by the token endpoint.
    let short = app.admin().post(&path, json!({"lifetime": "1s", "scopes": ["sql"]})).await.ok("short");
    assert_eq!(short["scopes"], json!(["sql"]));
    let secret = short["secret"].as_str().unwrap().to_string();
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1100)).await;
    let listed = app.admin().get(&path).await.ok("list");
    let entry = listed["secrets"].as_array().unwrap().iter().find(|s| s["id"] == short["id"]).unwrap().clone();
    assert_eq!(entry["status"], "EXPIRED", "{entry}");
    let rb = app
        .anonymous()
        .request("POST", "/oidc/v1/token")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .basic_auth(SP_APP, Some(&secret))
        .body("grant_type=client_credentials&scope=sql");
    let r = app.anonymous().execute(rb).await;
    r.error(401, "UNAUTHENTICATED", "expired secret");
    assert_eq!(r.json()["error"], "invalid_client");
}

#[actix_web::test]
async fn belonging_is_checked_on_every_workspace_path_but_not_on_the_public_ones() {
    let app = spawn_with(FIXTURE).await;
    let bob = app.with_token("dapi-bob");
    let table = json!({"table_id": "00000000-0000-0000-0000-000000000000", "operation": "READ"});
    let path = json!({"url": "s3://root/main/x", "operation": "PATH_READ"});
    for (method, p, body) in [
        ("POST", format!("{UC}/temporary-table-credentials"), Some(table)),
        ("POST", format!("{UC}/temporary-path-credentials"), Some(path)),
        ("GET", "/api/2.0/fs/directories/Volumes/main/default/v".to_string(), None),
        ("GET", format!("{UC}/user-info/me"), None),
        ("GET", "/api/2.0/preview/scim/v2/Me".to_string(), None),
        ("GET", "/api/2.0/token/list".to_string(), None),
        ("GET", "/api/2.0/preview/accounts/access-control/rule-sets?name=x&etag=".to_string(), None),
    ] {
        let text = body.map(|b| b.to_string());
        let msg = bob.send(method, &p, text.as_deref()).await.error(403, "PERMISSION_DENIED", &p);
        assert!(msg.contains("bob@example.com is not assigned to workspace 1001"), "{p}: {msg}");
    }
    // Paths that take no workspace credential answer as for anyone.
    assert_eq!(bob.get("/api/openapi.json").await.status, 200);
    let ms = app.admin().get(&format!("{UC}/metastore_summary")).await.ok("summary")["metastore_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = bob.get(&format!("/api/2.0/delta-sharing/metastores/{ms}/shares")).await;
    assert_eq!(r.status, 401, "the sharing server authenticates recipients only: {}", r.text);
}

#[actix_web::test]
async fn the_proxy_lets_anyone_of_the_workspace_read_assignable_roles_and_rule_sets() {
    let app = spawn_with(FIXTURE).await;
    let inner = account_scim_id(&app, "Groups", "displayName", "inner").await;
    let resource = format!("accounts/{ACCOUNT}/groups/{inner}");
    let proxy = "/api/2.0/preview/accounts/access-control";
    let account = format!("/api/2.0/preview/accounts/{ACCOUNT}/access-control");
    let roles = app.alice().get(&format!("{proxy}/assignable-roles?resource={}", enc(&resource))).await.ok("proxy");
    assert_eq!(roles, json!({"roles": [{"name": "roles/group.manager"}]}));
    let name = enc(&format!("{resource}/ruleSets/default"));
    app.alice().get(&format!("{proxy}/rule-sets?etag=&name={name}")).await.ok("proxy read");
    // The account paths are for account admins and managers; unassigned callers have no proxy.
    app.alice().get(&format!("{account}/assignable-roles?resource={}", enc(&resource))).await.error(
        403,
        "PERMISSION_DENIED",
        "account path",
    );
    app.alice().get(&format!("{account}/rule-sets?etag=&name={name}")).await.error(403, "PERMISSION_DENIED", "account");
    let r = app.with_token("dapi-bob").get(&format!("{proxy}/assignable-roles?resource={}", enc(&resource))).await;
    r.error(403, "PERMISSION_DENIED", "bob belongs to no workspace");
}
