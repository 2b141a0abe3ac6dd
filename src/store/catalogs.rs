//! Catalogs of a metastore.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::value::RawValue;

use crate::authz::{Allowed, Node};
use crate::domain::names::Ident;
use crate::domain::securable::SecurableKind;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::securables::{scan_limit, Page};
use crate::store::{on_conflict, schemas};

/// The read-only schema every catalog has.
pub const INFORMATION_SCHEMA: &str = "information_schema";
/// Owner of `information_schema`.
pub const SYSTEM_USER: &str = "System user";

#[derive(Debug)]
pub struct CatalogRow {
    pub id: String,
    pub metastore_id: String,
    pub name: String,
    pub comment: Option<String>,
    pub owner: String,
    pub properties: Option<Box<RawValue>>,
    pub storage_root: Option<String>,
    pub provider_name: Option<String>,
    pub share_name: Option<String>,
    pub isolation_mode: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

impl CatalogRow {
    pub fn node(&self) -> Node {
        Node {
            kind: SecurableKind::Catalog,
            id: self.id.clone(),
            name: self.name.clone(),
            owner: self.owner.clone(),
            grants: Vec::new(),
        }
    }
}

const COLUMNS: &str = "id, metastore_id, name, comment, owner, properties, storage_root, provider_name, share_name,
                       isolation_mode, created_at, created_by, updated_at, updated_by";

pub(crate) fn raw_json(r: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<Option<Box<RawValue>>> {
    let text: Option<String> = r.get(idx)?;
    Ok(text.and_then(|t| RawValue::from_string(t).ok()))
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CatalogRow> {
    Ok(CatalogRow {
        id: r.get(0)?,
        metastore_id: r.get(1)?,
        name: r.get(2)?,
        comment: r.get(3)?,
        owner: r.get(4)?,
        properties: raw_json(r, 5)?,
        storage_root: r.get(6)?,
        provider_name: r.get(7)?,
        share_name: r.get(8)?,
        isolation_mode: r.get(9)?,
        created_at: r.get(10)?,
        created_by: r.get(11)?,
        updated_at: r.get(12)?,
        updated_by: r.get(13)?,
    })
}

pub fn get(conn: &Connection, metastore_id: &str, name: &Ident) -> ApiResult<Option<CatalogRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM catalogs WHERE metastore_id = ?1 AND name = ?2"))?
        .query_row(params![metastore_id, name.as_str()], row)
        .optional()?)
}

/// The catalog, or 404 `CATALOG_DOES_NOT_EXIST`.
pub fn require(conn: &Connection, metastore_id: &str, name: &Ident) -> ApiResult<CatalogRow> {
    get(conn, metastore_id, name)?.ok_or_else(|| not_found(name))
}

pub fn not_found(name: &Ident) -> ApiError {
    ApiError::new(ErrorCode::CatalogDoesNotExist, format!("Catalog '{name}' does not exist."))
}

/// Catalogs in name order after `after`, at most `limit + 1` scanned.
pub fn scan(conn: &Connection, metastore_id: &str, after: &str, limit: Option<usize>) -> ApiResult<Page<CatalogRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM catalogs WHERE metastore_id = ?1 AND name > ?2 ORDER BY name LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![metastore_id, after, scan_limit(limit)], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_scan(rows, limit, |c| c.name.clone()))
}

pub struct NewCatalog {
    pub name: Ident,
    pub comment: Option<String>,
    pub properties: Option<String>,
    pub storage_root: Option<String>,
    pub provider_name: Option<String>,
    pub share_name: Option<String>,
    pub owner: String,
    pub created_by: String,
    pub now: i64,
}

/// Inserts a catalog with its `default` and `information_schema` schemas.
pub fn insert(conn: &Connection, ok: &Allowed, metastore_id: &str, new: &NewCatalog) -> ApiResult<CatalogRow> {
    ok.check("store::catalogs::insert", |a| matches!(a, crate::authz::Action::CreateCatalog), Some(metastore_id));
    let id = crate::domain::new_id();
    conn.prepare_cached(
        "INSERT INTO catalogs (id, metastore_id, name, comment, owner, properties, storage_root, provider_name,
                               share_name, created_at, created_by, updated_at, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?10, ?11)",
    )?
    .execute(params![
        id,
        metastore_id,
        new.name.as_str(),
        new.comment,
        new.owner,
        new.properties,
        new.storage_root,
        new.provider_name,
        new.share_name,
        new.now,
        new.created_by
    ])
    .map_err(on_conflict(|| {
        ApiError::new(ErrorCode::CatalogAlreadyExists, format!("Catalog '{}' already exists.", new.name))
    }))?;
    for (name, owner) in [("default", new.owner.as_str()), (INFORMATION_SCHEMA, SYSTEM_USER)] {
        let schema = schemas::NewSchema {
            name: Ident::from_stored(name.to_string()),
            comment: (name == INFORMATION_SCHEMA).then(|| "Information schema (read-only).".to_string()),
            properties: None,
            storage_root: None,
            owner: owner.to_string(),
            created_by: new.created_by.clone(),
            now: new.now,
        };
        // The schemas every catalog gets are part of creating it: the same proof covers them.
        schemas::insert_row(conn, &id, &new.name, &schema)?;
    }
    require(conn, metastore_id, &new.name)
}

/// The fields an update may change; `None` leaves a field as it is.
#[derive(Default)]
pub struct CatalogChanges {
    pub new_name: Option<Ident>,
    pub comment: Option<String>,
    pub owner: Option<String>,
    pub properties: Option<String>,
    pub isolation_mode: Option<String>,
}

pub fn update(
    conn: &Connection,
    ok: &Allowed,
    current: &CatalogRow,
    changes: &CatalogChanges,
    by: &str,
    now: i64,
) -> ApiResult<CatalogRow> {
    ok.check("store::catalogs::update", |a| matches!(a, crate::authz::Action::UpdateCatalog(_)), Some(&current.id));
    let name = changes.new_name.as_ref().map(Ident::as_str).unwrap_or(&current.name);
    conn.prepare_cached(
        "UPDATE catalogs SET name = ?2, comment = COALESCE(?3, comment), owner = COALESCE(?4, owner),
                properties = COALESCE(?5, properties), isolation_mode = COALESCE(?6, isolation_mode),
                updated_at = ?7, updated_by = ?8
         WHERE id = ?1",
    )?
    .execute(params![
        current.id,
        name,
        changes.comment,
        changes.owner,
        changes.properties,
        changes.isolation_mode,
        now,
        by
    ])
    .map_err(on_conflict(|| {
        ApiError::new(ErrorCode::CatalogAlreadyExists, format!("Catalog '{name}' already exists."))
    }))?;
    require(conn, &current.metastore_id, &Ident::from_stored(name.to_string()))
}

/// Whether the catalog holds any schema but `information_schema` (deleting it then needs `force`).
pub fn has_user_schemas(conn: &Connection, catalog_id: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM schemas WHERE catalog_id = ?1 AND name <> ?2)")?
        .query_row(params![catalog_id, INFORMATION_SCHEMA], |r| r.get(0))?)
}

/// Deletes the catalog and, through cascades, everything in it.
pub fn delete(conn: &Connection, ok: &Allowed, id: &str) -> ApiResult<()> {
    ok.check("store::catalogs::delete", |a| matches!(a, crate::authz::Action::DeleteCatalog), Some(id));
    conn.prepare_cached("DELETE FROM catalogs WHERE id = ?1")?.execute([id])?;
    Ok(())
}
