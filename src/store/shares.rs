//! Shares and the tables they hold (Delta Sharing).

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::value::RawValue;

use crate::authz::{Allowed, Node};
use crate::domain::names::Ident;
use crate::domain::securable::SecurableKind;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::catalogs::raw_json;
use crate::store::on_conflict;
use crate::store::securables::{scan_limit, Page};

#[derive(Debug)]
pub struct ShareRow {
    pub id: String,
    pub metastore_id: String,
    pub name: String,
    pub comment: Option<String>,
    pub owner: String,
    pub storage_root: Option<String>,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

impl ShareRow {
    pub fn node(&self) -> Node {
        Node {
            kind: SecurableKind::Share,
            id: self.id.clone(),
            name: self.name.clone(),
            owner: self.owner.clone(),
            grants: vec![],
        }
    }
}

const COLUMNS: &str =
    "id, metastore_id, name, comment, owner, storage_root, created_at, created_by, updated_at, updated_by";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ShareRow> {
    Ok(ShareRow {
        id: r.get(0)?,
        metastore_id: r.get(1)?,
        name: r.get(2)?,
        comment: r.get(3)?,
        owner: r.get(4)?,
        storage_root: r.get(5)?,
        created_at: r.get(6)?,
        created_by: r.get(7)?,
        updated_at: r.get(8)?,
        updated_by: r.get(9)?,
    })
}

pub fn get(conn: &Connection, metastore_id: &str, name: &Ident) -> ApiResult<Option<ShareRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM shares WHERE metastore_id = ?1 AND name = ?2"))?
        .query_row(params![metastore_id, name.as_str()], row)
        .optional()?)
}

pub fn not_found(name: &str) -> ApiError {
    ApiError::new(ErrorCode::ResourceDoesNotExist, format!("Share '{name}' does not exist."))
}

pub fn require(conn: &Connection, metastore_id: &str, name: &Ident) -> ApiResult<ShareRow> {
    get(conn, metastore_id, name)?.ok_or_else(|| not_found(name.as_str()))
}

pub fn scan(conn: &Connection, metastore_id: &str, after: &str, limit: Option<usize>) -> ApiResult<Page<ShareRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM shares WHERE metastore_id = ?1 AND name > ?2 ORDER BY name LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![metastore_id, after, scan_limit(limit)], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_scan(rows, limit, |s| s.name.clone()))
}

pub struct NewShare {
    pub name: Ident,
    pub comment: Option<String>,
    pub storage_root: Option<String>,
    pub owner: String,
    pub created_by: String,
    pub now: i64,
}

pub fn insert(conn: &Connection, ok: &Allowed, metastore_id: &str, new: &NewShare) -> ApiResult<ShareRow> {
    ok.check("store::shares::insert", |a| matches!(a, crate::authz::Action::CreateShare), Some(metastore_id));
    conn.prepare_cached(
        "INSERT INTO shares (id, metastore_id, name, comment, owner, storage_root, created_at, created_by, updated_at,
                             updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?7, ?8)",
    )?
    .execute(params![
        crate::domain::new_id(),
        metastore_id,
        new.name.as_str(),
        new.comment,
        new.owner,
        new.storage_root,
        new.now,
        new.created_by
    ])
    .map_err(on_conflict(|| {
        ApiError::new(ErrorCode::ResourceAlreadyExists, format!("Share '{}' already exists.", new.name))
    }))?;
    require(conn, metastore_id, &new.name)
}

#[derive(Default)]
pub struct ShareChanges {
    pub new_name: Option<Ident>,
    pub comment: Option<String>,
    pub owner: Option<String>,
    pub storage_root: Option<String>,
}

pub fn update(
    conn: &Connection,
    ok: &Allowed,
    current: &ShareRow,
    c: &ShareChanges,
    by: &str,
    now: i64,
) -> ApiResult<ShareRow> {
    ok.check("store::shares::update", |a| matches!(a, crate::authz::Action::UpdateShare(_)), Some(&current.id));
    let name = c.new_name.as_ref().map(Ident::as_str).unwrap_or(&current.name);
    conn.prepare_cached(
        "UPDATE shares SET name = ?2, comment = COALESCE(?3, comment), owner = COALESCE(?4, owner),
                storage_root = COALESCE(?5, storage_root), updated_at = ?6, updated_by = ?7
         WHERE id = ?1",
    )?
    .execute(params![current.id, name, c.comment, c.owner, c.storage_root, now, by])
    .map_err(on_conflict(|| {
        ApiError::new(ErrorCode::ResourceAlreadyExists, format!("Share '{name}' already exists."))
    }))?;
    require(conn, &current.metastore_id, &Ident::from_stored(name.to_string()))
}

/// Marks the share changed (its objects changed).
pub fn touch(conn: &Connection, ok: &Allowed, id: &str, by: &str, now: i64) -> ApiResult<()> {
    ok.check("store::shares::touch", |a| matches!(a, crate::authz::Action::UpdateShare(_)), Some(id));
    conn.prepare_cached("UPDATE shares SET updated_at = ?2, updated_by = ?3 WHERE id = ?1")?
        .execute(params![id, now, by])?;
    Ok(())
}

pub fn delete(conn: &Connection, ok: &Allowed, id: &str) -> ApiResult<()> {
    ok.check("store::shares::delete", |a| matches!(a, crate::authz::Action::DeleteShare), Some(id));
    conn.prepare_cached("DELETE FROM shares WHERE id = ?1")?.execute([id])?;
    Ok(())
}

