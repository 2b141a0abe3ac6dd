//! Metastores and their workspace assignments.

use rusqlite::{params, Connection, OptionalExtension};

use crate::authz::{Allowed, Node};
use crate::domain::securable::SecurableKind;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::on_conflict;

#[derive(Debug, Clone)]
pub struct MetastoreRow {
    pub id: String,
    pub name: String,
    pub storage_root: String,
    pub storage_root_credential_id: Option<String>,
    pub owner: String,
    pub cloud: String,
    pub region: String,
    pub delta_sharing_scope: String,
    pub delta_sharing_recipient_token_lifetime_in_seconds: Option<i64>,
    pub delta_sharing_organization_name: Option<String>,
    pub privilege_model_version: String,
    pub external_access_enabled: bool,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

impl MetastoreRow {
    pub fn node(&self) -> Node {
        Node {
            kind: SecurableKind::Metastore,
            id: self.id.clone(),
            name: self.id.clone(),
            owner: self.owner.clone(),
            grants: Vec::new(),
        }
    }
}

const COLUMNS: &str = "id, name, storage_root, storage_root_credential_id, owner, cloud, region, delta_sharing_scope,
    delta_sharing_recipient_token_lifetime_in_seconds, delta_sharing_organization_name, privilege_model_version,
    external_access_enabled, created_at, created_by, updated_at, updated_by";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MetastoreRow> {
    Ok(MetastoreRow {
        id: r.get(0)?,
        name: r.get(1)?,
        storage_root: r.get(2)?,
        storage_root_credential_id: r.get(3)?,
        owner: r.get(4)?,
        cloud: r.get(5)?,
        region: r.get(6)?,
        delta_sharing_scope: r.get(7)?,
        delta_sharing_recipient_token_lifetime_in_seconds: r.get(8)?,
        delta_sharing_organization_name: r.get(9)?,
        privilege_model_version: r.get(10)?,
        external_access_enabled: r.get(11)?,
        created_at: r.get(12)?,
        created_by: r.get(13)?,
        updated_at: r.get(14)?,
        updated_by: r.get(15)?,
    })
}

pub fn get(conn: &Connection, id: &str) -> ApiResult<Option<MetastoreRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM metastores WHERE id = ?1"))?
        .query_row([id], row)
        .optional()?)
}

pub fn by_name(conn: &Connection, name: &str) -> ApiResult<Option<MetastoreRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM metastores WHERE name = ?1"))?
        .query_row([name], row)
        .optional()?)
}

pub fn all(conn: &Connection) -> ApiResult<Vec<MetastoreRow>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM metastores ORDER BY name"))?;
    let rows = stmt.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn not_found(id: &str) -> ApiError {
    ApiError::new(ErrorCode::MetastoreDoesNotExist, format!("Metastore '{id}' does not exist."))
}

pub fn require(conn: &Connection, id: &str) -> ApiResult<MetastoreRow> {
    get(conn, id)?.ok_or_else(|| not_found(id))
}

pub struct NewMetastore {
    pub id: String,
    pub name: String,
    pub storage_root: String,
    pub owner: String,
    pub cloud: String,
    pub region: String,
    pub external_access_enabled: bool,
    pub delta_sharing_scope: Option<String>,
    pub delta_sharing_recipient_token_lifetime_in_seconds: Option<i64>,
    pub delta_sharing_organization_name: Option<String>,
    pub created_by: String,
    pub now: i64,
}

pub fn insert(conn: &Connection, ok: &Allowed, new: &NewMetastore) -> ApiResult<MetastoreRow> {
    ok.check("store::metastores::insert", |a| matches!(a, crate::authz::Action::CreateMetastore), None);
    conn.prepare_cached(
        "INSERT INTO metastores (id, name, storage_root, owner, cloud, region, external_access_enabled,
             delta_sharing_scope, delta_sharing_recipient_token_lifetime_in_seconds, delta_sharing_organization_name,
             created_at, created_by, updated_at, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, COALESCE(?8, 'INTERNAL'), ?9, ?10, ?11, ?12, ?11, ?12)",
    )?
    .execute(params![
        new.id,
        new.name,
        new.storage_root,
        new.owner,
        new.cloud,
        new.region,
        new.external_access_enabled,
        new.delta_sharing_scope,
        new.delta_sharing_recipient_token_lifetime_in_seconds,
        new.delta_sharing_organization_name,
        new.now,
        new.created_by
    ])
    .map_err(on_conflict(|| {
        ApiError::new(ErrorCode::MetastoreAlreadyExists, format!("Metastore '{}' already exists.", new.name))
    }))?;
    require(conn, &new.id)
}

#[derive(Default)]
pub struct MetastoreChanges {
    pub name: Option<String>,
    pub owner: Option<String>,
    pub storage_root_credential_id: Option<String>,
    pub delta_sharing_scope: Option<String>,
    pub delta_sharing_recipient_token_lifetime_in_seconds: Option<i64>,
    pub delta_sharing_organization_name: Option<String>,
    pub privilege_model_version: Option<String>,
    pub external_access_enabled: Option<bool>,
}

