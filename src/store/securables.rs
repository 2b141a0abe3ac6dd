//! Loading what the authorization core reads: a securable's node and the grants a set of
//! principals holds on it, for one object or a whole page at once.

use std::collections::HashMap;
use std::rc::Rc;

use rusqlite::{params, Connection, OptionalExtension};

use crate::authz::{Grant, Node};
use crate::domain::names::TableName;
use crate::domain::securable::{SecurableKind, SecurableName};
use crate::error::ApiResult;
use crate::store::read_cache::{self, SchemaChain};
use crate::store::{
    catalogs, credentials, external_locations, functions, grants, metastores, schemas, shares, tables, volumes,
};

/// A page of rows scanned in name order. `more_after` is the name of the last row scanned when
/// rows beyond it exist (the next page resumes after it, whatever a filter kept).
pub struct Page<T> {
    pub rows: Vec<T>,
    pub more_after: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` scanned rows.
    pub fn from_scan(mut rows: Vec<T>, limit: Option<usize>, name: impl Fn(&T) -> String) -> Page<T> {
        match limit {
            Some(l) if rows.len() > l => {
                rows.truncate(l);
                let more_after = rows.last().map(&name).or_else(|| Some(String::new()));
                Page { rows, more_after }
            }
            _ => Page { rows, more_after: None },
        }
    }
}

/// SQL `LIMIT` for a scan of `limit + 1` rows (`-1`: no limit).
pub fn scan_limit(limit: Option<usize>) -> i64 {
    limit.map(|l| l as i64 + 1).unwrap_or(-1)
}

/// Up to this many securables (a chain), their grants are read by one statement of index
/// lookups; beyond it (a page's rows), by one query over `json_each` lists. Each `IN (SELECT
/// value FROM json_each(?))` builds a temporary b-tree on every execution, which costs as much
/// as a dozen lookups.
const CHAIN_MAX: usize = 16;

/// The principals of a caller's `principals_json` (a JSON array of names).
fn principal_names(principals_json: &str) -> ApiResult<Vec<String>> {
    serde_json::from_str(principals_json).map_err(crate::error::ApiError::internal)
}

thread_local! {
    /// [`chain_sql`] texts by shape, built once per thread.
    static CHAIN_SQL: std::cell::RefCell<HashMap<(usize, u32), std::rc::Rc<str>>> = Default::default();
}

/// The statement that reads the grants on `ids` securables (parameters `?1..?ids`; rows
/// `(0, securable index, principal, privilege)`, every grantee: the caller's principals are
/// picked out in Rust, cheaper than one lookup per principal as a securable has few grants),
/// and, for the securables whose bit is set in `owned` (those owned by one of the caller's
/// principals), whether that owner was deleted with its principal (parameter `?(ids + i + 1)`
/// = the owner; rows `(1, securable index, NULL, NULL)`). One text per shape, built once per
/// thread and prepared once per connection.
fn chain_sql(ids: usize, owned: u32) -> std::rc::Rc<str> {
    CHAIN_SQL.with(|cache| {
        let mut cache = cache.borrow_mut();
        let text = cache.entry((ids, owned)).or_insert_with(|| {
            let mut arms = Vec::with_capacity(2 * ids);
            for i in 0..ids {
                arms.push(format!("SELECT 0, {i}, principal, privilege FROM grants WHERE securable_id = ?{}", i + 1));
            }
            for i in (0..ids).filter(|i| owned & (1 << i) != 0) {
                arms.push(format!(
                    "SELECT 1, {i}, NULL, NULL FROM orphaned_owners WHERE securable_id = ?{} AND deleted_owner = ?{}",
                    i + 1,
                    ids + i + 1
                ));
            }
            arms.join(" UNION ALL ").into()
        });
        std::rc::Rc::clone(text)
    })
}

/// The schema and catalog a table, volume or function sits in, as stored: what its answers
/// name, and the parents its authorization chain needs. Every query selects them as seven
/// consecutive columns: `s.id, s.name, s.owner, c.id, c.name, c.owner, c.metastore_id`.
#[derive(Clone, Debug)]
pub struct Parent {
    pub schema_id: String,
    pub schema_name: String,
    pub schema_owner: String,
    pub catalog_id: String,
    pub catalog_name: String,
    pub catalog_owner: String,
    pub metastore_id: String,
}

impl Parent {
    /// The seven columns from `first` on.
    pub fn read(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Parent> {
        Ok(Parent {
            schema_id: r.get(first)?,
            schema_name: r.get(first + 1)?,
            schema_owner: r.get(first + 2)?,
            catalog_id: r.get(first + 3)?,
            catalog_name: r.get(first + 4)?,
            catalog_owner: r.get(first + 5)?,
            metastore_id: r.get(first + 6)?,
        })
    }

    /// `catalog.schema.name` of a child called `name`.
    pub fn full_name(&self, name: &str) -> String {
        dotted(&[&self.catalog_name, &self.schema_name, name])
    }

    /// `catalog.schema`.
    pub fn schema_full_name(&self) -> String {
        dotted(&[&self.catalog_name, &self.schema_name])
    }

    /// The chain [child, schema, catalog] of a child of `kind` with `[id, name, owner]`, for
    /// the authorization core (owners as stored, no grants).
    pub fn chain(&self, kind: SecurableKind, [id, name, owner]: [&str; 3]) -> [Node; 3] {
        let node = |kind, id: &str, name: String, owner: &str| Node {
            kind,
            id: id.to_string(),
            name,
            owner: owner.to_string(),
            grants: Vec::new(),
        };
        [
            node(kind, id, self.full_name(name), owner),
            node(SecurableKind::Schema, &self.schema_id, self.schema_full_name(), &self.schema_owner),
            node(SecurableKind::Catalog, &self.catalog_id, self.catalog_name.clone(), &self.catalog_owner),
        ]
    }
}

/// The parts joined by dots (not `format!`: full names are built twice per getTable and per
/// listed table).
fn dotted(parts: &[&str]) -> String {
    let mut full = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            full.push('.');
        }
        full.push_str(p);
    }
    full
}

/// The schema `catalog.schema` of the metastore and its catalog, with every grant on both (see
/// [`read_cache`]: within a read, a schema read before in the same database state comes from the
/// cache). `None` when the catalog or the schema does not exist.
pub fn schema_chain(
    conn: &Connection,
    metastore_id: &str,
    catalog: &str,
    schema: &str,
) -> ApiResult<Option<Rc<SchemaChain>>> {
    read_cache::schema_chain(metastore_id, catalog, schema, || {
        let found = conn
            .prepare_cached(
                "SELECT s.id, s.name, s.owner, c.id, c.name, c.owner, c.metastore_id,
                        EXISTS (SELECT 1 FROM orphaned_owners WHERE securable_id = s.id AND deleted_owner = s.owner),
                        EXISTS (SELECT 1 FROM orphaned_owners WHERE securable_id = c.id AND deleted_owner = c.owner)
                 FROM schemas s JOIN catalogs c ON c.id = s.catalog_id
                 WHERE c.metastore_id = ?1 AND c.name = ?2 AND s.name = ?3",
            )?
            .query_row(params![metastore_id, catalog, schema], |r| {
                Ok(SchemaChain {
                    parent: Parent::read(r, 0)?,
                    orphaned: [r.get(7)?, r.get(8)?],
                    grants: Default::default(),
                    nodes_made: Default::default(),
                })
            })
            .optional()?;
        let Some(mut chain) = found else { return Ok(None) };
        let mut stmt = conn.prepare_cached(&chain_sql(2, 0))?;
        stmt.raw_bind_parameter(1, chain.parent.schema_id.as_str())?;
        stmt.raw_bind_parameter(2, chain.parent.catalog_id.as_str())?;
        let mut rows = stmt.raw_query();
        while let Some(r) = rows.next()? {
            let i: usize = r.get(1)?;
            chain.grants[i].push(Grant { principal: r.get(2)?, privilege: r.get(3)? });
        }
        Ok(Some(chain))
    })
}

/// How to read one kind of schema child (tables, volumes, functions): its query, joining the
/// child (aliased `alias`) to its schema `s` and catalog `c`, and the row reader.
pub struct ChildQuery<T: 'static> {
    pub select: &'static str,
    pub alias: &'static str,
    pub row: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
}

