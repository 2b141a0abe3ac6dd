//! Authentication middleware and extractors. Every extractor failure speaks the one error JSON.

use std::collections::HashMap;
use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use serde::de::DeserializeOwned;

use crate::authz::{Caller, MetastoreScope};
use crate::domain::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::store::{tokens, Store};

/// Largest request body accepted (413 beyond).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Shared server state.
pub struct AppState {
    pub store: Arc<Store>,
    pub callers: CallerCache,
    /// `--storage-map`: cloud prefixes served from local directories (listFiles).
    pub storage_map: Arc<[crate::config::StorageMapping]>,
    /// `--file-root`: the only directories `file://` URLs may point into.
    pub file_roots: crate::files::FileRoots,
    /// The workspace address (`scheme://host:port`) clients are told about.
    pub public_url: String,
    /// This server is `partner-connect certify`'s sandbox: connects send the partner's
    /// `test_workspace_detail`.
    pub certify_sandbox: bool,
    /// `UC_EMULATOR_PUBLIC_URL` as configured (no trailing `/`); `None` when unset, and then
    /// host metadata answers with the address the client used.
    pub configured_public_url: Option<String>,
    /// `--presigned-url-lifetime`: how long Delta Sharing file URLs stay valid (ms).
    pub presigned_url_lifetime_ms: i64,
    /// `--oauth-token-lifetime`: how long minted OAuth access tokens live (seconds).
    pub oauth_token_lifetime_secs: i64,
    /// The id of the database's one account.
    pub account_id: String,
    /// The credentials this process vended (shared with the S3 endpoint).
    pub vended: Arc<crate::vended::Registry>,
    /// The S3 endpoint's advertised URL (`access_point`); `None` when `--s3-bind` is off.
    pub s3_endpoint_url: Option<String>,
}

impl AppState {
    /// Where storage URLs live locally in this run (`--storage-map`, `--file-root`).
    pub fn local_storage(&self) -> crate::files::LocalStorage {
        crate::files::LocalStorage { map: self.storage_map.clone(), roots: self.file_roots.clone() }
    }
}

/// Resolved callers by token (and requested workspace), valid while the store's identity epoch
/// is unchanged. Keyed by the token itself, not its SHA-256 (which only a miss computes, to look
/// the token up): hashing it was a twentieth of a getTable's work. The map lives only in the
/// server's memory, as the token does while its request is served; the database keeps hashes.
#[derive(Default)]
pub struct CallerCache {
    entries: RwLock<HashMap<(String, Option<i64>), Cached>>,
}

struct Cached {
    epoch: u64,
    caller: Arc<Caller>,
    expires_at: Option<i64>,
    refused: Option<String>,
}

impl CallerCache {
    /// The caller a bearer token stands for when acting in the workspace `requested` names
    /// (its own, for a personal access token), or 401. The second value says why that
    /// workspace cannot be acted in with this credential, if it cannot.
    pub async fn resolve(
        &self,
        store: &Arc<Store>,
        token: &str,
        requested: Option<i64>,
    ) -> ApiResult<(Arc<Caller>, Option<String>)> {
        let key = (token.to_string(), requested);
        let epoch = store.identity_epoch();
        let now = now_ms();
        {
            let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
            if let Some(c) = entries.get(&key) {
                if c.epoch == epoch {
                    return match c.expires_at {
                        Some(t) if t <= now => Err(expired()),
                        _ => Ok((Arc::clone(&c.caller), c.refused.clone())),
                    };
                }
            }
        }
        let hash = tokens::hash(token);
        let resolved = store.read(move |conn| tokens::resolve(conn, &hash, requested)).await?;
        let Some(resolved) = resolved else {
            return Err(ApiError::unauthenticated("Invalid access token."));
        };
        let caller = Arc::new(resolved.caller);
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() > 10_000 {
            entries.clear();
        }
        let refused = resolved.workspace_refused;
        entries.insert(
            key,
            Cached { epoch, caller: Arc::clone(&caller), expires_at: resolved.expires_at, refused: refused.clone() },
        );
        match resolved.expires_at {
            Some(t) if t <= now => Err(expired()),
            _ => Ok((caller, refused)),
        }
    }
}

