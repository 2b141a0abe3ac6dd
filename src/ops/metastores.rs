//! Metastores: createMetastore's validated input and the metastore operations.

use rusqlite::Connection;
use serde::Deserialize;

use super::denied;
use crate::authz::{self, Action, Caller};
use crate::domain::names::Ident;
use crate::domain::storage_url::StorageUrl;
use crate::domain::{new_id, now_ms};
use crate::error::{ApiError, ApiResult};
use crate::store::metastores::{self, MetastoreRow, NewMetastore};

pub const DEFAULT_CLOUD: &str = "aws";

pub const DEFAULT_REGION: &str = "us-west-2";

#[derive(Deserialize)]
pub struct CreateMetastore {
    name: Option<String>,
    storage_root: Option<String>,
    region: Option<String>,
    external_access_enabled: Option<bool>,
}

impl CreateMetastore {
    /// The create body a fixture entry amounts to.
    pub fn from_fixture(name: Option<String>, storage_root: Option<String>, region: Option<String>) -> Self {
        CreateMetastore { name, storage_root, region, external_access_enabled: None }
    }
}

/// A validated metastore create, shared with fixtures.
pub struct MetastoreSpec {
    pub name: Ident,
    pub storage_root: StorageUrl,
    pub region: Option<String>,
    pub external_access_enabled: bool,
}

impl TryFrom<CreateMetastore> for MetastoreSpec {
    type Error = ApiError;
    fn try_from(c: CreateMetastore) -> ApiResult<Self> {
        let name = Ident::parse("name", c.name.as_deref().ok_or_else(|| ApiError::invalid("name", "is required"))?)?;
        let root = c.storage_root.ok_or_else(|| ApiError::invalid("storage_root", "is required"))?;
        let storage_root = StorageUrl::parse(&root).map_err(|e| ApiError::invalid("storage_root", e))?;
        Ok(MetastoreSpec {
            name,
            storage_root,
            region: c.region.filter(|r| !r.is_empty()),
            external_access_enabled: c.external_access_enabled.unwrap_or(false),
        })
    }
}

impl MetastoreSpec {
    /// The row to insert: the stored root gets the metastore id appended.
    pub fn into_new(self, id: String, owner: String, cloud: Option<String>, now: i64) -> NewMetastore {
        NewMetastore {
            storage_root: self.storage_root.join(&id).to_string(),
            id,
            name: self.name.into_string(),
            created_by: owner.clone(),
            owner,
            cloud: cloud.unwrap_or_else(|| DEFAULT_CLOUD.to_string()),
            region: self.region.unwrap_or_else(|| DEFAULT_REGION.to_string()),
            external_access_enabled: self.external_access_enabled,
            delta_sharing_scope: None,
            delta_sharing_recipient_token_lifetime_in_seconds: None,
            delta_sharing_organization_name: None,
            now,
        }
    }
}

/// createMetastore: account admins only.
pub fn create(tx: &Connection, caller: &Caller, spec: MetastoreSpec) -> ApiResult<MetastoreRow> {
    let ok = authz::require(caller, &Action::CreateMetastore, &[]).map_err(denied)?;
    let new = spec.into_new(new_id(), caller.name.clone(), None, now_ms());
    metastores::insert(tx, &ok, &new)
}

/// getMetastore (and the one-row listMetastores): the metastore's admins only.
pub fn get(conn: &Connection, caller: &Caller, id: &str) -> ApiResult<MetastoreRow> {
    let row = metastores::require(conn, id)?;
    let node = crate::store::securables::with_grants(conn, row.node(), &caller.principals_json)?;
    authz::require(caller, &Action::ReadMetastore, &[&node]).map_err(denied)?;
    Ok(row)
}

/// deleteMetastore: its admins; without `force`, only an empty metastore. Returns the managed
/// volume directories to remove once the transaction has committed.
pub fn delete(tx: &Connection, caller: &Caller, id: &str, force: bool) -> ApiResult<Vec<String>> {
    let current = metastores::require(tx, id)?;
    let node = crate::store::securables::with_grants(tx, current.node(), &caller.principals_json)?;
    let ok = authz::require(caller, &Action::DeleteMetastore, &[&node]).map_err(denied)?;
    if !force && metastores::has_contents(tx, id)? {
        return Err(crate::error::ApiError::new(
            crate::error::ErrorCode::InvalidState,
            format!("Metastore '{}' is not empty; delete its contents first or pass force=true.", current.name),
        ));
    }
    let managed = crate::store::volumes::managed_locations(tx, crate::store::volumes::Scope::Metastore, id)?;
    metastores::delete(tx, &ok, id)?;
    Ok(managed)
}
