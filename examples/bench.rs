//! Load benchmark for uc-emulator, measured side by side with a bare ceiling.
//!
//! ```text
//! cargo build --release
//! cargo run --release --example bench -- [--tables 10000] [--seconds 5] [--concurrency 32] [--sustain 30]
//! ```
//!
//! What it does, against a server it starts itself on a fresh temporary database:
//!
//! 1. creates 10 catalogs x 10 schemas and seeds `--tables` tables (4 columns each) in them:
//!    through the REST API with `--concurrency` concurrent requests up to 10,000 tables
//!    (measuring the createTable rate while seeding), directly into the database beyond
//!    (rows shaped like the API's, written in large transactions: 1M tables in about a minute);
//! 2. builds the ceiling: a bare actix-web + rusqlite service in a process of its own (this
//!    program with `--serve-ceiling`), over a table with the same rows and columns keyed by full
//!    name, that answers a primary-key lookup, a page of 50 and an insert as typed JSON (serde,
//!    the column list embedded as stored), each with a per-thread connection on the worker
//!    thread (inserts through one connection behind a mutex): no authentication, validation,
//!    authorization or logging;
//! 3. measures a bare SQLite baseline in this process: primary-key lookups and one-row insert
//!    transactions per second on the ceiling's database, one thread, no HTTP at all;
//! 4. restarts the server on the seeded database (several plain restarts timed, then one that
//!    applies a fixture with 1,000 grants: `analysts` gets USE_CATALOG, USE_SCHEMA and SELECT
//!    on every catalog, other principals get table-level grants);
//! 5. runs closed-loop loads of `--seconds` with `--concurrency` keep-alive connections (one
//!    hyper HTTP/1.1 connection per worker, no pool), each emulator load right after the same
//!    load on the ceiling, and reads from `/proc` the CPU time each side and the load generator
//!    used per request: getTable (admin, and `dapi-alice`
//!    allowed only through the group `analysts`) against the ceiling's lookup, listTables (50)
//!    against its page, createTable against its insert; then a mix of other writes (update a
//!    table, grant and revoke, create and delete a schema, rename a storage credential, rename a
//!    user through SCIM), each with p50 and p99;
//! 6. runs `--sustain` seconds of createTable, sampling the size of the WAL every 100 ms, and
//!    reports its largest size, its size 2 s after the load, and the database's growth per
//!    table created against its size per seeded table;
//! 7. reports the server's resident memory (VmRSS) at each step, and what of it is anonymous
//!    (RssAnon) and file-backed (RssFile: the program's own pages and any database pages the
//!    server maps).
//!
//! With more than 10,000 tables (seeded directly), the same run also seeds a reference database
//! of `--reference-tables` (default 10,000) the same way, with a server and a ceiling of its
//! own, and runs each read load on both databases (the reference first in every other round):
//! the rate at the larger size over the rate at the reference size, for the ceiling and for
//! the server, is then a ratio measured side by side rather than across two runs.
//!
//! Ratios are emulator / ceiling from the same run: of the rates, and of the CPU time per
//! request (the ceiling's over the server's: what each side spent on an answer, which the load
//! generator's own share of the two cores does not move). Other flags: `--client-threads N` (tokio
//! threads of the load generator, default 2), `--rounds N` (repeat the paired loads and report
//! the median ratio, default 1; every read round runs before the createTable rounds, which grow
//! the database), `--default-fixture PATH`, `--restarts N` (default 3),
//! `--keep DIR` (keep the database and logs in DIR), `--tables-per-schema N` (instead of
//! `--tables`), `--reference-tables N`. The load generator and the ceiling run on the same machine as the server.
//! `--serve-ceiling DB` serves only the ceiling over a `ceiling.db` kept by `--keep`, until
//! stdin closes (the benchmark's own ceiling, and `examples/instructions.py` counts its
//! instructions per request).

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

/// The same allocator as the server, so that the in-process ceiling runs on the same footing.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    sustain: f64,
    rounds: usize,
    reference_tables: usize,
    serve_ceiling: Option<PathBuf>,
}