fn expired() -> ApiError {
    ApiError::unauthenticated("Token is expired.")
}

/// The response header naming the acting workspace.
pub const ORG_ID: HeaderName = HeaderName::from_static("x-databricks-org-id");

/// Middleware on `/api`: resolves the bearer token once into a [`Caller`] in the request's
/// extensions, or answers 401. Handlers then extract the caller synchronously, so a 401 always
/// wins over a body error.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let token = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| {
            let (scheme, rest) = h.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim().to_string())
        })
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        let err = ApiError::unauthenticated("Missing or malformed Authorization header; expected 'Bearer <token>'.");
        return Ok(req.error_response(err).map_into_right_body());
    };
    let state = req.app_data::<web::Data<AppState>>().expect("AppState is registered").clone();
    let scope = api_scope(req.path());
    // Account APIs ignore the workspace header; workspace APIs act in the workspace it names.
    let requested = match scope {
        ApiScope::Account(_) => Ok(None),
        ApiScope::Workspace => requested_workspace(&req),
    };
    let requested = match requested {
        Ok(r) => r,
        Err(e) => {
            // 401 comes first.
            if let Err(e) = state.callers.resolve(&state.store, &token, None).await {
                return Ok(req.error_response(e).map_into_right_body());
            }
            return Ok(req.error_response(e).map_into_right_body());
        }
    };
    let (caller, refused) = match state.callers.resolve(&state.store, &token, requested).await {
        Ok(c) => c,
        Err(e) => return Ok(req.error_response(e).map_into_right_body()),
    };
    let refusal = match scope {
        ApiScope::Account(given) if !given.eq_ignore_ascii_case(&state.account_id) => Some(ApiError::new(
            crate::error::ErrorCode::ResourceDoesNotExist,
            format!("Account '{given}' does not exist."),
        )),
        ApiScope::Account(_) => None,
        ApiScope::Workspace => match refused {
            Some(why) => Some(ApiError::denied(why)),
            None if caller.workspace_id == 0 => {
                Some(ApiError::denied(format!("{} is not assigned to any workspace.", caller.name)))
            }
            None if !caller.belongs => {
                Some(ApiError::denied(format!("{} is not assigned to workspace {}.", caller.name, caller.workspace_id)))
            }
            None => None,
        },
    };
    if let Some(e) = refusal {
        let e =
            if req.path().starts_with(super::SCIM_PREFIX) || req.path().contains("/scim/v2/") { e.scim() } else { e };
        return Ok(req.error_response(e).map_into_right_body());
    }
    let caller = match view_as(&req, &state, caller, matches!(scope, ApiScope::Account(_))).await {
        Ok(c) => c,
        Err(e) => return Ok(req.error_response(e).map_into_right_body()),
    };
    let workspace = HeaderValue::from(caller.workspace_id);
    req.extensions_mut().insert(caller);
    let mut res = next.call(req).await?;
    // As on a hosted workspace, every response names the workspace the request acted in
    // (the SDK's `get_workspace_id()` reads it).
    res.headers_mut().insert(ORG_ID, workspace);
    Ok(res.map_into_left_body())
}

/// Which kind of API a path under `/api` is.
enum ApiScope<'a> {
    /// `/api/2.0/accounts/<A>/...` or `/api/2.0/preview/accounts/<A>/...`, with the `<A>` given.
    Account(&'a str),
    /// Everything else, including the workspace proxies of account APIs.
    Workspace,
}

/// Account APIs live under `/api/2.0/accounts/<A>/` and `/api/2.0/preview/accounts/<A>/`; the
/// workspace proxies `/api/2.0/preview/accounts/access-control/...` and
/// `/api/2.0/accounts/servicePrincipals/...` are workspace APIs.
fn api_scope(path: &str) -> ApiScope<'_> {
    let rest = path.strip_prefix("/api/2.0/accounts/").or_else(|| path.strip_prefix("/api/2.0/preview/accounts/"));
    match rest.and_then(|r| r.split('/').next()) {
        Some(id) if !id.is_empty() && id != "access-control" && id != "servicePrincipals" => ApiScope::Account(id),
        _ => ApiScope::Workspace,
    }
}

