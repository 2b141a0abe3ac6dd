//! Delta Sharing, the recipient's side, over HTTP: the public activation paths (activation page,
//! activation info, credential retrieval), the sharing server under
//! `/api/2.0/delta-sharing/metastores/{metastore_id}` (recipient bearer tokens; errors carry
//! both `error_code` and the protocol's `errorCode`), and the pre-signed file URLs it hands
//! out. Parsing and rendering only: the operations are `ops::sharing`, the Delta log and the
//! answers' lines `delta::`.

use std::collections::HashMap;
use std::net::IpAddr;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::{json, Value as Json};

use super::extract::{path_param, AppState};
use super::Res;
use crate::delta::sharing::{self as answers, Accepts, Answer, ChangesRequest, Minting, QueryRequest, SharedTable};
use crate::domain::now_ms;
use crate::domain::sharing::{iso_millis, new_bearer_token, parse_timestamp};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ops::sharing as ops;

/// The sharing server's path prefix (the profile's `endpoint` after the public address).
pub const PREFIX: &str = "/api/2.0/delta-sharing/metastores";

pub fn routes(cfg: &mut web::ServiceConfig) {
    use super::openapi::{under, undocumented};
    let t = "/shares/{share}/schemas/{schema}/tables/{table}";
    let server = format!("{PREFIX}/{{metastore_id}}");
    let scope = under(&server, || {
        web::scope(&server)
            .wrap(from_fn(protocol_errors))
            .service(Res::new("/shares").get(list_shares).build())
            .service(Res::new("/shares/{share}").get(get_share).build())
            .service(Res::new("/shares/{share}/schemas").get(list_schemas).build())
            .service(Res::new("/shares/{share}/schemas/{schema}/tables").get(list_tables).build())
            .service(Res::new("/shares/{share}/all-tables").get(list_all_tables).build())
            .service(Res::new(t).head(table_version).build())
            .service(Res::new(&format!("{t}/version")).get(table_version).build())
            .service(Res::new(&format!("{t}/metadata")).get(table_metadata).build())
            .service(Res::new(&format!("{t}/query")).post(query_table).build())
            .service(Res::new(&format!("{t}/changes")).get(table_changes).build())
            .default_service(web::to(super::not_found))
    });
    cfg.service(scope);
    for v in ["2.0", "2.1"] {
        let public = format!("/api/{v}/unity-catalog/public");
        // `{activation_url}` is a token or a whole link: one segment (documented), or a link
        // whose slashes reach the path (the same handlers).
        cfg.service(
            Res::new(&format!("{public}/data_sharing_activation_info/{{activation_url}}")).get(activation_info).build(),
        )
        .service(
            Res::new(&format!("{public}/data_sharing_activation/{{activation_url}}")).get(retrieve_credential).build(),
        );
        undocumented(|| {
            cfg.service(
                Res::new(&format!("{public}/data_sharing_activation_info/{{a}}/{{rest:.*}}"))
                    .get(activation_info)
                    .build(),
            )
            .service(
                Res::new(&format!("{public}/data_sharing_activation/{{a}}/{{rest:.*}}"))
                    .get(retrieve_credential)
                    .build(),
            );
        });
    }
    cfg.service(Res::new("/delta_sharing/retrieve_config.html").get(activation_page).build());
    let presigned = under(crate::delta::presign::SCOPE, || {
        web::scope(crate::delta::presign::SCOPE)
            .wrap(from_fn(protocol_errors))
            .service(Res::new("/{key}").get(presigned_file).head(presigned_file).build())
            .default_service(web::to(super::not_found))
    });
    cfg.service(presigned);
}

/// Errors of the sharing server in the protocol's shape (`errorCode` besides `error_code`).
async fn protocol_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let converted = res.response().error().and_then(|e| e.as_error::<ApiError>()).map(|e| e.for_delta_sharing());
    Ok(match converted {
        Some(e) => res.into_response(e.error_response()).map_into_right_body(),
        None => res.map_into_left_body(),
    })
}

