//! Reads keep schemas, catalogs and the grants on them between requests (per worker thread):
//! every read that starts after a write was acknowledged must still see that write, whichever
//! worker and HTTP connection serve it, and whichever connection wrote it.

use reqwest::Client;
use serde_json::{json, Value};

use crate::helpers::*;

/// Several HTTP connections (each client opens its own), so that reads land on every worker.
fn readers() -> Vec<Client> {
    (0..4).map(|_| Client::builder().pool_max_idle_per_host(1).build().expect("client")).collect()
}

/// `GET path` as `token` on every reader, twice each (the second read may come from a cache the
/// first filled); every answer must have `status`. Returns the last body.
async fn read_all(app: &TestApp, readers: &[Client], token: &str, path: &str, status: u16, what: &str) -> Value {
    let mut last = Value::Null;
    for round in 0..2 {
        for (i, c) in readers.iter().enumerate() {
            let r = c
                .get(format!("{}{path}", app.url))
                .header("Authorization", format!("Bearer {token}"))
                .send()
                .await
                .expect("request");
            let got = r.status().as_u16();
            let text = r.text().await.expect("body");
            assert_eq!(got, status, "{what}: reader {i}, round {round}, GET {path}: {text}");
            last = serde_json::from_str(&text).expect("JSON");
        }
    }
    last
}

fn table_path(full: &str) -> String {
    format!("{UC}/tables/{full}")
}

fn list_path(catalog: &str, schema: &str) -> String {
    format!("{UC}/tables?catalog_name={catalog}&schema_name={schema}")
}

async fn grant(app: &TestApp, kind: &str, name: &str, principal: &str, add: &[&str], remove: &[&str]) {
    app.admin()
        .patch(
            &format!("{UC}/permissions/{kind}/{name}"),
            json!({"changes": [{"principal": principal, "add": add, "remove": remove}]}),
        )
        .await
        .ok(&format!("grants on {kind} {name}"));
}

/// Setup: catalog `rc`, schema `rc.s`, table `rc.s.t`; `analysts` (alice's group) holds
/// USE_CATALOG, USE_SCHEMA and SELECT on the catalog.
async fn setup(app: &TestApp) {
    let admin = app.admin();
    admin.create_catalog("rc").await;
    admin.create_schema("rc", "s").await;
    admin.create_table("rc", "s", "t").await;
    grant(app, "catalog", "rc", "analysts", &["USE_CATALOG", "USE_SCHEMA", "SELECT"], &[]).await;
}

#[actix_web::test]
async fn a_grant_or_revoke_on_a_cached_catalog_or_schema_shows_on_the_next_read() {
    let app = spawn().await;
    setup(&app).await;
    let r = readers();
    read_all(&app, &r, ALICE, &table_path("rc.s.t"), 200, "through the group's catalog grant").await;
    read_all(&app, &r, ALICE, &list_path("rc", "s"), 200, "list through the group's catalog grant").await;

    grant(&app, "catalog", "rc", "analysts", &[], &["USE_CATALOG"]).await;
    read_all(&app, &r, ALICE, &table_path("rc.s.t"), 403, "USE_CATALOG revoked").await;
    read_all(&app, &r, ALICE, &list_path("rc", "s"), 403, "USE_CATALOG revoked (list)").await;

    grant(&app, "catalog", "rc", "analysts", &["USE_CATALOG"], &[]).await;
    read_all(&app, &r, ALICE, &table_path("rc.s.t"), 200, "USE_CATALOG granted again").await;

    // A grant on the schema, then its revocation.
    grant(&app, "catalog", "rc", "analysts", &[], &["USE_SCHEMA"]).await;
    read_all(&app, &r, ALICE, &table_path("rc.s.t"), 403, "USE_SCHEMA revoked on the catalog").await;
    grant(&app, "schema", "rc.s", "alice@example.com", &["USE_SCHEMA"], &[]).await;
    read_all(&app, &r, ALICE, &table_path("rc.s.t"), 200, "USE_SCHEMA granted on the schema").await;
    grant(&app, "schema", "rc.s", "alice@example.com", &[], &["USE_SCHEMA"]).await;
    read_all(&app, &r, ALICE, &table_path("rc.s.t"), 403, "USE_SCHEMA revoked on the schema").await;

    // The table's own grants are never cached, but check them too.
    grant(&app, "catalog", "rc", "analysts", &["USE_SCHEMA"], &["SELECT"]).await;
    read_all(&app, &r, ALICE, &table_path("rc.s.t"), 403, "SELECT revoked").await;
    grant(&app, "table", "rc.s.t", "analysts", &["SELECT"], &[]).await;
    read_all(&app, &r, ALICE, &table_path("rc.s.t"), 200, "SELECT on the table").await;
}