thread_local! {
    /// [`child_sql`] texts, built once per thread.
    static CHILD_SQL: std::cell::RefCell<HashMap<(usize, u8), std::rc::Rc<str>>> = Default::default();
}

/// The text of statement `which` of a child query, formatted once per thread (formatting it on
/// every getTable was a measurable part of the request).
fn child_sql<T>(q: &ChildQuery<T>, which: u8, build: impl FnOnce() -> String) -> std::rc::Rc<str> {
    CHILD_SQL.with(|cache| {
        let key = (q.select.as_ptr() as usize, which);
        std::rc::Rc::clone(cache.borrow_mut().entry(key).or_insert_with(|| build().into()))
    })
}

/// One schema child by its three-part name.
pub fn child_by_name<T>(
    conn: &Connection,
    q: &ChildQuery<T>,
    metastore_id: &str,
    name: &TableName,
) -> ApiResult<Option<T>> {
    let sql = child_sql(q, 0, || {
        format!("{} WHERE c.metastore_id = ?1 AND c.name = ?2 AND s.name = ?3 AND {}.name = ?4", q.select, q.alias)
    });
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![metastore_id, name.catalog.as_str(), name.schema.as_str(), name.table.as_str()], q.row)
        .optional()?)
}

/// A schema's children of one kind in name order after `after`, at most `limit + 1` scanned.
pub fn children_of<T>(
    conn: &Connection,
    q: &ChildQuery<T>,
    schema_id: &str,
    after: &str,
    limit: Option<usize>,
    name: impl Fn(&T) -> String,
) -> ApiResult<Page<T>> {
    let a = q.alias;
    let sql = child_sql(q, 1, || {
        format!("{} WHERE {a}.schema_id = ?1 AND {a}.name > ?2 ORDER BY {a}.name LIMIT ?3", q.select)
    });
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![schema_id, after, scan_limit(limit)], q.row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_scan(rows, limit, name))
}

