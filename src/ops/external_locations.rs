//! External locations: createExternalLocation's validated input and the URL rules.

use super::denied;
use crate::authz::{self, Action, Caller, Node};
use crate::domain::now_ms;
use crate::error::ErrorCode;
use crate::store::securables;
use rusqlite::Connection;
use serde::Deserialize;

use super::{changed, owner_name};
use crate::domain::names::Ident;
use crate::domain::storage_url::StorageUrl;
use crate::domain::update::{rename_to, UpdateShape};
use crate::error::{ApiError, ApiResult};
use crate::store::external_locations::{self, LocationChanges, LocationRow, NewLocation};
use crate::store::{credentials, tables};

#[derive(Deserialize, utoipa::ToSchema)]
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
    let node = securables::with_grants(tx, current.node(), &caller.principals_json)?;
    let ok = authz::require(caller, &Action::DeleteExternalLocation, &[&node]).map_err(denied)?;
    if !force {
        let mut dependents = tables::external_within(tx, metastore_id, &current.storage_url())?;
        dependents.extend(crate::store::volumes::external_within(tx, metastore_id, &current.storage_url())?);
        if !dependents.is_empty() {
            let names: Vec<&str> = dependents.iter().map(|(t, _)| t.as_str()).collect();
            return Err(ApiError::new(
                ErrorCode::InvalidState,
                format!(
                    "External location '{name}' has dependent external table(s) or volume(s) {}; use force=true to delete it anyway.",
                    names.join(", ")
                ),
            ));
        }
    }
    external_locations::delete(tx, &ok, &current.id)
}