fn peer(req: &HttpRequest) -> Option<IpAddr> {
    req.peer_addr().map(|a| a.ip())
}

/// The SHA-256 of the request's bearer token, if it has one.
fn bearer_hash(req: &HttpRequest) -> Option<String> {
    let h = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = h.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| crate::store::tokens::hash(token))
}

fn query_map(req: &HttpRequest) -> HashMap<String, String> {
    form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect()
}

/// Everything a sharing request starts with: the metastore id of the path, the token, the peer.
struct Who {
    metastore_id: String,
    hash: Option<String>,
    peer: Option<IpAddr>,
    now: i64,
    /// The permission explorer's view-as header, which the sharing server does not take.
    view_as: bool,
}

fn who(req: &HttpRequest) -> ApiResult<Who> {
    let view_as = req
        .headers()
        .get(&super::extract::VIEW_AS_HEADER)
        .is_some_and(|v| !v.to_str().map(str::trim).unwrap_or("?").is_empty());
    Ok(Who {
        metastore_id: path_param(req, "metastore_id")?,
        hash: bearer_hash(req),
        peer: peer(req),
        now: now_ms(),
        view_as,
    })
}

impl Who {
    fn recipient(&self, conn: &rusqlite::Connection) -> ApiResult<ops::Recipient> {
        let recipient = ops::authenticate(conn, self.hash.as_deref(), &self.metastore_id, self.peer, self.now)?;
        if self.view_as {
            return Err(ApiError::invalid(
                "X-UC-Emulator-View-As",
                "the X-UC-Emulator-View-As header applies to workspace APIs only, not to the Delta Sharing server",
            ));
        }
        Ok(recipient)
    }
}

// ---- paging --------------------------------------------------------------------------------

/// Pages of 500 by default, 1000 at most.
const DEFAULT_PAGE: usize = 500;
const MAX_PAGE: usize = 1000;

struct PageQuery {
    max: usize,
    token: Option<String>,
}

fn page_query(q: &HashMap<String, String>) -> ApiResult<PageQuery> {
    let max = match q.get("maxResults") {
        None => DEFAULT_PAGE,
        Some(raw) => match raw.parse::<i32>() {
            Ok(n) if n >= 0 => (n as usize).min(MAX_PAGE),
            _ => return Err(ApiError::invalid("maxResults", format!("'{raw}' is not a non-negative 32-bit integer"))),
        },
    };
    Ok(PageQuery { max, token: q.get("pageToken").filter(|t| !t.is_empty()).cloned() })
}

/// One page of `items` (sorted by their keys) after the page token; the token of the next.
fn page<T>(
    state: &AppState,
    list: &str,
    p: &PageQuery,
    items: Vec<(String, T)>,
) -> ApiResult<(Vec<T>, Option<String>)> {
    let after =
        match &p.token {
            None => None,
            Some(t) => Some(state.store.page_key.open(list, t).ok_or_else(|| {
                ApiError::invalid("pageToken", "is not a page token this server issued for this list")
            })?),
        };
    let rest: Vec<(String, T)> = match &after {
        None => items,
        Some(a) if a.is_empty() => items,
        Some(a) => items.into_iter().filter(|(k, _)| k.as_str() > a.as_str()).collect(),
    };
    let more = rest.len() > p.max;
    let mut shown: Vec<(String, T)> = rest.into_iter().take(p.max).collect();
    let next = more.then(|| state.store.page_key.seal(list, shown.last().map(|(k, _)| k.as_str()).unwrap_or("")));
    Ok((shown.drain(..).map(|(_, v)| v).collect(), next))
}

fn listing(items: Vec<Json>, next: Option<String>) -> HttpResponse {
    let mut body = json!({ "items": items });
    if let Some(t) = next {
        body["nextPageToken"] = Json::String(t);
    }
    HttpResponse::Ok().content_type("application/json; charset=utf-8").body(body.to_string())
}

// ---- shares, schemas, tables ---------------------------------------------------------------

