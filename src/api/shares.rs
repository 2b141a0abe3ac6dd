//! Shares (Delta Sharing): CRUD, the tables they hold, and their permissions.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::extract::{name_param, qbool, qint, AppState, Body, Params, Scoped};
use super::listing::{Listing, PageArgs};
use super::{changed, denied, ok_empty, owner_name, Res};
use crate::authz::{self, Action};
use crate::domain::names::Ident;
use crate::domain::now_ms;
use crate::domain::update::{rename_to, UpdateShape};
use crate::error::{ApiError, ApiResult};
use crate::ops;
use crate::ops::shares::{
    apply_changes, load, parse_update, storage_root, CreateShare, DataObjectIn, ObjectUpdate, ShareSpec,
};
use crate::store::shares::{self, ObjectRow, ShareChanges, ShareRow};

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

#[derive(Serialize)]
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

#[derive(Serialize)]
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

#[derive(Deserialize)]
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

#[derive(Deserialize)]
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

#[derive(Deserialize)]
pub struct UpdateShare {
    name: Option<String>,
    new_name: Option<String>,
    owner: Option<String>,
    comment: Option<String>,
    storage_root: Option<String>,
    updates: Option<Vec<ObjectUpdate>>,
    /// The API reference's form: the complete new object list.
    objects: Option<Vec<DataObjectIn>>,
}

/// updateShare
pub async fn update_share(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(body): Body<UpdateShare>,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let new_name = body.new_name.map(|n| Ident::parse("new_name", &n)).transpose()?;
    let body_name = body.name.map(|n| Ident::parse("name", &n)).transpose()?;
    let root = storage_root(body.storage_root)?;
    if let Some(root) = &root {
        state.file_roots.check_raw("storage_root", root)?;
    }
    let updates = body.updates.unwrap_or_default();
    if updates.len() > 100 {
        return Err(ApiError::invalid("updates", "at most 100 updates per request"));
    }
    let mut changes =
        updates.into_iter().enumerate().map(|(i, u)| parse_update(i, u)).collect::<ApiResult<Vec<_>>>()?;
    let replace_all = body.objects.is_some();
    for (i, o) in body.objects.unwrap_or_default().into_iter().enumerate() {
        let mut c = parse_update(i, ObjectUpdate { action: Some("ADD".into()), data_object: Some(o) })
            .map_err(|e| ApiError::invalid("objects", e.message))?;
        c.action = "ADD".into();
        changes.push(c);
    }
    let Scoped { caller, metastore } = scoped;
    let row = state
        .store
        .write(move |tx| {
            let (current, [s, m]) = load(tx, &caller, &metastore.id, &name)?;
            let owner = body.owner.as_deref().map(|o| owner_name(tx, o)).transpose()?.filter(|o| *o != current.owner);
            let share_changes = ShareChanges {
                new_name: rename_to(&name, body_name, new_name),
                comment: body.comment.filter(|c| changed(&current.comment, c)),
                storage_root: root.filter(|r| changed(&current.storage_root, r)),
                owner,
            };
            let shape = UpdateShape {
                rename: share_changes.new_name.is_some(),
                owner: share_changes.owner.is_some(),
                other: share_changes.comment.is_some()
                    || share_changes.storage_root.is_some()
                    || !changes.is_empty()
                    || replace_all,
            };
            let ok = authz::require(&caller, &Action::UpdateShare(shape), &[&s, &m]).map_err(denied)?;
            let now = now_ms();
            let updated = shares::update(tx, &ok, &current, &share_changes, &caller.name, now)?;
            if replace_all {
                shares::clear_objects(tx, &ok, &updated.id)?;
            }
            if !changes.is_empty() || replace_all {
                // The owner before the request and, if it changes, the new one (checked against the
                // grants as they were before the request: nothing else has changed yet).
                let mut owners = vec![current.owner.as_str()];
                if updated.owner != current.owner {
                    owners.push(updated.owner.as_str());
                }
                apply_changes(tx, &ok, &updated, &owners, changes, &caller.name, now)?;
                shares::touch(tx, &ok, &updated.id, &caller.name, now)?;
            }
            let objects = shares::objects(tx, &updated.id)?;
            Ok(ShareInfo::new(updated, Some(objects)))
        })
        .await?;
    Ok(HttpResponse::Ok().json(row))
}

/// deleteShare
pub async fn delete_share(req: HttpRequest, scoped: Scoped, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let Scoped { caller, metastore } = scoped;
    state.store.write(move |tx| ops::shares::delete(tx, &caller, &metastore.id, &name)).await?;
    Ok(ok_empty())
}
