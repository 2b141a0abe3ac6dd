//! The SCIM 2.0 identity API over plain HTTP (the Databricks SCIM API's shapes): list paging, filters,
//! sorting and trimming, create / replace / patch / delete, the SCIM error shape, rejected
//! requests that change nothing, and the live effect of identity changes on Unity Catalog.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::helpers::{enc, spawn, Resp, TestApp, ADMIN, ALICE, UC};

const SCIM: &str = "/api/2.0/preview/scim/v2";
const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const SP: &str = "6f1d1c2e-0000-4000-8000-000000000001";

fn path(kind: &str, id: &str) -> String {
    format!("{SCIM}/{kind}/{id}")
}

fn list_path(kind: &str, query: &[(&str, &str)]) -> String {
    let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect();
    if q.is_empty() {
        format!("{SCIM}/{kind}")
    } else {
        format!("{SCIM}/{kind}?{}", q.join("&"))
    }
}

/// A create / replace / patch answer: 200 or 201 with a JSON object carrying an id.
fn written(res: &Resp, what: &str) -> Value {
    assert!(res.status == 200 || res.status == 201, "{what}: {} {}", res.status, res.text);
    let body = res.json();
    assert!(body["id"].is_string(), "{what}: no id in {body}");
    body
}

/// Asserts SCIM's error shape and the emulator's keys; returns the body.
fn scim_error(res: &Resp, status: u16, what: &str) -> Value {
    assert_eq!(res.status, status, "{what}: expected {status}, got {}", res.text);
    assert!(res.content_type().starts_with("application/json"), "{what}: {:?}", res.content_type());
    let body = res.json();
    assert_eq!(body["schemas"], json!([ERROR_URN]), "{what}: {body}");
    assert_eq!(body["status"], json!(status.to_string()), "{what}: status must be a string: {body}");
    assert!(body["detail"].as_str().is_some_and(|s| !s.is_empty()), "{what}: detail: {body}");
    assert!(body["error_code"].as_str().is_some_and(|s| !s.is_empty()), "{what}: error_code: {body}");
    assert!(body["message"].as_str().is_some_and(|s| !s.is_empty()), "{what}: message: {body}");
    body
}

async fn list(app: &TestApp, kind: &str, query: &[(&str, &str)]) -> Value {
    app.admin().get(&list_path(kind, query)).await.ok(&format!("list {kind} {query:?}"))
}

/// The values of `attr` of a list answer's `Resources`, in order.
fn attr(body: &Value, attr: &str) -> Vec<String> {
    body["Resources"]
        .as_array()
        .unwrap_or_else(|| panic!("no Resources in {body}"))
        .iter()
        .map(|r| r[attr].as_str().unwrap_or_else(|| panic!("no {attr} in {r}")).to_string())
        .collect()
}

async fn id_of(app: &TestApp, kind: &str, filter: &str) -> String {
    let body = list(app, kind, &[("filter", filter)]).await;
    let ids = attr(&body, "id");
    assert_eq!(ids.len(), 1, "{kind} {filter}: {body}");
    ids[0].clone()
}

async fn user_id(app: &TestApp, name: &str) -> String {
    id_of(app, "Users", &format!("userName eq \"{name}\"")).await
}

async fn group_id(app: &TestApp, name: &str) -> String {
    id_of(app, "Groups", &format!("displayName eq \"{name}\"")).await
}

async fn create(app: &TestApp, kind: &str, body: Value) -> Value {
    written(&app.admin().post(&format!("{SCIM}/{kind}"), body.clone()).await, &format!("create {kind} {body}"))
}

fn patch_body(ops: Value) -> Value {
    json!({"schemas": [PATCH_URN], "Operations": ops})
}

async fn get(app: &TestApp, kind: &str, id: &str) -> Value {
    app.admin().get(&path(kind, id)).await.ok(&format!("get {kind} {id}"))
}