fn usage() -> ! {
    eprintln!(
        "usage: bench [--server PATH] [--tables N | --tables-per-schema N] [--seconds N] [--concurrency N]\n             \
         [--sustain SECONDS] [--rounds N] [--client-threads N] [--default-fixture PATH] [--restarts N] [--keep DIR]\n             \
         [--reference-tables N]\n       bench --serve-ceiling DB"
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
        sustain: 30.0,
        rounds: 1,
        reference_tables: 10_000,
        serve_ceiling: None,
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
            v.replace('_', "").parse().unwrap_or_else(|_| {
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
            "--tables" => a.tables_per_schema = num::<usize>(&flag, &value).div_ceil(CATALOGS * SCHEMAS_PER_CATALOG),
            "--restarts" => a.restarts = num(&flag, &value),
            "--keep" => a.keep = Some(PathBuf::from(value)),
            "--sustain" => a.sustain = num(&flag, &value),
            "--rounds" => a.rounds = num(&flag, &value),
            "--reference-tables" => a.reference_tables = num(&flag, &value),
            "--serve-ceiling" => a.serve_ceiling = Some(PathBuf::from(value)),
            _ => {
                eprintln!("bench: unknown flag {flag}");
                usage()
            }
        }
    }
    if a.concurrency == 0
        || a.client_threads == 0
        || a.tables_per_schema == 0
        || a.rounds == 0
        || a.reference_tables < CATALOGS * SCHEMAS_PER_CATALOG
        || a.seconds.is_nan()
        || a.seconds <= 0.0
        || a.sustain.is_nan()
        || a.sustain < 0.0
    {
        eprintln!(
            "bench: --concurrency, --client-threads, --tables, --rounds and --seconds must be positive, \
             --reference-tables at least 100"
        );
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
        let mut cmd = Command::new(bin);
        cmd.arg("serve").arg("--bind").arg("127.0.0.1:0").arg("--db").arg(db);
        for f in fixtures {
            cmd.arg("--fixtures").arg(f);
        }
        for var in ["UC_EMULATOR_FIXTURES", "UC_EMULATOR_BIND", "UC_EMULATOR_DB"] {
            cmd.env_remove(var);
        }
        cmd.stdin(Stdio::null());
        let t0 = Instant::now();
        let (child, base) = spawn_listening(cmd, "uc-emulator listening on ", log)?;
        Ok(Server { base, child, startup: t0.elapsed() })
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

/// Spawns `cmd` (stdout piped, stderr appended to `log`) and waits for its first stdout line,
/// which must start with `prefix`; returns the child and the rest of that line (its base URL).
fn spawn_listening(mut cmd: Command, prefix: &str, log: &Path) -> Res<(Child, String)> {
    let log_file = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
    cmd.stdout(Stdio::piped()).stderr(Stdio::from(log_file));
    let name = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd.spawn().map_err(|e| format!("cannot start {name}: {e}"))?;
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
            return Err(format!("no listening line from {name} within 120 s (see {})", log.display()).into());
        }
    };
    let Some(base) = line.trim().strip_prefix(prefix) else {
        let _ = child.kill();
        let status = child.wait();
        return Err(format!("unexpected first stdout line {line:?} ({status:?}); see {}", log.display()).into());
    };
    Ok((child, base.to_string()))
}

/// The ceiling in a process of its own (this program with `--serve-ceiling`), as the server is:
/// the load generator shares neither a process nor an allocator with either side. It stops when
/// its stdin closes (on drop).
struct CeilingProcess {
    child: Child,
    base: String,
}

impl CeilingProcess {
    fn start(db: &Path, log: &Path) -> Res<CeilingProcess> {
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.arg("--serve-ceiling").arg(db).stdin(Stdio::piped());
        let (child, base) = spawn_listening(cmd, "ceiling listening on ", log)?;
        Ok(CeilingProcess { child, base })
    }
}

impl Drop for CeilingProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
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
    /// CPU time (user + system) each watched process used during the measured run, in µs.
    cpu_us: Vec<f64>,
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
    /// One request's outcome, answered or not, sent at `sent`.
    fn record(&mut self, outcome: Result<(), String>, sent: Instant) {
        match outcome {
            Ok(()) => {
                self.ok += 1;
                self.lat_us.push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
            }
            Err(e) => {
                self.errors += 1;
                if self.first_error.is_none() {
                    self.first_error = Some(e);
                }
            }
        }
    }
    /// CPU µs per answered request of the `i`th watched process.
    fn cpu_per_request(&self, i: usize) -> f64 {
        self.cpu_us.get(i).map_or(f64::NAN, |us| us / self.ok.max(1) as f64)
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

/// CPU time a process has used (user + system), in µs, from `/proc/PID/stat` (clock ticks of
/// 1/100 s, Linux's USER_HZ); `None` where there is no such file.
fn cpu_us(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name (which may hold spaces) in parentheses.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 * 10_000.0)
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
    stats.record(outcome, t);
}

/// One keep-alive HTTP/1.1 connection of hyper's, without reqwest's pool, redirects and
/// per-request setup: the closed loops' client. A load generator on the same two cores takes CPU
/// from the server it measures, and how much can depend on the server's latency; this one costs
/// about what `wrk` costs per request, with which the targets were first measured.
struct Conn {
    authority: String,
    send: hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>,
}

impl Conn {
    async fn open(authority: &str) -> Result<Conn, String> {
        let tcp = tokio::net::TcpStream::connect(authority).await.map_err(|e| format!("connect: {e}"))?;
        tcp.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
        let io = hyper_util::rt::TokioIo::new(tcp);
        let (send, conn) = hyper::client::conn::http1::handshake(io).await.map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(conn);
        Ok(Conn { authority: authority.to_string(), send })
    }
}

/// Sends `r` on `conn` (opening it, or a new one after an error or for another host) and
/// records the outcome.
async fn send_on(conn: &mut Option<Conn>, r: Req, stats: &mut Stats) {
    use http_body_util::BodyExt;
    let authority = format!("{}:{}", r.url.host_str().unwrap_or("127.0.0.1"), r.url.port().unwrap_or(80));
    let path = match r.url.query() {
        Some(q) => format!("{}?{q}", r.url.path()),
        None => r.url.path().to_string(),
    };
    let mut b = hyper::Request::builder()
        .method(r.method.as_str())
        .uri(path)
        .header("host", authority.as_str())
        .header("authorization", r.auth.as_bytes());
    if r.body.is_some() {
        b = b.header("content-type", "application/json");
    }
    let request = b.body(http_body_util::Full::new(bytes::Bytes::from(r.body.unwrap_or_default())));
    let t = Instant::now();
    let outcome = async {
        let request = request.map_err(|e| format!("request: {e}"))?;
        if conn.as_ref().is_none_or(|c| c.authority != authority || c.send.is_closed()) {
            *conn = Some(Conn::open(&authority).await?);
        }
        let c = conn.as_mut().expect("opened");
        c.send.ready().await.map_err(|e| format!("connection: {e}"))?;
        let resp = c.send.send_request(request).await.map_err(|e| format!("request: {e}"))?;
        let status = resp.status();
        let body = resp.into_body().collect().await.map_err(|e| format!("reading body: {e}"))?.to_bytes();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&body[..body.len().min(300)])))
        }
    }
    .await;
    if outcome.is_err() {
        *conn = None;
    }
    stats.record(outcome, t);
}

