//! Schemas.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::catalogs::{BrowseParams, ListParams};
use super::extract::{path_param, AppState, Body, Params, RawBody, Scoped};
use super::listing::{Listing, PageArgs, Shown};
use super::metastores::{force_flag, ForceOpts};
use super::ok_empty;
use crate::domain::names::{Ident, SchemaName};
use crate::error::{ApiError, ApiResult};
use crate::ops;
use crate::ops::schemas::{refuse_information_schema, CreateSchema, SchemaSpec, SchemaUpdate, UpdateSchema};
use crate::store::schemas::SchemaRow;

#[derive(Serialize, utoipa::ToSchema)]
pub struct SchemaInfo {
    name: String,
    catalog_name: String,
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
    schema_id: String,
    metastore_id: String,
    catalog_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    browse_only: Option<bool>,
    created_at: i64,
    created_by: String,
    updated_at: i64,
    updated_by: String,
}

impl From<SchemaRow> for SchemaInfo {
    fn from(s: SchemaRow) -> Self {
        SchemaInfo {
            full_name: s.full_name(),
            name: s.name,
            catalog_name: s.catalog_name,
            comment: s.comment,
            owner: s.owner,
            properties: s.properties,
            storage_location: s.storage_root.clone(),
            storage_root: s.storage_root,
            schema_id: s.id,
            metastore_id: s.metastore_id,
            catalog_type: "MANAGED_CATALOG",
            browse_only: None,
            created_at: s.created_at,
            created_by: s.created_by,
            updated_at: s.updated_at,
            updated_by: s.updated_by,
        }
    }
}

impl SchemaInfo {
    /// Selective metadata for a caller who holds only `BROWSE` on the catalog.
    fn browse_only(mut self) -> Self {
        self.browse_only = Some(true);
        self.properties = None;
        self.storage_root = None;
        self.storage_location = None;
        self
    }
}

/// createSchema
pub async fn create_schema(
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(req): Body<CreateSchema>,
) -> ApiResult<HttpResponse> {
    let spec = SchemaSpec::try_from(req)?;
    if let Some(root) = &spec.storage_root {
        state.file_roots.check_raw("storage_root", root)?;
    }
    let Scoped { caller, metastore } = scoped;
    let row = state.store.write(move |tx| ops::schemas::create(tx, &caller, &metastore.id, spec)).await?;
    Ok(HttpResponse::Ok().json(SchemaInfo::from(row)))
}

fn schema_name(req: &HttpRequest) -> ApiResult<SchemaName> {
    Ok(SchemaName::parse("full_name", &path_param(req, "full_name")?)?)
}

/// getSchema
pub async fn get_schema(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<BrowseParams>,
) -> ApiResult<HttpResponse> {
    let name = schema_name(&req)?;
    let browse = p.include_browse.unwrap_or(false);
    let Scoped { caller, metastore } = scoped;
    let (row, browse_only) =
        state.store.read(move |conn| ops::schemas::get(conn, &caller, &metastore.id, &name, browse)).await?;
    let info = SchemaInfo::from(row);
    Ok(HttpResponse::Ok().json(if browse_only { info.browse_only() } else { info }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListSchemasParams {
    catalog_name: Option<String>,
}

/// listSchemas: 403 without catalog access; otherwise every schema for metastore admins and
/// catalog owners, else those the caller may get.
pub async fn list_schemas(
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<ListSchemasParams>,
    Params(page): Params<ListParams>,
) -> ApiResult<HttpResponse> {
    let catalog_name = Ident::parse(
        "catalog_name",
        p.catalog_name.as_deref().ok_or_else(|| ApiError::invalid("catalog_name", "is required"))?,
    )?;
    let Scoped { caller, metastore } = scoped;
    let args = PageArgs::new(
        &state.store,
        format!("schemas:{}:{catalog_name}", metastore.id),
        page.max_results,
        page.page_token.as_deref(),
        None,
    )?;
    let (after, limit) = (args.after.clone(), args.limit);
    let browse = page.include_browse.unwrap_or(false);
    let (items, more_after) = state
        .store
        .read(move |conn| ops::schemas::list(conn, &caller, &metastore.id, &catalog_name, &after, limit, browse))
        .await?;
    let items: Vec<SchemaInfo> = items
        .into_iter()
        .filter_map(|(row, shown)| match shown {
            Shown::Full => Some(SchemaInfo::from(row)),
            Shown::BrowseOnly => Some(SchemaInfo::from(row).browse_only()),
            Shown::Hidden => None,
        })
        .collect();
    let next_page_token = args.next_token(&state.store, more_after);
    Ok(HttpResponse::Ok().json(Listing { key: "schemas", items, next_page_token }))
}

/// updateSchema
pub async fn update_schema(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(body): Body<UpdateSchema>,
) -> ApiResult<HttpResponse> {
    let name = schema_name(&req)?;
    let update = SchemaUpdate::parse(&name, body)?;
    let Scoped { caller, metastore } = scoped;
    let row = state.store.write(move |tx| ops::schemas::update(tx, &caller, &metastore.id, &name, update)).await?;
    Ok(HttpResponse::Ok().json(SchemaInfo::from(row)))
}

/// deleteSchema: without `force`, only an empty schema.
pub async fn delete_schema(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(q): Params<ForceOpts>,
    RawBody(body): RawBody,
) -> ApiResult<HttpResponse> {
    let name = schema_name(&req)?;
    refuse_information_schema(name.schema.as_str(), "full_name")?;
    let force = force_flag(q, &body)?;
    let Scoped { caller, metastore } = scoped;
    let removed = state.store.write(move |tx| ops::schemas::delete(tx, &caller, &metastore.id, &name, force)).await?;
    super::volumes::remove_after_commit(&state, removed).await;
    Ok(ok_empty())
}
