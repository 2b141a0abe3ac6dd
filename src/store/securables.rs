//! Loading what the authorization core reads: a securable's node and the grants a set of
//! principals holds on it, for one object or a whole page at once.

use std::collections::HashMap;

use rusqlite::Connection;

use crate::authz::{Grant, Node};
use crate::error::ApiResult;

/// A page of rows scanned in name order. `more_after` is the name of the last row scanned when
/// rows beyond it exist (the next page resumes after it, whatever a filter kept).
pub struct Page<T> {
    pub rows: Vec<T>,
    pub more_after: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` scanned rows.
    pub fn from_scan(mut rows: Vec<T>, limit: Option<usize>, name: impl Fn(&T) -> String) -> Page<T> {
        match limit {
            Some(l) if rows.len() > l => {
                rows.truncate(l);
                let more_after = rows.last().map(&name).or_else(|| Some(String::new()));
                Page { rows, more_after }
            }
            _ => Page { rows, more_after: None },
        }
    }
}

/// SQL `LIMIT` for a scan of `limit + 1` rows (`-1`: no limit).
pub fn scan_limit(limit: Option<usize>) -> i64 {
    limit.map(|l| l as i64 + 1).unwrap_or(-1)
}

/// The grants that `principals_json` (a JSON array of principal names) holds on each of `ids`.
pub fn grants_on(conn: &Connection, ids: &[&str], principals_json: &str) -> ApiResult<HashMap<String, Vec<Grant>>> {
    let mut out: HashMap<String, Vec<Grant>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let ids_json = serde_json::to_string(ids).expect("strings serialize");
    let mut stmt = conn.prepare_cached(
        "SELECT securable_id, principal, privilege FROM grants
         WHERE securable_id IN (SELECT value FROM json_each(?1))
           AND principal IN (SELECT value FROM json_each(?2))",
    )?;
    let mut rows = stmt.query([ids_json.as_str(), principals_json])?;
    while let Some(r) = rows.next()? {
        out.entry(r.get(0)?).or_default().push(Grant { principal: r.get(1)?, privilege: r.get(2)? });
    }
    Ok(out)
}

/// Fills in each node's grants for the principals of `principals_json`, in one query.
pub fn attach_grants(conn: &Connection, nodes: &mut [&mut Node], principals_json: &str) -> ApiResult<()> {
    let ids: Vec<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    let mut by_id = grants_on(conn, &ids, principals_json)?;
    for n in nodes.iter_mut() {
        n.grants = by_id.remove(&n.id).unwrap_or_default();
    }
    Ok(())
}
