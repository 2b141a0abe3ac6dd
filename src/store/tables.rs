//! Tables and views. A table row carries its schema's and catalog's identity and owners, so one
//! query yields the whole authorization chain.

use rusqlite::{params, Connection, OptionalExtension};

use crate::authz::{Allowed, Node};
use crate::domain::names::{Ident, TableName};
use crate::domain::securable::SecurableKind;
use crate::domain::storage_url::StorageUrl;
use crate::domain::stored_json::StoredJson;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::hot::{self, Slot};
use crate::store::on_conflict;
use crate::store::read_cache::{self, SchemaChain};
use crate::store::securables::{self, scan_limit, Page, Parent};

#[derive(Debug)]
pub struct TableRow {
    pub id: String,
    pub name: String,
    pub table_type: String,
    pub data_source_format: Option<String>,
    pub columns: Option<StoredJson>,
    pub storage_location: Option<String>,
    pub storage_credential_name: Option<String>,
    pub view_definition: Option<String>,
    pub sql_path: Option<String>,
    pub comment: Option<String>,
    pub owner: String,
    pub properties: Option<StoredJson>,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    pub parent: Parent,
}

impl TableRow {
    pub fn full_name(&self) -> String {
        self.parent.full_name(&self.name)
    }

    pub fn kind(&self) -> SecurableKind {
        if self.table_type == "VIEW" {
            SecurableKind::View
        } else {
            SecurableKind::Table
        }
    }

    /// The chain [table, schema, catalog] for the authorization core.
    pub fn nodes(&self) -> [Node; 3] {
        self.parent.chain(self.kind(), [&self.id, &self.name, &self.owner])
    }

    /// The table's own node only (lists share the parents' nodes).
    pub fn node(&self) -> Node {
        let [table, _, _] = self.nodes();
        table
    }
}

const SELECT: &str = "SELECT t.id, t.name, t.table_type, t.data_source_format, t.columns, t.storage_location,
                             t.storage_credential_name, t.view_definition, t.sql_path, t.comment, t.owner, t.properties,
                             t.created_at, t.created_by, t.updated_at, t.updated_by,
                             s.id, s.name, s.owner, c.id, c.name, c.owner, c.metastore_id
                      FROM tables t JOIN schemas s ON s.id = t.schema_id JOIN catalogs c ON c.id = s.catalog_id";

