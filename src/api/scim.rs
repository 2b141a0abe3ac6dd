//! SCIM 2.0 under `/api/2.0/preview/scim/v2/`: `Me`, and users, groups and
//! service principals with list, get, create, replace, patch and delete. Errors carry SCIM's
//! error keys beside the emulator's.

use actix_web::{web, HttpRequest, HttpResponse};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

use super::extract::{parse_json, parse_query, path_param, AppState, Auth, RawBody};
use super::{ok_empty, Res};
use crate::authz::{Allowed, PrincipalKind, ACCOUNT_USERS};
use crate::domain::names::fold_case;
use crate::domain::scim_filter::{self, Filter, Value};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::account as account_store;
use crate::store::principals::{self, NewPrincipal, PrincipalRow, Ref};

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const SP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Attributes the emulator keeps verbatim in `extra` (everything else is modelled).
const EXTRA_ATTRIBUTES: &[&str] = &["emails", "name", "entitlements", "roles"];

/// The SCIM routes, inside the `/api` scope: the workspace's, and the account's under
/// `/api/2.0/accounts/<A>/scim/v2/` (the same principals; no account-level `Me`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(Res::new("/2.0/preview/scim/v2/Me").get(me).build());
    for (base, account) in [("/2.0/preview/scim/v2", false), ("/2.0/accounts/{account_id}/scim/v2", true)] {
        for (path, kind) in [
            ("Users", PrincipalKind::User),
            ("Groups", PrincipalKind::Group),
            ("ServicePrincipals", PrincipalKind::ServicePrincipal),
        ] {
            let k = web::Data::new(Level { kind, account });
            cfg.service(Res::new(&format!("{base}/{path}")).get(list).post(create).build().app_data(k.clone()))
                .service(
                    Res::new(&format!("{base}/{path}/{{id}}"))
                        .get(get)
                        .put(replace)
                        .patch(patch)
                        .delete(delete)
                        .build()
                        .app_data(k),
                );
        }
    }
}

const ACCOUNT_ADMIN_ROLE: &str = "account_admin";
use crate::ops::access_control::{GROUP_MANAGER, SP_MANAGER};

fn kind_path(kind: PrincipalKind) -> &'static str {
    match kind {
        PrincipalKind::User => "Users",
        PrincipalKind::Group => "Groups",
        PrincipalKind::ServicePrincipal => "ServicePrincipals",
    }
}

fn resource_type(kind: PrincipalKind) -> &'static str {
    match kind {
        PrincipalKind::User => "User",
        PrincipalKind::Group => "Group",
        PrincipalKind::ServicePrincipal => "ServicePrincipal",
    }
}

#[derive(Serialize)]
struct ComplexValue {
    value: String,
    display: String,
    #[serde(rename = "$ref")]
    reference: String,
}

fn refs(refs: Vec<Ref>) -> Vec<ComplexValue> {
    refs.into_iter()
        .map(|r| ComplexValue {
            reference: format!("{}/{}", kind_path(r.kind), r.id),
            value: r.id.to_string(),
            display: r.display,
        })
        .collect()
}

/// The SCIM object of one principal.
fn resource(conn: &Connection, p: &PrincipalRow) -> ApiResult<Json> {
    let groups = principals::direct_groups(conn, p.id)?;
    let members = if p.kind == PrincipalKind::Group { principals::members(conn, p.id)? } else { Vec::new() };
    Ok(resource_with(p, groups, members))
}

/// The SCIM object of one principal at a level: account SCIM shows `roles` from the account
/// admin role and no entitlements (they are workspace-level).
fn resource_at(conn: &Connection, p: &PrincipalRow, account: bool) -> ApiResult<Json> {
    let obj = resource(conn, p)?;
    Ok(if account { account_view(p, obj) } else { obj })
}

fn account_view(p: &PrincipalRow, mut obj: Json) -> Json {
    if let Json::Object(map) = &mut obj {
        map.remove("entitlements");
        let roles = if p.account_admin { json!([{ "value": ACCOUNT_ADMIN_ROLE }]) } else { json!([]) };
        map.insert("roles".to_string(), roles);
    }
    obj
}

/// The SCIM object of a principal with its direct groups and (for a group) members. SCIM objects
/// are open-ended, so this is JSON: the modelled attributes, then the ones kept verbatim in
/// `extra`.
fn resource_with(p: &PrincipalRow, groups: Vec<Ref>, members: Vec<Ref>) -> Json {
    let groups = refs(groups);
    let mut obj = match p.kind {
        PrincipalKind::User => json!({
            "schemas": [USER_SCHEMA],
            "id": p.id.to_string(),
            "userName": p.name,
            "displayName": p.display_name,
            "active": p.active,
            "emails": [{"value": p.name, "type": "work", "primary": true}],
            "groups": groups,
            "entitlements": [],
        }),
        PrincipalKind::ServicePrincipal => json!({
            "schemas": [SP_SCHEMA],
            "id": p.id.to_string(),
            "applicationId": p.name,
            "displayName": p.display_name,
            "active": p.active,
            "groups": groups,
            "entitlements": [],
        }),
        PrincipalKind::Group => json!({
            "schemas": [GROUP_SCHEMA],
            "id": p.id.to_string(),
            "displayName": p.display_name,
            "members": refs(members),
            "groups": groups,
            "entitlements": [],
        }),
    };
    obj["meta"] = json!({ "resourceType": resource_type(p.kind) });
    if let Some(ext) = &p.external_id {
        obj["externalId"] = json!(ext);
    }
    if let Ok(Json::Object(extra)) = serde_json::from_str::<Json>(&p.extra) {
        for (k, v) in extra {
            obj[k] = v;
        }
    }
    obj
}

