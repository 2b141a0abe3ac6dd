//! The Permissions API's operations: reading direct and effective grants, and changing them
//! (PATCH with `changes`, PUT replacing every direct grant), each resolved and authorized in one
//! transaction.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Serialize;

use super::denied;
use crate::authz::{self, Action, Caller, ACCOUNT_USERS};
use crate::domain::privilege;
use crate::domain::securable::{SecurableKind, SecurableName};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::catalogs::INFORMATION_SCHEMA;
use crate::store::securables::{self, Located};
use crate::store::{grants, principals, recipients};

const READ_DENIED: &str = "Only admin users or the owner of the securable can read other users' permissions.";
const CHANGE_DENIED: &str = "Only admin users or the owner of the securable can grant or revoke permissions.";

/// Resolves the securable and the caller's grants on its chain.
fn locate(conn: &Connection, caller: &Caller, metastore_id: &str, name: &SecurableName) -> ApiResult<Located> {
    let mut located = securables::locate(conn, metastore_id, name)?;
    securables::attach_grants(conn, &mut located.nodes_mut(), &caller.principals_json)?;
    Ok(located)
}

fn require_read(caller: &Caller, located: &Located, principal: Option<&str>) -> ApiResult<()> {
    let action = match located.kind {
        SecurableKind::Share => Action::ReadSharePermissions,
        _ => Action::ReadPermissions { principal_filter: principal.map(str::to_string) },
    };
    authz::require(caller, &action, &located.refs())
        .map(|_| ())
        .map_err(|_| ApiError::new(ErrorCode::Unauthorized, READ_DENIED))
}

#[derive(Serialize, Clone, utoipa::ToSchema)]
pub struct PrivilegeAssignment {
    pub principal: String,
    pub privileges: Vec<String>,
}

/// Direct grants grouped by principal, both sorted.
fn assignments(conn: &Connection, securable_id: &str, principal: Option<&str>) -> ApiResult<Vec<PrivilegeAssignment>> {
    let mut by_principal: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (p, privilege) in grants::on(conn, securable_id)? {
        if principal.is_none_or(|want| want == p) {
            by_principal.entry(p).or_default().push(privilege);
        }
    }
    Ok(by_principal.into_iter().map(|(principal, privileges)| PrivilegeAssignment { principal, privileges }).collect())
}

#[derive(Serialize, Clone, utoipa::ToSchema)]
pub struct EffectivePrivilege {
    privilege: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    inherited_from_type: Option<SecurableKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inherited_from_name: Option<String>,
}

#[derive(Serialize, Clone, utoipa::ToSchema)]
#[schema(as = EffectivePrivilegeAssignment)]
pub struct EffectiveAssignment {
    pub principal: String,
    privileges: Vec<EffectivePrivilege>,
}

/// Grants on the securable and those inherited from its parents.
fn effective(conn: &Connection, located: &Located, principal: Option<&str>) -> ApiResult<Vec<EffectiveAssignment>> {
    let mut by_principal: BTreeMap<String, Vec<EffectivePrivilege>> = BTreeMap::new();
    for (i, p, granted) in securables::all_grants(conn, &located.chain)? {
        if principal.is_some_and(|want| want != p) {
            continue;
        }
        let from = &located.chain[i];
        let privilege = if i == 0 {
            EffectivePrivilege { privilege: granted, inherited_from_type: None, inherited_from_name: None }
        } else if granted == "ALL_PRIVILEGES" || privilege::is_valid_on(&granted, located.kind) {
            EffectivePrivilege {
                privilege: granted,
                inherited_from_type: Some(from.kind),
                inherited_from_name: Some(from.name.clone()),
            }
        } else {
            continue;
        };
        by_principal.entry(p).or_default().push(privilege);
    }
    Ok(by_principal
        .into_iter()
        .map(|(principal, mut privileges)| {
            privileges
                .sort_by(|a, b| a.privilege.cmp(&b.privilege).then(a.inherited_from_name.cmp(&b.inherited_from_name)));
            EffectiveAssignment { principal, privileges }
        })
        .collect())
}

/// A validated change: canonical privilege names.
pub struct Change {
    pub principal: String,
    pub add: Vec<&'static str>,
    pub remove: Vec<&'static str>,
}

pub fn normalize_all(field: &str, names: &[String]) -> ApiResult<Vec<&'static str>> {
    names
        .iter()
        .enumerate()
        .map(|(j, n)| {
            privilege::normalize(n)
                .ok_or_else(|| ApiError::invalid(&format!("{field}[{j}]"), format!("unknown privilege {n:?}")))
        })
        .collect()
}