async fn list_shares(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let w = who(&req)?;
    let q = page_query(&query_map(&req));
    let (r, shares) = state
        .store
        .read(move |conn| {
            let r = w.recipient(conn)?;
            let shares = ops::shares(conn, &r)?;
            Ok((r, shares))
        })
        .await?;
    let items = shares.into_iter().map(|s| (s.name.clone(), json!({"name": s.name, "id": s.id}))).collect();
    let (items, next) = page(&state, &format!("sharing:shares:{}", r.id), &q?, items)?;
    Ok(listing(items, next))
}

async fn get_share(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let w = who(&req)?;
    let name = path_param(&req, "share")?;
    let s = state.store.read(move |conn| ops::share(conn, &w.recipient(conn)?, &name)).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .body(json!({"share": {"name": s.name, "id": s.id}}).to_string()))
}

async fn list_schemas(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let w = who(&req)?;
    let name = path_param(&req, "share")?;
    let q = page_query(&query_map(&req));
    let (share, objects) = state
        .store
        .read(move |conn| {
            let s = ops::share(conn, &w.recipient(conn)?, &name)?;
            let o = ops::objects(conn, &s)?;
            Ok((s, o))
        })
        .await?;
    let mut schemas: Vec<String> =
        objects.iter().filter_map(|o| o.shared_as.split_once('.').map(|(s, _)| s.to_string())).collect();
    schemas.dedup();
    let items = schemas.into_iter().map(|s| (s.clone(), json!({"name": s, "share": share.name}))).collect();
    let (items, next) = page(&state, &format!("sharing:schemas:{}", share.id), &q?, items)?;
    Ok(listing(items, next))
}

async fn tables(req: HttpRequest, state: web::Data<AppState>, schema: Option<String>) -> ApiResult<HttpResponse> {
    let w = who(&req)?;
    let name = path_param(&req, "share")?;
    let q = page_query(&query_map(&req));
    let wanted = schema.as_deref().map(crate::domain::names::fold_case);
    let (share, objects) = state
        .store
        .read(move |conn| {
            let s = ops::share(conn, &w.recipient(conn)?, &name)?;
            let o = ops::objects(conn, &s)?;
            Ok((s, o))
        })
        .await?;
    if let Some(schema) = &wanted {
        if !objects.iter().any(|o| o.shared_as.split_once('.').is_some_and(|(s, _)| s == schema)) {
            return Err(ApiError::new(
                ErrorCode::SchemaDoesNotExist,
                format!("Schema '{schema}' does not exist in share '{}'.", share.name),
            ));
        }
    }
    let items = objects
        .into_iter()
        .filter_map(|o| {
            let (schema, table) = o.shared_as.split_once('.')?;
            if wanted.as_deref().is_some_and(|w| w != schema) {
                return None;
            }
            let item =
                json!({"name": table, "schema": schema, "share": share.name, "shareId": share.id, "id": o.table_id});
            Some((o.shared_as.clone(), item))
        })
        .collect();
    let list = format!("sharing:tables:{}:{}", share.id, wanted.as_deref().unwrap_or("*"));
    let (items, next) = page(&state, &list, &q?, items)?;
    Ok(listing(items, next))
}

async fn list_tables(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let schema = path_param(&req, "schema")?;
    tables(req, state, Some(schema)).await
}

async fn list_all_tables(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    tables(req, state, None).await
}

// ---- table requests ------------------------------------------------------------------------

/// Resolves the path's table for the recipient (401, 403, 404, owner's SELECT), then runs
/// `work` on it off the request thread with its directory resolved.
async fn with_table<T: Send + 'static>(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    validated: ApiResult<()>,
    work: impl FnOnce(&SharedTable) -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    let w = who(req)?;
    let (share, schema, table) = (path_param(req, "share")?, path_param(req, "schema")?, path_param(req, "table")?);
    let mut t = state
        .store
        .read(move |conn| {
            let r = w.recipient(conn)?;
            validated?;
            ops::table(conn, &r, &share, &schema, &table)
        })
        .await?;
    let local = state.local_storage();
    web::block(move || {
        t.dir = answers::table_dir(&local, &t.storage_location);
        work(&t)
    })
    .await
    .map_err(ApiError::internal)?
}

