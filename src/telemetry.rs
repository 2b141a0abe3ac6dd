//! Logs go to stderr (stdout carries only the listening line); level from `RUST_LOG`, default
//! `info`. One event per request: its id, method, route template, status, error code, duration
//! and principal, never a body or a token.
//!
//! Formats: `text` (human; ANSI colour only when stderr is a terminal and `NO_COLOR` is unset or
//! empty) and `json` (one JSON object per line, flat, for log collectors).

use std::io::{IsTerminal, Write};
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

/// `--log-format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines (coloured only on a terminal without `NO_COLOR`).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// On a view-as request (`X-UC-Emulator-View-As`): the signed-in principal; the request's
/// caller is the viewed one. The request line logs both.
pub struct ViewedBy(pub String);

/// Whether text logs may use ANSI colour: stderr is a terminal and `NO_COLOR` is unset or empty
/// (<https://no-color.org>).
pub fn colour_allowed() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stderr().is_terminal()
}

/// Installs the stderr logger. Safe to call more than once (later calls do nothing). With
/// `batched` (the server), events go to stderr through [`BatchedStderr`]: call [`flush`] before
/// writing to stderr directly and before exiting.
pub fn init(format: LogFormat, batched: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let writer = if batched {
        let sink = BatchedStderr::global();
        tracing_subscriber::fmt::writer::BoxMakeWriter::new(move || sink)
    } else {
        tracing_subscriber::fmt::writer::BoxMakeWriter::new(std::io::stderr)
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_target(false);
    match format {
        LogFormat::Text => {
            let ansi = colour_allowed();
            if builder.with_ansi(ansi).try_init().is_ok() && batched && !ansi {
                let _ = DIRECT.set(BatchedStderr::global());
            }
        }
        LogFormat::Json => {
            let _ = builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init();
        }
    }
}

/// Where request lines go without passing through tracing, once [`init`] has installed the
/// plain text format (no colour) over the batched sink: [`write_request_line`] writes the very
/// characters tracing-subscriber's full format writes for them, for a fraction of its work
/// (its event dispatch and field formatting were about a tenth of a getTable). Other events,
/// and every event in colour or as JSON, go through tracing.
static DIRECT: OnceLock<&'static BatchedStderr> = OnceLock::new();

/// Log lines on their way to stderr. A server logs a line per request; written with a `write`
/// each, those lines cost every request a system call (into a file, about 6% of a getTable's
/// rate). Here a thread that logs only appends its line to a buffer, and one thread writes the
/// buffer out: at once when it was idle (a line waits microseconds), then at most once per
/// [`BatchedStderr::WINDOW`] while lines keep coming, so that a busy server writes its lines in
/// batches. Lines keep their order. A buffer past [`BatchedStderr::MAX_PENDING`] is written by
/// the thread adding to it, so a stderr nobody reads slows requests down instead of filling
/// memory. What a `kill -9` finds pending (at most a window's worth) is lost.
pub struct BatchedStderr {
    pending: Mutex<Pending>,
    wake: Condvar,
    /// The output; whoever holds it writes, and takes `pending` only while holding it, so that
    /// batches leave in the order they were taken.
    out: Mutex<Box<dyn Write + Send>>,
}

#[derive(Default)]
struct Pending {
    lines: Vec<u8>,
    /// The writing thread waits for a first line.
    idle: bool,
    /// No writing thread (it could not start): every line is written where it is logged.
    direct: bool,
}

static BATCHED: OnceLock<&'static BatchedStderr> = OnceLock::new();

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl BatchedStderr {
    pub const MAX_PENDING: usize = 1 << 20;
    pub const WINDOW: Duration = Duration::from_millis(1);

    /// The process's stderr sink; its writing thread starts on first use.
    pub fn global() -> &'static BatchedStderr {
        BATCHED.get_or_init(|| BatchedStderr::start(Box::new(std::io::stderr())))
    }

    /// A sink writing to `out`, with its writing thread (both live as long as the process).
    pub fn start(out: Box<dyn Write + Send>) -> &'static BatchedStderr {
        let sink: &'static BatchedStderr = Box::leak(Box::new(BatchedStderr {
            pending: Default::default(),
            wake: Condvar::new(),
            out: Mutex::new(out),
        }));
        if std::thread::Builder::new().name("log-writer".into()).spawn(move || sink.run()).is_err() {
            lock(&sink.pending).direct = true;
        }
        sink
    }

    fn run(&self) {
        let mut batch = Vec::new();
        loop {
            let mut p = lock(&self.pending);
            while p.lines.is_empty() {
                p.idle = true;
                p = self.wake.wait(p).unwrap_or_else(PoisonError::into_inner);
            }
            drop(p);
            let mut out = lock(&self.out);
            std::mem::swap(&mut lock(&self.pending).lines, &mut batch);
            let _ = out.write_all(&batch).and_then(|()| out.flush());
            drop(out);
            batch.clear();
            if batch.capacity() > 64 << 10 {
                batch = Vec::new(); // after a burst, give the memory back
            }
            std::thread::sleep(Self::WINDOW);
        }
    }

    /// Writes out whatever is pending, now.
    pub fn flush_now(&self) {
        let mut out = lock(&self.out);
        let batch = std::mem::take(&mut lock(&self.pending).lines);
        let _ = out.write_all(&batch).and_then(|()| out.flush());
    }
}

