//! Logs go to stderr (stdout carries only the listening line); level from `RUST_LOG`, default
//! `info`. One line per request.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only on a terminal: a redirected log is plain text (and cheaper to write).
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(ansi)
        .try_init();
}

static NEXT_REQUEST_ID: AtomicU64 = AtomicU64::new(1);

/// Logs method, route pattern, status and time of every request (never bodies or tokens).
pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed);
    let started = Instant::now();
    let method = req.method().clone();
    let res = next.call(req).await?;
    if tracing::enabled!(tracing::Level::INFO) {
        let route = res.request().match_pattern().unwrap_or_else(|| res.request().path().to_string());
        let principal = res
            .request()
            .extensions()
            .get::<std::sync::Arc<crate::authz::Caller>>()
            .map(|c| c.name.clone())
            .unwrap_or_default();
        tracing::info!(
            request_id = id,
            %method,
            route = %route,
            principal = %principal,
            status = res.status().as_u16(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request"
        );
    }
    Ok(res)
}
