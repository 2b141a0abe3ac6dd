//! The security rules at account level: account SCIM has the limits of workspace SCIM, workspace
//! SCIM cannot touch the account admin role, service principal secrets are shown once, and a
//! plain user or a workspace admin who is no account admin finds no account-level way to gain
//! rights (the role, groups through account SCIM or rule sets, secrets of service principals it
//! may "use", workspace assignments of itself). Every refusal is checked against a full database
//! dump taken before it.

use serde_json::{json, Value};

use crate::fuzz::dump_db;
use crate::helpers::{acc, account_scim_id, enc, scim_patch, spawn_adjusted, spawn_with, TestApp, ACCOUNT, UC};

const SP_APP: &str = "6f1d1c2e-0000-4000-8000-000000000001";

/// admin: account admin. alice: plain user. wes: workspace admin of 1001 (member of `admins`),
/// not an account admin. gm: manager of group `team` (granted by the admin below), nothing else.
const FIXTURE: &str = r#"{
  "workspaces": [{"workspace_id": 1001}, {"workspace_id": 1002}],
  "users": [
    {"user_name": "admin@example.com", "account_admin": true},
    {"user_name": "alice@example.com"},
    {"user_name": "wes@example.com", "workspaces": [1001]},
    {"user_name": "gm@example.com"}
  ],
  "groups": [
    {"display_name": "admins", "members": ["admin@example.com", "wes@example.com"], "workspaces": [1001]},
    {"display_name": "team", "members": ["alice@example.com"]},
    {"display_name": "other"}
  ],
  "service_principals": [{"application_id": "6f1d1c2e-0000-4000-8000-000000000001", "display_name": "bot"}],
  "tokens": [
    {"token": "dapi-admin", "principal": "admin@example.com", "workspace_id": 1001},
    {"token": "dapi-alice", "principal": "alice@example.com", "workspace_id": 1001},
    {"token": "dapi-wes", "principal": "wes@example.com", "workspace_id": 1001},
    {"token": "dapi-gm", "principal": "gm@example.com", "workspace_id": 1001}
  ],
  "metastores": [{"name": "main", "storage_root": "s3://root/main", "owner": "admin@example.com",
                  "assignments": [{"workspace_id": 1001}]}],
  "catalogs": [{"name": "main"}]
}"#;

fn rule_sets(proxy: bool) -> String {
    if proxy {
        "/api/2.0/preview/accounts/access-control/rule-sets".to_string()
    } else {
        format!("/api/2.0/preview/accounts/{ACCOUNT}/access-control/rule-sets")
    }
}

async fn etag(app: &TestApp, name: &str) -> String {
    let r = app.admin().get(&format!("{}?name={}&etag=", rule_sets(false), enc(name))).await.ok(name);
    r["etag"].as_str().unwrap().to_string()
}

/// Sends the request as `token`, asserts the refusal (status, code, the two keys) and that the
/// database is exactly as before.
async fn refused(app: &TestApp, token: &str, method: &str, path: &str, body: Option<Value>, status: u16, code: &str) {
    let before = dump_db(app);
    let text = body.map(|b| b.to_string());
    let r = app.with_token(token).send(method, path, text.as_deref()).await;
    r.error(status, code, &format!("{token} {method} {path}"));
    assert_eq!(dump_db(app), before, "{token} {method} {path} was refused but changed the database");
}

async fn app() -> TestApp {
    let app = spawn_with(FIXTURE).await;
    // gm manages `team` (a grant on the group's rule set, as the hosted UI makes it).
    let team = account_scim_id(&app, "Groups", "displayName", "team").await;
    let name = format!("accounts/{ACCOUNT}/groups/{team}/ruleSets/default");
    let tag = etag(&app, &name).await;
    let rules = json!({"name": name, "rule_set": {"name": name, "etag": tag,
        "grant_rules": [{"role": "roles/group.manager", "principals": ["users/gm@example.com"]}]}});
    app.admin().put(&rule_sets(false), rules).await.ok("gm manages team");
    app
}

