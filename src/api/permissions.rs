//! The Permissions API: direct grants, their changes, and
//! effective permissions with where each is inherited from.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::extract::{path_param, qint, AppState, Body, Params, Scoped};
use super::ok_empty;
use crate::domain::paging::SERVER_PAGE_SIZE;
use crate::domain::securable::SecurableName;
use crate::domain::securable::{SecTypeSpelling, SecurableKind};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ops;
use crate::ops::permissions::{normalize_all, Change, PrivilegeAssignment};

/// The `<sec_type>` path segment.
fn sec_type(req: &HttpRequest) -> ApiResult<SecurableKind> {
    let raw = path_param(req, "sec_type")?;
    match SecurableKind::parse_spelling(&raw) {
        Some(SecTypeSpelling::Modelled(k)) => Ok(k),
        Some(SecTypeSpelling::Unmodelled) => Err(ApiError::new(
            ErrorCode::NotFound,
            format!("Securables of type '{raw}' do not exist in this emulator."),
        )),
        Some(SecTypeSpelling::Privilegeless) => {
            Err(ApiError::invalid("securable_type", format!("no privileges exist on securables of type '{raw}'")))
        }
        None => Err(ApiError::invalid("securable_type", format!("unknown securable type '{raw}'"))),
    }
}

/// The securable a request names: `/permissions/{sec_type}/{full_name}` or, for shares,
/// `/shares/{name}/permissions` (the same handlers serve both).
fn target(req: &HttpRequest) -> ApiResult<(SecurableKind, String)> {
    if req.match_info().get("sec_type").is_some() {
        Ok((sec_type(req)?, path_param(req, "full_name")?))
    } else {
        Ok((SecurableKind::Share, path_param(req, "name")?))
    }
}

/// The securable a request names, parsed (400 for a malformed name).
fn parsed_target(req: &HttpRequest) -> ApiResult<(SecurableKind, String, SecurableName)> {
    let (kind, full_name) = target(req)?;
    let name = SecurableName::parse(kind, &full_name)?;
    Ok((kind, full_name, name))
}

/// One page of per-principal entries, never splitting a principal; `key` gives its principal.
fn page<T>(items: Vec<T>, after: &str, limit: usize, key: impl Fn(&T) -> &str) -> (Vec<T>, Option<String>) {
    let rest: Vec<T> = items.into_iter().filter(|i| key(i) > after).collect();
    if rest.len() <= limit {
        return (rest, None);
    }
    let mut rest = rest;
    rest.truncate(limit);
    let last = rest.last().map(|i| key(i).to_string());
    (rest, last)
}

fn list_key(metastore_id: &str, kind: SecurableKind, full_name: &str, principal: Option<&str>, what: &str) -> String {
    format!("{what}:{metastore_id}:{kind}:{full_name}:{}", principal.unwrap_or(""))
}

