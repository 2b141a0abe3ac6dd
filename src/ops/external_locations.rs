//! External locations: createExternalLocation's validated input and the URL rules.

use rusqlite::Connection;
use serde::Deserialize;

use crate::domain::names::Ident;
use crate::domain::storage_url::StorageUrl;
use crate::error::{ApiError, ApiResult};
use crate::store::external_locations::{self, NewLocation};
use crate::store::{credentials, tables};

#[derive(Deserialize)]
pub struct CreateExternalLocation {
    pub name: Option<String>,
    pub url: Option<String>,
    pub credential_name: Option<String>,
    pub comment: Option<String>,
    pub read_only: Option<bool>,
    pub fallback: Option<bool>,
    /// Accepted and ignored: no cloud is contacted.
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

/// The URL rules of external locations: no other location may equal, contain or lie inside `url`, and
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
    if let Some(volume) = crate::store::volumes::containing(conn, metastore_id, url)? {
        return Err(ApiError::invalid("url", format!("{url} lies inside the location of volume '{volume}'")));
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
