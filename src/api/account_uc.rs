//! Unity Catalog set-up through the account API: `a.metastores`, `a.metastore_assignments`,
//! `a.storage_credentials` (account admins; the same metastores the workspace API serves).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::account::int_param;
use super::extract::{name_param, path_param, AppState, Auth, Body, Params, RawBody};
use super::metastores::{force_flag, ForceOpts, MetastoreInfo};
use super::storage_credentials::StorageCredentialInfo;
use super::{ok_empty, Res};
use crate::error::{ApiError, ApiResult};
use crate::ops::account_uc as ops;
use crate::ops::metastores::{MetastoreUpdate, UpdateMetastore};
use crate::ops::storage_credentials::{
    CreateStorageCredential, CredentialSpec, CredentialUpdate, UpdateStorageCredential,
};

/// The routes, inside the `/api` scope.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let acc = |p: &str| format!("/2.0/accounts/{{account_id}}{p}");
    cfg.service(Res::new(&acc("/metastores")).get(list_metastores).post(create_metastore).build())
        .service(
            Res::new(&acc("/metastores/{metastore_id}"))
                .get(get_metastore)
                .put(update_metastore)
                .delete(delete_metastore)
                .build(),
        )
        .service(Res::new(&acc("/metastores/{metastore_id}/workspaces")).get(assigned_workspaces).build())
        .service(
            Res::new(&acc("/workspaces/{workspace_id}/metastores/{metastore_id}"))
                .post(create_assignment)
                .put(update_assignment)
                .delete(delete_assignment)
                .build(),
        )
        .service(Res::new(&acc("/workspaces/{workspace_id}/metastore")).get(get_assignment).build())
        .service(
            Res::new(&acc("/metastores/{metastore_id}/storage-credentials"))
                .get(list_credentials)
                .post(create_credential)
                .build(),
        )
        .service(
            Res::new(&acc("/metastores/{metastore_id}/storage-credentials/{name}"))
                .get(get_credential)
                .put(update_credential)
                .delete(delete_credential)
                .build(),
        );
}

/// The account API names an unknown credential `STORAGE_CREDENTIAL_DOES_NOT_EXIST` (the workspace
/// API's `RESOURCE_DOES_NOT_EXIST` stays as it is).
fn metastore_id(req: &HttpRequest) -> ApiResult<String> {
    path_param(req, "metastore_id")
}

/// `CreateAccountsMetastore`
#[derive(Deserialize)]
struct MetastoreIn {
    name: Option<String>,
    storage_root: Option<String>,
    region: Option<String>,
    external_access_enabled: Option<bool>,
}

#[derive(Deserialize)]
struct CreateMetastoreBody {
    metastore_info: Option<MetastoreIn>,
}

async fn create_metastore(
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<CreateMetastoreBody>,
) -> ApiResult<HttpResponse> {
    let info = body.metastore_info.ok_or_else(|| ApiError::invalid("metastore_info.name", "is required"))?;
    let name =
        info.name.filter(|n| !n.is_empty()).ok_or_else(|| ApiError::invalid("metastore_info.name", "is required"))?;
    if let Some(root) = info.storage_root.as_deref().filter(|r| !r.is_empty()) {
        state.file_roots.check_raw("storage_root", root)?;
    }
    let row = state
        .store
        .write(move |tx| {
            ops::create_metastore(tx, &caller, Some(name), info.storage_root, info.region, info.external_access_enabled)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "metastore_info": MetastoreInfo::from(row) })))
}

async fn list_metastores(Auth(caller): Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let rows = state.store.read(move |conn| ops::list_metastores(conn, &caller)).await?;
    let list: Vec<MetastoreInfo> = rows.into_iter().map(MetastoreInfo::from).collect();
    Ok(HttpResponse::Ok().json(json!({ "metastores": list })))
}

async fn get_metastore(req: HttpRequest, Auth(caller): Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let id = metastore_id(&req)?;
    let row = state.store.read(move |conn| ops::get_metastore(conn, &caller, &id)).await?;
    Ok(HttpResponse::Ok().json(json!({ "metastore_info": MetastoreInfo::from(row) })))
}

#[derive(Deserialize)]
struct UpdateMetastoreBody {
    metastore_info: Option<UpdateMetastore>,
}

async fn update_metastore(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<UpdateMetastoreBody>,
) -> ApiResult<HttpResponse> {
    let id = metastore_id(&req)?;
    let update = MetastoreUpdate::try_from(body.metastore_info.unwrap_or_default())?;
    let row = state.store.write(move |tx| ops::update_metastore(tx, &caller, &id, update)).await?;
    Ok(HttpResponse::Ok().json(json!({ "metastore_info": MetastoreInfo::from(row) })))
}

async fn delete_metastore(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Params(q): Params<ForceOpts>,
    RawBody(body): RawBody,
) -> ApiResult<HttpResponse> {
    let id = metastore_id(&req)?;
    let force = force_flag(q, &body)?;
    let removed = state.store.write(move |tx| ops::delete_metastore(tx, &caller, &id, force)).await?;
    super::volumes::remove_after_commit(&state, removed).await;
    Ok(ok_empty())
}

/// `MetastoreAssignment` as the account API sends it.
#[derive(Deserialize)]
struct AssignmentIn {
    workspace_id: Option<i64>,
    metastore_id: Option<String>,
    default_catalog_name: Option<String>,
}

