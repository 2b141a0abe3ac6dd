//! Durability: a restart on the same
//! database keeps everything created through the API, an acknowledged write is committed before
//! its response, fixtures are create-if-missing, and concurrent creates land exactly once.

use std::collections::HashMap;

use serde_json::json;

use crate::helpers::{names, spawn, table_body, UC};

#[actix_web::test]
async fn restart_on_the_same_database_keeps_api_created_objects() {
    let mut app = spawn().await;
    let admin = app.admin();
    admin.create_catalog("kept").await;
    admin.create_schema("kept", "s").await;
    admin.create_table("kept", "s", "t").await;
    admin
        .patch(&format!("{UC}/catalogs/kept"), json!({"comment": "changed", "properties": {"k": "v"}}))
        .await
        .ok("update catalog");
    admin.patch(&format!("{UC}/tables/kept.s.t"), json!({"comment": "table comment"})).await.ok("update table");
    admin.create_catalog("gone").await;
    admin.delete(&format!("{UC}/catalogs/gone?force=true")).await.ok("delete catalog");
    // A fixture entry changed through the API keeps the API's change (create-if-missing).
    admin.patch(&format!("{UC}/catalogs/main"), json!({"comment": "api comment"})).await.ok("update main");
    let before = app.dump_state().await;

    app.restart().await;
    let after = app.dump_state().await;
    assert_eq!(after, before, "a restart lost or changed data");
    let admin = app.admin();
    let t = admin.get(&format!("{UC}/tables/kept.s.t")).await.ok("table after restart");
    assert_eq!(t["comment"], "table comment");
    let c = admin.get(&format!("{UC}/catalogs/main")).await.ok("main after restart");
    assert_eq!(c["comment"], "api comment", "the fixture must not overwrite an API change");
    admin.get(&format!("{UC}/catalogs/gone")).await.error(
        404,
        "CATALOG_DOES_NOT_EXIST",
        "deleted catalog after restart",
    );
    // Tokens still work, and the server accepts writes.
    app.alice().get(&format!("{UC}/metastore_summary")).await.ok("alice after restart");
    admin.create_catalog("after_restart").await;

    // A second restart is idempotent too.
    let before = app.dump_state().await;
    app.restart().await;
    assert_eq!(app.dump_state().await, before, "the second restart changed state");
}

#[actix_web::test]
async fn a_fixture_entry_deleted_through_the_api_comes_back_on_restart() {
    let mut app = spawn().await;
    // A fresh catalog holds `default`: deleting it needs force.
    app.admin().delete(&format!("{UC}/catalogs/main?force=true")).await.ok("delete main");
    app.admin().get(&format!("{UC}/catalogs/main")).await.error(404, "CATALOG_DOES_NOT_EXIST", "main deleted");
    app.restart().await;
    let main = app.admin().get(&format!("{UC}/catalogs/main")).await.ok("main after restart");
    assert_eq!(main["comment"], "The default catalog.");
    let list = app.admin().get(&format!("{UC}/catalogs")).await.ok("list");
    assert_eq!(names(&list, "catalogs").iter().filter(|n| *n == "main").count(), 1);
}

#[actix_web::test]
async fn acknowledged_writes_are_visible_to_a_fresh_server_without_a_clean_shutdown() {
    let app = spawn().await;
    let admin = app.admin();
    admin.create_catalog("acked").await;
    admin.create_schema("acked", "s").await;
    admin.create_table("acked", "s", "t").await;
    let before = app.dump_state().await;
    // A second server on the same file while the first still runs and was never closed: it sees
    // what a new process would after `kill -9` of the first.
    let (url, handle, task) = app.second_server().await;
    let second = app.admin().at(&url);
    let t = second.get(&format!("{UC}/tables/acked.s.t")).await.ok("table through the second server");
    assert_eq!(t["full_name"], "acked.s.t");
    let list = second.get(&format!("{UC}/catalogs")).await.ok("catalogs through the second server");
    assert!(names(&list, "catalogs").contains(&"acked".to_string()), "{list}");
    handle.stop(true).await;
    let _ = task.await;
    assert_eq!(app.dump_state().await, before);
}

