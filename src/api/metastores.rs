//! Metastores, the metastore summary and workspace assignments.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::extract::{path_param, qbool, qint, AppState, Auth, Body, Params, RawBody, Scoped};
use super::listing::Listing;
use super::ok_empty;
use crate::error::{ApiError, ApiResult};
use crate::ops;
use crate::ops::metastores::{AssignmentSpec, CreateMetastore, MetastoreSpec, MetastoreUpdate, UpdateMetastore};
use crate::store::metastores::{self, MetastoreRow};

/// `MetastoreInfo` (also the summary's answer, which carries every field).
#[derive(Serialize, utoipa::ToSchema)]
pub struct MetastoreInfo {
    metastore_id: String,
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    storage_root: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_root_credential_id: Option<String>,
    owner: String,
    cloud: String,
    region: String,
    global_metastore_id: String,
    delta_sharing_scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    delta_sharing_recipient_token_lifetime_in_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delta_sharing_organization_name: Option<String>,
    delta_sharing_enabled: bool,
    privilege_model_version: String,
    external_access_enabled: bool,
    created_at: i64,
    created_by: String,
    updated_at: i64,
    updated_by: String,
}

impl From<MetastoreRow> for MetastoreInfo {
    fn from(m: MetastoreRow) -> Self {
        MetastoreInfo {
            global_metastore_id: format!("{}:{}:{}", m.cloud, m.region, m.id),
            delta_sharing_enabled: m.delta_sharing_scope == "INTERNAL_AND_EXTERNAL",
            metastore_id: m.id,
            name: m.name,
            storage_root: m.storage_root,
            storage_root_credential_id: m.storage_root_credential_id,
            owner: m.owner,
            cloud: m.cloud,
            region: m.region,
            delta_sharing_scope: m.delta_sharing_scope,
            delta_sharing_recipient_token_lifetime_in_seconds: m.delta_sharing_recipient_token_lifetime_in_seconds,
            delta_sharing_organization_name: m.delta_sharing_organization_name,
            privilege_model_version: m.privilege_model_version,
            external_access_enabled: m.external_access_enabled,
            created_at: m.created_at,
            created_by: m.created_by,
            updated_at: m.updated_at,
            updated_by: m.updated_by,
        }
    }
}

