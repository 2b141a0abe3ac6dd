//! SCIM 2.0 under `/api/2.0/preview/scim/v2/`: `Me`, and users, groups and
//! service principals with list, get, create, replace, patch and delete. Errors carry SCIM's
//! error keys beside the emulator's.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

use super::extract::{parse_json, parse_query, path_param, AppState, Auth, RawBody};
use super::{ok_empty, Res};
use crate::authz::PrincipalKind;
use crate::domain::names::fold_case;
use crate::domain::scim_filter::{self, Filter, Value};
use crate::error::{ApiError, ApiResult};
use crate::ops::identities::{
    self as ops, account_admin_only, resource_type, CreateSpec, Level, PatchBody, PatchSpec, PrincipalView,
    ReplaceSpec, ScimBody, Target, ACCOUNT_ADMIN_ROLE,
};
use crate::store::account as account_store;
use crate::store::principals::{self, PrincipalRow, Ref};

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const SP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

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

fn kind_path(kind: PrincipalKind) -> &'static str {
    match kind {
        PrincipalKind::User => "Users",
        PrincipalKind::Group => "Groups",
        PrincipalKind::ServicePrincipal => "ServicePrincipals",
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

/// The SCIM object of one principal at a level: account SCIM shows `roles` from the account
/// admin role and no entitlements (they are workspace-level).
fn resource_at(v: PrincipalView, account: bool) -> Json {
    let obj = resource_with(&v.row, v.groups, v.members);
    if account {
        account_view(&v.row, obj)
    } else {
        obj
    }
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

/// `GET Me`: the token's principal; for a service principal `userName` is its application id.
pub async fn me(Auth(caller): Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let id = caller.id;
    let obj = state
        .store
        .read(move |conn| {
            let p = principals::by_id(conn, id)?
                .ok_or_else(|| ApiError::unauthenticated("The token's principal is gone."))?;
            let kind = p.kind;
            let name = p.name.clone();
            let mut obj = resource_at(ops::view(conn, p)?, false);
            if kind == PrincipalKind::ServicePrincipal {
                obj["userName"] = json!(name);
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

fn scim_id(req: &HttpRequest) -> ApiResult<Target> {
    Ok(Target::new(path_param(req, "id").map_err(scim_err)?))
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
    let target = scim_id(&req)?;
    let q: GetQuery = parse_query(req.query_string()).map_err(scim_err)?;
    let (attributes, excluded) = (comma_list(q.attributes), comma_list(q.excluded_attributes));
    let v = state.store.read(move |conn| ops::get(conn, &caller, level, &target)).await.map_err(scim_err)?;
    Ok(HttpResponse::Ok().json(trim(resource_at(v, level.account), &attributes, &excluded)))
}

/// A create or replace body: any JSON object (SCIM objects are open-ended).
fn scim_body(raw: &[u8]) -> ApiResult<ScimBody> {
    ScimBody::from_json(parse_json::<Json>(raw).map_err(scim_err)?)
}

/// `POST <kind>` creates a principal.
async fn create(
    Auth(caller): Auth,
    state: web::Data<AppState>,
    level: web::Data<Level>,
    RawBody(raw): RawBody,
) -> ApiResult<HttpResponse> {
    let level = **level;
    let spec = CreateSpec::parse(level, &scim_body(&raw)?)?;
    let v = state.store.write(move |tx| ops::create(tx, &caller, level, spec)).await.map_err(scim_err)?;
    Ok(HttpResponse::Created().json(resource_at(v, level.account)))
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
    let target = scim_id(&req)?;
    let spec = ReplaceSpec::parse(level, &target, &scim_body(&raw)?)?;
    let v = state.store.write(move |tx| ops::replace(tx, &caller, level, &target, spec)).await.map_err(scim_err)?;
    Ok(HttpResponse::Ok().json(resource_at(v, level.account)))
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
    let target = scim_id(&req)?;
    let spec = PatchSpec::try_from(parse_json::<PatchBody>(&raw).map_err(scim_err)?)?;
    let v = state.store.write(move |tx| ops::patch(tx, &caller, level, &target, spec)).await.map_err(scim_err)?;
    Ok(HttpResponse::Ok().json(resource_at(v, level.account)))
}

/// `DELETE <kind>/:id` → 200 `{}`.
async fn delete(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    level: web::Data<Level>,
) -> ApiResult<HttpResponse> {
    let level = **level;
    let target = scim_id(&req)?;
    state.store.write(move |tx| ops::delete(tx, &caller, level, &target)).await.map_err(scim_err)?;
    Ok(ok_empty())
}
