//! Emulated SQL warehouses. They exist only as the SQL endpoint of a
//! Partner Connect connection; nothing else creates them.

use rusqlite::{params, Connection, OptionalExtension};

use crate::authz::Allowed;
use crate::error::ApiResult;

#[derive(Debug, Clone)]
pub struct WarehouseRow {
    pub id: String,
    pub workspace_id: i64,
    pub name: String,
    pub creator_name: String,
    pub created_at: i64,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<WarehouseRow> {
    Ok(WarehouseRow {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        name: r.get(2)?,
        creator_name: r.get(3)?,
        created_at: r.get(4)?,
    })
}

/// A live warehouse of the workspace.
pub fn get(conn: &Connection, workspace_id: i64, id: &str) -> ApiResult<Option<WarehouseRow>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, workspace_id, name, creator_name, created_at FROM warehouses
             WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL",
        )?
        .query_row(params![id, workspace_id], row)
        .optional()?)
}

/// The live warehouses of a workspace, by name.
pub fn list(conn: &Connection, workspace_id: i64) -> ApiResult<Vec<WarehouseRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, workspace_id, name, creator_name, created_at FROM warehouses
         WHERE workspace_id = ?1 AND deleted_at IS NULL ORDER BY name, id",
    )?;
    let rows = stmt.query_map([workspace_id], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Creates a warehouse with a fresh id (16 lowercase hex characters); returns the id.
pub fn insert(
    conn: &Connection,
    ok: &Allowed,
    workspace_id: i64,
    name: &str,
    creator_name: &str,
    now: i64,
) -> ApiResult<String> {
    ok.check("store::warehouses::insert", |a| matches!(a, crate::authz::Action::ConnectPartner), None);
    let id: String = uuid::Uuid::new_v4().simple().to_string()[..16].to_string();
    conn.prepare_cached(
        "INSERT INTO warehouses (id, workspace_id, name, creator_name, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![id, workspace_id, name, creator_name, now])?;
    Ok(id)
}

/// Marks a warehouse deleted; its id answers 404 from then on.
pub fn delete(conn: &Connection, ok: &Allowed, workspace_id: i64, id: &str, now: i64) -> ApiResult<()> {
    ok.check(
        "store::warehouses::delete",
        |a| matches!(a, crate::authz::Action::ConnectPartner | crate::authz::Action::ServerTask),
        None,
    );
    conn.prepare_cached("UPDATE warehouses SET deleted_at = ?3 WHERE id = ?1 AND workspace_id = ?2")?
        .execute(params![id, workspace_id, now])?;
    conn.prepare_cached(
        "DELETE FROM workspace_acls WHERE workspace_id = ?1 AND object_type = 'warehouses' AND object_id = ?2",
    )?
    .execute(params![workspace_id, id])?;
    Ok(())
}
