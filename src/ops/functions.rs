//! Functions: createFunction's validated input (the SDK's `CreateFunction`, wrapped as
//! `function_info`), and the function operations. One function per name and schema.

use std::collections::{BTreeMap, HashSet};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::schemas::{load_schema, refuse_information_schema};
use super::tables::required;
use super::{denied, owner_name};
use crate::authz::{self, Action, Caller, Node};
use crate::domain::names::{Ident, TableName};
use crate::domain::{new_ordered_id, now_ms};
use crate::error::{ApiError, ApiResult};
use crate::store::functions::{self, FunctionRow, NewFunction};
use crate::store::schemas::SchemaRow;

/// The SDK's `ColumnTypeName`.
pub const ROUTINE_BODIES: &[&str] = &["SQL", "EXTERNAL"];
pub const PARAMETER_STYLES: &[&str] = &["S"];
pub const SQL_DATA_ACCESS: &[&str] = &["CONTAINS_SQL", "NO_SQL", "READS_SQL_DATA"];
pub const SECURITY_TYPES: &[&str] = &["DEFINER"];
pub const PARAMETER_MODES: &[&str] = &["IN"];
pub const PARAMETER_TYPES: &[&str] = &["PARAM", "COLUMN"];

pub const TYPE_NAMES: &[&str] = &[
    "ARRAY",
    "BINARY",
    "BOOLEAN",
    "BYTE",
    "CHAR",
    "DATE",
    "DECIMAL",
    "DOUBLE",
    "FLOAT",
    "GEOGRAPHY",
    "GEOMETRY",
    "INT",
    "INTERVAL",
    "LONG",
    "MAP",
    "NULL",
    "SHORT",
    "STRING",
    "STRUCT",
    "TABLE_TYPE",
    "TIMESTAMP",
    "TIMESTAMP_NTZ",
    "USER_DEFINED_TYPE",
    "VARIANT",
];

/// `FunctionParameterInfo`, as accepted and stored.
#[derive(Deserialize, Serialize, Clone, utoipa::ToSchema)]
pub struct ParameterInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    type_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    type_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    type_json: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    type_precision: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    type_scale: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    type_interval_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameter_default: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameter_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameter_type: Option<String>,
}

/// `FunctionParameterInfos`: `{"parameters": [...]}`.
#[derive(Deserialize, Serialize, Clone, Default, utoipa::ToSchema)]
pub struct ParameterList {
    #[serde(default)]
    parameters: Vec<ParameterInfo>,
}

/// The SDK's `CreateFunction`, every field optional on the wire (validation names what is missing).
#[derive(Deserialize, Serialize, Default, utoipa::ToSchema)]
pub struct CreateFunction {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    catalog_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    schema_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    input_params: Option<ParameterList>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    full_data_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    return_params: Option<ParameterList>,
    #[serde(skip_serializing_if = "Option::is_none")]
    routine_body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    routine_definition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    routine_dependencies: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameter_style: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_deterministic: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sql_data_access: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_null_call: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    security_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    specific_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sql_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<String>,
}

/// Reads a createFunction body: `{"function_info": CreateFunction}` (what the SDK sends), or the
/// CreateFunction itself. Field errors name the field as the client sent it.
pub fn parse_create(body: Json) -> ApiResult<CreateFunction> {
    let (prefix, inner) = match body {
        Json::Object(mut m) if m.contains_key("function_info") => {
            ("function_info.", m.remove("function_info").unwrap_or(Json::Null))
        }
        other => ("", other),
    };
    if !inner.is_object() {
        return Err(ApiError::invalid("function_info", "must be a JSON object"));
    }
    serde_path_to_error::deserialize(inner).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.into_inner().to_string();
        let msg = msg.rfind(" at line ").map(|i| msg[..i].to_string()).unwrap_or(msg);
        ApiError::invalid(&format!("{prefix}{path}"), msg)
    })
}

fn one_of(field: &str, value: &str, allowed: &[&str]) -> ApiResult<()> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(ApiError::invalid(field, format!("unknown value {value:?}; expected one of {}", allowed.join(", "))))
    }
}

fn need<T: Clone>(field: &str, v: &Option<T>) -> ApiResult<T> {
    v.clone().ok_or_else(|| ApiError::invalid(field, "is required"))
}

