//! Schemas (spec §12).

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::catalogs::{BrowseParams, ListParams};
use super::extract::{path_param, AppState, Body, Params, RawBody, Scoped};
use super::listing::{judge, Listing, PageArgs, Rule, Shown};
use super::metastores::{force_flag, ForceOpts};
use super::{changed, denied, ok_empty, owner_name, properties_json};
use crate::authz::{self, Action, Caller};
use crate::domain::names::{Ident, SchemaName};
use crate::domain::now_ms;
use crate::domain::storage_url::StorageUrl;
use crate::domain::update::{rename_to, UpdateShape};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::catalogs::{self, INFORMATION_SCHEMA};
use crate::store::schemas::{self, NewSchema, SchemaChanges, SchemaRow};
use crate::store::securables;

#[derive(Serialize)]
pub struct SchemaInfo {
    name: String,
    catalog_name: String,
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
    /// Selective metadata for a caller who holds only `BROWSE` on the catalog (privileges.md §5).
    fn browse_only(mut self) -> Self {
        self.browse_only = Some(true);
        self.properties = None;
        self.storage_root = None;
        self.storage_location = None;
        self
    }
}

/// `information_schema` is read-only for everyone (spec §11.2).
fn refuse_information_schema(name: &str, field: &str) -> ApiResult<()> {
    if name == INFORMATION_SCHEMA {
        Err(ApiError::invalid(field, "information_schema is a read-only system schema"))
    } else {
        Ok(())
    }
}

#[derive(Deserialize)]
pub struct CreateSchema {
    pub name: Option<String>,
    pub catalog_name: Option<String>,
    pub comment: Option<String>,
    pub properties: Option<BTreeMap<String, String>>,
    pub storage_root: Option<String>,
}

/// A validated schema create, shared with fixtures.
pub struct SchemaSpec {
    pub full_name: SchemaName,
    pub comment: Option<String>,
    pub properties: Option<String>,
    pub storage_root: Option<String>,
}

impl TryFrom<CreateSchema> for SchemaSpec {
    type Error = ApiError;
    fn try_from(c: CreateSchema) -> ApiResult<Self> {
        let schema = Ident::parse("name", c.name.as_deref().ok_or_else(|| ApiError::invalid("name", "is required"))?)?;
        refuse_information_schema(schema.as_str(), "name")?;
        let catalog = Ident::parse(
            "catalog_name",
            c.catalog_name.as_deref().ok_or_else(|| ApiError::invalid("catalog_name", "is required"))?,
        )?;
        let storage_root = c
            .storage_root
            .map(|r| StorageUrl::parse(&r).map(|u| u.to_string()).map_err(|e| ApiError::invalid("storage_root", e)))
            .transpose()?;
        Ok(SchemaSpec {
            full_name: SchemaName { catalog, schema },
            comment: c.comment,
            properties: properties_json(c.properties),
            storage_root,
        })
    }
}