#[actix_web::test]
async fn a_new_owner_of_a_cached_catalog_or_schema_shows_on_the_next_read() {
    let app = spawn().await;
    setup(&app).await;
    grant(&app, "catalog", "rc", "analysts", &[], &["USE_CATALOG", "USE_SCHEMA"]).await;
    let r = readers();
    read_all(&app, &r, ALICE, &table_path("rc.s.t"), 403, "no use of the catalog").await;

    // Owning the catalog is enough (an owner holds every privilege on what it contains).
    app.admin().patch(&format!("{UC}/catalogs/rc"), json!({"owner": "alice@example.com"})).await.ok("catalog to alice");
    let t = read_all(&app, &r, ALICE, &table_path("rc.s.t"), 200, "owns the catalog").await;
    assert_eq!(t["full_name"], "rc.s.t");
    app.admin().patch(&format!("{UC}/catalogs/rc"), json!({"owner": "admin@example.com"})).await.ok("catalog back");
    read_all(&app, &r, ALICE, &table_path("rc.s.t"), 403, "catalog handed back").await;

    grant(&app, "catalog", "rc", "analysts", &["USE_CATALOG"], &[]).await;
    read_all(&app, &r, ALICE, &table_path("rc.s.t"), 403, "USE_CATALOG, no USE_SCHEMA").await;
    app.admin().patch(&format!("{UC}/schemas/rc.s"), json!({"owner": "analysts"})).await.ok("schema to the group");
    read_all(&app, &r, ALICE, &table_path("rc.s.t"), 200, "the group owns the schema").await;
    app.admin().patch(&format!("{UC}/schemas/rc.s"), json!({"owner": "admin@example.com"})).await.ok("schema back");
    read_all(&app, &r, ALICE, &table_path("rc.s.t"), 403, "schema handed back").await;
}