/// Validates a parameter list; returns it ordered by position.
fn parameters(field: &str, list: &ParameterList) -> ApiResult<ParameterList> {
    let mut names = HashSet::new();
    let n = list.parameters.len() as i64;
    let mut positions = HashSet::new();
    for (i, p) in list.parameters.iter().enumerate() {
        let f = |x: &str| format!("{field}.parameters[{i}].{x}");
        let name = need(&f("name"), &p.name)?;
        if name.is_empty() {
            return Err(ApiError::invalid(&f("name"), "must not be empty"));
        }
        if !names.insert(name.to_lowercase()) {
            return Err(ApiError::invalid(&f("name"), format!("{name:?} is used by another parameter")));
        }
        one_of(&f("type_name"), &need(&f("type_name"), &p.type_name)?, TYPE_NAMES)?;
        need(&f("type_text"), &p.type_text)?;
        let position = need(&f("position"), &p.position)?;
        if !(0..n).contains(&position) || !positions.insert(position) {
            return Err(ApiError::invalid(
                &f("position"),
                format!("the positions of the parameters must be exactly 0 to {} ({position} is not)", n - 1),
            ));
        }
        if let Some(m) = &p.parameter_mode {
            one_of(&f("parameter_mode"), m, PARAMETER_MODES)?;
        }
        if let Some(t) = &p.parameter_type {
            one_of(&f("parameter_type"), t, PARAMETER_TYPES)?;
        }
    }
    let mut sorted = list.clone();
    sorted.parameters.sort_by_key(|p| p.position);
    Ok(sorted)
}

/// A validated function create, shared with fixtures.
pub struct FunctionSpec {
    pub full_name: TableName,
    /// The CreateFunction as stored (names lower-cased, parameters by position).
    pub info: String,
}

impl TryFrom<CreateFunction> for FunctionSpec {
    type Error = ApiError;
    fn try_from(mut c: CreateFunction) -> ApiResult<Self> {
        let full_name = TableName {
            catalog: Ident::parse("catalog_name", required("catalog_name", &c.catalog_name)?)?,
            schema: Ident::parse("schema_name", required("schema_name", &c.schema_name)?)?,
            table: Ident::parse("name", required("name", &c.name)?)?,
        };
        refuse_information_schema(full_name.schema.as_str(), "schema_name")?;
        let input = parameters("input_params", &need("input_params", &c.input_params)?)?;
        let data_type = need("data_type", &c.data_type)?;
        one_of("data_type", &data_type, TYPE_NAMES)?;
        need("full_data_type", &c.full_data_type)?;
        let body = need("routine_body", &c.routine_body)?;
        one_of("routine_body", &body, ROUTINE_BODIES)?;
        if need("routine_definition", &c.routine_definition)?.is_empty() {
            return Err(ApiError::invalid("routine_definition", "must not be empty"));
        }
        one_of("parameter_style", &need("parameter_style", &c.parameter_style)?, PARAMETER_STYLES)?;
        need("is_deterministic", &c.is_deterministic)?;
        need("is_null_call", &c.is_null_call)?;
        let access = need("sql_data_access", &c.sql_data_access)?;
        one_of("sql_data_access", &access, SQL_DATA_ACCESS)?;
        one_of("security_type", &need("security_type", &c.security_type)?, SECURITY_TYPES)?;
        need("specific_name", &c.specific_name)?;
        let returns = c.return_params.as_ref().map(|r| parameters("return_params", r)).transpose()?;
        match (&returns, data_type == "TABLE_TYPE") {
            (None, true) => {
                return Err(ApiError::invalid(
                    "return_params",
                    "is required for a table function (data_type TABLE_TYPE)",
                ))
            }
            (Some(r), true) if r.parameters.is_empty() => {
                return Err(ApiError::invalid("return_params", "a table function returns at least one column"))
            }
            (Some(_), false) => {
                return Err(ApiError::invalid("return_params", "is only for table functions (data_type TABLE_TYPE)"))
            }
            _ => {}
        }
        if body == "EXTERNAL" {
            if c.external_language.as_deref().unwrap_or("").is_empty() {
                return Err(ApiError::invalid("external_language", "is required when routine_body is EXTERNAL"));
            }
            if returns.is_some() {
                return Err(ApiError::invalid("return_params", "external functions cannot be table functions"));
            }
            if access != "NO_SQL" {
                return Err(ApiError::invalid("sql_data_access", "must be NO_SQL when routine_body is EXTERNAL"));
            }
        }
        if let Some(p) = &c.properties {
            if serde_json::from_str::<BTreeMap<String, String>>(p).is_err() {
                return Err(ApiError::invalid("properties", "must be a JSON object of string values, as a string"));
            }
        }
        c.name = Some(full_name.table.to_string());
        c.catalog_name = Some(full_name.catalog.to_string());
        c.schema_name = Some(full_name.schema.to_string());
        c.input_params = Some(input);
        c.return_params = returns;
        let info = serde_json::to_string(&c).expect("a CreateFunction serializes");
        Ok(FunctionSpec { full_name, info })
    }
}

