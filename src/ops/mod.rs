//! The Unity Catalog operations: validated inputs (`*Spec`, parsed once from the wire bodies),
//! and the steps that resolve, authorize and write inside one store transaction. Called by the
//! HTTP handlers (`api/`), the fixtures and Partner Connect; knows nothing of HTTP.

pub mod access_control;
pub mod account;
pub mod account_uc;
pub mod catalogs;
pub mod external_locations;
pub mod functions;
pub mod identities;
pub mod lists;
pub mod metastores;
pub mod oauth;
pub mod permissions;
pub mod providers;
pub mod recipients;
pub mod schemas;
pub mod shares;
pub mod sharing;
pub mod storage_credentials;
pub mod tables;
pub mod temporary_credentials;
pub mod tokens;
pub mod volumes;
pub mod warehouses;
pub mod workspace_acls;

use std::collections::BTreeMap;

use rusqlite::Connection;

use crate::authz::Denied;
use crate::error::{ApiError, ApiResult};
use crate::store::principals;

/// A refusal as 403 `PERMISSION_DENIED`, naming what was missing.
pub fn denied(d: Denied) -> ApiError {
    ApiError::denied(d.message())
}

/// An `owner` value: a known principal (404 otherwise); the empty string is refused.
pub fn owner_name(conn: &Connection, raw: &str) -> ApiResult<String> {
    if raw.is_empty() {
        return Err(ApiError::invalid("owner", "must not be empty"));
    }
    principals::require_exists(conn, raw)?;
    Ok(raw.to_string())
}

/// `properties` as stored JSON text.
pub fn properties_json(p: Option<BTreeMap<String, String>>) -> Option<String> {
    p.map(|m| serde_json::to_string(&m).expect("a string map serializes"))
}

/// Whether a supplied optional field differs from the stored value.
pub fn changed(current: &Option<String>, new: &str) -> bool {
    current.as_deref() != Some(new)
}
