//! Catalogs: createCatalog's validated input and the catalog operations.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Deserialize;

use super::lists::{judge, Judged, Rule};
use super::{changed, denied, owner_name, properties_json};
use crate::authz::{self, Action, Caller};
use crate::domain::names::Ident;
use crate::domain::now_ms;
use crate::domain::storage_url::StorageUrl;
use crate::domain::update::{rename_to, UpdateShape};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::catalogs::{self, CatalogChanges, CatalogRow, NewCatalog};
use crate::store::volumes;
use crate::store::{providers, securables};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateCatalog {
    pub name: Option<String>,
    pub comment: Option<String>,
    pub properties: Option<BTreeMap<String, String>>,
    pub storage_root: Option<String>,
    pub provider_name: Option<String>,
    pub share_name: Option<String>,
}

/// A validated catalog create, shared with fixtures.
pub struct CatalogSpec {
    pub name: Ident,
    pub comment: Option<String>,
    pub properties: Option<String>,
    pub storage_root: Option<String>,
    pub provider_name: Option<Ident>,
    pub share_name: Option<Ident>,
}

impl TryFrom<CreateCatalog> for CatalogSpec {
    type Error = ApiError;
    fn try_from(c: CreateCatalog) -> ApiResult<Self> {
        let name = Ident::parse("name", c.name.as_deref().ok_or_else(|| ApiError::invalid("name", "is required"))?)?;
        let storage_root = c
            .storage_root
            .map(|r| StorageUrl::parse(&r).map(|u| u.to_string()).map_err(|e| ApiError::invalid("storage_root", e)))
            .transpose()?;
        let provider_name = c.provider_name.map(|p| Ident::parse("provider_name", &p)).transpose()?;
        let share_name = c.share_name.map(|s| Ident::parse("share_name", &s)).transpose()?;
        match (&provider_name, &share_name) {
            (Some(_), None) => return Err(ApiError::invalid("share_name", "is required with provider_name")),
            (None, Some(_)) => return Err(ApiError::invalid("provider_name", "is required with share_name")),
            _ => {}
        }
        Ok(CatalogSpec {
            name,
            comment: c.comment,
            properties: properties_json(c.properties),
            storage_root,
            provider_name,
            share_name,
        })
    }
}

