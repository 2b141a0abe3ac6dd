//! External locations.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::catalogs::ListParams;
use super::extract::{name_param, AppState, Body, Params, RawBody, Scoped};
use super::listing::{Listing, PageArgs};
use super::metastores::{force_flag, ForceOpts};
use super::{ok_empty, Res, UC};
use crate::error::ApiResult;
use crate::ops;
use crate::ops::external_locations::{CreateExternalLocation, LocationSpec, LocationUpdate, UpdateExternalLocation};
use crate::store::external_locations::LocationRow;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        Res::new(&format!("{UC}/external-locations"))
            .get(list_external_locations)
            .post(create_external_location)
            .build(),
    )
    .service(
        Res::new(&format!("{UC}/external-locations/{{name}}"))
            .get(get_external_location)
            .patch(update_external_location)
            .delete(delete_external_location)
            .build(),
    );
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ExternalLocationInfo {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    owner: String,
    url: String,
    credential_name: String,
    credential_id: String,
    read_only: bool,
    fallback: bool,
    isolation_mode: String,
    metastore_id: String,
    created_at: i64,
    created_by: String,
    updated_at: i64,
    updated_by: String,
}

impl From<LocationRow> for ExternalLocationInfo {
    fn from(l: LocationRow) -> Self {
        ExternalLocationInfo {
            name: l.name,
            comment: l.comment,
            owner: l.owner,
            url: l.url,
            credential_name: l.credential_name,
            credential_id: l.credential_id,
            read_only: l.read_only,
            fallback: l.fallback,
            isolation_mode: l.isolation_mode,
            metastore_id: l.metastore_id,
            created_at: l.created_at,
            created_by: l.created_by,
            updated_at: l.updated_at,
            updated_by: l.updated_by,
        }
    }
}

/// createExternalLocation
pub async fn create_external_location(
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(req): Body<CreateExternalLocation>,
) -> ApiResult<HttpResponse> {
    let spec = LocationSpec::try_from(req)?;
    state.file_roots.check("url", &spec.url)?;
    let Scoped { caller, metastore } = scoped;
    let row = state.store.write(move |tx| ops::external_locations::create(tx, &caller, &metastore.id, spec)).await?;
    Ok(HttpResponse::Ok().json(ExternalLocationInfo::from(row)))
}

/// getExternalLocation
pub async fn get_external_location(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let Scoped { caller, metastore } = scoped;
    let row = state.store.read(move |conn| ops::external_locations::get(conn, &caller, &metastore.id, &name)).await?;
    Ok(HttpResponse::Ok().json(ExternalLocationInfo::from(row)))
}

/// listExternalLocations: all for metastore admins, else those the caller may get.
pub async fn list_external_locations(
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<ListParams>,
) -> ApiResult<HttpResponse> {
    let Scoped { caller, metastore } = scoped;
    let args = PageArgs::new(
        &state.store,
        format!("external-locations:{}", metastore.id),
        p.max_results,
        p.page_token.as_deref(),
        None,
    )?;
    let (after, limit) = (args.after.clone(), args.limit);
    let (items, more_after) = state
        .store
        .read(move |conn| ops::external_locations::list(conn, &caller, &metastore.id, &after, limit))
        .await?;
    let items: Vec<ExternalLocationInfo> = items.into_iter().map(ExternalLocationInfo::from).collect();
    let next_page_token = args.next_token(&state.store, more_after);
    Ok(HttpResponse::Ok().json(Listing { key: "external_locations", items, next_page_token }))
}

/// updateExternalLocation
pub async fn update_external_location(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(body): Body<UpdateExternalLocation>,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let update = LocationUpdate::parse(body, |u| state.file_roots.check("url", u))?;
    let Scoped { caller, metastore } = scoped;
    let row =
        state.store.write(move |tx| ops::external_locations::update(tx, &caller, &metastore.id, &name, update)).await?;
    Ok(HttpResponse::Ok().json(ExternalLocationInfo::from(row)))
}

/// deleteExternalLocation: without `force`, only a location no external table depends on.
pub async fn delete_external_location(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(q): Params<ForceOpts>,
    RawBody(body): RawBody,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let force = force_flag(q, &body)?;
    let Scoped { caller, metastore } = scoped;
    state.store.write(move |tx| ops::external_locations::delete(tx, &caller, &metastore.id, &name, force)).await?;
    Ok(ok_empty())
}