#[actix_web::test]
async fn no_account_level_way_to_gain_rights() {
    let app = app().await;
    let [alice, wes, gm] = ["alice", "wes", "gm"].map(|n| format!("{n}@example.com"));
    let (alice_id, wes_id, gm_id) = (
        account_scim_id(&app, "Users", "userName", &alice).await,
        account_scim_id(&app, "Users", "userName", &wes).await,
        account_scim_id(&app, "Users", "userName", &gm).await,
    );
    let [admins, team, other] = [
        account_scim_id(&app, "Groups", "displayName", "admins").await,
        account_scim_id(&app, "Groups", "displayName", "team").await,
        account_scim_id(&app, "Groups", "displayName", "other").await,
    ];
    let sp = account_scim_id(&app, "ServicePrincipals", "applicationId", SP_APP).await;
    let role = json!([{"value": "account_admin"}]);
    let denied = "PERMISSION_DENIED";

    for (token, me) in [("dapi-alice", &alice_id), ("dapi-wes", &wes_id), ("dapi-gm", &gm_id)] {
        // 1. Assigning itself the account admin role (PATCH path, PATCH value, PUT).
        let add = scim_patch(json!([{"op": "add", "path": "roles", "value": role}]));
        refused(&app, token, "PATCH", &acc(&format!("/scim/v2/Users/{me}")), Some(add), 403, denied).await;
        let add = scim_patch(json!([{"op": "add", "value": {"roles": role}}]));
        refused(&app, token, "PATCH", &acc(&format!("/scim/v2/Users/{me}")), Some(add), 403, denied).await;
        let email = if token == "dapi-alice" {
            &alice
        } else if token == "dapi-wes" {
            &wes
        } else {
            &gm
        };
        let put = json!({"userName": email, "roles": role});
        refused(&app, token, "PUT", &acc(&format!("/scim/v2/Users/{me}")), Some(put), 403, denied).await;
        // ... or to a group it is in, or a new principal it would control.
        let add = scim_patch(json!([{"op": "add", "path": "roles", "value": role}]));
        refused(&app, token, "PATCH", &acc(&format!("/scim/v2/Groups/{team}")), Some(add), 403, denied).await;
        let sp_body = json!({"displayName": "mine", "roles": role});
        refused(&app, token, "POST", &acc("/scim/v2/ServicePrincipals"), Some(sp_body), 403, denied).await;

        // 2. Joining a group it does not manage through account SCIM (`admins`, `other`).
        for g in [&admins, &other] {
            let join = scim_patch(json!([{"op": "add", "path": "members", "value": [{"value": me}]}]));
            refused(&app, token, "PATCH", &acc(&format!("/scim/v2/Groups/{g}")), Some(join), 403, denied).await;
            let put = json!({"displayName": "x", "members": [{"value": me}]});
            refused(&app, token, "PUT", &acc(&format!("/scim/v2/Groups/{g}")), Some(put), 403, denied).await;
        }
        // ... or through the user's own `groups`.
        let join = scim_patch(json!([{"op": "add", "path": "groups", "value": [{"value": admins}]}]));
        refused(&app, token, "PATCH", &acc(&format!("/scim/v2/Users/{me}")), Some(join), 403, denied).await;

        // 3. Rule sets: making itself manager of a group, of every group (account rule set), or
        //    manager/user of the service principal — on both paths.
        for proxy in [false, true] {
            for name in [
                format!("accounts/{ACCOUNT}/groups/{admins}/ruleSets/default"),
                format!("accounts/{ACCOUNT}/groups/{other}/ruleSets/default"),
                format!("accounts/{ACCOUNT}/ruleSets/default"),
                format!("accounts/{ACCOUNT}/servicePrincipals/{SP_APP}/ruleSets/default"),
            ] {
                let who = format!("users/{email}");
                let role = if name.contains("servicePrincipals") {
                    "roles/servicePrincipal.manager"
                } else {
                    "roles/group.manager"
                };
                let tag = etag(&app, &name).await;
                let body = json!({"name": name, "rule_set": {"name": name, "etag": tag,
                    "grant_rules": [{"role": role, "principals": [who]}]}});
                refused(&app, token, "PUT", &rule_sets(proxy), Some(body), 403, denied).await;
            }
        }

        // 4. Workspace assignment of itself (or of a group it is in) as ADMIN, in either workspace.
        for ws in [1001, 1002] {
            for principal in [me, &team] {
                let path = acc(&format!("/workspaces/{ws}/permissionassignments/principals/{principal}"));
                refused(&app, token, "PUT", &path, Some(json!({"permissions": ["ADMIN"]})), 403, denied).await;
            }
        }
        let path = acc(&format!("/workspaces/1001/permissionassignments/principals/{admins}"));
        refused(&app, token, "DELETE", &path, None, 403, denied).await;
    }

    // 5. A group manager manages its group but cannot give it (or itself) the role, cannot rename
    //    it onto `admins`, and gains nothing elsewhere.
    let gm_token = "dapi-gm";
    app.with_token(gm_token).get(&acc(&format!("/scim/v2/Groups/{team}"))).await.ok("gm reads team");
    let grant_role = scim_patch(json!([{"op": "replace", "path": "roles", "value": role}]));
    let path = acc(&format!("/scim/v2/Groups/{team}"));
    refused(&app, gm_token, "PATCH", &path, Some(grant_role), 403, denied).await;
    let put = json!({"displayName": "team", "roles": role});
    refused(&app, gm_token, "PUT", &path, Some(put), 403, "PERMISSION_DENIED").await;
    let rename = scim_patch(json!([{"op": "replace", "path": "displayName", "value": "admins"}]));
    refused(&app, gm_token, "PATCH", &path, Some(rename), 409, "RESOURCE_ALREADY_EXISTS").await;
    refused(&app, gm_token, "GET", &acc("/scim/v2/Groups"), None, 403, denied).await;
    // Nesting `admins` inside `team` changes nothing for gm (membership flows the other way) and is
    // the group manager's right; nesting `team` into `admins` is not.
    let into_admins = scim_patch(json!([{"op": "add", "path": "members", "value": [{"value": team}]}]));
    refused(&app, gm_token, "PATCH", &acc(&format!("/scim/v2/Groups/{admins}")), Some(into_admins), 403, denied).await;

    // 6. Holding roles/servicePrincipal.manager and .user on the service principal gives no
    //    secrets of it, no token for it, and no token from its endpoint.
    let name = format!("accounts/{ACCOUNT}/servicePrincipals/{SP_APP}/ruleSets/default");
    let tag = etag(&app, &name).await;
    let rules = json!({"name": name, "rule_set": {"name": name, "etag": tag, "grant_rules": [
        {"role": "roles/servicePrincipal.manager", "principals": ["users/alice@example.com"]},
        {"role": "roles/servicePrincipal.user", "principals": ["users/alice@example.com"]}]}});
    app.admin().put(&rule_sets(false), rules).await.ok("alice uses the bot");
    for path in [
        acc(&format!("/servicePrincipals/{sp}/credentials/secrets")),
        format!("/api/2.0/accounts/servicePrincipals/{sp}/credentials/secrets"),
    ] {
        refused(&app, "dapi-alice", "POST", &path, Some(json!({})), 403, denied).await;
        refused(&app, "dapi-alice", "GET", &path, None, 403, denied).await;
    }
    let obo = json!({"application_id": SP_APP, "comment": "mine"});
    refused(&app, "dapi-alice", "POST", "/api/2.0/token-management/on-behalf-of/tokens", Some(obo), 403, denied).await;
    // A workspace admin may create a secret through the proxy; alice cannot delete it.
    let proxy = format!("/api/2.0/accounts/servicePrincipals/{sp}/credentials/secrets");
    let made = app.with_token("dapi-wes").post(&proxy, json!({})).await.ok("wes makes a secret");
    let sid = made["id"].as_str().unwrap();
    refused(&app, "dapi-alice", "DELETE", &format!("{proxy}/{sid}"), None, 403, denied).await;
    // ... but not on the account path, and not for a service principal of no workspace of his.
    refused(&app, "dapi-wes", "POST", &acc(&format!("/servicePrincipals/{sp}/credentials/secrets")), None, 403, denied)
        .await;

    // 7. Permission migration and the account-level UC setup.
    let migrate = json!({"workspace_id": 1001, "from_workspace_group_name": "team", "to_account_group_name": "admins"});
    refused(&app, "dapi-alice", "POST", "/api/2.0/permissionmigration", Some(migrate), 403, denied).await;
    let ms = app.admin().get(&format!("{UC}/metastore_summary")).await.ok("summary")["metastore_id"]
        .as_str()
        .unwrap()
        .to_string();
    for token in ["dapi-alice", "dapi-wes"] {
        let owner = json!({"metastore_info": {"owner": "alice@example.com"}});
        refused(&app, token, "PUT", &acc(&format!("/metastores/{ms}")), Some(owner), 403, denied).await;
        let assign = json!({"metastore_assignment": {"default_catalog_name": "main"}});
        let path = acc(&format!("/workspaces/1002/metastores/{ms}"));
        refused(&app, token, "POST", &path, Some(assign), 403, denied).await;
    }

    // Control: the account admin may do what was refused (the refusals were about the caller).
    let add = scim_patch(json!([{"op": "add", "path": "members", "value": [{"value": alice_id}]}]));
    app.admin().patch(&acc(&format!("/scim/v2/Groups/{other}")), add).await.ok("admin adds alice");
}

