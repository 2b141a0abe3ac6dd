//! Functions. A function row carries its schema's and catalog's identity and owners, so one
//! query yields the whole authorization chain; the validated CreateFunction is kept as JSON.

use rusqlite::{params, Connection};
use serde_json::value::RawValue;

use crate::authz::{Allowed, Node};
use crate::domain::names::TableName;
use crate::domain::securable::SecurableKind;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::catalogs::raw_json;
use crate::store::on_conflict;
use crate::store::securables::{self, Page, Parent};

#[derive(Debug)]
pub struct FunctionRow {
    pub id: String,
    pub name: String,
    /// The stored CreateFunction fields (a JSON object).
    pub info: Box<RawValue>,
    pub owner: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    pub parent: Parent,
}

impl FunctionRow {
    pub fn full_name(&self) -> String {
        self.parent.full_name(&self.name)
    }

    /// The chain [function, schema, catalog] for the authorization core.
    pub fn nodes(&self) -> [Node; 3] {
        self.parent.chain(SecurableKind::Function, [&self.id, &self.name, &self.owner])
    }

    /// The function's own node only (lists share the parents' nodes).
    pub fn node(&self) -> Node {
        let [f, _, _] = self.nodes();
        f
    }
}

const SELECT: &str = "SELECT f.id, f.name, f.info, f.owner, f.created_at, f.created_by, f.updated_at, f.updated_by,
                             s.id, s.name, s.owner, c.id, c.name, c.owner, c.metastore_id
                      FROM functions f JOIN schemas s ON s.id = f.schema_id JOIN catalogs c ON c.id = s.catalog_id";

const QUERY: securables::ChildQuery<FunctionRow> = securables::ChildQuery { select: SELECT, alias: "f", row };

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FunctionRow> {
    Ok(FunctionRow {
        id: r.get(0)?,
        name: r.get(1)?,
        info: raw_json(r, 2)?.unwrap_or_else(|| RawValue::from_string("{}".into()).expect("valid JSON")),
        owner: r.get(3)?,
        created_at: r.get(4)?,
        created_by: r.get(5)?,
        updated_at: r.get(6)?,
        updated_by: r.get(7)?,
        parent: Parent::read(r, 8)?,
    })
}

pub fn get(conn: &Connection, metastore_id: &str, name: &TableName) -> ApiResult<Option<FunctionRow>> {
    securables::child_by_name(conn, &QUERY, metastore_id, name)
}

pub fn not_found(name: &TableName) -> ApiError {
    ApiError::new(ErrorCode::FunctionDoesNotExist, format!("Function '{name}' does not exist."))
}

/// Functions of a schema in name order after `after`, at most `limit + 1` scanned.
pub fn scan(conn: &Connection, schema_id: &str, after: &str, limit: Option<usize>) -> ApiResult<Page<FunctionRow>> {
    securables::children_of(conn, &QUERY, schema_id, after, limit, |x| x.name.clone())
}

pub struct NewFunction<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub info: &'a str,
    pub owner: &'a str,
    pub now: i64,
}

pub fn insert(
    conn: &Connection,
    ok: &Allowed,
    schema_id: &str,
    full_name: &TableName,
    new: &NewFunction,
) -> ApiResult<()> {
    ok.check("store::functions::insert", |a| matches!(a, crate::authz::Action::CreateFunction), Some(schema_id));
    conn.prepare_cached(
        "INSERT INTO functions (id, schema_id, name, info, owner, created_at, created_by, updated_at, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5, ?6, ?5)",
    )?
    .execute(params![new.id, schema_id, new.name, new.info, new.owner, new.now])
    .map_err(on_conflict(|| {
        ApiError::new(ErrorCode::FunctionAlreadyExists, format!("Function '{full_name}' already exists."))
    }))?;
    Ok(())
}

/// updateFunction: only the owner changes.
pub fn set_owner(conn: &Connection, ok: &Allowed, id: &str, owner: &str, by: &str, now: i64) -> ApiResult<()> {
    ok.check("store::functions::set_owner", |a| matches!(a, crate::authz::Action::UpdateFunction { .. }), Some(id));
    conn.prepare_cached("UPDATE functions SET owner = ?2, updated_at = ?3, updated_by = ?4 WHERE id = ?1")?
        .execute(params![id, owner, now, by])?;
    Ok(())
}

pub fn delete(conn: &Connection, ok: &Allowed, id: &str) -> ApiResult<()> {
    ok.check("store::functions::delete", |a| matches!(a, crate::authz::Action::DeleteFunction), Some(id));
    conn.prepare_cached("DELETE FROM functions WHERE id = ?1")?.execute([id])?;
    Ok(())
}
