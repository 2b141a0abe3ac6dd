//! Shares: createShare's validated input, shared data objects and the share chain loader.

use super::denied;
use crate::authz::{self, Action, Caller, Node};
use crate::domain::now_ms;
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::Value as Json;
use std::collections::HashMap;

use crate::domain::names::{Ident, TableName};
use crate::domain::storage_url::StorageUrl;
use crate::domain::update::{rename_to, UpdateShape};
use crate::error::{ApiError, ApiResult};
use crate::store::shares::{self, NewShare, ObjectFields, ShareChanges, ShareRow};
use crate::store::{metastores, principals, securables, tables};

/// The share and its chain [share, metastore] with the caller's grants.
pub fn load(conn: &Connection, caller: &Caller, metastore_id: &str, name: &Ident) -> ApiResult<(ShareRow, [Node; 2])> {
    let share = shares::require(conn, metastore_id, name)?;
    let (mut s, mut m) = (share.node(), metastores::require(conn, metastore_id)?.node());
    securables::attach_grants(conn, &mut [&mut s, &mut m], &caller.principals_json)?;
    Ok((share, [s, m]))
}

pub fn storage_root(raw: Option<String>) -> ApiResult<Option<String>> {
    raw.filter(|r| !r.is_empty())
        .map(|r| StorageUrl::parse(&r).map(|u| u.to_string()).map_err(|e| ApiError::invalid("storage_root", e)))
        .transpose()
}

#[derive(Deserialize, utoipa::ToSchema)]
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

#[derive(Deserialize, Clone, utoipa::ToSchema)]
pub struct PartitionValue {
    name: Option<String>,
    value: Option<String>,
    op: Option<String>,
    recipient_property_key: Option<String>,
}

#[derive(Deserialize, Clone, utoipa::ToSchema)]
pub struct Partition {
    values: Option<Vec<PartitionValue>>,
}

#[derive(Deserialize, Clone, utoipa::ToSchema)]
pub struct PartitionSpecification {
    partitions: Option<Vec<Partition>>,
}

#[derive(Deserialize, Clone, utoipa::ToSchema)]
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

#[derive(Deserialize, Clone, utoipa::ToSchema)]
pub struct ObjectUpdate {
    pub action: Option<String>,
    pub data_object: Option<DataObjectIn>,
}

/// The current Delta version of tables by table name: (table id, version) for those whose log
/// was readable. Read before the write transaction (never inside it) and passed to it.
pub type TableVersions = HashMap<TableName, (String, i64)>;

/// A validated data object of a PATCH `updates` entry.
pub struct ObjectChange {
    /// Where it came from in the body (`updates[i].data_object`), for error messages.
    pub at: String,
    pub action: String,
    pub table: TableName,
    /// The table's id and current Delta version, when read before the transaction.
    pub current: Option<(String, i64)>,
    pub shared_as: Option<String>,
    pub fields: ObjectFields,
}

pub fn partitions_json(field: &str, parts: Option<Vec<Partition>>) -> ApiResult<Option<String>> {
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

/// `shared_as`: `<schema>.<table>`, two non-empty parts, stored lower-cased.
pub fn shared_as(field: &str, raw: &str) -> ApiResult<String> {
    let parts: Vec<&str> = raw.split('.').collect();
    if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
        return Err(ApiError::invalid(field, format!("'{raw}' is not of the form <schema>.<table>")));
    }
    Ok(crate::domain::names::fold_case(raw))
}

/// The `action` of a share update.
pub const UPDATE_ACTIONS: &[&str] = &["ADD", "REMOVE", "UPDATE"];

pub fn parse_update(i: usize, u: ObjectUpdate) -> ApiResult<ObjectChange> {
    let at = |f: &str| format!("updates[{i}].{f}");
    let action = u.action.ok_or_else(|| ApiError::invalid(&at("action"), "is required"))?.to_ascii_uppercase();
    if !UPDATE_ACTIONS.contains(&action.as_str()) {
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
        at: at("data_object"),
        action,
        fields: ObjectFields {
            shared_as: shared.clone().unwrap_or_default(),
            comment: o.comment,
            cdf_enabled: o.cdf_enabled,
            start_version: o.start_version,
            history_data_sharing_status: o.history_data_sharing_status,
            partitions,
            added_version: None,
        },
        shared_as: shared,
        table,
        current: None,
    })
}

