//! Load benchmark for uc-emulator.
//!
//! ```text
//! cargo build --release
//! cargo run --release --example bench -- [--server target/release/uc-emulator] [--seconds 5] [--concurrency 32]
//! ```
//!
//! What it does, against a server it starts itself on a fresh temporary database:
//!
//! 1. seeds 10 catalogs x 10 schemas x 100 tables (4 columns each) through the REST API with
//!    `--concurrency` concurrent requests, measuring the createTable rate while seeding;
//! 2. reads the server's resident memory (VmRSS) after seeding;
//! 3. stops the server and restarts it on the same 10,000-table database, timing start-up
//!    until the listening line (several plain restarts, then one restart that applies a
//!    fixture with 1,000 grants: `analysts` gets USE_CATALOG, USE_SCHEMA and SELECT on every
//!    catalog, other principals get table-level grants);
//! 4. on that server, runs a closed-loop load of `--seconds` seconds with `--concurrency`
//!    keep-alive connections for GET /healthz, getTable (admin), getTable (`dapi-alice`,
//!    allowed only through the group `analysts`), listTables (a page of 50) and createTable
//!    (new tables), and prints requests/s, p50 and p99, each rate also as % of /healthz.
//!
//! Other flags: `--client-threads N` (tokio worker threads of the load generator, default 2),
//! `--default-fixture PATH` (identities to re-apply with the grants, default
//! `fixtures/default.json`), `--tables-per-schema N` (default 100, smaller for a quick try),
//! `--restarts N` (plain restarts timed, default 3), `--keep DIR` (use DIR for the database
//! and the server logs and keep them, instead of a temporary directory).
//!
//! The load generator runs on the same machine as the server and takes part of its CPU.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Client, Method, Url};
use serde_json::{json, Value};

const CATALOGS: usize = 10;
const SCHEMAS_PER_CATALOG: usize = 10;
const GRANTS_TOTAL: usize = 1_000;
const API: &str = "/api/2.1/unity-catalog";
const ETL_BOT: &str = "6f1d1c2e-0000-4000-8000-000000000001";

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = Result<T, BoxError>;

// ---------------------------------------------------------------------------------------------
// Command line

struct Args {
    server: PathBuf,
    seconds: f64,
    concurrency: usize,
    client_threads: usize,
    default_fixture: PathBuf,
    tables_per_schema: usize,
    restarts: usize,
    keep: Option<PathBuf>,
}

fn usage() -> ! {
    eprintln!(
        "usage: bench [--server PATH] [--seconds N] [--concurrency N] [--client-threads N]\n             \
         [--default-fixture PATH] [--tables-per-schema N] [--restarts N] [--keep DIR]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut a = Args {
        server: root.join("target/release/uc-emulator"),
        seconds: 5.0,
        concurrency: 32,
        client_threads: 2,
        default_fixture: root.join("fixtures/default.json"),
        tables_per_schema: 100,
        restarts: 3,
        keep: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let (flag, inline) = match flag.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (flag, None),
        };
        if flag == "-h" || flag == "--help" {
            usage();
        }
        let value = inline.or_else(|| it.next()).unwrap_or_else(|| {
            eprintln!("bench: {flag} needs a value");
            usage()
        });
        fn num<T: std::str::FromStr>(flag: &str, v: &str) -> T {
            v.parse().unwrap_or_else(|_| {
                eprintln!("bench: bad value {v:?} for {flag}");
                usage()
            })
        }
        match flag.as_str() {
            "--server" => a.server = PathBuf::from(value),
            "--seconds" => a.seconds = num(&flag, &value),
            "--concurrency" => a.concurrency = num(&flag, &value),
            "--client-threads" => a.client_threads = num(&flag, &value),
            "--default-fixture" => a.default_fixture = PathBuf::from(value),
            "--tables-per-schema" => a.tables_per_schema = num(&flag, &value),
            "--restarts" => a.restarts = num(&flag, &value),
            "--keep" => a.keep = Some(PathBuf::from(value)),
            _ => {
                eprintln!("bench: unknown flag {flag}");
                usage()
            }
        }
    }
    if a.concurrency == 0 || a.client_threads == 0 || a.tables_per_schema == 0 || a.seconds.is_nan() || a.seconds <= 0.0
    {
        eprintln!("bench: --concurrency, --client-threads, --tables-per-schema and --seconds must be positive");
        usage();
    }
    a
}

