//! Workspace object access control lists (tokens, passwords, SQL warehouses): the validated
//! request, and reading and changing a list, resolved and authorized in one transaction.

use std::collections::HashMap;

use rusqlite::Connection;
use serde::Deserialize;

use super::denied;
use crate::authz::{self, AclEntry, Action, Caller, PrincipalKind, ACCOUNT_USERS};
use crate::domain::workspace_object::{WorkspaceObject, OWNER_LEVEL};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::principals::{self, PrincipalRow};
use crate::store::workspace_acls;

fn object_not_found(object: &WorkspaceObject) -> ApiError {
    ApiError::new(ErrorCode::ResourceDoesNotExist, format!("{} does not exist.", capitalize(&object.describe())))
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// 404 unless the object exists in the caller's workspace.
pub fn require_object(conn: &Connection, caller: &Caller, object: &WorkspaceObject) -> ApiResult<()> {
    if workspace_acls::object_exists(conn, caller.workspace_id, object)? {
        Ok(())
    } else {
        Err(object_not_found(object))
    }
}

/// `AccessControlRequest`
#[derive(Deserialize, utoipa::ToSchema)]
pub struct AccessControlRequest {
    user_name: Option<String>,
    group_name: Option<String>,
    service_principal_name: Option<String>,
    permission_level: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PermissionsRequest {
    access_control_list: Option<Vec<AccessControlRequest>>,
}

/// The principal key an entry names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    User,
    Group,
    ServicePrincipal,
}

impl Key {
    fn field(self) -> &'static str {
        match self {
            Key::User => "user_name",
            Key::Group => "group_name",
            Key::ServicePrincipal => "service_principal_name",
        }
    }

    fn kind(self) -> PrincipalKind {
        match self {
            Key::User => PrincipalKind::User,
            Key::Group => PrincipalKind::Group,
            Key::ServicePrincipal => PrincipalKind::ServicePrincipal,
        }
    }
}

/// One validated request entry (its principal not yet looked up).
pub struct Requested {
    index: usize,
    key: Key,
    name: String,
    level: &'static str,
}

impl Requested {
    fn field(&self) -> String {
        format!("access_control_list[{}].{}", self.index, self.key.field())
    }

    fn entry(&self) -> AclEntry {
        AclEntry { principal: self.name.clone(), level: self.level.to_string() }
    }
}

/// Shape checks that need no lookup: exactly one principal key, a level valid for the object.
pub fn validate(object: &WorkspaceObject, body: PermissionsRequest) -> ApiResult<Vec<Requested>> {
    let mut out = Vec::new();
    for (index, e) in body.access_control_list.unwrap_or_default().into_iter().enumerate() {
        let field = format!("access_control_list[{index}]");
        let keys: Vec<(Key, String)> =
            [(Key::User, e.user_name), (Key::Group, e.group_name), (Key::ServicePrincipal, e.service_principal_name)]
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .collect();
        let (key, name) = match keys.len() {
            1 => keys.into_iter().next().expect("one key"),
            _ => {
                return Err(ApiError::invalid(
                    &field,
                    "exactly one of user_name, group_name and service_principal_name is required",
                ))
            }
        };
        if name.is_empty() {
            return Err(ApiError::invalid(&format!("{field}.{}", key.field()), "must not be empty"));
        }
        let level_field = format!("{field}.permission_level");
        let raw = e.permission_level.ok_or_else(|| ApiError::invalid(&level_field, "is required"))?;
        let level = object.level(&raw).ok_or_else(|| {
            ApiError::invalid(
                &level_field,
                format!(
                    "{raw:?} is not a permission level of {}; valid levels: {}",
                    object.describe(),
                    object.level_names().join(", ")
                ),
            )
        })?;
        if level == OWNER_LEVEL && key == Key::Group {
            return Err(ApiError::invalid(&level_field, "IS_OWNER can be held by a user or service principal only"));
        }
        out.push(Requested { index, key, name, level });
    }
    let owners: Vec<&Requested> = out.iter().filter(|r| r.level == OWNER_LEVEL).collect();
    if let Some(second) = owners.iter().find(|r| r.name != owners[0].name) {
        return Err(ApiError::invalid(
            &format!("access_control_list[{}].permission_level", second.index),
            "an object has exactly one owner (IS_OWNER)",
        ));
    }
    Ok(out)
}

