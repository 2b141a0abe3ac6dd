//! Volumes (`/api/2.1/unity-catalog/volumes`): MANAGED and EXTERNAL volumes, create, list, read,
//! update (rename, owner, comment), delete.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::catalogs::{BrowseParams, ListParams};
use super::extract::{path_param, AppState, Body, Params, Scoped};
use super::listing::{Listing, PageArgs, Shown};
use super::{ok_empty, Res, UC};
use crate::domain::names::TableName;
use crate::error::ApiResult;
use crate::ops;
use crate::ops::volumes::{CreateVolume, UpdateVolume, VolumeSpec, VolumeUpdate};
use crate::store::volumes::VolumeRow;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(Res::new(&format!("{UC}/volumes")).get(list_volumes).post(create_volume).build()).service(
        Res::new(&format!("{UC}/volumes/{{full_name}}"))
            .get(read_volume)
            .patch(update_volume)
            .delete(delete_volume)
            .build(),
    );
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VolumeInfo {
    name: String,
    catalog_name: String,
    schema_name: String,
    full_name: String,
    volume_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    owner: String,
    volume_id: String,
    metastore_id: String,
    created_at: i64,
    created_by: String,
    updated_at: i64,
    updated_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    browse_only: Option<bool>,
}

impl From<VolumeRow> for VolumeInfo {
    fn from(v: VolumeRow) -> Self {
        VolumeInfo {
            full_name: v.full_name(),
            name: v.name,
            catalog_name: v.parent.catalog_name,
            schema_name: v.parent.schema_name,
            volume_type: v.volume_type,
            storage_location: Some(v.storage_location),
            comment: v.comment,
            owner: v.owner,
            volume_id: v.id,
            metastore_id: v.parent.metastore_id,
            created_at: v.created_at,
            created_by: v.created_by,
            updated_at: v.updated_at,
            updated_by: v.updated_by,
            browse_only: None,
        }
    }
}

impl VolumeInfo {
    /// What a caller holding only `BROWSE` on the catalog sees: no storage location.
    fn browse_only(mut self) -> Self {
        self.browse_only = Some(true);
        self.storage_location = None;
        self
    }
}

/// createVolume
pub async fn create_volume(
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(req): Body<CreateVolume>,
) -> ApiResult<HttpResponse> {
    let spec = VolumeSpec::try_from(req)?;
    if let Some(url) = &spec.storage_location {
        state.file_roots.check("storage_location", url)?;
    }
    let Scoped { caller, metastore } = scoped;
    let storage = state.local_storage();
    let row = state.store.write(move |tx| ops::volumes::create(tx, &caller, &metastore.id, spec, &storage)).await?;
    Ok(HttpResponse::Ok().json(VolumeInfo::from(row)))
}

fn volume_name(req: &HttpRequest) -> ApiResult<TableName> {
    Ok(TableName::parse("full_name", &path_param(req, "full_name")?)?)
}

/// readVolume
pub async fn read_volume(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<BrowseParams>,
) -> ApiResult<HttpResponse> {
    let name = volume_name(&req)?;
    let browse = p.include_browse.unwrap_or(false);
    let Scoped { caller, metastore } = scoped;
    let (row, browse_only) =
        state.store.read(move |conn| ops::volumes::get(conn, &caller, &metastore.id, &name, browse)).await?;
    let info = VolumeInfo::from(row);
    Ok(HttpResponse::Ok().json(if browse_only { info.browse_only() } else { info }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListVolumesParams {
    catalog_name: Option<String>,
    schema_name: Option<String>,
}

/// listVolumes: 403 without use of the catalog and schema (unless browsing); every volume for
/// metastore admins, else those the caller may read.
pub async fn list_volumes(
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<ListVolumesParams>,
    Params(page): Params<ListParams>,
) -> ApiResult<HttpResponse> {
    let schema = ops::schemas::list_parent(&p.catalog_name, &p.schema_name)?;
    let Scoped { caller, metastore } = scoped;
    let args = PageArgs::new(
        &state.store,
        format!("volumes:{}:{schema}", metastore.id),
        page.max_results,
        page.page_token.as_deref(),
        None,
    )?;
    let (after, limit) = (args.after.clone(), args.limit);
    let browse = page.include_browse.unwrap_or(false);
    let (items, more_after) = state
        .store
        .read(move |conn| ops::volumes::list(conn, &caller, &metastore.id, &schema, &after, limit, browse))
        .await?;
    let items: Vec<_> = items
        .into_iter()
        .filter_map(|(v, shown)| match shown {
            Shown::Full => Some(VolumeInfo::from(v)),
            Shown::BrowseOnly => Some(VolumeInfo::from(v).browse_only()),
            Shown::Hidden => None,
        })
        .collect();
    let next_page_token = args.next_token(&state.store, more_after);
    Ok(HttpResponse::Ok().json(Listing { key: "volumes", items, next_page_token }))
}

/// updateVolume
pub async fn update_volume(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(body): Body<UpdateVolume>,
) -> ApiResult<HttpResponse> {
    let name = volume_name(&req)?;
    let update = VolumeUpdate::parse(&name, body)?;
    let Scoped { caller, metastore } = scoped;
    let row = state.store.write(move |tx| ops::volumes::update(tx, &caller, &metastore.id, &name, update)).await?;
    Ok(HttpResponse::Ok().json(VolumeInfo::from(row)))
}

/// deleteVolume: a MANAGED volume's files go once the delete has committed.
pub async fn delete_volume(req: HttpRequest, scoped: Scoped, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let name = volume_name(&req)?;
    let Scoped { caller, metastore } = scoped;
    let removed = state.store.write(move |tx| ops::volumes::delete(tx, &caller, &metastore.id, &name)).await?;
    remove_after_commit(&state, removed.into_iter().collect()).await;
    Ok(ok_empty())
}

/// Removes deleted managed volumes' local directories off the request thread.
pub async fn remove_after_commit(state: &AppState, locations: Vec<String>) {
    if locations.is_empty() {
        return;
    }
    let storage = state.local_storage();
    let _ = web::block(move || ops::volumes::remove_local_dirs(&locations, &storage)).await;
}