// ---------------------------------------------------------------------------------------------
// The server process

struct Server {
    child: Child,
    base: String,
    startup: Duration,
}

impl Server {
    /// Starts `bin serve` on `db` and waits for the listening line; `startup` is the time from
    /// spawn to that line.
    fn start(bin: &Path, db: &Path, fixtures: &[PathBuf], log: &Path) -> Res<Server> {
        let log_file = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
        let mut cmd = Command::new(bin);
        cmd.arg("serve").arg("--bind").arg("127.0.0.1:0").arg("--db").arg(db);
        for f in fixtures {
            cmd.arg("--fixtures").arg(f);
        }
        for var in ["UC_EMULATOR_FIXTURES", "UC_EMULATOR_BIND", "UC_EMULATOR_DB"] {
            cmd.env_remove(var);
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::from(log_file));

        let t0 = Instant::now();
        let mut child = cmd.spawn().map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut line = String::new();
            let _ = r.read_line(&mut line);
            let _ = tx.send(line);
            let mut rest = Vec::new();
            let _ = r.read_to_end(&mut rest); // keep the pipe drained
        });
        let line = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no listening line within 120 s (see {})", log.display()).into());
            }
        };
        let startup = t0.elapsed();
        let Some(base) = line.trim().strip_prefix("uc-emulator listening on ") else {
            let _ = child.kill();
            let status = child.wait();
            return Err(format!("unexpected first stdout line {line:?} ({status:?}); see {}", log.display()).into());
        };
        Ok(Server { base: base.to_string(), child, startup })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A `/proc/PID/status` field in KiB (VmRSS, VmHWM).
    fn status_kib(&self, field: &str) -> Option<u64> {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        s.lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// SIGTERM (graceful shutdown), SIGKILL after 20 s.
    fn stop(mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.pid().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("bench: server {} did not stop within 20 s; killing it", self.pid());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Load generation

/// xorshift64*: enough randomness to pick tables, no extra dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as usize % n
    }
}

/// One request to send: method, URL, token, optional JSON body.
struct Req {
    method: Method,
    url: Url,
    auth: HeaderValue,
    body: Option<String>,
}

/// Builds the request for (worker, sequence number within the worker).
type MakeReq = Arc<dyn Fn(&mut Rng, usize, u64) -> Req + Send + Sync>;

#[derive(Default)]
struct Stats {
    ok: u64,
    errors: u64,
    first_error: Option<String>,
    lat_us: Vec<u32>,
    elapsed: Duration,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        self.ok += other.ok;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.lat_us.extend(other.lat_us);
    }
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
    fn pct_ms(&mut self, p: f64) -> f64 {
        if self.lat_us.is_empty() {
            return f64::NAN;
        }
        self.lat_us.sort_unstable();
        let i = ((self.lat_us.len() as f64 * p / 100.0).ceil() as usize).clamp(1, self.lat_us.len()) - 1;
        self.lat_us[i] as f64 / 1000.0
    }
}

async fn send(client: &Client, r: Req, stats: &mut Stats) {
    let mut b = client.request(r.method, r.url).header(AUTHORIZATION, r.auth);
    if let Some(body) = r.body {
        b = b.header(CONTENT_TYPE, HeaderValue::from_static("application/json")).body(body);
    }
    let t = Instant::now();
    let outcome = match b.send().await {
        Ok(resp) => {
            let status = resp.status();
            match resp.bytes().await {
                Ok(_) if status.is_success() => Ok(()),
                Ok(body) => Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&body[..body.len().min(300)]))),
                Err(e) => Err(format!("reading body: {e}")),
            }
        }
        Err(e) => Err(format!("request: {e}")),
    };
    let us = t.elapsed().as_micros().min(u32::MAX as u128) as u32;
    match outcome {
        Ok(()) => {
            stats.ok += 1;
            stats.lat_us.push(us);
        }
        Err(e) => {
            stats.errors += 1;
            if stats.first_error.is_none() {
                stats.first_error = Some(e);
            }
        }
    }
}