#[actix_web::test]
async fn workspace_scim_cannot_grant_or_show_the_account_admin_role() {
    let app = app().await;
    let wes = account_scim_id(&app, "Users", "userName", "wes@example.com").await;
    let scim = "/api/2.0/preview/scim/v2";
    let role = json!([{"value": "account_admin"}]);
    // wes is a workspace admin: workspace SCIM writes are his, the account role is not.
    for body in [
        scim_patch(json!([{"op": "add", "path": "roles", "value": role}])),
        scim_patch(json!([{"op": "add", "value": {"roles": role}}])),
        scim_patch(json!([{"op": "replace", "path": "roles", "value": role}])),
    ] {
        refused(&app, "dapi-wes", "PATCH", &format!("{scim}/Users/{wes}"), Some(body), 400, "INVALID_PARAMETER_VALUE")
            .await;
    }
    let put = json!({"userName": "wes@example.com", "roles": role});
    refused(&app, "dapi-wes", "PUT", &format!("{scim}/Users/{wes}"), Some(put), 400, "INVALID_PARAMETER_VALUE").await;
    for (kind, body) in [
        ("Users", json!({"userName": "eve@example.com", "roles": role})),
        ("Groups", json!({"displayName": "eves", "roles": role})),
        ("ServicePrincipals", json!({"displayName": "eve-bot", "roles": role})),
    ] {
        refused(&app, "dapi-wes", "POST", &format!("{scim}/{kind}"), Some(body), 400, "INVALID_PARAMETER_VALUE").await;
    }
    // The account admin's workspace SCIM object shows no role either.
    let admin = account_scim_id(&app, "Users", "userName", "admin@example.com").await;
    let me = app.admin().get(&format!("{scim}/Users/{admin}")).await.ok("admin");
    assert!(!me.to_string().contains("account_admin"), "{me}");
    // wes is still no account admin.
    app.with_token("dapi-wes").get(&acc("/scim/v2/Users")).await.error(403, "PERMISSION_DENIED", "wes");
    // Workspace roles other than the account role (instance profiles) stay verbatim attributes.
    let arn = json!([{"value": "arn:aws:iam::123456789012:instance-profile/x"}]);
    let ok = app
        .with_token("dapi-wes")
        .patch(
            &format!("{scim}/Users/{wes}"),
            scim_patch(json!([
        {"op": "add", "path": "roles", "value": arn}])),
        )
        .await
        .ok("a workspace role");
    assert_eq!(ok["roles"], arn);
}