/// Applies the object changes of one PATCH; any refusal rolls the whole request back. `owners`
/// are the share's owner before the request and, when the same request changes it, the new one:
/// each must hold SELECT on every added table (the invariant is that the owner does, before and
/// after; a new owner's privileges never excuse the old one's lack).
pub fn apply_changes(
    tx: &Connection,
    ok: &authz::Allowed,
    share: &ShareRow,
    owners: &[&str],
    changes: Vec<ObjectChange>,
    by: &str,
    now: i64,
) -> ApiResult<()> {
    let subjects: Vec<(&str, Option<authz::Caller>)> =
        owners.iter().map(|o| (*o, principals::subject(tx, o, 0, None).ok())).collect();
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
                // The share's owner (not the caller) must hold SELECT on the table.
                for (name, owner) in &subjects {
                    let [mut t, mut s, mut cat] = table.nodes();
                    let allowed = match owner {
                        Some(subject) => {
                            securables::attach_grants(tx, &mut [&mut t, &mut s, &mut cat], &subject.principals_json)?;
                            authz::visible(subject, &Action::HoldsPrivilege("SELECT"), &[&t, &s, &cat])
                        }
                        None => false,
                    };
                    if !allowed {
                        return Err(ApiError::denied(format!(
                            "The share owner {name} lacks SELECT on Table '{}', which every table added to the share needs.",
                            c.table
                        )));
                    }
                }
                let current = c.current_of(&table.id);
                check_start_version(&c, current)?;
                c.fields.added_version = Some(current.unwrap_or(0));
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
                check_start_version(&c, c.current_of(&table.id))?;
                if c.shared_as.is_none() {
                    c.fields.shared_as = existing.shared_as;
                }
                shares::update_object(tx, ok, &share.id, &table.id, &c.fields)?;
            }
        }
    }
    Ok(())
}

impl ObjectChange {
    /// The table's current version, when it was read for this very table (not one that took
    /// its name since).
    fn current_of(&self, table_id: &str) -> Option<i64> {
        self.current.as_ref().filter(|(id, _)| id == table_id).map(|(_, v)| *v)
    }
}

/// An `ADD`'s or `UPDATE`'s `start_version` beyond the table's current version → 400 naming
/// it, when the table's log was readable (`current`).
fn check_start_version(c: &ObjectChange, current: Option<i64>) -> ApiResult<()> {
    match (c.fields.start_version, current) {
        (Some(start), Some(current)) if start > current => Err(ApiError::invalid(
            &format!("{}.start_version", c.at),
            format!("{start} is beyond the current version {current} of table '{}'", c.table),
        )),
        _ => Ok(()),
    }
}

/// Adds a fixture share's objects: validated like PATCH `ADD`s, without the owner's SELECT check.
/// `version_of` gives the current Delta version of a table's storage location, when readable.
pub fn add_fixture_objects(
    tx: &Connection,
    ok: &authz::Allowed,
    share: &ShareRow,
    objects: Vec<DataObjectIn>,
    version_of: &dyn Fn(&str) -> Option<i64>,
    by: &str,
    now: i64,
) -> ApiResult<()> {
    for (i, o) in objects.into_iter().enumerate() {
        let mut c = parse_update(i, ObjectUpdate { action: Some("ADD".into()), data_object: Some(o) })
            .map_err(|e| ApiError::invalid("objects", e.message))?;
        c.at = format!("objects[{i}]");
        let table = tables::get(tx, &share.metastore_id, &c.table)?.ok_or_else(|| tables::not_found(&c.table))?;
        let current = table.storage_location.as_deref().and_then(version_of);
        check_start_version(&c, current)?;
        c.fields.added_version = Some(current.unwrap_or(0));
        if c.shared_as.is_none() {
            c.fields.shared_as = format!("{}.{}", c.table.schema, c.table.table);
        }
        shares::add_object(tx, ok, &share.id, &table.id, &c.fields, by, now)?;
    }
    Ok(())
}

/// createShare
pub fn create(tx: &Connection, caller: &Caller, metastore_id: &str, spec: ShareSpec) -> ApiResult<ShareRow> {
    let ms = securables::metastore_node(tx, metastore_id, &caller.principals_json)?;
    let ok = authz::require(caller, &Action::CreateShare, &[&ms]).map_err(denied)?;
    shares::insert(tx, &ok, metastore_id, &spec.into_new(caller.name.clone(), now_ms()))
}

/// deleteShare
pub fn delete(tx: &Connection, caller: &Caller, metastore_id: &str, name: &Ident) -> ApiResult<()> {
    let (current, [s, m]) = load(tx, caller, metastore_id, name)?;
    let ok = authz::require(caller, &Action::DeleteShare, &[&s, &m]).map_err(denied)?;
    shares::delete(tx, &ok, &current.id)
}

