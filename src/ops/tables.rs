//! Tables and views: createTable's validated input, the table chain loader, the storage and
//! location rules, and the table operations.

use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::lists::{schema_children, ChildList, Judged};
use super::schemas::load_schema;
use super::{changed, denied, owner_name, properties_json};
use crate::authz::{self, Action, Caller, Node};
use crate::domain::names::{Ident, SchemaName, TableName};
use crate::domain::storage_url::StorageUrl;
use crate::domain::update::{rename_to, UpdateShape};
use crate::domain::{new_ordered_id, now_ms};
use crate::error::{ApiError, ApiResult};
use crate::files::LocalStorage;
use crate::store::read_cache::SchemaChain;
use crate::store::schemas::SchemaRow;
use crate::store::tables::{self, NewTable, TableChanges, TableRow, SUMMARY_KEY_SEP};
use crate::store::{catalogs, credentials, external_locations, metastores, securables};

pub const TABLE_TYPES: &[&str] = &["MANAGED", "EXTERNAL", "VIEW"];

pub const DATA_SOURCE_FORMATS: &[&str] =
    &["DELTA", "CSV", "JSON", "AVRO", "PARQUET", "ORC", "TEXT", "UNITY_CATALOG", "DELTASHARING"];

/// The Unity Catalog API's names plus the SDK's additions; SQL aliases are refused.
pub const COLUMN_TYPES: &[&str] = &[
    "BOOLEAN",
    "BYTE",
    "SHORT",
    "INT",
    "LONG",
    "FLOAT",
    "DOUBLE",
    "DATE",
    "TIMESTAMP",
    "STRING",
    "BINARY",
    "DECIMAL",
    "INTERVAL",
    "ARRAY",
    "STRUCT",
    "MAP",
    "CHAR",
    "NULL",
    "TIMESTAMP_NTZ",
    "VARIANT",
    "GEOGRAPHY",
    "GEOMETRY",
    "TIME",
    "FILE",
    "TABLE_TYPE",
    "TABLEREF_TYPE",
    "USER_DEFINED_TYPE",
];

/// `ColumnInfo` as accepted and stored.
#[derive(Deserialize, Serialize, utoipa::ToSchema)]
pub struct ColumnInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    type_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    type_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    type_json: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    type_precision: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    type_scale: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    type_interval_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nullable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    partition_index: Option<i16>,
}

/// Validates columns and renders them as the stored JSON array, ordered by position.
fn columns_json(mut cols: Vec<ColumnInfo>) -> ApiResult<String> {
    let mut positions = HashSet::new();
    for (i, c) in cols.iter_mut().enumerate() {
        let field = |f: &str| format!("columns[{i}].{f}");
        match c.name.as_deref() {
            None | Some("") => return Err(ApiError::invalid(&field("name"), "is required")),
            Some(_) => {}
        }
        let type_name = c.type_name.as_deref().ok_or_else(|| ApiError::invalid(&field("type_name"), "is required"))?;
        if !COLUMN_TYPES.contains(&type_name) {
            return Err(ApiError::invalid(&field("type_name"), format!("unknown value {type_name:?}")));
        }
        for (f, v) in [("type_text", &c.type_text), ("type_json", &c.type_json)] {
            if v.is_none() {
                return Err(ApiError::invalid(&field(f), "is required"));
            }
        }
        let position = c.position.ok_or_else(|| ApiError::invalid(&field("position"), "is required"))?;
        if position < 0 {
            return Err(ApiError::invalid(&field("position"), "must not be negative"));
        }
        if !positions.insert(position) {
            return Err(ApiError::invalid(
                &field("position"),
                format!("position {position} is used by another column"),
            ));
        }
        c.nullable.get_or_insert(true);
    }
    cols.sort_by_key(|c| c.position);
    Ok(serde_json::to_string(&cols).expect("columns serialize"))
}