#[actix_web::test]
async fn account_scim_has_the_limits_of_workspace_scim() {
    let app = app().await;
    let team = account_scim_id(&app, "Groups", "displayName", "team").await;
    let alice = account_scim_id(&app, "Users", "userName", "alice@example.com").await;
    let nested = |depth: usize| format!("{}userName eq \"a\"{}", "(".repeat(depth), ")".repeat(depth));
    for base in ["/api/2.0/preview/scim/v2".to_string(), acc("/scim/v2")] {
        for kind in ["Users", "Groups", "ServicePrincipals"] {
            let attr = match kind {
                "Users" => "userName",
                _ => "displayName",
            };
            let nested = nested(32).replace("userName", attr);
            app.admin().get(&format!("{base}/{kind}?filter={}", enc(&nested))).await.ok("32 deep");
            let deep = format!("({nested})");
            let r = app.admin().get(&format!("{base}/{kind}?filter={}", enc(&deep))).await;
            let msg = r.invalid("filter", &format!("{base}/{kind} 33 deep"));
            assert!(msg.contains("32"), "{msg}");
            assert_eq!(r.json()["scimType"], "invalidFilter");
            let sized = |len: usize| format!("{attr} eq \"{}\"", "a".repeat(len - attr.len() - 6));
            assert_eq!(sized(4096).chars().count(), 4096);
            app.admin().get(&format!("{base}/{kind}?filter={}", enc(&sized(4096)))).await.ok("4096 characters");
            let r = app.admin().get(&format!("{base}/{kind}?filter={}", enc(&sized(4097)))).await;
            let msg = r.invalid("filter", &format!("{base}/{kind} too long"));
            assert!(msg.contains("4096"), "{msg}");
            assert_eq!(r.json()["scimType"], "invalidFilter");
            // A hostile depth far beyond the limit: a 400, and the server lives on.
            let hostile = "(".repeat(4_000);
            let r = app.admin().get(&format!("{base}/{kind}?filter={}", enc(&hostile))).await;
            assert_eq!(r.status, 400, "{}", r.text);
            for bad in ["startIndex=-1", "count=-1", "count=x", "startIndex=99999999999999999999"] {
                let r = app.admin().get(&format!("{base}/{kind}?{bad}")).await;
                r.invalid(bad.split('=').next().unwrap(), &format!("{base}/{kind}?{bad}"));
            }
            let page = app.admin().get(&format!("{base}/{kind}?count=0")).await.ok("count=0");
            assert_eq!(page["Resources"], json!([]), "{page}");
            let far = format!("{base}/{kind}?startIndex={}&count={}", i64::MAX, i64::MAX);
            let page = app.admin().get(&far).await.ok("far");
            assert_eq!(page["Resources"], json!([]), "{page}");
        }
        // PATCH paths: over the limits → 400 invalidPath, no operation of the request applied.
        let add = json!({"op": "add", "path": "members", "value": [{"value": alice}]});
        for (path, what) in [
            (format!("members[{}]", nested(33).replace("userName", "value")), "33 deep"),
            (format!("members[value eq \"{}\"]", "1".repeat(4096)), "too long"),
        ] {
            let before = dump_db(&app);
            let body = scim_patch(json!([add, {"op": "remove", "path": path}]));
            let r = app.admin().patch(&format!("{base}/Groups/{team}"), body).await;
            r.invalid("path", &format!("{base} {what}"));
            assert_eq!(r.json()["scimType"], "invalidPath", "{what}");
            assert_eq!(dump_db(&app), before, "{base} {what}: an operation was applied");
        }
        let ok =
            format!("members[{}]", nested(32).replace("userName", "value").replace("\"a\"", &format!("\"{alice}\"")));
        let body = scim_patch(json!([{"op": "remove", "path": ok}]));
        app.admin().patch(&format!("{base}/Groups/{team}"), body).await.ok("32 deep path");
        let body = scim_patch(json!([add]));
        app.admin().patch(&format!("{base}/Groups/{team}"), body).await.ok("alice back in team");
    }
    assert_eq!(app.anonymous().get("/healthz").await.status, 200);
}