/// `attributes` / `excludedAttributes` (comma-separated); `id` is always kept.
fn trim(obj: Json, attributes: &Option<Vec<String>>, excluded: &Option<Vec<String>>) -> Json {
    let Json::Object(map) = obj else { return obj };
    let keep = |k: &str| {
        let k_base = k.to_ascii_lowercase();
        let named =
            |list: &Vec<String>| list.iter().any(|a| a.split('.').next().unwrap_or("").eq_ignore_ascii_case(&k_base));
        if k == "id" || k == "schemas" {
            return true;
        }
        if let Some(a) = attributes {
            return named(a);
        }
        if let Some(x) = excluded {
            return !named(x);
        }
        true
    };
    Json::Object(map.into_iter().filter(|(k, _)| keep(k)).collect::<Map<_, _>>())
}

fn comma_list(raw: Option<String>) -> Option<Vec<String>> {
    raw.filter(|s| !s.trim().is_empty()).map(|s| s.split(',').map(|a| a.trim().to_string()).collect())
}

fn scim_err(e: ApiError) -> ApiError {
    e.scim()
}

fn not_found(kind: PrincipalKind, id: &str) -> ApiError {
    ApiError::new(ErrorCode::ResourceDoesNotExist, format!("{} {id} does not exist.", resource_type(kind))).scim()
}

/// `GET Me`: the token's principal; for a service principal `userName` is its application id.
pub async fn me(Auth(caller): Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let id = caller.id;
    let obj = state
        .store
        .read(move |conn| {
            let p = principals::by_id(conn, id)?
                .ok_or_else(|| ApiError::unauthenticated("The token's principal is gone."))?;
            let mut obj = resource(conn, &p)?;
            if p.kind == PrincipalKind::ServicePrincipal {
                obj["userName"] = json!(p.name);
            }
            Ok(obj)
        })
        .await
        .map_err(scim_err)?;
    Ok(HttpResponse::Ok().json(obj))
}

#[derive(Deserialize)]
struct ListQuery {
    filter: Option<String>,
    #[serde(rename = "startIndex")]
    start_index: Option<String>,
    count: Option<String>,
    attributes: Option<String>,
    #[serde(rename = "excludedAttributes")]
    excluded_attributes: Option<String>,
    #[serde(rename = "sortBy")]
    sort_by: Option<String>,
    #[serde(rename = "sortOrder")]
    sort_order: Option<String>,
}

fn non_negative(field: &str, raw: Option<&str>) -> ApiResult<Option<usize>> {
    raw.map(|s| {
        s.parse::<usize>().map_err(|_| ApiError::invalid(field, format!("expected a non-negative integer, got {s:?}")))
    })
    .transpose()
}

/// Attributes a filter may name, per kind, and which compare case-sensitively under `eq`.
fn filter_attrs(kind: PrincipalKind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        PrincipalKind::User => {
            (&["userName", "displayName", "emails.value", "active", "id", "externalId"], &["userName"])
        }
        PrincipalKind::Group => (&["displayName", "id", "externalId"], &[]),
        PrincipalKind::ServicePrincipal => {
            (&["displayName", "applicationId", "active", "id", "externalId"], &["applicationId"])
        }
    }
}

fn attr_values(p: &PrincipalRow, attr: &str) -> Vec<Value> {
    match attr.to_ascii_lowercase().as_str() {
        "username" | "applicationid" => vec![Value::Str(p.name.clone())],
        "emails.value" => {
            let mut v = vec![Value::Str(p.name.clone())];
            if let Ok(extra) = serde_json::from_str::<Json>(&p.extra) {
                for e in extra["emails"].as_array().into_iter().flatten() {
                    if let Some(s) = e["value"].as_str() {
                        v.push(Value::Str(s.to_string()));
                    }
                }
            }
            v
        }
        "displayname" => vec![Value::Str(p.display_name.clone())],
        "active" => vec![Value::Bool(p.active)],
        "id" => vec![Value::Str(p.id.to_string())],
        "externalid" => p.external_id.iter().map(|e| Value::Str(e.clone())).collect(),
        _ => vec![],
    }
}

