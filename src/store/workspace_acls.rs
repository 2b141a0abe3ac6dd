//! Access control lists of workspace objects (`/api/2.0/permissions/`): one row per principal
//! and permission level, per workspace and object. Principals are stored by name, as UC grants.

use rusqlite::{params, Connection};

use crate::authz::{AclEntry, Allowed};
use crate::domain::workspace_object::WorkspaceObject;
use crate::error::ApiResult;

/// Whether `object` exists in `workspace_id`. The token and password ACLs always do; a warehouse
/// exists once the warehouse store holds it.
pub fn object_exists(conn: &Connection, workspace_id: i64, object: &WorkspaceObject) -> ApiResult<bool> {
    match object {
        WorkspaceObject::Tokens | WorkspaceObject::Passwords => Ok(true),
        WorkspaceObject::Warehouse(id) => warehouse_exists(conn, workspace_id, id),
    }
}

fn warehouse_exists(conn: &Connection, workspace_id: i64, warehouse_id: &str) -> ApiResult<bool> {
    Ok(crate::store::warehouses::get(conn, workspace_id, warehouse_id)?.is_some())
}

/// Every entry on every object of a kind in a workspace, as (object id, entry): one query for a
/// whole list of objects.
pub fn entries_of_kind(conn: &Connection, workspace_id: i64, object_type: &str) -> ApiResult<Vec<(String, AclEntry)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT object_id, principal, permission_level FROM workspace_acls
         WHERE workspace_id = ?1 AND object_type = ?2 ORDER BY object_id, principal, permission_level",
    )?;
    let rows = stmt
        .query_map(params![workspace_id, object_type], |r| {
            Ok((r.get::<_, String>(0)?, AclEntry { principal: r.get(1)?, level: r.get(2)? }))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The stored entries of an object, ordered by principal, then level.
pub fn entries(conn: &Connection, workspace_id: i64, object: &WorkspaceObject) -> ApiResult<Vec<AclEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT principal, permission_level FROM workspace_acls
         WHERE workspace_id = ?1 AND object_type = ?2 AND object_id = ?3
         ORDER BY principal, permission_level",
    )?;
    let rows = stmt
        .query_map(params![workspace_id, object.kind(), object.id()], |r| {
            Ok(AclEntry { principal: r.get(0)?, level: r.get(1)? })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Replaces the object's whole list with `new`.
pub fn replace(
    conn: &Connection,
    ok: &Allowed,
    workspace_id: i64,
    object: &WorkspaceObject,
    new: &[AclEntry],
) -> ApiResult<()> {
    ok.check(
        "store::workspace_acls::replace",
        |a| matches!(a, crate::authz::Action::ChangeObjectAcl { .. } | crate::authz::Action::ConnectPartner),
        None,
    );
    conn.prepare_cached("DELETE FROM workspace_acls WHERE workspace_id = ?1 AND object_type = ?2 AND object_id = ?3")?
        .execute(params![workspace_id, object.kind(), object.id()])?;
    add(conn, ok, workspace_id, object, new)
}

/// Adds entries to the object's list; entries already present are kept once.
pub fn add(
    conn: &Connection,
    ok: &Allowed,
    workspace_id: i64,
    object: &WorkspaceObject,
    new: &[AclEntry],
) -> ApiResult<()> {
    ok.check(
        "store::workspace_acls::add",
        |a| matches!(a, crate::authz::Action::ChangeObjectAcl { .. } | crate::authz::Action::ConnectPartner),
        None,
    );
    let mut stmt = conn.prepare_cached(
        "INSERT OR IGNORE INTO workspace_acls (workspace_id, object_type, object_id, principal, permission_level)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for e in new {
        stmt.execute(params![workspace_id, object.kind(), object.id(), e.principal, e.level])?;
    }
    Ok(())
}