async fn spawn_creates<F, Fut>(n: usize, make: F) -> Vec<(usize, u16, String)>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = (u16, String)> + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| (i, actix_web::rt::spawn(make(i)))).collect();
    let mut out = Vec::new();
    for (i, t) in tasks {
        let (status, body) = t.await.expect("task");
        out.push((i, status, body));
    }
    out
}

fn raw_post(
    app_url: &str,
    path: &str,
    body: serde_json::Value,
) -> impl std::future::Future<Output = (u16, String)> + 'static {
    let client = reqwest::Client::new();
    let url = format!("{app_url}{path}");
    async move {
        let res = client.post(url).bearer_auth("dapi-admin").json(&body).send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.text().await.expect("body"))
    }
}

#[actix_web::test]
async fn concurrent_creates_all_land_exactly_once() {
    let app = spawn().await;
    let url = app.url.clone();
    // 8 tasks × 6 distinct catalogs, all in flight at once.
    let results = spawn_creates(48, |i| {
        raw_post(&url, &format!("{UC}/catalogs"), json!({"name": format!("conc_{:02}_{}", i % 8, i / 8)}))
    })
    .await;
    for (i, status, body) in &results {
        assert_eq!(*status, 200, "create #{i}: {body}");
    }
    let list = app.admin().get(&format!("{UC}/catalogs")).await.ok("list");
    let listed = names(&list, "catalogs");
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for n in &listed {
        *counts.entry(n.as_str()).or_default() += 1;
    }
    for i in 0..48 {
        let name = format!("conc_{:02}_{}", i % 8, i / 8);
        assert_eq!(counts.get(name.as_str()), Some(&1), "{name} in {listed:?}");
    }
    assert_eq!(listed.len(), 48 + 1, "{listed:?}");

    // Many tables into one schema at once.
    app.admin().create_schema("main", "busy").await;
    let results =
        spawn_creates(40, |i| raw_post(&url, &format!("{UC}/tables"), table_body("main", "busy", &format!("t{i:02}"))))
            .await;
    for (i, status, body) in &results {
        assert_eq!(*status, 200, "table #{i}: {body}");
    }
    let list = app.admin().get(&format!("{UC}/tables?catalog_name=main&schema_name=busy")).await.ok("list tables");
    let expected: Vec<String> = (0..40).map(|i| format!("t{i:02}")).collect();
    assert_eq!(names(&list, "tables"), expected);
    // Every table got its own id and location.
    let ids: std::collections::HashSet<&str> =
        list["tables"].as_array().unwrap().iter().map(|t| t["table_id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 40);
}

#[actix_web::test]
async fn concurrent_creates_of_one_name_succeed_once() {
    let app = spawn().await;
    let url = app.url.clone();
    let results = spawn_creates(24, |_| raw_post(&url, &format!("{UC}/catalogs"), json!({"name": "contested"}))).await;
    let winners: Vec<_> = results.iter().filter(|(_, s, _)| *s == 200).collect();
    assert_eq!(winners.len(), 1, "exactly one create wins: {results:?}");
    for (i, status, body) in &results {
        if *status != 200 {
            assert_eq!(*status, 409, "loser #{i}: {body}");
            let err: serde_json::Value = serde_json::from_str(body).expect("JSON error");
            assert_eq!(err["error_code"], "CATALOG_ALREADY_EXISTS", "loser #{i}: {body}");
        }
    }
    app.admin().create_schema("contested", "s").await;
    let results =
        spawn_creates(24, |_| raw_post(&url, &format!("{UC}/tables"), table_body("contested", "s", "t"))).await;
    assert_eq!(results.iter().filter(|(_, s, _)| *s == 200).count(), 1, "{results:?}");
    assert!(
        results.iter().all(|(_, s, b)| *s == 200 || (*s == 409 && b.contains("TABLE_ALREADY_EXISTS"))),
        "{results:?}"
    );
    let list = app.admin().get(&format!("{UC}/catalogs")).await.ok("list");
    assert_eq!(names(&list, "catalogs").iter().filter(|n| *n == "contested").count(), 1);
}
