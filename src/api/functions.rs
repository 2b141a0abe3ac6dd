//! Functions (`/api/2.1/unity-catalog/functions`): create with the full FunctionInfo, list, get,
//! update (owner), delete.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::catalogs::{BrowseParams, ListParams};
use super::extract::{path_param, AppState, Body, Params, Scoped};
use super::listing::{Listing, PageArgs, Shown};
use super::metastores::ForceOpts;
use super::{ok_empty, Res, UC};
use crate::domain::names::TableName;
use crate::error::ApiResult;
use crate::ops;
use crate::ops::functions::{FunctionSpec, UpdateFunction};
use crate::store::functions::FunctionRow;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(Res::new(&format!("{UC}/functions")).get(list_functions).post(create_function).build()).service(
        Res::new(&format!("{UC}/functions/{{full_name}}"))
            .get(get_function)
            .patch(update_function)
            .delete(delete_function)
            .build(),
    );
}

/// FunctionInfo: the stored CreateFunction fields, plus identity and audit fields.
fn info(row: FunctionRow, browse_only: bool) -> Json {
    let mut m: Map<String, Json> = serde_json::from_str(row.info.get()).unwrap_or_default();
    m.insert("full_name".into(), row.full_name().into());
    m.insert("name".into(), row.name.into());
    m.insert("catalog_name".into(), row.parent.catalog_name.into());
    m.insert("schema_name".into(), row.parent.schema_name.into());
    m.insert("function_id".into(), row.id.into());
    m.insert("metastore_id".into(), row.parent.metastore_id.into());
    m.insert("owner".into(), row.owner.into());
    m.insert("created_at".into(), row.created_at.into());
    m.insert("created_by".into(), row.created_by.into());
    m.insert("updated_at".into(), row.updated_at.into());
    m.insert("updated_by".into(), row.updated_by.into());
    m.entry("input_params").or_insert_with(|| serde_json::json!({"parameters": []}));
    if browse_only {
        m.insert("browse_only".into(), true.into());
        m.remove("routine_definition");
    }
    Json::Object(m)
}

/// createFunction
pub async fn create_function(
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(body): Body<Json>,
) -> ApiResult<HttpResponse> {
    let spec = FunctionSpec::try_from(ops::functions::parse_create(body)?)?;
    let Scoped { caller, metastore } = scoped;
    let row = state.store.write(move |tx| ops::functions::create(tx, &caller, &metastore.id, spec)).await?;
    Ok(HttpResponse::Ok().json(info(row, false)))
}

fn function_name(req: &HttpRequest) -> ApiResult<TableName> {
    Ok(TableName::parse("full_name", &path_param(req, "full_name")?)?)
}

/// getFunction
pub async fn get_function(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<BrowseParams>,
) -> ApiResult<HttpResponse> {
    let name = function_name(&req)?;
    let browse = p.include_browse.unwrap_or(false);
    let Scoped { caller, metastore } = scoped;
    let (row, browse_only) =
        state.store.read(move |conn| ops::functions::get(conn, &caller, &metastore.id, &name, browse)).await?;
    Ok(HttpResponse::Ok().json(info(row, browse_only)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListFunctionsParams {
    catalog_name: Option<String>,
    schema_name: Option<String>,
}

/// listFunctions: 403 without use of the catalog and schema (unless browsing); every function
/// for metastore admins, else those the caller may execute.
pub async fn list_functions(
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<ListFunctionsParams>,
    Params(page): Params<ListParams>,
) -> ApiResult<HttpResponse> {
    let schema = ops::schemas::list_parent(&p.catalog_name, &p.schema_name)?;
    let Scoped { caller, metastore } = scoped;
    let args = PageArgs::new(
        &state.store,
        format!("functions:{}:{schema}", metastore.id),
        page.max_results,
        page.page_token.as_deref(),
        None,
    )?;
    let (after, limit) = (args.after.clone(), args.limit);
    let browse = page.include_browse.unwrap_or(false);
    let (items, more_after) = state
        .store
        .read(move |conn| ops::functions::list(conn, &caller, &metastore.id, &schema, &after, limit, browse))
        .await?;
    let items: Vec<_> = items
        .into_iter()
        .filter_map(|(f, shown)| match shown {
            Shown::Full => Some(info(f, false)),
            Shown::BrowseOnly => Some(info(f, true)),
            Shown::Hidden => None,
        })
        .collect();
    let next_page_token = args.next_token(&state.store, more_after);
    Ok(HttpResponse::Ok().json(Listing { key: "functions", items, next_page_token }))
}

/// updateFunction (owner only)
pub async fn update_function(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(body): Body<UpdateFunction>,
) -> ApiResult<HttpResponse> {
    let name = function_name(&req)?;
    let Scoped { caller, metastore } = scoped;
    let row = state.store.write(move |tx| ops::functions::update(tx, &caller, &metastore.id, &name, body)).await?;
    Ok(HttpResponse::Ok().json(info(row, false)))
}

/// deleteFunction (`force` accepted, no effect)
pub async fn delete_function(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(_force): Params<ForceOpts>,
) -> ApiResult<HttpResponse> {
    let name = function_name(&req)?;
    let Scoped { caller, metastore } = scoped;
    state.store.write(move |tx| ops::functions::delete(tx, &caller, &metastore.id, &name)).await?;
    Ok(ok_empty())
}