/// The list: a page after `after`; every row for those who may list them all, else the rows the
/// caller may get (the page's grants in one query).
pub fn list(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    after: &str,
    limit: Option<usize>,
) -> ApiResult<(Vec<LocationRow>, Option<String>)> {
    let page = external_locations::scan(conn, metastore_id, after, limit)?;
    let all = authz::visible(caller, &Action::ListAllExternalLocations, &[]);
    let rule = super::lists::Rule { all, action: &Action::GetExternalLocation, browse: None };
    let judged = super::lists::judge(conn, caller, page.rows, |r| r.node(), rule, &[])?;
    let rows = judged.into_iter().filter(|(_, shown)| *shown == super::lists::Shown::Full).map(|(r, _)| r).collect();
    Ok((rows, page.more_after))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UpdateExternalLocation {
    name: Option<String>,
    new_name: Option<String>,
    comment: Option<String>,
    owner: Option<String>,
    url: Option<String>,
    credential_name: Option<String>,
    read_only: Option<bool>,
    fallback: Option<bool>,
    isolation_mode: Option<String>,
    force: Option<bool>,
    #[allow(dead_code)]
    skip_validation: Option<bool>,
}

pub const ISOLATION_MODES: &[&str] = &["ISOLATION_MODE_OPEN", "ISOLATION_MODE_ISOLATED"];

/// A validated updateExternalLocation body.
pub struct LocationUpdate {
    name: Option<Ident>,
    new_name: Option<Ident>,
    comment: Option<String>,
    owner: Option<String>,
    url: Option<StorageUrl>,
    credential_name: Option<Ident>,
    read_only: Option<bool>,
    fallback: Option<bool>,
    isolation_mode: Option<String>,
    force: bool,
}

impl LocationUpdate {
    /// Validates the body; `allowed` checks a new URL against what the server may serve (the
    /// file roots), in the order the fields are checked.
    pub fn parse(
        body: UpdateExternalLocation,
        allowed: impl FnOnce(&StorageUrl) -> ApiResult<()>,
    ) -> ApiResult<LocationUpdate> {
        let new_name = body.new_name.map(|n| Ident::parse("new_name", &n)).transpose()?;
        let name = body.name.map(|n| Ident::parse("name", &n)).transpose()?;
        let url = body.url.filter(|u| !u.is_empty()).map(|u| parse_url(&u)).transpose()?;
        if let Some(u) = &url {
            allowed(u)?;
        }
        let credential_name = body.credential_name.map(|n| Ident::parse("credential_name", &n)).transpose()?;
        if let Some(mode) = &body.isolation_mode {
            if !ISOLATION_MODES.contains(&mode.as_str()) {
                return Err(ApiError::invalid(
                    "isolation_mode",
                    format!("unknown value {mode:?}; expected one of {ISOLATION_MODES:?}"),
                ));
            }
        }
        Ok(LocationUpdate {
            name,
            new_name,
            comment: body.comment,
            owner: body.owner,
            url,
            credential_name,
            read_only: body.read_only,
            fallback: body.fallback,
            isolation_mode: body.isolation_mode,
            force: body.force.unwrap_or(false),
        })
    }
}

/// updateExternalLocation: the owner, or a metastore admin changing only `owner`; a new URL or
/// credential also needs what a create needs, and the URL rules.
pub fn update(
    tx: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &Ident,
    body: LocationUpdate,
) -> ApiResult<LocationRow> {
    let current = external_locations::require(tx, metastore_id, name)?;
    let owner = body.owner.as_deref().map(|o| owner_name(tx, o)).transpose()?;
    let credential_name_after = body.credential_name.filter(|c| c.as_str() != current.credential_name);
    let credential = match credential_name_after.clone() {
        Some(c) => {
            let row = credentials::require(tx, metastore_id, &c)?;
            Some((row.id, row.name))
        }
        None => None,
    };
    let changes = LocationChanges {
        new_name: rename_to(name, body.name, body.new_name),
        owner: owner.filter(|o| *o != current.owner),
        comment: body.comment.filter(|c| changed(&current.comment, c)),
        url: body.url.filter(|u| u.as_str() != current.url),
        credential,
        read_only: body.read_only.filter(|r| *r != current.read_only),
        isolation_mode: body.isolation_mode.filter(|m| *m != current.isolation_mode),
        fallback: body.fallback.filter(|f| *f != current.fallback),
    };
    let shape = UpdateShape {
        rename: changes.new_name.is_some(),
        owner: changes.owner.is_some(),
        other: changes.comment.is_some()
            || changes.url.is_some()
            || changes.credential.is_some()
            || changes.read_only.is_some()
            || changes.isolation_mode.is_some()
            || changes.fallback.is_some(),
    };
    let node = securables::with_grants(tx, current.node(), &caller.principals_json)?;
    let ok = authz::require(caller, &Action::UpdateExternalLocation(shape), &[&node]).map_err(denied)?;
    if changes.url.is_some() || changes.credential.is_some() {
        // What the update creates needs what a create needs, on the credential used after
        // the change (checked against the state before the request).
        let cred_name = credential_name_after.unwrap_or_else(|| Ident::from_stored(current.credential_name.clone()));
        let cred = credentials::require(tx, metastore_id, &cred_name)?;
        let cred = securables::with_grants(tx, cred.node(), &caller.principals_json)?;
        let ms = securables::metastore_node(tx, metastore_id, &caller.principals_json)?;
        authz::require(caller, &Action::CreateExternalLocation, &[&ms, &cred]).map_err(denied)?;
    }
    if let Some(new_url) = &changes.url {
        check_url(tx, metastore_id, new_url, Some(&current.id))?;
        // `force`: go ahead even if external tables under the old URL are left uncovered.
        let stranded: Vec<String> = tables::external_within(tx, metastore_id, &current.storage_url())?
            .into_iter()
            .chain(crate::store::volumes::external_within(tx, metastore_id, &current.storage_url())?)
            .filter(|(_, loc)| !StorageUrl::from_stored(loc.clone()).is_within(new_url))
            .map(|(t, _)| t)
            .collect();
        if !stranded.is_empty() && !body.force {
            return Err(ApiError::new(
                ErrorCode::InvalidState,
                format!(
                    "Changing the url of external location '{name}' would leave external table(s) or volume(s) {} outside it; use force=true to change it anyway.",
                    stranded.join(", ")
                ),
            ));
        }
    }
    external_locations::update(tx, &ok, &current, &changes, &caller.name, now_ms())
}

/// listFiles, the part inside the store: the named credential exists, and the caller is a
/// metastore admin or holds READ_FILES on the location covering `url` or on the credential.
pub fn authorize_list_files(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    url: &StorageUrl,
    credential_name: Option<Ident>,
) -> ApiResult<()> {
    let credential = credential_name.as_ref().map(|n| credentials::require(conn, metastore_id, n)).transpose()?;
    let location = external_locations::covering(conn, metastore_id, url)?;
    let mut nodes: Vec<Node> = location.iter().map(|l| l.node()).chain(credential.map(|c| c.node())).collect();
    securables::attach_grants(conn, &mut nodes.iter_mut().collect::<Vec<_>>(), &caller.principals_json)?;
    let chain: Vec<&Node> = nodes.iter().collect();
    authz::require(caller, &Action::ListFiles, &chain).map_err(denied)?;
    Ok(())
}
