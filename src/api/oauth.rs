//! OAuth machine-to-machine over HTTP: service principal secrets (`a.service_principal_secrets`
//! and the workspace proxy `w.service_principal_secrets_proxy`), the RFC 8414 discovery
//! documents and the client-credentials token endpoints the SDK's `oauth-m2m` strategy uses.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

use super::extract::{parse_json, parse_query, path_param, AppState, Auth, RawBody};
use super::{ok_empty, Res};
use crate::domain::{now_ms, rfc3339_utc};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ops::oauth::{self as ops, GrantError, SecretsPath};
use crate::store::oauth::SecretRow;

/// The secrets routes, inside the `/api` scope.
pub fn routes(cfg: &mut web::ServiceConfig) {
    for (base, path) in [
        ("/2.0/accounts/{account_id}/servicePrincipals", SecretsPath::Account),
        ("/2.0/accounts/servicePrincipals", SecretsPath::Workspace),
    ] {
        let p = web::Data::new(path);
        cfg.service(
            Res::new(&format!("{base}/{{service_principal_id}}/credentials/secrets"))
                .get(list_secrets)
                .post(create_secret)
                .build()
                .app_data(p.clone()),
        )
        .service(
            Res::new(&format!("{base}/{{service_principal_id}}/credentials/secrets/{{secret_id}}"))
                .delete(delete_secret)
                .build()
                .app_data(p),
        );
    }
}

/// The OIDC routes at the root (no token).
pub fn public_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(Res::new("/oidc/.well-known/oauth-authorization-server").get(discovery).build())
        .service(Res::new("/oidc/accounts/{account_id}/.well-known/oauth-authorization-server").get(discovery).build())
        .service(Res::new("/oidc/v1/token").post(token).build())
        .service(Res::new("/oidc/accounts/{account_id}/v1/token").post(token).build());
}

fn sp_id(req: &HttpRequest) -> ApiResult<i64> {
    let raw = path_param(req, "service_principal_id")?;
    raw.parse::<i64>().map_err(|_| {
        ApiError::invalid("service_principal_id", format!("must be the service principal's numeric id, got {raw:?}"))
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct CreateSecret {
    lifetime: Option<String>,
    scopes: Option<Vec<String>>,
}

/// `SecretInfo` (and, on create, the value).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SecretInfo {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    secret_hash: String,
    status: &'static str,
    create_time: String,
    update_time: String,
    expire_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    scopes: Option<Vec<String>>,
}

fn secret_info(row: SecretRow, secret: Option<String>, now_secs: i64) -> SecretInfo {
    SecretInfo {
        // A fingerprint of the stored hash: identifies the secret, reveals nothing of it.
        secret_hash: row.secret_hash[..16].to_string(),
        status: if row.expire_time <= now_secs { "EXPIRED" } else { "ACTIVE" },
        create_time: rfc3339_utc(row.create_time),
        update_time: rfc3339_utc(row.create_time),
        expire_time: rfc3339_utc(row.expire_time),
        id: row.id,
        secret,
        scopes: row.scopes,
    }
}

async fn create_secret(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    path: web::Data<SecretsPath>,
    RawBody(raw): RawBody,
) -> ApiResult<HttpResponse> {
    let path = **path;
    let id = sp_id(&req)?;
    let body: CreateSecret = parse_json(&raw)?;
    let lifetime = ops::parse_lifetime(body.lifetime.as_deref())?;
    if body.scopes.as_ref().is_some_and(|s| s.iter().any(|x| x.trim().is_empty())) {
        return Err(ApiError::invalid("scopes", "must be non-empty strings"));
    }
    let now = now_ms() / 1000;
    let scopes = body.scopes;
    let (row, value) =
        state.store.write(move |tx| ops::create_secret(tx, &caller, path, id, lifetime, scopes, now)).await?;
    Ok(HttpResponse::Ok().json(secret_info(row, Some(value), now)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    page_size: Option<String>,
    page_token: Option<String>,
}

async fn list_secrets(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    path: web::Data<SecretsPath>,
) -> ApiResult<HttpResponse> {
    let path = **path;
    let id = sp_id(&req)?;
    let q: ListQuery = parse_query(req.query_string())?;
    let page_size = match q.page_size.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(ApiError::invalid("page_size", format!("must be a positive integer, got {s:?}"))),
        },
    };
    let start = match q.page_token.as_deref().filter(|s| !s.is_empty()) {
        None => 0,
        Some(t) => t
            .strip_prefix("secrets:")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| ApiError::invalid("page_token", "is not a token this list gave out"))?,
    };
    let rows = state.store.read(move |conn| ops::list_secrets(conn, &caller, path, id)).await?;
    let now = now_ms() / 1000;
    let total = rows.len();
    let take = page_size.unwrap_or(usize::MAX);
    let page: Vec<SecretInfo> = rows.into_iter().skip(start).take(take).map(|r| secret_info(r, None, now)).collect();
    let mut body = Map::new();
    let end = start.saturating_add(page.len());
    body.insert("secrets".into(), serde_json::to_value(page).expect("serializes"));
    if end < total {
        body.insert("next_page_token".into(), json!(format!("secrets:{end}")));
    }
    Ok(HttpResponse::Ok().json(body))
}

async fn delete_secret(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    path: web::Data<SecretsPath>,
) -> ApiResult<HttpResponse> {
    let path = **path;
    let id = sp_id(&req)?;
    let secret_id = path_param(&req, "secret_id")?;
    state.store.write(move |tx| ops::delete_secret(tx, &caller, path, id, &secret_id)).await?;
    Ok(ok_empty())
}

// --- discovery and token endpoints -----------------------------------------------------------------

/// The OIDC base of a request: `<base>/oidc` or `<base>/oidc/accounts/<A>`; 404 for another
/// account id.
fn oidc_base(req: &HttpRequest, state: &AppState) -> ApiResult<String> {
    let base = super::host_metadata::base_url(req, state.configured_public_url.as_deref(), &state.public_url);
    match req.match_info().get("account_id") {
        None => Ok(format!("{base}/oidc")),
        Some(a) if a.eq_ignore_ascii_case(&state.account_id) => {
            Ok(format!("{base}/oidc/accounts/{}", state.account_id))
        }
        Some(a) => Err(ApiError::new(ErrorCode::ResourceDoesNotExist, format!("Account '{a}' does not exist."))),
    }
}

/// `GET …/.well-known/oauth-authorization-server` (RFC 8414).
async fn discovery(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let issuer = oidc_base(&req, &state)?;
    Ok(HttpResponse::Ok().json(json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/v1/token"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["all-apis"],
        "response_types_supported": [],
    })))
}