/// A table in a share, with the table's current full name.
#[derive(Debug)]
pub struct ObjectRow {
    pub table_id: String,
    pub name: String,
    pub shared_as: String,
    pub comment: Option<String>,
    pub cdf_enabled: Option<bool>,
    pub start_version: Option<i64>,
    pub history_data_sharing_status: Option<String>,
    pub partitions: Option<Box<RawValue>>,
    pub added_at: i64,
    pub added_by: String,
}

pub fn objects(conn: &Connection, share_id: &str) -> ApiResult<Vec<ObjectRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.table_id, c.name || '.' || s.name || '.' || t.name, o.shared_as, o.comment, o.cdf_enabled,
                o.start_version, o.history_data_sharing_status, o.partitions, o.added_at, o.added_by
         FROM share_objects o JOIN tables t ON t.id = o.table_id JOIN schemas s ON s.id = t.schema_id
              JOIN catalogs c ON c.id = s.catalog_id
         WHERE o.share_id = ?1 ORDER BY o.added_at, o.shared_as",
    )?;
    let rows = stmt
        .query_map([share_id], |r| {
            Ok(ObjectRow {
                table_id: r.get(0)?,
                name: r.get(1)?,
                shared_as: r.get(2)?,
                comment: r.get(3)?,
                cdf_enabled: r.get(4)?,
                start_version: r.get(5)?,
                history_data_sharing_status: r.get(6)?,
                partitions: raw_json(r, 7)?,
                added_at: r.get(8)?,
                added_by: r.get(9)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// What a data object carries besides its table.
pub struct ObjectFields {
    pub shared_as: String,
    pub comment: Option<String>,
    pub cdf_enabled: Option<bool>,
    pub start_version: Option<i64>,
    pub history_data_sharing_status: Option<String>,
    pub partitions: Option<String>,
    /// At `ADD`: the table's Delta version then (the default start version); unused by updates.
    pub added_version: Option<i64>,
}

/// A `shared_as` already used in the share → 400 (never 409).
fn duplicate_shared_as(shared_as: &str) -> impl FnOnce() -> ApiError + '_ {
    move || ApiError::invalid("shared_as", format!("'{shared_as}' is already used by another object of this share"))
}

pub fn add_object(
    conn: &Connection,
    ok: &Allowed,
    share_id: &str,
    table_id: &str,
    f: &ObjectFields,
    by: &str,
    now: i64,
) -> ApiResult<()> {
    ok.check("store::shares::add_object", |a| matches!(a, crate::authz::Action::UpdateShare(_)), Some(share_id));
    conn.prepare_cached(
        "INSERT INTO share_objects (share_id, table_id, shared_as, comment, cdf_enabled, start_version,
                                    history_data_sharing_status, partitions, added_at, added_by, added_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        share_id,
        table_id,
        f.shared_as,
        f.comment,
        f.cdf_enabled,
        f.start_version,
        f.history_data_sharing_status,
        f.partitions,
        now,
        by,
        f.added_version
    ])
    .map_err(on_conflict(duplicate_shared_as(&f.shared_as)))?;
    Ok(())
}

pub fn update_object(
    conn: &Connection,
    ok: &Allowed,
    share_id: &str,
    table_id: &str,
    f: &ObjectFields,
) -> ApiResult<()> {
    ok.check("store::shares::update_object", |a| matches!(a, crate::authz::Action::UpdateShare(_)), Some(share_id));
    conn.prepare_cached(
        "UPDATE share_objects SET shared_as = ?3, comment = COALESCE(?4, comment),
                cdf_enabled = COALESCE(?5, cdf_enabled), start_version = COALESCE(?6, start_version),
                history_data_sharing_status = COALESCE(?7, history_data_sharing_status),
                partitions = COALESCE(?8, partitions)
         WHERE share_id = ?1 AND table_id = ?2",
    )?
    .execute(params![
        share_id,
        table_id,
        f.shared_as,
        f.comment,
        f.cdf_enabled,
        f.start_version,
        f.history_data_sharing_status,
        f.partitions
    ])
    .map_err(on_conflict(duplicate_shared_as(&f.shared_as)))?;
    Ok(())
}

pub fn remove_object(conn: &Connection, ok: &Allowed, share_id: &str, table_id: &str) -> ApiResult<()> {
    ok.check("store::shares::remove_object", |a| matches!(a, crate::authz::Action::UpdateShare(_)), Some(share_id));
    conn.prepare_cached("DELETE FROM share_objects WHERE share_id = ?1 AND table_id = ?2")?
        .execute([share_id, table_id])?;
    Ok(())
}

pub fn clear_objects(conn: &Connection, ok: &Allowed, share_id: &str) -> ApiResult<()> {
    ok.check("store::shares::clear_objects", |a| matches!(a, crate::authz::Action::UpdateShare(_)), Some(share_id));
    conn.prepare_cached("DELETE FROM share_objects WHERE share_id = ?1")?.execute([share_id])?;
    Ok(())
}

/// The shares of a metastore that grant `recipient` something: (share name, privileges).
pub fn granted_to(conn: &Connection, metastore_id: &str, recipient: &str) -> ApiResult<Vec<(String, Vec<String>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.name, g.privilege FROM grants g JOIN shares s ON s.id = g.securable_id
         WHERE s.metastore_id = ?1 AND g.principal = ?2 ORDER BY s.name, g.privilege",
    )?;
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut rows = stmt.query(params![metastore_id, recipient])?;
    while let Some(r) = rows.next()? {
        let (share, privilege): (String, String) = (r.get(0)?, r.get(1)?);
        match out.last_mut() {
            Some((s, p)) if *s == share => p.push(privilege),
            _ => out.push((share, vec![privilege])),
        }
    }
    Ok(out)
}