impl CatalogSpec {
    /// The row to insert. A Delta Sharing catalog's provider must exist (404).
    pub fn into_new(
        self,
        conn: &rusqlite::Connection,
        metastore_id: &str,
        owner: String,
        now: i64,
    ) -> ApiResult<NewCatalog> {
        if let Some(provider) = &self.provider_name {
            providers::require(conn, metastore_id, provider)?;
        }
        if let Some(root) = &self.storage_root {
            crate::store::managed::check_new_root(conn, metastore_id, root)?;
        }
        Ok(NewCatalog {
            name: self.name,
            comment: self.comment,
            properties: self.properties,
            storage_root: self.storage_root,
            provider_name: self.provider_name.map(Ident::into_string),
            share_name: self.share_name.map(Ident::into_string),
            created_by: owner.clone(),
            owner,
            now,
        })
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UpdateCatalog {
    name: Option<String>,
    new_name: Option<String>,
    comment: Option<String>,
    owner: Option<String>,
    properties: Option<BTreeMap<String, String>>,
    isolation_mode: Option<String>,
}

pub const ISOLATION_MODES: &[&str] = &["OPEN", "ISOLATED", "OPEN_IN_ACCOUNT"];

/// createCatalog: a metastore admin or CREATE_CATALOG on the metastore; a Delta Sharing catalog's
/// creator must also own the provider.
pub fn create(tx: &Connection, caller: &Caller, metastore_id: &str, spec: CatalogSpec) -> ApiResult<CatalogRow> {
    let ms = securables::metastore_node(tx, metastore_id, &caller.principals_json)?;
    let ok = authz::require(caller, &Action::CreateCatalog, &[&ms]).map_err(denied)?;
    if let Some(provider) = &spec.provider_name {
        let (_, [pn, mn]) = super::providers::load(tx, caller, metastore_id, provider)?;
        authz::require(caller, &Action::UseProviderForCatalog, &[&pn, &mn]).map_err(denied)?;
    }
    if spec.storage_root.is_none() && spec.provider_name.is_none() && spec.share_name.is_none() {
        let ms = crate::store::metastores::require(tx, metastore_id)?;
        if ms.storage_root.is_empty() {
            return Err(ApiError::invalid(
                "storage_root",
                "The metastore has no storage root; give the catalog a storage_root.",
            ));
        }
    }
    let new = spec.into_new(tx, metastore_id, caller.name.clone(), now_ms())?;
    catalogs::insert(tx, &ok, metastore_id, &new)
}

/// getCatalog: the row, and whether the caller sees it only through `BROWSE` (when asked for).
pub fn get(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &Ident,
    browse: bool,
) -> ApiResult<(CatalogRow, bool)> {
    let row = catalogs::require(conn, metastore_id, name)?;
    let node = securables::with_grants(conn, row.node(), &caller.principals_json)?;
    match authz::require(caller, &Action::GetCatalog, &[&node]) {
        Ok(_) => Ok((row, false)),
        Err(_) if browse && authz::visible(caller, &Action::BrowseCatalog, &[&node]) => Ok((row, true)),
        Err(d) => Err(denied(d)),
    }
}

/// A validated updateCatalog body.
pub struct CatalogUpdate {
    name: Option<Ident>,
    new_name: Option<Ident>,
    comment: Option<String>,
    owner: Option<String>,
    properties: Option<String>,
    isolation_mode: Option<String>,
}

impl TryFrom<UpdateCatalog> for CatalogUpdate {
    type Error = ApiError;
    fn try_from(body: UpdateCatalog) -> ApiResult<Self> {
        let new_name = body.new_name.map(|n| Ident::parse("new_name", &n)).transpose()?;
        let name = body.name.map(|n| Ident::parse("name", &n)).transpose()?;
        if let Some(mode) = &body.isolation_mode {
            if !ISOLATION_MODES.contains(&mode.as_str()) {
                return Err(ApiError::invalid(
                    "isolation_mode",
                    format!("unknown value {mode:?}; expected one of {ISOLATION_MODES:?}"),
                ));
            }
        }
        Ok(CatalogUpdate {
            name,
            new_name,
            comment: body.comment,
            owner: body.owner,
            properties: properties_json(body.properties),
            isolation_mode: body.isolation_mode,
        })
    }
}

/// updateCatalog
pub fn update(
    tx: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &Ident,
    body: CatalogUpdate,
) -> ApiResult<CatalogRow> {
    let current = catalogs::require(tx, metastore_id, name)?;
    let owner = body.owner.as_deref().map(|o| owner_name(tx, o)).transpose()?;
    let changes = CatalogChanges {
        new_name: rename_to(name, body.name, body.new_name),
        owner: owner.filter(|o| *o != current.owner),
        comment: body.comment.filter(|c| changed(&current.comment, c)),
        properties: body.properties.filter(|p| current.properties.as_ref().map(|c| c.get()) != Some(p.as_str())),
        isolation_mode: body.isolation_mode.filter(|m| *m != current.isolation_mode),
    };
    let shape = UpdateShape {
        rename: changes.new_name.is_some(),
        owner: changes.owner.is_some(),
        other: changes.comment.is_some() || changes.properties.is_some() || changes.isolation_mode.is_some(),
    };
    let node = securables::with_grants(tx, current.node(), &caller.principals_json)?;
    let ok = authz::require(caller, &Action::UpdateCatalog(shape), &[&node]).map_err(denied)?;
    catalogs::update(tx, &ok, &current, &changes, &caller.name, now_ms())
}

/// deleteCatalog: without `force`, only a catalog with no schema but `information_schema`.
/// Returns the storage locations of the managed volumes that went with it.
pub fn delete(
    tx: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &Ident,
    force: bool,
) -> ApiResult<Vec<String>> {
    let current = catalogs::require(tx, metastore_id, name)?;
    let node = securables::with_grants(tx, current.node(), &caller.principals_json)?;
    let ok = authz::require(caller, &Action::DeleteCatalog, &[&node]).map_err(denied)?;
    if !force && catalogs::has_user_schemas(tx, &current.id)? {
        return Err(ApiError::new(
            ErrorCode::CatalogNotEmpty,
            format!(
                "Catalog '{name}' is not empty; it still has schemas. Use force=true to delete it with its contents."
            ),
        ));
    }
    let managed = volumes::managed_locations(tx, volumes::Scope::Catalog, &current.id)?;
    catalogs::delete(tx, &ok, &current.id)?;
    Ok(managed)
}

/// listCatalogs: a page of catalogs after `after`, each judged by getCatalog (every one for a
/// metastore admin), or browse-only through `BROWSE` when `browse` asks for it.
pub fn list(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    after: &str,
    limit: Option<usize>,
    browse: bool,
) -> ApiResult<Judged<CatalogRow>> {
    let page = catalogs::scan(conn, metastore_id, after, limit)?;
    let all = authz::visible(caller, &Action::ListAllCatalogs, &[]);
    let browse = browse.then_some(&Action::BrowseCatalog);
    let rule = Rule { all, action: &Action::GetCatalog, browse };
    Ok((judge(conn, caller, page.rows, CatalogRow::node, rule, &[])?, page.more_after))
}