/// Closed loop: `concurrency` workers, each on a connection of its own ([`Conn`]), send a
/// request, wait for the answer, and send the next one, until `duration` has passed (after an
/// unmeasured warm-up); the CPU time the processes `watch` use during the measured run is
/// recorded in the same order.
async fn closed_loop(duration: Duration, concurrency: usize, make: MakeReq, watch: &[u32]) -> Stats {
    let warmup = (duration / 5).min(Duration::from_secs(1));
    let run = |d: Duration, seed: u64| {
        let cpu0: Vec<Option<f64>> = watch.iter().map(|&p| cpu_us(p)).collect();
        let deadline = Instant::now() + d;
        let mut handles = Vec::with_capacity(concurrency);
        for w in 0..concurrency {
            let make = Arc::clone(&make);
            handles.push(tokio::spawn(async move {
                let mut rng = Rng::new((seed << 20) + w as u64 + 1);
                let mut stats = Stats { lat_us: Vec::with_capacity(1 << 14), ..Default::default() };
                let mut seq = seed << 32; // distinct between warm-up and run
                let mut conn = None;
                while Instant::now() < deadline {
                    let r = make(&mut rng, w, seq);
                    seq += 1;
                    send_on(&mut conn, r, &mut stats).await;
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
            all.cpu_us = watch
                .iter()
                .zip(&cpu0)
                .map(|(&p, c0)| cpu_us(p).zip(*c0).map_or(f64::NAN, |(c1, c0)| c1 - c0))
                .collect();
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
// Direct seeding (beyond what the API seeds in reasonable time)

/// A table id shaped like a UUID, increasing with (schema, table) so that every index is
/// appended to.
/// The URLs a read load picks from on the server at `base` (or the ceiling, with `ceiling`):
/// every table's, with `tps` tables a schema, or with `None` every schema's first page of 50.
fn read_urls(base: &str, ceiling: bool, tps: Option<usize>) -> Arc<Vec<Url>> {
    let schemas = (0..CATALOGS).flat_map(|c| (0..SCHEMAS_PER_CATALOG).map(move |s| (c, s)));
    let paths: Vec<String> = match (tps, ceiling) {
        (Some(tps), false) => {
            schemas.flat_map(|(c, s)| (0..tps).map(move |t| format!("{API}/tables/cat{c}.s{s}.t{t}"))).collect()
        }
        (Some(tps), true) => schemas.flat_map(|(c, s)| (0..tps).map(move |t| format!("/t/cat{c}.s{s}.t{t}"))).collect(),
        (None, false) => {
            schemas.map(|(c, s)| format!("{API}/tables?catalog_name=cat{c}&schema_name=s{s}&max_results=50")).collect()
        }
        (None, true) => schemas.map(|(c, s)| format!("/l/cat{c}/s{s}")).collect(),
    };
    Arc::new(paths.iter().map(|p| Url::parse(&format!("{base}{p}")).expect("valid URL")).collect())
}

fn seeded_id(schema: usize, table: usize) -> String {
    format!("{schema:08x}-0000-4000-8000-{table:012x}")
}

/// Table names `t0 .. t{n-1}` in the order the (schema, name) index keeps them.
fn names_in_index_order(n: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    v.sort_by_cached_key(|i| format!("t{i}"));
    v
}

/// Inserts `tps` tables into each of the 100 schemas `catN.sM`, shaped like the table
/// `cat0.load.probe` the API created (same columns, owner, format), in large transactions.
fn seed_direct(db: &Path, tps: usize) -> Res<()> {
    let conn = rusqlite::Connection::open(db)?;
    conn.execute_batch("PRAGMA synchronous = OFF; PRAGMA cache_size = -262144; PRAGMA foreign_keys = OFF;")?;
    let root: String = conn.query_row(
        "SELECT m.storage_root FROM metastores m JOIN catalogs c ON c.metastore_id = m.id WHERE c.name = 'cat0'",
        [],
        |r| r.get(0),
    )?;
    let (columns, owner, created_by, created_at, format): (String, String, String, i64, String) = conn.query_row(
        "SELECT columns, owner, created_by, created_at, data_source_format FROM tables WHERE name = 'probe'",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    let mut schemas = Vec::new();
    for c in 0..CATALOGS {
        for s in 0..SCHEMAS_PER_CATALOG {
            let id: String = conn.query_row(
                "SELECT s.id FROM schemas s JOIN catalogs c ON c.id = s.catalog_id WHERE c.name = ?1 AND s.name = ?2",
                [cat(c), format!("s{s}")],
                |r| r.get(0),
            )?;
            schemas.push(id);
        }
    }
    let order = names_in_index_order(tps);
    let t0 = Instant::now();
    for (k, schema_id) in schemas.iter().enumerate() {
        let tx = conn.unchecked_transaction()?;
        {
            let mut ins = tx.prepare(
                "INSERT INTO tables (id, schema_id, name, table_type, data_source_format, columns, storage_location,
                                     owner, created_at, created_by, updated_at, updated_by)
                 VALUES (?1, ?2, ?3, 'MANAGED', ?4, ?5, ?6, ?7, ?8, ?9, ?8, ?9)",
            )?;
            for &t in &order {
                let id = seeded_id(k, t);
                let location = format!("{}/tables/{id}", root.trim_end_matches('/'));
                ins.execute(rusqlite::params![
                    id,
                    schema_id,
                    format!("t{t}"),
                    format,
                    columns,
                    location,
                    owner,
                    created_at,
                    created_by
                ])?;
            }
        }
        tx.commit()?;
        if k % 10 == 9 {
            eprintln!("  {} of {} tables ({:.0} s)", (k + 1) * tps, schemas.len() * tps, t0.elapsed().as_secs_f64());
        }
    }
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The ceiling: a bare actix-web + rusqlite service, and bare SQLite in this process

mod ceiling {
    use std::cell::RefCell;
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Mutex};

    use actix_web::{web, App, HttpResponse, HttpServer};
    use rusqlite::{Connection, OptionalExtension};
    use serde::{Deserialize, Serialize};
    use serde_json::value::RawValue;

    use super::Res;

    /// The same columns as the emulator's table rows, keyed by full name.
    pub const SCHEMA: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
        CREATE TABLE IF NOT EXISTS items (
            full_name TEXT PRIMARY KEY, catalog_name TEXT NOT NULL, schema_name TEXT NOT NULL,
            name TEXT NOT NULL, table_type TEXT NOT NULL, data_source_format TEXT, columns TEXT NOT NULL,
            storage_location TEXT, owner TEXT NOT NULL, table_id TEXT NOT NULL, metastore_id TEXT NOT NULL,
            created_at INTEGER NOT NULL, created_by TEXT NOT NULL, updated_at INTEGER NOT NULL,
            updated_by TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS items_page ON items(catalog_name, schema_name, name);";

    pub const INSERT: &str = "INSERT INTO items (full_name, catalog_name, schema_name, name, table_type,
        data_source_format, columns, storage_location, owner, table_id, metastore_id, created_at, created_by,
        updated_at, updated_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?12, ?13)";

    const COLUMNS: &str = "full_name, catalog_name, schema_name, name, table_type, data_source_format, columns,
        storage_location, owner, table_id, metastore_id, created_at, created_by, updated_at, updated_by";

    /// A row as JSON: what any service returning it must do (typed struct, stored JSON as is).
    #[derive(Serialize)]
    struct Item {
        name: String,
        catalog_name: String,
        schema_name: String,
        full_name: String,
        table_type: String,
        data_source_format: Option<String>,
        columns: Box<RawValue>,
        storage_location: Option<String>,
        owner: String,
        table_id: String,
        metastore_id: String,
        created_at: i64,
        created_by: String,
        updated_at: i64,
        updated_by: String,
    }

    fn item(r: &rusqlite::Row<'_>) -> rusqlite::Result<Item> {
        let columns: String = r.get(6)?;
        Ok(Item {
            full_name: r.get(0)?,
            catalog_name: r.get(1)?,
            schema_name: r.get(2)?,
            name: r.get(3)?,
            table_type: r.get(4)?,
            data_source_format: r.get(5)?,
            columns: RawValue::from_string(columns).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?,
            storage_location: r.get(7)?,
            owner: r.get(8)?,
            table_id: r.get(9)?,
            metastore_id: r.get(10)?,
            created_at: r.get(11)?,
            created_by: r.get(12)?,
            updated_at: r.get(13)?,
            updated_by: r.get(14)?,
        })
    }

    #[derive(Serialize)]
    struct Page {
        tables: Vec<Item>,
        #[serde(skip_serializing_if = "Option::is_none")]
        next_page_token: Option<String>,
    }

    #[derive(Deserialize)]
    struct NewItem {
        name: String,
        catalog_name: String,
        schema_name: String,
        table_type: String,
        data_source_format: Option<String>,
        columns: Box<RawValue>,
    }

    struct State {
        path: PathBuf,
        writer: Mutex<Connection>,
    }

    thread_local! {
        static READER: RefCell<Option<Connection>> = const { RefCell::new(None) };
    }

    fn read<T>(path: &Path, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> rusqlite::Result<T> {
        READER.with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.is_none() {
                *slot = Some(Connection::open(path)?);
            }
            f(slot.as_ref().expect("opened"))
        })
    }

    async fn get(st: web::Data<Arc<State>>, name: web::Path<String>) -> HttpResponse {
        let found = read(&st.path, |c| {
            c.prepare_cached(&format!("SELECT {COLUMNS} FROM items WHERE full_name = ?1"))?
                .query_row([name.as_str()], item)
                .optional()
        });
        match found {
            Ok(Some(i)) => HttpResponse::Ok().json(i),
            Ok(None) => HttpResponse::NotFound().finish(),
            Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
        }
    }

    async fn list(st: web::Data<Arc<State>>, path: web::Path<(String, String)>) -> HttpResponse {
        let (catalog, schema) = path.into_inner();
        let page = read(&st.path, |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM items WHERE catalog_name = ?1 AND schema_name = ?2 AND name > ''
                 ORDER BY name LIMIT 51"
            ))?;
            let rows = stmt.query_map([&catalog, &schema], item)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        });
        match page {
            Ok(mut tables) => {
                let more = tables.len() > 50;
                tables.truncate(50);
                let next_page_token = if more { tables.last().map(|t| t.name.clone()) } else { None };
                HttpResponse::Ok().json(Page { tables, next_page_token })
            }
            Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
        }
    }

    async fn insert(st: web::Data<Arc<State>>, body: web::Json<NewItem>) -> HttpResponse {
        let n = body.into_inner();
        let full_name = format!("{}.{}.{}", n.catalog_name, n.schema_name, n.name);
        let id = uuid::Uuid::new_v4().to_string();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let location = format!("s3://bucket/tables/{id}");
        let done = st.writer.lock().unwrap().execute(
            INSERT,
            rusqlite::params![
                full_name,
                n.catalog_name,
                n.schema_name,
                n.name,
                n.table_type,
                n.data_source_format,
                n.columns.get(),
                location,
                "admin@example.com",
                id,
                "m",
                now,
                "admin@example.com"
            ],
        );
        match done {
            Ok(_) => HttpResponse::Ok().json(Item {
                name: n.name,
                catalog_name: n.catalog_name,
                schema_name: n.schema_name,
                full_name,
                table_type: n.table_type,
                data_source_format: n.data_source_format,
                columns: n.columns,
                storage_location: Some(location),
                owner: "admin@example.com".into(),
                table_id: id,
                metastore_id: "m".into(),
                created_at: now,
                created_by: "admin@example.com".into(),
                updated_at: now,
                updated_by: "admin@example.com".into(),
            }),
            Err(e) => HttpResponse::Conflict().body(e.to_string()),
        }
    }

    /// Starts the ceiling on 127.0.0.1 in its own thread; returns its base URL.
    pub fn start(path: &Path) -> Res<String> {
        let writer = Connection::open(path)?;
        writer.execute_batch(SCHEMA)?;
        let state = Arc::new(State { path: path.to_path_buf(), writer: Mutex::new(writer) });
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let sys = actix_web::rt::System::new();
            sys.block_on(async move {
                let data = web::Data::new(state);
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .app_data(web::JsonConfig::default().limit(1 << 20))
                        .route("/t/{name}", web::get().to(get))
                        .route("/l/{catalog}/{schema}", web::get().to(list))
                        .route("/t", web::post().to(insert))
                })
                .bind(("127.0.0.1", 0));
                let server = match server {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let addr = server.addrs()[0];
                let _ = tx.send(Ok(format!("http://{addr}")));
                let _ = server.run().await;
            });
        });
        Ok(rx.recv()??)
    }
}