fn member_names(group: &Value) -> Vec<String> {
    let mut v: Vec<String> = group["members"]
        .as_array()
        .map(|a| a.iter().map(|m| m["display"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn group_names(principal: &Value) -> Vec<String> {
    let mut v: Vec<String> = principal["groups"]
        .as_array()
        .map(|a| a.iter().map(|m| m["display"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

async fn grant(app: &TestApp, sec: &str, name: &str, principal: &str, privileges: Value) {
    app.admin()
        .patch(
            &format!("{UC}/permissions/{sec}/{name}"),
            json!({"changes": [{"principal": principal, "add": privileges}]}),
        )
        .await
        .ok("grant");
}

async fn grantees(app: &TestApp, sec: &str, name: &str) -> Vec<String> {
    let body = app.admin().get(&format!("{UC}/permissions/{sec}/{name}")).await.ok("get permissions");
    let mut v: Vec<String> = body["privilege_assignments"]
        .as_array()
        .map(|a| a.iter().map(|p| p["principal"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[actix_web::test]
async fn ids_are_numeric_strings_unique_across_kinds_and_create_answers_the_object() {
    let app = spawn().await;
    let user = create(&app, "Users", json!({"userName": "dave@example.com", "displayName": "Dave"})).await;
    assert_eq!(user["userName"], "dave@example.com");
    assert_eq!(user["displayName"], "Dave");
    assert_eq!(user["active"], true);
    let group = create(&app, "Groups", json!({"displayName": "readers", "members": [{"value": user["id"]}]})).await;
    assert_eq!(member_names(&group), vec!["Dave"]);
    assert_eq!(group["members"][0]["value"], user["id"]);
    let sp = create(&app, "ServicePrincipals", json!({"displayName": "bot"})).await;
    assert!(uuid_like(sp["applicationId"].as_str().unwrap()), "{sp}");
    assert_eq!(sp["displayName"], "bot");

    let mut ids = Vec::new();
    for kind in ["Users", "Groups", "ServicePrincipals"] {
        ids.extend(attr(&list(&app, kind, &[]).await, "id"));
    }
    assert_eq!(ids.len(), 3 + 3 + 2, "{ids:?}"); // admin, alice, dave; analysts, admins, readers; two SPs
    for id in &ids {
        let n: i64 = id.parse().unwrap_or_else(|_| panic!("id {id:?} is not a decimal integer"));
        assert!(n > 0, "id {id}");
    }
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len(), "ids must be unique across kinds: {ids:?}");
    // The user's `groups` names the group it was put in.
    assert_eq!(group_names(&get(&app, "Users", user["id"].as_str().unwrap()).await), vec!["readers"]);
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4
}

#[actix_web::test]
async fn lists_page_by_start_index_and_count_in_id_order() {
    let app = spawn().await;
    for i in 0..5 {
        create(&app, "Users", json!({"userName": format!("p{i}@example.com")})).await;
    }
    let all = list(&app, "Users", &[]).await;
    assert_eq!(all["totalResults"], 7);
    assert_eq!(all["startIndex"], 1);
    assert_eq!(all["itemsPerPage"], 7);
    let ids = attr(&all, "id");
    let mut sorted = ids.clone();
    sorted.sort_by_key(|i| i.parse::<i64>().unwrap());
    assert_eq!(ids, sorted, "ordered by id");

    let mut paged = Vec::new();
    let mut start = 1;
    loop {
        let s = start.to_string();
        let page = list(&app, "Users", &[("startIndex", &s), ("count", "2")]).await;
        assert_eq!(page["totalResults"], 7);
        assert_eq!(page["startIndex"], start);
        let got = attr(&page, "id");
        assert_eq!(page["itemsPerPage"], got.len());
        assert!(got.len() <= 2);
        if got.is_empty() {
            break;
        }
        start += got.len();
        paged.extend(got);
    }
    assert_eq!(paged, ids);
    let past = list(&app, "Users", &[("startIndex", "100")]).await;
    assert_eq!(past["Resources"], json!([]));

    // paging a filtered list
    let filtered = list(&app, "Users", &[("filter", "userName sw \"p\""), ("count", "2"), ("startIndex", "5")]).await;
    assert_eq!(filtered["totalResults"], 5);
    assert_eq!(attr(&filtered, "userName").len(), 1);
}

#[actix_web::test]
async fn filters_sorting_and_trimming() {
    let app = spawn().await;
    create(&app, "Users", json!({"userName": "Zoe@Example.com", "displayName": "zoe"})).await;
    create(&app, "Users", json!({"userName": "off@example.com", "displayName": "Off", "active": false})).await;
    let users = |f: &'static str| {
        let app = &app;
        async move {
            let mut v = attr(&list(app, "Users", &[("filter", f)]).await, "userName");
            v.sort();
            v
        }
    };
    assert_eq!(users("userName eq \"Zoe@Example.com\"").await, vec!["Zoe@Example.com"]);
    assert!(users("userName eq \"zoe@example.com\"").await.is_empty(), "eq on userName is case-sensitive");
    assert_eq!(users("userName co \"ZOE@\"").await, vec!["Zoe@Example.com"]);
    assert_eq!(users("userName sw \"ALI\"").await, vec!["alice@example.com"]);
    assert_eq!(users("displayName eq \"ZOE\"").await, vec!["Zoe@Example.com"]);
    assert_eq!(users("emails.value co \"ALICE\"").await, vec!["alice@example.com"]);
    assert_eq!(users("active eq false").await, vec!["off@example.com"]);
    assert_eq!(
        users("userName sw \"a\" or userName sw \"o\"").await,
        vec!["admin@example.com", "alice@example.com", "off@example.com"]
    );
    assert_eq!(users("userName sw \"a\" and displayName co \"ada\"").await, vec!["admin@example.com"]);
    assert_eq!(
        users("(userName sw \"a\" or userName sw \"z\") and (displayName co \"o\" or displayName eq \"alice\")").await,
        vec!["Zoe@Example.com", "alice@example.com"]
    );
    assert_eq!(
        attr(&list(&app, "Groups", &[("filter", "displayName co \"NALY\"")]).await, "displayName"),
        vec!["analysts"]
    );
    assert_eq!(
        attr(
            &list(&app, "ServicePrincipals", &[("filter", &format!("applicationId eq \"{SP}\""))]).await,
            "displayName"
        ),
        vec!["etl-bot"]
    );
    let upper = SP.to_uppercase();
    assert!(attr(
        &list(&app, "ServicePrincipals", &[("filter", &format!("applicationId eq \"{upper}\""))]).await,
        "id"
    )
    .is_empty());

    // sorting
    let asc = attr(&list(&app, "Users", &[("sortBy", "userName"), ("sortOrder", "ascending")]).await, "userName");
    assert_eq!(asc, vec!["admin@example.com", "alice@example.com", "off@example.com", "Zoe@Example.com"]);
    let desc =
        attr(&list(&app, "Users", &[("sortBy", "displayName"), ("sortOrder", "descending")]).await, "displayName");
    assert_eq!(desc, vec!["zoe", "Off", "Alice", "Ada Admin"]);
    let page = attr(
        &list(
            &app,
            "Users",
            &[("sortBy", "userName"), ("sortOrder", "descending"), ("count", "1"), ("startIndex", "2")],
        )
        .await,
        "userName",
    );
    assert_eq!(page, vec!["off@example.com"], "sorting comes before paging");

    // trimming
    let trimmed = list(&app, "Users", &[("attributes", "userName")]).await;
    for r in trimmed["Resources"].as_array().unwrap() {
        let keys: HashSet<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert!(keys.contains("id") && keys.contains("userName"), "{r}");
        for k in ["displayName", "emails", "groups", "active"] {
            assert!(!keys.contains(k), "{k} should be trimmed: {r}");
        }
    }
    let excluded = list(&app, "Groups", &[("excludedAttributes", "id,members")]).await;
    for r in excluded["Resources"].as_array().unwrap() {
        assert!(r["id"].is_string() && r["displayName"].is_string(), "{r}");
        assert!(r.get("members").is_none(), "{r}");
    }
    let alice = user_id(&app, "alice@example.com").await;
    let one = app.admin().get(&format!("{}?attributes=displayName", path("Users", &alice))).await.ok("get trimmed");
    assert_eq!(one["id"], json!(alice));
    assert_eq!(one["displayName"], "Alice");
    assert!(one.get("userName").is_none(), "{one}");
}

#[actix_web::test]
async fn scim_errors_have_the_scim_shape() {
    let app = spawn().await;
    let b = scim_error(&app.admin().get(&path("Users", "12345")).await, 404, "unknown user");
    assert_eq!(b["error_code"], "RESOURCE_DOES_NOT_EXIST");
    let analysts = group_id(&app, "analysts").await;
    scim_error(&app.admin().get(&path("Users", &analysts)).await, 404, "a group id under Users");
    scim_error(&app.admin().delete(&path("Groups", "nope")).await, 404, "non-numeric id");

    for (kind, filter) in [
        ("Users", "userName eq \"x"),
        ("Users", "userName eq \"x\" and"),
        ("Users", "(userName eq \"x\""),
        ("Users", "userName gt \"x\""),
        ("Users", "nickName eq \"x\""),
        ("Groups", "userName eq \"x\""),
        ("ServicePrincipals", "userName eq \"x\""),
    ] {
        let b = scim_error(&app.admin().get(&list_path(kind, &[("filter", filter)])).await, 400, filter);
        assert_eq!(b["scimType"], "invalidFilter", "{filter}: {b}");
    }

    let b = scim_error(
        &app.admin().post(&format!("{SCIM}/Users"), json!({"userName": "alice@example.com"})).await,
        409,
        "dup user",
    );
    assert_eq!(b["error_code"], "RESOURCE_ALREADY_EXISTS");
    assert_eq!(b["scimType"], "uniqueness");
    let b =
        scim_error(&app.alice().post(&format!("{SCIM}/Groups"), json!({"displayName": "x"})).await, 403, "non-admin");
    assert_eq!(b["error_code"], "PERMISSION_DENIED");
}

#[actix_web::test]
async fn names_are_unique_across_kinds_and_account_users_is_implicit() {
    let app = spawn().await;
    let cases = [
        ("Users", json!({"userName": "admin@example.com"})),
        ("Groups", json!({"displayName": "admins"})),
        ("Groups", json!({"displayName": "alice@example.com"})),
        ("Groups", json!({"displayName": SP})),
        ("Users", json!({"userName": "analysts"})),
        ("ServicePrincipals", json!({"applicationId": SP, "displayName": "again"})),
    ];
    for (kind, body) in cases {
        let b = scim_error(
            &app.admin().post(&format!("{SCIM}/{kind}"), body.clone()).await,
            409,
            &format!("{kind} {body}"),
        );
        assert_eq!(b["error_code"], "RESOURCE_ALREADY_EXISTS", "{body}");
    }
    let res = app.admin().post(&format!("{SCIM}/Groups"), json!({"displayName": "account users"})).await;
    assert!(res.status == 409 || res.status == 400, "account users created? {} {}", res.status, res.text);
    let groups = attr(&list(&app, "Groups", &[]).await, "displayName");
    assert_eq!(
        groups.iter().collect::<HashSet<_>>(),
        ["analysts", "admins"].iter().map(|s| s.to_string()).collect::<Vec<_>>().iter().collect()
    );
    for r in list(&app, "Users", &[]).await["Resources"].as_array().unwrap() {
        assert!(!group_names(r).contains(&"account users".to_string()), "{r}");
    }
    assert_eq!(list(&app, "Users", &[]).await["totalResults"], 2);
}

#[actix_web::test]
async fn non_admins_read_but_do_not_write() {
    let app = spawn().await;
    let alice = user_id(&app, "alice@example.com").await;
    let analysts = group_id(&app, "analysts").await;
    let caller = app.alice();
    assert_eq!(caller.get(&list_path("Users", &[])).await.ok("list")["totalResults"], 2);
    caller.get(&path("Groups", &analysts)).await.ok("get group");
    caller.get(&format!("{SCIM}/ServicePrincipals")).await.ok("list sps");
    assert_eq!(caller.get(&format!("{SCIM}/Me")).await.ok("Me")["id"], json!(alice));

    let before =
        (list(&app, "Users", &[]).await, list(&app, "Groups", &[]).await, list(&app, "ServicePrincipals", &[]).await);
    let writes: Vec<(&str, String, Option<Value>)> = vec![
        ("POST", format!("{SCIM}/Users"), Some(json!({"userName": "x@example.com"}))),
        ("POST", format!("{SCIM}/Groups"), Some(json!({"displayName": "x"}))),
        ("POST", format!("{SCIM}/ServicePrincipals"), Some(json!({"displayName": "x"}))),
        ("PUT", path("Users", &alice), Some(json!({"userName": "alice@example.com", "displayName": "Hacked"}))),
        (
            "PATCH",
            path("Groups", &analysts),
            Some(patch_body(json!([{"op": "replace", "value": {"displayName": "mine"}}]))),
        ),
        (
            "PATCH",
            path("Users", &alice),
            Some(patch_body(json!([{"op": "replace", "path": "active", "value": false}]))),
        ),
        ("DELETE", path("Groups", &analysts), None),
        ("DELETE", path("Users", &alice), None),
    ];
    for (method, p, body) in writes {
        let b = body.map(|b| b.to_string());
        let res = caller.send(method, &p, b.as_deref()).await;
        let e = scim_error(&res, 403, &format!("{method} {p}"));
        assert_eq!(e["error_code"], "PERMISSION_DENIED");
    }
    let after =
        (list(&app, "Users", &[]).await, list(&app, "Groups", &[]).await, list(&app, "ServicePrincipals", &[]).await);
    assert_eq!(before, after, "a denied write changed something");
}

#[actix_web::test]
async fn put_replace_and_patch_operations() {
    let app = spawn().await;
    let alice = user_id(&app, "alice@example.com").await;
    let admin = user_id(&app, "admin@example.com").await;
    let g = create(&app, "Groups", json!({"displayName": "team"})).await;
    let gid = g["id"].as_str().unwrap().to_string();
    let gp = path("Groups", &gid);

    // `op` in any case; add, remove by path, replace displayName
    let res = app
        .admin()
        .patch(&gp, patch_body(json!([{"op": "ADD", "value": {"members": [{"value": alice}, {"value": admin}]}}])))
        .await;
    assert_eq!(member_names(&written(&res, "add")), vec!["Ada Admin", "Alice"]);
    let res = app
        .admin()
        .patch(&gp, patch_body(json!([{"op": "Remove", "path": format!("members[value eq \"{admin}\"]")}])))
        .await;
    assert_eq!(member_names(&written(&res, "remove")), vec!["Alice"]);
    let res = app.admin().patch(&gp, patch_body(json!([{"op": "replace", "value": {"displayName": "team2"}}]))).await;
    assert_eq!(written(&res, "rename")["displayName"], "team2");
    // without `schemas`
    let res = app
        .admin()
        .patch(&gp, json!({"Operations": [{"op": "replace", "path": "displayName", "value": "team3"}]}))
        .await;
    assert_eq!(written(&res, "no schemas")["displayName"], "team3");
    assert_eq!(get(&app, "Groups", &gid).await["displayName"], "team3");

    // PUT replaces members and name
    let res = app.admin().put(&gp, json!({"displayName": "team4", "members": [{"value": admin}]})).await;
    written(&res, "put group");
    let got = get(&app, "Groups", &gid).await;
    assert_eq!(got["displayName"], "team4");
    assert_eq!(member_names(&got), vec!["Ada Admin"]);
    assert!(!group_names(&get(&app, "Users", &alice).await).contains(&"team4".to_string()));

    // user attributes kept verbatim
    let res = app
        .admin()
        .patch(
            &path("Users", &alice),
            patch_body(json!([
                {"op": "add", "path": "entitlements", "value": [{"value": "workspace-access"}]},
                {"op": "replace", "value": {"name": {"givenName": "Al"}, "displayName": "Alice A."}}
            ])),
        )
        .await;
    written(&res, "patch user");
    let u = get(&app, "Users", &alice).await;
    assert_eq!(u["displayName"], "Alice A.");
    assert_eq!(u["entitlements"], json!([{"value": "workspace-access"}]));
    assert_eq!(u["name"]["givenName"], "Al");
    assert_eq!(u["userName"], "alice@example.com");

    // DELETE -> 200 {}
    let res = app.admin().delete(&gp).await;
    assert_eq!(res.ok("delete"), json!({}));
    scim_error(&app.admin().get(&gp).await, 404, "deleted group");
    scim_error(&app.admin().delete(&gp).await, 404, "deleted twice");
}

#[actix_web::test]
async fn rejected_patches_and_cycles_change_nothing() {
    let app = spawn().await;
    let a = create(&app, "Groups", json!({"displayName": "A"})).await["id"].as_str().unwrap().to_string();
    let b = create(&app, "Groups", json!({"displayName": "B", "members": [{"value": a}]})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let alice = user_id(&app, "alice@example.com").await;
    let snapshot = || async {
        (
            get(&app, "Groups", &a).await,
            get(&app, "Groups", &b).await,
            get(&app, "Users", &alice).await,
            list(&app, "Groups", &[]).await,
        )
    };
    let before = snapshot().await;
    let rename = json!({"op": "replace", "value": {"displayName": "renamed"}});
    let add_alice = json!({"op": "add", "value": {"members": [{"value": alice}]}});
    let cases: Vec<(&str, String, Value)> = vec![
        (
            "B in A (cycle)",
            a.clone(),
            patch_body(json!([rename, add_alice, {"op": "add", "value": {"members": [{"value": b}]}}])),
        ),
        ("A in A", a.clone(), patch_body(json!([{"op": "add", "value": {"members": [{"value": a}]}}]))),
        ("unknown op", a.clone(), patch_body(json!([rename, {"op": "move", "path": "members"}]))),
        ("unknown path", a.clone(), patch_body(json!([rename, {"op": "replace", "path": "nickName", "value": "x"}]))),
        (
            "unknown member",
            a.clone(),
            patch_body(json!([add_alice, {"op": "add", "value": {"members": [{"value": "987654321"}]}}])),
        ),
        (
            "remove unknown member",
            a.clone(),
            patch_body(json!([rename, {"op": "remove", "path": "members[value eq \"987654321\"]"}])),
        ),
        (
            "wrong schemas",
            a.clone(),
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "Operations": [rename]}),
        ),
        (
            "user: unknown op",
            alice.clone(),
            patch_body(json!([{"op": "replace", "value": {"displayName": "X"}}, {"op": "copy"}])),
        ),
    ];
    for (what, id, body) in cases {
        let kind = if id == alice { "Users" } else { "Groups" };
        let res = app.admin().patch(&path(kind, &id), body).await;
        scim_error(&res, 400, what);
        assert_eq!(snapshot().await, before, "{what} changed something");
    }
    // PUT making a cycle, and a create naming an unknown member
    scim_error(
        &app.admin().put(&path("Groups", &a), json!({"displayName": "A", "members": [{"value": b}]})).await,
        400,
        "PUT cycle",
    );
    scim_error(
        &app.admin()
            .post(&format!("{SCIM}/Groups"), json!({"displayName": "C", "members": [{"value": "987654321"}]}))
            .await,
        400,
        "create with unknown member",
    );
    assert_eq!(snapshot().await, before);
}

#[actix_web::test]
async fn membership_changes_take_effect_on_the_next_request() {
    let app = spawn().await;
    let alice = user_id(&app, "alice@example.com").await;
    let g = create(&app, "Groups", json!({"displayName": "readers"})).await["id"].as_str().unwrap().to_string();
    grant(&app, "catalog", "main", "readers", json!(["USE_CATALOG"])).await;
    let main = format!("{UC}/catalogs/main");
    app.alice().get(&main).await.error(403, "PERMISSION_DENIED", "before joining");

    app.admin()
        .patch(&path("Groups", &g), patch_body(json!([{"op": "add", "value": {"members": [{"value": alice}]}}])))
        .await
        .ok("join");
    app.alice().get(&main).await.ok("after joining");
    app.admin()
        .patch(
            &path("Groups", &g),
            patch_body(json!([{"op": "remove", "path": format!("members[value eq \"{alice}\"]")}])),
        )
        .await
        .ok("leave");
    app.alice().get(&main).await.error(403, "PERMISSION_DENIED", "after leaving");

    // through a nested group: alice's `analysts` joins readers
    let analysts = group_id(&app, "analysts").await;
    app.admin()
        .patch(&path("Groups", &g), patch_body(json!([{"op": "add", "value": {"members": [{"value": analysts}]}}])))
        .await
        .ok("nest");
    app.alice().get(&main).await.ok("through analysts");
}

#[actix_web::test]
async fn deactivation_stops_a_token_at_once_and_reactivation_restores_it() {
    let app = spawn().await;
    let alice = user_id(&app, "alice@example.com").await;
    grant(&app, "catalog", "main", "analysts", json!(["USE_CATALOG"])).await;
    let main = format!("{UC}/catalogs/main");
    app.alice().get(&main).await.ok("active");
    let up = path("Users", &alice);
    app.admin()
        .patch(&up, patch_body(json!([{"op": "replace", "path": "active", "value": false}])))
        .await
        .ok("deactivate");
    app.alice().get(&main).await.error(401, "UNAUTHENTICATED", "deactivated");
    app.alice().get(&format!("{SCIM}/Me")).await.error(401, "UNAUTHENTICATED", "deactivated Me");
    app.admin()
        .put(&up, json!({"userName": "alice@example.com", "displayName": "Alice", "active": true}))
        .await
        .ok("reactivate");
    app.alice().get(&main).await.ok("reactivated");
    app.admin().put(&up, json!({"userName": "alice@example.com", "active": false})).await.ok("PUT inactive");
    app.alice().get(&main).await.error(401, "UNAUTHENTICATED", "PUT inactive");
    app.admin().patch(&up, patch_body(json!([{"op": "replace", "value": {"active": true}}]))).await.ok("patch active");
    app.alice().get(&main).await.ok("reactivated by patch");
}

#[actix_web::test]
async fn rename_and_delete_keep_uc_references() {
    let app = spawn().await;
    let analysts = group_id(&app, "analysts").await;
    app.admin().create_catalog("team_cat").await;
    app.admin().patch(&format!("{UC}/catalogs/team_cat"), json!({"owner": "analysts"})).await.ok("owner");
    grant(&app, "catalog", "main", "analysts", json!(["USE_CATALOG"])).await;
    app.alice().get(&format!("{UC}/catalogs/main")).await.ok("alice via analysts");

    let res = app
        .admin()
        .patch(
            &path("Groups", &analysts),
            patch_body(json!([{"op": "replace", "value": {"displayName": "analysts-2"}}])),
        )
        .await;
    written(&res, "rename");
    assert_eq!(grantees(&app, "catalog", "main").await, vec!["analysts-2"]);
    assert_eq!(app.admin().get(&format!("{UC}/catalogs/team_cat")).await.ok("get")["owner"], "analysts-2");
    app.alice().get(&format!("{UC}/catalogs/main")).await.ok("alice keeps access");
    app.alice()
        .patch(&format!("{UC}/catalogs/team_cat"), json!({"comment": "as owner"}))
        .await
        .ok("alice owns via group");

    // delete a user: tokens stop, groups forget them, owned objects keep the name, grants go
    let alice = user_id(&app, "alice@example.com").await;
    grant(&app, "catalog", "team_cat", "alice@example.com", json!(["BROWSE"])).await;
    app.admin().create_catalog("alice_own").await;
    app.admin()
        .patch(&format!("{UC}/catalogs/alice_own"), json!({"owner": "alice@example.com"}))
        .await
        .ok("owner alice");
    assert_eq!(app.admin().delete(&path("Users", &alice)).await.ok("delete alice"), json!({}));
    app.alice().get(&format!("{SCIM}/Me")).await.error(401, "UNAUTHENTICATED", "deleted user's token");
    assert!(member_names(&get(&app, "Groups", &analysts).await).is_empty());
    assert_eq!(app.admin().get(&format!("{UC}/catalogs/alice_own")).await.ok("get")["owner"], "alice@example.com");
    assert!(!grantees(&app, "catalog", "team_cat").await.contains(&"alice@example.com".to_string()));
    assert_eq!(list(&app, "Users", &[]).await["totalResults"], 1);
}

#[actix_web::test]
async fn scim_service_principals_act_at_once_and_me_names_them_by_application_id() {
    let app = spawn().await;
    let sp = create(&app, "ServicePrincipals", json!({"displayName": "loader"})).await;
    let app_id = sp["applicationId"].as_str().unwrap().to_string();
    grant(&app, "catalog", "main", &app_id, json!(["USE_CATALOG", "CREATE_SCHEMA"])).await;
    app.admin().create_catalog("bot_cat").await;
    app.admin().patch(&format!("{UC}/catalogs/bot_cat"), json!({"owner": app_id})).await.ok("SP owner");

    let obo = app
        .admin()
        .post(
            "/api/2.0/token-management/on-behalf-of/tokens",
            json!({"application_id": app_id, "lifetime_seconds": 600}),
        )
        .await
        .ok("obo");
    let token = obo["token_value"].as_str().unwrap().to_string();
    let me = app.with_token(&token).get(&format!("{SCIM}/Me")).await.ok("Me");
    assert_eq!(me["userName"], json!(app_id));
    assert_eq!(me["id"], sp["id"]);
    assert_eq!(me["displayName"], "loader");
    assert_eq!(me["active"], true);
    let schema = app.with_token(&token).create_schema("main", "loaded").await;
    assert_eq!(schema["owner"], json!(app_id));
    app.with_token(&token).patch(&format!("{UC}/catalogs/bot_cat"), json!({"comment": "mine"})).await.ok("owner edits");

    // Me of a user: direct groups only; `account users` never shows
    let me = app.with_token(ALICE).get(&format!("{SCIM}/Me")).await.ok("alice Me");
    assert_eq!(me["userName"], "alice@example.com");
    assert_eq!(group_names(&me), vec!["analysts"]);
    let me = app.with_token(ADMIN).get(&format!("{SCIM}/Me")).await.ok("admin Me");
    assert_eq!(group_names(&me), vec!["admins"]);

    // deactivating the SP stops its token; deleting it too
    let sp_path = path("ServicePrincipals", sp["id"].as_str().unwrap());
    app.admin()
        .patch(&sp_path, patch_body(json!([{"op": "replace", "value": {"active": false}}])))
        .await
        .ok("deactivate SP");
    app.with_token(&token).get(&format!("{SCIM}/Me")).await.error(401, "UNAUTHENTICATED", "inactive SP");
    app.admin()
        .patch(&sp_path, patch_body(json!([{"op": "replace", "path": "active", "value": true}])))
        .await
        .ok("reactivate SP");
    app.with_token(&token).get(&format!("{SCIM}/Me")).await.ok("active SP");
    assert_eq!(app.admin().delete(&sp_path).await.ok("delete SP"), json!({}));
    app.with_token(&token).get(&format!("{SCIM}/Me")).await.error(401, "UNAUTHENTICATED", "deleted SP");
    assert_eq!(app.admin().get(&format!("{UC}/catalogs/bot_cat")).await.ok("get")["owner"], json!(app_id));
}

/// A renamed group keeps what it owns on every kind of securable, not only catalogs, schemas
/// and tables: credentials, locations, shares, recipients and providers follow the rename too.
#[actix_web::test]
async fn a_rename_follows_the_owner_of_every_kind_of_securable() {
    let app = spawn().await;
    let analysts = group_id(&app, "analysts").await;
    let admin = app.admin();
    let objects = [
        ("storage-credentials", json!({"name": "c", "aws_iam_role": {"role_arn": "arn:aws:iam::1:role/r"}})),
        ("external-locations", json!({"name": "l", "url": "s3://bucket/l", "credential_name": "c"})),
        ("shares", json!({"name": "s"})),
        (
            "recipients",
            json!({"name": "r", "authentication_type": "DATABRICKS",
            "data_recipient_global_metastore_id": "aws:us-west-2:11111111-2222-3333-4444-555555555555"}),
        ),
        ("providers", json!({"name": "p", "authentication_type": "DATABRICKS"})),
    ];
    for (kind, body) in &objects {
        let name = body["name"].as_str().unwrap();
        admin.post(&format!("{UC}/{kind}"), body.clone()).await.ok(&format!("create {kind}"));
        admin.patch(&format!("{UC}/{kind}/{name}"), json!({"owner": "analysts"})).await.ok(&format!("own {kind}"));
    }
    let res = admin
        .patch(&path("Groups", &analysts), patch_body(json!([{"op": "replace", "value": {"displayName": "team"}}])))
        .await;
    written(&res, "rename");
    for (kind, body) in &objects {
        let name = body["name"].as_str().unwrap();
        let got = admin.get(&format!("{UC}/{kind}/{name}")).await.ok(&format!("get {kind}"));
        assert_eq!(got["owner"], "team", "{kind} {name}: {got}");
    }
}

/// Multi-valued attributes kept verbatim (`emails`, `entitlements`, `roles`) must be arrays and
/// `name` an object: anything else is a 400, so what is read back is what SCIM describes.
#[actix_web::test]
async fn verbatim_attributes_have_their_scim_types() {
    let app = spawn().await;
    let id = user_id(&app, "alice@example.com").await;
    for (attr, bad) in [
        ("entitlements", json!({})),
        ("emails", json!({"value": "a@b"})),
        ("roles", json!([[null]])),
        ("name", json!([])),
    ] {
        let body = json!({"userName": "alice@example.com", attr: bad});
        app.admin().put(&path("Users", &id), body.clone()).await.error(
            400,
            "INVALID_PARAMETER_VALUE",
            &body.to_string(),
        );
        app.admin().post(&format!("{SCIM}/Users"), json!({"userName": "new@example.com", attr: bad})).await.error(
            400,
            "INVALID_PARAMETER_VALUE",
            attr,
        );
    }
    for (attr, bad) in [("entitlements", json!({})), ("name", json!("Al"))] {
        let ops = json!([{"op": "replace", "path": attr, "value": bad}]);
        app.admin().patch(&path("Users", &id), patch_body(ops)).await.error(400, "INVALID_PARAMETER_VALUE", attr);
        let ops = json!([{"op": "replace", "value": {attr: bad}}]);
        app.admin().patch(&path("Users", &id), patch_body(ops)).await.error(400, "INVALID_PARAMETER_VALUE", attr);
    }
    let user = get(&app, "Users", &id).await;
    assert_eq!(user["entitlements"], json!([]), "{user}");
    let ok = json!({"userName": "alice@example.com", "entitlements": [{"value": "workspace-access"}], "name": {"givenName": "Al"}});
    written(&app.admin().put(&path("Users", &id), ok).await, "a valid replace");
    let user = get(&app, "Users", &id).await;
    assert_eq!(user["entitlements"], json!([{"value": "workspace-access"}]));
    assert_eq!(user["name"]["givenName"], "Al");
}