/// createMetastore
pub async fn create_metastore(
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(req): Body<CreateMetastore>,
) -> ApiResult<HttpResponse> {
    let spec = MetastoreSpec::try_from(req)?;
    state.file_roots.check("storage_root", &spec.storage_root)?;
    let row = state.store.write(move |tx| ops::metastores::create(tx, &caller, spec)).await?;
    Ok(HttpResponse::Ok().json(MetastoreInfo::from(row)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListMetastoresParams {
    #[serde(default, deserialize_with = "qint::option")]
    max_results: Option<i64>,
}

/// listMetastores: the workspace's metastore, or nothing.
pub async fn list_metastores(
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Params(p): Params<ListMetastoresParams>,
) -> ApiResult<HttpResponse> {
    if p.max_results.is_some_and(|n| n < 0) {
        return Err(ApiError::invalid("max_results", "must not be negative"));
    }
    let Some(scope) = caller.metastore.clone() else {
        return Ok(HttpResponse::Ok().json(Listing::<MetastoreInfo> {
            key: "metastores",
            items: vec![],
            next_page_token: None,
        }));
    };
    let row = state.store.read(move |conn| ops::metastores::get(conn, &caller, &scope.id)).await?;
    Ok(HttpResponse::Ok().json(Listing {
        key: "metastores",
        items: vec![MetastoreInfo::from(row)],
        next_page_token: None,
    }))
}

/// getMetastore
pub async fn get_metastore(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let id = path_param(&req, "id")?;
    let row = state.store.read(move |conn| ops::metastores::get(conn, &caller, &id)).await?;
    Ok(HttpResponse::Ok().json(MetastoreInfo::from(row)))
}

/// updateMetastore
pub async fn update_metastore(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<UpdateMetastore>,
) -> ApiResult<HttpResponse> {
    let id = path_param(&req, "id")?;
    let body = MetastoreUpdate::try_from(body)?;
    let row = state.store.write(move |tx| ops::metastores::update(tx, &caller, &id, body)).await?;
    Ok(HttpResponse::Ok().json(MetastoreInfo::from(row)))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ForceOpts {
    #[serde(default, deserialize_with = "qbool::option")]
    pub force: Option<bool>,
}

/// `force` from the query, else from a JSON body (the legacy CLI sends it there).
pub fn force_flag(query: ForceOpts, body: &[u8]) -> ApiResult<bool> {
    #[derive(Deserialize, Default)]
    struct BodyOpts {
        force: Option<bool>,
    }
    if let Some(f) = query.force {
        return Ok(f);
    }
    let body: BodyOpts =
        if body.iter().all(u8::is_ascii_whitespace) { BodyOpts::default() } else { super::extract::parse_json(body)? };
    Ok(body.force.unwrap_or(false))
}

/// deleteMetastore
pub async fn delete_metastore(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Params(q): Params<ForceOpts>,
    RawBody(body): RawBody,
) -> ApiResult<HttpResponse> {
    let id = path_param(&req, "id")?;
    let force = force_flag(q, &body)?;
    let removed = state.store.write(move |tx| ops::metastores::delete(tx, &caller, &id, force)).await?;
    super::volumes::remove_after_commit(&state, removed).await;
    Ok(ok_empty())
}

/// getMetastoreSummary: any caller of a workspace with a metastore.
pub async fn metastore_summary(scoped: Scoped, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let id = scoped.metastore.id.clone();
    let row = state.store.read(move |conn| metastores::require(conn, &id)).await?;
    Ok(HttpResponse::Ok().json(MetastoreInfo::from(row)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct MetastoreAssignment {
    workspace_id: i64,
    metastore_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_catalog_name: Option<String>,
}

/// The caller's workspace assignment (SDK `metastores.current()`).
pub async fn current_assignment(Auth(caller): Auth) -> ApiResult<HttpResponse> {
    let Some(m) = &caller.metastore else {
        return Err(ApiError::no_metastore());
    };
    Ok(HttpResponse::Ok().json(MetastoreAssignment {
        workspace_id: caller.workspace_id,
        metastore_id: m.id.clone(),
        default_catalog_name: m.default_catalog_name.clone(),
    }))
}

fn workspace_id(req: &HttpRequest) -> ApiResult<i64> {
    let raw = path_param(req, "workspace_id")?;
    raw.parse::<i64>()
        .map_err(|_| ApiError::invalid("workspace_id", format!("{raw:?} is not a workspace id (an integer)")))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AssignmentBody {
    metastore_id: Option<String>,
    default_catalog_name: Option<String>,
}

/// createMetastoreAssignment: creates or overwrites.
pub async fn create_assignment(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<AssignmentBody>,
) -> ApiResult<HttpResponse> {
    let workspace_id = workspace_id(&req)?;
    let spec = AssignmentSpec::parse(body.metastore_id, body.default_catalog_name)?;
    state.store.write(move |tx| ops::metastores::assign(tx, &caller, workspace_id, spec)).await?;
    Ok(ok_empty())
}

/// updateMetastoreAssignment: only an existing assignment.
pub async fn update_assignment(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<AssignmentBody>,
) -> ApiResult<HttpResponse> {
    let workspace_id = workspace_id(&req)?;
    let spec = AssignmentSpec::parse(body.metastore_id, body.default_catalog_name)?;
    state.store.write(move |tx| ops::metastores::update_assignment(tx, &caller, workspace_id, spec)).await?;
    Ok(ok_empty())
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnassignParams {
    metastore_id: Option<String>,
}

/// deleteMetastoreAssignment: `metastore_id` (query or body) must match.
pub async fn delete_assignment(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Params(q): Params<UnassignParams>,
    RawBody(body): RawBody,
) -> ApiResult<HttpResponse> {
    let workspace_id = workspace_id(&req)?;
    let from_body: UnassignParams = if body.iter().all(u8::is_ascii_whitespace) {
        UnassignParams::default()
    } else {
        super::extract::parse_json(&body)?
    };
    let metastore_id = q
        .metastore_id
        .or(from_body.metastore_id)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| ApiError::invalid("metastore_id", "is required"))?;
    state.store.write(move |tx| ops::metastores::unassign(tx, &caller, workspace_id, &metastore_id)).await?;
    Ok(ok_empty())
}