/// The header naming the workspace a request acts in (the SDK sends it when its `workspace_id`
/// is configured).
pub const WORKSPACE_ID_HEADER: HeaderName = HeaderName::from_static("x-databricks-workspace-id");

fn requested_workspace(req: &ServiceRequest) -> ApiResult<Option<i64>> {
    let Some(raw) = req.headers().get(&WORKSPACE_ID_HEADER) else { return Ok(None) };
    let bad = || {
        ApiError::invalid("X-Databricks-Workspace-Id", "the X-Databricks-Workspace-Id header must be a decimal int64")
    };
    let text = raw.to_str().map_err(|_| bad())?.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return Err(bad());
    }
    text.parse::<i64>().map(Some).map_err(|_| bad())
}

/// `X-UC-Emulator-View-As`: a metastore admin reads the workspace as another user or service
/// principal sees it (the permission explorer's "view as"). Read-only; it never widens access.
pub const VIEW_AS_HEADER: HeaderName = HeaderName::from_static("x-uc-emulator-view-as");

async fn view_as(
    req: &ServiceRequest,
    state: &AppState,
    caller: Arc<Caller>,
    account_api: bool,
) -> ApiResult<Arc<Caller>> {
    let Some(raw) = req.headers().get(&VIEW_AS_HEADER) else { return Ok(caller) };
    let name = raw
        .to_str()
        .map_err(|_| ApiError::invalid("X-UC-Emulator-View-As", "the X-UC-Emulator-View-As header must be text"))?;
    let name = name.trim().to_string();
    if name.is_empty() {
        return Ok(caller);
    }
    if !caller.is_metastore_admin() {
        return Err(ApiError::denied("Only metastore admins may send the X-UC-Emulator-View-As header."));
    }
    let workspace_id = caller.workspace_id;
    let lookup = name.clone();
    let viewed = state.store.read(move |conn| crate::store::principals::acting_as(conn, &lookup, workspace_id)).await?;
    let Some(viewed) = viewed else {
        return Err(ApiError::invalid(
            "X-UC-Emulator-View-As",
            format!("{name:?} is not an active user or service principal"),
        ));
    };
    if req.method() != actix_web::http::Method::GET {
        return Err(ApiError::denied("view-as requests are read-only (X-UC-Emulator-View-As is for GET only)."));
    }
    if account_api {
        return Err(ApiError::invalid(
            "X-UC-Emulator-View-As",
            "the X-UC-Emulator-View-As header applies to workspace APIs only, not to account APIs",
        ));
    }
    req.extensions_mut().insert(crate::telemetry::ViewedBy(caller.name.clone()));
    Ok(Arc::new(viewed))
}

/// The authenticated caller.
pub struct Auth(pub Arc<Caller>);

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.extensions().get::<Arc<Caller>>() {
            Some(c) => Ok(Auth(Arc::clone(c))),
            None => Err(ApiError::unauthenticated("Missing or malformed Authorization header.")),
        })
    }
}

/// The caller of an endpoint scoped to the workspace's metastore; 404 when none is assigned.
pub struct Scoped {
    pub caller: Arc<Caller>,
    pub metastore: MetastoreScope,
}

impl FromRequest for Scoped {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.extensions().get::<Arc<Caller>>() {
            None => Err(ApiError::unauthenticated("Missing or malformed Authorization header.")),
            Some(c) => match &c.metastore {
                None => Err(ApiError::no_metastore()),
                Some(m) => Ok(Scoped { metastore: m.clone(), caller: Arc::clone(c) }),
            },
        })
    }
}

/// A JSON body of any content type; empty means `{}`; errors name the field.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let raw = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let raw = raw.await.map_err(unreadable_body)?;
            parse_json(&raw).map(Body)
        })
    }
}

