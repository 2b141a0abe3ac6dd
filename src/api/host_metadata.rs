//! Host metadata, `GET /.well-known/databricks-config` (no token): what a Databricks host tells
//! clients about itself. Current `databricks-sdk` releases read it whenever a client is
//! configured (account id, workspace id, the OIDC endpoint) and log a warning when it is missing.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::extract::AppState;
use crate::error::ApiResult;
use crate::store::principals;

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct HostMetadata {
    oidc_endpoint: String,
    account_id: String,
    /// Only while the database has exactly one workspace: one address serves them all, so with
    /// more there is no single answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    workspace_id: Option<String>,
}

/// `GET /.well-known/databricks-config`
pub async fn databricks_config(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let workspace_id = state.store.read(principals::sole_workspace).await?;
    let base = base_url(&req, state.configured_public_url.as_deref(), &state.public_url);
    Ok(HttpResponse::Ok().json(HostMetadata {
        oidc_endpoint: format!("{base}/oidc"),
        account_id: state.account_id.clone(),
        workspace_id: workspace_id.map(|w| w.to_string()),
    }))
}

/// The advertised base URL when one is configured, else `http://` and the address the client
/// used (its `Host` header), else the listening address.
pub(crate) fn base_url(req: &HttpRequest, configured: Option<&str>, listening: &str) -> String {
    if let Some(url) = configured {
        return url.trim_end_matches('/').to_string();
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| is_authority(h))
        .map(|h| format!("http://{h}"));
    host.unwrap_or_else(|| listening.trim_end_matches('/').to_string())
}

/// A `Host` value that is a plain `host[:port]` (so it can go into a URL unchanged).
fn is_authority(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::is_authority;

    #[test]
    fn host_headers_that_are_not_authorities_are_not_echoed() {
        assert!(is_authority("127.0.0.1:8080"));
        assert!(is_authority("[::1]:8080"));
        assert!(is_authority("uc.example.com"));
        assert!(!is_authority("evil.com/path"));
        assert!(!is_authority("a b"));
        assert!(!is_authority("x@y"));
        assert!(!is_authority(""));
    }
}
