//! Catalogs (spec §11).

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::extract::{name_param, qbool, qint, AppState, Body, Params, RawBody, Scoped};
use super::listing::{judge, Listing, PageArgs, Rule, Shown};
use super::metastores::{force_flag, ForceOpts};
use super::{changed, denied, ok_empty, owner_name, properties_json};
use crate::authz::{self, Action};
use crate::domain::names::Ident;
use crate::domain::now_ms;
use crate::domain::storage_url::StorageUrl;
use crate::domain::update::{rename_to, UpdateShape};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::catalogs::{self, CatalogChanges, CatalogRow, NewCatalog};
use crate::store::{providers, securables};

#[derive(Serialize)]
pub struct CatalogInfo {
    name: String,
    full_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    owner: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_root: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    share_name: Option<String>,
    catalog_type: &'static str,
    isolation_mode: String,
    securable_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    browse_only: Option<bool>,
    metastore_id: String,
    created_at: i64,
    created_by: String,
    updated_at: i64,
    updated_by: String,
}

impl From<CatalogRow> for CatalogInfo {
    fn from(c: CatalogRow) -> Self {
        CatalogInfo {
            full_name: c.name.clone(),
            name: c.name,
            comment: c.comment,
            owner: c.owner,
            properties: c.properties,
            storage_location: c.storage_root.clone(),
            storage_root: c.storage_root,
            catalog_type: if c.provider_name.is_some() { "DELTASHARING_CATALOG" } else { "MANAGED_CATALOG" },
            provider_name: c.provider_name,
            share_name: c.share_name,
            isolation_mode: c.isolation_mode,
            securable_type: "CATALOG",
            browse_only: None,
            metastore_id: c.metastore_id,
            created_at: c.created_at,
            created_by: c.created_by,
            updated_at: c.updated_at,
            updated_by: c.updated_by,
        }
    }
}

impl CatalogInfo {
    /// What a caller who holds only `BROWSE` sees: selective metadata (privileges.md §5).
    fn browse_only(mut self) -> Self {
        self.browse_only = Some(true);
        self.properties = None;
        self.storage_root = None;
        self.storage_location = None;
        self
    }
}

/// `include_browse` on get endpoints.
#[derive(Deserialize)]
pub struct BrowseParams {
    #[serde(default, deserialize_with = "qbool::option")]
    pub include_browse: Option<bool>,
}

#[derive(Deserialize)]
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
    /// The row to insert. A Delta Sharing catalog's provider must exist (404, spec §11.1).
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

/// createCatalog
pub async fn create_catalog(
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(req): Body<CreateCatalog>,
) -> ApiResult<HttpResponse> {
    let spec = CatalogSpec::try_from(req)?;
    if let Some(root) = &spec.storage_root {
        state.file_roots.check_raw("storage_root", root)?;
    }
    let Scoped { caller, metastore } = scoped;
    let row = state
        .store
        .write(move |tx| {
            let ms = securables::metastore_node(tx, &metastore.id, &caller.principals_json)?;
            let ok = authz::require(&caller, &Action::CreateCatalog, &[&ms]).map_err(denied)?;
            if let Some(provider) = &spec.provider_name {
                // Spec §11.3: a Delta Sharing catalog's creator must also own the provider.
                let (_, [pn, mn]) = super::providers::load(tx, &caller, &metastore.id, provider)?;
                authz::require(&caller, &Action::UseProviderForCatalog, &[&pn, &mn]).map_err(denied)?;
            }
            let new = spec.into_new(tx, &metastore.id, caller.name.clone(), now_ms())?;
            catalogs::insert(tx, &ok, &metastore.id, &new)
        })
        .await?;
    Ok(HttpResponse::Ok().json(CatalogInfo::from(row)))
}

/// getCatalog
pub async fn get_catalog(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<BrowseParams>,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let browse = p.include_browse.unwrap_or(false);
    let Scoped { caller, metastore } = scoped;
    let info = state
        .store
        .read(move |conn| {
            let row = catalogs::require(conn, &metastore.id, &name)?;
            let node = securables::with_grants(conn, row.node(), &caller.principals_json)?;
            match authz::require(&caller, &Action::GetCatalog, &[&node]) {
                Ok(_) => Ok(CatalogInfo::from(row)),
                Err(_) if browse && authz::visible(&caller, &Action::BrowseCatalog, &[&node]) => {
                    Ok(CatalogInfo::from(row).browse_only())
                }
                Err(d) => Err(denied(d)),
            }
        })
        .await?;
    Ok(HttpResponse::Ok().json(info))
}

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(default, deserialize_with = "qint::option")]
    pub max_results: Option<i64>,
    pub page_token: Option<String>,
    #[serde(default, deserialize_with = "qbool::option")]
    pub include_browse: Option<bool>,
}