impl Write for &BatchedStderr {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut p = lock(&self.pending);
        if !p.direct && p.lines.len() + line.len() <= BatchedStderr::MAX_PENDING {
            p.lines.extend_from_slice(line);
            if std::mem::take(&mut p.idle) {
                self.wake.notify_one();
            }
            return Ok(line.len());
        }
        drop(p);
        let mut out = lock(&self.out);
        let mut batch = std::mem::take(&mut lock(&self.pending).lines);
        batch.extend_from_slice(line);
        out.write_all(&batch).and_then(|()| out.flush())?;
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes out the log lines [`BatchedStderr`] holds: before writing to stderr directly, and
/// before the process exits.
pub fn flush() {
    if let Some(sink) = BATCHED.get() {
        sink.flush_now();
    }
}

/// The request line as tracing-subscriber's full format writes it without colour and without
/// target (`<timestamp>  INFO request request_id=... method=GET ...`), timestamp at `now`.
fn write_request_line(w: &mut String, l: &RequestLine<'_>, now: std::time::SystemTime) {
    if !write_timestamp(w, now) {
        use tracing_subscriber::fmt::time::FormatTime;
        let _ =
            tracing_subscriber::fmt::time::SystemTime.format_time(&mut tracing_subscriber::fmt::format::Writer::new(w));
    }
    // `%` fields are written as they are; string fields as `{:?}` writes them.
    for (name, value) in [("  INFO request request_id=", l.request_id), (" method=", l.method), (" route=", l.route)] {
        w.push_str(name);
        w.push_str(value);
    }
    w.push_str(" status=");
    push_decimal(w, u64::from(l.status));
    if let Some(code) = l.error_code {
        w.push_str(" error_code=");
        push_debug_str(w, code);
    }
    w.push_str(" duration_ms=");
    push_millis(w, l.duration_us);
    if let Some(id) = l.principal_id {
        // A string field, as `{:?}` writes a decimal string.
        w.push_str(" principal_id=\"");
        if id < 0 {
            w.push('-');
        }
        push_decimal(w, id.unsigned_abs());
        w.push('"');
    }
    for (name, value) in [(" principal=", l.principal), (" signed_in=", l.signed_in)] {
        if let Some(value) = value {
            w.push_str(name);
            push_debug_str(w, value);
        }
    }
    w.push('\n');
}

/// `value` as `{:?}` writes it: quoted, and as it is when it holds only printable ASCII other
/// than `"` and `\\` (the usual case, written without the formatter).
fn push_debug_str(w: &mut String, value: &str) {
    use std::fmt::Write as _;
    if value.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\') {
        w.push('"');
        w.push_str(value);
        w.push('"');
    } else {
        let _ = write!(w, "{value:?}");
    }
}

