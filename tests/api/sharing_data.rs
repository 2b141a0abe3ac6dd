//! Delta Sharing over HTTP on real Delta logs (written here as JSON commits under a
//! `--storage-map` directory): a shared object's start version (recorded when the table is
//! added, bounded by the table's current version), the query hints (`jsonPredicateHints` on
//! partition columns, `limitHint` by `numRecords`), symbolic links that lead out of the mapped
//! directory, and one activation link retrieved by many requests at once.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::helpers::{sharing_fixture, spawn_mapped, Resp, TestApp, UC};

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Writes commit `v` of the Delta table at `dir` (a commitInfo at `ts`, then `actions`).
fn commit(dir: &Path, v: i64, ts: i64, actions: &[Value]) {
    let log = dir.join("_delta_log");
    std::fs::create_dir_all(&log).unwrap();
    let mut lines = vec![json!({"commitInfo": {"timestamp": ts, "operation": "WRITE"}}).to_string()];
    lines.extend(actions.iter().map(Value::to_string));
    std::fs::write(log.join(format!("{v:020}.json")), lines.join("\n") + "\n").unwrap();
}

/// The first actions of a table of `id long, region string`, partitioned by `region`.
fn create() -> Vec<Value> {
    let schema = json!({"type": "struct", "fields": [
        {"name": "id", "type": "long", "nullable": true, "metadata": {}},
        {"name": "region", "type": "string", "nullable": true, "metadata": {}}]});
    vec![
        json!({"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}}),
        json!({"metaData": {"id": "5b1e6a43-2b1c-4f7e-9d51-0c0ffee00001", "format": {"provider": "parquet",
               "options": {}}, "schemaString": schema.to_string(), "partitionColumns": ["region"],
               "configuration": {}, "createdTime": 0}}),
    ]
}

/// An `add` of a data file in partition `region` holding `records` rows.
fn add(path: &str, region: &str, records: i64) -> Value {
    json!({"add": {"path": path, "partitionValues": {"region": region}, "size": 4, "modificationTime": 0,
                   "dataChange": true, "stats": json!({"numRecords": records}).to_string()}})
}

struct Lake {
    app: TestApp,
    dir: PathBuf,
    _lake: tempfile::TempDir,
    /// `Bearer <token>` of the activated recipient `acme`.
    bearer: String,
    /// The sharing server's path prefix.
    prefix: String,
}

impl Lake {
    async fn new() -> Lake {
        let lake = tempfile::tempdir().unwrap();
        let dir = lake.path().canonicalize().unwrap();
        let app = spawn_mapped(&sharing_fixture(json!({})), &[("s3://lake", &dir)]).await;
        let admin = app.admin();
        crate::helpers::credential_and_location(&app, "cred", false, "ext", "s3://lake").await;
        let r = admin.get(&format!("{UC}/recipients/acme")).await.ok("recipient");
        let token = r["activation_url"].as_str().unwrap().rsplit_once('?').unwrap().1.to_string();
        let profile = app
            .anonymous()
            .get(&format!("/api/2.1/unity-catalog/public/data_sharing_activation/{token}"))
            .await
            .ok("profile");
        let bearer = format!("Bearer {}", profile["bearerToken"].as_str().unwrap());
        let prefix = profile["endpoint"].as_str().unwrap().replace(&app.url, "");
        Lake { app, dir, _lake: lake, bearer, prefix }
    }

    async fn table(&self, name: &str) {
        self.app
            .admin()
            .post(
                &format!("{UC}/tables"),
                json!({"catalog_name": "shop", "schema_name": "sales", "name": name, "table_type": "EXTERNAL",
                       "data_source_format": "DELTA", "storage_location": format!("s3://lake/{name}"),
                       "columns": []}),
            )
            .await
            .ok("table");
    }

    async fn share(&self, name: &str) {
        let admin = self.app.admin();
        admin.post(&format!("{UC}/shares"), json!({"name": name})).await.ok("share");
        admin
            .patch(
                &format!("{UC}/shares/{name}/permissions"),
                json!({"changes": [{"principal": "acme", "add": ["SELECT"]}]}),
            )
            .await
            .ok("grant");
    }

    async fn update(&self, share: &str, action: &str, object: Value) -> Resp {
        self.app
            .admin()
            .send(
                "PATCH",
                &format!("{UC}/shares/{share}"),
                Some(&json!({"updates": [{"action": action, "data_object": object}]}).to_string()),
            )
            .await
    }

    async fn objects(&self, share: &str) -> Value {
        self.app.admin().get(&format!("{UC}/shares/{share}")).await.ok("get share")["objects"].clone()
    }

    async fn query(&self, share: &str, table: &str, body: Value) -> Resp {
        let path = format!("{}/shares/{share}/schemas/sales/tables/{table}/query", self.prefix);
        self.app.with_authorization(&self.bearer).send("POST", &path, Some(&body.to_string())).await
    }

    /// The `file` lines of a successful query: (partition value, file URL).
    async fn files(&self, share: &str, table: &str, body: Value) -> Vec<(String, String)> {
        let r = self.query(share, table, body.clone()).await;
        assert_eq!(r.status, 200, "{body}: {}", r.text);
        r.text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter_map(|l| {
                let f = l.get("file")?;
                Some((f["partitionValues"]["region"].as_str()?.to_string(), f["url"].as_str()?.to_string()))
            })
            .collect()
    }
}

fn protocol_error(r: &Resp, status: u16, code: &str, what: &str) -> String {
    let m = r.error(status, code, what);
    assert_eq!(r.json()["errorCode"], code, "{what}: the protocol's spelling too");
    m
}

#[actix_web::test]
async fn a_start_version_beyond_the_tables_version_is_refused_and_the_default_is_recorded_at_add() {
    let lake = Lake::new().await;
    let t = lake.dir.join("events");
    // Version 1's commit time lies in the future: a default start version computed from commit
    // times at request time would be 0; the one recorded at ADD is 1.
    let mut v0 = create();
    v0.push(add("region=eu/a.parquet", "eu", 2));
    commit(&t, 0, now_ms() - 60_000, &v0);
    commit(&t, 1, now_ms() + 86_400_000, &[add("region=us/b.parquet", "us", 3)]);
    lake.table("events").await;
    lake.share("hist").await;
    let object = |extra: Value| {
        let mut o = json!({"name": "shop.sales.events", "history_data_sharing_status": "ENABLED"});
        o.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        o
    };

    // ADD beyond the current version (1): 400 naming start_version; nothing changes.
    let r = lake.update("hist", "ADD", object(json!({"start_version": 2}))).await;
    let m = r.invalid("start_version", "ADD beyond the current version");
    assert!(m.contains("updates[0].data_object.start_version") && m.contains('1'), "{m}");
    assert_eq!(lake.objects("hist").await, json!([]), "a refused ADD adds nothing");
    let whole = json!({"objects": [{"name": "shop.sales.events", "start_version": 7}]});
    let r = lake.app.admin().patch(&format!("{UC}/shares/hist"), whole).await;
    r.invalid("objects[0].start_version", "the whole-list form too");
    assert_eq!(lake.objects("hist").await, json!([]));

    // ADD without start_version: the default (the version now, 1) is recorded, not shown.
    lake.update("hist", "ADD", object(json!({}))).await.ok("ADD");
    let objects = lake.objects("hist").await;
    assert!(objects[0].get("start_version").is_none(), "only a given start_version is shown: {objects}");
    protocol_error(&lake.query("hist", "events", json!({"version": 0})).await, 400, "INVALID_PARAMETER_VALUE", "v0");
    assert_eq!(lake.files("hist", "events", json!({"version": 1})).await.len(), 2);

    // UPDATE beyond the current version: 400, the object as it was; within it: accepted.
    let r = lake.update("hist", "UPDATE", json!({"name": "shop.sales.events", "start_version": 5})).await;
    r.invalid("start_version", "UPDATE beyond the current version");
    assert_eq!(lake.objects("hist").await, objects, "a refused UPDATE changes nothing");
    lake.update("hist", "UPDATE", json!({"name": "shop.sales.events", "start_version": 0})).await.ok("UPDATE");
    assert_eq!(lake.files("hist", "events", json!({"version": 0})).await.len(), 1);
    // The bound is the table's version at each request.
    commit(&t, 2, now_ms() + 86_400_001, &[add("region=ap/c.parquet", "ap", 1)]);
    lake.update("hist", "UPDATE", json!({"name": "shop.sales.events", "start_version": 2})).await.ok("v2 now");
    protocol_error(&lake.query("hist", "events", json!({"version": 1})).await, 400, "INVALID_PARAMETER_VALUE", "v1");

    // A table whose log cannot be read bounds nothing (its default start version is 0).
    lake.table("nolog").await;
    lake.update("hist", "ADD", json!({"name": "shop.sales.nolog", "start_version": 9})).await.ok("no log");
}

#[actix_web::test]
async fn json_predicate_hints_and_limit_hint_prune_files_over_http() {
    let lake = Lake::new().await;
    let mut v0 = create();
    v0.extend([
        add("region=eu/a.parquet", "eu", 2),
        add("region=us/b.parquet", "us", 3),
        add("region=ap/c.parquet", "ap", 1),
    ]);
    commit(&lake.dir.join("events"), 0, now_ms() - 60_000, &v0);
    commit(&lake.dir.join("events"), 1, now_ms() - 50_000, &[add("region=eu/d.parquet", "eu", 4)]);
    lake.table("events").await;
    lake.share("s").await;
    lake.update("s", "ADD", json!({"name": "shop.sales.events"})).await.ok("ADD");
    let regions = |files: Vec<(String, String)>| files.into_iter().map(|(r, _)| r).collect::<Vec<_>>();
    let hint = |p: Value| json!({"jsonPredicateHints": p.to_string()});
    let col = json!({"op": "column", "name": "region", "valueType": "string"});
    let lit = |v: &str| json!({"op": "literal", "value": v, "valueType": "string"});

    assert_eq!(regions(lake.files("s", "events", json!({})).await), ["eu", "us", "ap", "eu"], "log order");
    let eu = json!({"op": "equal", "children": [col, lit("eu")]});
    assert_eq!(regions(lake.files("s", "events", hint(eu.clone())).await), ["eu", "eu"]);
    let not_eu = json!({"op": "not", "children": [eu.clone()]});
    assert_eq!(regions(lake.files("s", "events", hint(not_eu)).await), ["us", "ap"]);
    let after_b = json!({"op": "greaterThan", "children": [col, lit("b")]});
    assert_eq!(regions(lake.files("s", "events", hint(after_b)).await), ["eu", "us", "eu"]);
    // A data column is unknown: `id = 1` prunes nothing, `region = eu AND id = 1` keeps eu's files
    // (false only where region differs), `region = eu OR id = 1` keeps everything (unknown).
    let id1 = json!({"op": "equal", "children": [{"op": "column", "name": "id", "valueType": "long"},
                                                 {"op": "literal", "value": "1", "valueType": "long"}]});
    assert_eq!(lake.files("s", "events", hint(id1.clone())).await.len(), 4);
    let and = json!({"op": "and", "children": [eu, id1]});
    assert_eq!(regions(lake.files("s", "events", hint(and)).await), ["eu", "eu"]);
    let or = json!({"op": "or", "children": [{"op": "equal", "children": [col, lit("xx")]}, id1]});
    assert_eq!(lake.files("s", "events", hint(or)).await.len(), 4);
    // Not JSON, an unknown op: no filter and no error.
    for junk in ["{nope", r#"{"op": "fancy", "children": []}"#] {
        assert_eq!(lake.files("s", "events", json!({"jsonPredicateHints": junk})).await.len(), 4, "{junk}");
    }
    // predicateHints are accepted and never evaluated.
    assert_eq!(lake.files("s", "events", json!({"predicateHints": ["region = 'eu'"]})).await.len(), 4);

    // limitHint: files in log order until their numRecords reach it (2 + 3 ≥ 3).
    assert_eq!(regions(lake.files("s", "events", json!({"limitHint": 3})).await), ["eu", "us"]);
    assert_eq!(regions(lake.files("s", "events", json!({"limitHint": 2})).await), ["eu"]);
    assert_eq!(lake.files("s", "events", json!({"limitHint": 100})).await.len(), 4);
    assert!(lake.files("s", "events", json!({"limitHint": 0})).await.is_empty());
    // After the predicate: eu's files are 2 + 4 records.
    let both =
        json!({"limitHint": 1, "jsonPredicateHints": json!({"op": "equal", "children": [col, lit("eu")]}).to_string()});
    assert_eq!(regions(lake.files("s", "events", both).await), ["eu"]);
    for bad in [json!({"limitHint": -1}), json!({"limitHint": "3"}), json!({"jsonPredicateHints": 5})] {
        let m = protocol_error(&lake.query("s", "events", bad.clone()).await, 400, "INVALID_PARAMETER_VALUE", "bad");
        assert!(m.contains("limitHint") || m.contains("jsonPredicateHints"), "{bad}: {m}");
    }
}

#[cfg(unix)]
#[actix_web::test]
async fn symbolic_links_out_of_the_mapped_directory_are_refused_over_http() {
    let lake = Lake::new().await;
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.parquet");
    std::fs::write(&secret, b"TOP-SECRET").unwrap();

    // A data file that is a link to a file outside: its URL answers 403 and reads nothing.
    let t = lake.dir.join("events");
    let mut v0 = create();
    v0.extend([add("region=eu/a.parquet", "eu", 1), add("region=us/b.parquet", "us", 1)]);
    commit(&t, 0, now_ms() - 60_000, &v0);
    std::fs::create_dir_all(t.join("region=eu")).unwrap();
    std::fs::create_dir_all(t.join("region=us")).unwrap();
    std::fs::write(t.join("region=eu/a.parquet"), b"PAR1").unwrap();
    std::os::unix::fs::symlink(&secret, t.join("region=us/b.parquet")).unwrap();
    lake.table("events").await;
    lake.share("s").await;
    lake.update("s", "ADD", json!({"name": "shop.sales.events"})).await.ok("ADD");
    let files = lake.files("s", "events", json!({})).await;
    let url = |region: &str| files.iter().find(|(r, _)| r == region).unwrap().1.clone();
    let inside = lake.app.anonymous().execute(lake.app.client.get(url("eu"))).await;
    assert_eq!((inside.status, inside.text.as_str()), (200, "PAR1"));
    let out = lake.app.anonymous().execute(lake.app.client.get(url("us"))).await;
    protocol_error(&out, 403, "PERMISSION_DENIED", "a link leading out");
    assert!(!out.text.contains("TOP-SECRET"), "{}", out.text);
    let head = lake.app.anonymous().execute(lake.app.client.head(url("us"))).await;
    assert_eq!(head.status, 403);

    // A table directory that is a link to a Delta table outside: not readable (400
    // INVALID_STATE naming the shared table, never the storage), still listed; its log bounds
    // no start_version.
    let elsewhere = outside.path().join("t");
    commit(&elsewhere, 0, now_ms(), &create());
    std::os::unix::fs::symlink(&elsewhere, lake.dir.join("linked")).unwrap();
    lake.table("linked").await;
    lake.update("s", "ADD", json!({"name": "shop.sales.linked", "start_version": 5})).await.ok("unreadable log");
    let m = protocol_error(&lake.query("s", "linked", json!({})).await, 400, "INVALID_STATE", "linked table");
    assert!(
        m.contains("sales.linked") && !m.contains("s3://") && !m.contains(&*outside.path().to_string_lossy()),
        "{m}"
    );
    let version = format!("{}/shares/s/schemas/sales/tables/linked/version", lake.prefix);
    protocol_error(
        &lake.app.with_authorization(&lake.bearer).get(&version).await,
        400,
        "INVALID_STATE",
        "version of the linked table",
    );
    let tables = format!("{}/shares/s/all-tables", lake.prefix);
    let listed = lake.app.with_authorization(&lake.bearer).get(&tables).await.ok("all-tables");
    let names: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["events", "linked"]);
}

#[actix_web::test]
async fn of_concurrent_retrievals_of_one_link_exactly_one_gets_the_credential() {
    let lake = Lake::new().await;
    let body = json!({"name": "beta", "authentication_type": "TOKEN"});
    let r = lake.app.admin().post(&format!("{UC}/recipients"), body).await.ok("recipient");
    let link = r["tokens"][0]["activation_url"].as_str().unwrap().to_string();
    let token = link.rsplit_once('?').unwrap().1.to_string();
    let url = format!("{}/api/2.1/unity-catalog/public/data_sharing_activation/{token}", lake.app.url);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (client, url) = (lake.app.client.clone(), url.clone());
            actix_web::rt::spawn(async move {
                let r = client.get(url).send().await.unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let won: Vec<_> = answers.iter().filter(|(s, _)| *s == 200).collect();
    assert_eq!(won.len(), 1, "{answers:?}");
    let bearer = serde_json::from_str::<Value>(&won[0].1).unwrap()["bearerToken"].as_str().unwrap().to_string();
    for (status, body) in answers.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(*status, 404, "{body}");
        assert!(body.contains("RESOURCE_DOES_NOT_EXIST") && !body.contains(&bearer), "{body}");
    }
    // The one credential works.
    let auth = format!("Bearer {bearer}");
    let shares = lake.app.with_authorization(&auth).get(&format!("{}/shares", lake.prefix)).await;
    assert_eq!(shares.ok("shares")["items"], json!([]));
}

/// Hostile query strings, bodies and protocol headers on every sharing-server endpoint over a
/// real table: never a 5xx, every refusal in the protocol's error shape.
#[actix_web::test]
async fn hostile_requests_to_the_sharing_server_never_5xx() {
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    let lake = Lake::new().await;
    let mut v0 = create();
    v0.extend([add("region=eu/a.parquet", "eu", 2), add("region=us/b.parquet", "us", 3)]);
    commit(&lake.dir.join("events"), 0, now_ms() - 60_000, &v0);
    commit(&lake.dir.join("events"), 1, now_ms() - 50_000, &[add("region=eu/d.parquet", "eu", 4)]);
    lake.table("events").await;
    lake.share("s").await;
    let object = json!({"name": "shop.sales.events", "history_data_sharing_status": "ENABLED", "start_version": 0});
    lake.update("s", "ADD", object).await.ok("ADD");

    let cases: u32 = std::env::var("UC_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    let mut runner = TestRunner::new_with_rng(
        Config { cases, ..Config::default() },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[17; 32]),
    );
    let scalar = prop_oneof![
        Just("-1".to_string()),
        Just("0".to_string()),
        Just("1".to_string()),
        Just("9223372036854775808".to_string()),
        Just("1e400".to_string()),
        Just("%00".to_string()),
        Just("%FF%FE".to_string()),
        Just("TrUe".to_string()),
        Just("2024-02-30T25:61:00Z".to_string()),
        Just("1970-01-01T00:00:00.000000001%2B14:00".to_string()),
        Just("x".repeat(20_000)),
        "[a-zA-Z0-9%._~:-]{0,30}",
    ];
    let param = prop::sample::select(vec![
        "maxResults",
        "pageToken",
        "version",
        "timestamp",
        "startingVersion",
        "endingVersion",
        "startingTimestamp",
        "endingTimestamp",
        "includeHistoricalMetadata",
    ]);
    let json_value = prop_oneof![
        Just("null".to_string()),
        Just("-1".to_string()),
        Just("3".to_string()),
        Just("18446744073709551616".to_string()),
        Just("0.5".to_string()),
        Just("true".to_string()),
        Just("\"1970-01-01T00:00:00Z\"".to_string()),
        Just("\"not json {\"".to_string()),
        Just("[\"a = 1\", 2]".to_string()),
        Just(format!("{}{}", "[".repeat(5000), "]".repeat(5000))),
        Just(
            serde_json::to_string(
                &json!({"op": "and", "children": [{"op": "isNull", "children": [
            {"op": "column", "name": "region", "valueType": "string"}]}]})
                .to_string()
            )
            .unwrap()
        ),
        "\\PC{0,20}".prop_map(|s| serde_json::to_string(&s).unwrap()),
    ];
    let field = prop::sample::select(vec![
        "version",
        "timestamp",
        "startingVersion",
        "endingVersion",
        "limitHint",
        "predicateHints",
        "jsonPredicateHints",
        "maxFiles",
        "pageToken",
    ]);
    let body = prop_oneof![
        6 => prop::collection::vec((field, json_value), 0..4).prop_map(|kv| {
            let fields: Vec<String> = kv.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            format!("{{{}}}", fields.join(","))
        }),
        1 => Just("{\"version\": ".to_string()),
        1 => Just("\"text\"".to_string()),
        1 => prop::collection::vec(any::<u8>(), 0..32).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ];
    let capability = prop_oneof![
        Just(None),
        Just(Some("responseformat=delta".to_string())),
        Just(Some("responseformat=parquet,delta;readerfeatures=deletionvectors".to_string())),
        Just(Some(";;=,;responseformat=".to_string())),
        "[a-z=,;]{0,30}".prop_map(Some),
    ];
    let fileidhash = prop_oneof![Just(None), Just(Some("DELTA".to_string())), "[a-z]{0,8}".prop_map(Some)];
    let t = format!("{}/shares/s/schemas/sales/tables/events", lake.prefix);
    let gets = [
        format!("{}/shares", lake.prefix),
        format!("{}/shares/s", lake.prefix),
        format!("{}/shares/s/schemas", lake.prefix),
        format!("{}/shares/s/schemas/sales/tables", lake.prefix),
        format!("{}/shares/s/all-tables", lake.prefix),
        format!("{t}/version"),
        format!("{t}/metadata"),
        format!("{t}/changes"),
    ];
    let strategy = (
        prop::sample::select(gets.to_vec()),
        prop::collection::vec((param, scalar), 0..4),
        body,
        capability,
        fileidhash,
    );
    let check = |what: &str, r: &Resp| {
        assert!(r.status < 500, "{what} answered {}: {}", r.status, r.text);
        if r.status >= 400 {
            let body = r.json();
            assert_eq!(body["errorCode"], body["error_code"], "{what}: {}", r.text);
            assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {}", r.text);
        }
    };
    for _ in 0..cases * 8 {
        let (path, params, body, capability, fileidhash) = strategy.new_tree(&mut runner).expect("a case").current();
        let q: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let url = format!("{}{path}?{}", lake.app.url, q.join("&"));
        let mut get = lake.app.client.get(&url).header("Authorization", &lake.bearer);
        let mut post = lake.app.client.post(format!("{}{t}/query", lake.app.url)).header("Authorization", &lake.bearer);
        if let Some(c) = &capability {
            get = get.header("delta-sharing-capabilities", c);
            post = post.header("delta-sharing-capabilities", c);
        }
        if let Some(f) = &fileidhash {
            get = get.header("fileidhash", f);
            post = post.header("fileidhash", f);
        }
        let what = &url[..url.len().min(300)];
        check(what, &lake.app.anonymous().execute(get).await);
        check(&format!("query {}", &body[..body.len().min(300)]), &lake.app.anonymous().execute(post.body(body)).await);
    }
    // Hostile file URLs and ranges.
    std::fs::create_dir_all(lake.dir.join("events/region=eu")).unwrap();
    std::fs::write(lake.dir.join("events/region=eu/a.parquet"), b"PAR1").unwrap();
    let url = lake.files("s", "events", json!({})).await[0].1.clone();
    let (base, query) = url.split_once('?').unwrap();
    let prefix = base.rsplit_once('/').unwrap().0;
    let urls = [
        format!("{prefix}/%00?{query}"),
        format!("{prefix}/{}?{query}", "A".repeat(20_000)),
        format!("{prefix}/!!!?{query}"),
        format!("{base}?X-UC-Expires=99999999999999999999999&X-UC-Signature=zz"),
        format!("{base}?X-UC-Expires=-1&X-UC-Signature={}", "0".repeat(64)),
        format!("{base}?X-UC-Expires&X-UC-Signature"),
        format!("{base}?{query}&X-UC-Signature=00"),
        format!("{base}?{query}&X-Databricks-Signature=00"),
        // The signature under the kernel's key alone is not the signature.
        format!("{base}?{}", query.replace("X-UC-Signature=", "X-Other=")),
    ];
    for u in &urls {
        let r = lake.app.anonymous().execute(lake.app.client.get(u)).await;
        assert!(matches!(r.status, 403 | 404), "{}: {} {}", &u[..u.len().min(200)], r.status, r.text);
        check(u, &r);
    }
    for range in
        ["bytes=99999999999999999999-", "bytes=5-2", "bytes=-99999999999999999999", "bytes=", "bytes=a-b", "bytes=0-0"]
    {
        let r = lake.app.anonymous().execute(lake.app.client.get(&url).header("Range", range)).await;
        assert!(matches!(r.status, 200 | 206 | 416), "{range}: {} {}", r.status, r.text);
        check(range, &r);
    }
    // The server still serves.
    assert_eq!(lake.files("s", "events", json!({})).await.len(), 3);
}
