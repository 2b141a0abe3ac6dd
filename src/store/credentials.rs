//! Storage credentials of a metastore.

use rusqlite::{params, Connection, OptionalExtension};

use crate::authz::{Allowed, Node};
use crate::domain::names::Ident;
use crate::domain::securable::SecurableKind;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::on_conflict;
use crate::store::securables::{scan_limit, Page};

#[derive(Debug, Clone)]
pub struct CredentialRow {
    pub id: String,
    pub metastore_id: String,
    pub name: String,
    pub comment: Option<String>,
    pub owner: String,
    /// The credential kind's field name (`aws_iam_role`, ...).
    pub kind: String,
    /// The kind's JSON object as stored, secrets included: never rendered as is.
    pub details: String,
    pub read_only: bool,
    pub isolation_mode: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

impl CredentialRow {
    pub fn node(&self) -> Node {
        Node {
            kind: SecurableKind::StorageCredential,
            id: self.id.clone(),
            name: self.name.clone(),
            owner: self.owner.clone(),
            grants: Vec::new(),
        }
    }
}

const COLUMNS: &str = "id, metastore_id, name, comment, owner, kind, details, read_only, isolation_mode,
                       created_at, created_by, updated_at, updated_by";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CredentialRow> {
    Ok(CredentialRow {
        id: r.get(0)?,
        metastore_id: r.get(1)?,
        name: r.get(2)?,
        comment: r.get(3)?,
        owner: r.get(4)?,
        kind: r.get(5)?,
        details: r.get(6)?,
        read_only: r.get(7)?,
        isolation_mode: r.get(8)?,
        created_at: r.get(9)?,
        created_by: r.get(10)?,
        updated_at: r.get(11)?,
        updated_by: r.get(12)?,
    })
}

pub fn get(conn: &Connection, metastore_id: &str, name: &Ident) -> ApiResult<Option<CredentialRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM storage_credentials WHERE metastore_id = ?1 AND name = ?2"))?
        .query_row(params![metastore_id, name.as_str()], row)
        .optional()?)
}

/// The credential, or 404.
pub fn require(conn: &Connection, metastore_id: &str, name: &Ident) -> ApiResult<CredentialRow> {
    get(conn, metastore_id, name)?.ok_or_else(|| not_found(name.as_str()))
}

pub fn not_found(name: &str) -> ApiError {
    ApiError::new(ErrorCode::ResourceDoesNotExist, format!("Storage credential '{name}' does not exist."))
}

/// Credentials in name order after `after`, at most `limit + 1` scanned.
pub fn scan(
    conn: &Connection,
    metastore_id: &str,
    after: &str,
    limit: Option<usize>,
) -> ApiResult<Page<CredentialRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM storage_credentials WHERE metastore_id = ?1 AND name > ?2 ORDER BY name LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![metastore_id, after, scan_limit(limit)], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_scan(rows, limit, |c| c.name.clone()))
}

pub struct NewCredential {
    pub name: Ident,
    pub comment: Option<String>,
    pub kind: String,
    pub details: String,
    pub read_only: bool,
    pub owner: String,
    pub created_by: String,
    pub now: i64,
}

pub fn insert(conn: &Connection, ok: &Allowed, metastore_id: &str, new: &NewCredential) -> ApiResult<CredentialRow> {
    ok.check(
        "store::credentials::insert",
        |a| matches!(a, crate::authz::Action::CreateStorageCredential),
        Some(metastore_id),
    );
    conn.prepare_cached(
        "INSERT INTO storage_credentials (id, metastore_id, name, comment, owner, kind, details, read_only,
                                          created_at, created_by, updated_at, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?9, ?10)",
    )?
    .execute(params![
        crate::domain::new_id(),
        metastore_id,
        new.name.as_str(),
        new.comment,
        new.owner,
        new.kind,
        new.details,
        new.read_only,
        new.now,
        new.created_by
    ])
    .map_err(on_conflict(|| already_exists(new.name.as_str())))?;
    require(conn, metastore_id, &new.name)
}

fn already_exists(name: &str) -> ApiError {
    ApiError::new(ErrorCode::ResourceAlreadyExists, format!("Storage credential '{name}' already exists."))
}

/// The fields an update may change; `None` leaves a field as it is.
#[derive(Default)]
pub struct CredentialChanges {
    pub new_name: Option<Ident>,
    pub comment: Option<String>,
    pub owner: Option<String>,
    /// A new kind and its complete details.
    pub details: Option<(String, String)>,
    pub read_only: Option<bool>,
    pub isolation_mode: Option<String>,
}

/// Applies an update; a rename carries over to the locations and tables that name the
/// credential.
pub fn update(
    conn: &Connection,
    ok: &Allowed,
    current: &CredentialRow,
    changes: &CredentialChanges,
    by: &str,
    now: i64,
) -> ApiResult<CredentialRow> {
    ok.check(
        "store::credentials::update",
        |a| matches!(a, crate::authz::Action::UpdateStorageCredential(_)),
        Some(&current.id),
    );
    let name = changes.new_name.as_ref().map(Ident::as_str).unwrap_or(&current.name);
    let (kind, details) = match &changes.details {
        Some((k, d)) => (Some(k.as_str()), Some(d.as_str())),
        None => (None, None),
    };
    conn.prepare_cached(
        "UPDATE storage_credentials SET name = ?2, comment = COALESCE(?3, comment), owner = COALESCE(?4, owner),
                kind = COALESCE(?5, kind), details = COALESCE(?6, details), read_only = COALESCE(?7, read_only),
                isolation_mode = COALESCE(?8, isolation_mode), updated_at = ?9, updated_by = ?10
         WHERE id = ?1",
    )?
    .execute(params![
        current.id,
        name,
        changes.comment,
        changes.owner,
        kind,
        details,
        changes.read_only,
        changes.isolation_mode,
        now,
        by
    ])
    .map_err(on_conflict(|| already_exists(name)))?;
    if name != current.name {
        conn.prepare_cached("UPDATE external_locations SET credential_name = ?2 WHERE credential_id = ?1")?
            .execute(params![current.id, name])?;
        conn.prepare_cached(
            "UPDATE tables SET storage_credential_name = ?3
             WHERE storage_credential_name = ?2 AND EXISTS (
                 SELECT 1 FROM schemas s JOIN catalogs c ON c.id = s.catalog_id
                 WHERE s.id = tables.schema_id AND c.metastore_id = ?1)",
        )?
        .execute(params![current.metastore_id, current.name, name])?;
    }
    require(conn, &current.metastore_id, &Ident::from_stored(name.to_string()))
}

/// What depends on a credential: external locations naming it and tables created
/// with it, as (locations, tables).
pub fn dependents(conn: &Connection, current: &CredentialRow) -> ApiResult<(i64, i64)> {
    let locations: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM external_locations WHERE credential_id = ?1")?
        .query_row([&current.id], |r| r.get(0))?;
    let tables: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM tables t JOIN schemas s ON s.id = t.schema_id JOIN catalogs c ON c.id = s.catalog_id
             WHERE c.metastore_id = ?1 AND t.storage_credential_name = ?2",
        )?
        .query_row(params![current.metastore_id, current.name], |r| r.get(0))?;
    Ok((locations, tables))
}

/// Deletes the credential only; dependents stay as they are.
pub fn delete(conn: &Connection, ok: &Allowed, id: &str) -> ApiResult<()> {
    ok.check("store::credentials::delete", |a| matches!(a, crate::authz::Action::DeleteStorageCredential), Some(id));
    conn.prepare_cached("DELETE FROM storage_credentials WHERE id = ?1")?.execute([id])?;
    Ok(())
}