fn minting(state: &AppState) -> Minting {
    Minting {
        public_url: state.public_url.clone(),
        key: state.store.signing_key,
        expires_ms: now_ms().saturating_add(state.presigned_url_lifetime_ms),
    }
}

/// `delta-sharing-capabilities`: the `responseformat`s the client accepts (none: parquet).
fn accepts(req: &HttpRequest) -> Accepts {
    let mut a = Accepts { parquet: false, delta: false };
    for h in req.headers().get_all("delta-sharing-capabilities") {
        let Ok(h) = h.to_str() else { continue };
        for entry in h.split(';') {
            let Some((k, v)) = entry.split_once('=') else { continue };
            if !k.trim().eq_ignore_ascii_case("responseformat") {
                continue;
            }
            for f in v.split(',') {
                match f.trim().to_ascii_lowercase().as_str() {
                    "parquet" => a.parquet = true,
                    "delta" => a.delta = true,
                    _ => {}
                }
            }
        }
    }
    if !a.parquet && !a.delta {
        a.parquet = true;
    }
    a
}

/// `fileidhash`: `parquet` or `delta` (any case), echoed lower-cased.
fn file_id_hash(req: &HttpRequest) -> ApiResult<Option<String>> {
    let Some(v) = req.headers().get("fileidhash") else { return Ok(None) };
    let v = v.to_str().unwrap_or("").trim().to_ascii_lowercase();
    if v == "parquet" || v == "delta" {
        Ok(Some(v))
    } else {
        Err(ApiError::invalid("fileidhash", format!("'{v}' is neither parquet nor delta")))
    }
}

fn ndjson(answer: Answer, file_id_hash: Option<String>) -> HttpResponse {
    let mut body = String::new();
    for line in &answer.lines {
        body.push_str(&line.to_string());
        body.push('\n');
    }
    let mut res = HttpResponse::Ok();
    res.content_type("application/x-ndjson; charset=utf-8")
        .insert_header(("Delta-Table-Version", answer.version.to_string()));
    if let Some(f) = answer.format {
        res.insert_header(("delta-sharing-capabilities", format!("responseformat={}", f.as_str())));
    }
    if let Some(h) = file_id_hash {
        res.insert_header(("fileidhash", h));
    }
    res.body(body)
}

fn int_param(q: &HashMap<String, String>, name: &str) -> ApiResult<Option<i64>> {
    q.get(name)
        .map(|raw| match raw.parse::<i64>() {
            Ok(n) if n >= 0 => Ok(n),
            _ => Err(ApiError::invalid(name, format!("'{raw}' is not a non-negative integer"))),
        })
        .transpose()
}

fn ts_param(q: &HashMap<String, String>, name: &str) -> ApiResult<Option<i64>> {
    q.get(name)
        .map(|raw| {
            parse_timestamp(raw)
                .ok_or_else(|| ApiError::invalid(name, format!("'{raw}' is not an ISO 8601 timestamp with a zone")))
        })
        .transpose()
}

fn bool_param(q: &HashMap<String, String>, name: &str) -> ApiResult<bool> {
    match q.get(name).map(|v| v.to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if v == "true" => Ok(true),
        Some(v) if v == "false" => Ok(false),
        Some(v) => Err(ApiError::invalid(name, format!("'{v}' is not true or false"))),
    }
}

/// `GET .../version` and the legacy `HEAD .../tables/{table}`: `Delta-Table-Version`.
async fn table_version(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let q = query_map(&req);
    let (validated, ts) = split(ts_param(&q, "startingTimestamp"), None);
    let v = with_table(&req, &state, validated, move |t| answers::table_version(t, ts)).await?;
    Ok(HttpResponse::Ok().insert_header(("Delta-Table-Version", v.to_string())).finish())
}