fn open_token(state: &AppState, list: &str, token: Option<&str>) -> ApiResult<String> {
    match token.filter(|t| !t.is_empty()) {
        None => Ok(String::new()),
        Some(t) => state
            .store
            .page_key
            .open(list, t)
            .ok_or_else(|| ApiError::invalid("page_token", "is not a page token this server issued for this list")),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GetParams {
    principal: Option<String>,
    #[serde(default, deserialize_with = "qint::option")]
    max_results: Option<i64>,
    #[serde(default, deserialize_with = "qint::option")]
    page_size: Option<i64>,
    page_token: Option<String>,
}

/// getPermissions `max_results`: absent → all; 0 → server page; 1..149 → 400.
fn max_results_limit(max_results: Option<i64>) -> ApiResult<usize> {
    match max_results {
        None => Ok(usize::MAX),
        Some(n) if n < 0 => Err(ApiError::invalid("max_results", "must not be negative")),
        Some(0) => Ok(SERVER_PAGE_SIZE),
        Some(n) if n < 150 => Err(ApiError::invalid("max_results", "must be 0 or at least 150")),
        Some(n) => Ok((n as usize).min(SERVER_PAGE_SIZE)),
    }
}

/// `page_size` of the paged forms: absent or 0 → server page; < 0 → 400.
fn page_size_limit(page_size: Option<i64>) -> ApiResult<usize> {
    match page_size {
        Some(n) if n < 0 => Err(ApiError::invalid("page_size", "must not be negative")),
        None | Some(0) => Ok(SERVER_PAGE_SIZE),
        Some(n) => Ok((n as usize).min(SERVER_PAGE_SIZE)),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PermissionsList {
    privilege_assignments: Vec<PrivilegeAssignment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

async fn direct(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    p: GetParams,
    limit: usize,
) -> ApiResult<HttpResponse> {
    let (kind, full_name, name) = parsed_target(&req)?;
    let Scoped { caller, metastore } = scoped;
    let list = list_key(&metastore.id, kind, &full_name, p.principal.as_deref(), "permissions");
    let after = open_token(&state, &list, p.page_token.as_deref())?;
    let principal = p.principal.clone();
    let all = state
        .store
        .read(move |conn| ops::permissions::direct(conn, &caller, &metastore.id, &name, principal.as_deref()))
        .await?;
    let (privilege_assignments, more_after) = page(all, &after, limit, |a| &a.principal);
    let next_page_token = more_after.map(|a| state.store.page_key.seal(&list, &a));
    Ok(HttpResponse::Ok().json(PermissionsList { privilege_assignments, next_page_token }))
}

/// getPermissions
pub async fn get_permissions(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<GetParams>,
) -> ApiResult<HttpResponse> {
    let limit = max_results_limit(p.max_results)?;
    direct(req, scoped, state, p, limit).await
}

/// getSharePermissions (`/shares/{name}/permissions`): `max_results` pages without the
/// 150-minimum of getPermissions.
pub async fn get_share_permissions(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<GetParams>,
) -> ApiResult<HttpResponse> {
    let limit = match p.max_results {
        None => usize::MAX,
        Some(_) => {
            page_size_limit(p.max_results).map_err(|_| ApiError::invalid("max_results", "must not be negative"))?
        }
    };
    direct(req, scoped, state, p, limit).await
}

/// The paged form of getPermissions (SDK `grants.list`).
pub async fn list_privilege_assignments(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<GetParams>,
) -> ApiResult<HttpResponse> {
    let limit = page_size_limit(p.page_size)?;
    direct(req, scoped, state, p, limit).await
}

async fn effective_page(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    p: GetParams,
    limit: usize,
    key: &'static str,
) -> ApiResult<HttpResponse> {
    let (kind, full_name, name) = parsed_target(&req)?;
    let Scoped { caller, metastore } = scoped;
    let list = list_key(&metastore.id, kind, &full_name, p.principal.as_deref(), key);
    let after = open_token(&state, &list, p.page_token.as_deref())?;
    let principal = p.principal.clone();
    let all = state
        .store
        .read(move |conn| ops::permissions::effective_of(conn, &caller, &metastore.id, &name, principal.as_deref()))
        .await?;
    let (items, more_after) = page(all, &after, limit, |a| &a.principal);
    let mut body = serde_json::Map::new();
    body.insert(key.to_string(), serde_json::to_value(items).expect("serializable"));
    if let Some(a) = more_after {
        body.insert("next_page_token".into(), state.store.page_key.seal(&list, &a).into());
    }
    Ok(HttpResponse::Ok().json(body))
}

/// getEffectivePermissions (SDK `grants.get_effective`).
pub async fn get_effective(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<GetParams>,
) -> ApiResult<HttpResponse> {
    let limit = max_results_limit(p.max_results)?;
    effective_page(req, scoped, state, p, limit, "privilege_assignments").await
}

/// The paged form (SDK `grants.list_effective`), under its own response key.
pub async fn list_effective(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<GetParams>,
) -> ApiResult<HttpResponse> {
    let limit = page_size_limit(p.page_size)?;
    effective_page(req, scoped, state, p, limit, "effective_privilege_assignments").await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PermissionsChange {
    principal: Option<String>,
    // SDK: identifies deleted principals; accepted and ignored.
    #[allow(dead_code)]
    principal_id: Option<i64>,
    add: Option<Vec<String>>,
    remove: Option<Vec<String>>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UpdatePermissions {
    changes: Option<Vec<PermissionsChange>>,
    omit_permissions_in_response: Option<bool>,
    /// The shares API's name for the same flag.
    omit_permissions_list: Option<bool>,
}

/// updatePermissions (PATCH)
pub async fn update_permissions(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(body): Body<UpdatePermissions>,
) -> ApiResult<HttpResponse> {
    let (_, _, name) = parsed_target(&req)?;
    let raw = body.changes.ok_or_else(|| ApiError::invalid("changes", "is required"))?;
    let mut changes = Vec::with_capacity(raw.len());
    for (i, c) in raw.into_iter().enumerate() {
        let add = normalize_all(&format!("changes[{i}].add"), c.add.as_deref().unwrap_or_default())?;
        let remove = normalize_all(&format!("changes[{i}].remove"), c.remove.as_deref().unwrap_or_default())?;
        match c.principal.filter(|p| !p.is_empty()) {
            Some(principal) => changes.push(Change { principal, add, remove }),
            // A change by principal_id alone (deleted principals) removes nothing we can name.
            None if c.principal_id.is_some() && add.is_empty() => {}
            None => return Err(ApiError::invalid(&format!("changes[{i}].principal"), "is required")),
        }
    }
    let omit = body.omit_permissions_in_response.or(body.omit_permissions_list).unwrap_or(false);
    let Scoped { caller, metastore } = scoped;
    let list =
        state.store.write(move |tx| ops::permissions::update(tx, &caller, &metastore.id, &name, &changes)).await?;
    if omit {
        return Ok(ok_empty());
    }
    Ok(HttpResponse::Ok().json(PermissionsList { privilege_assignments: list, next_page_token: None }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReplaceAssignment {
    principal: Option<String>,
    privileges: Option<Vec<String>>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReplacePermissions {
    privilege_assignments: Option<Vec<ReplaceAssignment>>,
}

/// The API reference's nameless PUT: replaces every direct grant.
pub async fn replace_permissions(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(body): Body<ReplacePermissions>,
) -> ApiResult<HttpResponse> {
    let (_, _, name) = parsed_target(&req)?;
    let mut changes = Vec::new();
    for (i, a) in body.privilege_assignments.unwrap_or_default().into_iter().enumerate() {
        let principal = a
            .principal
            .filter(|p| !p.is_empty())
            .ok_or_else(|| ApiError::invalid(&format!("privilege_assignments[{i}].principal"), "is required"))?;
        let add = normalize_all(
            &format!("privilege_assignments[{i}].privileges"),
            a.privileges.as_deref().unwrap_or_default(),
        )?;
        changes.push(Change { principal, add, remove: Vec::new() });
    }
    let Scoped { caller, metastore } = scoped;
    state.store.write(move |tx| ops::permissions::replace(tx, &caller, &metastore.id, &name, &changes)).await?;
    Ok(ok_empty())
}
