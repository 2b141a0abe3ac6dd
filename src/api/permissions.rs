//! The Permissions API: direct grants, their changes, and
//! effective permissions with where each is inherited from.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::extract::{path_param, qint, AppState, Body, Params, Scoped};
use super::{denied, ok_empty};
use crate::authz::{self, Action, Caller, ACCOUNT_USERS};
use crate::domain::paging::SERVER_PAGE_SIZE;
use crate::domain::privilege;
use crate::domain::securable::SecurableName;
use crate::domain::securable::{SecTypeSpelling, SecurableKind};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::catalogs::INFORMATION_SCHEMA;
use crate::store::securables::{self, Located};
use crate::store::{grants, principals, recipients};

const READ_DENIED: &str = "Only admin users or the owner of the securable can read other users' permissions.";
const CHANGE_DENIED: &str = "Only admin users or the owner of the securable can grant or revoke permissions.";

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

/// Resolves the securable and the caller's grants on its chain.
fn locate(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    kind: SecurableKind,
    full_name: &str,
) -> ApiResult<Located> {
    let name = SecurableName::parse(kind, full_name)?;
    let mut located = securables::locate(conn, metastore_id, &name)?;
    securables::attach_grants(conn, &mut located.nodes_mut(), &caller.principals_json)?;
    Ok(located)
}

fn require_read(caller: &Caller, located: &Located, principal: Option<&str>) -> ApiResult<()> {
    let action = match located.kind {
        SecurableKind::Share => Action::ReadSharePermissions,
        _ => Action::ReadPermissions { principal_filter: principal.map(str::to_string) },
    };
    authz::require(caller, &action, &located.refs())
        .map(|_| ())
        .map_err(|_| ApiError::new(ErrorCode::Unauthorized, READ_DENIED))
}

#[derive(Serialize, Clone)]
pub struct PrivilegeAssignment {
    principal: String,
    privileges: Vec<String>,
}

