//! Volumes. A volume row carries its schema's and catalog's identity and owners, so one query
//! yields the whole authorization chain.

use rusqlite::{params, Connection, OptionalExtension};

use crate::authz::{Allowed, Node};
use crate::domain::names::{Ident, TableName};
use crate::domain::securable::SecurableKind;
use crate::domain::storage_url::StorageUrl;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::on_conflict;
use crate::store::securables::{self, Page, Parent};

#[derive(Debug, Clone)]
pub struct VolumeRow {
    pub id: String,
    pub name: String,
    pub volume_type: String,
    pub storage_location: String,
    pub comment: Option<String>,
    pub owner: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    pub parent: Parent,
}

impl VolumeRow {
    pub fn full_name(&self) -> String {
        self.parent.full_name(&self.name)
    }

    pub fn is_managed(&self) -> bool {
        self.volume_type == "MANAGED"
    }

    /// The chain [volume, schema, catalog] for the authorization core.
    pub fn nodes(&self) -> [Node; 3] {
        self.parent.chain(SecurableKind::Volume, [&self.id, &self.name, &self.owner])
    }

    /// The volume's own node only (lists share the parents' nodes).
    pub fn node(&self) -> Node {
        let [v, _, _] = self.nodes();
        v
    }
}

const SELECT: &str = "SELECT v.id, v.name, v.volume_type, v.storage_location, v.comment, v.owner,
                             v.created_at, v.created_by, v.updated_at, v.updated_by,
                             s.id, s.name, s.owner, c.id, c.name, c.owner, c.metastore_id
                      FROM volumes v JOIN schemas s ON s.id = v.schema_id JOIN catalogs c ON c.id = s.catalog_id";

const QUERY: securables::ChildQuery<VolumeRow> = securables::ChildQuery { select: SELECT, alias: "v", row };

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<VolumeRow> {
    Ok(VolumeRow {
        id: r.get(0)?,
        name: r.get(1)?,
        volume_type: r.get(2)?,
        storage_location: r.get(3)?,
        comment: r.get(4)?,
        owner: r.get(5)?,
        created_at: r.get(6)?,
        created_by: r.get(7)?,
        updated_at: r.get(8)?,
        updated_by: r.get(9)?,
        parent: Parent::read(r, 10)?,
    })
}

pub fn get(conn: &Connection, metastore_id: &str, name: &TableName) -> ApiResult<Option<VolumeRow>> {
    securables::child_by_name(conn, &QUERY, metastore_id, name)
}

/// A volume of the metastore by `volume_id` (temporary volume credentials).
pub fn get_by_id(conn: &Connection, metastore_id: &str, id: &str) -> ApiResult<Option<VolumeRow>> {
    Ok(conn
        .prepare_cached(&format!("{SELECT} WHERE v.id = ?1 AND c.metastore_id = ?2"))?
        .query_row(params![id, metastore_id], row)
        .optional()?)
}

/// The volume of the metastore whose location equals `url` or contains it, if any.
pub fn at_or_containing(conn: &Connection, metastore_id: &str, url: &StorageUrl) -> ApiResult<Option<VolumeRow>> {
    let mut candidates = url.ancestors();
    candidates.push(url.as_str().to_string());
    let candidates_json = serde_json::to_string(&candidates).expect("strings serialize");
    Ok(conn
        .prepare_cached(&format!(
            "{SELECT} WHERE v.storage_location IN (SELECT value FROM json_each(?2)) AND c.metastore_id = ?1
             ORDER BY length(v.storage_location) DESC LIMIT 1"
        ))?
        .query_row(params![metastore_id, candidates_json], row)
        .optional()?)
}

pub fn not_found(name: &TableName) -> ApiError {
    ApiError::new(ErrorCode::VolumeDoesNotExist, format!("Volume '{name}' does not exist."))
}

/// Volumes of a schema in name order after `after`, at most `limit + 1` scanned.
pub fn scan(conn: &Connection, schema_id: &str, after: &str, limit: Option<usize>) -> ApiResult<Page<VolumeRow>> {
    securables::children_of(conn, &QUERY, schema_id, after, limit, |x| x.name.clone())
}

pub struct NewVolume<'a> {
    pub id: &'a str,
    pub name: &'a Ident,
    pub volume_type: &'a str,
    pub storage_location: &'a str,
    pub comment: Option<&'a str>,
    pub owner: &'a str,
    pub now: i64,
}

