//! Unity Catalog set up through the account API (`a.metastores`, `a.metastore_assignments`,
//! `a.storage_credentials`): account admins act on every metastore of the account, through the
//! same metastore, assignment and credential operations as the workspace API.

use rusqlite::Connection;

use super::account::require_account_admin;
use super::metastores::{self as ms_ops, AssignmentSpec, MetastoreSpec, MetastoreUpdate};
use super::storage_credentials::{self as credential_ops, CredentialSpec, CredentialUpdate};
use crate::authz::{self, Action, Caller, MetastoreScope};
use crate::domain::names::Ident;
use crate::domain::{new_id, now_ms};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::credentials::CredentialRow;
use crate::store::metastores::{self, AssignmentRow, MetastoreRow, NewMetastore};

/// The caller as account APIs see it: an account admin administering every metastore (and, for a
/// metastore's credentials, acting in that metastore).
fn as_account_admin(caller: &Caller, metastore: Option<&MetastoreRow>) -> ApiResult<Caller> {
    require_account_admin(caller)?;
    let mut c = caller.clone();
    c.account_api = true;
    if let Some(m) = metastore {
        c.metastore = Some(MetastoreScope { id: m.id.clone(), owner: m.owner.clone(), default_catalog_name: None });
    }
    Ok(c)
}

/// A new metastore; `storage_root` may be absent here (hosted account API).
pub fn create_metastore(
    tx: &Connection,
    caller: &Caller,
    name: Option<String>,
    storage_root: Option<String>,
    region: Option<String>,
    external_access_enabled: Option<bool>,
) -> ApiResult<MetastoreRow> {
    let c = as_account_admin(caller, None)?;
    let ok = authz::require(&c, &Action::CreateMetastore, &[]).map_err(super::denied)?;
    let new = match storage_root.filter(|r| !r.is_empty()) {
        Some(root) => {
            let spec = MetastoreSpec::try_from(ms_ops::CreateMetastore::from_fixture(name, Some(root), region))?;
            let mut new = spec.into_new(new_id(), c.name.clone(), None, now_ms());
            new.external_access_enabled = external_access_enabled.unwrap_or(false);
            new
        }
        None => {
            let name = Ident::parse("metastore_info.name", name.as_deref().unwrap_or(""))?;
            NewMetastore {
                id: new_id(),
                name: name.into_string(),
                storage_root: String::new(),
                owner: c.name.clone(),
                cloud: ms_ops::DEFAULT_CLOUD.to_string(),
                region: region.filter(|r| !r.is_empty()).unwrap_or_else(|| ms_ops::DEFAULT_REGION.to_string()),
                external_access_enabled: external_access_enabled.unwrap_or(false),
                delta_sharing_scope: None,
                delta_sharing_recipient_token_lifetime_in_seconds: None,
                delta_sharing_organization_name: None,
                created_by: c.name.clone(),
                now: now_ms(),
            }
        }
    };
    metastores::insert(tx, &ok, &new)
}

pub fn list_metastores(conn: &Connection, caller: &Caller) -> ApiResult<Vec<MetastoreRow>> {
    as_account_admin(caller, None)?;
    let mut all = metastores::all(conn)?;
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(all)
}

pub fn get_metastore(conn: &Connection, caller: &Caller, id: &str) -> ApiResult<MetastoreRow> {
    let c = as_account_admin(caller, None)?;
    ms_ops::get(conn, &c, id)
}

pub fn update_metastore(tx: &Connection, caller: &Caller, id: &str, body: MetastoreUpdate) -> ApiResult<MetastoreRow> {
    let c = as_account_admin(caller, None)?;
    ms_ops::update(tx, &c, id, body)
}

/// Returns the managed volume directories to remove after the commit.
pub fn delete_metastore(tx: &Connection, caller: &Caller, id: &str, force: bool) -> ApiResult<Vec<String>> {
    let c = as_account_admin(caller, None)?;
    ms_ops::delete(tx, &c, id, force)
}

fn no_assignment(workspace_id: i64) -> ApiError {
    ApiError::new(ErrorCode::ResourceDoesNotExist, format!("Workspace {workspace_id} has no metastore assignment."))
}

/// POST: assigns the workspace to the metastore (replacing any assignment).
pub fn create_assignment(
    tx: &Connection,
    caller: &Caller,
    workspace_id: i64,
    metastore_id: &str,
    default_catalog_name: Option<String>,
) -> ApiResult<()> {
    let c = as_account_admin(caller, None)?;
    super::account::load_workspace(tx, workspace_id)?;
    metastores::require(tx, metastore_id)?;
    let spec = AssignmentSpec::parse(
        Some(metastore_id.to_string()),
        Some(default_catalog_name.unwrap_or_else(|| "hive_metastore".to_string())),
    )?;
    match metastores::assignment(tx, workspace_id)? {
        Some(_) => ms_ops::update_assignment(tx, &c, workspace_id, spec),
        None => ms_ops::assign(tx, &c, workspace_id, spec),
    }
}

