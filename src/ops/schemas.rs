//! Schemas: createSchema's validated input, the schema chain loader and the schema operations.

use std::collections::BTreeMap;
use std::rc::Rc;

use rusqlite::Connection;
use serde::Deserialize;

use super::lists::{judge, Judged, Rule};
use super::{changed, denied, owner_name, properties_json};
use crate::authz::{self, Action, Caller};
use crate::domain::names::{Ident, SchemaName, TableName};
use crate::domain::now_ms;
use crate::domain::storage_url::StorageUrl;
use crate::domain::update::{rename_to, UpdateShape};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::catalogs::{self, INFORMATION_SCHEMA};
use crate::store::read_cache::SchemaChain;
use crate::store::schemas::{self, NewSchema, SchemaChanges, SchemaRow};
use crate::store::{securables, volumes};

/// `information_schema` is read-only for everyone.
pub fn refuse_information_schema(name: &str, field: &str) -> ApiResult<()> {
    if name == INFORMATION_SCHEMA {
        Err(ApiError::invalid(field, "information_schema is a read-only system schema"))
    } else {
        Ok(())
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
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
    may_see_schemas(caller, &catalog)?;
    Ok((row, [schema, catalog]))
}

/// A caller who may not use the catalog gets the answer a missing schema gives: the same 403
/// naming only the catalog (BROWSE holders may learn that schemas exist).
fn may_see_schemas(caller: &Caller, catalog: &authz::Node) -> ApiResult<()> {
    if !authz::visible(caller, &Action::ListSchemas, &[catalog])
        && !authz::visible(caller, &Action::BrowseCatalog, &[catalog])
    {
        return Err(denied(authz::require(caller, &Action::ListSchemas, &[catalog]).expect_err("not visible")));
    }
    Ok(())
}

/// A schema's chain [schema, catalog] with the caller's grants, as [`load_schema`] checks it,
/// without the rest of the schema's row: what lists and gets of a schema's children read (from
/// the store's read cache when the same schema was read before in the same database state).
pub fn load_schema_chain(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &SchemaName,
) -> ApiResult<(Rc<SchemaChain>, [authz::Node; 2])> {
    let Some(chain) = securables::schema_chain(conn, metastore_id, name.catalog.as_str(), name.schema.as_str())? else {
        return Err(missing_schema(conn, caller, metastore_id, name));
    };
    let [schema, catalog] = chain.nodes(&caller.principals);
    may_see_schemas(caller, &catalog)?;
    Ok((chain, [schema, catalog]))
}

/// A row of a schema (a volume, a function) and its chain [row, schema, catalog] with the caller's
/// grants, or the right error: the parents' 404s, a 403 for callers who may not `list` in the
/// schema, else `missing`. `found` is the row looked up by `name`, with its chain.
pub fn load_child<R>(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &TableName,
    found: Option<(R, [authz::Node; 3])>,
    list: &Action,
    missing: impl FnOnce() -> ApiError,
) -> ApiResult<(R, [authz::Node; 3])> {
    let Some((row, [mut x, mut s, mut c])) = found else {
        let (_, [s, c]) = load_schema(conn, caller, metastore_id, &name.schema_name())?;
        return Err(match authz::require(caller, list, &[&s, &c]) {
            Err(d) => denied(d),
            Ok(_) => missing(),
        });
    };
    securables::attach_grants(conn, &mut [&mut x, &mut s, &mut c], &caller.principals_json)?;
    Ok((row, [x, s, c]))
}

/// Whether the caller may `read` a schema's row fully (`Ok(false)`) or, when `browse` was
/// asked, sees it only through `BROWSE` on its catalog (`Ok(true)`); 403 otherwise.
pub fn read_or_browse(caller: &Caller, read: &Action, [x, s, c]: &[authz::Node; 3], browse: bool) -> ApiResult<bool> {
    match authz::require(caller, read, &[x, s, c]) {
        Ok(_) => Ok(false),
        Err(_) if browse && authz::visible(caller, &Action::BrowseCatalog, &[c]) => Ok(true),
        Err(d) => Err(denied(d)),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UpdateSchema {
    name: Option<String>,
    new_name: Option<String>,
    comment: Option<String>,
    owner: Option<String>,
    properties: Option<BTreeMap<String, String>>,
}

/// createSchema
pub fn create(tx: &Connection, caller: &Caller, metastore_id: &str, spec: SchemaSpec) -> ApiResult<SchemaRow> {
    let catalog = catalogs::require(tx, metastore_id, &spec.full_name.catalog)?;
    let node = securables::with_grants(tx, catalog.node(), &caller.principals_json)?;
    let ok = authz::require(caller, &Action::CreateSchema, &[&node]).map_err(denied)?;
    let name = spec.full_name.clone();
    if let Some(root) = &spec.storage_root {
        crate::store::managed::check_new_root(tx, metastore_id, root)?;
    }
    schemas::insert(tx, &ok, &catalog.id, &name.catalog, &spec.into_new(caller.name.clone(), now_ms()))?;
    schemas::get(tx, metastore_id, &name)?.ok_or_else(|| schemas::not_found(&name))
}

/// getSchema: the row, and whether the caller sees it only through `BROWSE` (when asked for).
pub fn get(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &SchemaName,
    browse: bool,
) -> ApiResult<(SchemaRow, bool)> {
    let (row, [schema, catalog]) = load_schema(conn, caller, metastore_id, name)?;
    match authz::require(caller, &Action::GetSchema, &[&schema, &catalog]) {
        Ok(_) => Ok((row, false)),
        Err(_) if browse && authz::visible(caller, &Action::BrowseCatalog, &[&catalog]) => Ok((row, true)),
        Err(d) => Err(denied(d)),
    }
}

/// A validated updateSchema body for the schema `name`.
pub struct SchemaUpdate {
    rename: Option<Ident>,
    owner: Option<String>,
    comment: Option<String>,
    properties: Option<String>,
}

impl SchemaUpdate {
    pub fn parse(name: &SchemaName, body: UpdateSchema) -> ApiResult<SchemaUpdate> {
        refuse_information_schema(name.schema.as_str(), "full_name")?;
        let new_name = body.new_name.map(|n| Ident::parse("new_name", &n)).transpose()?;
        let body_name = body.name.map(|n| Ident::parse("name", &n)).transpose()?;
        let rename = rename_to(&name.schema, body_name, new_name);
        if let Some(r) = &rename {
            refuse_information_schema(r.as_str(), "new_name")?;
        }
        Ok(SchemaUpdate {
            rename,
            owner: body.owner,
            comment: body.comment,
            properties: properties_json(body.properties),
        })
    }
}

/// updateSchema
pub fn update(
    tx: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &SchemaName,
    body: SchemaUpdate,
) -> ApiResult<SchemaRow> {
    let (current, [schema, catalog]) = load_schema(tx, caller, metastore_id, name)?;
    let owner = body.owner.as_deref().map(|o| owner_name(tx, o)).transpose()?;
    let changes = SchemaChanges {
        new_name: body.rename,
        owner: owner.filter(|o| *o != current.owner),
        comment: body.comment.filter(|c| changed(&current.comment, c)),
        properties: body.properties.filter(|p| current.properties.as_ref().map(|c| c.get()) != Some(p.as_str())),
    };
    let shape = UpdateShape {
        rename: changes.new_name.is_some(),
        owner: changes.owner.is_some(),
        other: changes.comment.is_some() || changes.properties.is_some(),
    };
    let ok = authz::require(caller, &Action::UpdateSchema(shape), &[&schema, &catalog]).map_err(denied)?;
    schemas::update(tx, &ok, &current, &changes, &caller.name, now_ms())?;
    let now_named = SchemaName {
        catalog: name.catalog.clone(),
        schema: changes.new_name.clone().unwrap_or_else(|| name.schema.clone()),
    };
    schemas::get(tx, metastore_id, &now_named)?.ok_or_else(|| schemas::not_found(&now_named))
}

/// deleteSchema: without `force`, only an empty schema (no table, volume or function). Returns
/// the storage locations of the managed volumes that went with it, whose local directories are
/// removed once the transaction has committed.
pub fn delete(
    tx: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &SchemaName,
    force: bool,
) -> ApiResult<Vec<String>> {
    let (current, [schema, catalog]) = load_schema(tx, caller, metastore_id, name)?;
    let ok = authz::require(caller, &Action::DeleteSchema, &[&schema, &catalog]).map_err(denied)?;
    if !force && (schemas::has_tables(tx, &current.id)? || volumes::schema_has_volumes_or_functions(tx, &current.id)?) {
        return Err(ApiError::new(
            ErrorCode::SchemaNotEmpty,
            format!(
                "Schema '{name}' is not empty; it still has tables, volumes or functions. Use force=true to delete it with its contents."
            ),
        ));
    }
    let managed = volumes::managed_locations(tx, volumes::Scope::Schema, &current.id)?;
    schemas::delete(tx, &ok, &current.id)?;
    Ok(managed)
}

/// listSchemas: 403 without catalog access (unless browsing); a page of schemas after `after`,
/// each judged by getSchema (all for metastore admins and catalog owners), or browse-only.
pub fn list(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    catalog_name: &Ident,
    after: &str,
    limit: Option<usize>,
    browse: bool,
) -> ApiResult<Judged<SchemaRow>> {
    let catalog = catalogs::require(conn, metastore_id, catalog_name)?;
    let mut cnode = catalog.node();
    securables::attach_grants(conn, &mut [&mut cnode], &caller.principals_json)?;
    let browsing = browse && authz::visible(caller, &Action::BrowseCatalog, &[&cnode]);
    if let Err(d) = authz::require(caller, &Action::ListSchemas, &[&cnode]) {
        if !browsing {
            return Err(denied(d));
        }
    }
    let all = authz::visible(caller, &Action::ListAllSchemas, &[&cnode]);
    let page = schemas::scan(conn, &catalog.id, after, limit)?;
    let browse = browsing.then_some(&Action::BrowseCatalog);
    let rule = Rule { all, action: &Action::GetSchema, browse };
    Ok((judge(conn, caller, page.rows, SchemaRow::node, rule, &[&cnode])?, page.more_after))
}

/// The schema a list of tables, volumes or functions names with `catalog_name` and
/// `schema_name` (both required).
pub fn list_parent(catalog_name: &Option<String>, schema_name: &Option<String>) -> ApiResult<SchemaName> {
    Ok(SchemaName {
        catalog: Ident::parse("catalog_name", super::tables::required("catalog_name", catalog_name)?)?,
        schema: Ident::parse("schema_name", super::tables::required("schema_name", schema_name)?)?,
    })
}