pub fn insert(
    conn: &Connection,
    ok: &Allowed,
    schema_id: &str,
    full_name: &TableName,
    new: &NewVolume,
) -> ApiResult<()> {
    ok.check("store::volumes::insert", |a| matches!(a, crate::authz::Action::CreateVolume { .. }), Some(schema_id));
    conn.prepare_cached(
        "INSERT INTO volumes (id, schema_id, name, volume_type, storage_location, comment, owner,
                              created_at, created_by, updated_at, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?7, ?8, ?7)",
    )?
    .execute(params![
        new.id,
        schema_id,
        new.name.as_str(),
        new.volume_type,
        new.storage_location,
        new.comment,
        new.owner,
        new.now
    ])
    .map_err(on_conflict(|| volume_exists(full_name)))?;
    Ok(())
}

fn volume_exists(full_name: &TableName) -> ApiError {
    ApiError::new(ErrorCode::VolumeAlreadyExists, format!("Volume '{full_name}' already exists."))
}

#[derive(Default)]
pub struct VolumeChanges {
    pub new_name: Option<Ident>,
    pub comment: Option<String>,
    pub owner: Option<String>,
}

pub fn update(
    conn: &Connection,
    ok: &Allowed,
    current: &VolumeRow,
    changes: &VolumeChanges,
    by: &str,
    now: i64,
) -> ApiResult<()> {
    ok.check("store::volumes::update", |a| matches!(a, crate::authz::Action::UpdateVolume(_)), Some(&current.id));
    let name = changes.new_name.as_ref().map(Ident::as_str).unwrap_or(&current.name);
    conn.prepare_cached(
        "UPDATE volumes SET name = ?2, comment = COALESCE(?3, comment), owner = COALESCE(?4, owner),
                updated_at = ?5, updated_by = ?6
         WHERE id = ?1",
    )?
    .execute(params![current.id, name, changes.comment, changes.owner, now, by])
    .map_err(on_conflict(|| {
        volume_exists(&TableName {
            catalog: Ident::from_stored(current.parent.catalog_name.clone()),
            schema: Ident::from_stored(current.parent.schema_name.clone()),
            table: Ident::from_stored(name.to_string()),
        })
    }))?;
    Ok(())
}

pub fn delete(conn: &Connection, ok: &Allowed, id: &str) -> ApiResult<()> {
    ok.check("store::volumes::delete", |a| matches!(a, crate::authz::Action::DeleteVolume), Some(id));
    conn.prepare_cached("DELETE FROM volumes WHERE id = ?1")?.execute([id])?;
    Ok(())
}

/// Whether a schema holds a volume or a function (SCHEMA_NOT_EMPTY).
pub fn schema_has_volumes_or_functions(conn: &Connection, schema_id: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM volumes WHERE schema_id = ?1)
                 OR EXISTS (SELECT 1 FROM functions WHERE schema_id = ?1)",
        )?
        .query_row([schema_id], |r| r.get(0))?)
}

