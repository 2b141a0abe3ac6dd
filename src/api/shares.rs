//! Shares (Delta Sharing, spec §17): CRUD, the tables they hold, and their permissions.

use actix_web::{web, HttpRequest, HttpResponse};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value as Json;

use super::extract::{name_param, qbool, qint, AppState, Body, Params, Scoped};
use super::listing::{Listing, PageArgs};
use super::{changed, denied, ok_empty, owner_name, Res};
use crate::authz::{self, Action, Caller, Node};
use crate::domain::names::{Ident, TableName};
use crate::domain::now_ms;
use crate::domain::storage_url::StorageUrl;
use crate::domain::update::{rename_to, UpdateShape};
use crate::error::{ApiError, ApiResult};
use crate::store::shares::{self, NewShare, ObjectFields, ObjectRow, ShareChanges, ShareRow};
use crate::store::{metastores, principals, securables, tables};

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

/// The share and its chain [share, metastore] with the caller's grants.
fn load(conn: &Connection, caller: &Caller, metastore_id: &str, name: &Ident) -> ApiResult<(ShareRow, [Node; 2])> {
    let share = shares::require(conn, metastore_id, name)?;
    let (mut s, mut m) = (share.node(), metastores::require(conn, metastore_id)?.node());
    securables::attach_grants(conn, &mut [&mut s, &mut m], &caller.principals_json)?;
    Ok((share, [s, m]))
}

fn storage_root(raw: Option<String>) -> ApiResult<Option<String>> {
    raw.filter(|r| !r.is_empty())
        .map(|r| StorageUrl::parse(&r).map(|u| u.to_string()).map_err(|e| ApiError::invalid("storage_root", e)))
        .transpose()
}

#[derive(Deserialize)]
pub struct CreateShare {
    pub name: Option<String>,
    pub comment: Option<String>,
    pub storage_root: Option<String>,
}

/// A validated share create, shared with fixtures.
pub struct ShareSpec {
    pub name: Ident,
    pub comment: Option<String>,
    pub storage_root: Option<String>,
}

impl TryFrom<CreateShare> for ShareSpec {
    type Error = ApiError;
    fn try_from(c: CreateShare) -> ApiResult<Self> {
        let name = Ident::parse("name", c.name.as_deref().ok_or_else(|| ApiError::invalid("name", "is required"))?)?;
        Ok(ShareSpec { name, comment: c.comment, storage_root: storage_root(c.storage_root)? })
    }
}