/// getShare: the share, with its objects when asked for.
pub fn get(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &Ident,
    with_objects: bool,
) -> ApiResult<(ShareRow, Option<Vec<shares::ObjectRow>>)> {
    let (share, [s, m]) = load(conn, caller, metastore_id, name)?;
    authz::require(caller, &Action::GetShare, &[&s, &m]).map_err(super::denied)?;
    let objects = if with_objects { Some(shares::objects(conn, &share.id)?) } else { None };
    Ok((share, objects))
}

/// listShares: a page of shares after `after`, each shown when the caller may get it (all for
/// metastore admins and USE_SHARE holders).
pub fn list(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    after: &str,
    limit: Option<usize>,
) -> ApiResult<(Vec<ShareRow>, Option<String>)> {
    let ms = securables::metastore_node(conn, metastore_id, &caller.principals_json)?;
    let all = authz::visible(caller, &Action::ListAllShares, &[&ms]);
    let page = shares::scan(conn, metastore_id, after, limit)?;
    let rows =
        page.rows.into_iter().filter(|s| all || authz::visible(caller, &Action::GetShare, &[&s.node(), &ms])).collect();
    Ok((rows, page.more_after))
}

#[derive(Deserialize, utoipa::ToSchema)]
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

/// A validated updateShare body: the share's own fields and its object changes.
pub struct ShareUpdate {
    name: Option<Ident>,
    new_name: Option<Ident>,
    owner: Option<String>,
    comment: Option<String>,
    storage_root: Option<String>,
    changes: Vec<ObjectChange>,
    replace_all: bool,
}

impl TryFrom<UpdateShare> for ShareUpdate {
    type Error = ApiError;
    fn try_from(body: UpdateShare) -> ApiResult<Self> {
        let new_name = body.new_name.map(|n| Ident::parse("new_name", &n)).transpose()?;
        let name = body.name.map(|n| Ident::parse("name", &n)).transpose()?;
        let storage_root = storage_root(body.storage_root)?;
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
            c.at = format!("objects[{i}]");
            changes.push(c);
        }
        Ok(ShareUpdate { name, new_name, owner: body.owner, comment: body.comment, storage_root, changes, replace_all })
    }
}

impl ShareUpdate {
    /// The tables whose current Delta version the update needs: those it adds or updates.
    pub fn versioned_tables(&self) -> Vec<TableName> {
        self.changes.iter().filter(|c| c.action != "REMOVE").map(|c| c.table.clone()).collect()
    }

    /// The current versions of [`Self::versioned_tables`], read before the transaction.
    pub fn with_versions(mut self, versions: &TableVersions) -> Self {
        for c in &mut self.changes {
            c.current = versions.get(&c.table).cloned();
        }
        self
    }

    /// The new `storage_root`, if the update sets one (for the file-root check).
    pub fn storage_root(&self) -> Option<&str> {
        self.storage_root.as_deref()
    }
}

/// updateShare: authorized as a whole against the share as it is before the request; the
/// object changes follow in the same transaction.
pub fn update(
    tx: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &Ident,
    body: ShareUpdate,
) -> ApiResult<(ShareRow, Vec<shares::ObjectRow>)> {
    let (current, [s, m]) = load(tx, caller, metastore_id, name)?;
    let owner = body.owner.as_deref().map(|o| super::owner_name(tx, o)).transpose()?.filter(|o| *o != current.owner);
    let share_changes = ShareChanges {
        new_name: rename_to(name, body.name, body.new_name),
        comment: body.comment.filter(|c| super::changed(&current.comment, c)),
        storage_root: body.storage_root.filter(|r| super::changed(&current.storage_root, r)),
        owner,
    };
    let (changes, replace_all) = (body.changes, body.replace_all);
    let shape = UpdateShape {
        rename: share_changes.new_name.is_some(),
        owner: share_changes.owner.is_some(),
        other: share_changes.comment.is_some()
            || share_changes.storage_root.is_some()
            || !changes.is_empty()
            || replace_all,
    };
    let ok = authz::require(caller, &Action::UpdateShare(shape), &[&s, &m]).map_err(denied)?;
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
    Ok((updated, objects))
}

/// The storage locations of the named tables that exist in the metastore: (name, table id,
/// location), for reading their current Delta versions before an update's transaction.
pub fn table_locations(
    conn: &Connection,
    metastore_id: &str,
    names: Vec<TableName>,
) -> ApiResult<Vec<(TableName, String, String)>> {
    let mut out = Vec::new();
    for name in names {
        if let Some(t) = tables::get(conn, metastore_id, &name)? {
            if let Some(location) = t.storage_location {
                out.push((name, t.id, location));
            }
        }
    }
    Ok(out)
}