/// Closed loop: `concurrency` workers each send a request, wait for the answer, and send the
/// next one, until `duration` has passed (after an unmeasured warm-up).
async fn closed_loop(client: &Client, duration: Duration, concurrency: usize, make: MakeReq) -> Stats {
    let warmup = (duration / 5).min(Duration::from_secs(1));
    let run = |d: Duration, seed: u64| {
        let deadline = Instant::now() + d;
        let mut handles = Vec::with_capacity(concurrency);
        for w in 0..concurrency {
            let (client, make) = (client.clone(), Arc::clone(&make));
            handles.push(tokio::spawn(async move {
                let mut rng = Rng::new((seed << 20) + w as u64 + 1);
                let mut stats = Stats { lat_us: Vec::with_capacity(1 << 14), ..Default::default() };
                let mut seq = seed << 32; // distinct between warm-up and run
                while Instant::now() < deadline {
                    let r = make(&mut rng, w, seq);
                    seq += 1;
                    send(&client, r, &mut stats).await;
                }
                stats
            }));
        }
        async move {
            let t0 = Instant::now();
            let mut all = Stats::default();
            for h in handles {
                all.merge(h.await.expect("worker panicked"));
            }
            all.elapsed = t0.elapsed();
            all
        }
    };
    let _ = run(warmup, 1).await;
    run(duration, 2).await
}

/// Sends every request of `reqs` once, `concurrency` at a time.
async fn drain(client: &Client, concurrency: usize, reqs: Vec<Req>) -> Stats {
    let n = reqs.len();
    let queue: Arc<std::sync::Mutex<std::vec::IntoIter<Req>>> = Arc::new(std::sync::Mutex::new(reqs.into_iter()));
    let t0 = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..concurrency.min(n.max(1)) {
        let (client, queue) = (client.clone(), Arc::clone(&queue));
        handles.push(tokio::spawn(async move {
            let mut stats = Stats::default();
            loop {
                let next = queue.lock().unwrap().next();
                let Some(r) = next else { break };
                send(&client, r, &mut stats).await;
            }
            stats
        }));
    }
    let mut all = Stats::default();
    for h in handles {
        all.merge(h.await.expect("worker panicked"));
    }
    all.elapsed = t0.elapsed();
    all
}