fn stored_json(r: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<Option<StoredJson>> {
    Ok(r.get::<_, Option<String>>(idx)?.map(StoredJson::from_stored))
}

const QUERY: securables::ChildQuery<TableRow> = securables::ChildQuery { select: SELECT, alias: "t", row };

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TableRow> {
    table_row(r, Parent::read(r, 16)?)
}

/// A table row from its own columns (the first sixteen of [`SELECT`] and of [`OWN_COLUMNS`]) and
/// its parent.
fn table_row(r: &rusqlite::Row<'_>, parent: Parent) -> rusqlite::Result<TableRow> {
    Ok(TableRow {
        id: r.get(0)?,
        name: r.get(1)?,
        table_type: r.get(2)?,
        data_source_format: r.get(3)?,
        columns: stored_json(r, 4)?,
        storage_location: r.get(5)?,
        storage_credential_name: r.get(6)?,
        view_definition: r.get(7)?,
        sql_path: r.get(8)?,
        comment: r.get(9)?,
        owner: r.get(10)?,
        properties: stored_json(r, 11)?,
        created_at: r.get(12)?,
        created_by: r.get(13)?,
        updated_at: r.get(14)?,
        updated_by: r.get(15)?,
        parent,
    })
}

pub fn get(conn: &Connection, metastore_id: &str, name: &TableName) -> ApiResult<Option<TableRow>> {
    securables::child_by_name(conn, &QUERY, metastore_id, name)
}

/// The columns of a table's own row (no schema or catalog), as [`own_row`] reads them.
const OWN_COLUMNS: &str = "t.id, t.name, t.table_type, t.data_source_format, t.columns, t.storage_location,
                           t.storage_credential_name, t.view_definition, t.sql_path, t.comment, t.owner, t.properties,
                           t.created_at, t.created_by, t.updated_at, t.updated_by";

/// A table row from [`OWN_COLUMNS`] (the column list at index 4, when selected), its schema and
/// catalog from `chain`.
fn own_row(r: &rusqlite::Row<'_>, chain: &SchemaChain) -> rusqlite::Result<TableRow> {
    table_row(r, chain.parent.clone())
}

/// Table `name` of the schema of `chain`, with its node for a caller whose principals are
/// `principals` (no owner if the owner is one of them but was deleted with its principal) and
/// without its grants ([`securables::attach_grants`] reads them when they are needed): one
/// statement, one row.
pub fn get_in(
    conn: &Connection,
    chain: &SchemaChain,
    name: &str,
    principals: &[String],
) -> ApiResult<Option<(TableRow, Node)>> {
    thread_local! {
        /// With the owner's `orphaned_owners` check, and without it (when that table is empty).
        static SQL: [String; 2] = [
            "EXISTS (SELECT 1 FROM orphaned_owners WHERE securable_id = t.id AND deleted_owner = t.owner)",
            "0",
        ]
        .map(|orphaned| format!("SELECT {OWN_COLUMNS}, {orphaned} FROM tables t WHERE t.schema_id = ?1 AND t.name = ?2"));
    }
    let no_orphans = read_cache::no_orphaned_owners(conn)?;
    let slot = if no_orphans { Slot::TableByNameNoOrphans } else { Slot::TableByName };
    SQL.with(|sql| {
        hot::with(conn, slot, &sql[usize::from(no_orphans)], |stmt| {
            let mut rows = stmt.query(params![chain.parent.schema_id, name])?;
            let Some(r) = rows.next()? else { return Ok(None) };
            let row = own_row(r, chain)?;
            let orphaned: bool = r.get(16)?;
            let owner = if orphaned && principals.contains(&row.owner) { String::new() } else { row.owner.clone() };
            let node = Node { kind: row.kind(), id: row.id.clone(), name: row.full_name(), owner, grants: Vec::new() };
            Ok(Some((row, node)))
        })
    })
    .map_err(Into::into)
}

/// The tables of the schema of `chain` in name order after `after`, at most `limit + 1`
/// scanned; without their column lists unless `with_columns`.
pub fn scan_in(
    conn: &Connection,
    chain: &SchemaChain,
    after: &str,
    limit: Option<usize>,
    with_columns: bool,
) -> ApiResult<Page<TableRow>> {
    thread_local! {
        static SQL: [String; 2] = [false, true].map(|with_columns| {
            let columns = if with_columns { OWN_COLUMNS.to_string() } else { OWN_COLUMNS.replace("t.columns", "NULL") };
            format!("SELECT {columns} FROM tables t WHERE t.schema_id = ?1 AND t.name > ?2 ORDER BY t.name LIMIT ?3")
        });
    }
    let slot = if with_columns { Slot::TablePageWithColumns } else { Slot::TablePage };
    let rows = SQL.with(|sql| {
        hot::with(conn, slot, &sql[usize::from(with_columns)], |stmt| {
            stmt.query_map(params![chain.parent.schema_id, after, scan_limit(limit)], |r| own_row(r, chain))?
                .collect::<Result<Vec<_>, _>>()
        })
    })?;
    Ok(Page::from_scan(rows, limit, |t| t.name.clone()))
}

/// A table of the metastore by `table_id` (temporary table credentials).
pub fn get_by_id(conn: &Connection, metastore_id: &str, id: &str) -> ApiResult<Option<TableRow>> {
    Ok(conn
        .prepare_cached(&format!("{SELECT} WHERE t.id = ?1 AND c.metastore_id = ?2"))?
        .query_row(params![id, metastore_id], row)
        .optional()?)
}

/// The table of the metastore whose location equals `url` or contains it (by path segment), if
/// any: one index lookup over the URL and its ancestors.
pub fn at_or_containing(conn: &Connection, metastore_id: &str, url: &StorageUrl) -> ApiResult<Option<TableRow>> {
    let mut candidates = url.ancestors();
    candidates.push(url.as_str().to_string());
    let candidates_json = serde_json::to_string(&candidates).expect("strings serialize");
    Ok(conn
        .prepare_cached(&format!(
            "{SELECT} WHERE t.storage_location IN (SELECT value FROM json_each(?2)) AND c.metastore_id = ?1
             ORDER BY length(t.storage_location) DESC LIMIT 1"
        ))?
        .query_row(params![metastore_id, candidates_json], row)
        .optional()?)
}

pub fn not_found(name: &TableName) -> ApiError {
    ApiError::new(ErrorCode::TableDoesNotExist, format!("Table '{name}' does not exist."))
}

/// A table summary and what its visibility rule needs.
pub struct SummaryRow {
    pub id: String,
    pub name: String,
    pub table_type: String,
    pub owner: String,
    pub schema_id: String,
    pub schema_name: String,
    pub schema_owner: String,
}

/// Separates the two parts of a summaries page position (names hold no control characters).
pub const SUMMARY_KEY_SEP: char = '\u{1e}';

/// Tables of a catalog whose schema and table names match the `LIKE` patterns, ordered by
/// (schema, table), after the position `after` = (schema, table). Keyset paging in two index
/// range scans (the rest of `after`'s schema, then the schemas after it), so a deep page costs
/// what the first one does.
pub fn scan_summaries(
    conn: &Connection,
    catalog_id: &str,
    schema_like: &str,
    table_like: &str,
    after: (&str, &str),
    limit: Option<usize>,
) -> ApiResult<Page<SummaryRow>> {
    const COLUMNS: &str = "SELECT t.id, t.name, t.table_type, t.owner, s.id, s.name, s.owner
                           FROM schemas s CROSS JOIN tables t ON t.schema_id = s.id";
    let summary = |r: &rusqlite::Row<'_>| {
        Ok(SummaryRow {
            id: r.get(0)?,
            name: r.get(1)?,
            table_type: r.get(2)?,
            owner: r.get(3)?,
            schema_id: r.get(4)?,
            schema_name: r.get(5)?,
            schema_owner: r.get(6)?,
        })
    };
    let wanted = scan_limit(limit);
    let mut rows = conn
        .prepare_cached(&format!(
            "{COLUMNS} WHERE s.catalog_id = ?1 AND s.name = ?4 AND t.name > ?5 AND s.name LIKE ?2 AND t.name LIKE ?3
             ORDER BY t.name LIMIT ?6"
        ))?
        .query_map(params![catalog_id, schema_like, table_like, after.0, after.1, wanted], summary)?
        .collect::<Result<Vec<_>, _>>()?;
    if wanted < 0 || (rows.len() as i64) < wanted {
        let rest = if wanted < 0 { -1 } else { wanted - rows.len() as i64 };
        let more = conn
            .prepare_cached(&format!(
                "{COLUMNS} WHERE s.catalog_id = ?1 AND s.name > ?4 AND s.name LIKE ?2 AND t.name LIKE ?3
                 ORDER BY s.name, t.name LIMIT ?5"
            ))?
            .query_map(params![catalog_id, schema_like, table_like, after.0, rest], summary)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.extend(more);
    }
    Ok(Page::from_scan(rows, limit, |s| format!("{}{SUMMARY_KEY_SEP}{}", s.schema_name, s.name)))
}

