//! Logs go to stderr (stdout carries only the listening line); level from `RUST_LOG`, default
//! `info`. One event per request: its id, method, route template, status, error code, duration
//! and principal, never a body or a token.
//!
//! Formats: `text` (human; ANSI colour only when stderr is a terminal and `NO_COLOR` is unset or
//! empty) and `json` (one JSON object per line, flat, for log collectors).

use std::io::IsTerminal;
use std::time::Instant;

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

/// Installs the stderr logger. Safe to call more than once (later calls do nothing).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(colour_allowed()).event_format(TextFormat::default()).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init(),
    };
}

/// The `text` format: tracing-subscriber's full format, with the request line (the most
/// frequent event by far) written by a plain field visitor when there is no colour. It writes
/// the same characters; the general formatter's styling machinery was a tenth of a getTable's
/// work even with colour off.
pub struct TextFormat {
    full: tracing_subscriber::fmt::format::Format<
        tracing_subscriber::fmt::format::Full,
        tracing_subscriber::fmt::time::SystemTime,
    >,
}

impl Default for TextFormat {
    fn default() -> Self {
        TextFormat { full: tracing_subscriber::fmt::format::Format::default().with_target(false) }
    }
}

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for TextFormat
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        use tracing_subscriber::fmt::time::FormatTime;
        let meta = event.metadata();
        let plain = !writer.has_ansi_escapes()
            && meta.target() == module_path!()
            && *meta.level() == tracing::Level::INFO
            && meta.fields().field("route").is_some()
            && ctx.event_scope().is_none();
        if !plain {
            return self.full.format_event(ctx, writer, event);
        }
        if !write_timestamp(&mut writer, std::time::SystemTime::now())
            && tracing_subscriber::fmt::time::SystemTime.format_time(&mut writer).is_err()
        {
            writer.write_str("<unknown time>")?;
        }
        writer.write_str("  INFO ")?;
        let mut fields = PlainFields { writer: &mut writer, first: true, result: Ok(()) };
        event.record(&mut fields);
        fields.result?;
        writer.write_char('\n')
    }
}

/// `name=value` with the value's `Debug`, space-separated, the message bare: what the default
/// field formatter writes without colour for fields that are neither errors nor `r#` names.
struct PlainFields<'w, 'a> {
    writer: &'w mut tracing_subscriber::fmt::format::Writer<'a>,
    first: bool,
    result: std::fmt::Result,
}

impl PlainFields<'_, '_> {
    /// Starts a field: the separator, and `name=` unless it is the message.
    fn start(&mut self, field: &tracing::field::Field) -> bool {
        if self.result.is_err() {
            return false;
        }
        if !std::mem::take(&mut self.first) {
            self.result = self.writer.write_char(' ');
        }
        if field.name() != "message" {
            self.result = self
                .result
                .and_then(|()| self.writer.write_str(field.name()))
                .and_then(|()| self.writer.write_char('='));
        }
        self.result.is_ok()
    }
}

impl tracing::field::Visit for PlainFields<'_, '_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if self.start(field) {
            self.result = write!(self.writer, "{value:?}");
        }
    }

    /// A string as `{:?}` writes it: quoted, and unchanged when it holds only printable ASCII
    /// other than `"` and `\\` (the usual case, written without the formatter).
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if !value.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\') {
            return self.record_debug(field, &value);
        }
        if self.start(field) {
            self.result = self
                .writer
                .write_char('"')
                .and_then(|()| self.writer.write_str(value))
                .and_then(|()| self.writer.write_char('"'));
        }
    }

    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        if self.start(field) {
            self.result = write!(self.writer, "{value}");
        }
    }
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
        let mut micros = since.subsec_micros();
        let mut digits = [b'0'; 6];
        for d in digits.iter_mut().rev() {
            *d = b'0' + (micros % 10) as u8;
            micros /= 10;
        }
        let digits = std::str::from_utf8(&digits).expect("ASCII digits");
        w.write_str(&second.1).and_then(|()| w.write_str(digits)).and_then(|()| w.write_char('Z')).is_ok()
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

