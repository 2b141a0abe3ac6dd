//! Catalogs.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::extract::{name_param, qbool, qint, AppState, Body, Params, RawBody, Scoped};
use super::listing::{Listing, PageArgs, Shown};
use super::metastores::{force_flag, ForceOpts};
use super::ok_empty;
use crate::error::ApiResult;
use crate::ops;
use crate::ops::catalogs::{CatalogSpec, CatalogUpdate, CreateCatalog, UpdateCatalog};
use crate::store::catalogs::CatalogRow;

#[derive(Serialize, utoipa::ToSchema)]
pub struct CatalogInfo {
    name: String,
    full_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    owner: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<std::collections::HashMap<String, String>>)]
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
    /// What a caller who holds only `BROWSE` sees: selective metadata.
    fn browse_only(mut self) -> Self {
        self.browse_only = Some(true);
        self.properties = None;
        self.storage_root = None;
        self.storage_location = None;
        self
    }
}

/// `include_browse` on get endpoints.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BrowseParams {
    #[serde(default, deserialize_with = "qbool::option")]
    pub include_browse: Option<bool>,
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
    let row = state.store.write(move |tx| ops::catalogs::create(tx, &caller, &metastore.id, spec)).await?;
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
    let (row, browse_only) =
        state.store.read(move |conn| ops::catalogs::get(conn, &caller, &metastore.id, &name, browse)).await?;
    let info = CatalogInfo::from(row);
    Ok(HttpResponse::Ok().json(if browse_only { info.browse_only() } else { info }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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
    let (items, more_after) =
        state.store.read(move |conn| ops::catalogs::list(conn, &caller, &metastore.id, &after, limit, browse)).await?;
    let items: Vec<CatalogInfo> = items
        .into_iter()
        .filter_map(|(row, shown)| match shown {
            Shown::Full => Some(CatalogInfo::from(row)),
            Shown::BrowseOnly => Some(CatalogInfo::from(row).browse_only()),
            Shown::Hidden => None,
        })
        .collect();
    let next_page_token = args.next_token(&state.store, more_after);
    Ok(HttpResponse::Ok().json(Listing { key: "catalogs", items, next_page_token }))
}

/// updateCatalog
pub async fn update_catalog(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(body): Body<UpdateCatalog>,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let update = CatalogUpdate::try_from(body)?;
    let Scoped { caller, metastore } = scoped;
    let row = state.store.write(move |tx| ops::catalogs::update(tx, &caller, &metastore.id, &name, update)).await?;
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
    let removed = state.store.write(move |tx| ops::catalogs::delete(tx, &caller, &metastore.id, &name, force)).await?;
    super::volumes::remove_after_commit(&state, removed).await;
    Ok(ok_empty())
}