#[actix_web::test]
async fn service_principal_secrets_and_access_tokens_are_shown_once() {
    let app = app().await;
    let sp = account_scim_id(&app, "ServicePrincipals", "applicationId", SP_APP).await;
    let path = acc(&format!("/servicePrincipals/{sp}/credentials/secrets"));
    let proxy = format!("/api/2.0/accounts/servicePrincipals/{sp}/credentials/secrets");
    let made = app.admin().post(&path, json!({"lifetime": "3600s"})).await.ok("create");
    let secret = made["secret"].as_str().unwrap().to_string();
    let hash = made["secret_hash"].as_str().unwrap().to_string();
    assert!(secret.starts_with("dose") && secret.len() >= 36, "{secret}");
    assert!(!hash.is_empty() && !secret.contains(&hash) && !hash.contains(&secret[4..]), "{hash}");
    // The token endpoint answers the access token once; its error answers echo nothing.
    let mint = |secret: &str| {
        app.anonymous()
            .request("POST", "/oidc/v1/token")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("grant_type=client_credentials&client_id={SP_APP}&client_secret={secret}"))
    };
    let minted = app.anonymous().execute(mint(&secret)).await.ok("token");
    let access = minted["access_token"].as_str().unwrap().to_string();
    let wrong = format!("{}x", &secret);
    let r = app.anonymous().execute(mint(&wrong)).await;
    r.error(401, "UNAUTHENTICATED", "wrong secret");
    assert!(!r.text.contains(&wrong) && !r.text.contains(&secret[4..20]), "{}", r.text);
    let r = app.with_token(&format!("{access}x")).get("/api/2.0/preview/scim/v2/Me").await;
    r.error(401, "UNAUTHENTICATED", "wrong access token");
    assert!(!r.text.contains(&access), "{}", r.text);
    // Nothing any admin can read afterwards carries either value.
    let mut seen = String::new();
    for p in [
        path.clone(),
        proxy.clone(),
        format!("{path}?page_size=1"),
        acc(&format!("/scim/v2/ServicePrincipals/{sp}")),
        format!("/api/2.0/preview/scim/v2/ServicePrincipals/{sp}"),
        acc("/scim/v2/ServicePrincipals"),
        "/api/2.0/token/list".to_string(),
        "/api/2.0/token-management/tokens".to_string(),
        format!("/api/2.0/preview/accounts/{ACCOUNT}/access-control/rule-sets?name=accounts/{ACCOUNT}/servicePrincipals/{SP_APP}/ruleSets/default&etag="),
    ] {
        for token in ["dapi-admin", "dapi-wes"] {
            seen.push_str(&app.with_token(token).get(&p).await.text);
        }
        seen.push_str(&app.with_token(&access).get(&p).await.text);
    }
    seen.push_str(&app.with_token(&access).get("/api/2.0/preview/scim/v2/Me").await.text);
    for value in [secret.as_str(), &secret[4..], access.as_str()] {
        assert!(!seen.contains(value), "a secret value appeared in a read answer");
    }
    // The access token is no PAT: token-management does not list it and cannot delete it.
    let listed = app.admin().get("/api/2.0/token-management/tokens").await.ok("tokens");
    assert!(!listed.to_string().contains(SP_APP), "{listed}");
    // The secret's list entry has no value, ever (also after it expired).
    let listed = app.admin().get(&path).await.ok("list");
    assert!(listed["secrets"].as_array().unwrap().iter().all(|s| s.get("secret").is_none()), "{listed}");
}