/// Microseconds as milliseconds the way `{:?}` writes `micros as f64 / 1000.0`: `0.0`, `0.009`,
/// `12.5`, `3.0` (the shortest decimal that reads back as that number, which for a whole number
/// of microseconds is the exact one).
fn push_millis(w: &mut String, micros: u64) {
    use std::fmt::Write as _;
    if micros >= 1 << 52 {
        let _ = write!(w, "{:?}", micros as f64 / 1000.0);
        return;
    }
    let (whole, frac) = (micros / 1000, micros % 1000);
    push_decimal(w, whole);
    w.push('.');
    if frac == 0 {
        w.push('0');
        return;
    }
    // Three digits with leading zeros, less the trailing ones.
    let (mut frac, mut width) = (frac, 3);
    while frac % 10 == 0 {
        frac /= 10;
        width -= 1;
    }
    push_digits(w, frac, width);
}

/// `n` in decimal, as `{}` writes it, without the formatter.
fn push_decimal(w: &mut String, n: u64) {
    push_digits(w, n, 1);
}

/// `n` in decimal with leading zeros up to `width` digits (at most 20), without the formatter.
fn push_digits(w: &mut impl std::fmt::Write, mut n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut at = digits.len();
    while n > 0 || at > digits.len() - width.clamp(1, 20) {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let _ = w.write_str(std::str::from_utf8(&digits[at..]).expect("ASCII digits"));
}

thread_local! {
    /// The request line's timestamp up to the second (`2026-12-03T06:42:21.`) and that second,
    /// made once a second per thread.
    static SECOND: std::cell::RefCell<(u64, String)> = const { std::cell::RefCell::new((u64::MAX, String::new())) };
}

/// Writes `now` as tracing-subscriber's `SystemTime` timer does (RFC 3339 in UTC with
/// microseconds: `2026-12-03T06:42:21.123456Z`), formatting the date and time once a second;
/// `false` (nothing written) for times it does not cover (before 1970, after 9999).
fn write_timestamp(w: &mut impl std::fmt::Write, now: std::time::SystemTime) -> bool {
    use std::fmt::Write as _;
    let Ok(since) = now.duration_since(std::time::UNIX_EPOCH) else { return false };
    let secs = since.as_secs();
    SECOND.with(|cell| {
        let mut second = cell.borrow_mut();
        if second.0 != secs {
            let Some(t) = i64::try_from(secs).ok().and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
            else {
                return false;
            };
            if t.year() > 9999 {
                return false;
            }
            second.1.clear();
            let (y, mo, d, h, mi, s) = (t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second());
            if write!(second.1, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.").is_err() {
                return false;
            }
            second.0 = secs;
        }
        if w.write_str(&second.1).is_err() {
            return false;
        }
        push_digits(w, u64::from(since.subsec_micros()), 6);
        w.write_char('Z').is_ok()
    })
}

/// The request id header: taken from the request when it carries a usable one, else generated;
/// always returned on the response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served, in the request's extensions (for handlers that log).
#[derive(Clone, Debug)]
pub struct RequestId(pub HeaderValue);

/// The `error_code` of an error response, left in the response's extensions by the error
/// renderer so the request log can name it.
#[derive(Clone, Copy, Debug)]
pub struct LoggedErrorCode(pub &'static str);

/// An incoming `X-Request-Id` is kept when it is 1-128 visible ASCII characters (so it is safe
/// to echo and to log); otherwise a new UUID is used.
fn request_id(req: &ServiceRequest) -> HeaderValue {
    req.headers()
        .get(&REQUEST_ID)
        .filter(|v| {
            let b = v.as_bytes();
            !b.is_empty() && b.len() <= 128 && b.iter().all(|c| c.is_ascii_graphic())
        })
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).expect("a UUID is a valid header value")
        })
}