async fn list(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    level: web::Data<Level>,
) -> ApiResult<HttpResponse> {
    let Level { kind, account } = **level;
    let q: ListQuery = parse_query(req.query_string()).map_err(scim_err)?;
    let start = non_negative("startIndex", q.start_index.as_deref()).map_err(scim_err)?.unwrap_or(1);
    // Account SCIM is strict about the 1-based index; workspace SCIM reads 0 as 1, as it did.
    if account && start < 1 {
        return Err(ApiError::invalid("startIndex", "must be at least 1").scim());
    }
    let start = start.max(1);
    let count = non_negative("count", q.count.as_deref()).map_err(scim_err)?;
    let (attrs, exact) = filter_attrs(kind);
    let filter: Option<Filter> = q
        .filter
        .filter(|f| !f.trim().is_empty())
        .map(|f| scim_filter::parse(&f, attrs).map_err(|e| ApiError::invalid("filter", e).scim()))
        .transpose()?;
    // `active` is a boolean: compared with a string it is an invalid filter (both levels).
    if let Some(f) = filter.as_ref() {
        scim_filter::check_booleans(f, &["active"]).map_err(|e| ApiError::invalid("filter", e).scim())?;
    }
    let sort_by = match q.sort_by.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) if s.eq_ignore_ascii_case("userName") && kind == PrincipalKind::User => Some(true),
        Some(s) if s.eq_ignore_ascii_case("applicationId") && kind == PrincipalKind::ServicePrincipal => Some(true),
        Some(s) if s.eq_ignore_ascii_case("displayName") => Some(false),
        Some(s) => {
            return Err(ApiError::invalid("sortBy", format!("cannot sort by {s:?}; use userName or displayName")).scim())
        }
    };
    let descending = match q.sort_order.as_deref() {
        None | Some("") => false,
        Some(o) if o.eq_ignore_ascii_case("ascending") => false,
        Some(o) if o.eq_ignore_ascii_case("descending") => true,
        Some(o) => {
            return Err(ApiError::invalid("sortOrder", format!("expected ascending or descending, got {o:?}")).scim())
        }
    };
    let (attributes, excluded) = (comma_list(q.attributes), comma_list(q.excluded_attributes));
    if account {
        account_admin_only(&caller)?;
    }
    let workspace_id = caller.workspace_id;
    let body = state
        .store
        .read(move |conn| {
            let mut all = principals::list(conn, kind)?;
            if !account {
                let belonging = account_store::belonging_ids(conn, workspace_id)?;
                all.retain(|p| belonging.contains(&p.id));
            }
            let mut matching: Vec<&PrincipalRow> = all
                .iter()
                .filter(|p| match &filter {
                    None => true,
                    Some(f) => f.matches(&|a| attr_values(p, a), &|a| exact.iter().any(|e| e.eq_ignore_ascii_case(a))),
                })
                .collect();
            if let Some(by_user_name) = sort_by {
                matching.sort_by(|a, b| {
                    let (x, y) = if by_user_name { (&a.name, &b.name) } else { (&a.display_name, &b.display_name) };
                    fold_case(x).cmp(&fold_case(y)).then(a.id.cmp(&b.id))
                });
            }
            if descending {
                matching.reverse();
            }
            let total = matching.len();
            let shown: Vec<&PrincipalRow> =
                matching.into_iter().skip(start - 1).take(count.unwrap_or(usize::MAX)).collect();
            // The page's groups and members in two queries, never one per principal.
            let ids: Vec<i64> = shown.iter().map(|p| p.id).collect();
            let mut groups = principals::direct_groups_of(conn, &ids)?;
            let group_ids: Vec<i64> = shown.iter().filter(|p| p.kind == PrincipalKind::Group).map(|p| p.id).collect();
            let mut members = principals::members_of(conn, &group_ids)?;
            let page: Vec<Json> = shown
                .into_iter()
                .map(|p| {
                    let (g, m) = (groups.remove(&p.id).unwrap_or_default(), members.remove(&p.id).unwrap_or_default());
                    let obj = resource_with(p, g, m);
                    let obj = if account { account_view(p, obj) } else { obj };
                    trim(obj, &attributes, &excluded)
                })
                .collect();
            Ok(json!({
                "schemas": [LIST_SCHEMA],
                "totalResults": total,
                "startIndex": start,
                "itemsPerPage": page.len(),
                "Resources": page,
            }))
        })
        .await
        .map_err(scim_err)?;
    Ok(HttpResponse::Ok().json(body))
}

fn scim_id(req: &HttpRequest) -> ApiResult<(String, Option<i64>)> {
    let raw = path_param(req, "id").map_err(scim_err)?;
    let id = raw.parse::<i64>().ok();
    Ok((raw, id))
}

/// The principal of this kind with this id, or SCIM's 404.
fn require(conn: &Connection, kind: PrincipalKind, raw: &str, id: Option<i64>) -> ApiResult<PrincipalRow> {
    match id {
        Some(id) => match principals::by_id(conn, id)? {
            Some(p) if p.kind == kind => Ok(p),
            _ => Err(not_found(kind, raw)),
        },
        None => Err(not_found(kind, raw)),
    }
}

/// [`require`] at a level: workspace SCIM sees only the principals of the caller's workspace.
fn require_at(
    conn: &Connection,
    level: Level,
    workspace_id: i64,
    raw: &str,
    id: Option<i64>,
) -> ApiResult<PrincipalRow> {
    let p = require(conn, level.kind, raw, id)?;
    if !level.account && account_store::effective_permission(conn, workspace_id, p.id)?.is_none() {
        return Err(not_found(level.kind, raw));
    }
    Ok(p)
}

/// The last check of every identity write: an account admin remains.
fn admin_remains(conn: &Connection) -> ApiResult<()> {
    account_store::require_an_account_admin(conn).map_err(scim_err)
}

