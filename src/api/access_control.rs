//! Account access control (`a.access_control`) and its workspace proxy
//! (`w.account_access_control_proxy`): assignable roles and rule sets with etags.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::extract::{parse_query, AppState, Auth, Body};
use super::Res;
use crate::error::{ApiError, ApiResult};
use crate::ops::access_control::{self as ops, RuleIn, RuleSet};

/// The routes, inside the `/api` scope.
pub fn routes(cfg: &mut web::ServiceConfig) {
    for (base, proxy) in
        [("/2.0/preview/accounts/{account_id}/access-control", false), ("/2.0/preview/accounts/access-control", true)]
    {
        let p = web::Data::new(Proxy(proxy));
        cfg.service(Res::new(&format!("{base}/assignable-roles")).get(assignable_roles).build().app_data(p.clone()))
            .service(Res::new(&format!("{base}/rule-sets")).get(get_rule_set).put(update_rule_set).build().app_data(p));
    }
}

/// Whether the request came through the workspace proxy.
#[derive(Clone, Copy)]
struct Proxy(bool);

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RolesQuery {
    resource: Option<String>,
}

/// `GetAssignableRolesForResourceResponse`
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct AssignableRoles {
    roles: Vec<Role>,
}

/// `Role`
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Role {
    name: &'static str,
}

/// A query parameter the operation cannot go without (absent or empty → 400 naming it).
fn required(field: &str, value: Option<String>) -> ApiResult<String> {
    value.filter(|s| !s.is_empty()).ok_or_else(|| ApiError::invalid(field, "is required"))
}

async fn assignable_roles(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    proxy: web::Data<Proxy>,
) -> ApiResult<HttpResponse> {
    let proxy = proxy.0;
    let q: RolesQuery = parse_query(req.query_string())?;
    let r = ops::parse_resource("resource", &required("resource", q.resource)?, &state.account_id)?;
    let roles = state.store.read(move |conn| ops::assignable_roles(conn, &caller, &r, proxy)).await?;
    Ok(HttpResponse::Ok().json(AssignableRoles { roles: roles.into_iter().map(|name| Role { name }).collect() }))
}

/// `GrantRule`
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub(crate) struct GrantRule {
    role: Option<String>,
    #[serde(default)]
    principals: Option<Vec<String>>,
}

/// `RuleSetResponse`
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RuleSetResponse {
    name: String,
    etag: String,
    grant_rules: Vec<GrantRule>,
}

fn render(rs: RuleSet) -> RuleSetResponse {
    RuleSetResponse {
        name: rs.name,
        etag: rs.etag,
        grant_rules: rs
            .rules
            .into_iter()
            .map(|(role, principals)| GrantRule { role: Some(role), principals: Some(principals) })
            .collect(),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RuleSetQuery {
    name: Option<String>,
    /// Sent by the SDK (often empty); ignored.
    #[allow(dead_code)]
    etag: Option<String>,
}

async fn get_rule_set(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    proxy: web::Data<Proxy>,
) -> ApiResult<HttpResponse> {
    let proxy = proxy.0;
    let q: RuleSetQuery = parse_query(req.query_string())?;
    let r = ops::parse_rule_set_name("name", &required("name", q.name)?, &state.account_id)?;
    let account_id = state.account_id.clone();
    let rs = state.store.read(move |conn| ops::get_rule_set(conn, &caller, &r, proxy, &account_id)).await?;
    Ok(HttpResponse::Ok().json(render(rs)))
}

/// `RuleSetUpdateRequest`
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct RuleSetIn {
    name: Option<String>,
    etag: Option<String>,
    grant_rules: Option<Vec<GrantRule>>,
}

/// `UpdateRuleSetRequest`
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct UpdateRuleSet {
    name: Option<String>,
    rule_set: Option<RuleSetIn>,
}

async fn update_rule_set(
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<UpdateRuleSet>,
) -> ApiResult<HttpResponse> {
    let name = required("name", body.name)?;
    let r = ops::parse_rule_set_name("name", &name, &state.account_id)?;
    let rule_set = body.rule_set.ok_or_else(|| ApiError::invalid("rule_set", "is required"))?;
    if rule_set.name.as_deref() != Some(name.as_str()) {
        return Err(ApiError::invalid("rule_set.name", "is required and must equal name"));
    }
    let etag =
        rule_set.etag.filter(|e| !e.is_empty()).ok_or_else(|| ApiError::invalid("rule_set.etag", "is required"))?;
    let mut rules = Vec::new();
    for (i, g) in rule_set.grant_rules.unwrap_or_default().into_iter().enumerate() {
        let role = g
            .role
            .filter(|r| !r.is_empty())
            .ok_or_else(|| ApiError::invalid(&format!("rule_set.grant_rules[{i}].role"), "is required"))?;
        rules.push(RuleIn { role, principals: g.principals.unwrap_or_default() });
    }
    let account_id = state.account_id.clone();
    let rs = state.store.write(move |tx| ops::update_rule_set(tx, &caller, &r, &etag, &rules, &account_id)).await?;
    Ok(HttpResponse::Ok().json(render(rs)))
}