/// Gives every request an id (returned in `X-Request-Id`) and logs one event when it ends.
pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&req);
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    // At `debug`, whatever a handler logs while serving the request carries its id (in JSON:
    // `span`). A span per request was about 3% of a getTable's instructions: not at `info`.
    let span = tracing::debug_span!("request", request_id = id.to_str().unwrap_or_default());
    let mut res = next.call(req).instrument(span).await?;
    if tracing::enabled!(tracing::Level::INFO) {
        let request = res.request();
        let route = request.match_pattern().unwrap_or_else(|| request.path().to_string());
        let caller = request.extensions().get::<std::sync::Arc<crate::authz::Caller>>().cloned();
        let error_code = res.response().extensions().get::<LoggedErrorCode>().map(|c| c.0);
        let principal_id = caller.as_ref().map(|c| c.id);
        // A view-as request (`X-UC-Emulator-View-As`) logs both: the principal it acted as, and
        // the signed-in one.
        let signed_in = request.extensions().get::<ViewedBy>().map(|v| v.0.clone());
        log_line(&RequestLine {
            request_id: id.to_str().unwrap_or_default(),
            method: method.as_str(),
            route: &route,
            status: res.status().as_u16(),
            error_code,
            duration_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            principal_id,
            principal: caller.as_ref().map(|c| c.name.as_str()),
            signed_in: signed_in.as_deref(),
        });
    }
    res.headers_mut().insert(REQUEST_ID, id);
    Ok(res)
}

/// The fields of the one event each request logs.
struct RequestLine<'a> {
    request_id: &'a str,
    method: &'a str,
    route: &'a str,
    status: u16,
    error_code: Option<&'static str>,
    duration_us: u64,
    /// Logged as a decimal string, as SCIM shows it (JSON readers lose digits of large numbers).
    principal_id: Option<i64>,
    principal: Option<&'a str>,
    signed_in: Option<&'a str>,
}