impl SchemaSpec {
    pub fn into_new(self, owner: String, now: i64) -> NewSchema {
        NewSchema {
            name: self.full_name.schema,
            comment: self.comment,
            properties: self.properties,
            storage_root: self.storage_root,
            created_by: owner.clone(),
            owner,
            now,
        }
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
    let row = state
        .store
        .write(move |tx| {
            let catalog = catalogs::require(tx, &metastore.id, &spec.full_name.catalog)?;
            let node = securables::with_grants(tx, catalog.node(), &caller.principals_json)?;
            let ok = authz::require(&caller, &Action::CreateSchema, &[&node]).map_err(denied)?;
            let name = spec.full_name.clone();
            if let Some(root) = &spec.storage_root {
                crate::store::managed::check_new_root(tx, &metastore.id, root)?;
            }
            schemas::insert(tx, &ok, &catalog.id, &name.catalog, &spec.into_new(caller.name.clone(), now_ms()))?;
            schemas::get(tx, &metastore.id, &name)?.ok_or_else(|| schemas::not_found(&name))
        })
        .await?;
    Ok(HttpResponse::Ok().json(SchemaInfo::from(row)))
}

fn schema_name(req: &HttpRequest) -> ApiResult<SchemaName> {
    Ok(SchemaName::parse("full_name", &path_param(req, "full_name")?)?)
}

/// The error for a schema that was not found: the catalog's 404, a 403 for callers who may not
/// use the catalog (they do not learn whether the schema exists), else the schema's 404.
pub fn missing_schema(conn: &Connection, caller: &Caller, metastore_id: &str, name: &SchemaName) -> ApiError {
    let catalog = match catalogs::require(conn, metastore_id, &name.catalog) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let mut node = catalog.node();
    if let Err(e) = securables::attach_grants(conn, &mut [&mut node], &caller.principals_json) {
        return e;
    }
    match authz::require(caller, &Action::ListSchemas, &[&node]) {
        Err(d) => denied(d),
        Ok(_) => schemas::not_found(name),
    }
}

/// A schema and its chain [schema, catalog] with the caller's grants, or the right error.
pub fn load_schema(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &SchemaName,
) -> ApiResult<(SchemaRow, [authz::Node; 2])> {
    let Some(row) = schemas::get(conn, metastore_id, name)? else {
        return Err(missing_schema(conn, caller, metastore_id, name));
    };
    let (mut schema, mut catalog) = (row.node(), row.catalog_node());
    securables::attach_grants(conn, &mut [&mut schema, &mut catalog], &caller.principals_json)?;
    Ok((row, [schema, catalog]))
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
    let info = state
        .store
        .read(move |conn| {
            let (row, [schema, catalog]) = load_schema(conn, &caller, &metastore.id, &name)?;
            match authz::require(&caller, &Action::GetSchema, &[&schema, &catalog]) {
                Ok(_) => Ok(SchemaInfo::from(row)),
                Err(_) if browse && authz::visible(&caller, &Action::BrowseCatalog, &[&catalog]) => {
                    Ok(SchemaInfo::from(row).browse_only())
                }
                Err(d) => Err(denied(d)),
            }
        })
        .await?;
    Ok(HttpResponse::Ok().json(info))
}

#[derive(Deserialize)]
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
        .read(move |conn| {
            let catalog = catalogs::require(conn, &metastore.id, &catalog_name)?;
            let mut cnode = catalog.node();
            securables::attach_grants(conn, &mut [&mut cnode], &caller.principals_json)?;
            let browsing = browse && authz::visible(&caller, &Action::BrowseCatalog, &[&cnode]);
            if let Err(d) = authz::require(&caller, &Action::ListSchemas, &[&cnode]) {
                if !browsing {
                    return Err(denied(d));
                }
            }
            let all = authz::visible(&caller, &Action::ListAllSchemas, &[&cnode]);
            let page = schemas::scan(conn, &catalog.id, &after, limit)?;
            let browse = browsing.then_some(&Action::BrowseCatalog);
            let judged = judge(
                conn,
                &caller,
                page.rows,
                SchemaRow::node,
                Rule { all, action: &Action::GetSchema, browse },
                &[&cnode],
            )?;
            let items = judged
                .into_iter()
                .filter_map(|(row, shown)| match shown {
                    Shown::Full => Some(SchemaInfo::from(row)),
                    Shown::BrowseOnly => Some(SchemaInfo::from(row).browse_only()),
                    Shown::Hidden => None,
                })
                .collect::<Vec<_>>();
            Ok((items, page.more_after))
        })
        .await?;
    let next_page_token = args.next_token(&state.store, more_after);
    Ok(HttpResponse::Ok().json(Listing { key: "schemas", items, next_page_token }))
}

#[derive(Deserialize)]
pub struct UpdateSchema {
    name: Option<String>,
    new_name: Option<String>,
    comment: Option<String>,
    owner: Option<String>,
    properties: Option<BTreeMap<String, String>>,
}

/// updateSchema
pub async fn update_schema(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(body): Body<UpdateSchema>,
) -> ApiResult<HttpResponse> {
    let name = schema_name(&req)?;
    refuse_information_schema(name.schema.as_str(), "full_name")?;
    let new_name = body.new_name.map(|n| Ident::parse("new_name", &n)).transpose()?;
    let body_name = body.name.map(|n| Ident::parse("name", &n)).transpose()?;
    let rename = rename_to(&name.schema, body_name, new_name);
    if let Some(r) = &rename {
        refuse_information_schema(r.as_str(), "new_name")?;
    }
    let properties = properties_json(body.properties);
    let Scoped { caller, metastore } = scoped;
    let row = state
        .store
        .write(move |tx| {
            let (current, [schema, catalog]) = load_schema(tx, &caller, &metastore.id, &name)?;
            let owner = body.owner.as_deref().map(|o| owner_name(tx, o)).transpose()?;
            let changes = SchemaChanges {
                new_name: rename,
                owner: owner.filter(|o| *o != current.owner),
                comment: body.comment.filter(|c| changed(&current.comment, c)),
                properties: properties.filter(|p| current.properties.as_ref().map(|c| c.get()) != Some(p.as_str())),
            };
            let shape = UpdateShape {
                rename: changes.new_name.is_some(),
                owner: changes.owner.is_some(),
                other: changes.comment.is_some() || changes.properties.is_some(),
            };
            let ok = authz::require(&caller, &Action::UpdateSchema(shape), &[&schema, &catalog]).map_err(denied)?;
            schemas::update(tx, &ok, &current, &changes, &caller.name, now_ms())?;
            let now_named = SchemaName {
                catalog: name.catalog.clone(),
                schema: changes.new_name.clone().unwrap_or_else(|| name.schema.clone()),
            };
            schemas::get(tx, &metastore.id, &now_named)?.ok_or_else(|| schemas::not_found(&now_named))
        })
        .await?;
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
    state
        .store
        .write(move |tx| {
            let (current, [schema, catalog]) = load_schema(tx, &caller, &metastore.id, &name)?;
            let ok = authz::require(&caller, &Action::DeleteSchema, &[&schema, &catalog]).map_err(denied)?;
            if !force && schemas::has_tables(tx, &current.id)? {
                return Err(ApiError::new(
                    ErrorCode::SchemaNotEmpty,
                    format!("Schema '{name}' is not empty; it still has tables. Use force=true to delete it with its contents."),
                ));
            }
            schemas::delete(tx, &ok, &current.id)
        })
        .await?;
    Ok(ok_empty())
}
