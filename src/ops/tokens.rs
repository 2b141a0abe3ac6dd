//! Personal access tokens and token management: minting, listing and deleting tokens, each
//! authorized in its transaction.

use rusqlite::Connection;

use super::denied;
use crate::authz::{self, Action, Caller, PrincipalKind};
use crate::domain::now_ms;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::principals;
use crate::store::tokens::{self, NewToken, TokenFilter, TokenRow};

/// A new token value: `dapi` and 32 lowercase hexadecimal characters.
fn new_token_value() -> ApiResult<String> {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(format!("dapi{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>()))
}

/// `expiry_time` for a `lifetime_seconds`: absent (or 0, proto's default) → `-1`, never.
pub fn expiry(creation_time: i64, lifetime_seconds: Option<i64>) -> ApiResult<i64> {
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
    conn: &Connection,
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

fn require_manager(caller: &Caller) -> ApiResult<authz::Allowed> {
    authz::require(caller, &Action::ManageWorkspaceTokens, &[]).map_err(denied)
}

/// token/create: a token for the caller, in the caller's workspace.
pub fn create(
    tx: &Connection,
    caller: &Caller,
    comment: Option<&str>,
    lifetime_seconds: Option<i64>,
) -> ApiResult<(String, TokenRow)> {
    // Creating a token needs CAN_USE (or CAN_MANAGE) on the workspace's token ACL.
    let acl = crate::store::workspace_acls::entries(
        tx,
        caller.workspace_id,
        &crate::domain::workspace_object::WorkspaceObject::Tokens,
    )?;
    let can_use = acl.iter().any(|e| caller.is(&e.principal));
    let ok = authz::require(caller, &Action::CreateToken { can_use }, &[]).map_err(|_| {
        ApiError::denied(format!(
            "{} has no CAN_USE permission on authorization/tokens in workspace {}.",
            caller.name, caller.workspace_id
        ))
    })?;
    mint(tx, &ok, caller, caller.id, comment, lifetime_seconds)
}

/// token/list: the caller's API-created tokens in its workspace.
pub fn list_own(conn: &Connection, caller: &Caller) -> ApiResult<Vec<TokenRow>> {
    authz::require(caller, &Action::OwnTokens, &[]).map_err(denied)?;
    let filter = TokenFilter { owner_id: Some(caller.id), ..TokenFilter::default() };
    tokens::list_api_tokens(conn, caller.workspace_id, &filter)
}

/// token/delete: one of the caller's tokens (another principal's is a 404).
pub fn delete_own(tx: &Connection, caller: &Caller, token_id: &str) -> ApiResult<()> {
    let ok = authz::require(caller, &Action::OwnTokens, &[]).map_err(denied)?;
    tokens::get_api_token(tx, caller.workspace_id, token_id, Some(caller.id))?
        .ok_or_else(|| token_not_found(token_id))?;
    tokens::delete(tx, &ok, token_id)?;
    Ok(())
}

/// token-management list: every API-created token of the workspace, optionally by creator.
pub fn list_workspace(
    conn: &Connection,
    caller: &Caller,
    created_by_id: Option<i64>,
    created_by_name: Option<&str>,
) -> ApiResult<Vec<TokenRow>> {
    require_manager(caller)?;
    let filter =
        TokenFilter { owner_id: None, created_by_id, created_by_name: created_by_name.filter(|s| !s.is_empty()) };
    tokens::list_api_tokens(conn, caller.workspace_id, &filter)
}

/// token-management get.
pub fn get_workspace(conn: &Connection, caller: &Caller, token_id: &str) -> ApiResult<TokenRow> {
    require_manager(caller)?;
    tokens::get_api_token(conn, caller.workspace_id, token_id, None)?.ok_or_else(|| token_not_found(token_id))
}

/// token-management delete.
pub fn delete_workspace(tx: &Connection, caller: &Caller, token_id: &str) -> ApiResult<()> {
    let ok = require_manager(caller)?;
    tokens::get_api_token(tx, caller.workspace_id, token_id, None)?.ok_or_else(|| token_not_found(token_id))?;
    tokens::delete(tx, &ok, token_id)?;
    Ok(())
}

/// on-behalf-of tokens: a token for a service principal of the account, in the caller's
/// workspace.
pub fn create_on_behalf_of(
    tx: &Connection,
    caller: &Caller,
    application_id: &str,
    comment: Option<&str>,
    lifetime_seconds: Option<i64>,
) -> ApiResult<(String, TokenRow)> {
    let ok = require_manager(caller)?;
    let sp = principals::by_name(tx, application_id)?
        .filter(|p| p.kind == PrincipalKind::ServicePrincipal)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::ResourceDoesNotExist,
                format!("Service principal with application id '{application_id}' does not exist."),
            )
        })?;
    mint(tx, &ok, caller, sp.id, comment, lifetime_seconds)
}