fn log_line(l: &RequestLine<'_>) {
    if let Some(sink) = DIRECT.get() {
        thread_local! {
            static LINE: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        return LINE.with(|line| {
            let mut line = line.borrow_mut();
            line.clear();
            write_request_line(&mut line, l, std::time::SystemTime::now());
            let _ = { *sink }.write_all(line.as_bytes());
        });
    }
    tracing::info!(
        request_id = %l.request_id,
        method = %l.method,
        route = %l.route,
        status = l.status,
        error_code = l.error_code,
        duration_ms = l.duration_us as f64 / 1000.0,
        principal_id = l.principal_id.map(|id| id.to_string()),
        principal = l.principal,
        signed_in = l.signed_in,
        "request"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What tracing-subscriber's full format (no colour, no target) writes for `line` through
    /// tracing, timestamps cut.
    fn through_tracing(line: &RequestLine<'_>) -> String {
        use std::sync::{Arc, Mutex};
        let out = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = Arc::clone(&out);
        let make = move || Sink(Arc::clone(&sink));
        let subscriber = tracing_subscriber::fmt().with_writer(make).with_target(false).with_ansi(false).finish();
        tracing::subscriber::with_default(subscriber, || log_line(line));
        let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        text.split_once(' ').unwrap().1.to_string()
    }

    struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_direct_request_line_is_the_full_formats_line() {
        let lines = [
            RequestLine {
                request_id: "4a0d-1",
                method: "GET",
                route: "/api/2.1/unity-catalog/catalogs/{name}",
                status: 403,
                error_code: Some("PERMISSION_DENIED"),
                duration_us: 412,
                principal_id: Some(5071897501677565),
                principal: Some("alice \"the\" admin@example.com"),
                signed_in: Some("admin@example.com"),
            },
            RequestLine {
                request_id: "x",
                method: "POST",
                route: "/healthz",
                status: 200,
                error_code: None,
                duration_us: 0,
                principal_id: None,
                principal: None,
                signed_in: None,
            },
            RequestLine {
                request_id: "y",
                method: "DELETE",
                route: "/api/2.1/unity-catalog/tables/{full_name}",
                status: 404,
                error_code: Some("TABLE_DOES_NOT_EXIST"),
                duration_us: 86_400_000_010,
                principal_id: Some(-7),
                principal: Some("bot"),
                signed_in: None,
            },
        ];
        for line in &lines {
            let mut direct = String::new();
            write_request_line(&mut direct, line, std::time::SystemTime::now());
            let direct = direct.split_once(' ').unwrap().1;
            assert_eq!(direct, through_tracing(line));
            assert!(direct.starts_with(" INFO request request_id="), "{direct}");
        }
    }

    /// What a [`BatchedStderr`] under test has written.
    #[derive(Clone, Default)]
    struct Written(std::sync::Arc<Mutex<Vec<u8>>>);
    impl Write for Written {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Written {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn batched_lines_all_arrive_in_order_and_an_idle_writer_writes_at_once() {
        let written = Written::default();
        let mut sink = BatchedStderr::start(Box::new(written.clone()));
        // A lone line goes out without a flush.
        sink.write_all(b"first\n").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while written.text() != "first\n" {
            assert!(Instant::now() < deadline, "a lone line was never written: {:?}", written.text());
            std::thread::sleep(Duration::from_millis(1));
        }
        // Four threads; now and then a line so long that the buffer overflows.
        let threads: Vec<_> = (0..4)
            .map(|t| {
                std::thread::spawn(move || {
                    let mut sink = sink;
                    for i in 0..3000 {
                        let pad =
                            if i % 1000 == 999 { "x".repeat(BatchedStderr::MAX_PENDING / 2) } else { String::new() };
                        sink.write_all(format!("t{t} {i} {pad}\n").as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|h| h.join().unwrap());
        sink.flush_now();
        let text = written.text();
        let mut next = [0usize; 4];
        for line in text.lines().skip(1) {
            let mut parts = line.split(' ');
            let t: usize = parts.next().unwrap()[1..].parse().unwrap();
            let i: usize = parts.next().unwrap().parse().unwrap();
            assert_eq!(i, next[t], "thread {t}'s lines out of order");
            next[t] += 1;
        }
        assert_eq!(next, [3000; 4], "lines lost");
    }

    #[test]
    fn the_timestamp_is_the_system_timers() {
        use std::time::{Duration, SystemTime, UNIX_EPOCH};
        let at = |secs: u64, micros: u32| {
            let mut out = String::new();
            assert!(write_timestamp(&mut out, UNIX_EPOCH + Duration::new(secs, micros * 1000 + 999)));
            out
        };
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(at(1_796_280_355, 306_001), "2026-12-03T06:45:55.306001Z");
        assert_eq!(at(1_796_280_355, 42), "2026-12-03T06:45:55.000042Z");
        assert_eq!(at(951_782_400, 999_999), "2000-02-29T00:00:00.999999Z");
        assert_eq!(at(253_402_300_799, 1), "9999-12-31T23:59:59.000001Z");
        assert!(!write_timestamp(&mut String::new(), UNIX_EPOCH + Duration::from_secs(253_402_300_800)));
        // The same characters as tracing-subscriber's own timer, now (up to the second: the
        // two clocks are read one after the other).
        for _ in 0..3 {
            use tracing_subscriber::fmt::time::FormatTime;
            let mut theirs = String::new();
            tracing_subscriber::fmt::time::SystemTime
                .format_time(&mut tracing_subscriber::fmt::format::Writer::new(&mut theirs))
                .unwrap();
            let mut ours = String::new();
            assert!(write_timestamp(&mut ours, SystemTime::now()));
            assert_eq!(ours.len(), theirs.len(), "{ours} {theirs}");
            if ours[..20] == theirs[..20] {
                return;
            }
        }
        panic!("the timestamps never agreed to the second");
    }

    #[test]
    fn digits_are_written_as_the_formatter_writes_them() {
        for (n, width) in [(0, 1), (7, 6), (123_456, 6), (5, 3), (42, 1), (1_000_000, 6), (u64::MAX, 1), (u64::MAX, 20)]
        {
            let mut ours = String::new();
            push_digits(&mut ours, n, width);
            assert_eq!(ours, format!("{n:0width$}"), "{n} in {width} digits");
        }
    }

    #[test]
    fn milliseconds_are_written_as_debug_writes_the_float() {
        let cases = (0..3000).chain([9_999, 10_000, 123_456_789, 86_400_000_000, (1 << 52) - 1, 1 << 52, u64::MAX]);
        for micros in cases {
            let mut ours = String::new();
            push_millis(&mut ours, micros);
            assert_eq!(ours, format!("{:?}", micros as f64 / 1000.0), "{micros} µs");
        }
    }
}