#[actix_web::test]
async fn oauth_access_tokens_really_expire() {
    // --oauth-token-lifetime 1: the token is refused once its second is over, with no help from
    // the database; its service principal signs in again with the same secret.
    let app = spawn_adjusted(FIXTURE, |a| a.oauth_token_lifetime = 1).await;
    let sp = account_scim_id(&app, "ServicePrincipals", "applicationId", SP_APP).await;
    let path = acc(&format!("/servicePrincipals/{sp}/credentials/secrets"));
    let secret = app.admin().post(&path, json!({})).await.ok("secret")["secret"].as_str().unwrap().to_string();
    let mint = || {
        app.anonymous()
            .request("POST", "/oidc/v1/token")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .basic_auth(SP_APP, Some(&secret))
            .body("grant_type=client_credentials&scope=all-apis")
    };
    let minted = app.anonymous().execute(mint()).await.ok("token");
    assert_eq!(minted["expires_in"], 1, "{minted}");
    let access = minted["access_token"].as_str().unwrap().to_string();
    let started = std::time::Instant::now();
    let me = app.with_token(&access).get("/api/2.0/preview/scim/v2/Me").await;
    if started.elapsed() < std::time::Duration::from_millis(900) {
        assert_eq!(me.status, 200, "{}", me.text);
    }
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1100)).await;
    for path in ["/api/2.0/preview/scim/v2/Me".to_string(), acc("/scim/v2/Users"), format!("{UC}/catalogs")] {
        let r = app.with_token(&access).get(&path).await;
        r.error(401, "UNAUTHENTICATED", &format!("expired token on {path}"));
        assert!(!r.text.contains(&access), "{}", r.text);
    }
    let again = app.anonymous().execute(mint()).await.ok("a new token");
    let fresh = again["access_token"].as_str().unwrap();
    assert_ne!(fresh, access);
    app.with_token(fresh).get("/api/2.0/preview/scim/v2/Me").await.ok("the new token works");
    // The default is the hosted hour.
    let hour = spawn_with(FIXTURE).await;
    let sp = account_scim_id(&hour, "ServicePrincipals", "applicationId", SP_APP).await;
    let path = acc(&format!("/servicePrincipals/{sp}/credentials/secrets"));
    let secret = hour.admin().post(&path, json!({})).await.ok("secret")["secret"].as_str().unwrap().to_string();
    let rb = hour
        .anonymous()
        .request("POST", "/oidc/v1/token")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .basic_auth(SP_APP, Some(&secret))
        .body("grant_type=client_credentials");
    assert_eq!(hour.anonymous().execute(rb).await.ok("token")["expires_in"], 3600);
}

