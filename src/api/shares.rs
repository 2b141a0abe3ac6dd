//! Shares (Delta Sharing): CRUD, the tables they hold, and their permissions.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::extract::{name_param, qbool, qint, AppState, Body, Params, Scoped};
use super::listing::{Listing, PageArgs};
use super::{ok_empty, Res};
use crate::error::ApiResult;
use crate::ops;
use crate::ops::shares::{CreateShare, ShareSpec, ShareUpdate, UpdateShare};
use crate::store::shares::{ObjectRow, ShareRow};

pub fn routes(cfg: &mut web::ServiceConfig) {
    let uc = |p: &str| format!("/2.1/unity-catalog{p}");
    cfg.service(Res::new(&uc("/shares")).get(list_shares).post(create_share).build())
        .service(Res::new(&uc("/shares/{name}")).get(get_share).patch(update_share).delete(delete_share).build())
        .service(
            Res::new(&uc("/shares/{name}/permissions"))
                .get(super::permissions::get_share_permissions)
                .patch(super::permissions::update_permissions)
                .build(),
        );
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SharedDataObject {
    name: String,
    data_object_type: &'static str,
    shared_as: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cdf_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    history_data_sharing_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<crate::ops::shares::Partition>>)]
    partitions: Option<Box<RawValue>>,
    status: &'static str,
    added_at: i64,
    added_by: String,
}

impl From<ObjectRow> for SharedDataObject {
    fn from(o: ObjectRow) -> Self {
        SharedDataObject {
            name: o.name,
            data_object_type: "TABLE",
            shared_as: o.shared_as,
            comment: o.comment,
            cdf_enabled: o.cdf_enabled,
            start_version: o.start_version,
            history_data_sharing_status: o.history_data_sharing_status,
            partitions: o.partitions,
            status: "ACTIVE",
            added_at: o.added_at,
            added_by: o.added_by,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ShareInfo {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    owner: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_root: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    objects: Option<Vec<SharedDataObject>>,
    created_at: i64,
    created_by: String,
    updated_at: i64,
    updated_by: String,
}

impl ShareInfo {
    fn new(s: ShareRow, objects: Option<Vec<ObjectRow>>) -> Self {
        ShareInfo {
            name: s.name,
            comment: s.comment,
            owner: s.owner,
            storage_location: s.storage_root.clone(),
            storage_root: s.storage_root,
            objects: objects.map(|o| o.into_iter().map(SharedDataObject::from).collect()),
            created_at: s.created_at,
            created_by: s.created_by,
            updated_at: s.updated_at,
            updated_by: s.updated_by,
        }
    }
}

/// createShare
pub async fn create_share(
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(req): Body<CreateShare>,
) -> ApiResult<HttpResponse> {
    let spec = ShareSpec::try_from(req)?;
    if let Some(root) = &spec.storage_root {
        state.file_roots.check_raw("storage_root", root)?;
    }
    let Scoped { caller, metastore } = scoped;
    let row = state.store.write(move |tx| ops::shares::create(tx, &caller, &metastore.id, spec)).await?;
    Ok(HttpResponse::Ok().json(ShareInfo::new(row, Some(Vec::new()))))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GetShareParams {
    #[serde(default, deserialize_with = "qbool::option")]
    include_shared_data: Option<bool>,
}

/// getShare: objects unless `include_shared_data=false`.
pub async fn get_share(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<GetShareParams>,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let with_objects = p.include_shared_data.unwrap_or(true);
    let Scoped { caller, metastore } = scoped;
    let (share, objects) =
        state.store.read(move |conn| ops::shares::get(conn, &caller, &metastore.id, &name, with_objects)).await?;
    Ok(HttpResponse::Ok().json(ShareInfo::new(share, objects)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    #[serde(default, deserialize_with = "qint::option")]
    pub max_results: Option<i64>,
    pub page_token: Option<String>,
}

/// listShares: all for a metastore admin (or USE_SHARE), else the caller's own; never objects.
pub async fn list_shares(
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<PageParams>,
) -> ApiResult<HttpResponse> {
    let Scoped { caller, metastore } = scoped;
    let args =
        PageArgs::new(&state.store, format!("shares:{}", metastore.id), p.max_results, p.page_token.as_deref(), None)?;
    let (after, limit) = (args.after.clone(), args.limit);
    let (items, more_after) =
        state.store.read(move |conn| ops::shares::list(conn, &caller, &metastore.id, &after, limit)).await?;
    let items: Vec<ShareInfo> = items.into_iter().map(|s| ShareInfo::new(s, None)).collect();
    let next_page_token = args.next_token(&state.store, more_after);
    Ok(HttpResponse::Ok().json(Listing { key: "shares", items, next_page_token }))
}

/// updateShare
pub async fn update_share(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(body): Body<UpdateShare>,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let update = ShareUpdate::try_from(body)?;
    if let Some(root) = update.storage_root() {
        state.file_roots.check_raw("storage_root", root)?;
    }
    let Scoped { caller, metastore } = scoped;
    // The current Delta versions of the tables it adds or updates (the default start version,
    // and the bound of `start_version`): read off the request thread, before the transaction.
    let tables = update.versioned_tables();
    let update = if tables.is_empty() {
        update
    } else {
        let ms = metastore.id.clone();
        let locations = state.store.read(move |conn| ops::shares::table_locations(conn, &ms, tables)).await?;
        let local = state.local_storage();
        let versions: ops::shares::TableVersions = web::block(move || {
            let version = |location: &str| crate::delta::sharing::current_version(&local, location);
            locations.into_iter().filter_map(|(name, id, loc)| version(&loc).map(|v| (name, (id, v)))).collect()
        })
        .await
        .map_err(crate::error::ApiError::internal)?;
        update.with_versions(&versions)
    };
    let (row, objects) =
        state.store.write(move |tx| ops::shares::update(tx, &caller, &metastore.id, &name, update)).await?;
    Ok(HttpResponse::Ok().json(ShareInfo::new(row, Some(objects))))
}

/// deleteShare
pub async fn delete_share(req: HttpRequest, scoped: Scoped, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let Scoped { caller, metastore } = scoped;
    state.store.write(move |tx| ops::shares::delete(tx, &caller, &metastore.id, &name)).await?;
    Ok(ok_empty())
}
