//! External locations: createExternalLocation's validated input and the URL rules.

use super::denied;
use crate::authz::{self, Action, Caller};
use crate::domain::now_ms;
use crate::error::ErrorCode;
use crate::store::securables;
use rusqlite::Connection;
use serde::Deserialize;

use crate::domain::names::Ident;
use crate::domain::storage_url::StorageUrl;
use crate::error::{ApiError, ApiResult};
use crate::store::external_locations::{self, LocationRow, NewLocation};
use crate::store::{credentials, tables};

#[derive(Deserialize)]
pub struct CreateExternalLocation {
    pub name: Option<String>,
    pub url: Option<String>,
    pub credential_name: Option<String>,
    pub comment: Option<String>,
    pub read_only: Option<bool>,
    pub fallback: Option<bool>,
    /// Accepted and ignored: no cloud is contacted (spec §9.1).
    #[allow(dead_code)]
    pub skip_validation: Option<bool>,
}

/// A validated location create, shared with fixtures.
pub struct LocationSpec {
    pub name: Ident,
    pub url: StorageUrl,
    pub credential_name: Ident,
    comment: Option<String>,
    read_only: bool,
    fallback: bool,
}

pub fn parse_url(raw: &str) -> ApiResult<StorageUrl> {
    StorageUrl::parse(raw).map_err(|e| ApiError::invalid("url", e))
}

impl TryFrom<CreateExternalLocation> for LocationSpec {
    type Error = ApiError;
    fn try_from(c: CreateExternalLocation) -> ApiResult<Self> {
        let required = |field: &str, v: &Option<String>| -> ApiResult<String> {
            v.clone().filter(|s| !s.is_empty()).ok_or_else(|| ApiError::invalid(field, "is required"))
        };
        Ok(LocationSpec {
            name: Ident::parse("name", &required("name", &c.name)?)?,
            url: parse_url(&required("url", &c.url)?)?,
            credential_name: Ident::parse("credential_name", &required("credential_name", &c.credential_name)?)?,
            comment: c.comment,
            read_only: c.read_only.unwrap_or(false),
            fallback: c.fallback.unwrap_or(false),
        })
    }
}

/// The URL rules of spec §10.3: no other location may equal, contain or lie inside `url`, and
/// `url` may not lie inside (or on) an external table; 400 naming `url` and the conflict.
pub fn check_url(conn: &Connection, metastore_id: &str, url: &StorageUrl, except: Option<&str>) -> ApiResult<()> {
    if let Some((name, other)) = external_locations::overlapping(conn, metastore_id, url, except)? {
        return Err(ApiError::invalid(
            "url",
            format!("{url} overlaps external location '{name}' ({other}); external locations may not overlap"),
        ));
    }
    if let Some(table) = tables::external_containing(conn, metastore_id, url)? {
        return Err(ApiError::invalid("url", format!("{url} lies inside the location of external table '{table}'")));
    }
    // Managed storage cannot be claimed: no location on, in or above the metastore's root.
    if let Some(root) = crate::store::managed::metastore_root_overlapping(conn, metastore_id, url)? {
        return Err(ApiError::invalid(
            "url",
            format!("{url} overlaps the metastore's managed storage root {root}; external locations may not"),
        ));
    }
    Ok(())
}

impl LocationSpec {
    /// Checks the credential (404) and the URL rules (400); shared with fixtures.
    pub fn into_new(self, conn: &Connection, metastore_id: &str, owner: String, now: i64) -> ApiResult<NewLocation> {
        let credential = credentials::require(conn, metastore_id, &self.credential_name)?;
        check_url(conn, metastore_id, &self.url, None)?;
        Ok(NewLocation {
            name: self.name,
            comment: self.comment,
            url: self.url,
            credential_id: credential.id,
            credential_name: credential.name,
            read_only: self.read_only,
            fallback: self.fallback,
            created_by: owner.clone(),
            owner,
            now,
        })
    }
}

/// createExternalLocation
pub fn create(tx: &Connection, caller: &Caller, metastore_id: &str, spec: LocationSpec) -> ApiResult<LocationRow> {
    let ms = securables::metastore_node(tx, metastore_id, &caller.principals_json)?;
    let credential = credentials::require(tx, metastore_id, &spec.credential_name)?;
    let cred = securables::with_grants(tx, credential.node(), &caller.principals_json)?;
    let ok = authz::require(caller, &Action::CreateExternalLocation, &[&ms, &cred]).map_err(denied)?;
    let new = spec.into_new(tx, metastore_id, caller.name.clone(), now_ms())?;
    external_locations::insert(tx, &ok, metastore_id, &new)
}

/// getExternalLocation
pub fn get(conn: &Connection, caller: &Caller, metastore_id: &str, name: &Ident) -> ApiResult<LocationRow> {
    let row = external_locations::require(conn, metastore_id, name)?;
    let node = securables::with_grants(conn, row.node(), &caller.principals_json)?;
    authz::require(caller, &Action::GetExternalLocation, &[&node]).map_err(denied)?;
    Ok(row)
}

/// deleteExternalLocation: without `force`, only a location no external table lies in.
pub fn delete(tx: &Connection, caller: &Caller, metastore_id: &str, name: &Ident, force: bool) -> ApiResult<()> {
    let current = external_locations::require(tx, metastore_id, name)?;
    let ok = authz::require(caller, &Action::DeleteExternalLocation, &[&current.node()]).map_err(denied)?;
    if !force {
        let dependents = tables::external_within(tx, metastore_id, &current.storage_url())?;
        if !dependents.is_empty() {
            let names: Vec<&str> = dependents.iter().map(|(t, _)| t.as_str()).collect();
            return Err(ApiError::new(
                ErrorCode::InvalidState,
                format!(
                    "External location '{name}' has dependent external table(s) {}; use force=true to delete it anyway.",
                    names.join(", ")
                ),
            ));
        }
    }
    external_locations::delete(tx, &ok, &current.id)
}