/// Parses a request body: empty is `{}`, anything but a JSON object is a 400 naming the field.
pub fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> ApiResult<T> {
    let text: &[u8] = if raw.iter().all(u8::is_ascii_whitespace) { b"{}" } else { raw };
    if text.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::invalid("body", "the request body must be a JSON object"));
    }
    let mut de = serde_json::Deserializer::from_slice(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::invalid("body", format!("malformed JSON: {inner}"))
        } else {
            ApiError::invalid(&path, clean_serde_message(&inner.to_string()))
        }
    })?;
    de.end().map_err(|e| ApiError::invalid("body", format!("malformed JSON: {e}")))?;
    Ok(value)
}

/// serde's messages end with " at line 1 column 12"; the field name says more.
fn clean_serde_message(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn unreadable_body(e: actix_web::Error) -> ApiError {
    if let Some(PayloadError::Overflow) = e.as_error::<PayloadError>() {
        return ApiError::new(
            crate::error::ErrorCode::PayloadTooLarge,
            format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
        );
    }
    if let Some(p) = e.as_error::<actix_web::error::PayloadError>() {
        if matches!(p, PayloadError::Overflow) {
            return ApiError::new(crate::error::ErrorCode::PayloadTooLarge, "The request body is too large.");
        }
    }
    let res = e.as_response_error().status_code();
    if res.as_u16() == 413 {
        return ApiError::new(
            crate::error::ErrorCode::PayloadTooLarge,
            format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
        );
    }
    ApiError::invalid("body", format!("the request body could not be read: {e}"))
}

/// A raw body (DELETE options travel here for the legacy CLI); size errors speak error JSON.
pub struct RawBody(pub web::Bytes);

impl FromRequest for RawBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let raw = web::Bytes::from_request(req, payload);
        Box::pin(async move { raw.await.map(RawBody).map_err(unreadable_body) })
    }
}

/// Query parameters; unknown ones are ignored, bad values are a 400 naming the parameter.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Params<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req.query_string()).map(Params))
    }
}

pub fn parse_query<T: DeserializeOwned>(query: &str) -> ApiResult<T> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        ApiError::invalid(&path, clean_serde_message(&inner))
    })
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

/// A path parameter, percent-decoded as UTF-8.
pub fn path_param(req: &HttpRequest, name: &str) -> ApiResult<String> {
    let raw = req.match_info().get(name).unwrap_or_default();
    if !req.uri().path().contains('%') {
        return Ok(raw.to_string()); // nothing to decode
    }
    // actix decodes the matched segments lossily; refuse a path that is not UTF-8 at all.
    if percent_encoding::percent_decode_str(req.uri().path()).decode_utf8().is_err() {
        return Err(ApiError::invalid(name, "is not valid UTF-8 after percent-decoding"));
    }
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| ApiError::invalid(name, "is not valid UTF-8 after percent-decoding"))
}

/// The `{name}` path segment as an object name (lower-cased, validated).
pub fn name_param(req: &HttpRequest) -> ApiResult<crate::domain::names::Ident> {
    Ok(crate::domain::names::Ident::parse("name", &path_param(req, "name")?)?)
}

/// Query booleans must be `true` or `false`: serde's bool parser accepts
/// exactly those.
pub mod qbool {
    use serde::{Deserialize, Deserializer};

    pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        let raw = Option::<String>::deserialize(d)?;
        match raw.as_deref() {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(serde::de::Error::custom(format!("expected true or false, got {other:?}"))),
        }
    }
}

/// Query integers: decimal only.
pub mod qint {
    use serde::{Deserialize, Deserializer};

    pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        let raw = Option::<String>::deserialize(d)?;
        match raw.as_deref() {
            None => Ok(None),
            Some(s) => s
                .parse::<i64>()
                .map(Some)
                .map_err(|_| serde::de::Error::custom(format!("expected a decimal integer, got {s:?}"))),
        }
    }
}