pub fn update(
    conn: &Connection,
    ok: &Allowed,
    id: &str,
    c: &MetastoreChanges,
    by: &str,
    now: i64,
) -> ApiResult<MetastoreRow> {
    ok.check(
        "store::metastores::update",
        |a| matches!(a, crate::authz::Action::UpdateMetastore | crate::authz::Action::ReownOrphanedMetastore),
        Some(id),
    );
    conn.prepare_cached(
        "UPDATE metastores SET name = COALESCE(?2, name), owner = COALESCE(?3, owner),
             storage_root_credential_id = COALESCE(?4, storage_root_credential_id),
             delta_sharing_scope = COALESCE(?5, delta_sharing_scope),
             delta_sharing_recipient_token_lifetime_in_seconds = COALESCE(?6, delta_sharing_recipient_token_lifetime_in_seconds),
             delta_sharing_organization_name = COALESCE(?7, delta_sharing_organization_name),
             privilege_model_version = COALESCE(?8, privilege_model_version),
             external_access_enabled = COALESCE(?9, external_access_enabled),
             updated_at = ?10, updated_by = ?11
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        c.name,
        c.owner,
        c.storage_root_credential_id,
        c.delta_sharing_scope,
        c.delta_sharing_recipient_token_lifetime_in_seconds,
        c.delta_sharing_organization_name,
        c.privilege_model_version,
        c.external_access_enabled,
        now,
        by
    ])
    .map_err(on_conflict(|| {
        ApiError::new(ErrorCode::MetastoreAlreadyExists, format!("Metastore '{}' already exists.", c.name.as_deref().unwrap_or("")))
    }))?;
    require(conn, id)
}

/// Whether the metastore still holds catalogs, storage credentials (the API reference's data access
/// configurations), shares or recipients; assignments do not count.
pub fn has_contents(conn: &Connection, id: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM catalogs WHERE metastore_id = ?1)
                 OR EXISTS (SELECT 1 FROM storage_credentials WHERE metastore_id = ?1)
                 OR EXISTS (SELECT 1 FROM shares WHERE metastore_id = ?1)
                 OR EXISTS (SELECT 1 FROM recipients WHERE metastore_id = ?1)",
        )?
        .query_row([id], |r| r.get(0))?)
}

/// Deletes the metastore, its contents and its assignments (cascades).
pub fn delete(conn: &Connection, ok: &Allowed, id: &str) -> ApiResult<()> {
    ok.check("store::metastores::delete", |a| matches!(a, crate::authz::Action::DeleteMetastore), Some(id));
    conn.prepare_cached("DELETE FROM metastores WHERE id = ?1")?.execute([id])?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct AssignmentRow {
    pub workspace_id: i64,
    pub metastore_id: String,
    pub default_catalog_name: Option<String>,
}

pub fn assignment(conn: &Connection, workspace_id: i64) -> ApiResult<Option<AssignmentRow>> {
    Ok(conn
        .prepare_cached("SELECT workspace_id, metastore_id, default_catalog_name FROM metastore_assignments WHERE workspace_id = ?1")?
        .query_row([workspace_id], |r| {
            Ok(AssignmentRow { workspace_id: r.get(0)?, metastore_id: r.get(1)?, default_catalog_name: r.get(2)? })
        })
        .optional()?)
}

/// Creates or overwrites a workspace's assignment.
pub fn assign(conn: &Connection, ok: &Allowed, a: &AssignmentRow) -> ApiResult<()> {
    ok.check(
        "store::metastores::assign",
        |a| matches!(a, crate::authz::Action::CreateAssignment | crate::authz::Action::UpdateAssignment { .. }),
        None,
    );
    conn.prepare_cached(
        "INSERT INTO metastore_assignments (workspace_id, metastore_id, default_catalog_name) VALUES (?1, ?2, ?3)
         ON CONFLICT (workspace_id) DO UPDATE SET metastore_id = excluded.metastore_id,
                                                  default_catalog_name = excluded.default_catalog_name",
    )?
    .execute(params![a.workspace_id, a.metastore_id, a.default_catalog_name])?;
    Ok(())
}

pub fn unassign(conn: &Connection, ok: &Allowed, workspace_id: i64) -> ApiResult<()> {
    ok.check("store::metastores::unassign", |a| matches!(a, crate::authz::Action::DeleteAssignment), None);
    conn.prepare_cached("DELETE FROM metastore_assignments WHERE workspace_id = ?1")?.execute([workspace_id])?;
    Ok(())
}

/// The metastore scope of a workspace (its assignment and the metastore's owner).
pub fn scope_of(conn: &Connection, workspace_id: i64) -> ApiResult<Option<crate::authz::MetastoreScope>> {
    Ok(conn
        .prepare_cached(
            "SELECT m.id,
                    -- An owner deleted with its principal makes nobody a metastore admin.
                    CASE WHEN EXISTS (SELECT 1 FROM orphaned_owners o WHERE o.securable_id = m.id AND o.deleted_owner = m.owner)
                         THEN '' ELSE m.owner END,
                    a.default_catalog_name
             FROM metastore_assignments a JOIN metastores m ON m.id = a.metastore_id WHERE a.workspace_id = ?1",
        )?
        .query_row([workspace_id], |r| {
            Ok(crate::authz::MetastoreScope { id: r.get(0)?, owner: r.get(1)?, default_catalog_name: r.get(2)? })
        })
        .optional()?)
}

/// Every workspace with an assignment, by id.
pub fn assigned_workspaces(conn: &Connection) -> ApiResult<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT workspace_id FROM metastore_assignments ORDER BY workspace_id")?;
    let ids = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<i64>, _>>()?;
    Ok(ids)
}