fn one_of(field: &str, value: &str, allowed: &[&str]) -> ApiResult<String> {
    if allowed.contains(&value) {
        Ok(value.to_string())
    } else {
        Err(ApiError::invalid(field, format!("unknown value {value:?}; expected one of {}", allowed.join(", "))))
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateTable {
    pub name: Option<String>,
    pub catalog_name: Option<String>,
    pub schema_name: Option<String>,
    pub table_type: Option<String>,
    pub data_source_format: Option<String>,
    pub columns: Option<Vec<ColumnInfo>>,
    pub storage_location: Option<String>,
    pub storage_credential_name: Option<String>,
    pub view_definition: Option<String>,
    pub sql_path: Option<String>,
    pub comment: Option<String>,
    pub properties: Option<BTreeMap<String, String>>,
}

/// A validated table create, shared with fixtures.
pub struct TableSpec {
    pub full_name: TableName,
    pub table_type: String,
    pub data_source_format: Option<String>,
    pub columns: String,
    pub storage_location: Option<StorageUrl>,
    pub storage_credential_name: Option<Ident>,
    pub view_definition: Option<String>,
    pub sql_path: Option<String>,
    pub comment: Option<String>,
    pub properties: Option<String>,
}

pub fn required<'a>(field: &str, v: &'a Option<String>) -> ApiResult<&'a str> {
    v.as_deref().ok_or_else(|| ApiError::invalid(field, "is required"))
}

impl TryFrom<CreateTable> for TableSpec {
    type Error = ApiError;
    fn try_from(c: CreateTable) -> ApiResult<Self> {
        let full_name = TableName {
            catalog: Ident::parse("catalog_name", required("catalog_name", &c.catalog_name)?)?,
            schema: Ident::parse("schema_name", required("schema_name", &c.schema_name)?)?,
            table: Ident::parse("name", required("name", &c.name)?)?,
        };
        let table_type = one_of("table_type", required("table_type", &c.table_type)?, TABLE_TYPES)?;
        let is_view = table_type == "VIEW";
        let data_source_format = match (&c.data_source_format, is_view) {
            (Some(f), _) => Some(one_of("data_source_format", f, DATA_SOURCE_FORMATS)?),
            (None, true) => None,
            (None, false) => return Err(ApiError::invalid("data_source_format", "is required for tables")),
        };
        let columns =
            columns_json(c.columns.ok_or_else(|| ApiError::invalid("columns", "is required (it may be empty)"))?)?;
        let storage_location = c
            .storage_location
            .filter(|l| !l.is_empty())
            .map(|l| StorageUrl::parse(&l).map_err(|e| ApiError::invalid("storage_location", e)))
            .transpose()?;
        match table_type.as_str() {
            // Hosted: only a Staging Table API path may be given, and the emulator has none.
            "MANAGED" if storage_location.is_some() => {
                return Err(ApiError::invalid(
                    "storage_location",
                    "must not be given for a MANAGED table; the server assigns managed locations",
                ))
            }
            "EXTERNAL" if storage_location.is_none() => {
                return Err(ApiError::invalid("storage_location", "is required for EXTERNAL tables"))
            }
            "VIEW" if storage_location.is_some() => {
                return Err(ApiError::invalid("storage_location", "must not be given for a VIEW"))
            }
            "VIEW" if c.view_definition.as_deref().unwrap_or("").is_empty() => {
                return Err(ApiError::invalid("view_definition", "is required for a VIEW"))
            }
            _ => {}
        }
        let storage_credential_name =
            c.storage_credential_name.map(|n| Ident::parse("storage_credential_name", &n)).transpose()?;
        if storage_credential_name.is_some() && table_type != "EXTERNAL" {
            return Err(ApiError::invalid("storage_credential_name", "is only for EXTERNAL tables"));
        }
        Ok(TableSpec {
            full_name,
            table_type,
            data_source_format,
            columns,
            storage_location,
            storage_credential_name,
            view_definition: c.view_definition,
            sql_path: c.sql_path,
            comment: c.comment,
            properties: properties_json(c.properties),
        })
    }
}