/// Fills the ceiling's table with the same rows as the emulator's (from the probe's fields).
fn seed_ceiling(path: &Path, template: &Value, tps: usize) -> Res<()> {
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch(ceiling::SCHEMA)?;
    conn.execute_batch("PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;")?;
    let order = names_in_index_order(tps);
    let s = |k: &str| template[k].as_str().unwrap_or_default().to_string();
    let columns = template["columns"].to_string();
    let (format, owner, by, metastore) = (s("data_source_format"), s("owner"), s("created_by"), s("metastore_id"));
    let root = s("storage_location");
    let root = root.rsplit_once("/tables/").map(|(r, _)| r.to_string()).unwrap_or(root);
    let at = template["created_at"].as_i64().unwrap_or(0);
    for c in 0..CATALOGS {
        let tx = conn.unchecked_transaction()?;
        {
            let mut ins = tx.prepare(ceiling::INSERT)?;
            for sc in 0..SCHEMAS_PER_CATALOG {
                for &t in &order {
                    let id = seeded_id(c * SCHEMAS_PER_CATALOG + sc, t);
                    ins.execute(rusqlite::params![
                        format!("cat{c}.s{sc}.t{t}"),
                        cat(c),
                        format!("s{sc}"),
                        format!("t{t}"),
                        "MANAGED",
                        format,
                        columns,
                        format!("{root}/tables/{id}"),
                        owner,
                        id,
                        metastore,
                        at,
                        by
                    ])?;
                }
            }
        }
        tx.commit()?;
    }
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// Bare SQLite in this process: (lookups/s, one-row insert transactions/s), each for `d`.
fn bare_sqlite(path: &Path, tps: usize, d: Duration) -> Res<(f64, f64)> {
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch("PRAGMA synchronous = NORMAL;")?;
    let mut rng = Rng::new(7);
    let (t0, mut n) = (Instant::now(), 0u64);
    {
        let mut stmt = conn.prepare_cached("SELECT columns FROM items WHERE full_name = ?1")?;
        while t0.elapsed() < d {
            let g = rng.below(CATALOGS * SCHEMAS_PER_CATALOG * tps);
            let (c, s, t) = (g / (SCHEMAS_PER_CATALOG * tps), (g / tps) % SCHEMAS_PER_CATALOG, g % tps);
            let body: String = stmt.query_row([format!("cat{c}.s{s}.t{t}")], |r| r.get(0))?;
            std::hint::black_box(body);
            n += 1;
        }
    }
    let lookups = n as f64 / t0.elapsed().as_secs_f64();
    let (t0, mut n) = (Instant::now(), 0u64);
    {
        let mut stmt = conn.prepare_cached(
            "INSERT INTO items (full_name, catalog_name, schema_name, name, table_type, columns, owner, table_id,
                                metastore_id, created_at, created_by, updated_at, updated_by)
             VALUES (?1, 'bare', 'bare', ?1, 'MANAGED', '[]', 'o', ?1, 'm', 0, 'o', 0, 'o')",
        )?;
        while t0.elapsed() < d {
            stmt.execute([format!("bare.{n}")])?;
            n += 1;
        }
    }
    let inserts = n as f64 / t0.elapsed().as_secs_f64();
    conn.execute("DELETE FROM items WHERE catalog_name = 'bare'", [])?;
    Ok((lookups, inserts))
}