#[actix_web::test]
async fn callers_who_are_no_account_admins_learn_nothing_about_unknown_objects() {
    let app = app().await;
    let rs = format!("/api/2.0/preview/accounts/{ACCOUNT}/access-control/rule-sets");
    let unknown: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", acc("/scim/v2/Users/1"), None),
        ("GET", acc("/scim/v2/Groups/1"), None),
        ("GET", acc("/scim/v2/ServicePrincipals/1"), None),
        ("PUT", acc("/workspaces/9999/permissionassignments/principals/1"), Some(json!({"permissions": ["USER"]}))),
        ("GET", acc("/workspaces/9999"), None),
        ("POST", acc("/servicePrincipals/1/credentials/secrets"), Some(json!({}))),
        ("POST", "/api/2.0/accounts/servicePrincipals/1/credentials/secrets".to_string(), Some(json!({}))),
        ("GET", acc("/metastores/00000000-0000-0000-0000-000000000001"), None),
        ("GET", format!("{rs}?etag=&name={}", enc(&format!("accounts/{ACCOUNT}/groups/1/ruleSets/default"))), None),
    ];
    for (method, path, body) in &unknown {
        let text = body.as_ref().map(Value::to_string);
        for token in ["dapi-alice", "dapi-wes"] {
            if token == "dapi-wes" && path.starts_with("/api/2.0/accounts/servicePrincipals") {
                continue; // a workspace admin uses the proxy: for him the lookup is the answer
            }
            let r = app.with_token(token).send(method, path, text.as_deref()).await;
            r.error(403, "PERMISSION_DENIED", &format!("{token} {method} {path}"));
        }
        let r = app.admin().send(method, path, text.as_deref()).await;
        assert_eq!(r.status, 404, "the account admin learns it does not exist: {method} {path} {}", r.text);
    }
}