/// The node an EXTERNAL table's storage is authorized on: the storage
/// credential named by `storage_credential_name` (404 when it does not exist), else the external
/// location covering `storage_location` (400 when none does, also for metastore admins).
/// `None` for managed tables and views.
pub fn external_storage(tx: &Connection, metastore_id: &str, spec: &TableSpec) -> ApiResult<Option<Node>> {
    if spec.table_type != "EXTERNAL" {
        return Ok(None);
    }
    if let Some(credential) = &spec.storage_credential_name {
        return Ok(Some(credentials::require(tx, metastore_id, credential)?.node()));
    }
    let url = spec.storage_location.as_ref().ok_or_else(|| ApiError::invalid("storage_location", "is required"))?;
    covering_location(tx, metastore_id, url).map(Some)
}

/// The external location covering an external table's `url`, or 400 naming `storage_location`.
fn covering_location(tx: &Connection, metastore_id: &str, url: &StorageUrl) -> ApiResult<Node> {
    match external_locations::covering(tx, metastore_id, url)? {
        Some(l) => Ok(l.node()),
        None => Err(ApiError::invalid(
            "storage_location",
            format!("No parent external location found for {url}; create an external location that covers it or name a storage_credential_name"),
        )),
    }
}

/// The overlap rules for a table location: no other table's location equal to,
/// inside or containing it; for external tables, no external location strictly inside it.
fn check_table_location(
    tx: &Connection,
    metastore_id: &str,
    url: &StorageUrl,
    except: Option<&str>,
    external: bool,
) -> ApiResult<()> {
    if external {
        if let Some(managed) = crate::store::managed::root_overlapping(tx, metastore_id, url)? {
            return Err(ApiError::invalid(
                "storage_location",
                format!("{url} overlaps managed storage ({managed}); external tables may not"),
            ));
        }
        if let Some((name, inner)) = external_locations::strictly_inside(tx, metastore_id, url)? {
            return Err(ApiError::invalid(
                "storage_location",
                format!(
                    "{url} contains external location '{name}' ({inner}); a table may not contain an external location"
                ),
            ));
        }
    }
    if let Some(other) = tables::overlapping(tx, metastore_id, url, except)? {
        return Err(ApiError::invalid(
            "storage_location",
            format!("{url} overlaps the location of table '{other}'; table locations may not overlap"),
        ));
    }
    if let Some((volume, location)) = crate::store::volumes::overlapping(tx, metastore_id, url, None)? {
        return Err(ApiError::invalid(
            "storage_location",
            format!(
                "{url} overlaps the location of volume '{volume}' ({location}); tables and volumes may not overlap"
            ),
        ));
    }
    Ok(())
}

/// Inserts a validated table under `schema` (already authorized); shared with fixtures. A
/// MANAGED table's local directory (when its location has one) is created as the last step, so
/// a directory that cannot be made rolls the table back (400 `INVALID_STATE`).
pub fn insert_table(
    tx: &Connection,
    ok: &authz::Allowed,
    schema: &SchemaRow,
    spec: TableSpec,
    owner: String,
    now: i64,
    storage: &LocalStorage,
) -> ApiResult<TableRow> {
    if schema.name == crate::store::catalogs::INFORMATION_SCHEMA {
        return Err(ApiError::invalid(
            "schema_name",
            "information_schema is a read-only system schema; it holds no tables",
        ));
    }
    let external = external_storage(tx, &schema.metastore_id, &spec)?;
    let id = new_ordered_id();
    let location = match (&spec.storage_location, spec.table_type.as_str()) {
        (Some(l), _) => Some(l.clone()),
        (None, "MANAGED") => {
            // Under the schema's root, else the catalog's, else the metastore's.
            let root = match (&schema.storage_root, &schema.catalog_storage_root) {
                (Some(r), _) | (None, Some(r)) => r.clone(),
                (None, None) => metastores::require(tx, &schema.metastore_id)?.storage_root,
            };
            Some(StorageUrl::from_stored(root).join("tables").join(&id))
        }
        _ => None,
    };
    if let Some(l) = &location {
        check_table_location(tx, &schema.metastore_id, l, None, external.is_some())?;
    }
    let new = NewTable {
        name: spec.full_name.table.clone(),
        table_type: spec.table_type,
        data_source_format: spec.data_source_format,
        columns: spec.columns,
        storage_location: location.map(|l| l.to_string()),
        storage_credential_name: spec.storage_credential_name.as_ref().map(|c| c.to_string()),
        view_definition: spec.view_definition,
        sql_path: spec.sql_path,
        comment: spec.comment,
        properties: spec.properties,
        created_by: owner.clone(),
        owner,
        now,
    };
    let managed_dir = (new.table_type == "MANAGED").then(|| new.storage_location.clone()).flatten();
    tables::insert(tx, ok, &id, &schema.id, &spec.full_name.to_string(), &new)?;
    if let Some(location) = managed_dir {
        super::volumes::make_local_dir(&location, storage)?;
    }
    tables::get(tx, &schema.metastore_id, &spec.full_name)?.ok_or_else(|| tables::not_found(&spec.full_name))
}