/// The storage locations of the managed volumes and managed tables a cascade is about to
/// remove: those of a schema, of a catalog, or of a metastore (`scope` names which column `id`
/// is).
pub fn managed_locations(conn: &Connection, scope: Scope, id: &str) -> ApiResult<Vec<String>> {
    let sql = match scope {
        Scope::Schema => {
            "SELECT storage_location FROM volumes WHERE schema_id = ?1 AND volume_type = 'MANAGED'
             UNION ALL
             SELECT storage_location FROM tables
             WHERE schema_id = ?1 AND table_type = 'MANAGED' AND storage_location IS NOT NULL"
        }
        Scope::Catalog => {
            "SELECT v.storage_location FROM schemas s CROSS JOIN volumes v ON v.schema_id = s.id
             WHERE s.catalog_id = ?1 AND v.volume_type = 'MANAGED'
             UNION ALL
             SELECT t.storage_location FROM schemas s CROSS JOIN tables t ON t.schema_id = s.id
             WHERE s.catalog_id = ?1 AND t.table_type = 'MANAGED' AND t.storage_location IS NOT NULL"
        }
        Scope::Metastore => {
            "SELECT v.storage_location FROM catalogs c CROSS JOIN schemas s ON s.catalog_id = c.id
                    CROSS JOIN volumes v ON v.schema_id = s.id
             WHERE c.metastore_id = ?1 AND v.volume_type = 'MANAGED'
             UNION ALL
             SELECT t.storage_location FROM catalogs c CROSS JOIN schemas s ON s.catalog_id = c.id
                    CROSS JOIN tables t ON t.schema_id = s.id
             WHERE c.metastore_id = ?1 AND t.table_type = 'MANAGED' AND t.storage_location IS NOT NULL"
        }
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map([id], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

#[derive(Clone, Copy)]
pub enum Scope {
    Schema,
    Catalog,
    Metastore,
}

/// A volume of the metastore whose location equals, contains or lies inside `url`, other than
/// `except`, as (full name, location). Index lookups only (the URL's ancestors, then the range
/// of its descendants).
pub fn overlapping(
    conn: &Connection,
    metastore_id: &str,
    url: &StorageUrl,
    except: Option<&str>,
) -> ApiResult<Option<(String, String)>> {
    let (lo, hi) = url.descendants_range();
    let mut candidates = url.ancestors();
    candidates.push(url.as_str().to_string());
    let candidates_json = serde_json::to_string(&candidates).expect("strings serialize");
    Ok(conn
        .prepare_cached(
            "WITH hits(id) AS MATERIALIZED (
                 SELECT id FROM volumes WHERE storage_location IN (SELECT value FROM json_each(?5))
                 UNION ALL
                 SELECT id FROM volumes WHERE storage_location >= ?2 AND storage_location < ?3)
             SELECT c.name || '.' || s.name || '.' || v.name, v.storage_location
             FROM hits h CROSS JOIN volumes v ON v.id = h.id
                  CROSS JOIN schemas s ON s.id = v.schema_id CROSS JOIN catalogs c ON c.id = s.catalog_id
             WHERE c.metastore_id = ?1 AND v.id IS NOT ?4
             LIMIT 1",
        )?
        .query_row(params![metastore_id, lo, hi, except, candidates_json], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// A volume of the metastore whose location equals or contains `url` (an external location may
/// not lie inside or on a volume).
pub fn containing(conn: &Connection, metastore_id: &str, url: &StorageUrl) -> ApiResult<Option<String>> {
    let mut candidates = url.ancestors();
    candidates.push(url.as_str().to_string());
    let candidates_json = serde_json::to_string(&candidates).expect("strings serialize");
    Ok(conn
        .prepare_cached(
            "SELECT c.name || '.' || s.name || '.' || v.name
             FROM volumes v CROSS JOIN schemas s ON s.id = v.schema_id CROSS JOIN catalogs c ON c.id = s.catalog_id
             WHERE v.storage_location IN (SELECT value FROM json_each(?2)) AND c.metastore_id = ?1
             LIMIT 1",
        )?
        .query_row(params![metastore_id, candidates_json], |r| r.get(0))
        .optional()?)
}

/// The EXTERNAL volumes of the metastore whose location equals or lies under `url` (dependents of
/// an external location), as (full name, location).
pub fn external_within(conn: &Connection, metastore_id: &str, url: &StorageUrl) -> ApiResult<Vec<(String, String)>> {
    let (lo, hi) = url.descendants_range();
    let mut stmt = conn.prepare_cached(
        "SELECT c.name || '.' || s.name || '.' || v.name, v.storage_location
         FROM volumes v CROSS JOIN schemas s ON s.id = v.schema_id CROSS JOIN catalogs c ON c.id = s.catalog_id
         WHERE (v.storage_location = ?2 OR (v.storage_location >= ?3 AND v.storage_location < ?4))
           AND v.volume_type = 'EXTERNAL' AND c.metastore_id = ?1
         ORDER BY 1",
    )?;
    let rows = stmt
        .query_map(params![metastore_id, url.as_str(), lo, hi], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// An EXTERNAL volume of the metastore whose location equals, contains or lies inside `url` (a
/// new catalog or schema storage root may not), as its full name.
pub fn external_overlapping(conn: &Connection, metastore_id: &str, url: &StorageUrl) -> ApiResult<Option<String>> {
    if let Some((name, _)) = external_within(conn, metastore_id, url)?.into_iter().next() {
        return Ok(Some(name));
    }
    let mut candidates = url.ancestors();
    candidates.push(url.as_str().to_string());
    let candidates_json = serde_json::to_string(&candidates).expect("strings serialize");
    Ok(conn
        .prepare_cached(
            "SELECT c.name || '.' || s.name || '.' || v.name
             FROM volumes v CROSS JOIN schemas s ON s.id = v.schema_id CROSS JOIN catalogs c ON c.id = s.catalog_id
             WHERE v.storage_location IN (SELECT value FROM json_each(?2)) AND v.volume_type = 'EXTERNAL'
               AND c.metastore_id = ?1
             LIMIT 1",
        )?
        .query_row(params![metastore_id, candidates_json], |r| r.get(0))
        .optional()?)
}
