//! SQL warehouses: the warehouses a caller may see, and the addresses clients are told about.

use rusqlite::Connection;

use super::denied;
use crate::authz::{self, AclEntry, Action, Caller};
use crate::domain::workspace_object::WorkspaceObject;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::warehouses::{self, WarehouseRow};
use crate::store::workspace_acls;

/// listWarehouses: the workspace's warehouses whose access control list lets the caller see
/// them; every list in one query, not one per warehouse.
pub fn list(conn: &Connection, caller: &Caller) -> ApiResult<Vec<WarehouseRow>> {
    let all = warehouses::list(conn, caller.workspace_id)?;
    let entries = workspace_acls::entries_of_kind(conn, caller.workspace_id, "warehouses")?;
    Ok(all
        .into_iter()
        .filter(|w| {
            let acl: Vec<AclEntry> = entries.iter().filter(|(id, _)| *id == w.id).map(|(_, e)| e.clone()).collect();
            authz::visible(caller, &Action::ReadObjectAcl { acl }, &[])
        })
        .collect())
}

/// getWarehouse: 404 for an unknown, deleted or another workspace's warehouse; 403 for one the
/// caller may not see.
pub fn get(conn: &Connection, caller: &Caller, id: &str) -> ApiResult<WarehouseRow> {
    let w = warehouses::get(conn, caller.workspace_id, id)?
        .ok_or_else(|| ApiError::new(ErrorCode::ResourceDoesNotExist, format!("Warehouse {id} does not exist.")))?;
    let acl = workspace_acls::entries(conn, caller.workspace_id, &WorkspaceObject::Warehouse(w.id.clone()))?;
    authz::require(caller, &Action::ReadObjectAcl { acl }, &[]).map_err(denied)?;
    Ok(w)
}

/// (scheme, host, port) of a `scheme://host:port` address.
pub fn address(public_url: &str) -> (String, String, u16) {
    let (scheme, rest) = public_url.split_once("://").unwrap_or(("http", public_url));
    let rest = rest.split('/').next().unwrap_or(rest);
    let default_port = if scheme == "https" { 443 } else { 80 };
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || rest.starts_with('[') => {
            (h.to_string(), p.parse().unwrap_or(default_port))
        }
        _ => (rest.to_string(), default_port),
    };
    (scheme.to_string(), host, port)
}

/// The JDBC URL of a warehouse (Partner Connect's `databricks_jdbc_url`).
pub fn jdbc_url(public_url: &str, id: &str) -> String {
    let (scheme, host, port) = address(public_url);
    let ssl = u8::from(scheme == "https");
    format!("jdbc:databricks://{host}:{port}/default;transportMode=http;ssl={ssl};AuthMech=3;httpPath=/sql/1.0/warehouses/{id};")
}