/// `GET .../metadata`
async fn table_metadata(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let q = query_map(&req);
    let parsed = (|| Ok((int_param(&q, "version")?, ts_param(&q, "timestamp")?, file_id_hash(&req)?)))();
    let (validated, (version, timestamp, hash)) = split(parsed, (None, None, None));
    let (a, mint) = (accepts(&req), minting(&state));
    let answer =
        with_table(&req, &state, validated, move |t| answers::metadata(t, a, version, timestamp, &mint)).await?;
    Ok(ndjson(answer, hash))
}

/// A parse result as (the validation outcome, checked inside the store read after
/// authentication, and the values or their defaults).
fn split<T>(parsed: ApiResult<T>, default: T) -> (ApiResult<()>, T) {
    match parsed {
        Ok(v) => (Ok(()), v),
        Err(e) => (Err(e), default),
    }
}

fn body_int(body: &serde_json::Map<String, Json>, name: &str) -> ApiResult<Option<i64>> {
    match body.get(name) {
        None | Some(Json::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if n >= 0 => Ok(Some(n)),
            _ => Err(ApiError::invalid(name, "must be a non-negative integer")),
        },
    }
}

fn query_body(raw: &[u8]) -> ApiResult<QueryRequest> {
    let body: serde_json::Map<String, Json> = if raw.iter().all(u8::is_ascii_whitespace) {
        serde_json::Map::new()
    } else {
        match serde_json::from_slice::<Json>(raw) {
            Ok(Json::Object(m)) => m,
            _ => return Err(ApiError::new(ErrorCode::MalformedRequest, "The query body must be a JSON object.")),
        }
    };
    match body.get("predicateHints") {
        None | Some(Json::Null) => {}
        Some(Json::Array(a)) if a.iter().all(Json::is_string) => {}
        Some(_) => return Err(ApiError::invalid("predicateHints", "must be an array of strings")),
    }
    let json_predicate = match body.get("jsonPredicateHints") {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::invalid("jsonPredicateHints", "must be a string")),
    };
    let timestamp = match body.get("timestamp") {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(parse_timestamp(s).ok_or_else(|| {
            ApiError::invalid("timestamp", format!("'{s}' is not an ISO 8601 timestamp with a zone"))
        })?),
        Some(_) => return Err(ApiError::invalid("timestamp", "must be a string")),
    };
    Ok(QueryRequest {
        json_predicate,
        limit_hint: body_int(&body, "limitHint")?,
        version: body_int(&body, "version")?,
        timestamp,
        starting_version: body_int(&body, "startingVersion")?,
        ending_version: body_int(&body, "endingVersion")?,
    })
}

