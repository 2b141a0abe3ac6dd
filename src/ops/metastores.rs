//! Metastores: createMetastore's validated input and the metastore operations.

use rusqlite::Connection;
use serde::Deserialize;

use super::denied;
use crate::authz::{self, Action, Caller};
use crate::domain::names::Ident;
use crate::domain::storage_url::StorageUrl;
use crate::domain::{new_id, now_ms};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::metastores::{self, AssignmentRow, MetastoreChanges, MetastoreRow, NewMetastore};
use crate::store::principals;

pub const DEFAULT_CLOUD: &str = "aws";

pub const DEFAULT_REGION: &str = "us-west-2";

#[derive(Deserialize, utoipa::ToSchema)]
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
        return Err(ApiError::new(
            ErrorCode::InvalidState,
            format!("Metastore '{}' is not empty; delete its contents first or pass force=true.", current.name),
        ));
    }
    let managed = crate::store::volumes::managed_locations(tx, crate::store::volumes::Scope::Metastore, id)?;
    metastores::delete(tx, &ok, id)?;
    Ok(managed)
}

pub const SCOPES: &[&str] = &["INTERNAL", "INTERNAL_AND_EXTERNAL"];

#[derive(Default, Deserialize, utoipa::ToSchema)]
pub struct UpdateMetastore {
    name: Option<String>,
    new_name: Option<String>,
    owner: Option<String>,
    storage_root: Option<String>,
    storage_root_credential_id: Option<String>,
    delta_sharing_scope: Option<String>,
    delta_sharing_recipient_token_lifetime_in_seconds: Option<i64>,
    delta_sharing_organization_name: Option<String>,
    privilege_model_version: Option<String>,
    external_access_enabled: Option<bool>,
    // Accepted and ignored (deprecated in the API reference).
    #[allow(dead_code)]
    delta_sharing_enabled: Option<bool>,
}

/// A validated updateMetastore body.
pub struct MetastoreUpdate {
    new_name: Option<Ident>,
    owner: Option<String>,
    storage_root_credential_id: Option<String>,
    delta_sharing_scope: Option<String>,
    delta_sharing_recipient_token_lifetime_in_seconds: Option<i64>,
    delta_sharing_organization_name: Option<String>,
    privilege_model_version: Option<String>,
    external_access_enabled: Option<bool>,
}

impl TryFrom<UpdateMetastore> for MetastoreUpdate {
    type Error = ApiError;
    fn try_from(body: UpdateMetastore) -> ApiResult<Self> {
        if body.storage_root.is_some() {
            return Err(ApiError::invalid("storage_root", "cannot be changed after creation"));
        }
        let new_name = body.new_name.or(body.name).map(|n| Ident::parse("new_name", &n)).transpose()?;
        if let Some(scope) = &body.delta_sharing_scope {
            if !SCOPES.contains(&scope.as_str()) {
                return Err(ApiError::invalid(
                    "delta_sharing_scope",
                    format!("unknown value {scope:?}; expected one of {SCOPES:?}"),
                ));
            }
        }
        // int32 in the API reference, not negative: expiry arithmetic then always fits int64.
        if body
            .delta_sharing_recipient_token_lifetime_in_seconds
            .is_some_and(|s| !(0..=i64::from(i32::MAX)).contains(&s))
        {
            return Err(ApiError::invalid(
                "delta_sharing_recipient_token_lifetime_in_seconds",
                "must be between 0 and 2147483647 (an int32)",
            ));
        }
        if let Some(v) = &body.privilege_model_version {
            let ok = v.split_once('.').is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok());
            if !ok {
                return Err(ApiError::invalid(
                    "privilege_model_version",
                    format!("{v:?} is not of the form major.minor"),
                ));
            }
        }
        Ok(MetastoreUpdate {
            new_name,
            owner: body.owner,
            storage_root_credential_id: body.storage_root_credential_id,
            delta_sharing_scope: body.delta_sharing_scope,
            delta_sharing_recipient_token_lifetime_in_seconds: body.delta_sharing_recipient_token_lifetime_in_seconds,
            delta_sharing_organization_name: body.delta_sharing_organization_name,
            privilege_model_version: body.privilege_model_version,
            external_access_enabled: body.external_access_enabled,
        })
    }
}

impl MetastoreUpdate {
    /// Whether the update changes `owner` and nothing else.
    fn owner_only(&self) -> bool {
        self.owner.is_some()
            && self.new_name.is_none()
            && self.storage_root_credential_id.is_none()
            && self.delta_sharing_scope.is_none()
            && self.delta_sharing_recipient_token_lifetime_in_seconds.is_none()
            && self.delta_sharing_organization_name.is_none()
            && self.privilege_model_version.is_none()
            && self.external_access_enabled.is_none()
    }
}

