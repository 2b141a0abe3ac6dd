//! Partner Connect registrations and connections.

use rusqlite::{params, Connection, OptionalExtension};

use crate::authz::Allowed;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::on_conflict;

#[derive(Debug, Clone)]
pub struct PartnerRow {
    pub id: String,
    pub name: String,
    pub name_key: String,
    pub config: String,
    pub basic_user: Option<String>,
    pub basic_password: Option<String>,
    pub options: String,
    pub created_at: i64,
    pub created_by: String,
}

const PARTNER_COLUMNS: &str = "id, name, name_key, config, basic_user, basic_password, options, created_at, created_by";

fn partner(r: &rusqlite::Row<'_>) -> rusqlite::Result<PartnerRow> {
    Ok(PartnerRow {
        id: r.get(0)?,
        name: r.get(1)?,
        name_key: r.get(2)?,
        config: r.get(3)?,
        basic_user: r.get(4)?,
        basic_password: r.get(5)?,
        options: r.get(6)?,
        created_at: r.get(7)?,
        created_by: r.get(8)?,
    })
}

pub fn insert_partner(conn: &Connection, ok: &Allowed, p: &PartnerRow) -> ApiResult<()> {
    ok.check("store::partner_connect::insert_partner", |a| matches!(a, crate::authz::Action::ManagePartners), None);
    conn.prepare_cached(&format!(
        "INSERT INTO pc_partners ({PARTNER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    ))?
    .execute(params![
        p.id,
        p.name,
        p.name_key,
        p.config,
        p.basic_user,
        p.basic_password,
        p.options,
        p.created_at,
        p.created_by
    ])
    .map_err(on_conflict(|| {
        ApiError::new(
            ErrorCode::ResourceAlreadyExists,
            format!("name: a partner named like '{}' ({}) is already registered", p.name, p.name_key),
        )
    }))?;
    Ok(())
}

pub fn partners(conn: &Connection) -> ApiResult<Vec<PartnerRow>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {PARTNER_COLUMNS} FROM pc_partners ORDER BY name, id"))?;
    let rows = stmt.query_map([], partner)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn partner_get(conn: &Connection, id: &str) -> ApiResult<Option<PartnerRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {PARTNER_COLUMNS} FROM pc_partners WHERE id = ?1"))?
        .query_row([id], partner)
        .optional()?)
}

pub fn partner_by_key(conn: &Connection, key: &str) -> ApiResult<Option<PartnerRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {PARTNER_COLUMNS} FROM pc_partners WHERE name_key = ?1"))?
        .query_row([key], partner)
        .optional()?)
}

pub fn delete_partner(conn: &Connection, ok: &Allowed, id: &str) -> ApiResult<()> {
    ok.check("store::partner_connect::delete_partner", |a| matches!(a, crate::authz::Action::ManagePartners), None);
    conn.prepare_cached("DELETE FROM pc_partners WHERE id = ?1")?.execute([id])?;
    Ok(())
}

/// The workspaces holding a connection (pending or active) to a partner.
pub fn connected_workspaces(conn: &Connection, partner_id: &str) -> ApiResult<Vec<i64>> {
    let mut stmt =
        conn.prepare_cached("SELECT workspace_id FROM pc_connections WHERE partner_id = ?1 ORDER BY workspace_id")?;
    let rows = stmt.query_map([partner_id], |r| r.get(0))?.collect::<Result<Vec<i64>, _>>()?;
    Ok(rows)
}

#[derive(Debug, Clone)]
pub struct ConnectionRow {
    pub id: String,
    pub partner_id: String,
    pub workspace_id: i64,
    pub pending: bool,
    pub record: String,
}

fn connection(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConnectionRow> {
    let state: String = r.get(3)?;
    Ok(ConnectionRow {
        id: r.get(0)?,
        partner_id: r.get(1)?,
        workspace_id: r.get(2)?,
        pending: state == "pending",
        record: r.get(4)?,
    })
}

const CONNECTION_COLUMNS: &str = "id, partner_id, workspace_id, state, record";

/// Records a pending connection; a connection (pending or active) for the same partner and
/// workspace → 409.
pub fn insert_pending(conn: &Connection, ok: &Allowed, c: &ConnectionRow, now: i64) -> ApiResult<()> {
    ok.check("store::partner_connect::insert_pending", |a| matches!(a, crate::authz::Action::ConnectPartner), None);
    conn.prepare_cached(
        "INSERT INTO pc_connections (id, partner_id, workspace_id, state, record, created_at)
         VALUES (?1, ?2, ?3, 'pending', ?4, ?5)",
    )?
    .execute(params![c.id, c.partner_id, c.workspace_id, c.record, now])
    .map_err(on_conflict(|| {
        ApiError::new(
            ErrorCode::ResourceAlreadyExists,
            "A connection to this partner is being created in this workspace.",
        )
    }))?;
    Ok(())
}

pub fn activate(conn: &Connection, ok: &Allowed, id: &str, record: &str) -> ApiResult<()> {
    ok.check("store::partner_connect::activate", |a| matches!(a, crate::authz::Action::ConnectPartner), None);
    conn.prepare_cached("UPDATE pc_connections SET state = 'active', record = ?2 WHERE id = ?1")?
        .execute([id, record])?;
    Ok(())
}

pub fn delete_connection(conn: &Connection, ok: &Allowed, id: &str) -> ApiResult<()> {
    ok.check(
        "store::partner_connect::delete_connection",
        |a| matches!(a, crate::authz::Action::ConnectPartner | crate::authz::Action::ServerTask),
        None,
    );
    conn.prepare_cached("DELETE FROM pc_connections WHERE id = ?1")?.execute([id])?;
    Ok(())
}

pub fn connection_get(conn: &Connection, id: &str) -> ApiResult<Option<ConnectionRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {CONNECTION_COLUMNS} FROM pc_connections WHERE id = ?1"))?
        .query_row([id], connection)
        .optional()?)
}

pub fn connection_for(conn: &Connection, partner_id: &str, workspace_id: i64) -> ApiResult<Option<ConnectionRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {CONNECTION_COLUMNS} FROM pc_connections WHERE partner_id = ?1 AND workspace_id = ?2"
        ))?
        .query_row(params![partner_id, workspace_id], connection)
        .optional()?)
}

/// The active connections of a workspace, oldest first.
pub fn active_in(conn: &Connection, workspace_id: i64) -> ApiResult<Vec<ConnectionRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CONNECTION_COLUMNS} FROM pc_connections WHERE workspace_id = ?1 AND state = 'active' ORDER BY created_at, id"
    ))?;
    let rows = stmt.query_map([workspace_id], connection)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Every pending connection (crash recovery).
pub fn pending(conn: &Connection) -> ApiResult<Vec<ConnectionRow>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {CONNECTION_COLUMNS} FROM pc_connections WHERE state = 'pending'"))?;
    let rows = stmt.query_map([], connection)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
