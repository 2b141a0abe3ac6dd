//! Delta Sharing providers.

use rusqlite::{params, Connection, OptionalExtension};

use crate::authz::{Allowed, Node};
use crate::domain::names::Ident;
use crate::domain::securable::SecurableKind;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::on_conflict;
use crate::store::securables::{scan_limit, Page};

#[derive(Debug)]
pub struct ProviderRow {
    pub id: String,
    pub metastore_id: String,
    pub name: String,
    pub authentication_type: String,
    pub comment: Option<String>,
    pub owner: String,
    pub recipient_profile_str: Option<String>,
    pub data_provider_global_metastore_id: Option<String>,
    pub shares: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

impl ProviderRow {
    pub fn node(&self) -> Node {
        Node {
            kind: SecurableKind::Provider,
            id: self.id.clone(),
            name: self.name.clone(),
            owner: self.owner.clone(),
            grants: vec![],
        }
    }
}

const COLUMNS: &str = "id, metastore_id, name, authentication_type, comment, owner, recipient_profile_str,
                       data_provider_global_metastore_id, shares, created_at, created_by, updated_at, updated_by";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ProviderRow> {
    Ok(ProviderRow {
        id: r.get(0)?,
        metastore_id: r.get(1)?,
        name: r.get(2)?,
        authentication_type: r.get(3)?,
        comment: r.get(4)?,
        owner: r.get(5)?,
        recipient_profile_str: r.get(6)?,
        data_provider_global_metastore_id: r.get(7)?,
        shares: r.get(8)?,
        created_at: r.get(9)?,
        created_by: r.get(10)?,
        updated_at: r.get(11)?,
        updated_by: r.get(12)?,
    })
}

pub fn get(conn: &Connection, metastore_id: &str, name: &Ident) -> ApiResult<Option<ProviderRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM providers WHERE metastore_id = ?1 AND name = ?2"))?
        .query_row(params![metastore_id, name.as_str()], row)
        .optional()?)
}

pub fn not_found(name: &str) -> ApiError {
    ApiError::new(ErrorCode::ResourceDoesNotExist, format!("Provider '{name}' does not exist."))
}

pub fn require(conn: &Connection, metastore_id: &str, name: &Ident) -> ApiResult<ProviderRow> {
    get(conn, metastore_id, name)?.ok_or_else(|| not_found(name.as_str()))
}

pub fn scan(conn: &Connection, metastore_id: &str, after: &str, limit: Option<usize>) -> ApiResult<Page<ProviderRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM providers WHERE metastore_id = ?1 AND name > ?2 ORDER BY name LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![metastore_id, after, scan_limit(limit)], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_scan(rows, limit, |p| p.name.clone()))
}

pub struct NewProvider {
    pub name: Ident,
    pub authentication_type: String,
    pub comment: Option<String>,
    pub recipient_profile_str: Option<String>,
    pub data_provider_global_metastore_id: Option<String>,
    pub shares: String,
    pub owner: String,
    pub created_by: String,
    pub now: i64,
}

pub fn insert(conn: &Connection, ok: &Allowed, metastore_id: &str, new: &NewProvider) -> ApiResult<ProviderRow> {
    ok.check("store::providers::insert", |a| matches!(a, crate::authz::Action::CreateProvider), Some(metastore_id));
    conn.prepare_cached(
        "INSERT INTO providers (id, metastore_id, name, authentication_type, comment, owner, recipient_profile_str,
                                data_provider_global_metastore_id, shares, created_at, created_by, updated_at, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?10, ?11)",
    )?
    .execute(params![
        crate::domain::new_id(),
        metastore_id,
        new.name.as_str(),
        new.authentication_type,
        new.comment,
        new.owner,
        new.recipient_profile_str,
        new.data_provider_global_metastore_id,
        new.shares,
        new.now,
        new.created_by
    ])
    .map_err(on_conflict(|| {
        ApiError::new(ErrorCode::ResourceAlreadyExists, format!("Provider '{}' already exists.", new.name))
    }))?;
    require(conn, metastore_id, &new.name)
}

#[derive(Default)]
pub struct ProviderChanges {
    pub new_name: Option<Ident>,
    pub comment: Option<String>,
    pub owner: Option<String>,
    pub recipient_profile_str: Option<String>,
}

pub fn update(
    conn: &Connection,
    ok: &Allowed,
    current: &ProviderRow,
    c: &ProviderChanges,
    by: &str,
    now: i64,
) -> ApiResult<ProviderRow> {
    ok.check("store::providers::update", |a| matches!(a, crate::authz::Action::UpdateProvider(_)), Some(&current.id));
    let name = c.new_name.as_ref().map(Ident::as_str).unwrap_or(&current.name);
    conn.prepare_cached(
        "UPDATE providers SET name = ?2, comment = COALESCE(?3, comment), owner = COALESCE(?4, owner),
                recipient_profile_str = COALESCE(?5, recipient_profile_str), updated_at = ?6, updated_by = ?7
         WHERE id = ?1",
    )?
    .execute(params![current.id, name, c.comment, c.owner, c.recipient_profile_str, now, by])
    .map_err(on_conflict(|| {
        ApiError::new(ErrorCode::ResourceAlreadyExists, format!("Provider '{name}' already exists."))
    }))?;
    require(conn, &current.metastore_id, &Ident::from_stored(name.to_string()))
}

pub fn delete(conn: &Connection, ok: &Allowed, id: &str) -> ApiResult<()> {
    ok.check("store::providers::delete", |a| matches!(a, crate::authz::Action::DeleteProvider), Some(id));
    conn.prepare_cached("DELETE FROM providers WHERE id = ?1")?.execute([id])?;
    Ok(())
}