/// The grants that `principals_json` (a JSON array of principal names) holds on each of `ids`.
pub fn grants_on(conn: &Connection, ids: &[&str], principals_json: &str) -> ApiResult<HashMap<String, Vec<Grant>>> {
    let mut out: HashMap<String, Vec<Grant>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let ids_json = serde_json::to_string(ids).expect("strings serialize");
    let mut stmt = conn.prepare_cached(
        "SELECT securable_id, principal, privilege FROM grants
         WHERE securable_id IN (SELECT value FROM json_each(?1))
           AND principal IN (SELECT value FROM json_each(?2))",
    )?;
    let mut rows = stmt.query([ids_json.as_str(), principals_json])?;
    while let Some(r) = rows.next()? {
        out.entry(r.get(0)?).or_default().push(Grant { principal: r.get(1)?, privilege: r.get(2)? });
    }
    Ok(out)
}

/// Fills in each node's grants for the principals of `principals_json`; a node whose owner was
/// deleted with its principal is owned by nobody (not even a principal created later under that
/// name). A chain takes one statement of index lookups, a page two queries over its ids.
pub fn attach_grants(conn: &Connection, nodes: &mut [&mut Node], principals_json: &str) -> ApiResult<()> {
    if nodes.is_empty() {
        return Ok(());
    }
    if nodes.len() <= CHAIN_MAX {
        let principals = principal_names(principals_json)?;
        let owned = nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| principals.contains(&n.owner))
            .fold(0u32, |mask, (i, _)| mask | (1 << i));
        let mut stmt = conn.prepare_cached(&chain_sql(nodes.len(), owned))?;
        for (i, n) in nodes.iter().enumerate() {
            stmt.raw_bind_parameter(i + 1, n.id.as_str())?;
            if owned & (1 << i) != 0 {
                stmt.raw_bind_parameter(nodes.len() + i + 1, n.owner.as_str())?;
            }
        }
        for n in nodes.iter_mut() {
            n.grants.clear();
        }
        let mut orphaned = Vec::new();
        let mut rows = stmt.raw_query();
        while let Some(r) = rows.next()? {
            let i: usize = r.get(1)?;
            if r.get::<_, i64>(0)? == 1 {
                orphaned.push(i);
                continue;
            }
            let principal: String = r.get(2)?;
            if principals.contains(&principal) {
                nodes[i].grants.push(Grant { principal, privilege: r.get(3)? });
            }
        }
        drop(rows);
        for i in orphaned {
            nodes[i].owner.clear();
        }
        return Ok(());
    }
    let ids: Vec<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    let mut by_id = grants_on(conn, &ids, principals_json)?;
    let orphaned = orphaned_among(conn, &ids, principals_json)?;
    for n in nodes.iter_mut() {
        n.grants = by_id.remove(&n.id).unwrap_or_default();
        if orphaned.iter().any(|(id, owner)| *id == n.id && *owner == n.owner) {
            n.owner.clear();
        }
    }
    Ok(())
}

/// Whether `owner`, the owner of securable `id`, was deleted with its principal.
pub fn is_orphaned(conn: &Connection, id: &str, owner: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM orphaned_owners WHERE securable_id = ?1 AND deleted_owner = ?2)")?
        .query_row([id, owner], |r| r.get(0))?)
}