#[actix_web::test]
async fn renames_and_deletes_of_cached_catalogs_schemas_and_tables_show_on_the_next_read() {
    let app = spawn().await;
    setup(&app).await;
    let r = readers();
    let before = read_all(&app, &r, ADMIN, &table_path("rc.s.t"), 200, "before").await;
    read_all(&app, &r, ADMIN, &list_path("rc", "s"), 200, "list before").await;

    // The table changes, is renamed, deleted and made again.
    app.admin().patch(&table_path("rc.s.t"), json!({"comment": "changed"})).await.ok("comment");
    let t = read_all(&app, &r, ADMIN, &table_path("rc.s.t"), 200, "comment changed").await;
    assert_eq!(t["comment"], "changed");
    app.admin().patch(&table_path("rc.s.t"), json!({"new_name": "t2"})).await.ok("rename table");
    read_all(&app, &r, ADMIN, &table_path("rc.s.t"), 404, "old table name").await;
    read_all(&app, &r, ADMIN, &table_path("rc.s.t2"), 200, "new table name").await;
    let listed = read_all(&app, &r, ADMIN, &list_path("rc", "s"), 200, "list after the table rename").await;
    assert_eq!(names(&listed, "tables"), vec!["t2".to_string()]);
    app.admin().delete(&table_path("rc.s.t2")).await.ok("delete table");
    read_all(&app, &r, ADMIN, &table_path("rc.s.t2"), 404, "deleted table").await;
    app.admin().create_table("rc", "s", "t").await;
    let again = read_all(&app, &r, ADMIN, &table_path("rc.s.t"), 200, "table made again").await;
    assert_ne!(again["table_id"], before["table_id"]);

    // The schema is renamed: its tables move with it.
    app.admin().patch(&format!("{UC}/schemas/rc.s"), json!({"new_name": "s2"})).await.ok("rename schema");
    read_all(&app, &r, ADMIN, &table_path("rc.s.t"), 404, "old schema name").await;
    let moved = read_all(&app, &r, ADMIN, &table_path("rc.s2.t"), 200, "new schema name").await;
    assert_eq!(moved["schema_name"], "s2");
    assert_eq!(moved["full_name"], "rc.s2.t");
    read_all(&app, &r, ADMIN, &list_path("rc", "s"), 404, "list of the old schema name").await;
    read_all(&app, &r, ALICE, &table_path("rc.s2.t"), 200, "the catalog grant still holds").await;

    // So is the catalog.
    app.admin().patch(&format!("{UC}/catalogs/rc"), json!({"new_name": "rc2"})).await.ok("rename catalog");
    read_all(&app, &r, ADMIN, &table_path("rc.s2.t"), 404, "old catalog name").await;
    let moved = read_all(&app, &r, ADMIN, &table_path("rc2.s2.t"), 200, "new catalog name").await;
    assert_eq!(moved["catalog_name"], "rc2");

    // The schema is deleted with its table, and made again under the same name: the old one's
    // grants do not come back with it.
    grant(&app, "schema", "rc2.s2", "alice@example.com", &["USE_SCHEMA", "SELECT"], &[]).await;
    grant(&app, "catalog", "rc2", "analysts", &[], &["USE_SCHEMA", "SELECT"]).await;
    read_all(&app, &r, ALICE, &table_path("rc2.s2.t"), 200, "through the schema grant").await;
    app.admin().delete(&format!("{UC}/schemas/rc2.s2?force=true")).await.ok("delete schema");
    read_all(&app, &r, ADMIN, &table_path("rc2.s2.t"), 404, "deleted schema").await;
    read_all(&app, &r, ADMIN, &list_path("rc2", "s2"), 404, "list of the deleted schema").await;
    app.admin().create_schema("rc2", "s2").await;
    app.admin().create_table("rc2", "s2", "t").await;
    read_all(&app, &r, ADMIN, &table_path("rc2.s2.t"), 200, "schema made again").await;
    read_all(&app, &r, ALICE, &table_path("rc2.s2.t"), 403, "the old schema's grant is gone").await;

    // The catalog is deleted.
    app.admin().delete(&format!("{UC}/catalogs/rc2?force=true")).await.ok("delete catalog");
    read_all(&app, &r, ADMIN, &table_path("rc2.s2.t"), 404, "deleted catalog").await;
}

#[actix_web::test]
async fn a_write_by_another_database_connection_shows_on_the_next_read() {
    let app = spawn().await;
    setup(&app).await;
    let r = readers();
    read_all(&app, &r, ALICE, &table_path("rc.s.t"), 200, "before").await;
    // Another process's connection (not the server's writer) revokes the group's grants.
    let other = rusqlite::Connection::open(&app.db).expect("open the database");
    other.busy_timeout(std::time::Duration::from_secs(5)).expect("busy timeout");
    let removed = other
        .execute(
            "DELETE FROM grants WHERE principal = 'analysts'
             AND securable_id = (SELECT id FROM catalogs WHERE name = 'rc')",
            [],
        )
        .expect("revoke");
    assert_eq!(removed, 3);
    read_all(&app, &r, ALICE, &table_path("rc.s.t"), 403, "revoked by another connection").await;
}