/// An RFC 6749 §5.2 error, with the emulator's keys beside the OAuth ones.
fn oauth_error(code: ErrorCode, error: &str, description: &str) -> ApiError {
    let mut extra = Map::new();
    extra.insert("error".into(), json!(error));
    extra.insert("error_description".into(), json!(description));
    ApiError::new(code, description).with_extra(extra)
}

fn invalid_client() -> ApiError {
    oauth_error(ErrorCode::Unauthenticated, "invalid_client", "Client authentication failed.")
}

fn invalid_request(description: &str) -> ApiError {
    oauth_error(ErrorCode::InvalidParameterValue, "invalid_request", description)
}

/// The form fields of a token request (a JSON object body is accepted too).
fn form_fields(req: &HttpRequest, raw: &[u8]) -> ApiResult<Map<String, Json>> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/json"));
    if is_json {
        return parse_json::<Map<String, Json>>(raw).map_err(|e| invalid_request(&e.message));
    }
    Ok(form_urlencoded::parse(raw).map(|(k, v)| (k.into_owned(), Json::String(v.into_owned()))).collect())
}

/// HTTP Basic client credentials, if sent.
fn basic_credentials(req: &HttpRequest) -> ApiResult<Option<(String, String)>> {
    let Some(h) = req.headers().get(header::AUTHORIZATION) else { return Ok(None) };
    let text = h.to_str().map_err(|_| invalid_client())?;
    let Some((scheme, rest)) = text.split_once(' ') else { return Err(invalid_client()) };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(invalid_client());
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(rest.trim()).map_err(|_| invalid_client())?;
    let decoded = String::from_utf8(decoded).map_err(|_| invalid_client())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(invalid_client)?;
    let unescape = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    Ok(Some((unescape(id), unescape(secret))))
}

/// `POST /oidc/v1/token`, `POST /oidc/accounts/<A>/v1/token`: the client-credentials grant.
async fn token(req: HttpRequest, state: web::Data<AppState>, RawBody(raw): RawBody) -> ApiResult<HttpResponse> {
    oidc_base(&req, &state)?;
    let fields = form_fields(&req, &raw)?;
    let field = |k: &str| fields.get(k).and_then(Json::as_str).map(str::to_string).filter(|s| !s.is_empty());
    let grant_type = field("grant_type").ok_or_else(|| invalid_request("grant_type is required."))?;
    let basic = basic_credentials(&req)?;
    let form = match (field("client_id"), field("client_secret")) {
        (Some(id), Some(secret)) => Some((id, secret)),
        _ => None,
    };
    let (client_id, client_secret) = match (basic, form) {
        (Some(b), Some(f)) if b != f => {
            return Err(invalid_request("Client credentials sent both in the header and in the body disagree."))
        }
        (Some(c), _) | (None, Some(c)) => c,
        (None, None) => return Err(invalid_client()),
    };
    if grant_type != "client_credentials" {
        return Err(oauth_error(
            ErrorCode::InvalidParameterValue,
            "unsupported_grant_type",
            &format!("grant_type '{grant_type}' is not supported; use client_credentials."),
        ));
    }
    let scope = field("scope");
    let now = now_ms();
    let lifetime = state.oauth_token_lifetime_secs;
    let minted = state
        .store
        .write(move |tx| ops::mint_token(tx, &client_id, &client_secret, scope.as_deref(), now, lifetime))
        .await?;
    match minted {
        Ok(m) => Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(json!({
            "access_token": m.access_token,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "scope": m.scope,
        }))),
        Err(GrantError::InvalidClient) => Err(invalid_client()),
        Err(GrantError::InvalidScope(why)) => Err(oauth_error(ErrorCode::InvalidParameterValue, "invalid_scope", &why)),
    }
}