/// (securable id, owner) of the nodes among `ids` whose owner, one of `principals_json`, was
/// deleted with its principal.
pub fn orphaned_among(conn: &Connection, ids: &[&str], principals_json: &str) -> ApiResult<Vec<(String, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids_json = serde_json::to_string(ids).expect("strings serialize");
    let mut stmt = conn.prepare_cached(
        "SELECT securable_id, deleted_owner FROM orphaned_owners
         WHERE securable_id IN (SELECT value FROM json_each(?1)) AND deleted_owner IN (SELECT value FROM json_each(?2))",
    )?;
    let rows = stmt.query_map([ids_json.as_str(), principals_json], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// A securable found by kind and full name: its chain (the object first, then its parents)
/// with no grants attached yet.
pub struct Located {
    pub kind: SecurableKind,
    pub chain: Vec<Node>,
}

impl Located {
    pub fn id(&self) -> &str {
        &self.chain[0].id
    }

    pub fn full_name(&self) -> &str {
        &self.chain[0].name
    }

    /// Mutable references to every node, for [`attach_grants`].
    pub fn nodes_mut(&mut self) -> Vec<&mut Node> {
        self.chain.iter_mut().collect()
    }

    pub fn refs(&self) -> Vec<&Node> {
        self.chain.iter().collect()
    }
}

/// Finds a securable of the caller's metastore by its parsed name (the permissions paths'
/// identifiers): 404 when it does not exist.
pub fn locate(conn: &Connection, metastore_id: &str, name: &SecurableName) -> ApiResult<Located> {
    match name {
        SecurableName::Metastore(id) => {
            // The metastore is named by its id and must be the workspace's.
            if id != metastore_id {
                return Err(metastores::not_found(id));
            }
            let m = metastores::require(conn, metastore_id)?;
            Ok(Located { kind: SecurableKind::Metastore, chain: vec![m.node()] })
        }
        SecurableName::Catalog(name) => {
            let c = catalogs::require(conn, metastore_id, name)?;
            Ok(Located { kind: SecurableKind::Catalog, chain: vec![c.node()] })
        }
        SecurableName::Schema(name) => {
            let s = schemas::get(conn, metastore_id, name)?.ok_or_else(|| schemas::not_found(name))?;
            Ok(Located { kind: SecurableKind::Schema, chain: vec![s.node(), s.catalog_node()] })
        }
        SecurableName::Table(name) => {
            let t = tables::get(conn, metastore_id, name)?.ok_or_else(|| tables::not_found(name))?;
            Ok(Located { kind: t.kind(), chain: t.nodes().into() })
        }
        SecurableName::Function(name) => {
            let f = functions::get(conn, metastore_id, name)?.ok_or_else(|| functions::not_found(name))?;
            Ok(Located { kind: SecurableKind::Function, chain: f.nodes().into() })
        }
        SecurableName::Volume(name) => {
            let v = volumes::get(conn, metastore_id, name)?.ok_or_else(|| volumes::not_found(name))?;
            Ok(Located { kind: SecurableKind::Volume, chain: v.nodes().into() })
        }
        SecurableName::Share(name) => {
            // [share, metastore]: the metastore carries the USE_SHARE alternatives.
            let share = shares::require(conn, metastore_id, name)?;
            Ok(Located {
                kind: SecurableKind::Share,
                chain: vec![share.node(), metastores::require(conn, metastore_id)?.node()],
            })
        }
        SecurableName::StorageCredential(name) => Ok(Located {
            kind: SecurableKind::StorageCredential,
            chain: vec![credentials::require(conn, metastore_id, name)?.node()],
        }),
        SecurableName::ExternalLocation(name) => Ok(Located {
            kind: SecurableKind::ExternalLocation,
            chain: vec![external_locations::require(conn, metastore_id, name)?.node()],
        }),
    }
}

/// Every direct grant (to anyone) on each node of a chain, as (node index, principal, privilege).
pub fn all_grants(conn: &Connection, chain: &[Node]) -> ApiResult<Vec<(usize, String, String)>> {
    let mut out = Vec::new();
    for (i, n) in chain.iter().enumerate() {
        for (principal, privilege) in grants::on(conn, &n.id)? {
            out.push((i, principal, privilege));
        }
    }
    Ok(out)
}

/// One securable's node with the grants `principals_json` holds on it.
pub fn with_grants(conn: &Connection, mut node: Node, principals_json: &str) -> ApiResult<Node> {
    attach_grants(conn, &mut [&mut node], principals_json)?;
    Ok(node)
}

/// The metastore's node with the grants `principals_json` holds on it: what the rules of
/// metastore-level privileges (CREATE_CATALOG, USE_SHARE, ...) read.
pub fn metastore_node(conn: &Connection, metastore_id: &str, principals_json: &str) -> ApiResult<Node> {
    with_grants(conn, metastores::require(conn, metastore_id)?.node(), principals_json)
}
