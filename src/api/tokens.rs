//! Personal access tokens (`/api/2.0/token/`) and token management for admins
//! (`/api/2.0/token-management/`), as the SDK's `w.tokens` /
//! `w.token_management` call them.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::extract::{path_param, qint, AppState, Auth, Body, Params};
use super::{ok_empty, Res};
use crate::error::{ApiError, ApiResult};
use crate::ops;
use crate::store::tokens::TokenRow;

/// The token routes, inside the `/api` scope.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(Res::new("/2.0/token/create").post(create_token).build())
        .service(Res::new("/2.0/token/list").get(list_tokens).build())
        .service(Res::new("/2.0/token/delete").post(delete_token).build())
        .service(Res::new("/2.0/token-management/tokens").get(list_workspace_tokens).build())
        .service(
            Res::new("/2.0/token-management/tokens/{token_id}")
                .get(get_workspace_token)
                .delete(delete_workspace_token)
                .build(),
        )
        .service(Res::new("/2.0/token-management/on-behalf-of/tokens").post(create_obo_token).build());
}

/// `PublicTokenInfo`: what the owner of a token sees.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PublicTokenInfo {
    token_id: String,
    creation_time: i64,
    expiry_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

impl From<&TokenRow> for PublicTokenInfo {
    fn from(t: &TokenRow) -> Self {
        PublicTokenInfo {
            token_id: t.token_id.clone(),
            creation_time: t.creation_time,
            expiry_time: t.expiry_time,
            comment: t.comment.clone(),
        }
    }
}

/// `TokenInfo`: what token management shows (principal ids are numeric SCIM ids).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct TokenInfo {
    token_id: String,
    creation_time: i64,
    expiry_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_by_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_by_username: Option<String>,
    owner_id: i64,
    workspace_id: i64,
}

impl From<&TokenRow> for TokenInfo {
    fn from(t: &TokenRow) -> Self {
        TokenInfo {
            token_id: t.token_id.clone(),
            creation_time: t.creation_time,
            expiry_time: t.expiry_time,
            comment: t.comment.clone(),
            created_by_id: t.created_by_id,
            created_by_username: t.created_by_name.clone(),
            owner_id: t.owner_id,
            workspace_id: t.workspace_id,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateToken {
    comment: Option<String>,
    lifetime_seconds: Option<i64>,
}

/// `POST /api/2.0/token/create`: a token for the caller, in the caller's workspace.
pub async fn create_token(
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<CreateToken>,
) -> ApiResult<HttpResponse> {
    ops::tokens::expiry(0, body.lifetime_seconds)?;
    let (value, row) = state
        .store
        .write(move |tx| ops::tokens::create(tx, &caller, body.comment.as_deref(), body.lifetime_seconds))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "token_value": value,
        "token_info": PublicTokenInfo::from(&row),
    })))
}

/// `GET /api/2.0/token/list`: the caller's API-created tokens in its workspace.
pub async fn list_tokens(Auth(caller): Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let rows = state.store.read(move |conn| ops::tokens::list_own(conn, &caller)).await?;
    let infos: Vec<PublicTokenInfo> = rows.iter().map(PublicTokenInfo::from).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "token_infos": infos })))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DeleteToken {
    token_id: Option<String>,
}

/// `POST /api/2.0/token/delete`: one of the caller's tokens; it stops authenticating at once.
pub async fn delete_token(
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<DeleteToken>,
) -> ApiResult<HttpResponse> {
    let token_id =
        body.token_id.filter(|t| !t.is_empty()).ok_or_else(|| ApiError::invalid("token_id", "is required"))?;
    state.store.write(move |tx| ops::tokens::delete_own(tx, &caller, &token_id)).await?;
    Ok(ok_empty())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    #[serde(default, deserialize_with = "qint::option")]
    created_by_id: Option<i64>,
    created_by_username: Option<String>,
}

/// `GET /api/2.0/token-management/tokens`: every API-created token of the workspace.
pub async fn list_workspace_tokens(
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Params(q): Params<ListParams>,
) -> ApiResult<HttpResponse> {
    let rows = state
        .store
        .read(move |conn| ops::tokens::list_workspace(conn, &caller, q.created_by_id, q.created_by_username.as_deref()))
        .await?;
    let infos: Vec<TokenInfo> = rows.iter().map(TokenInfo::from).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "token_infos": infos })))
}

/// `GET /api/2.0/token-management/tokens/{token_id}`
pub async fn get_workspace_token(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let token_id = path_param(&req, "token_id")?;
    let row = state.store.read(move |conn| ops::tokens::get_workspace(conn, &caller, &token_id)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "token_info": TokenInfo::from(&row) })))
}

/// `DELETE /api/2.0/token-management/tokens/{token_id}`
pub async fn delete_workspace_token(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let token_id = path_param(&req, "token_id")?;
    state.store.write(move |tx| ops::tokens::delete_workspace(tx, &caller, &token_id)).await?;
    Ok(ok_empty())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateOboToken {
    application_id: Option<String>,
    comment: Option<String>,
    lifetime_seconds: Option<i64>,
}

/// `POST /api/2.0/token-management/on-behalf-of/tokens`: a token for a service principal of
/// the account, in the caller's workspace.
pub async fn create_obo_token(
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<CreateOboToken>,
) -> ApiResult<HttpResponse> {
    let application_id = body
        .application_id
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::invalid("application_id", "is required"))?;
    ops::tokens::expiry(0, body.lifetime_seconds)?;
    let (value, row) = state
        .store
        .write(move |tx| {
            let (comment, lifetime) = (body.comment.as_deref(), body.lifetime_seconds);
            ops::tokens::create_on_behalf_of(tx, &caller, &application_id, comment, lifetime)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "token_value": value,
        "token_info": TokenInfo::from(&row),
    })))
}