/// The error for a table that was not found: a parent's 404, a 403 for callers who may not use
/// the catalog and schema (they do not learn whether the table exists), else the table's 404.
pub fn missing_table(conn: &Connection, caller: &Caller, metastore_id: &str, name: &TableName) -> ApiError {
    match load_schema(conn, caller, metastore_id, &name.schema_name()) {
        Err(e) => e,
        Ok((_, [schema, catalog])) => match authz::require(caller, &Action::ListTables, &[&schema, &catalog]) {
            Err(d) => denied(d),
            Ok(_) => tables::not_found(name),
        },
    }
}

/// A table and its chain with the caller's grants, or the right error.
pub fn load_table(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &TableName,
) -> ApiResult<(TableRow, [Node; 3])> {
    let (row, mut t, chain) = find_table(conn, caller, metastore_id, name)?;
    securables::attach_grants(conn, &mut [&mut t], &caller.principals_json)?;
    let [s, c] = chain.nodes(&caller.principals);
    may_use_parents(caller, &s, &c)?;
    Ok((row, [t, s, c]))
}

/// A table, its node without its own grants yet ([`securables::attach_grants`]) and its
/// schema's chain, or the error for a missing table; the caller's use of the parents is not
/// judged yet.
fn find_table(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &TableName,
) -> ApiResult<(TableRow, Node, Rc<SchemaChain>)> {
    let found = match securables::schema_chain(conn, metastore_id, name.catalog.as_str(), name.schema.as_str())? {
        Some(chain) => {
            tables::get_in(conn, &chain, name.table.as_str(), &caller.principals)?.map(|(row, t)| (row, t, chain))
        }
        None => None,
    };
    found.ok_or_else(|| missing_table(conn, caller, metastore_id, name))
}