pub struct NewTable {
    pub name: Ident,
    pub table_type: String,
    pub data_source_format: Option<String>,
    pub columns: String,
    pub storage_location: Option<String>,
    pub storage_credential_name: Option<String>,
    pub view_definition: Option<String>,
    pub sql_path: Option<String>,
    pub comment: Option<String>,
    pub properties: Option<String>,
    pub owner: String,
    pub created_by: String,
    pub now: i64,
}

/// Inserts a table; `id` is chosen by the caller (a managed location embeds it).
pub fn insert(
    conn: &Connection,
    ok: &Allowed,
    id: &str,
    schema_id: &str,
    full_name: &str,
    new: &NewTable,
) -> ApiResult<()> {
    ok.check("store::tables::insert", |a| matches!(a, crate::authz::Action::CreateTable { .. }), Some(schema_id));
    conn.prepare_cached(
        "INSERT INTO tables (id, schema_id, name, table_type, data_source_format, columns, storage_location,
                             storage_credential_name, view_definition, sql_path, comment, owner, properties,
                             created_at, created_by, updated_at, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?14, ?15)",
    )?
    .execute(params![
        id,
        schema_id,
        new.name.as_str(),
        new.table_type,
        new.data_source_format,
        new.columns,
        new.storage_location,
        new.storage_credential_name,
        new.view_definition,
        new.sql_path,
        new.comment,
        new.owner,
        new.properties,
        new.now,
        new.created_by
    ])
    .map_err(on_conflict(|| {
        ApiError::new(ErrorCode::TableAlreadyExists, format!("Table '{full_name}' already exists."))
    }))?;
    Ok(())
}

#[derive(Default)]
pub struct TableChanges {
    pub new_name: Option<Ident>,
    pub comment: Option<String>,
    pub owner: Option<String>,
    pub properties: Option<String>,
    pub columns: Option<String>,
    pub data_source_format: Option<String>,
    pub storage_location: Option<String>,
    pub view_definition: Option<String>,
    pub sql_path: Option<String>,
}