/// Every requested principal must exist and be of the kind its key says (400 naming the field).
fn check_principals(conn: &Connection, requested: &[Requested]) -> ApiResult<()> {
    let names: Vec<&str> = requested.iter().map(|r| r.name.as_str()).collect();
    let found = principals::by_names(conn, &names)?;
    for r in requested {
        if r.key == Key::Group && r.name == ACCOUNT_USERS {
            continue;
        }
        match found.get(&r.name) {
            None => return Err(ApiError::invalid(&r.field(), format!("principal {:?} does not exist", r.name))),
            Some(p) if p.kind != r.key.kind() => {
                return Err(ApiError::invalid(
                    &r.field(),
                    format!(
                        "{:?} is a {}, not a {}",
                        r.name,
                        p.kind.noun().to_lowercase(),
                        r.key.kind().noun().to_lowercase()
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn dedup(mut entries: Vec<AclEntry>) -> Vec<AclEntry> {
    entries.sort_by(|a, b| (&a.principal, &a.level).cmp(&(&b.principal, &b.level)));
    entries.dedup();
    entries
}

/// The list after a PUT: exactly the request; a warehouse keeps its owner unless a new one is
/// named.
fn replaced(current: &[AclEntry], requested: &[Requested]) -> Vec<AclEntry> {
    let mut new: Vec<AclEntry> = requested.iter().map(Requested::entry).collect();
    if !new.iter().any(|e| e.level == OWNER_LEVEL) {
        new.extend(current.iter().filter(|e| e.level == OWNER_LEVEL).cloned());
    }
    dedup(new)
}

/// The list after a PATCH: the current entries plus the request; a new owner leaves the
/// previous one `CAN_MANAGE` (as Partner Connect sets it).
fn extended(current: &[AclEntry], requested: &[Requested]) -> Vec<AclEntry> {
    let new_owner = requested.iter().find(|r| r.level == OWNER_LEVEL).map(|r| r.name.clone());
    let mut new: Vec<AclEntry> = Vec::new();
    for e in current {
        match &new_owner {
            Some(o) if e.level == OWNER_LEVEL && &e.principal != o => {
                new.push(AclEntry { principal: e.principal.clone(), level: "CAN_MANAGE".to_string() })
            }
            _ => new.push(e.clone()),
        }
    }
    new.extend(requested.iter().map(Requested::entry));
    dedup(new)
}

/// An object's list as stored, with the principals it names (by name; entries of principals
/// deleted since have none).
pub struct ObjectAcl {
    pub entries: Vec<AclEntry>,
    pub principals: HashMap<String, PrincipalRow>,
}

/// The group whose members are workspace admins; they always hold `CAN_MANAGE`.
pub const ADMINS: &str = "admins";

fn with_principals(conn: &Connection, entries: Vec<AclEntry>) -> ApiResult<ObjectAcl> {
    // The entries' principals in one query, never one per entry.
    let names: Vec<&str> =
        entries.iter().map(|e| e.principal.as_str()).chain([ADMINS]).filter(|n| *n != ACCOUNT_USERS).collect();
    let found = principals::by_names(conn, &names)?;
    Ok(ObjectAcl { entries, principals: found })
}

/// getPermissions of a workspace object: those who may see the object's list.
pub fn get(conn: &Connection, caller: &Caller, object: &WorkspaceObject) -> ApiResult<ObjectAcl> {
    require_object(conn, caller, object)?;
    let acl = workspace_acls::entries(conn, caller.workspace_id, object)?;
    authz::require(caller, &Action::ReadObjectAcl { acl: acl.clone() }, &[]).map_err(denied)?;
    with_principals(conn, acl)
}

/// setPermissions (`replace`) or updatePermissions: those who may manage the object; every
/// requested principal must exist with the kind its key says.
pub fn change(
    tx: &Connection,
    caller: &Caller,
    object: &WorkspaceObject,
    requested: &[Requested],
    replace: bool,
) -> ApiResult<ObjectAcl> {
    require_object(tx, caller, object)?;
    let current = workspace_acls::entries(tx, caller.workspace_id, object)?;
    let ok = authz::require(caller, &Action::ChangeObjectAcl { acl: current.clone() }, &[]).map_err(denied)?;
    check_principals(tx, requested)?;
    let new = if replace { replaced(&current, requested) } else { extended(&current, requested) };
    workspace_acls::replace(tx, &ok, caller.workspace_id, object, &new)?;
    with_principals(tx, new)
}