/// Milliseconds with microsecond precision (`0.241`, not `0.24098899999999998`).
pub fn millis(since: Instant) -> f64 {
    since.elapsed().as_micros() as f64 / 1000.0
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
    // Whatever a handler logs while serving the request carries its id (in JSON: `span`).
    let span = tracing::info_span!("request", request_id = id.to_str().unwrap_or_default());
    let mut res = next.call(req).instrument(span).await?;
    if tracing::enabled!(tracing::Level::INFO) {
        let request = res.request();
        let route = request.match_pattern().unwrap_or_else(|| request.path().to_string());
        let caller = request.extensions().get::<std::sync::Arc<crate::authz::Caller>>().cloned();
        let error_code = res.response().extensions().get::<LoggedErrorCode>().map(|c| c.0);
        // A decimal string, as SCIM shows it (JSON readers lose digits of large numbers).
        let principal_id = caller.as_ref().map(|c| c.id.to_string());
        // A view-as request (`X-UC-Emulator-View-As`) logs both: the principal it acted as, and
        // the signed-in one.
        let signed_in = request.extensions().get::<ViewedBy>().map(|v| v.0.clone());
        log_line(&RequestLine {
            request_id: id.to_str().unwrap_or_default(),
            method: method.as_str(),
            route: &route,
            status: res.status().as_u16(),
            error_code,
            duration_ms: millis(started),
            principal_id: principal_id.as_deref(),
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
    duration_ms: f64,
    principal_id: Option<&'a str>,
    principal: Option<&'a str>,
    signed_in: Option<&'a str>,
}

fn log_line(l: &RequestLine<'_>) {
    tracing::info!(
        request_id = %l.request_id,
        method = %l.method,
        route = %l.route,
        status = l.status,
        error_code = l.error_code,
        duration_ms = l.duration_ms,
        principal_id = l.principal_id,
        principal = l.principal,
        signed_in = l.signed_in,
        "request"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a subscriber with `format` writes for `line` (without colour), timestamps cut.
    fn written(fast: bool, line: &RequestLine<'_>) -> String {
        use std::sync::{Arc, Mutex};
        let out = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = Arc::clone(&out);
        let make = move || Sink(Arc::clone(&sink));
        let builder = tracing_subscriber::fmt().with_writer(make).with_target(false).with_ansi(false);
        let run = || {
            log_line(line);
            tracing::info_span!("request", request_id = "in-a-span").in_scope(|| log_line(line));
            tracing::info!(other = "field", "not a request line");
        };
        if fast {
            tracing::subscriber::with_default(builder.event_format(TextFormat::default()).finish(), run);
        } else {
            tracing::subscriber::with_default(builder.finish(), run);
        }
        let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        text.lines().map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest).to_string() + "\n").collect()
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
    fn the_plain_request_line_is_the_full_formats_line() {
        let lines = [
            RequestLine {
                request_id: "4a0d-1",
                method: "GET",
                route: "/api/2.1/unity-catalog/catalogs/{name}",
                status: 403,
                error_code: Some("PERMISSION_DENIED"),
                duration_ms: 0.412,
                principal_id: Some("5071897501677565"),
                principal: Some("alice \"the\" admin@example.com"),
                signed_in: Some("admin@example.com"),
            },
            RequestLine {
                request_id: "x",
                method: "POST",
                route: "/healthz",
                status: 200,
                error_code: None,
                duration_ms: 0.0,
                principal_id: None,
                principal: None,
                signed_in: None,
            },
        ];
        for line in &lines {
            let (fast, full) = (written(true, line), written(false, line));
            assert_eq!(fast, full);
            assert!(fast.starts_with(" INFO request request_id="), "{fast}");
            assert_eq!(fast.lines().count(), 3, "{fast}");
        }
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
    fn millis_has_microsecond_precision() {
        let t = Instant::now() - std::time::Duration::from_nanos(240_988_999);
        let ms = millis(t);
        let text = ms.to_string();
        let decimals = text.split_once('.').map(|(_, d)| d.len()).unwrap_or(0);
        assert!(decimals <= 3, "{text} has more than 3 decimals");
        assert!(ms >= 240.988, "{text}");
    }
}