/// `roles` of an account SCIM body: whether it grants `account_admin` (`None`: absent).
fn parse_roles(field: &str, v: Option<&Json>) -> ApiResult<Option<bool>> {
    match v {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Array(items)) => {
            let mut admin = false;
            for (i, item) in items.iter().enumerate() {
                match item.get("value").and_then(Json::as_str) {
                    Some(ACCOUNT_ADMIN_ROLE) => admin = true,
                    _ => {
                        return Err(
                            ApiError::invalid(&format!("{field}[{i}].value"), "the only role is account_admin").scim()
                        )
                    }
                }
            }
            Ok(Some(admin))
        }
        Some(_) => Err(ApiError::invalid(field, "must be an array of {\"value\": role}").scim()),
    }
}

/// Workspace SCIM keeps `roles` as a verbatim attribute (instance profiles) but never holds the
/// account admin role: that one is granted and revoked through account SCIM only.
fn refuse_account_role(field: &str, v: Option<&Json>) -> ApiResult<()> {
    let named = |item: &Json| {
        item.get("value").and_then(Json::as_str).is_some_and(|s| s.trim().eq_ignore_ascii_case(ACCOUNT_ADMIN_ROLE))
    };
    let hit = match v {
        Some(Json::Array(items)) => items.iter().any(named),
        Some(Json::Object(o)) => {
            named(&Json::Object(o.clone()))
                || o.iter()
                    .any(|(k, v)| k.eq_ignore_ascii_case("roles") && refuse_account_role(field, Some(v)).is_err())
        }
        Some(Json::String(s)) => s.to_ascii_lowercase().contains(ACCOUNT_ADMIN_ROLE),
        _ => false,
    };
    if hit {
        return Err(ApiError::invalid(
            field,
            "the account_admin role is granted and revoked through account SCIM (/api/2.0/accounts/<account id>/scim/v2), not workspace SCIM",
        )
        .scim());
    }
    Ok(())
}

#[derive(Deserialize)]
struct GetQuery {
    attributes: Option<String>,
    #[serde(rename = "excludedAttributes")]
    excluded_attributes: Option<String>,
}

async fn get(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    level: web::Data<Level>,
) -> ApiResult<HttpResponse> {
    let level = **level;
    let (raw, id) = scim_id(&req)?;
    let q: GetQuery = parse_query(req.query_string()).map_err(scim_err)?;
    let (attributes, excluded) = (comma_list(q.attributes), comma_list(q.excluded_attributes));
    let obj = state
        .store
        .read(move |conn| {
            if level.account {
                account_proof(conn, &caller, level.kind, id, false)?;
            }
            let p = require_at(conn, level, caller.workspace_id, &raw, id)?;
            Ok(trim(resource_at(conn, &p, level.account)?, &attributes, &excluded))
        })
        .await
        .map_err(scim_err)?;
    Ok(HttpResponse::Ok().json(obj))
}

use crate::ops::identities::{account_admin_only, account_proof, may_manage, write_proof, Level};

/// A SCIM create or replace body. Open-ended: the modelled attributes are read here, the
/// verbatim ones (`emails`, `name`, `entitlements`, `roles`) kept.
struct ScimBody {
    obj: Map<String, Json>,
}

impl ScimBody {
    fn parse(raw: &[u8]) -> ApiResult<ScimBody> {
        match parse_json::<Json>(raw).map_err(scim_err)? {
            Json::Object(obj) => Ok(ScimBody { obj }),
            _ => Err(ApiError::invalid("body", "the request body must be a JSON object").scim()),
        }
    }

    fn string(&self, field: &str) -> ApiResult<Option<String>> {
        match self.obj.get(field) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::invalid(field, "must be a string").scim()),
        }
    }

    fn boolean(&self, field: &str) -> ApiResult<Option<bool>> {
        match self.obj.get(field) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::invalid(field, "must be true or false").scim()),
        }
    }

    /// `members` / `groups`: `[{"value": "<id>"}]`.
    fn ids(&self, field: &str) -> ApiResult<Option<Vec<i64>>> {
        match self.obj.get(field) {
            None | Some(Json::Null) => Ok(None),
            Some(v) => member_ids(field, v).map(Some),
        }
    }

    fn extra(&self) -> ApiResult<String> {
        self.extra_without(&[])
    }

    /// The verbatim attributes but `skip` (account SCIM models `roles` and drops entitlements).
    fn extra_without(&self, skip: &[&str]) -> ApiResult<String> {
        let mut extra = Map::new();
        for k in EXTRA_ATTRIBUTES.iter().filter(|k| !skip.contains(k)) {
            if let Some(v) = self.obj.get(*k).filter(|v| !v.is_null()) {
                // `name` is a complex attribute, the others are multi-valued (RFC 7643).
                if *k == "name" && !v.is_object() {
                    return Err(ApiError::invalid(k, "must be an object").scim());
                }
                if *k != "name" && !is_multi_valued(v) {
                    return Err(ApiError::invalid(k, "must be an array of objects").scim());
                }
                extra.insert((*k).to_string(), v.clone());
            }
        }
        Ok(Json::Object(extra).to_string())
    }
}

/// A multi-valued SCIM attribute: an array of complex values.
fn is_multi_valued(v: &Json) -> bool {
    v.as_array().is_some_and(|a| a.iter().all(Json::is_object))
}