fn check(what: &str, s: &Stats) -> Res<()> {
    if s.errors > 0 {
        return Err(format!(
            "{what}: {} of {} requests failed; first: {}",
            s.errors,
            s.errors + s.ok,
            s.first_error.as_deref().unwrap_or("?")
        )
        .into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Request bodies and fixtures

fn columns() -> Value {
    json!([
        {"name": "id", "type_name": "INT", "type_text": "int", "type_json": "{}", "position": 0},
        {"name": "a", "type_name": "INT", "type_text": "int", "type_json": "{}", "position": 1},
        {"name": "b", "type_name": "INT", "type_text": "int", "type_json": "{}", "position": 2},
        {"name": "c", "type_name": "INT", "type_text": "int", "type_json": "{}", "position": 3},
    ])
}

/// `{"name": ...` is prepended per request; this is the rest of a createTable body.
fn table_body_rest(catalog: &str, schema: &str) -> String {
    let mut v = json!({
        "catalog_name": catalog, "schema_name": schema, "table_type": "MANAGED",
        "data_source_format": "DELTA", "columns": columns(),
    })
    .to_string();
    v.remove(0); // the '{'
    v
}

fn table_body(name: &str, rest: &str) -> String {
    format!("{{\"name\":\"{name}\",{rest}")
}

fn cat(i: usize) -> String {
    format!("cat{i}")
}

/// The grants fixture: `analysts` on every catalog (3 grants each), the rest table-level
/// grants to other principals, GRANTS_TOTAL privilege grants in all.
fn grants_fixture(tables_per_schema: usize) -> (Value, usize) {
    let mut grants = Vec::new();
    let mut count = 0;
    for c in 0..CATALOGS {
        grants.push(json!({
            "securable_type": "catalog", "full_name": cat(c), "principal": "analysts",
            "privileges": ["USE_CATALOG", "USE_SCHEMA", "SELECT"],
        }));
        count += 3;
    }
    let total_tables = CATALOGS * SCHEMAS_PER_CATALOG * tables_per_schema;
    let principals = ["admins", "admin@example.com", ETL_BOT];
    let privileges = ["SELECT", "MODIFY"];
    let mut i = 0usize;
    while count < GRANTS_TOTAL {
        // Spread over the tables; (table, principal, privilege) never repeats.
        let g = (i * 7919) % total_tables;
        let round = i / total_tables;
        let (principal, privilege) = (principals[(i + round) % 3], privileges[(i / 3 + round) % 2]);
        let (c, s, t) = (
            g / (SCHEMAS_PER_CATALOG * tables_per_schema),
            (g / tables_per_schema) % SCHEMAS_PER_CATALOG,
            g % tables_per_schema,
        );
        grants.push(json!({
            "securable_type": "table", "full_name": format!("cat{c}.s{s}.t{t}"),
            "principal": principal, "privileges": [privilege],
        }));
        count += 1;
        i += 1;
    }
    (json!({ "grants": grants }), count)
}

// ---------------------------------------------------------------------------------------------

struct Row {
    name: String,
    stats: Stats,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn mib(kib: Option<u64>) -> String {
    kib.map(|k| format!("{:.1} MiB", k as f64 / 1024.0)).unwrap_or_else(|| "?".into())
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn bench(args: Args) -> Res<()> {
    if !args.server.exists() {
        return Err(format!("{} not found; build it first with `cargo build --release`", args.server.display()).into());
    }
    let tmp;
    let dir: PathBuf = match &args.keep {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => {
            tmp = tempfile::Builder::new().prefix("uc-bench").tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let db = dir.join("bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let log = dir.join("server.log");
    let tps = args.tables_per_schema;
    let n_tables = CATALOGS * SCHEMAS_PER_CATALOG * tps;
    let seconds = Duration::from_secs_f64(args.seconds);
    let conc = args.concurrency;

    let client = Client::builder()
        .pool_max_idle_per_host(usize::MAX)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .build()?;
    let admin = HeaderValue::from_static("Bearer dapi-admin");
    let alice = HeaderValue::from_static("Bearer dapi-alice");

    println!("uc-emulator benchmark: server {}", args.server.display());
    println!(
        "  {} CPUs, load generator on {} tokio threads, concurrency {conc}, {:.1} s per load, database {}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        args.client_threads,
        args.seconds,
        db.display()
    );

    // ---- 1. Fresh server and seeding --------------------------------------------------------
    let s1 = Server::start(&args.server, &db, &[], &log)?;
    let fresh_startup = s1.startup;
    let base = s1.base.clone();
    let u = |path: &str| -> Res<Url> { Ok(Url::parse(&format!("{base}{path}"))?) };
    let post = |path: &str, body: String| -> Res<Req> {
        Ok(Req { method: Method::POST, url: u(path)?, auth: admin.clone(), body: Some(body) })
    };
    let rss_fresh = s1.status_kib("VmRSS");

    let catalog_reqs = (0..CATALOGS)
        .map(|c| post(&format!("{API}/catalogs"), json!({"name": cat(c)}).to_string()))
        .collect::<Res<Vec<_>>>()?;
    let s = drain(&client, 1, catalog_reqs).await;
    check("createCatalog", &s)?;
    let mut schema_reqs = Vec::new();
    for c in 0..CATALOGS {
        for name in (0..SCHEMAS_PER_CATALOG).map(|s| format!("s{s}")).chain(["load".to_string()]) {
            schema_reqs
                .push(post(&format!("{API}/schemas"), json!({"name": name, "catalog_name": cat(c)}).to_string())?);
        }
    }
    let s = drain(&client, conc, schema_reqs).await;
    check("createSchema", &s)?;

    let mut table_reqs = Vec::with_capacity(n_tables);
    for c in 0..CATALOGS {
        for s in 0..SCHEMAS_PER_CATALOG {
            let rest = table_body_rest(&cat(c), &format!("s{s}"));
            for t in 0..tps {
                table_reqs.push(post(&format!("{API}/tables"), table_body(&format!("t{t}"), &rest))?);
            }
        }
    }
    // Interleave schemas so that concurrent requests do not all hit one schema.
    let mut interleaved = Vec::with_capacity(n_tables);
    let mut per_schema: Vec<std::vec::IntoIter<Req>> = {
        let mut groups = Vec::new();
        let mut it = table_reqs.into_iter();
        for _ in 0..CATALOGS * SCHEMAS_PER_CATALOG {
            groups.push(it.by_ref().take(tps).collect::<Vec<_>>().into_iter());
        }
        groups
    };
    for _ in 0..tps {
        for g in per_schema.iter_mut() {
            interleaved.extend(g.next());
        }
    }
    eprintln!("seeding {n_tables} tables ...");
    let seed_stats = drain(&client, conc, interleaved).await;
    check("createTable (seeding)", &seed_stats)?;
    tokio::time::sleep(Duration::from_millis(1500)).await; // let the WAL checkpointer catch up
    let rss_seeded = s1.status_kib("VmRSS");
    let hwm_seeded = s1.status_kib("VmHWM");
    s1.stop();
    let db_size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    let wal_size = std::fs::metadata(format!("{}-wal", db.display())).map(|m| m.len()).unwrap_or(0);

    // ---- 2. Restarts on the seeded database -------------------------------------------------
    let mut restarts = Vec::new();
    let mut rss_restarted = None;
    for _ in 0..args.restarts {
        let s = Server::start(&args.server, &db, &[], &log)?;
        restarts.push(s.startup);
        rss_restarted = s.status_kib("VmRSS");
        s.stop();
    }
    let (fixture, grant_count) = grants_fixture(tps);
    let grants_path = dir.join("bench-grants.json");
    std::fs::write(&grants_path, serde_json::to_vec_pretty(&fixture)?)?;
    let fixtures = [args.default_fixture.clone(), grants_path.clone()];
    let server = Server::start(&args.server, &db, &fixtures, &log)?;
    let grants_startup = server.startup;
    // Once more, now that the grants exist (create-if-missing: nothing to insert).
    server.stop();
    let server = Server::start(&args.server, &db, &fixtures, &log)?;
    let grants_again_startup = server.startup;

    // ---- 3. Loads --------------------------------------------------------------------------
    let base = server.base.clone();
    let url = |path: String| Url::parse(&format!("{base}{path}")).expect("valid URL");
    let table_urls: Arc<Vec<Url>> = Arc::new(
        (0..n_tables)
            .map(|g| {
                let (c, s, t) = (g / (SCHEMAS_PER_CATALOG * tps), (g / tps) % SCHEMAS_PER_CATALOG, g % tps);
                url(format!("{API}/tables/cat{c}.s{s}.t{t}"))
            })
            .collect(),
    );
    let list_urls: Arc<Vec<Url>> = Arc::new(
        (0..CATALOGS * SCHEMAS_PER_CATALOG)
            .map(|i| {
                let (c, s) = (i / SCHEMAS_PER_CATALOG, i % SCHEMAS_PER_CATALOG);
                url(format!("{API}/tables?catalog_name=cat{c}&schema_name=s{s}&max_results=50"))
            })
            .collect(),
    );
    let healthz = url("/healthz".into());
    let create_url = url(format!("{API}/tables"));
    let load_rests: Arc<Vec<String>> = Arc::new((0..CATALOGS).map(|c| table_body_rest(&cat(c), "load")).collect());

    // Sanity: alice can read a table through the group grants, and sees the same thing.
    for auth in [&admin, &alice] {
        let r = Req { method: Method::GET, url: table_urls[n_tables - 1].clone(), auth: auth.clone(), body: None };
        let mut s = Stats::default();
        send(&client, r, &mut s).await;
        check(&format!("getTable as {auth:?}"), &s)?;
    }

    let mut rows: Vec<Row> = Vec::new();
    let mut run = |name: &str, stats: Stats| -> Res<()> {
        check(name, &stats)?;
        rows.push(Row { name: name.to_string(), stats });
        Ok(())
    };

    eprintln!("load: healthz ...");
    let h = healthz.clone();
    let st = closed_loop(
        &client,
        seconds,
        conc,
        Arc::new(move |_, _, _| Req {
            method: Method::GET,
            url: h.clone(),
            auth: HeaderValue::from_static("Bearer dapi-admin"),
            body: None,
        }),
    )
    .await;
    run("GET /healthz", st)?;

    for (name, auth) in [("getTable (admin)", admin.clone()), ("getTable (alice via group)", alice.clone())] {
        eprintln!("load: {name} ...");
        let urls = Arc::clone(&table_urls);
        let st = closed_loop(
            &client,
            seconds,
            conc,
            Arc::new(move |rng: &mut Rng, _, _| Req {
                method: Method::GET,
                url: urls[rng.below(urls.len())].clone(),
                auth: auth.clone(),
                body: None,
            }),
        )
        .await;
        run(name, st)?;
    }

    eprintln!("load: listTables ...");
    let (urls, a) = (Arc::clone(&list_urls), admin.clone());
    let st = closed_loop(
        &client,
        seconds,
        conc,
        Arc::new(move |rng: &mut Rng, _, _| Req {
            method: Method::GET,
            url: urls[rng.below(urls.len())].clone(),
            auth: a.clone(),
            body: None,
        }),
    )
    .await;
    run("listTables (50/page)", st)?;

    eprintln!("load: createTable ...");
    let (rests, a, cu) = (Arc::clone(&load_rests), admin.clone(), create_url.clone());
    let epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let st = closed_loop(
        &client,
        seconds,
        conc,
        Arc::new(move |_: &mut Rng, w: usize, seq: u64| Req {
            method: Method::POST,
            url: cu.clone(),
            auth: a.clone(),
            body: Some(table_body(&format!("n{epoch}_{w}_{seq}"), &rests[w % rests.len()])),
        }),
    )
    .await;
    run("createTable (new tables)", st)?;

    let rss_loaded = server.status_kib("VmRSS");
    let hwm_loaded = server.status_kib("VmHWM");
    server.stop();

    // ---- Report ----------------------------------------------------------------------------
    let mut seed_stats = seed_stats;
    let hz = rows[0].stats.rate();
    println!();
    println!("| operation                     |  requests | errors |    req/s | p50 ms | p99 ms | % of healthz |");
    println!("|-------------------------------|----------:|-------:|---------:|-------:|-------:|-------------:|");
    let line = |name: &str, s: &mut Stats| {
        let (p50, p99) = (s.pct_ms(50.0), s.pct_ms(99.0));
        println!(
            "| {:<29} | {:>9} | {:>6} | {:>8.0} | {:>6.2} | {:>6.2} | {:>11.1}% |",
            name,
            s.ok,
            s.errors,
            s.rate(),
            p50,
            p99,
            100.0 * s.rate() / hz
        );
    };
    for r in rows.iter_mut() {
        line(&r.name, &mut r.stats);
    }
    line(&format!("createTable (seeding {n_tables})"), &mut seed_stats);
    let admin_get = rows[1].stats.rate();
    let alice_get = rows[2].stats.rate();
    println!();
    println!(
        "non-admin getTable (dapi-alice, group `analysts`, {grant_count} grants in the db): {:.1}% of admin getTable",
        100.0 * alice_get / admin_get
    );
    println!(
        "seeding: {n_tables} tables in {:.2} s ({:.0} tables/s)",
        seed_stats.elapsed.as_secs_f64(),
        seed_stats.rate()
    );
    println!();
    println!("memory (VmRSS): fresh {}, after seeding {n_tables} tables {} (peak {}), after restart {}, after the loads {} (peak {})",
        mib(rss_fresh), mib(rss_seeded), mib(hwm_seeded), mib(rss_restarted), mib(rss_loaded), mib(hwm_loaded));
    println!(
        "database after seeding: {:.1} MiB (+ WAL {:.1} MiB)",
        db_size as f64 / 1048576.0,
        wal_size as f64 / 1048576.0
    );
    println!();
    println!("start-up until the listening line:");
    println!("  new database (built-in fixture)                 {}", ms(fresh_startup));
    if !restarts.is_empty() {
        println!(
            "  restart on {n_tables} tables, no fixture        {} median of {} ({})",
            ms(median(restarts.clone())),
            restarts.len(),
            restarts.iter().map(|d| ms(*d)).collect::<Vec<_>>().join(", ")
        );
    }
    println!("  restart + default.json + {grant_count} grants (inserted)  {}", ms(grants_startup));
    println!("  restart + same fixtures (already present)       {}", ms(grants_again_startup));
    if args.keep.is_some() {
        println!("\ndatabase, fixture and server log kept in {}", dir.display());
    }
    Ok(())
}

fn main() {
    let args = parse_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads)
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = rt.block_on(bench(args)) {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
}