/// The workspace's assignment to exactly this metastore, or 404.
fn assignment_to(conn: &Connection, workspace_id: i64, metastore_id: &str) -> ApiResult<AssignmentRow> {
    super::account::load_workspace(conn, workspace_id)?;
    metastores::require(conn, metastore_id)?;
    metastores::assignment(conn, workspace_id)?.filter(|a| a.metastore_id == metastore_id).ok_or_else(|| {
        ApiError::new(
            ErrorCode::ResourceDoesNotExist,
            format!("Workspace {workspace_id} is not assigned to metastore {metastore_id}."),
        )
    })
}

/// PUT: only the default catalog changes.
pub fn update_assignment(
    tx: &Connection,
    caller: &Caller,
    workspace_id: i64,
    metastore_id: &str,
    default_catalog_name: Option<String>,
) -> ApiResult<()> {
    let c = as_account_admin(caller, None)?;
    assignment_to(tx, workspace_id, metastore_id)?;
    let spec = AssignmentSpec::parse(None, default_catalog_name)?;
    ms_ops::update_assignment(tx, &c, workspace_id, spec)
}

pub fn delete_assignment(tx: &Connection, caller: &Caller, workspace_id: i64, metastore_id: &str) -> ApiResult<()> {
    let c = as_account_admin(caller, None)?;
    assignment_to(tx, workspace_id, metastore_id)?;
    ms_ops::unassign(tx, &c, workspace_id, metastore_id)
}

pub fn get_assignment(conn: &Connection, caller: &Caller, workspace_id: i64) -> ApiResult<AssignmentRow> {
    as_account_admin(caller, None)?;
    super::account::load_workspace(conn, workspace_id)?;
    metastores::assignment(conn, workspace_id)?.ok_or_else(|| no_assignment(workspace_id))
}

/// The workspaces assigned to a metastore, ascending.
pub fn assigned_workspaces(conn: &Connection, caller: &Caller, metastore_id: &str) -> ApiResult<Vec<i64>> {
    as_account_admin(caller, None)?;
    metastores::require(conn, metastore_id)?;
    let mut ids: Vec<i64> = crate::store::account::workspaces(conn)?
        .into_iter()
        .map(|w| w.workspace_id)
        .filter(|w| metastores::assignment(conn, *w).ok().flatten().is_some_and(|a| a.metastore_id == metastore_id))
        .collect();
    ids.sort_unstable();
    Ok(ids)
}

/// The caller acting in a metastore's credentials (account admins only; 404 for an unknown
/// metastore).
fn credential_caller(conn: &Connection, caller: &Caller, metastore_id: &str) -> ApiResult<Caller> {
    require_account_admin(caller)?;
    let m = metastores::require(conn, metastore_id)?;
    as_account_admin(caller, Some(&m))
}

/// A workspace credential error as the account API says it: an unknown credential is
/// `STORAGE_CREDENTIAL_DOES_NOT_EXIST`.
fn unknown_credential(e: ApiError) -> ApiError {
    if e.code == ErrorCode::ResourceDoesNotExist {
        ApiError::new(ErrorCode::StorageCredentialDoesNotExist, e.message)
    } else {
        e
    }
}

/// `a.storage_credentials.create`: the workspace operation, as an account admin in the metastore.
pub fn create_credential(tx: &Connection, caller: &Caller, ms: &str, spec: CredentialSpec) -> ApiResult<CredentialRow> {
    let c = credential_caller(tx, caller, ms)?;
    credential_ops::create(tx, &c, ms, spec)
}

/// `a.storage_credentials.list`: every credential of the metastore.
pub fn list_credentials(conn: &Connection, caller: &Caller, ms: &str) -> ApiResult<Vec<CredentialRow>> {
    let c = credential_caller(conn, caller, ms)?;
    Ok(credential_ops::list(conn, &c, ms, "", None)?.0)
}

/// `a.storage_credentials.get`.
pub fn get_credential(conn: &Connection, caller: &Caller, ms: &str, name: &Ident) -> ApiResult<CredentialRow> {
    let c = credential_caller(conn, caller, ms)?;
    credential_ops::get(conn, &c, ms, name).map_err(unknown_credential)
}

/// `a.storage_credentials.update`.
pub fn update_credential(
    tx: &Connection,
    caller: &Caller,
    ms: &str,
    name: &Ident,
    update: CredentialUpdate,
) -> ApiResult<CredentialRow> {
    let c = credential_caller(tx, caller, ms)?;
    credential_ops::update(tx, &c, ms, name, update).map_err(unknown_credential)
}

/// `a.storage_credentials.delete`.
pub fn delete_credential(tx: &Connection, caller: &Caller, ms: &str, name: &Ident, force: bool) -> ApiResult<()> {
    let c = credential_caller(tx, caller, ms)?;
    credential_ops::delete(tx, &c, ms, name, force).map_err(unknown_credential)
}