/// Reads `[{"value": "<id>"}, ...]` (ids as strings or numbers).
fn member_ids(field: &str, v: &Json) -> ApiResult<Vec<i64>> {
    let Some(items) = v.as_array() else {
        return Err(ApiError::invalid(field, "must be an array of {\"value\": id}").scim());
    };
    items
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let id = match &m["value"] {
                Json::String(s) => s.parse::<i64>().ok(),
                Json::Number(n) => n.as_i64(),
                _ => None,
            };
            id.ok_or_else(|| ApiError::invalid(&format!("{field}[{i}].value"), "must be a principal id").scim())
        })
        .collect()
}

/// A member id must name an existing principal (400 otherwise: it is the request's value).
fn require_member(conn: &Connection, id: i64) -> ApiResult<PrincipalRow> {
    principals::by_id(conn, id)?
        .ok_or_else(|| ApiError::invalid("members", format!("no user, group or service principal has id {id}")).scim())
}

fn add_members(conn: &Connection, ok: &Allowed, group: &PrincipalRow, ids: &[i64]) -> ApiResult<()> {
    if group.kind != PrincipalKind::Group {
        return Err(ApiError::invalid("members", "only groups have members").scim());
    }
    for id in ids {
        require_member(conn, *id)?;
        principals::add_member(conn, ok, group.id, *id).map_err(scim_err)?;
    }
    Ok(())
}

fn check_name(kind: PrincipalKind, field: &str, name: &str) -> ApiResult<()> {
    if name.trim().is_empty() {
        return Err(ApiError::invalid(field, "must not be empty").scim());
    }
    if name == ACCOUNT_USERS {
        return Err(ApiError::new(
            ErrorCode::ResourceAlreadyExists,
            "'account users' is the implicit group of every user; it cannot be created or renamed to.",
        )
        .scim());
    }
    if kind == PrincipalKind::ServicePrincipal && field == "applicationId" && uuid::Uuid::parse_str(name).is_err() {
        return Err(ApiError::invalid(field, "must be a UUID").scim());
    }
    Ok(())
}

async fn create(
    Auth(caller): Auth,
    state: web::Data<AppState>,
    level: web::Data<Level>,
    RawBody(raw): RawBody,
) -> ApiResult<HttpResponse> {
    let Level { kind, account } = **level;
    let body = ScimBody::parse(&raw)?;
    let display = body.string("displayName")?;
    let (name, display) = match kind {
        PrincipalKind::User => {
            let name = body.string("userName")?.ok_or_else(|| ApiError::invalid("userName", "is required").scim())?;
            check_name(kind, "userName", &name)?;
            let display = display.unwrap_or_else(|| name.clone());
            (name, display)
        }
        PrincipalKind::Group => {
            let name = display.ok_or_else(|| ApiError::invalid("displayName", "is required").scim())?;
            check_name(kind, "displayName", &name)?;
            (name.clone(), name)
        }
        PrincipalKind::ServicePrincipal => {
            let app = body.string("applicationId")?.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            check_name(kind, "applicationId", &app)?;
            let display = display.unwrap_or_else(|| app.clone());
            (app, display)
        }
    };
    let active = body.boolean("active")?.unwrap_or(true);
    let members = body.ids("members")?;
    let groups = body.ids("groups")?;
    let external_id = body.string("externalId")?;
    let roles = if account { parse_roles("roles", body.obj.get("roles"))? } else { None };
    if !account {
        refuse_account_role("roles", body.obj.get("roles"))?;
    }
    let extra = if account { body.extra_without(&["roles", "entitlements"])? } else { body.extra()? };
    let ok = if account { account_admin_only(&caller)? } else { may_manage(&caller)? };
    let workspace_id = caller.workspace_id;
    let creator = caller.id;
    let obj = state
        .store
        .write(move |tx| {
            if !account {
                // A name held by an account principal of the same kind that does not belong to
                // this workspace: the principal is added to the workspace (identity federation).
                if let Some(existing) = principals::by_name(tx, &name)? {
                    if existing.kind == kind
                        && account_store::effective_permission(tx, workspace_id, existing.id)?.is_none()
                    {
                        account_store::assign(
                            tx,
                            &ok,
                            workspace_id,
                            existing.id,
                            account_store::WorkspacePermission::User,
                        )?;
                        return resource(tx, &existing);
                    }
                }
            }
            let new = NewPrincipal {
                kind,
                name: &name,
                display_name: &display,
                account_admin: roles == Some(true),
                external_id: external_id.as_deref(),
                extra: &extra,
            };
            let id = principals::insert(tx, &ok, &new).map_err(scim_err)?;
            if !active {
                principals::set_active(tx, &ok, id, false)?;
            }
            let p = principals::by_id(tx, id)?.ok_or_else(|| not_found(kind, &id.to_string()))?;
            if let Some(m) = &members {
                add_members(tx, &ok, &p, m)?;
            }
            for g in groups.iter().flatten() {
                let group = require_member(tx, *g)?;
                add_members(tx, &ok, &group, &[id])?;
            }
            if !account {
                account_store::assign(tx, &ok, workspace_id, id, account_store::WorkspacePermission::User)?;
            }
            // The creator of a group or service principal becomes its manager.
            match kind {
                PrincipalKind::Group => {
                    crate::store::rule_sets::grant_creator(tx, &ok, &format!("groups/{id}"), GROUP_MANAGER, creator)?
                }
                PrincipalKind::ServicePrincipal => crate::store::rule_sets::grant_creator(
                    tx,
                    &ok,
                    &format!("servicePrincipals/{id}"),
                    SP_MANAGER,
                    creator,
                )?,
                PrincipalKind::User => {}
            }
            admin_remains(tx)?;
            resource_at(tx, &p, account)
        })
        .await
        .map_err(scim_err)?;
    Ok(HttpResponse::Created().json(obj))
}

