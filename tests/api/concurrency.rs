//! Concurrency under load: 32 writers and 32 readers at once never see a 5xx or a "database is
//! locked", and the write-ahead log stays bounded while they run.
//!
//! The default run lasts 3 seconds; the long run is
//! `UC_EMULATOR_SOAK_SECONDS=60 cargo test --release --test api concurrency -- --nocapture`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{spawn, table_body, UC};

const WRITERS: usize = 32;
const READERS: usize = 32;
const SCHEMAS: usize = 8;
const WAL_LIMIT: u64 = 64 * 1024 * 1024;

#[derive(Default)]
struct Outcome {
    ok: AtomicU64,
    refused: AtomicU64,
    failures: std::sync::Mutex<Vec<String>>,
}

impl Outcome {
    fn record(&self, what: &str, status: u16, body: &str) {
        if status >= 500 || body.contains("database is locked") {
            self.failures.lock().unwrap().push(format!("{what}: {status} {body}"));
        } else if status < 300 {
            self.ok.fetch_add(1, Ordering::Relaxed);
        } else {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[actix_web::test]
async fn writers_and_readers_at_once_never_fail_and_the_wal_stays_bounded() {
    let seconds: u64 = std::env::var("UC_EMULATOR_SOAK_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let app = spawn().await;
    let admin = app.admin();
    admin.create_catalog("soak").await;
    for s in 0..SCHEMAS {
        admin.create_schema("soak", &format!("s{s}")).await;
        admin.create_table("soak", &format!("s{s}"), "seed").await;
    }
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let writes = Arc::new(Outcome::default());
    let reads = Arc::new(Outcome::default());
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (client, url, out) = (app.client.clone(), app.url.clone(), Arc::clone(&writes));
        tasks.push(actix_web::rt::spawn(async move {
            let schema = format!("s{}", w % SCHEMAS);
            let mut i = 0u64;
            while Instant::now() < deadline {
                let name = format!("t{w}_{i}");
                let full = format!("soak.{schema}.{name}");
                let steps: [(reqwest::Method, String, Option<serde_json::Value>); 3] = [
                    (reqwest::Method::POST, format!("{UC}/tables"), Some(table_body("soak", &schema, &name))),
                    (reqwest::Method::PATCH, format!("{UC}/tables/{full}"), Some(json!({"comment": "c"}))),
                    (reqwest::Method::DELETE, format!("{UC}/tables/{full}"), None),
                ];
                // Keep two of every three tables: deletes, updates and creates all run.
                for (method, path, body) in steps.into_iter().take(if i.is_multiple_of(3) { 3 } else { 2 }) {
                    let mut req = client.request(method.clone(), format!("{url}{path}")).bearer_auth("dapi-admin");
                    if let Some(b) = body {
                        req = req.json(&b);
                    }
                    match req.send().await {
                        Ok(r) => {
                            let status = r.status().as_u16();
                            out.record(&format!("{method} {path}"), status, &r.text().await.unwrap_or_default());
                        }
                        Err(e) => out.failures.lock().unwrap().push(format!("{method} {path}: {e}")),
                    }
                }
                i += 1;
            }
        }));
    }
    for r in 0..READERS {
        let (client, url, out) = (app.client.clone(), app.url.clone(), Arc::clone(&reads));
        tasks.push(actix_web::rt::spawn(async move {
            let mut i = 0usize;
            while Instant::now() < deadline {
                let s = (r + i) % SCHEMAS;
                let path = match i % 3 {
                    0 => format!("{UC}/tables/soak.s{s}.seed"),
                    1 => format!("{UC}/tables?catalog_name=soak&schema_name=s{s}&max_results=50"),
                    _ => format!("{UC}/table-summaries?catalog_name=soak&max_results=50"),
                };
                let token = if i.is_multiple_of(2) { "dapi-admin" } else { "dapi-alice" };
                match client.get(format!("{url}{path}")).bearer_auth(token).send().await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        out.record(&path, status, &resp.text().await.unwrap_or_default());
                    }
                    Err(e) => out.failures.lock().unwrap().push(format!("GET {path}: {e}")),
                }
                i += 1;
            }
        }));
    }
    let wal = format!("{}-wal", app.db.display());
    let mut wal_max = 0u64;
    while Instant::now() < deadline {
        wal_max = wal_max.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    for t in tasks {
        t.await.expect("task");
    }
    let (w, r) = (writes.ok.load(Ordering::Relaxed), reads.ok.load(Ordering::Relaxed));
    eprintln!("{seconds} s: {w} writes, {r} reads succeeded; WAL at most {:.1} MiB", wal_max as f64 / 1048576.0);
    for out in [&writes, &reads] {
        let failures = out.failures.lock().unwrap();
        assert!(failures.is_empty(), "{} failures, first: {:?}", failures.len(), &failures[..failures.len().min(3)]);
    }
    assert_eq!(writes.refused.load(Ordering::Relaxed), 0, "a write was refused");
    assert!(w > WRITERS as u64 && r > READERS as u64, "too little work done: {w} writes, {r} reads");
    assert!(wal_max <= WAL_LIMIT, "the WAL reached {wal_max} bytes");
    // Everything the writers kept is there, exactly once.
    let listed = admin.get(&format!("{UC}/tables?catalog_name=soak&schema_name=s0")).await.ok("list s0");
    assert!(!listed["tables"].as_array().unwrap().is_empty());
}