/// `POST .../query`
async fn query_table(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> ApiResult<HttpResponse> {
    let parsed = (|| Ok((query_body(&body)?, file_id_hash(&req)?)))();
    let (validated, (q, hash)) = split(parsed, (QueryRequest::default(), None));
    let (a, mint) = (accepts(&req), minting(&state));
    let answer = with_table(&req, &state, validated, move |t| answers::query(t, a, &q, &mint)).await?;
    Ok(ndjson(answer, hash))
}

/// `GET .../changes`
async fn table_changes(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let q = query_map(&req);
    let parsed = (|| {
        Ok((
            ChangesRequest {
                starting_version: int_param(&q, "startingVersion")?,
                starting_timestamp: ts_param(&q, "startingTimestamp")?,
                ending_version: int_param(&q, "endingVersion")?,
                ending_timestamp: ts_param(&q, "endingTimestamp")?,
                include_historical_metadata: bool_param(&q, "includeHistoricalMetadata")?,
            },
            file_id_hash(&req)?,
        ))
    })();
    let (validated, (c, hash)) = split(parsed, (ChangesRequest::default(), None));
    let (a, mint) = (accepts(&req), minting(&state));
    let answer = with_table(&req, &state, validated, move |t| answers::changes(t, a, &c, &mint)).await?;
    Ok(ndjson(answer, hash))
}

// ---- activation ----------------------------------------------------------------------------

/// The activation token in `{activation_url}`: the text after the last `?` of the decoded
/// rest of the path; else the query string when the rest is the activation page's path; else
/// the rest itself.
fn activation_token(req: &HttpRequest) -> String {
    let path = req.path();
    let rest = ["data_sharing_activation_info/", "data_sharing_activation/"]
        .iter()
        .find_map(|m| path.split_once(m).map(|(_, r)| r))
        .unwrap_or("");
    let rest = percent_encoding::percent_decode_str(rest).decode_utf8_lossy().into_owned();
    if let Some((_, token)) = rest.rsplit_once('?') {
        return token.to_string();
    }
    if rest.ends_with("retrieve_config.html") && !req.query_string().is_empty() {
        return req.query_string().to_string();
    }
    rest
}

/// `GET /api/2.{0,1}/unity-catalog/public/data_sharing_activation_info/{activation_url}`
async fn activation_info(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let (token, peer, now) = (activation_token(&req), peer(&req), now_ms());
    state.store.read(move |conn| ops::activation_info(conn, &token, peer, now)).await?;
    Ok(super::ok_empty())
}

/// `GET /api/2.{0,1}/unity-catalog/public/data_sharing_activation/{activation_url}`: the
/// credential profile, once.
async fn retrieve_credential(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let (token, peer, now) = (activation_token(&req), peer(&req), now_ms());
    let bearer = new_bearer_token();
    let hash = crate::store::tokens::hash(&bearer);
    let cred = state.store.write(move |tx| ops::retrieve(tx, &token, peer, &hash, now)).await?;
    let mut profile = json!({
        "shareCredentialsVersion": 1,
        "bearerToken": bearer,
        "endpoint": format!("{}{PREFIX}/{}", state.public_url, cred.metastore_id),
    });
    if let Some(t) = cred.expiration_time {
        profile["expirationTime"] = Json::String(iso_millis(t));
    }
    Ok(HttpResponse::Ok().content_type("application/json").body(profile.to_string()))
}

/// What an activation token may hold unencoded in a path.
const TOKEN_SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_');

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn page_html(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><h1>{t}</h1>{body}</body></html>\n",
        t = html_escape(title)
    )
}

/// `GET /delta_sharing/retrieve_config.html?<activation token>`: the download page. Viewing
/// it never retrieves the credential.
async fn activation_page(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let token = req.query_string().to_string();
    let (peer, now) = (peer(&req), now_ms());
    let t = token.clone();
    let (refused, usable) = state
        .store
        .read(move |conn| {
            let refused = ops::activation_page_refusal(conn, &t, peer)?;
            let usable = ops::activation_info(conn, &t, peer, now).map_err(|e| e.message);
            Ok((refused, usable))
        })
        .await?;
    let html = |status: actix_web::http::StatusCode, body: String| {
        HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body)
    };
    if let Some(why) = refused {
        let body = page_html("Delta Sharing credential", &format!("<p>{}</p>", html_escape(&why)));
        return Ok(html(actix_web::http::StatusCode::FORBIDDEN, body));
    }
    let body = match usable {
        Ok(()) => {
            let link = format!(
                "{}/api/2.1/unity-catalog/public/data_sharing_activation/{}",
                state.public_url,
                percent_encoding::utf8_percent_encode(&token, TOKEN_SET)
            );
            format!(
                "<p>Your Delta Sharing credential is ready. It can be downloaded once: keep the file safe.</p>\
                 <p><a href=\"{l}\" download=\"config.share\">Download credential file</a></p>",
                l = html_escape(&link)
            )
        }
        Err(why) => format!("<p>The credential of this link cannot be downloaded: {}</p>", html_escape(&why)),
    };
    Ok(html(actix_web::http::StatusCode::OK, page_html("Delta Sharing credential", &body)))
}

// ---- pre-signed file URLs ------------------------------------------------------------------

