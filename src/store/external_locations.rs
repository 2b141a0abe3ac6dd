//! External locations of a metastore and the URL lookups their rules need: every
//! lookup is an index probe on the URL's ancestors or on the range of its descendants.

use rusqlite::{params, Connection, OptionalExtension};

use crate::authz::{Allowed, Node};
use crate::domain::names::Ident;
use crate::domain::securable::SecurableKind;
use crate::domain::storage_url::StorageUrl;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::on_conflict;
use crate::store::securables::{scan_limit, Page};

#[derive(Debug, Clone)]
pub struct LocationRow {
    pub id: String,
    pub metastore_id: String,
    pub name: String,
    pub comment: Option<String>,
    pub owner: String,
    pub url: String,
    pub credential_id: String,
    pub credential_name: String,
    pub read_only: bool,
    pub isolation_mode: String,
    pub fallback: bool,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

impl LocationRow {
    pub fn node(&self) -> Node {
        Node {
            kind: SecurableKind::ExternalLocation,
            id: self.id.clone(),
            name: self.name.clone(),
            owner: self.owner.clone(),
            grants: Vec::new(),
        }
    }

    pub fn storage_url(&self) -> StorageUrl {
        StorageUrl::from_stored(self.url.clone())
    }
}

const COLUMNS: &str = "id, metastore_id, name, comment, owner, url, credential_id, credential_name, read_only,
                       isolation_mode, fallback, created_at, created_by, updated_at, updated_by";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LocationRow> {
    Ok(LocationRow {
        id: r.get(0)?,
        metastore_id: r.get(1)?,
        name: r.get(2)?,
        comment: r.get(3)?,
        owner: r.get(4)?,
        url: r.get(5)?,
        credential_id: r.get(6)?,
        credential_name: r.get(7)?,
        read_only: r.get(8)?,
        isolation_mode: r.get(9)?,
        fallback: r.get(10)?,
        created_at: r.get(11)?,
        created_by: r.get(12)?,
        updated_at: r.get(13)?,
        updated_by: r.get(14)?,
    })
}

pub fn get(conn: &Connection, metastore_id: &str, name: &Ident) -> ApiResult<Option<LocationRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM external_locations WHERE metastore_id = ?1 AND name = ?2"))?
        .query_row(params![metastore_id, name.as_str()], row)
        .optional()?)
}

/// The location, or 404.
pub fn require(conn: &Connection, metastore_id: &str, name: &Ident) -> ApiResult<LocationRow> {
    get(conn, metastore_id, name)?.ok_or_else(|| not_found(name.as_str()))
}

pub fn not_found(name: &str) -> ApiError {
    ApiError::new(ErrorCode::ResourceDoesNotExist, format!("External location '{name}' does not exist."))
}

/// Locations in name order after `after`, at most `limit + 1` scanned.
pub fn scan(conn: &Connection, metastore_id: &str, after: &str, limit: Option<usize>) -> ApiResult<Page<LocationRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM external_locations WHERE metastore_id = ?1 AND name > ?2 ORDER BY name LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![metastore_id, after, scan_limit(limit)], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_scan(rows, limit, |c| c.name.clone()))
}

/// `url` and each of its ancestors, as a JSON array for `json_each`.
fn self_and_ancestors(url: &StorageUrl) -> String {
    let mut candidates = url.ancestors();
    candidates.push(url.as_str().to_string());
    serde_json::to_string(&candidates).expect("strings serialize")
}

/// The location of the metastore whose URL equals or contains `url` (the deepest one, should
/// several exist).
pub fn covering(conn: &Connection, metastore_id: &str, url: &StorageUrl) -> ApiResult<Option<LocationRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM external_locations
             WHERE metastore_id = ?1 AND url IN (SELECT value FROM json_each(?2))
             ORDER BY length(url) DESC LIMIT 1"
        ))?
        .query_row(params![metastore_id, self_and_ancestors(url)], row)
        .optional()?)
}

/// The name of a read-only external location that equals or contains `url` — one marked
/// `read_only`, or one whose storage credential is `read_only` — in `metastore_id`, or in any
/// metastore when `None` (the S3 endpoint serves storage, not a metastore).
pub fn read_only_covering(
    conn: &Connection,
    metastore_id: Option<&str>,
    url: &StorageUrl,
) -> ApiResult<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT l.name FROM external_locations l LEFT JOIN storage_credentials c ON c.id = l.credential_id
             WHERE l.url IN (SELECT value FROM json_each(?2)) AND (?1 IS NULL OR l.metastore_id = ?1)
               AND (l.read_only OR coalesce(c.read_only, 0))
             ORDER BY length(l.url) DESC LIMIT 1",
        )?
        .query_row(params![metastore_id, self_and_ancestors(url)], |r| r.get(0))
        .optional()?)
}