// ---------------------------------------------------------------------------------------------

struct Row {
    name: String,
    stats: Stats,
    /// The ceiling's rate this load is compared with, and the ceiling's own row.
    ceiling: Option<f64>,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Adds one round's ratio `r` to the ratios named `name`.
fn note(ratios: &mut Vec<(String, Vec<f64>)>, name: &str, r: f64) {
    match ratios.iter_mut().find(|(n, _)| n == name) {
        Some((_, v)) => v.push(r),
        None => ratios.push((name.to_string(), vec![r])),
    }
}

/// Each ratio's median over the rounds, then every round's, and an empty line.
fn print_ratios(ratios: &[(String, Vec<f64>)]) {
    for (name, v) in ratios {
        println!(
            "  {name:<33} {:.2}  ({})",
            median_f(v.clone()),
            v.iter().map(|r| format!("{r:.2}")).collect::<Vec<_>>().join(", ")
        );
    }
    println!();
}

fn median_f(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn mib(kib: Option<u64>) -> String {
    kib.map(|k| format!("{:.1} MiB", k as f64 / 1024.0)).unwrap_or_else(|| "?".into())
}

fn mib_b(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1048576.0)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn file_len(p: &str) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// Per-worker generation counters, for writes that change what the next one must name.
type Gens = Arc<Vec<std::sync::atomic::AtomicU64>>;

fn gens(n: usize) -> Gens {
    Arc::new((0..n).map(|_| std::sync::atomic::AtomicU64::new(0)).collect())
}

fn next_gen(g: &Gens, w: usize) -> u64 {
    g[w].fetch_add(1, std::sync::atomic::Ordering::Relaxed)
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
    let ceiling_db = dir.join("ceiling.db");
    let ref_db = dir.join("reference.db");
    let ref_ceiling_db = dir.join("reference-ceiling.db");
    for suffix in ["", "-wal", "-shm"] {
        for path in [&db, &ceiling_db, &ref_db, &ref_ceiling_db] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    let db_s = db.display().to_string();
    let wal_path = format!("{db_s}-wal");
    let log = dir.join("server.log");
    let tps = args.tables_per_schema;
    let n_tables = CATALOGS * SCHEMAS_PER_CATALOG * tps;
    let direct = n_tables > 10_000;
    // A database seeded directly, as the main one, but with `--reference-tables`: the same
    // loads run on both, side by side, when the main one is seeded directly and larger.
    let ref_tps = args.reference_tables.div_ceil(CATALOGS * SCHEMAS_PER_CATALOG);
    let ref_n = CATALOGS * SCHEMAS_PER_CATALOG * ref_tps;
    let reference = direct && ref_tps < tps;
    let ref_label = if ref_n.is_multiple_of(1000) { format!("{}k", ref_n / 1000) } else { ref_n.to_string() };
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
        "  {} CPUs, load generator on {} tokio threads, concurrency {conc}, {:.1} s per load, {n_tables} tables, database {}",
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
    // One table made by the API: the template of directly seeded rows and of the ceiling's.
    let s =
        drain(&client, 1, vec![post(&format!("{API}/tables"), table_body("probe", &table_body_rest("cat0", "load")))?])
            .await;
    check("createTable (probe)", &s)?;
    let template: Value = client
        .get(u(&format!("{API}/tables/cat0.load.probe"))?)
        .header(AUTHORIZATION, admin.clone())
        .send()
        .await?
        .json()
        .await?;

    let mut seed_stats = None;
    if !direct {
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
        eprintln!("seeding {n_tables} tables through the API ...");
        let st = drain(&client, conc, interleaved).await;
        check("createTable (seeding)", &st)?;
        seed_stats = Some(st);
        tokio::time::sleep(Duration::from_millis(1500)).await; // let the WAL checkpointer catch up
    }
    let rss_seeded = s1.status_kib("VmRSS");
    let hwm_seeded = s1.status_kib("VmHWM");
    s1.stop();
    if reference {
        // The catalogs, schemas and probe table as the API made them, before the seeding.
        let conn = rusqlite::Connection::open(&db)?;
        conn.execute("VACUUM INTO ?1", [ref_db.display().to_string()])?;
    }
    let seed_direct_time = if direct {
        eprintln!("seeding {n_tables} tables directly into the database ...");
        let t0 = Instant::now();
        seed_direct(&db, tps)?;
        if reference {
            eprintln!("seeding the reference: {ref_n} tables directly into another database ...");
            seed_direct(&ref_db, ref_tps)?;
        }
        Some(t0.elapsed())
    } else {
        None
    };
    let db_size = file_len(&db_s);
    let wal_size = file_len(&wal_path);

    eprintln!("seeding the ceiling's {n_tables} rows ...");
    seed_ceiling(&ceiling_db, &template, tps)?;
    let ceiling = CeilingProcess::start(&ceiling_db, &dir.join("ceiling.log"))?;
    let ref_ceiling = if reference {
        seed_ceiling(&ref_ceiling_db, &template, ref_tps)?;
        Some(CeilingProcess::start(&ref_ceiling_db, &dir.join("reference-ceiling.log"))?)
    } else {
        None
    };
    let ceiling_base = ceiling.base.clone();
    eprintln!("bare SQLite in process ...");
    let (bare_lookups, bare_inserts) = bare_sqlite(&ceiling_db, tps, seconds)?;

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
    let ref_server = if reference {
        let ref_grants = dir.join("reference-grants.json");
        std::fs::write(&ref_grants, serde_json::to_vec_pretty(&grants_fixture(ref_tps).0)?)?;
        let fixtures = [args.default_fixture.clone(), ref_grants];
        Some(Server::start(&args.server, &ref_db, &fixtures, &dir.join("reference-server.log"))?)
    } else {
        None
    };

    // ---- 3. Loads --------------------------------------------------------------------------
    let base = server.base.clone();
    let url = |path: String| Url::parse(&format!("{base}{path}")).expect("valid URL");
    let curl = |path: String| Url::parse(&format!("{ceiling_base}{path}")).expect("valid URL");
    let pick = move |g: usize| (g / (SCHEMAS_PER_CATALOG * tps), (g / tps) % SCHEMAS_PER_CATALOG, g % tps);
    let table_urls = read_urls(&base, false, Some(tps));
    let ceiling_table_urls = read_urls(&ceiling_base, true, Some(tps));
    let list_urls = read_urls(&base, false, None);
    let ceiling_list_urls = read_urls(&ceiling_base, true, None);
    let create_url = url(format!("{API}/tables"));
    let ceiling_create_url = curl("/t".into());
    let load_rests: Arc<Vec<String>> = Arc::new((0..CATALOGS).map(|c| table_body_rest(&cat(c), "load")).collect());

    // Sanity: alice can read a table through the group grants, and sees the same thing.
    for auth in [&admin, &alice] {
        let r = Req { method: Method::GET, url: table_urls[n_tables - 1].clone(), auth: auth.clone(), body: None };
        let mut s = Stats::default();
        send(&client, r, &mut s).await;
        check(&format!("getTable as {auth:?}"), &s)?;
    }

    let get_load = |urls: Arc<Vec<Url>>, auth: HeaderValue| -> MakeReq {
        Arc::new(move |rng: &mut Rng, _, _| Req {
            method: Method::GET,
            url: urls[rng.below(urls.len())].clone(),
            auth: auth.clone(),
            body: None,
        })
    };
    let epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let create_load = |u: Url, tag: &'static str| -> MakeReq {
        let (rests, a) = (Arc::clone(&load_rests), admin.clone());
        Arc::new(move |_: &mut Rng, w: usize, seq: u64| Req {
            method: Method::POST,
            url: u.clone(),
            auth: a.clone(),
            body: Some(table_body(&format!("{tag}{epoch}_{w}_{seq}"), &rests[w % rests.len()])),
        })
    };

    let mut rows: Vec<Row> = Vec::new();
    let mut ratios: Vec<(String, Vec<f64>)> = Vec::new();
    // Size ratios: a load on the main database against the same load on the reference one.
    let mut size_ratios: Vec<(String, Vec<f64>)> = Vec::new();
    // The paired loads. Every round of the reads runs first, then every round of createTable: a
    // round's new tables would otherwise make the next round read a larger database than the
    // first.
    struct Load {
        name: &'static str,
        make: MakeReq,
        /// The ceiling load (run before it in the round) whose rate this one is compared with.
        compared_with: Option<&'static str>,
        /// The process that answers.
        side: u32,
        /// On the reference database: the load on the main one it is the same as.
        mirrors: Option<&'static str>,
        /// A read's caller (repeated on the reference database).
        auth: HeaderValue,
    }
    let (server_pid, ceiling_pid) = (server.pid(), ceiling.child.id());
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let reads = |round: usize| -> Vec<Load> {
        let load = |name, urls: &Arc<Vec<Url>>, auth: &HeaderValue, compared_with, side| Load {
            name,
            make: get_load(Arc::clone(urls), auth.clone()),
            compared_with,
            side,
            mirrors: None,
            auth: auth.clone(),
        };
        let lookups = vec![
            load("ceiling: lookup", &ceiling_table_urls, &admin, None, ceiling_pid),
            load("getTable (admin)", &table_urls, &admin, Some("ceiling: lookup"), server_pid),
            load("getTable (alice via group)", &table_urls, &alice, Some("ceiling: lookup"), server_pid),
        ];
        let pages = vec![
            load("ceiling: page of 50", &ceiling_list_urls, &admin, None, ceiling_pid),
            load("listTables (50/page)", &list_urls, &admin, Some("ceiling: page of 50"), server_pid),
        ];
        let (Some(rs), Some(rc)) = (&ref_server, &ref_ceiling) else {
            return lookups.into_iter().chain(pages).collect();
        };
        // The same loads on the reference database, first in every other round.
        let mirror = |main: &Vec<Load>, tps| -> Vec<Load> {
            main.iter()
                .map(|l| {
                    let on_ceiling = l.side == ceiling_pid;
                    let (side, base) = if on_ceiling { (rc.child.id(), &rc.base) } else { (rs.pid(), &rs.base) };
                    let urls = read_urls(base, on_ceiling, tps);
                    Load {
                        name: leak(format!("{}, {ref_label}", l.name)),
                        make: get_load(urls, l.auth.clone()),
                        auth: l.auth.clone(),
                        compared_with: l.compared_with.map(|c| leak(format!("{c}, {ref_label}"))),
                        side,
                        mirrors: Some(l.name),
                    }
                })
                .collect()
        };
        let (ref_lookups, ref_pages) = (mirror(&lookups, Some(ref_tps)), mirror(&pages, None));
        let blocks = if round.is_multiple_of(2) {
            [lookups, ref_lookups, pages, ref_pages]
        } else {
            [ref_lookups, lookups, ref_pages, pages]
        };
        blocks.into_iter().flatten().collect()
    };
    let writes = |round: usize| -> Vec<Load> {
        let tag = |t: &str| -> &'static str { leak(format!("r{round}{t}")) };
        vec![
            Load {
                name: "ceiling: insert",
                make: create_load(ceiling_create_url.clone(), tag("c")),
                compared_with: None,
                side: ceiling_pid,
                mirrors: None,
                auth: admin.clone(),
            },
            Load {
                name: "createTable (new tables)",
                make: create_load(create_url.clone(), tag("n")),
                compared_with: Some("ceiling: insert"),
                side: server_pid,
                mirrors: None,
                auth: admin.clone(),
            },
        ]
    };
    for phase in [&reads as &dyn Fn(usize) -> Vec<Load>, &writes] {
        for round in 0..args.rounds {
            // (name, rate, CPU µs per request of the side that answered)
            let mut rates: Vec<(&str, f64, f64)> = Vec::new();
            let mut mirrored: Vec<(&str, &str)> = Vec::new();
            for Load { name, make, compared_with, side, mirrors, .. } in phase(round) {
                eprintln!("round {}: {name} ...", round + 1);
                let stats = closed_loop(seconds, conc, make, &[side, std::process::id()]).await;
                check(name, &stats)?;
                let (rate, cpu, client_cpu) = (stats.rate(), stats.cpu_per_request(0), stats.cpu_per_request(1));
                eprintln!(
                    "round {}: {name}: {rate:.0} req/s; CPU per request: {cpu:.1} us answering, {client_cpu:.1} us in the load generator",
                    round + 1
                );
                let paired = compared_with.and_then(|c| rates.iter().find(|(n, ..)| *n == c));
                if let Some((_, c_rate, c_cpu)) = paired {
                    note(&mut ratios, name, rate / c_rate);
                    note(&mut ratios, &format!("{name}, CPU"), c_cpu / cpu);
                }
                if round + 1 == args.rounds {
                    rows.push(Row { name: name.to_string(), stats, ceiling: paired.map(|p| p.1) });
                }
                rates.push((name, rate, cpu));
                mirrored.extend(mirrors.map(|m| (m, name)));
            }
            for (main, on_ref) in mirrored {
                let rate_cpu = |n: &str| rates.iter().find(|r| r.0 == n).map(|r| (r.1, r.2));
                if let (Some((m_rate, m_cpu)), Some((r_rate, r_cpu))) = (rate_cpu(main), rate_cpu(on_ref)) {
                    note(&mut size_ratios, main, m_rate / r_rate);
                    note(&mut size_ratios, &format!("{main}, CPU"), r_cpu / m_cpu);
                }
            }
        }
    }
    let rss_loaded = server.status_kib("VmRSS");
    let rss_parts_loaded = (server.status_kib("RssAnon"), server.status_kib("RssFile"));
    drop((ref_server, ref_ceiling));

    // ---- 4. Other writes -------------------------------------------------------------------
    eprintln!("other writes: setting up ...");
    let scim = format!("{base}/api/2.0/preview/scim/v2/Users");
    let mut user_ids = Vec::with_capacity(conc);
    for w in 0..conc {
        let cred = json!({"name": format!("bc{w}_0"), "aws_iam_role": {"role_arn": "arn:aws:iam::1:role/r"}});
        let r = client
            .post(url(format!("{API}/storage-credentials")))
            .header(AUTHORIZATION, admin.clone())
            .json(&cred)
            .send()
            .await?;
        if !r.status().is_success() {
            return Err(format!("createStorageCredential: {}", r.text().await?).into());
        }
        let r = client
            .post(&scim)
            .header(AUTHORIZATION, admin.clone())
            .json(&json!({"userName": format!("bu{w}_0@example.com")}))
            .send()
            .await?;
        let v: Value = r.json().await?;
        user_ids.push(v["id"].as_str().map(str::to_string).ok_or_else(|| format!("SCIM create user: {v}"))?);
    }
    let user_ids = Arc::new(user_ids);
    type Mix = (&'static str, MakeReq);
    let mixes: Vec<Mix> = {
        let a = admin.clone();
        let t_urls = Arc::clone(&table_urls);
        let update: MakeReq = Arc::new({
            let a = a.clone();
            move |rng: &mut Rng, _, seq| Req {
                method: Method::PATCH,
                url: t_urls[rng.below(t_urls.len())].clone(),
                auth: a.clone(),
                body: Some(json!({"comment": format!("c{seq}")}).to_string()),
            }
        });
        let (g, base_p) = (gens(conc), base.clone());
        let grant: MakeReq = Arc::new({
            let a = a.clone();
            move |_: &mut Rng, w, _| {
                let n = next_gen(&g, w);
                let (c, s, t) = pick((w * 7919 + (n as usize / 2) * 104_729) % n_tables);
                let op = if n.is_multiple_of(2) { "add" } else { "remove" };
                Req {
                    method: Method::PATCH,
                    url: Url::parse(&format!("{base_p}{API}/permissions/table/cat{c}.s{s}.t{t}")).expect("URL"),
                    auth: a.clone(),
                    body: Some(json!({"changes": [{"principal": "analysts", op: ["MODIFY"]}]}).to_string()),
                }
            }
        });
        let (g, base_p) = (gens(conc), base.clone());
        let schema: MakeReq = Arc::new({
            let a = a.clone();
            move |_: &mut Rng, w, _| {
                let n = next_gen(&g, w);
                let name = format!("ws{epoch}_{w}_{}", n / 2);
                if n.is_multiple_of(2) {
                    Req {
                        method: Method::POST,
                        url: Url::parse(&format!("{base_p}{API}/schemas")).expect("URL"),
                        auth: a.clone(),
                        body: Some(json!({"name": name, "catalog_name": cat(w % CATALOGS)}).to_string()),
                    }
                } else {
                    Req {
                        method: Method::DELETE,
                        url: Url::parse(&format!("{base_p}{API}/schemas/{}.{name}", cat(w % CATALOGS))).expect("URL"),
                        auth: a.clone(),
                        body: None,
                    }
                }
            }
        });
        let (g, base_p) = (gens(conc), base.clone());
        let credential: MakeReq = Arc::new({
            let a = a.clone();
            move |_: &mut Rng, w, _| {
                let n = next_gen(&g, w);
                Req {
                    method: Method::PATCH,
                    url: Url::parse(&format!("{base_p}{API}/storage-credentials/bc{w}_{n}")).expect("URL"),
                    auth: a.clone(),
                    body: Some(json!({"new_name": format!("bc{w}_{}", n + 1)}).to_string()),
                }
            }
        });
        let (g, ids) = (gens(conc), Arc::clone(&user_ids));
        let rename: MakeReq = Arc::new({
            let a = a.clone();
            move |_: &mut Rng, w, _| {
                let n = next_gen(&g, w);
                Req {
                    method: Method::PATCH,
                    url: Url::parse(&format!("{scim}/{}", ids[w])).expect("URL"),
                    auth: a.clone(),
                    body: Some(
                        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                               "Operations": [{"op": "replace", "path": "userName",
                                               "value": format!("bu{w}_{}@example.com", n + 1)}]})
                        .to_string(),
                    ),
                }
            }
        });
        vec![
            ("updateTable (comment)", update),
            ("updatePermissions (grant/revoke)", grant),
            ("createSchema / deleteSchema", schema),
            ("rename storage credential", credential),
            ("rename user (SCIM)", rename),
        ]
    };
    for (name, make) in mixes {
        eprintln!("other writes: {name} ...");
        let st = closed_loop(seconds, conc, make, &[]).await;
        check(name, &st)?;
        rows.push(Row { name: name.to_string(), stats: st, ceiling: None });
    }

    // ---- 5. Sustained createTable: the WAL -------------------------------------------------
    let mut sustain_report = None;
    if args.sustain > 0.0 {
        eprintln!("sustained createTable for {:.0} s ...", args.sustain);
        let db_before = file_len(&db_s);
        let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let (flag, wp) = (Arc::clone(&sampling), wal_path.clone());
        let sampler = tokio::spawn(async move {
            let mut max = 0u64;
            while flag.load(std::sync::atomic::Ordering::Relaxed) {
                max = max.max(file_len(&wp));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            max
        });
        let st =
            closed_loop(Duration::from_secs_f64(args.sustain), conc, create_load(create_url.clone(), "sus"), &[]).await;
        sampling.store(false, std::sync::atomic::Ordering::Relaxed);
        let wal_max = sampler.await?;
        check("sustained createTable", &st)?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let wal_after = file_len(&wal_path);
        let db_after = file_len(&db_s);
        sustain_report = Some((st.ok, st.rate(), wal_max, wal_after, db_before, db_after));
        rows.push(Row { name: format!("createTable ({:.0} s sustained)", args.sustain), stats: st, ceiling: None });
    }
    let rss_end = server.status_kib("VmRSS");
    let rss_parts_end = (server.status_kib("RssAnon"), server.status_kib("RssFile"));
    let hwm_end = server.status_kib("VmHWM");
    server.stop();
    let wal_stopped = file_len(&wal_path);

    // ---- Report ----------------------------------------------------------------------------
    println!();
    println!("| operation                        |  requests | errors |    req/s | p50 ms | p99 ms | vs ceiling |");
    println!("|----------------------------------|----------:|-------:|---------:|-------:|-------:|-----------:|");
    let line = |name: &str, s: &mut Stats, ceiling: Option<f64>| {
        let (p50, p99) = (s.pct_ms(50.0), s.pct_ms(99.0));
        let vs = ceiling.map(|c| format!("{:.2}", s.rate() / c)).unwrap_or_default();
        println!(
            "| {:<32} | {:>9} | {:>6} | {:>8.0} | {:>6.2} | {:>6.2} | {:>10} |",
            name,
            s.ok,
            s.errors,
            s.rate(),
            p50,
            p99,
            vs
        );
    };
    for r in rows.iter_mut() {
        line(&r.name, &mut r.stats, r.ceiling);
    }
    if let Some(mut st) = seed_stats {
        line(&format!("createTable (seeding {n_tables})"), &mut st, None);
        println!();
        println!(
            "seeding: {n_tables} tables through the API in {:.2} s ({:.0} tables/s)",
            st.elapsed.as_secs_f64(),
            st.rate()
        );
    }
    if let Some(d) = seed_direct_time {
        println!();
        println!("seeding: {n_tables} tables directly into the database in {:.1} s", d.as_secs_f64());
    }
    println!();
    {
        // Rates, and CPU per request: the ceiling's over the server's (what each side spent on
        // an answer, whatever the load generator costs).
        println!(
            "ratios to the ceiling (rate; and CPU per request, ceiling / server), median of {} rounds:",
            args.rounds
        );
        print_ratios(&ratios);
    }
    if !size_ratios.is_empty() {
        println!(
            "{n_tables} tables against {ref_n} in the same run (rate; and CPU per request, at {ref_label} / at {n_tables}), median of {} rounds:",
            args.rounds
        );
        print_ratios(&size_ratios);
    }
    println!(
        "bare SQLite in this process (no HTTP): {bare_lookups:.0} primary-key lookups/s, {bare_inserts:.0} one-row insert transactions/s"
    );
    println!();
    println!(
        "memory (VmRSS): fresh {}, after seeding {} (peak {}), after restart {}, after the paired loads {}, at the end {} (peak {})",
        mib(rss_fresh),
        mib(rss_seeded),
        mib(hwm_seeded),
        mib(rss_restarted),
        mib(rss_loaded),
        mib(rss_end),
        mib(hwm_end)
    );
    println!(
        "  of it anonymous (RssAnon) and file-backed (RssFile: the program's own pages, and the database's that readers map): \
         after the paired loads {} and {}, at the end {} and {}",
        mib(rss_parts_loaded.0),
        mib(rss_parts_loaded.1),
        mib(rss_parts_end.0),
        mib(rss_parts_end.1)
    );
    println!("database after seeding: {} (+ WAL {})", mib_b(db_size), mib_b(wal_size));
    if let Some((n, rate, wal_max, wal_after, db_before, db_after)) = sustain_report {
        println!(
            "sustained createTable: {n} tables at {rate:.0}/s; WAL at most {} during, {} 2 s after, {} after shutdown",
            mib_b(wal_max),
            mib_b(wal_after),
            mib_b(wal_stopped)
        );
        println!(
            "database growth: {:.0} bytes per table created, against {:.0} bytes per seeded table",
            db_after.saturating_sub(db_before) as f64 / n.max(1) as f64,
            db_size as f64 / n_tables as f64
        );
    }
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
    if let Some(db) = &args.serve_ceiling {
        // Only the ceiling, over a database an earlier `--keep` run seeded, until stdin closes:
        // for measuring its instructions per request (examples/instructions.py).
        match ceiling::start(db) {
            Ok(url) => println!("ceiling listening on {url}"),
            Err(e) => {
                eprintln!("bench: {e}");
                std::process::exit(1);
            }
        }
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        return;
    }
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