#[derive(Deserialize)]
struct AssignmentBody {
    metastore_assignment: Option<AssignmentIn>,
}

/// The path's workspace and metastore, and the body's default catalog; body ids must match.
fn assignment_args(req: &HttpRequest, body: AssignmentBody) -> ApiResult<(i64, String, Option<String>)> {
    let ws = int_param(req, "workspace_id")?;
    let ms = metastore_id(req)?;
    let a = body.metastore_assignment.unwrap_or(AssignmentIn {
        workspace_id: None,
        metastore_id: None,
        default_catalog_name: None,
    });
    if a.workspace_id.is_some_and(|w| w != ws) {
        return Err(ApiError::invalid("metastore_assignment.workspace_id", "must equal the path's workspace id"));
    }
    if a.metastore_id.as_deref().is_some_and(|m| m != ms) {
        return Err(ApiError::invalid("metastore_assignment.metastore_id", "must equal the path's metastore id"));
    }
    Ok((ws, ms, a.default_catalog_name.filter(|d| !d.is_empty())))
}

async fn create_assignment(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<AssignmentBody>,
) -> ApiResult<HttpResponse> {
    let (ws, ms, dcn) = assignment_args(&req, body)?;
    state.store.write(move |tx| ops::create_assignment(tx, &caller, ws, &ms, dcn)).await?;
    Ok(ok_empty())
}

async fn update_assignment(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<AssignmentBody>,
) -> ApiResult<HttpResponse> {
    let (ws, ms, dcn) = assignment_args(&req, body)?;
    state.store.write(move |tx| ops::update_assignment(tx, &caller, ws, &ms, dcn)).await?;
    Ok(ok_empty())
}

async fn delete_assignment(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let ws = int_param(&req, "workspace_id")?;
    let ms = metastore_id(&req)?;
    state.store.write(move |tx| ops::delete_assignment(tx, &caller, ws, &ms)).await?;
    Ok(ok_empty())
}

async fn get_assignment(req: HttpRequest, Auth(caller): Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let ws = int_param(&req, "workspace_id")?;
    let a = state.store.read(move |conn| ops::get_assignment(conn, &caller, ws)).await?;
    Ok(HttpResponse::Ok().json(json!({"metastore_assignment": {
        "workspace_id": a.workspace_id,
        "metastore_id": a.metastore_id,
        "default_catalog_name": a.default_catalog_name,
    }})))
}

async fn assigned_workspaces(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let ms = metastore_id(&req)?;
    let ids = state.store.read(move |conn| ops::assigned_workspaces(conn, &caller, &ms)).await?;
    Ok(HttpResponse::Ok().json(json!({ "workspace_ids": ids })))
}

#[derive(Deserialize)]
struct CreateCredentialBody {
    credential_info: Option<CreateStorageCredential>,
}

async fn create_credential(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<CreateCredentialBody>,
) -> ApiResult<HttpResponse> {
    let ms = metastore_id(&req)?;
    let info = body.credential_info.ok_or_else(|| ApiError::invalid("credential_info.name", "is required"))?;
    let spec = CredentialSpec::try_from(info)?;
    let row = state.store.write(move |tx| ops::create_credential(tx, &caller, &ms, spec)).await?;
    Ok(HttpResponse::Ok().json(json!({ "credential_info": StorageCredentialInfo::from(row) })))
}

async fn list_credentials(req: HttpRequest, Auth(caller): Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let ms = metastore_id(&req)?;
    let rows = state.store.read(move |conn| ops::list_credentials(conn, &caller, &ms)).await?;
    let list: Vec<StorageCredentialInfo> = rows.into_iter().map(StorageCredentialInfo::from).collect();
    Ok(HttpResponse::Ok().json(json!({ "storage_credentials": list })))
}

async fn get_credential(req: HttpRequest, Auth(caller): Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let ms = metastore_id(&req)?;
    let name = name_param(&req)?;
    let row = state.store.read(move |conn| ops::get_credential(conn, &caller, &ms, &name)).await?;
    Ok(HttpResponse::Ok().json(json!({ "credential_info": StorageCredentialInfo::from(row) })))
}

#[derive(Deserialize)]
struct UpdateCredentialBody {
    credential_info: Option<UpdateStorageCredential>,
}

async fn update_credential(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<UpdateCredentialBody>,
) -> ApiResult<HttpResponse> {
    let ms = metastore_id(&req)?;
    let name = name_param(&req)?;
    let update = CredentialUpdate::try_from(body.credential_info.unwrap_or_default())?;
    let row = state.store.write(move |tx| ops::update_credential(tx, &caller, &ms, &name, update)).await?;
    Ok(HttpResponse::Ok().json(json!({ "credential_info": StorageCredentialInfo::from(row) })))
}

async fn delete_credential(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Params(q): Params<ForceOpts>,
    RawBody(body): RawBody,
) -> ApiResult<HttpResponse> {
    let ms = metastore_id(&req)?;
    let name = name_param(&req)?;
    let force = force_flag(q, &body)?;
    state.store.write(move |tx| ops::delete_credential(tx, &caller, &ms, &name, force)).await?;
    Ok(ok_empty())
}