/// Inserts a validated function under `schema` (already authorized); shared with fixtures.
pub fn insert_function(
    tx: &Connection,
    ok: &authz::Allowed,
    schema: &SchemaRow,
    spec: &FunctionSpec,
    owner: &str,
    now: i64,
) -> ApiResult<FunctionRow> {
    let id = new_ordered_id();
    let new = NewFunction { id: &id, name: spec.full_name.table.as_str(), info: &spec.info, owner, now };
    functions::insert(tx, ok, &schema.id, &spec.full_name, &new)?;
    functions::get(tx, &schema.metastore_id, &spec.full_name)?.ok_or_else(|| functions::not_found(&spec.full_name))
}

/// createFunction
pub fn create(tx: &Connection, caller: &Caller, metastore_id: &str, spec: FunctionSpec) -> ApiResult<FunctionRow> {
    let (schema, [s, c]) = load_schema(tx, caller, metastore_id, &spec.full_name.schema_name())?;
    let ok = authz::require(caller, &Action::CreateFunction, &[&s, &c]).map_err(denied)?;
    insert_function(tx, &ok, &schema, &spec, &caller.name, now_ms())
}

/// A function and its chain with the caller's grants, or the right error: the parents' 404s, a
/// 403 for callers who may not use the catalog and schema, else the function's 404.
pub fn load_function(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &TableName,
) -> ApiResult<(FunctionRow, [Node; 3])> {
    let found = functions::get(conn, metastore_id, name)?.map(|r| {
        let nodes = r.nodes();
        (r, nodes)
    });
    super::schemas::load_child(conn, caller, metastore_id, name, found, &Action::ListFunctions, || {
        functions::not_found(name)
    })
}

/// getFunction: the row, and whether the caller sees it only through `BROWSE`.
pub fn get(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &TableName,
    browse: bool,
) -> ApiResult<(FunctionRow, bool)> {
    let (row, chain) = load_function(conn, caller, metastore_id, name)?;
    let browse_only = super::schemas::read_or_browse(caller, &Action::GetFunction, &chain, browse)?;
    Ok((row, browse_only))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UpdateFunction {
    pub owner: Option<String>,
}

/// updateFunction: only `owner` changes.
pub fn update(
    tx: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &TableName,
    body: UpdateFunction,
) -> ApiResult<FunctionRow> {
    let owner = body
        .owner
        .ok_or_else(|| ApiError::invalid("owner", "is required (only the owner of a function can be updated)"))?;
    let (current, [f, s, c]) = load_function(tx, caller, metastore_id, name)?;
    let owner = owner_name(tx, &owner)?;
    let ok = authz::require(caller, &Action::UpdateFunction { new_owner: Some(owner.clone()) }, &[&f, &s, &c])
        .map_err(denied)?;
    functions::set_owner(tx, &ok, &current.id, &owner, &caller.name, now_ms())?;
    functions::get(tx, metastore_id, name)?.ok_or_else(|| functions::not_found(name))
}

/// deleteFunction (`force` has no effect: a function has no children).
pub fn delete(tx: &Connection, caller: &Caller, metastore_id: &str, name: &TableName) -> ApiResult<()> {
    let (current, [f, s, c]) = load_function(tx, caller, metastore_id, name)?;
    let ok = authz::require(caller, &Action::DeleteFunction, &[&f, &s, &c]).map_err(denied)?;
    functions::delete(tx, &ok, &current.id)
}

/// listFunctions: 403 without use of the catalog and schema (unless browsing); every row for
/// metastore admins, else those the caller may execute.
pub fn list(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    schema: &crate::domain::names::SchemaName,
    after: &str,
    limit: Option<usize>,
    browse: bool,
) -> ApiResult<super::lists::Judged<FunctionRow>> {
    let list = super::lists::ChildList {
        list: &Action::ListFunctions,
        list_all: &Action::ListAllFunctions,
        read: &Action::GetFunction,
        browse,
    };
    let scan =
        |chain: &crate::store::read_cache::SchemaChain| functions::scan(conn, &chain.parent.schema_id, after, limit);
    super::lists::schema_children(conn, caller, metastore_id, schema, list, scan, FunctionRow::node)
}
