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
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
}

/// On a view-as request (`X-UC-Emulator-View-As`): the signed-in principal; the request's
/// caller is the viewed one. The request line logs both.
pub struct ViewedBy(pub String);

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
        let ext = res.request().extensions();
        let acting = ext.get::<std::sync::Arc<crate::authz::Caller>>().map(|c| c.name.clone()).unwrap_or_default();
        // A view-as request logs both: the signed-in principal and the one it viewed as.
        let (principal, view_as) = match ext.get::<ViewedBy>() {
            Some(by) => (by.0.clone(), acting),
            None => (acting, String::new()),
        };
        drop(ext);
        tracing::info!(
            request_id = id,
            %method,
            route = %route,
            principal = %principal,
            view_as = %view_as,
            status = res.status().as_u16(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request"
        );
    }
    Ok(res)
}