/// A caller who may not use the parents of a table gets the answer a missing table gives: the
/// same 403 naming only the parents (BROWSE holders may learn that tables exist).
fn may_use_parents(caller: &Caller, s: &Node, c: &Node) -> ApiResult<()> {
    // (The catalog first, as for a missing schema, then the schema.)
    if !authz::visible(caller, &Action::BrowseCatalog, &[c]) {
        for (action, chain) in [(Action::ListSchemas, &[c][..]), (Action::ListTables, &[s, c][..])] {
            if !authz::visible(caller, &action, chain) {
                return Err(denied(authz::require(caller, &action, chain).expect_err("not visible")));
            }
        }
    }
    Ok(())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UpdateTable {
    name: Option<String>,
    new_name: Option<String>,
    owner: Option<String>,
    comment: Option<String>,
    properties: Option<BTreeMap<String, String>>,
    columns: Option<Vec<ColumnInfo>>,
    data_source_format: Option<String>,
    storage_location: Option<String>,
    view_definition: Option<String>,
    sql_path: Option<String>,
}

/// createTable: use of the catalog and schema and CREATE_TABLE first (403), then the storage an
/// EXTERNAL table uses (404 / 400), then the whole rule with that location or credential in the
/// chain.
pub fn create(
    tx: &Connection,
    caller: &Caller,
    metastore_id: &str,
    spec: TableSpec,
    storage: &LocalStorage,
) -> ApiResult<TableRow> {
    let (schema, [snode, cnode]) = load_schema(tx, caller, metastore_id, &spec.full_name.schema_name())?;
    let ok = authz::require(caller, &Action::CreateTable { external: false }, &[&snode, &cnode]).map_err(denied)?;
    let ok = match external_storage(tx, metastore_id, &spec)? {
        None => ok,
        Some(mut storage) => {
            securables::attach_grants(tx, &mut [&mut storage], &caller.principals_json)?;
            authz::require(caller, &Action::CreateTable { external: true }, &[&snode, &cnode, &storage])
                .map_err(denied)?
        }
    };
    insert_table(tx, &ok, &schema, spec, caller.name.clone(), now_ms(), storage)
}

/// getTable: the row, and whether the caller sees it only through `BROWSE` (when asked for).
pub fn get(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &TableName,
    browse: bool,
) -> ApiResult<(TableRow, bool)> {
    let (row, mut t, chain) = find_table(conn, caller, metastore_id, name)?;
    // The caller's nodes of the schema and catalog, made once per database state.
    let parents = chain.shared_nodes(&caller.principals);
    let [s, c] = &*parents;
    // getTable needs use of both parents (or a metastore admin), so a caller it allows passes
    // `may_use_parents` too: judged first, the usual answer takes one judgement, not four. And
    // a grant only ever adds to what a caller may do (no rule asks for a grant's absence), so a
    // caller allowed without the table's own grants (an owner, an admin, a holder of a parent's
    // privileges) is allowed with them: they are read only for the others.
    if authz::visible(caller, &Action::GetTable, &[&t, s, c]) {
        return Ok((row, false));
    }
    securables::attach_grants(conn, &mut [&mut t], &caller.principals_json)?;
    let chain = [&t, s, c];
    if authz::visible(caller, &Action::GetTable, &chain) {
        return Ok((row, false));
    }
    may_use_parents(caller, s, c)?;
    if browse && authz::visible(caller, &Action::BrowseCatalog, &[c]) {
        Ok((row, true))
    } else {
        Err(denied(authz::require(caller, &Action::GetTable, &chain).expect_err("not visible")))
    }
}

/// `tables/{full_name}/exists` (SDK)
pub fn exists(conn: &Connection, caller: &Caller, metastore_id: &str, name: &TableName) -> ApiResult<bool> {
    match tables::get(conn, metastore_id, name)? {
        Some(row) => {
            let [mut t, mut s, mut c] = row.nodes();
            securables::attach_grants(conn, &mut [&mut t, &mut s, &mut c], &caller.principals_json)?;
            authz::require(caller, &Action::TableExists, &[&t, &s, &c]).map_err(denied)?;
            Ok(true)
        }
        None => {
            let (_, [s, c]) = load_schema(conn, caller, metastore_id, &name.schema_name())?;
            let probe = Node {
                kind: crate::domain::securable::SecurableKind::Table,
                id: String::new(),
                name: name.to_string(),
                owner: String::new(),
                grants: vec![],
            };
            let may_list = authz::visible(caller, &Action::ListTables, &[&s, &c])
                || authz::visible(caller, &Action::TableExists, &[&probe, &s, &c]);
            if may_list {
                Ok(false)
            } else {
                Err(denied(authz::require(caller, &Action::ListTables, &[&s, &c]).expect_err("not visible")))
            }
        }
    }
}

/// A validated updateTable body for the table `name`.
pub struct TableUpdate {
    rename: Option<Ident>,
    columns: Option<String>,
    format: Option<String>,
    location: Option<StorageUrl>,
    properties: Option<String>,
    owner: Option<String>,
    comment: Option<String>,
    view_definition: Option<String>,
    sql_path: Option<String>,
}

impl TableUpdate {
    /// The new `storage_location`, if the update sets one.
    pub fn location(&self) -> Option<&StorageUrl> {
        self.location.as_ref()
    }

    pub fn parse(name: &TableName, body: UpdateTable) -> ApiResult<TableUpdate> {
        let new_name = body.new_name.map(|n| Ident::parse("new_name", &n)).transpose()?;
        let body_name = body.name.map(|n| Ident::parse("name", &n)).transpose()?;
        let rename = rename_to(&name.table, body_name, new_name);
        let columns = body.columns.map(columns_json).transpose()?;
        let format =
            body.data_source_format.map(|f| one_of("data_source_format", &f, DATA_SOURCE_FORMATS)).transpose()?;
        let location = body
            .storage_location
            .filter(|l| !l.is_empty())
            .map(|l| StorageUrl::parse(&l).map_err(|e| ApiError::invalid("storage_location", e)))
            .transpose()?;
        Ok(TableUpdate {
            rename,
            columns,
            format,
            location,
            properties: properties_json(body.properties),
            owner: body.owner,
            comment: body.comment,
            view_definition: body.view_definition,
            sql_path: body.sql_path,
        })
    }
}

/// updateTable
pub fn update(
    tx: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &TableName,
    body: TableUpdate,
) -> ApiResult<TableRow> {
    let (current, [t, s, c]) = load_table(tx, caller, metastore_id, name)?;
    let owner = body.owner.as_deref().map(|o| owner_name(tx, o)).transpose()?.filter(|o| *o != current.owner);
    let location = body.location.filter(|l| current.storage_location.as_deref() != Some(l.as_str()));
    if location.is_some() && current.table_type != "EXTERNAL" {
        return Err(ApiError::invalid("storage_location", "can be changed only for EXTERNAL tables"));
    }
    if body.view_definition.is_some() && current.table_type != "VIEW" {
        return Err(ApiError::invalid("view_definition", "is only for views"));
    }
    let changes = TableChanges {
        new_name: body.rename,
        comment: body.comment.filter(|v| changed(&current.comment, v)),
        properties: body.properties.filter(|p| current.properties.as_ref().map(|c| c.get()) != Some(p.as_str())),
        columns: body.columns.filter(|cols| current.columns.as_ref().map(|c| c.get()) != Some(cols.as_str())),
        data_source_format: body.format.filter(|f| changed(&current.data_source_format, f)),
        storage_location: location.as_ref().map(|l| l.to_string()),
        view_definition: body.view_definition.filter(|v| changed(&current.view_definition, v)),
        sql_path: body.sql_path.filter(|v| changed(&current.sql_path, v)),
        owner,
    };
    let shape = UpdateShape {
        rename: changes.new_name.is_some(),
        owner: changes.owner.is_some(),
        other: changes.comment.is_some()
            || changes.properties.is_some()
            || changes.columns.is_some()
            || changes.data_source_format.is_some()
            || changes.storage_location.is_some()
            || changes.view_definition.is_some()
            || changes.sql_path.is_some(),
    };
    let new_view_owner = (current.table_type == "VIEW").then(|| changes.owner.clone()).flatten();
    let ok = authz::require(caller, &Action::UpdateTable { shape, new_view_owner }, &[&t, &s, &c]).map_err(denied)?;
    if let Some(l) = &location {
        // The new location of an EXTERNAL table is checked like a create's: its credential (when
        // it still exists) or else a covering location, the caller's CREATE_EXTERNAL_TABLE
        // there, and the overlap rules.
        let credential = match &current.storage_credential_name {
            Some(c) => credentials::get(tx, metastore_id, &Ident::from_stored(c.clone()))?,
            None => None,
        };
        let mut storage = match credential {
            Some(c) => c.node(),
            None => covering_location(tx, metastore_id, l)?,
        };
        securables::attach_grants(tx, &mut [&mut storage], &caller.principals_json)?;
        authz::require(caller, &Action::RelocateExternalTable, &[&t, &s, &c, &storage]).map_err(denied)?;
        check_table_location(tx, metastore_id, l, Some(&current.id), true)?;
    }
    tables::update(tx, &ok, &current, &changes, &caller.name, now_ms())?;
    let now_named = TableName { table: changes.new_name.clone().unwrap_or_else(|| name.table.clone()), ..name.clone() };
    tables::get(tx, metastore_id, &now_named)?.ok_or_else(|| tables::not_found(&now_named))
}

/// deleteTable
/// deleteTable: returns the storage location whose local directory goes too (MANAGED tables
/// only; external data is never touched), to be removed once the transaction has committed.
pub fn delete(tx: &Connection, caller: &Caller, metastore_id: &str, name: &TableName) -> ApiResult<Option<String>> {
    let (current, [t, s, c]) = load_table(tx, caller, metastore_id, name)?;
    let ok = authz::require(caller, &Action::DeleteTable, &[&t, &s, &c]).map_err(denied)?;
    tables::delete(tx, &ok, &current.id)?;
    Ok(if current.table_type == "MANAGED" { current.storage_location } else { None })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TableSummary {
    pub full_name: String,
    pub table_type: String,
}

/// listTableSummaries: empty without catalog access (not a 403); every table for metastore admins, else those the caller may summarize, with the page's grants in one query.
#[allow(clippy::too_many_arguments)]
pub fn summaries(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    catalog: Ident,
    schema_like: String,
    table_like: String,
    after: String,
    limit: Option<usize>,
) -> ApiResult<(Vec<TableSummary>, Option<String>)> {
    let row = catalogs::require(conn, metastore_id, &catalog)?;
    let mut cnode = row.node();
    securables::attach_grants(conn, &mut [&mut cnode], &caller.principals_json)?;
    if !authz::visible(caller, &Action::ListTableSummaries, &[&cnode]) {
        return Ok((Vec::new(), None));
    }
    let all = authz::visible(caller, &Action::ListAllTables, &[&cnode]);
    let (after_schema, after_table) = after.split_once(SUMMARY_KEY_SEP).unwrap_or((&after, ""));
    let page = tables::scan_summaries(conn, &row.id, &schema_like, &table_like, (after_schema, after_table), limit)?;
    let mut ids: Vec<&str> = Vec::new();
    if !all {
        for r in &page.rows {
            ids.push(&r.id);
            ids.push(&r.schema_id);
        }
        ids.sort_unstable();
        ids.dedup();
    }
    let grants = if all { Default::default() } else { securables::grants_on(conn, &ids, &caller.principals_json)? };
    // Owners deleted with their principal own nothing for a principal of the same name.
    let orphaned = if all { Vec::new() } else { securables::orphaned_among(conn, &ids, &caller.principals_json)? };
    let owner_of = |id: &str, owner: &str| {
        if orphaned.iter().any(|(i, o)| i == id && o == owner) {
            String::new()
        } else {
            owner.to_string()
        }
    };
    let mut items = Vec::with_capacity(page.rows.len());
    for r in &page.rows {
        let full_name = format!("{catalog}.{}.{}", r.schema_name, r.name);
        if !all {
            let kind = if r.table_type == "VIEW" {
                crate::domain::securable::SecurableKind::View
            } else {
                crate::domain::securable::SecurableKind::Table
            };
            let table = Node {
                kind,
                id: r.id.clone(),
                name: full_name.clone(),
                owner: owner_of(&r.id, &r.owner),
                grants: grants.get(&r.id).cloned().unwrap_or_default(),
            };
            let schema = Node {
                kind: crate::domain::securable::SecurableKind::Schema,
                id: r.schema_id.clone(),
                name: format!("{catalog}.{}", r.schema_name),
                owner: owner_of(&r.schema_id, &r.schema_owner),
                grants: grants.get(&r.schema_id).cloned().unwrap_or_default(),
            };
            if !authz::visible(caller, &Action::SummarizeTable, &[&table, &schema, &cnode]) {
                continue;
            }
        }
        items.push(TableSummary { full_name, table_type: r.table_type.clone() });
    }
    Ok((items, page.more_after))
}

/// listTables: 403 without use of the catalog and schema (unless browsing); a page of tables
/// after `after`, each judged by getTable (all for metastore admins), or browse-only.
#[allow(clippy::too_many_arguments)]
pub fn list(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    schema: &SchemaName,
    after: &str,
    limit: Option<usize>,
    with_columns: bool,
    browse: bool,
) -> ApiResult<Judged<TableRow>> {
    let list =
        ChildList { list: &Action::ListTables, list_all: &Action::ListAllTables, read: &Action::GetTable, browse };
    let scan = |chain: &SchemaChain| tables::scan_in(conn, chain, after, limit, with_columns);
    schema_children(conn, caller, metastore_id, schema, list, scan, TableRow::node)
}
