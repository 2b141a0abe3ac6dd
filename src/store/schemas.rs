//! Schemas of a catalog. A schema row carries its catalog's identity and owner, so one query
//! yields the whole authorization chain.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::value::RawValue;

use crate::authz::{Allowed, Node};
use crate::domain::names::{Ident, SchemaName};
use crate::domain::securable::SecurableKind;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::catalogs::raw_json;
use crate::store::on_conflict;
use crate::store::securables::{scan_limit, Page};

#[derive(Debug)]
pub struct SchemaRow {
    pub id: String,
    pub name: String,
    pub comment: Option<String>,
    pub owner: String,
    pub properties: Option<Box<RawValue>>,
    pub storage_root: Option<String>,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    pub catalog_id: String,
    pub catalog_name: String,
    pub catalog_owner: String,
    pub catalog_storage_root: Option<String>,
    pub metastore_id: String,
}

impl SchemaRow {
    pub fn full_name(&self) -> String {
        format!("{}.{}", self.catalog_name, self.name)
    }

    pub fn node(&self) -> Node {
        Node {
            kind: SecurableKind::Schema,
            id: self.id.clone(),
            name: self.full_name(),
            owner: self.owner.clone(),
            grants: Vec::new(),
        }
    }

    pub fn catalog_node(&self) -> Node {
        Node {
            kind: SecurableKind::Catalog,
            id: self.catalog_id.clone(),
            name: self.catalog_name.clone(),
            owner: self.catalog_owner.clone(),
            grants: Vec::new(),
        }
    }
}

const SELECT: &str =
    "SELECT s.id, s.name, s.comment, s.owner, s.properties, s.storage_root, s.created_at, s.created_by,
                             s.updated_at, s.updated_by, c.id, c.name, c.owner, c.storage_root, c.metastore_id
                      FROM schemas s JOIN catalogs c ON c.id = s.catalog_id";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SchemaRow> {
    Ok(SchemaRow {
        id: r.get(0)?,
        name: r.get(1)?,
        comment: r.get(2)?,
        owner: r.get(3)?,
        properties: raw_json(r, 4)?,
        storage_root: r.get(5)?,
        created_at: r.get(6)?,
        created_by: r.get(7)?,
        updated_at: r.get(8)?,
        updated_by: r.get(9)?,
        catalog_id: r.get(10)?,
        catalog_name: r.get(11)?,
        catalog_owner: r.get(12)?,
        catalog_storage_root: r.get(13)?,
        metastore_id: r.get(14)?,
    })
}

pub fn get(conn: &Connection, metastore_id: &str, name: &SchemaName) -> ApiResult<Option<SchemaRow>> {
    Ok(conn
        .prepare_cached(&format!("{SELECT} WHERE c.metastore_id = ?1 AND c.name = ?2 AND s.name = ?3"))?
        .query_row(params![metastore_id, name.catalog.as_str(), name.schema.as_str()], row)
        .optional()?)
}

pub fn not_found(name: &SchemaName) -> ApiError {
    ApiError::new(ErrorCode::SchemaDoesNotExist, format!("Schema '{name}' does not exist."))
}

/// Schemas of a catalog in name order after `after`, at most `limit + 1` scanned.
pub fn scan(conn: &Connection, catalog_id: &str, after: &str, limit: Option<usize>) -> ApiResult<Page<SchemaRow>> {
    let mut stmt =
        conn.prepare_cached(&format!("{SELECT} WHERE s.catalog_id = ?1 AND s.name > ?2 ORDER BY s.name LIMIT ?3"))?;
    let rows = stmt.query_map(params![catalog_id, after, scan_limit(limit)], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_scan(rows, limit, |s| s.name.clone()))
}

pub struct NewSchema {
    pub name: Ident,
    pub comment: Option<String>,
    pub properties: Option<String>,
    pub storage_root: Option<String>,
    pub owner: String,
    pub created_by: String,
    pub now: i64,
}

pub fn insert(
    conn: &Connection,
    ok: &Allowed,
    catalog_id: &str,
    catalog_name: &Ident,
    new: &NewSchema,
) -> ApiResult<String> {
    ok.check("store::schemas::insert", |a| matches!(a, crate::authz::Action::CreateSchema), Some(catalog_id));
    insert_row(conn, catalog_id, catalog_name, new)
}

/// The insert itself; `catalogs::insert` uses it for the schemas every new catalog gets, which
/// its createCatalog proof covers.
pub(super) fn insert_row(
    conn: &Connection,
    catalog_id: &str,
    catalog_name: &Ident,
    new: &NewSchema,
) -> ApiResult<String> {
    let id = crate::domain::new_id();
    conn.prepare_cached(
        "INSERT INTO schemas (id, catalog_id, name, comment, owner, properties, storage_root, created_at, created_by,
                              updated_at, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?8, ?9)",
    )?
    .execute(params![
        id,
        catalog_id,
        new.name.as_str(),
        new.comment,
        new.owner,
        new.properties,
        new.storage_root,
        new.now,
        new.created_by
    ])
    .map_err(on_conflict(|| {
        ApiError::new(ErrorCode::SchemaAlreadyExists, format!("Schema '{catalog_name}.{}' already exists.", new.name))
    }))?;
    Ok(id)
}

#[derive(Default)]
pub struct SchemaChanges {
    pub new_name: Option<Ident>,
    pub comment: Option<String>,
    pub owner: Option<String>,
    pub properties: Option<String>,
}

pub fn update(
    conn: &Connection,
    ok: &Allowed,
    current: &SchemaRow,
    changes: &SchemaChanges,
    by: &str,
    now: i64,
) -> ApiResult<()> {
    ok.check("store::schemas::update", |a| matches!(a, crate::authz::Action::UpdateSchema(_)), Some(&current.id));
    let name = changes.new_name.as_ref().map(Ident::as_str).unwrap_or(&current.name);
    conn.prepare_cached(
        "UPDATE schemas SET name = ?2, comment = COALESCE(?3, comment), owner = COALESCE(?4, owner),
                properties = COALESCE(?5, properties), updated_at = ?6, updated_by = ?7
         WHERE id = ?1",
    )?
    .execute(params![current.id, name, changes.comment, changes.owner, changes.properties, now, by])
    .map_err(on_conflict(|| {
        ApiError::new(
            ErrorCode::SchemaAlreadyExists,
            format!("Schema '{}.{name}' already exists.", current.catalog_name),
        )
    }))?;
    Ok(())
}

pub fn has_tables(conn: &Connection, schema_id: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM tables WHERE schema_id = ?1)")?
        .query_row([schema_id], |r| r.get(0))?)
}

pub fn delete(conn: &Connection, ok: &Allowed, id: &str) -> ApiResult<()> {
    ok.check("store::schemas::delete", |a| matches!(a, crate::authz::Action::DeleteSchema), Some(id));
    conn.prepare_cached("DELETE FROM schemas WHERE id = ?1")?.execute([id])?;
    Ok(())
}