/// Direct grants grouped by principal, both sorted.
fn assignments(conn: &Connection, securable_id: &str, principal: Option<&str>) -> ApiResult<Vec<PrivilegeAssignment>> {
    let mut by_principal: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (p, privilege) in grants::on(conn, securable_id)? {
        if principal.is_none_or(|want| want == p) {
            by_principal.entry(p).or_default().push(privilege);
        }
    }
    Ok(by_principal.into_iter().map(|(principal, privileges)| PrivilegeAssignment { principal, privileges }).collect())
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

#[derive(Deserialize)]
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

#[derive(Serialize)]
struct PermissionsList {
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
    let (kind, full_name) = target(&req)?;
    let Scoped { caller, metastore } = scoped;
    let list = list_key(&metastore.id, kind, &full_name, p.principal.as_deref(), "permissions");
    let after = open_token(&state, &list, p.page_token.as_deref())?;
    let principal = p.principal.clone();
    let all = state
        .store
        .read(move |conn| {
            let located = locate(conn, &caller, &metastore.id, kind, &full_name)?;
            require_read(&caller, &located, principal.as_deref())?;
            assignments(conn, located.id(), principal.as_deref())
        })
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

#[derive(Serialize, Clone)]
struct EffectivePrivilege {
    privilege: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    inherited_from_type: Option<SecurableKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inherited_from_name: Option<String>,
}

#[derive(Serialize, Clone)]
struct EffectiveAssignment {
    principal: String,
    privileges: Vec<EffectivePrivilege>,
}

/// Grants on the securable and those inherited from its parents.
fn effective(conn: &Connection, located: &Located, principal: Option<&str>) -> ApiResult<Vec<EffectiveAssignment>> {
    let mut by_principal: BTreeMap<String, Vec<EffectivePrivilege>> = BTreeMap::new();
    for (i, p, granted) in securables::all_grants(conn, &located.chain)? {
        if principal.is_some_and(|want| want != p) {
            continue;
        }
        let from = &located.chain[i];
        let privilege = if i == 0 {
            EffectivePrivilege { privilege: granted, inherited_from_type: None, inherited_from_name: None }
        } else if granted == "ALL_PRIVILEGES" || privilege::is_valid_on(&granted, located.kind) {
            EffectivePrivilege {
                privilege: granted,
                inherited_from_type: Some(from.kind),
                inherited_from_name: Some(from.name.clone()),
            }
        } else {
            continue;
        };
        by_principal.entry(p).or_default().push(privilege);
    }
    Ok(by_principal
        .into_iter()
        .map(|(principal, mut privileges)| {
            privileges
                .sort_by(|a, b| a.privilege.cmp(&b.privilege).then(a.inherited_from_name.cmp(&b.inherited_from_name)));
            EffectiveAssignment { principal, privileges }
        })
        .collect())
}

async fn effective_page(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    p: GetParams,
    limit: usize,
    key: &'static str,
) -> ApiResult<HttpResponse> {
    let (kind, full_name) = target(&req)?;
    let Scoped { caller, metastore } = scoped;
    let list = list_key(&metastore.id, kind, &full_name, p.principal.as_deref(), key);
    let after = open_token(&state, &list, p.page_token.as_deref())?;
    let principal = p.principal.clone();
    let all = state
        .store
        .read(move |conn| {
            let located = locate(conn, &caller, &metastore.id, kind, &full_name)?;
            require_read(&caller, &located, principal.as_deref())?;
            effective(conn, &located, principal.as_deref())
        })
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

#[derive(Deserialize)]
pub struct PermissionsChange {
    principal: Option<String>,
    // SDK: identifies deleted principals; accepted and ignored.
    #[allow(dead_code)]
    principal_id: Option<i64>,
    add: Option<Vec<String>>,
    remove: Option<Vec<String>>,
}

#[derive(Deserialize)]
pub struct UpdatePermissions {
    changes: Option<Vec<PermissionsChange>>,
    omit_permissions_in_response: Option<bool>,
    /// The shares API's name for the same flag.
    omit_permissions_list: Option<bool>,
}

/// A validated change: canonical privilege names.
struct Change {
    principal: String,
    add: Vec<&'static str>,
    remove: Vec<&'static str>,
}

fn normalize_all(field: &str, names: &[String]) -> ApiResult<Vec<&'static str>> {
    names
        .iter()
        .enumerate()
        .map(|(j, n)| {
            privilege::normalize(n)
                .ok_or_else(|| ApiError::invalid(&format!("{field}[{j}]"), format!("unknown privilege {n:?}")))
        })
        .collect()
}

/// The last steps of a permissions change: validity on the actual type, principals exist (recipients of
/// the metastore for shares), and a share's new grantees are recipients the caller owns.
fn validate(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    located: &Located,
    changes: &[Change],
) -> ApiResult<()> {
    if located.kind == SecurableKind::Schema && located.full_name().ends_with(&format!(".{INFORMATION_SCHEMA}")) {
        return Err(ApiError::invalid(
            "full_name",
            "information_schema is a read-only system schema; it takes no grants",
        ));
    }
    for c in changes {
        for p in c.add.iter().chain(&c.remove) {
            if !privilege::is_valid_on(p, located.kind) {
                return Err(ApiError::invalid(
                    "changes",
                    format!("privilege {p} is not valid on a {}", located.kind.noun().to_lowercase()),
                ));
            }
        }
    }
    if located.kind == SecurableKind::Share {
        for c in changes {
            let Some(recipient) = recipients::get(conn, metastore_id, &c.principal)? else {
                return Err(ApiError::new(
                    ErrorCode::PrincipalDoesNotExist,
                    format!("Could not find recipient with name {}", c.principal),
                ));
            };
            if !c.add.is_empty() {
                // Granting a share to a recipient needs ownership of the recipient.
                let node = securables::with_grants(conn, recipient.node(), &caller.principals_json)?;
                authz::require(caller, &Action::GrantToRecipient, &[&node]).map_err(denied)?;
            }
        }
        return Ok(());
    }
    for c in changes {
        if c.principal != ACCOUNT_USERS {
            principals::require_exists(conn, &c.principal)?;
        }
    }
    Ok(())
}

/// Step 7: per change, first `remove` (revoking ALL_PRIVILEGES takes what it covered), then `add`.
fn apply(conn: &Connection, ok: &authz::Allowed, located: &Located, changes: &[Change]) -> ApiResult<()> {
    for c in changes {
        for p in &c.remove {
            grants::remove(conn, ok, located.id(), &c.principal, p)?;
            if *p == "ALL_PRIVILEGES" {
                for covered in privilege::covered_by_all(located.kind) {
                    grants::remove(conn, ok, located.id(), &c.principal, covered)?;
                }
            }
        }
        for p in &c.add {
            grants::add(conn, ok, located.id(), &c.principal, p)?;
        }
    }
    Ok(())
}

fn require_change(caller: &Caller, located: &Located) -> ApiResult<authz::Allowed> {
    let action = match located.kind {
        SecurableKind::Share => Action::ChangeSharePermissions,
        _ => Action::ChangePermissions,
    };
    authz::require(caller, &action, &located.refs()).map_err(|_| ApiError::new(ErrorCode::Unauthorized, CHANGE_DENIED))
}

/// updatePermissions (PATCH)
pub async fn update_permissions(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(body): Body<UpdatePermissions>,
) -> ApiResult<HttpResponse> {
    let (kind, full_name) = target(&req)?;
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
    let list = state
        .store
        .write(move |tx| {
            let located = locate(tx, &caller, &metastore.id, kind, &full_name)?;
            let ok = require_change(&caller, &located)?;
            validate(tx, &caller, &metastore.id, &located, &changes)?;
            apply(tx, &ok, &located, &changes)?;
            assignments(tx, located.id(), None)
        })
        .await?;
    if omit {
        return Ok(ok_empty());
    }
    Ok(HttpResponse::Ok().json(PermissionsList { privilege_assignments: list, next_page_token: None }))
}

#[derive(Deserialize)]
pub struct ReplaceAssignment {
    principal: Option<String>,
    privileges: Option<Vec<String>>,
}

#[derive(Deserialize)]
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
    let (kind, full_name) = target(&req)?;
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
    state
        .store
        .write(move |tx| {
            let located = locate(tx, &caller, &metastore.id, kind, &full_name)?;
            let ok = require_change(&caller, &located)?;
            // PUT: only recipients that gain a privilege need the ownership check.
            let held = assignments(tx, located.id(), None)?;
            let gaining: Vec<Change> = changes
                .iter()
                .map(|c| {
                    let before: Vec<&str> = held
                        .iter()
                        .filter(|a| a.principal == c.principal)
                        .flat_map(|a| a.privileges.iter().map(String::as_str))
                        .collect();
                    Change {
                        principal: c.principal.clone(),
                        add: c.add.iter().copied().filter(|p| !before.contains(p)).collect(),
                        remove: Vec::new(),
                    }
                })
                .collect();
            validate(tx, &caller, &metastore.id, &located, &gaining)?;
            grants::clear(tx, &ok, located.id())?;
            apply(tx, &ok, &located, &changes)
        })
        .await?;
    Ok(ok_empty())
}