/// Applies a new name (and display name) per kind: a group's name is its display name.
fn apply_names(conn: &Connection, ok: &Allowed, p: &PrincipalRow, display: Option<String>) -> ApiResult<()> {
    // A user's userName never changes (SDK: "any supplied changes to them are ignored"); only
    // a group's name follows its displayName.
    let (name, display) = match p.kind {
        PrincipalKind::User => (p.name.clone(), display.unwrap_or_else(|| p.display_name.clone())),
        PrincipalKind::Group => {
            let d = display.unwrap_or_else(|| p.display_name.clone());
            (d.clone(), d)
        }
        PrincipalKind::ServicePrincipal => (p.name.clone(), display.unwrap_or_else(|| p.display_name.clone())),
    };
    if name != p.name {
        check_name(p.kind, if p.kind == PrincipalKind::User { "userName" } else { "displayName" }, &name)?;
    }
    if name != p.name || display != p.display_name {
        principals::rename(conn, ok, p, &name, &display).map_err(scim_err)?;
    }
    Ok(())
}

/// `extra` with the `emails` of `current` (present or absent as they were).
fn keep_emails(current: &str, extra: &str) -> String {
    let current: Map<String, Json> = serde_json::from_str(current).unwrap_or_default();
    let mut extra: Map<String, Json> = serde_json::from_str(extra).unwrap_or_default();
    extra.remove("emails");
    if let Some(e) = current.get("emails") {
        extra.insert("emails".to_string(), e.clone());
    }
    Json::Object(extra).to_string()
}

/// `PUT <kind>/:id` replaces the object.
async fn replace(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    level: web::Data<Level>,
    RawBody(raw): RawBody,
) -> ApiResult<HttpResponse> {
    let level = **level;
    let Level { kind, account } = level;
    let (raw_id, id) = scim_id(&req)?;
    let body = ScimBody::parse(&raw)?;
    if !account {
        may_manage(&caller)?;
    }
    let user_name = body.string("userName")?;
    let display = body.string("displayName")?;
    let active = body.boolean("active")?;
    let members = body.ids("members")?;
    let external_id = body.string("externalId")?;
    // Account SCIM replaces `roles` too (absent = none).
    let roles = if account { parse_roles("roles", body.obj.get("roles"))?.unwrap_or(false) } else { false };
    if !account {
        refuse_account_role("roles", body.obj.get("roles"))?;
    }
    let extra = if account { body.extra_without(&["roles", "entitlements"])? } else { body.extra()? };
    if kind == PrincipalKind::ServicePrincipal {
        if let Some(app) = body.string("applicationId")? {
            if id.is_some() && app.is_empty() {
                return Err(ApiError::invalid("applicationId", "must not be empty").scim());
            }
        }
    }
    let obj = state
        .store
        .write(move |tx| {
            let ok = write_proof(tx, &caller, level, id, false)?;
            let p = require_at(tx, level, caller.workspace_id, &raw_id, id)?;
            if account && roles != p.account_admin {
                let ok = write_proof(tx, &caller, level, id, true)?;
                account_store::set_account_admin(tx, &ok, p.id, roles)?;
            }
            if kind == PrincipalKind::User && user_name.is_none() {
                return Err(ApiError::invalid("userName", "is required").scim());
            }
            if kind == PrincipalKind::Group && display.is_none() {
                return Err(ApiError::invalid("displayName", "is required").scim());
            }
            apply_names(tx, &ok, &p, display)?;
            if kind != PrincipalKind::Group {
                principals::set_active(tx, &ok, p.id, active.unwrap_or(true))?;
            }
            // A user's emails are kept as they are, whatever the PUT says.
            let extra = if kind == PrincipalKind::User { keep_emails(&p.extra, &extra) } else { extra };
            principals::set_extra(tx, &ok, p.id, external_id.as_deref(), &extra)?;
            if kind == PrincipalKind::Group {
                principals::clear_members(tx, &ok, p.id)?;
                add_members(tx, &ok, &p, members.as_deref().unwrap_or_default())?;
            }
            admin_remains(tx)?;
            let p = require(tx, kind, &raw_id, id)?;
            resource_at(tx, &p, account)
        })
        .await
        .map_err(scim_err)?;
    Ok(HttpResponse::Ok().json(obj))
}

#[derive(Deserialize)]
struct PatchBody {
    schemas: Option<Vec<String>>,
    #[serde(rename = "Operations")]
    operations: Option<Vec<PatchOperation>>,
}

#[derive(Deserialize)]
struct PatchOperation {
    op: Option<String>,
    path: Option<String>,
    value: Option<Json>,
}

