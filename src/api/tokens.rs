//! Personal access tokens (`/api/2.0/token/`) and token management for admins
//! (`/api/2.0/token-management/`), as the SDK's `w.tokens` /
//! `w.token_management` call them.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::extract::{path_param, qint, AppState, Auth, Body, Params};
use super::{denied, ok_empty, Res};
use crate::authz::{self, Action, Caller, PrincipalKind};
use crate::domain::now_ms;
use crate::domain::workspace_object::WorkspaceObject;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::tokens::{self, NewToken, TokenFilter, TokenRow};
use crate::store::{principals, workspace_acls};

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
#[derive(Serialize)]
struct PublicTokenInfo {
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
#[derive(Serialize)]
struct TokenInfo {
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

/// A new token value: `dapi` and 32 lowercase hexadecimal characters.
fn new_token_value() -> ApiResult<String> {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(format!("dapi{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>()))
}

/// `expiry_time` for a `lifetime_seconds`: absent (or 0, proto's default) → `-1`, never.
fn expiry(creation_time: i64, lifetime_seconds: Option<i64>) -> ApiResult<i64> {
    match lifetime_seconds {
        None | Some(0) => Ok(-1),
        Some(n) if n < 0 => Err(ApiError::invalid("lifetime_seconds", "must not be negative")),
        Some(n) => n
            .checked_mul(1000)
            .and_then(|ms| ms.checked_add(creation_time))
            .ok_or_else(|| ApiError::invalid("lifetime_seconds", "is too large")),
    }
}

fn token_not_found(token_id: &str) -> ApiError {
    ApiError::new(ErrorCode::ResourceDoesNotExist, format!("Token with id '{token_id}' does not exist."))
}

/// Mints a token for `principal_id` in the caller's workspace; returns its value and row.
fn mint(
    conn: &rusqlite::Connection,
    ok: &authz::Allowed,
    caller: &Caller,
    principal_id: i64,
    comment: Option<&str>,
    lifetime_seconds: Option<i64>,
) -> ApiResult<(String, TokenRow)> {
    let value = new_token_value()?;
    let now = now_ms();
    let new = NewToken {
        value: &value,
        principal_id,
        workspace_id: caller.workspace_id,
        comment,
        creation_time: now,
        expiry_time: expiry(now, lifetime_seconds)?,
        from_api: true,
        created_by_id: Some(caller.id),
    };
    let token_id = tokens::insert(conn, ok, &new)?;
    let row = tokens::get_api_token(conn, caller.workspace_id, &token_id, None)?
        .ok_or_else(|| ApiError::internal("a token just inserted is missing"))?;
    Ok((value, row))
}

#[derive(Deserialize)]
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
    expiry(0, body.lifetime_seconds)?;
    let (value, row) = state
        .store
        .write(move |conn| {
            // Creating a token needs CAN_USE (or CAN_MANAGE) on the workspace's token ACL.
            let acl = workspace_acls::entries(conn, caller.workspace_id, &WorkspaceObject::Tokens)?;
            let can_use = acl.iter().any(|e| caller.is(&e.principal));
            let ok = authz::require(&caller, &Action::CreateToken { can_use }, &[]).map_err(|_| {
                ApiError::denied(format!(
                    "{} has no CAN_USE permission on authorization/tokens in workspace {}.",
                    caller.name, caller.workspace_id
                ))
            })?;
            mint(conn, &ok, &caller, caller.id, body.comment.as_deref(), body.lifetime_seconds)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "token_value": value,
        "token_info": PublicTokenInfo::from(&row),
    })))
}

/// `GET /api/2.0/token/list`: the caller's API-created tokens in its workspace.
pub async fn list_tokens(Auth(caller): Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let rows = state
        .store
        .read(move |conn| {
            authz::require(&caller, &Action::OwnTokens, &[]).map_err(denied)?;
            let filter = TokenFilter { owner_id: Some(caller.id), ..TokenFilter::default() };
            tokens::list_api_tokens(conn, caller.workspace_id, &filter)
        })
        .await?;
    let infos: Vec<PublicTokenInfo> = rows.iter().map(PublicTokenInfo::from).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "token_infos": infos })))
}

#[derive(Deserialize)]
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
    state
        .store
        .write(move |conn| {
            let ok = authz::require(&caller, &Action::OwnTokens, &[]).map_err(denied)?;
            tokens::get_api_token(conn, caller.workspace_id, &token_id, Some(caller.id))?
                .ok_or_else(|| token_not_found(&token_id))?;
            tokens::delete(conn, &ok, &token_id)?;
            Ok(())
        })
        .await?;
    Ok(ok_empty())
}

fn require_manager(caller: &Caller) -> ApiResult<authz::Allowed> {
    authz::require(caller, &Action::ManageWorkspaceTokens, &[]).map_err(denied)
}

#[derive(Deserialize)]
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
        .read(move |conn| {
            require_manager(&caller)?;
            let filter = TokenFilter {
                owner_id: None,
                created_by_id: q.created_by_id,
                created_by_name: q.created_by_username.as_deref().filter(|s| !s.is_empty()),
            };
            tokens::list_api_tokens(conn, caller.workspace_id, &filter)
        })
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
    let row = state
        .store
        .read(move |conn| {
            require_manager(&caller)?;
            tokens::get_api_token(conn, caller.workspace_id, &token_id, None)?.ok_or_else(|| token_not_found(&token_id))
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "token_info": TokenInfo::from(&row) })))
}

/// `DELETE /api/2.0/token-management/tokens/{token_id}`
pub async fn delete_workspace_token(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let token_id = path_param(&req, "token_id")?;
    state
        .store
        .write(move |conn| {
            let ok = require_manager(&caller)?;
            tokens::get_api_token(conn, caller.workspace_id, &token_id, None)?
                .ok_or_else(|| token_not_found(&token_id))?;
            tokens::delete(conn, &ok, &token_id)?;
            Ok(())
        })
        .await?;
    Ok(ok_empty())
}

#[derive(Deserialize)]
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
    expiry(0, body.lifetime_seconds)?;
    let caller: Arc<Caller> = caller;
    let (value, row) = state
        .store
        .write(move |conn| {
            let ok = require_manager(&caller)?;
            let sp = principals::by_name(conn, &application_id)?
                .filter(|p| p.kind == PrincipalKind::ServicePrincipal)
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::ResourceDoesNotExist,
                        format!("Service principal with application id '{application_id}' does not exist."),
                    )
                })?;
            mint(conn, &ok, &caller, sp.id, body.comment.as_deref(), body.lifetime_seconds)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "token_value": value,
        "token_info": TokenInfo::from(&row),
    })))
}
