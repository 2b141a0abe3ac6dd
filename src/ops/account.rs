//! Account operations: workspaces and workspace assignments (account admins only), and the
//! permission-migration check. Each validates, authorizes and writes in the caller's one
//! transaction.

use rusqlite::Connection;

use crate::authz::{self, Action, Allowed, Caller};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::account::{self, WorkspacePermission, WorkspaceRow};
use crate::store::principals::{self, PrincipalRow};

/// Account admins only; the message names the caller.
pub fn require_account_admin(caller: &Caller) -> ApiResult<Allowed> {
    authz::require(caller, &Action::ManageAccount, &[])
        .map_err(|_| ApiError::denied(format!("{} is not an account admin.", caller.describe())))
}

/// A workspace of the account, or 404.
pub fn load_workspace(conn: &Connection, workspace_id: i64) -> ApiResult<WorkspaceRow> {
    account::workspaces(conn)?.into_iter().find(|w| w.workspace_id == workspace_id).ok_or_else(|| {
        ApiError::new(ErrorCode::ResourceDoesNotExist, format!("Workspace {workspace_id} does not exist."))
    })
}

/// Every workspace (account admins).
pub fn list_workspaces(conn: &Connection, caller: &Caller) -> ApiResult<Vec<WorkspaceRow>> {
    require_account_admin(caller)?;
    account::workspaces(conn)
}

/// One workspace (account admins).
pub fn get_workspace(conn: &Connection, caller: &Caller, workspace_id: i64) -> ApiResult<WorkspaceRow> {
    require_account_admin(caller)?;
    load_workspace(conn, workspace_id)
}

/// The direct assignments of a workspace.
pub fn list_assignments(
    conn: &Connection,
    caller: &Caller,
    workspace_id: i64,
) -> ApiResult<Vec<(PrincipalRow, WorkspacePermission)>> {
    require_account_admin(caller)?;
    load_workspace(conn, workspace_id)?;
    account::assignments(conn, workspace_id)
}

/// The workspace's permission levels (account admins; the workspace must exist).
pub fn check_workspace(conn: &Connection, caller: &Caller, workspace_id: i64) -> ApiResult<()> {
    require_account_admin(caller)?;
    load_workspace(conn, workspace_id).map(|_| ())
}

fn load_principal(conn: &Connection, principal_id: i64) -> ApiResult<PrincipalRow> {
    principals::by_id(conn, principal_id)?
        .ok_or_else(|| ApiError::new(ErrorCode::ResourceDoesNotExist, "Principal not found in account."))
}

/// Creates or replaces an assignment; `None` deletes it. Returns the principal and what it now
/// holds directly.
pub fn update_assignment(
    tx: &Connection,
    caller: &Caller,
    workspace_id: i64,
    principal_id: i64,
    permission: Option<WorkspacePermission>,
) -> ApiResult<(PrincipalRow, Option<WorkspacePermission>)> {
    let ok = require_account_admin(caller)?;
    load_workspace(tx, workspace_id)?;
    let p = load_principal(tx, principal_id)?;
    match permission {
        Some(perm) => account::assign(tx, &ok, workspace_id, p.id, perm)?,
        None => {
            account::unassign(tx, &ok, workspace_id, p.id)?;
        }
    }
    Ok((p, permission))
}

/// Deletes an assignment; 404 when the principal has none in the workspace.
pub fn delete_assignment(tx: &Connection, caller: &Caller, workspace_id: i64, principal_id: i64) -> ApiResult<()> {
    let ok = require_account_admin(caller)?;
    load_workspace(tx, workspace_id)?;
    let p = load_principal(tx, principal_id)?;
    if account::unassign(tx, &ok, workspace_id, p.id)? {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::ResourceDoesNotExist,
            format!("Principal {principal_id} has no assignment in workspace {workspace_id}."),
        ))
    }
}

/// `POST /api/2.0/permissionmigration`, after the body is parsed: workspace admins of the acting
/// workspace; the request is checked, then refused with the reason (every group here is an
/// account group, so there is nothing workspace-local to migrate).
pub fn migrate_permissions(
    conn: &Connection,
    caller: &Caller,
    workspace_id: i64,
    from_group: &str,
    to_group: &str,
    size: Option<i64>,
) -> ApiResult<()> {
    authz::require(caller, &Action::MigratePermissions, &[]).map_err(|_| {
        ApiError::denied(format!(
            "{} is not a workspace admin of workspace {}.",
            caller.describe(),
            caller.workspace_id
        ))
    })?;
    if workspace_id != caller.workspace_id {
        return Err(ApiError::invalid(
            "workspace_id",
            format!("must be the workspace the request acts in ({})", caller.workspace_id),
        ));
    }
    if size.is_some_and(|s| s <= 0) {
        return Err(ApiError::invalid("size", "must be a positive integer"));
    }
    match principals::by_name(conn, to_group)? {
        Some(g) if g.kind == crate::authz::PrincipalKind::Group => {}
        _ => {
            return Err(ApiError::new(
                ErrorCode::ResourceDoesNotExist,
                format!("to_account_group_name: there is no account group '{to_group}'."),
            ))
        }
    }
    Err(ApiError::invalid(
        "from_workspace_group_name",
        format!(
            "there is no workspace-local group '{from_group}' in workspace {workspace_id}; every group of this \
             emulator is an account group, so there are no workspace-local permissions to migrate."
        ),
    ))
}