impl ShareSpec {
    pub fn into_new(self, owner: String, now: i64) -> NewShare {
        NewShare {
            name: self.name,
            comment: self.comment,
            storage_root: self.storage_root,
            created_by: owner.clone(),
            owner,
            now,
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
    let row = state
        .store
        .write(move |tx| {
            let ms = securables::metastore_node(tx, &metastore.id, &caller.principals_json)?;
            let ok = authz::require(&caller, &Action::CreateShare, &[&ms]).map_err(denied)?;
            shares::insert(tx, &ok, &metastore.id, &spec.into_new(caller.name.clone(), now_ms()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(ShareInfo::new(row, Some(Vec::new()))))
}

#[derive(Deserialize)]
pub struct GetShareParams {
    #[serde(default, deserialize_with = "qbool::option")]
    include_shared_data: Option<bool>,
}

/// getShare: objects unless `include_shared_data=false` (spec §17.1).
pub async fn get_share(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<GetShareParams>,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let with_objects = p.include_shared_data.unwrap_or(true);
    let Scoped { caller, metastore } = scoped;
    let info = state
        .store
        .read(move |conn| {
            let (share, [s, m]) = load(conn, &caller, &metastore.id, &name)?;
            authz::require(&caller, &Action::GetShare, &[&s, &m]).map_err(denied)?;
            let objects = if with_objects { Some(shares::objects(conn, &share.id)?) } else { None };
            Ok(ShareInfo::new(share, objects))
        })
        .await?;
    Ok(HttpResponse::Ok().json(info))
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
    let (items, more_after) = state
        .store
        .read(move |conn| {
            let ms = securables::metastore_node(conn, &metastore.id, &caller.principals_json)?;
            let all = authz::visible(&caller, &Action::ListAllShares, &[&ms]);
            let page = shares::scan(conn, &metastore.id, &after, limit)?;
            let items = page
                .rows
                .into_iter()
                .filter(|s| all || caller.is(&s.owner))
                .map(|s| ShareInfo::new(s, None))
                .collect::<Vec<_>>();
            Ok((items, page.more_after))
        })
        .await?;
    let next_page_token = args.next_token(&state.store, more_after);
    Ok(HttpResponse::Ok().json(Listing { key: "shares", items, next_page_token }))
}

#[derive(Deserialize, Clone)]
pub struct PartitionValue {
    name: Option<String>,
    value: Option<String>,
    op: Option<String>,
    recipient_property_key: Option<String>,
}

#[derive(Deserialize, Clone)]
pub struct Partition {
    values: Option<Vec<PartitionValue>>,
}

#[derive(Deserialize, Clone)]
pub struct PartitionSpecification {
    partitions: Option<Vec<Partition>>,
}

#[derive(Deserialize, Clone)]
pub struct DataObjectIn {
    name: Option<String>,
    data_object_type: Option<String>,
    shared_as: Option<String>,
    comment: Option<String>,
    cdf_enabled: Option<bool>,
    start_version: Option<i64>,
    history_data_sharing_status: Option<String>,
    partitions: Option<Vec<Partition>>,
    partition_specification: Option<PartitionSpecification>,
}

#[derive(Deserialize, Clone)]
pub struct ObjectUpdate {
    action: Option<String>,
    data_object: Option<DataObjectIn>,
}

/// A validated data object of a PATCH `updates` entry.
struct ObjectChange {
    action: String,
    table: TableName,
    shared_as: Option<String>,
    fields: ObjectFields,
}

fn partitions_json(field: &str, parts: Option<Vec<Partition>>) -> ApiResult<Option<String>> {
    let Some(parts) = parts else { return Ok(None) };
    let mut out = Vec::new();
    for (i, p) in parts.into_iter().enumerate() {
        let mut values = Vec::new();
        let mut names = std::collections::HashSet::new();
        for (j, v) in p.values.unwrap_or_default().into_iter().enumerate() {
            let at = format!("{field}[{i}].values[{j}]");
            let name = v
                .name
                .filter(|n| !n.is_empty())
                .ok_or_else(|| ApiError::invalid(&format!("{at}.name"), "is required"))?;
            if !names.insert(name.clone()) {
                return Err(ApiError::invalid(
                    &format!("{at}.name"),
                    format!("{name:?} appears twice in one partition"),
                ));
            }
            let op = v.op.unwrap_or_else(|| "EQUAL".into());
            if !["EQUAL", "LIKE"].contains(&op.as_str()) {
                return Err(ApiError::invalid(
                    &format!("{at}.op"),
                    format!("unknown value {op:?}; expected EQUAL or LIKE"),
                ));
            }
            let mut obj = serde_json::Map::new();
            obj.insert("name".into(), Json::String(name));
            obj.insert("op".into(), Json::String(op));
            if let Some(val) = v.value {
                obj.insert("value".into(), Json::String(val));
            }
            if let Some(k) = v.recipient_property_key {
                obj.insert("recipient_property_key".into(), Json::String(k));
            }
            values.push(Json::Object(obj));
        }
        out.push(serde_json::json!({ "values": values }));
    }
    Ok(Some(Json::Array(out).to_string()))
}

/// `shared_as`: `<schema>.<table>`, two non-empty parts, stored lower-cased (spec §17.1).
fn shared_as(field: &str, raw: &str) -> ApiResult<String> {
    let parts: Vec<&str> = raw.split('.').collect();
    if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
        return Err(ApiError::invalid(field, format!("'{raw}' is not of the form <schema>.<table>")));
    }
    Ok(raw.to_lowercase())
}

fn parse_update(i: usize, u: ObjectUpdate) -> ApiResult<ObjectChange> {
    let at = |f: &str| format!("updates[{i}].{f}");
    let action = u.action.ok_or_else(|| ApiError::invalid(&at("action"), "is required"))?.to_ascii_uppercase();
    if !["ADD", "REMOVE", "UPDATE"].contains(&action.as_str()) {
        return Err(ApiError::invalid(
            &at("action"),
            format!("unknown value {action:?}; expected ADD, REMOVE or UPDATE"),
        ));
    }
    let o = u.data_object.ok_or_else(|| ApiError::invalid(&at("data_object"), "is required"))?;
    let name = o.name.ok_or_else(|| ApiError::invalid(&at("data_object.name"), "is required"))?;
    let table = TableName::parse(&at("data_object.name"), &name)?;
    match o.data_object_type.as_deref() {
        None | Some("TABLE") => {}
        Some(other) => {
            return Err(ApiError::invalid(
                &at("data_object.data_object_type"),
                format!("{other:?} is not supported; only TABLE"),
            ))
        }
    }
    let shared = o.shared_as.map(|s| shared_as(&at("data_object.shared_as"), &s)).transpose()?;
    let parts = o.partitions.or(o.partition_specification.and_then(|p| p.partitions));
    let partitions = partitions_json(&at("data_object.partitions"), parts)?;
    if o.start_version.is_some_and(|v| v < 0) {
        return Err(ApiError::invalid(&at("data_object.start_version"), "must not be negative"));
    }
    Ok(ObjectChange {
        action,
        fields: ObjectFields {
            shared_as: shared.clone().unwrap_or_default(),
            comment: o.comment,
            cdf_enabled: o.cdf_enabled,
            start_version: o.start_version,
            history_data_sharing_status: o.history_data_sharing_status,
            partitions,
        },
        shared_as: shared,
        table,
    })
}

#[derive(Deserialize)]
pub struct UpdateShare {
    name: Option<String>,
    new_name: Option<String>,
    owner: Option<String>,
    comment: Option<String>,
    storage_root: Option<String>,
    updates: Option<Vec<ObjectUpdate>>,
    /// The seed's form: the complete new object list.
    objects: Option<Vec<DataObjectIn>>,
}

/// Applies the object changes of one PATCH; any refusal rolls the whole request back.
fn apply_changes(
    tx: &Connection,
    ok: &authz::Allowed,
    share: &ShareRow,
    changes: Vec<ObjectChange>,
    by: &str,
    now: i64,
) -> ApiResult<()> {
    let owner = principals::subject(tx, &share.owner, 0, None).ok();
    for mut c in changes {
        let table = tables::get(tx, &share.metastore_id, &c.table)?.ok_or_else(|| tables::not_found(&c.table))?;
        let present = shares::objects(tx, &share.id)?.into_iter().find(|o| o.table_id == table.id);
        match (c.action.as_str(), present) {
            ("ADD", Some(_)) => {
                return Err(ApiError::invalid(
                    "updates",
                    format!("table '{}' is already in share '{}'", c.table, share.name),
                ))
            }
            ("ADD", None) => {
                // Spec §17.3: the share's owner (not the caller) must hold SELECT on the table.
                let [mut t, mut s, mut cat] = table.nodes();
                let allowed = match &owner {
                    Some(subject) => {
                        securables::attach_grants(tx, &mut [&mut t, &mut s, &mut cat], &subject.principals_json)?;
                        authz::visible(subject, &Action::HoldsPrivilege("SELECT"), &[&t, &s, &cat])
                    }
                    None => false,
                };
                if !allowed {
                    return Err(ApiError::denied(format!(
                        "The share owner {} lacks SELECT on Table '{}', which every table added to the share needs.",
                        share.owner, c.table
                    )));
                }
                if c.shared_as.is_none() {
                    c.fields.shared_as = format!("{}.{}", c.table.schema, c.table.table);
                }
                shares::add_object(tx, ok, &share.id, &table.id, &c.fields, by, now)?;
            }
            (_, None) => {
                return Err(ApiError::invalid(
                    "updates",
                    format!("table '{}' is not in share '{}'", c.table, share.name),
                ))
            }
            ("REMOVE", Some(_)) => shares::remove_object(tx, ok, &share.id, &table.id)?,
            (_, Some(existing)) => {
                if c.shared_as.is_none() {
                    c.fields.shared_as = existing.shared_as;
                }
                shares::update_object(tx, ok, &share.id, &table.id, &c.fields)?;
            }
        }
    }
    Ok(())
}

/// Adds a fixture share's objects: validated like PATCH `ADD`s, without the owner's SELECT check.
pub fn add_fixture_objects(
    tx: &Connection,
    ok: &authz::Allowed,
    share: &ShareRow,
    objects: Vec<DataObjectIn>,
    by: &str,
    now: i64,
) -> ApiResult<()> {
    for (i, o) in objects.into_iter().enumerate() {
        let mut c = parse_update(i, ObjectUpdate { action: Some("ADD".into()), data_object: Some(o) })
            .map_err(|e| ApiError::invalid("objects", e.message))?;
        let table = tables::get(tx, &share.metastore_id, &c.table)?.ok_or_else(|| tables::not_found(&c.table))?;
        if c.shared_as.is_none() {
            c.fields.shared_as = format!("{}.{}", c.table.schema, c.table.table);
        }
        shares::add_object(tx, ok, &share.id, &table.id, &c.fields, by, now)?;
    }
    Ok(())
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
                apply_changes(tx, &ok, &updated, changes, &caller.name, now)?;
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
    state
        .store
        .write(move |tx| {
            let (current, [s, m]) = load(tx, &caller, &metastore.id, &name)?;
            let ok = authz::require(&caller, &Action::DeleteShare, &[&s, &m]).map_err(denied)?;
            shares::delete(tx, &ok, &current.id)
        })
        .await?;
    Ok(ok_empty())
}