pub fn update(
    conn: &Connection,
    ok: &Allowed,
    current: &TableRow,
    changes: &TableChanges,
    by: &str,
    now: i64,
) -> ApiResult<()> {
    ok.check("store::tables::update", |a| matches!(a, crate::authz::Action::UpdateTable { .. }), Some(&current.id));
    let name = changes.new_name.as_ref().map(Ident::as_str).unwrap_or(&current.name);
    // Only the columns that change are set: SQLite rewrites the entries of every index that
    // covers a column named in SET, whatever its value (at a million tables each is a random
    // page of the name, owner or location index to read and write back).
    let fields: [(&str, Option<&str>); 9] = [
        ("name", changes.new_name.as_ref().map(Ident::as_str)),
        ("comment", changes.comment.as_deref()),
        ("owner", changes.owner.as_deref()),
        ("properties", changes.properties.as_deref()),
        ("columns", changes.columns.as_deref()),
        ("data_source_format", changes.data_source_format.as_deref()),
        ("storage_location", changes.storage_location.as_deref()),
        ("view_definition", changes.view_definition.as_deref()),
        ("sql_path", changes.sql_path.as_deref()),
    ];
    let mut sql = String::from("UPDATE tables SET updated_at = ?2, updated_by = ?3");
    let mut values: Vec<&dyn rusqlite::ToSql> = vec![&current.id, &now, &by];
    for (column, value) in &fields {
        if let Some(v) = value {
            values.push(v);
            sql.push_str(&format!(", {column} = ?{}", values.len()));
        }
    }
    sql.push_str(" WHERE id = ?1");
    conn.prepare_cached(&sql)?.execute(values.as_slice()).map_err(on_conflict(|| {
        ApiError::new(
            ErrorCode::TableAlreadyExists,
            format!("Table '{}.{}.{name}' already exists.", current.parent.catalog_name, current.parent.schema_name),
        )
    }))?;
    Ok(())
}

pub fn delete(conn: &Connection, ok: &Allowed, id: &str) -> ApiResult<()> {
    ok.check("store::tables::delete", |a| matches!(a, crate::authz::Action::DeleteTable), Some(id));
    conn.prepare_cached("DELETE FROM tables WHERE id = ?1")?.execute([id])?;
    Ok(())
}

/// A table of the metastore whose location equals, contains or lies inside `url`,
/// other than `except`. Two index lookups (the URL's ancestors, then the range of its
/// descendants), never a pass over every table: this runs inside the writer's transaction.
pub fn overlapping(
    conn: &Connection,
    metastore_id: &str,
    url: &StorageUrl,
    except: Option<&str>,
) -> ApiResult<Option<String>> {
    let (lo, hi) = url.descendants_range();
    let mut candidates = url.ancestors();
    candidates.push(url.as_str().to_string());
    let candidates_json = serde_json::to_string(&candidates).expect("strings serialize");
    let found = conn
        .prepare_cached(
            "WITH hits(id) AS MATERIALIZED (
                 SELECT id FROM tables WHERE storage_location IN (SELECT value FROM json_each(?5))
                 UNION ALL
                 SELECT id FROM tables WHERE storage_location >= ?2 AND storage_location < ?3)
             SELECT c.name || '.' || s.name || '.' || t.name
             FROM hits h CROSS JOIN tables t ON t.id = h.id
                  CROSS JOIN schemas s ON s.id = t.schema_id CROSS JOIN catalogs c ON c.id = s.catalog_id
             WHERE c.metastore_id = ?1 AND t.id IS NOT ?4
             LIMIT 1",
        )?
        .query_row(params![metastore_id, lo, hi, except, candidates_json], |r| r.get(0))
        .optional()?;
    Ok(found)
}

/// An EXTERNAL table of the metastore whose location equals or contains `url` (no external location may lie inside or on an external table).
pub fn external_containing(conn: &Connection, metastore_id: &str, url: &StorageUrl) -> ApiResult<Option<String>> {
    let mut candidates = url.ancestors();
    candidates.push(url.as_str().to_string());
    let candidates_json = serde_json::to_string(&candidates).expect("strings serialize");
    Ok(conn
        .prepare_cached(
            "SELECT c.name || '.' || s.name || '.' || t.name
             FROM tables t CROSS JOIN schemas s ON s.id = t.schema_id CROSS JOIN catalogs c ON c.id = s.catalog_id
             WHERE t.storage_location IN (SELECT value FROM json_each(?2)) AND t.table_type = 'EXTERNAL'
               AND c.metastore_id = ?1
             LIMIT 1",
        )?
        .query_row(params![metastore_id, candidates_json], |r| r.get(0))
        .optional()?)
}

/// The EXTERNAL tables of the metastore whose location equals or lies under `url` (the
/// dependents of an external location), as (full name, location).
pub fn external_within(conn: &Connection, metastore_id: &str, url: &StorageUrl) -> ApiResult<Vec<(String, String)>> {
    let (lo, hi) = url.descendants_range();
    let mut stmt = conn.prepare_cached(
        "SELECT c.name || '.' || s.name || '.' || t.name, t.storage_location
         FROM tables t CROSS JOIN schemas s ON s.id = t.schema_id CROSS JOIN catalogs c ON c.id = s.catalog_id
         WHERE (t.storage_location = ?2 OR (t.storage_location >= ?3 AND t.storage_location < ?4))
           AND t.table_type = 'EXTERNAL' AND c.metastore_id = ?1
         ORDER BY 1",
    )?;
    let rows = stmt
        .query_map(params![metastore_id, url.as_str(), lo, hi], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
