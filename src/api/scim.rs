//! SCIM 2.0 reads: `Me`, and list/get of users, groups and service principals (interface.md).

use actix_web::{web, HttpRequest, HttpResponse};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::extract::{parse_query, path_param, AppState, Auth};
use super::Res;
use crate::authz::PrincipalKind;
use crate::domain::scim_filter::{self, Filter, Value};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::principals::{self, PrincipalRow, Ref};

/// The SCIM routes, inside the `/api` scope.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let scim = |p: &str| format!("/2.0/preview/scim/v2{p}");
    cfg.service(Res::new(&scim("/Me")).get(me).build())
        .service(Res::new(&scim("/Users")).get(list_users).build())
        .service(Res::new(&scim("/Users/{id}")).get(get_user).build())
        .service(Res::new(&scim("/Groups")).get(list_groups).build())
        .service(Res::new(&scim("/Groups/{id}")).get(get_group).build())
        .service(Res::new(&scim("/ServicePrincipals")).get(list_service_principals).build())
        .service(Res::new(&scim("/ServicePrincipals/{id}")).get(get_service_principal).build());
}

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const SP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

#[derive(Serialize)]
struct ComplexValue {
    value: String,
    display: String,
    #[serde(rename = "$ref")]
    reference: String,
}

fn refs(kind_path: &str, refs: Vec<Ref>) -> Vec<ComplexValue> {
    refs.into_iter()
        .map(|r| ComplexValue {
            reference: format!("{kind_path}/{}", r.id),
            value: r.id.to_string(),
            display: r.display,
        })
        .collect()
}

/// The SCIM object of a principal, as JSON (SCIM objects are open-ended; `extra` holds the
/// attributes the emulator stores without interpreting).
fn resource(conn: &Connection, p: &PrincipalRow) -> ApiResult<Json> {
    let groups = refs("Groups", principals::direct_groups(conn, p.id)?);
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
            "members": refs("Users", principals::members(conn, p.id)?),
            "groups": groups,
            "entitlements": [],
        }),
    };
    if let Some(ext) = &p.external_id {
        obj["externalId"] = json!(ext);
    }
    if let Ok(Json::Object(extra)) = serde_json::from_str::<Json>(&p.extra) {
        for (k, v) in extra {
            obj.as_object_mut().expect("an object").entry(k).or_insert(v);
        }
    }
    Ok(obj)
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
        .map_err(ApiError::scim)?;
    Ok(HttpResponse::Ok().json(obj))
}

#[derive(Deserialize)]
struct ListQuery {
    filter: Option<String>,
    #[serde(rename = "startIndex")]
    start_index: Option<String>,
    count: Option<String>,
}

fn positive(field: &str, raw: Option<&str>) -> ApiResult<Option<usize>> {
    raw.map(|s| {
        s.parse::<usize>().map_err(|_| ApiError::invalid(field, format!("expected a non-negative integer, got {s:?}")))
    })
    .transpose()
}

/// Attributes a filter may name, per kind, and which compare case-sensitively under `eq`.
fn filter_attrs(kind: PrincipalKind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        PrincipalKind::User => (&["userName", "displayName", "emails.value", "active", "id"], &["userName"]),
        PrincipalKind::Group => (&["displayName", "id"], &[]),
        PrincipalKind::ServicePrincipal => (&["displayName", "applicationId", "active", "id"], &["applicationId"]),
    }
}

fn attr_values(p: &PrincipalRow, attr: &str) -> Vec<Value> {
    match attr.to_ascii_lowercase().as_str() {
        "username" | "emails.value" | "applicationid" => vec![Value::Str(p.name.clone())],
        "displayname" => vec![Value::Str(p.display_name.clone())],
        "active" => vec![Value::Bool(p.active)],
        "id" => vec![Value::Str(p.id.to_string())],
        _ => vec![],
    }
}

async fn list(req: HttpRequest, state: web::Data<AppState>, kind: PrincipalKind) -> ApiResult<HttpResponse> {
    let q: ListQuery = parse_query(req.query_string()).map_err(ApiError::scim)?;
    let start = positive("startIndex", q.start_index.as_deref()).map_err(ApiError::scim)?.unwrap_or(1).max(1);
    let count = positive("count", q.count.as_deref()).map_err(ApiError::scim)?;
    let (attrs, exact) = filter_attrs(kind);
    let filter: Option<Filter> = q
        .filter
        .filter(|f| !f.trim().is_empty())
        .map(|f| scim_filter::parse(&f, attrs).map_err(|e| ApiError::invalid("filter", e).scim()))
        .transpose()?;
    let body = state
        .store
        .read(move |conn| {
            let all = principals::list(conn, kind)?;
            let matching: Vec<&PrincipalRow> = all
                .iter()
                .filter(|p| match &filter {
                    None => true,
                    Some(f) => f.matches(&|a| attr_values(p, a), &|a| exact.iter().any(|e| e.eq_ignore_ascii_case(a))),
                })
                .collect();
            let total = matching.len();
            let page: Vec<Json> = matching
                .into_iter()
                .skip(start - 1)
                .take(count.unwrap_or(usize::MAX))
                .map(|p| resource(conn, p))
                .collect::<ApiResult<_>>()?;
            Ok(json!({
                "schemas": [LIST_SCHEMA],
                "totalResults": total,
                "startIndex": start,
                "itemsPerPage": page.len(),
                "Resources": page,
            }))
        })
        .await
        .map_err(ApiError::scim)?;
    Ok(HttpResponse::Ok().json(body))
}

async fn get(req: HttpRequest, state: web::Data<AppState>, kind: PrincipalKind) -> ApiResult<HttpResponse> {
    let raw = path_param(&req, "id").map_err(ApiError::scim)?;
    let not_found =
        move || ApiError::new(ErrorCode::ResourceDoesNotExist, format!("{} {raw} does not exist.", kind.noun())).scim();
    let Ok(id) = path_param(&req, "id")?.parse::<i64>() else {
        return Err(not_found());
    };
    let obj = state
        .store
        .read(move |conn| match principals::by_id(conn, id)? {
            Some(p) if p.kind == kind => Ok(Some(resource(conn, &p)?)),
            _ => Ok(None),
        })
        .await
        .map_err(ApiError::scim)?;
    obj.map(|o| HttpResponse::Ok().json(o)).ok_or_else(not_found)
}

pub async fn list_users(req: HttpRequest, _auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    list(req, state, PrincipalKind::User).await
}
pub async fn list_groups(req: HttpRequest, _auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    list(req, state, PrincipalKind::Group).await
}
pub async fn list_service_principals(
    req: HttpRequest,
    _auth: Auth,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    list(req, state, PrincipalKind::ServicePrincipal).await
}
pub async fn get_user(req: HttpRequest, _auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    get(req, state, PrincipalKind::User).await
}
pub async fn get_group(req: HttpRequest, _auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    get(req, state, PrincipalKind::Group).await
}
pub async fn get_service_principal(
    req: HttpRequest,
    _auth: Auth,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    get(req, state, PrincipalKind::ServicePrincipal).await
}