/// `GET`/`HEAD /delta-sharing/presigned/<key>?X-UC-Expires=…&X-UC-Signature=…` (and the kernel's
/// copy of the signature, `X-Databricks-Signature`, which must match when present): the file's
/// bytes (ranges supported), while the URL's signature holds and it has not expired.
async fn presigned_file(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    use crate::delta::presign::{verify, Refused, EXPIRES_PARAM, KERNEL_SIGNATURE_PARAM, SIGNATURE_PARAM};
    let key = req.match_info().get("key").unwrap_or("").to_string();
    let mut expires = None;
    let mut signature = None;
    let mut kernel_copy = None;
    for (k, v) in form_urlencoded::parse(req.query_string().as_bytes()) {
        if k == EXPIRES_PARAM {
            expires = Some(v.into_owned());
        } else if k == SIGNATURE_PARAM {
            signature = Some(v.into_owned());
        } else if k == KERNEL_SIGNATURE_PARAM {
            kernel_copy = Some(v.into_owned());
        }
    }
    let copy_differs = kernel_copy.is_some() && kernel_copy != signature;
    let checked = if copy_differs {
        Err(Refused::InvalidSignature)
    } else {
        verify(&state.store.signing_key, &key, expires.as_deref(), signature.as_deref(), now_ms())
    };
    let url = checked.map_err(|e| {
        ApiError::denied(match e {
            Refused::InvalidSignature => "invalid signature",
            Refused::Expired => "URL expired",
        })
    })?;
    let decoded = percent_encoding::percent_decode_str(&url).decode_utf8_lossy().into_owned();
    let missing = || ApiError::new(ErrorCode::ResourceDoesNotExist, "The file does not exist.");
    let local = state.local_storage().local_path(&decoded).ok_or_else(missing)?;
    let opened = web::block(move || -> ApiResult<(std::fs::File, u64)> {
        let real = crate::files::resolve(&local).map_err(|e| match e {
            crate::files::ListError::Outside => {
                ApiError::denied("A symbolic link on the way to the file leads outside its directory.")
            }
            _ => ApiError::new(ErrorCode::ResourceDoesNotExist, "The file does not exist."),
        })?;
        let file = std::fs::File::open(&real).map_err(|_| missing())?;
        let meta = file.metadata().map_err(|_| missing())?;
        if !meta.is_file() {
            return Err(missing());
        }
        Ok((file, meta.len()))
    })
    .await
    .map_err(ApiError::internal)??;
    let (mut file, size) = opened;
    let (status, offset, len, range) = match super::fs::byte_range(&req, size) {
        Ok(None) => (actix_web::http::StatusCode::OK, 0, size, None),
        Ok(Some((a, b))) => (actix_web::http::StatusCode::PARTIAL_CONTENT, a, b - a + 1, Some((a, b))),
        Err(()) => {
            let err = ApiError::new(ErrorCode::RangeNotSatisfiable, format!("The file has {size} bytes."));
            let mut res = err.for_delta_sharing().error_response();
            res.headers_mut().insert(
                header::CONTENT_RANGE,
                header::HeaderValue::from_str(&format!("bytes */{size}")).expect("ASCII"),
            );
            return Ok(res);
        }
    };
    let mut res = HttpResponse::build(status);
    res.insert_header((header::CONTENT_TYPE, "application/octet-stream"))
        .insert_header((header::ACCEPT_RANGES, "bytes"));
    if let Some((a, b)) = range {
        res.insert_header((header::CONTENT_RANGE, format!("bytes {a}-{b}/{size}")));
    }
    if req.method() == actix_web::http::Method::HEAD {
        return Ok(res.body(super::fs::FileBody { size: len, rx: None }));
    }
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    actix_web::rt::task::spawn_blocking(move || {
        use std::io::{Seek, SeekFrom};
        if let Err(e) = file.seek(SeekFrom::Start(offset)) {
            let _ = tx.blocking_send(Err(e));
            return;
        }
        crate::volume_files::read_chunks(file, len, 256 * 1024, |chunk| tx.blocking_send(chunk).is_ok())
    });
    Ok(res.body(super::fs::FileBody { size: len, rx: Some(rx) }))
}