/// listCatalogs: every catalog for a metastore admin; otherwise those the caller may get.
pub async fn list_catalogs(
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<ListParams>,
) -> ApiResult<HttpResponse> {
    let Scoped { caller, metastore } = scoped;
    let args = PageArgs::new(
        &state.store,
        format!("catalogs:{}", metastore.id),
        p.max_results,
        p.page_token.as_deref(),
        None,
    )?;
    let (after, limit) = (args.after.clone(), args.limit);
    let browse = p.include_browse.unwrap_or(false);
    let (items, more_after) = state
        .store
        .read(move |conn| {
            let page = catalogs::scan(conn, &metastore.id, &after, limit)?;
            let all = authz::visible(&caller, &Action::ListAllCatalogs, &[]);
            let browse = browse.then_some(&Action::BrowseCatalog);
            let judged = judge(
                conn,
                &caller,
                page.rows,
                CatalogRow::node,
                Rule { all, action: &Action::GetCatalog, browse },
                &[],
            )?;
            let items = judged
                .into_iter()
                .filter_map(|(row, shown)| match shown {
                    Shown::Full => Some(CatalogInfo::from(row)),
                    Shown::BrowseOnly => Some(CatalogInfo::from(row).browse_only()),
                    Shown::Hidden => None,
                })
                .collect::<Vec<_>>();
            Ok((items, page.more_after))
        })
        .await?;
    let next_page_token = args.next_token(&state.store, more_after);
    Ok(HttpResponse::Ok().json(Listing { key: "catalogs", items, next_page_token }))
}

#[derive(Deserialize)]
pub struct UpdateCatalog {
    name: Option<String>,
    new_name: Option<String>,
    comment: Option<String>,
    owner: Option<String>,
    properties: Option<BTreeMap<String, String>>,
    isolation_mode: Option<String>,
}

const ISOLATION_MODES: &[&str] = &["OPEN", "ISOLATED", "OPEN_IN_ACCOUNT"];

/// updateCatalog
pub async fn update_catalog(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(body): Body<UpdateCatalog>,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let new_name = body.new_name.map(|n| Ident::parse("new_name", &n)).transpose()?;
    let body_name = body.name.map(|n| Ident::parse("name", &n)).transpose()?;
    if let Some(mode) = &body.isolation_mode {
        if !ISOLATION_MODES.contains(&mode.as_str()) {
            return Err(ApiError::invalid(
                "isolation_mode",
                format!("unknown value {mode:?}; expected one of {ISOLATION_MODES:?}"),
            ));
        }
    }
    let properties = properties_json(body.properties);
    let Scoped { caller, metastore } = scoped;
    let row = state
        .store
        .write(move |tx| {
            let current = catalogs::require(tx, &metastore.id, &name)?;
            let owner = body.owner.as_deref().map(|o| owner_name(tx, o)).transpose()?;
            let changes = CatalogChanges {
                new_name: rename_to(&name, body_name, new_name),
                owner: owner.filter(|o| *o != current.owner),
                comment: body.comment.filter(|c| changed(&current.comment, c)),
                properties: properties.filter(|p| current.properties.as_ref().map(|c| c.get()) != Some(p.as_str())),
                isolation_mode: body.isolation_mode.filter(|m| *m != current.isolation_mode),
            };
            let shape = UpdateShape {
                rename: changes.new_name.is_some(),
                owner: changes.owner.is_some(),
                other: changes.comment.is_some() || changes.properties.is_some() || changes.isolation_mode.is_some(),
            };
            let node = securables::with_grants(tx, current.node(), &caller.principals_json)?;
            let ok = authz::require(&caller, &Action::UpdateCatalog(shape), &[&node]).map_err(denied)?;
            catalogs::update(tx, &ok, &current, &changes, &caller.name, now_ms())
        })
        .await?;
    Ok(HttpResponse::Ok().json(CatalogInfo::from(row)))
}

/// deleteCatalog: without `force`, only a catalog with no schema but `information_schema`.
pub async fn delete_catalog(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(q): Params<ForceOpts>,
    RawBody(body): RawBody,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let force = force_flag(q, &body)?;
    let Scoped { caller, metastore } = scoped;
    state
        .store
        .write(move |tx| {
            let current = catalogs::require(tx, &metastore.id, &name)?;
            let node = current.node();
            let ok = authz::require(&caller, &Action::DeleteCatalog, &[&node]).map_err(denied)?;
            if !force && catalogs::has_user_schemas(tx, &current.id)? {
                return Err(ApiError::new(
                    ErrorCode::CatalogNotEmpty,
                    format!("Catalog '{name}' is not empty; it still has schemas. Use force=true to delete it with its contents."),
                ));
            }
            catalogs::delete(tx, &ok, &current.id)
        })
        .await?;
    Ok(ok_empty())
}
