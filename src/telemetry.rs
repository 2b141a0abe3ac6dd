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
        LogFormat::Text => builder.with_ansi(colour_allowed()).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init(),
    };
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
        tracing::info!(
            request_id = %id.to_str().unwrap_or_default(),
            method = %method,
            route = %route,
            status = res.status().as_u16(),
            error_code,
            duration_ms = millis(started),
            principal_id = principal_id.as_deref(),
            principal = caller.as_ref().map(|c| c.name.as_str()),
            "request"
        );
    }
    res.headers_mut().insert(REQUEST_ID, id);
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

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
