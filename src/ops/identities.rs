//! Users, groups and service principals: who may change them.

use rusqlite::Connection;

use crate::authz::{self, Action, Allowed, Caller, PrincipalKind};
use crate::error::{ApiError, ApiResult};
use crate::ops::access_control::GROUP_MANAGER;

/// SCIM writes: workspace and account admins (the refusal in SCIM's error shape).
pub fn may_manage(caller: &Caller) -> ApiResult<Allowed> {
    authz::require(caller, &Action::ManageIdentities, &[]).map_err(|_| {
        ApiError::denied("Only workspace admins and account admins may change users, groups and service principals.")
            .scim()
    })
}

/// Which SCIM a route is: the kind of principal, and account (`true`) or workspace SCIM.
#[derive(Clone, Copy)]
pub struct Level {
    pub kind: PrincipalKind,
    pub account: bool,
}

pub fn account_admin_only(caller: &Caller) -> ApiResult<Allowed> {
    authz::require(caller, &Action::ManageAccount, &[])
        .map_err(|_| ApiError::denied(format!("{} is not an account admin.", caller.describe())).scim())
}

/// Whether the caller holds `role` on the resource (through the account rule set too).
pub fn holds_role(conn: &Connection, caller: &Caller, resource: &str, role: &str) -> ApiResult<bool> {
    let held = crate::store::rule_sets::roles_held(conn, caller.id, &["account", resource])?;
    Ok(held.values().flatten().any(|r| r == role))
}

/// The proof for an account SCIM request on one principal: account admins; for a group also its
/// managers when `changes_roles` is false. Decided before the principal is looked up.
pub fn account_proof(
    conn: &Connection,
    caller: &Caller,
    kind: PrincipalKind,
    id: Option<i64>,
    changes_roles: bool,
) -> ApiResult<Allowed> {
    if caller.account_admin || kind != PrincipalKind::Group {
        return account_admin_only(caller);
    }
    let manager = match id {
        Some(id) => holds_role(conn, caller, &format!("groups/{id}"), GROUP_MANAGER)?,
        None => false,
    };
    authz::require(caller, &Action::ManageAccountGroup { manager, changes_roles }, &[]).map_err(|_| {
        let why = if manager {
            "group managers may not change a group's roles"
        } else {
            "it is not an account admin and does not manage this group"
        };
        ApiError::denied(format!("{} may not change this group: {why}.", caller.describe())).scim()
    })
}

/// The proof a SCIM write runs under: workspace SCIM needs a workspace or account admin; account
/// SCIM as [`account_proof`] says.
pub fn write_proof(
    conn: &Connection,
    caller: &Caller,
    level: Level,
    id: Option<i64>,
    changes_roles: bool,
) -> ApiResult<Allowed> {
    if level.account {
        account_proof(conn, caller, level.kind, id, changes_roles)
    } else {
        may_manage(caller)
    }
}
