//! Managed storage of a metastore: its `storage_root` and the catalog and schema roots under
//! which the server places managed tables. External storage may not overlap any of it, so no
//! user can claim or block the locations the server assigns.

use rusqlite::{params, Connection};

use crate::domain::storage_url::StorageUrl;
use crate::error::ApiResult;

/// The first managed root of the metastore that equals, contains or lies inside `url`, described
/// for a message ("the metastore's storage root s3://…", "catalog 'c' storage root …").
/// Catalogs and schemas with their own root are few; they are read in one query each.
pub fn root_overlapping(conn: &Connection, metastore_id: &str, url: &StorageUrl) -> ApiResult<Option<String>> {
    let overlaps = |root: &str| {
        let root = StorageUrl::from_stored(root.trim_end_matches('/').to_string());
        url.is_within(&root) || root.is_within(url)
    };
    let ms_root: Option<String> = conn
        .prepare_cached("SELECT storage_root FROM metastores WHERE id = ?1")?
        .query_row(params![metastore_id], |r| r.get(0))
        .ok();
    if let Some(root) = ms_root.filter(|r| !r.is_empty() && overlaps(r)) {
        return Ok(Some(format!("the metastore's storage root {root}")));
    }
    let mut stmt = conn.prepare_cached(
        "SELECT 'catalog ''' || c.name || '''', c.storage_root FROM catalogs c
          WHERE c.metastore_id = ?1 AND c.storage_root IS NOT NULL
         UNION ALL
         SELECT 'schema ''' || c.name || '.' || s.name || '''', s.storage_root
           FROM schemas s CROSS JOIN catalogs c ON c.id = s.catalog_id
          WHERE c.metastore_id = ?1 AND s.storage_root IS NOT NULL",
    )?;
    let mut rows = stmt.query(params![metastore_id])?;
    while let Some(r) = rows.next()? {
        let (what, root): (String, String) = (r.get(0)?, r.get(1)?);
        if overlaps(&root) {
            return Ok(Some(format!("the storage root of {what} ({root})")));
        }
    }
    Ok(None)
}

/// Whether `url` equals, contains or lies inside the metastore's own `storage_root`.
pub fn metastore_root_overlapping(
    conn: &Connection,
    metastore_id: &str,
    url: &StorageUrl,
) -> ApiResult<Option<String>> {
    let root: Option<String> = conn
        .prepare_cached("SELECT storage_root FROM metastores WHERE id = ?1")?
        .query_row(params![metastore_id], |r| r.get(0))
        .ok();
    Ok(root.filter(|r| !r.is_empty()).filter(|r| {
        let root = StorageUrl::from_stored(r.trim_end_matches('/').to_string());
        url.is_within(&root) || root.is_within(url)
    }))
}

/// A new catalog or schema `storage_root` is managed storage: no external table may equal,
/// contain or lie inside it → 400 naming `storage_root` and the table.
pub fn check_new_root(conn: &Connection, metastore_id: &str, root: &str) -> ApiResult<()> {
    let Ok(url) = StorageUrl::parse(root) else { return Ok(()) };
    let hit = match super::tables::external_containing(conn, metastore_id, &url)? {
        Some(t) => Some(t),
        None => super::tables::external_within(conn, metastore_id, &url)?.into_iter().next().map(|(t, _)| t),
    };
    if let Some(table) = hit {
        return Err(crate::error::ApiError::invalid(
            "storage_root",
            format!("{url} overlaps the location of external table '{table}'; managed storage may not"),
        ));
    }
    match super::volumes::external_overlapping(conn, metastore_id, &url)? {
        Some(volume) => Err(crate::error::ApiError::invalid(
            "storage_root",
            format!("{url} overlaps the location of external volume '{volume}'; managed storage may not"),
        )),
        None => Ok(()),
    }
}