/// A location of the metastore strictly inside `url`, as (name, url).
pub fn strictly_inside(conn: &Connection, metastore_id: &str, url: &StorageUrl) -> ApiResult<Option<(String, String)>> {
    let (lo, hi) = url.descendants_range();
    Ok(conn
        .prepare_cached(
            "SELECT name, url FROM external_locations WHERE url >= ?2 AND url < ?3 AND metastore_id = ?1
             ORDER BY url LIMIT 1",
        )?
        .query_row(params![metastore_id, lo, hi], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// A location of the metastore (other than `except`) whose URL equals, contains or lies inside
/// `url`, as (name, url).
pub fn overlapping(
    conn: &Connection,
    metastore_id: &str,
    url: &StorageUrl,
    except: Option<&str>,
) -> ApiResult<Option<(String, String)>> {
    let (lo, hi) = url.descendants_range();
    Ok(conn
        .prepare_cached(
            "SELECT name, url FROM external_locations
             WHERE metastore_id = ?1 AND id IS NOT ?4
               AND (url IN (SELECT value FROM json_each(?5)) OR (url >= ?2 AND url < ?3))
             ORDER BY url LIMIT 1",
        )?
        .query_row(params![metastore_id, lo, hi, except, self_and_ancestors(url)], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

pub struct NewLocation {
    pub name: Ident,
    pub comment: Option<String>,
    pub url: StorageUrl,
    pub credential_id: String,
    pub credential_name: String,
    pub read_only: bool,
    pub fallback: bool,
    pub owner: String,
    pub created_by: String,
    pub now: i64,
}

pub fn insert(conn: &Connection, ok: &Allowed, metastore_id: &str, new: &NewLocation) -> ApiResult<LocationRow> {
    ok.check(
        "store::external_locations::insert",
        |a| matches!(a, crate::authz::Action::CreateExternalLocation),
        Some(metastore_id),
    );
    conn.prepare_cached(
        "INSERT INTO external_locations (id, metastore_id, name, comment, owner, url, credential_id, credential_name,
                                         read_only, fallback, created_at, created_by, updated_at, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?11, ?12)",
    )?
    .execute(params![
        crate::domain::new_id(),
        metastore_id,
        new.name.as_str(),
        new.comment,
        new.owner,
        new.url.as_str(),
        new.credential_id,
        new.credential_name,
        new.read_only,
        new.fallback,
        new.now,
        new.created_by
    ])
    .map_err(on_conflict(|| already_exists(new.name.as_str())))?;
    require(conn, metastore_id, &new.name)
}

fn already_exists(name: &str) -> ApiError {
    ApiError::new(ErrorCode::ResourceAlreadyExists, format!("External location '{name}' already exists."))
}

/// The fields an update may change; `None` leaves a field as it is.
#[derive(Default)]
pub struct LocationChanges {
    pub new_name: Option<Ident>,
    pub comment: Option<String>,
    pub owner: Option<String>,
    pub url: Option<StorageUrl>,
    /// (credential id, credential name)
    pub credential: Option<(String, String)>,
    pub read_only: Option<bool>,
    pub isolation_mode: Option<String>,
    pub fallback: Option<bool>,
}

pub fn update(
    conn: &Connection,
    ok: &Allowed,
    current: &LocationRow,
    changes: &LocationChanges,
    by: &str,
    now: i64,
) -> ApiResult<LocationRow> {
    ok.check(
        "store::external_locations::update",
        |a| matches!(a, crate::authz::Action::UpdateExternalLocation(_)),
        Some(&current.id),
    );
    let name = changes.new_name.as_ref().map(Ident::as_str).unwrap_or(&current.name);
    let (credential_id, credential_name) = match &changes.credential {
        Some((id, n)) => (Some(id.as_str()), Some(n.as_str())),
        None => (None, None),
    };
    conn.prepare_cached(
        "UPDATE external_locations SET name = ?2, comment = COALESCE(?3, comment), owner = COALESCE(?4, owner),
                url = COALESCE(?5, url), credential_id = COALESCE(?6, credential_id),
                credential_name = COALESCE(?7, credential_name), read_only = COALESCE(?8, read_only),
                isolation_mode = COALESCE(?9, isolation_mode), fallback = COALESCE(?10, fallback),
                updated_at = ?11, updated_by = ?12
         WHERE id = ?1",
    )?
    .execute(params![
        current.id,
        name,
        changes.comment,
        changes.owner,
        changes.url.as_ref().map(StorageUrl::as_str),
        credential_id,
        credential_name,
        changes.read_only,
        changes.isolation_mode,
        changes.fallback,
        now,
        by
    ])
    .map_err(on_conflict(|| already_exists(name)))?;
    require(conn, &current.metastore_id, &Ident::from_stored(name.to_string()))
}

/// Deletes the location only; the tables under it stay.
pub fn delete(conn: &Connection, ok: &Allowed, id: &str) -> ApiResult<()> {
    ok.check(
        "store::external_locations::delete",
        |a| matches!(a, crate::authz::Action::DeleteExternalLocation),
        Some(id),
    );
    conn.prepare_cached("DELETE FROM external_locations WHERE id = ?1")?.execute([id])?;
    Ok(())
}