/// `members[value eq "<id>"]` → the id.
fn member_path_id(path: &str) -> Option<i64> {
    let inner = path.trim().strip_prefix("members[")?.strip_suffix(']')?;
    let f = scim_filter::parse(inner, &["value"]).ok()?;
    match f {
        Filter::Compare { op: scim_filter::Op::Eq, value: Value::Str(v), .. } => v.parse().ok(),
        _ => None,
    }
}

/// Applies one PatchOp operation. Everything runs in the request's transaction, so a rejected
/// operation leaves nothing of the earlier ones.
fn apply_operation(conn: &Connection, ok: &Allowed, p: &PrincipalRow, i: usize, op: &PatchOperation) -> ApiResult<()> {
    let field = |f: &str| format!("Operations[{i}].{f}");
    let bad = |f: &str, why: String| ApiError::invalid(&field(f), why).scim();
    let verb = op.op.as_deref().map(str::to_ascii_lowercase).ok_or_else(|| bad("op", "is required".into()))?;
    let path = op.path.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let value = op.value.clone().unwrap_or(Json::Null);
    match (verb.as_str(), path) {
        ("add" | "replace", None) => {
            let Json::Object(attrs) = value else {
                return Err(bad("value", "must be an object of attributes when no path is given".into()));
            };
            for (k, v) in attrs {
                set_attribute(conn, ok, p, i, &verb, &k, v)?;
            }
            Ok(())
        }
        ("add" | "replace", Some(path)) => set_attribute(conn, ok, p, i, &verb, path, value),
        ("remove", Some(path)) if path.eq_ignore_ascii_case("members") => {
            for id in member_ids(&field("value"), &value)? {
                principals::remove_member(conn, ok, p.id, id)?;
            }
            Ok(())
        }
        ("remove", Some(path)) => match member_path_id(path) {
            Some(id) if p.kind == PrincipalKind::Group => {
                require_member(conn, id)?;
                principals::remove_member(conn, ok, p.id, id)
            }
            _ => Err(bad("path", format!("cannot remove {path:?}; use members[value eq \"<id>\"]"))),
        },
        ("remove", None) => Err(bad("path", "is required for remove".into())),
        (other, _) => Err(bad("op", format!("unsupported operation {other:?}; use add, remove or replace"))),
    }
}

/// Whether a PatchOp operation is about `roles` (account SCIM models them).
fn is_roles_operation(op: &PatchOperation) -> bool {
    match op.path.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(path) => path.to_ascii_lowercase().starts_with("roles"),
        None => op
            .value
            .as_ref()
            .and_then(Json::as_object)
            .is_some_and(|o| o.keys().any(|k| k.eq_ignore_ascii_case("roles"))),
    }
}

/// An account SCIM PatchOp on `roles`: add, remove or replace the `account_admin` role.
fn apply_roles_operation(
    conn: &Connection,
    ok: &Allowed,
    p: &PrincipalRow,
    i: usize,
    op: &PatchOperation,
) -> ApiResult<()> {
    let verb = op.op.as_deref().map(str::to_ascii_lowercase).unwrap_or_default();
    let path = op.path.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let value_field = format!("Operations[{i}].value");
    let value = match (path, &op.value) {
        (None, Some(Json::Object(o))) => {
            o.iter().find(|(k, _)| k.eq_ignore_ascii_case("roles")).map(|(_, v)| v.clone())
        }
        (_, v) => v.clone(),
    };
    let current = principals::by_id(conn, p.id)?.map(|r| r.account_admin).unwrap_or(false);
    let new = match (verb.as_str(), path) {
        ("add", _) => parse_roles(&value_field, value.as_ref())?.unwrap_or(false) || current,
        ("replace", _) => parse_roles(&value_field, value.as_ref())?.unwrap_or(false),
        ("remove", Some(path)) => {
            let inner = path.get(5..).unwrap_or("").trim();
            let names_admin = inner.is_empty()
                || inner.strip_prefix('[').and_then(|r| r.strip_suffix(']')).is_some_and(|f| {
                    matches!(scim_filter::parse(f, &["value"]),
                        Ok(Filter::Compare { op: scim_filter::Op::Eq, value: Value::Str(v), .. }) if v == ACCOUNT_ADMIN_ROLE)
                });
            if !names_admin {
                return Err(ApiError::invalid(&value_field, "the only role is account_admin").scim());
            }
            false
        }
        _ => {
            return Err(ApiError::invalid(&format!("Operations[{i}]"), "unsupported operation on roles").scim());
        }
    };
    if new != current {
        account_store::set_account_admin(conn, ok, p.id, new)?;
    }
    Ok(())
}