/// updateMetastore: its admins; for a metastore whose owner was deleted, an account admin may
/// change its `owner` (and only that), so the metastore can get an admin again.
pub fn update(tx: &Connection, caller: &Caller, id: &str, body: MetastoreUpdate) -> ApiResult<MetastoreRow> {
    let current = metastores::require(tx, id)?;
    let node = crate::store::securables::with_grants(tx, current.node(), &caller.principals_json)?;
    let orphaned = crate::store::securables::is_orphaned(tx, &current.id, &current.owner)?;
    let action = if orphaned && body.owner_only() { Action::ReownOrphanedMetastore } else { Action::UpdateMetastore };
    let ok = authz::require(caller, &action, &[&node]).map_err(denied)?;
    // SDK: an empty owner hands the metastore to the System User.
    let owner = match body.owner.as_deref() {
        Some("") => Some(crate::store::catalogs::SYSTEM_USER.to_string()),
        Some(o) => Some(super::owner_name(tx, o)?),
        None => None,
    };
    let scope = body.delta_sharing_scope.as_deref().unwrap_or(&current.delta_sharing_scope);
    let lifetime = body
        .delta_sharing_recipient_token_lifetime_in_seconds
        .or(current.delta_sharing_recipient_token_lifetime_in_seconds);
    if scope == "INTERNAL_AND_EXTERNAL" && lifetime.is_none() {
        return Err(ApiError::invalid(
            "delta_sharing_recipient_token_lifetime_in_seconds",
            "is required when delta_sharing_scope is INTERNAL_AND_EXTERNAL",
        ));
    }
    let changes = MetastoreChanges {
        name: body.new_name.map(Ident::into_string),
        owner,
        storage_root_credential_id: body.storage_root_credential_id,
        delta_sharing_scope: body.delta_sharing_scope,
        delta_sharing_recipient_token_lifetime_in_seconds: body.delta_sharing_recipient_token_lifetime_in_seconds,
        delta_sharing_organization_name: body.delta_sharing_organization_name,
        privilege_model_version: body.privilege_model_version,
        external_access_enabled: body.external_access_enabled,
    };
    metastores::update(tx, &ok, &current.id, &changes, &caller.name, now_ms())
}

fn require_workspace(conn: &Connection, id: i64) -> ApiResult<()> {
    if principals::workspace_exists(conn, id)? {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::WorkspaceDoesNotExist, format!("Workspace {id} does not exist.")))
    }
}

fn current_assignment(conn: &Connection, workspace_id: i64) -> ApiResult<AssignmentRow> {
    metastores::assignment(conn, workspace_id)?.ok_or_else(|| {
        ApiError::new(ErrorCode::ResourceDoesNotExist, format!("Workspace {workspace_id} has no metastore assigned."))
    })
}

/// A validated workspace assignment body: the metastore (required on create) and the default
/// catalog's name.
pub struct AssignmentSpec {
    pub metastore_id: Option<String>,
    pub default_catalog_name: Option<String>,
}

impl AssignmentSpec {
    pub fn parse(metastore_id: Option<String>, default_catalog_name: Option<String>) -> ApiResult<Self> {
        let default_catalog_name = default_catalog_name
            .map(|n| Ident::parse("default_catalog_name", &n).map(Ident::into_string))
            .transpose()?;
        Ok(AssignmentSpec { metastore_id: metastore_id.filter(|m| !m.is_empty()), default_catalog_name })
    }
}

/// createMetastoreAssignment: creates or overwrites.
pub fn assign(tx: &Connection, caller: &Caller, workspace_id: i64, spec: AssignmentSpec) -> ApiResult<()> {
    let metastore_id = spec.metastore_id.ok_or_else(|| ApiError::invalid("metastore_id", "is required"))?;
    let ok = authz::require(caller, &Action::CreateAssignment, &[]).map_err(denied)?;
    require_workspace(tx, workspace_id)?;
    metastores::require(tx, &metastore_id)?;
    metastores::assign(
        tx,
        &ok,
        &AssignmentRow { workspace_id, metastore_id, default_catalog_name: spec.default_catalog_name },
    )
}

/// updateMetastoreAssignment: only an existing assignment.
pub fn update_assignment(tx: &Connection, caller: &Caller, workspace_id: i64, spec: AssignmentSpec) -> ApiResult<()> {
    require_workspace(tx, workspace_id)?;
    let current = current_assignment(tx, workspace_id)?;
    let changes_metastore = spec.metastore_id.as_ref().is_some_and(|m| *m != current.metastore_id);
    let ok = authz::require(caller, &Action::UpdateAssignment { changes_metastore }, &[]).map_err(denied)?;
    if let Some(m) = &spec.metastore_id {
        metastores::require(tx, m)?;
    }
    let next = AssignmentRow {
        workspace_id,
        metastore_id: spec.metastore_id.unwrap_or(current.metastore_id),
        default_catalog_name: spec.default_catalog_name.or(current.default_catalog_name),
    };
    metastores::assign(tx, &ok, &next)
}

/// deleteMetastoreAssignment: `metastore_id` must name the assigned metastore.
pub fn unassign(tx: &Connection, caller: &Caller, workspace_id: i64, metastore_id: &str) -> ApiResult<()> {
    let ok = authz::require(caller, &Action::DeleteAssignment, &[]).map_err(denied)?;
    require_workspace(tx, workspace_id)?;
    let current = current_assignment(tx, workspace_id)?;
    if current.metastore_id != metastore_id {
        return Err(ApiError::invalid(
            "metastore_id",
            format!("workspace {workspace_id} is assigned to metastore {}, not {metastore_id}", current.metastore_id),
        ));
    }
    metastores::unassign(tx, &ok, workspace_id)
}