/// The last steps of a permissions change: validity on the actual type, principals exist (recipients of
/// the metastore for shares), and a share's new grantees are recipients the caller owns.
fn validate(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    located: &Located,
    changes: &[Change],
) -> ApiResult<()> {
    if located.kind == SecurableKind::Schema && located.full_name().ends_with(&format!(".{INFORMATION_SCHEMA}")) {
        return Err(ApiError::invalid(
            "full_name",
            "information_schema is a read-only system schema; it takes no grants",
        ));
    }
    for c in changes {
        for p in c.add.iter().chain(&c.remove) {
            if !privilege::is_valid_on(p, located.kind) {
                return Err(ApiError::invalid(
                    "changes",
                    format!("privilege {p} is not valid on a {}", located.kind.noun().to_lowercase()),
                ));
            }
        }
    }
    if located.kind == SecurableKind::Share {
        for c in changes {
            let Some(recipient) = recipients::get(conn, metastore_id, &c.principal)? else {
                return Err(ApiError::new(
                    ErrorCode::PrincipalDoesNotExist,
                    format!("Could not find recipient with name {}", c.principal),
                ));
            };
            if !c.add.is_empty() {
                // Granting a share to a recipient needs ownership of the recipient.
                let node = securables::with_grants(conn, recipient.node(), &caller.principals_json)?;
                authz::require(caller, &Action::GrantToRecipient, &[&node]).map_err(denied)?;
            }
        }
        return Ok(());
    }
    for c in changes {
        if c.principal != ACCOUNT_USERS {
            principals::require_exists(conn, &c.principal)?;
        }
    }
    Ok(())
}

/// Step 7: per change, first `remove` (revoking ALL_PRIVILEGES takes what it covered), then `add`.
fn apply(conn: &Connection, ok: &authz::Allowed, located: &Located, changes: &[Change]) -> ApiResult<()> {
    for c in changes {
        for p in &c.remove {
            grants::remove(conn, ok, located.id(), &c.principal, p)?;
            if *p == "ALL_PRIVILEGES" {
                for covered in privilege::covered_by_all(located.kind) {
                    grants::remove(conn, ok, located.id(), &c.principal, covered)?;
                }
            }
        }
        for p in &c.add {
            grants::add(conn, ok, located.id(), &c.principal, p)?;
        }
    }
    Ok(())
}

fn require_change(caller: &Caller, located: &Located) -> ApiResult<authz::Allowed> {
    let action = match located.kind {
        SecurableKind::Share => Action::ChangeSharePermissions,
        _ => Action::ChangePermissions,
    };
    authz::require(caller, &action, &located.refs()).map_err(|_| ApiError::new(ErrorCode::Unauthorized, CHANGE_DENIED))
}

/// getPermissions (and its paged and share forms): the direct grants, of one principal when
/// `principal` is given.
pub fn direct(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &SecurableName,
    principal: Option<&str>,
) -> ApiResult<Vec<PrivilegeAssignment>> {
    let located = locate(conn, caller, metastore_id, name)?;
    require_read(caller, &located, principal)?;
    assignments(conn, located.id(), principal)
}

/// getEffectivePermissions (and its paged form): the grants on the securable and those
/// inherited from its parents.
pub fn effective_of(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &SecurableName,
    principal: Option<&str>,
) -> ApiResult<Vec<EffectiveAssignment>> {
    let located = locate(conn, caller, metastore_id, name)?;
    require_read(caller, &located, principal)?;
    effective(conn, &located, principal)
}

/// updatePermissions (PATCH): per change, `remove` then `add`; returns the direct grants after.
pub fn update(
    tx: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &SecurableName,
    changes: &[Change],
) -> ApiResult<Vec<PrivilegeAssignment>> {
    let located = locate(tx, caller, metastore_id, name)?;
    let ok = require_change(caller, &located)?;
    validate(tx, caller, metastore_id, &located, changes)?;
    apply(tx, &ok, &located, changes)?;
    assignments(tx, located.id(), None)
}

/// The nameless PUT: replaces every direct grant. Only recipients that gain a privilege need
/// the ownership check.
pub fn replace(
    tx: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &SecurableName,
    changes: &[Change],
) -> ApiResult<()> {
    let located = locate(tx, caller, metastore_id, name)?;
    let ok = require_change(caller, &located)?;
    let held = assignments(tx, located.id(), None)?;
    let gaining: Vec<Change> = changes
        .iter()
        .map(|c| {
            let before: Vec<&str> = held
                .iter()
                .filter(|a| a.principal == c.principal)
                .flat_map(|a| a.privileges.iter().map(String::as_str))
                .collect();
            Change {
                principal: c.principal.clone(),
                add: c.add.iter().copied().filter(|p| !before.contains(p)).collect(),
                remove: Vec::new(),
            }
        })
        .collect();
    validate(tx, caller, metastore_id, &located, &gaining)?;
    grants::clear(tx, &ok, located.id())?;
    apply(tx, &ok, &located, changes)
}