/// One attribute of an `add` or `replace`.
fn set_attribute(
    conn: &Connection,
    ok: &Allowed,
    p: &PrincipalRow,
    i: usize,
    verb: &str,
    attr: &str,
    v: Json,
) -> ApiResult<()> {
    let field = format!("Operations[{i}].value");
    let bad = |why: &str| ApiError::invalid(&field, format!("{attr}: {why}")).scim();
    let current = principals::by_id(conn, p.id)?.ok_or_else(|| not_found(p.kind, &p.id.to_string()))?;
    match attr.to_ascii_lowercase().as_str() {
        "members" => {
            let ids = member_ids(&field, &v)?;
            if verb == "replace" {
                principals::clear_members(conn, ok, p.id)?;
            }
            add_members(conn, ok, &current, &ids)
        }
        "displayname" => {
            let name = v.as_str().ok_or_else(|| bad("must be a string"))?.to_string();
            apply_names(conn, ok, &current, Some(name))
        }
        // userName and emails of a user, and a service principal's applicationId, never change:
        // a supplied value is ignored (the rest of the request is applied).
        "username" | "emails" if p.kind == PrincipalKind::User => Ok(()),
        "applicationid" if p.kind == PrincipalKind::ServicePrincipal => Ok(()),
        "active" if p.kind != PrincipalKind::Group => {
            let active = match v {
                // The SDK drops a falsy `value`, so `replace` of path `active` with no value is
                // its `value=False`.
                Json::Null if verb == "replace" => false,
                Json::Bool(b) => b,
                Json::String(s) if s.eq_ignore_ascii_case("true") => true,
                Json::String(s) if s.eq_ignore_ascii_case("false") => false,
                _ => return Err(bad("must be true or false")),
            };
            principals::set_active(conn, ok, p.id, active)
        }
        a if EXTRA_ATTRIBUTES.contains(&a) => {
            let mut extra: Map<String, Json> = serde_json::from_str(&current.extra).unwrap_or_default();
            let merged = match (verb, extra.remove(a), v) {
                ("add", Some(Json::Array(mut old)), Json::Array(new)) => {
                    old.extend(new);
                    Json::Array(old)
                }
                // `name` is a complex attribute, the others are multi-valued (RFC 7643).
                (_, _, v) if a == "name" && v.is_object() => v,
                (_, _, v) if a != "name" && is_multi_valued(&v) => v,
                _ => return Err(bad(if a == "name" { "must be an object" } else { "must be an array of objects" })),
            };
            extra.insert(a.to_string(), merged);
            principals::set_extra(conn, ok, p.id, current.external_id.as_deref(), &Json::Object(extra).to_string())
        }
        "externalid" => {
            let ext = v.as_str().ok_or_else(|| bad("must be a string"))?;
            principals::set_extra(conn, ok, p.id, Some(ext), &current.extra)
        }
        _ => Err(ApiError::invalid(&format!("Operations[{i}].path"), format!("unsupported attribute {attr:?}")).scim()),
    }
}

/// `PATCH <kind>/:id` with a PatchOp body.
async fn patch(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    level: web::Data<Level>,
    RawBody(raw): RawBody,
) -> ApiResult<HttpResponse> {
    let level = **level;
    let Level { kind, account } = level;
    let (raw_id, id) = scim_id(&req)?;
    let body: PatchBody = parse_json(&raw).map_err(scim_err)?;
    if let Some(schemas) = &body.schemas {
        if schemas.iter().any(|s| s != PATCH_SCHEMA) || schemas.is_empty() {
            return Err(ApiError::invalid("schemas", format!("must be [\"{PATCH_SCHEMA}\"]")).scim());
        }
    }
    let operations = body.operations.ok_or_else(|| ApiError::invalid("Operations", "is required").scim())?;
    // The path limits hold before anything is parsed or applied (invalidPath).
    for op in &operations {
        if let Some(path) = &op.path {
            scim_filter::check_limits(path).map_err(|e| ApiError::invalid("path", e).scim())?;
        }
    }
    if !account {
        for (i, op) in operations.iter().enumerate().filter(|(_, op)| is_roles_operation(op)) {
            let field = format!("Operations[{i}]");
            refuse_account_role(&field, op.value.as_ref())?;
            refuse_account_role(&field, op.path.as_ref().map(|p| Json::String(p.clone())).as_ref())?;
        }
        may_manage(&caller)?;
    }
    let obj = state
        .store
        .write(move |tx| {
            let ok = write_proof(tx, &caller, level, id, false)?;
            let p = require_at(tx, level, caller.workspace_id, &raw_id, id)?;
            for (i, op) in operations.iter().enumerate() {
                if account && is_roles_operation(op) {
                    let ok = write_proof(tx, &caller, level, id, true)?;
                    apply_roles_operation(tx, &ok, &p, i, op)?;
                } else {
                    apply_operation(tx, &ok, &p, i, op)?;
                }
            }
            admin_remains(tx)?;
            let p = require(tx, kind, &raw_id, id)?;
            resource_at(tx, &p, account)
        })
        .await
        .map_err(scim_err)?;
    Ok(HttpResponse::Ok().json(obj))
}

/// `DELETE <kind>/:id` → 200 `{}`.
async fn delete(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    level: web::Data<Level>,
) -> ApiResult<HttpResponse> {
    let level = **level;
    let (raw_id, id) = scim_id(&req)?;
    if !level.account {
        may_manage(&caller)?;
    }
    state
        .store
        .write(move |tx| {
            let ok = write_proof(tx, &caller, level, id, false)?;
            let p = require_at(tx, level, caller.workspace_id, &raw_id, id)?;
            principals::delete(tx, &ok, p.id)?;
            admin_remains(tx)
        })
        .await
        .map_err(scim_err)?;
    Ok(ok_empty())
}
