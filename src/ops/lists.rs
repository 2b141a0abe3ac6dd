//! How a list shows each row of a page: the rule table decides, with the caller's grants on the
//! whole page loaded in one query.

use rusqlite::Connection;

use super::denied;
use super::schemas::load_schema_chain;
use crate::authz::{self, Action, Caller, Node};
use crate::domain::names::SchemaName;
use crate::error::ApiResult;
use crate::store::read_cache::SchemaChain;
use crate::store::securables::{self, Page};

/// How a list shows one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    Full,
    /// Selective metadata only (`include_browse`).
    BrowseOnly,
    Hidden,
}

/// A list's visibility rule: every row when `all` (the list's role rule passed), else each row
/// by `action`, falling back to a browse-only view by `browse`.
pub struct Rule<'a> {
    pub all: bool,
    pub action: &'a Action,
    pub browse: Option<&'a Action>,
}

/// Decides how a page's rows are shown to the caller: in full when `rule.action` allows it over
/// the row's own node and `parents`, browse-only when `rule.browse` does, hidden otherwise. The
/// caller's grants on the whole page come in one query, never one per row.
pub fn judge<T>(
    conn: &Connection,
    caller: &Caller,
    rows: Vec<T>,
    node: impl Fn(&T) -> Node,
    rule: Rule<'_>,
    parents: &[&Node],
) -> ApiResult<Vec<(T, Shown)>> {
    let Rule { all, action, browse } = rule;
    if all {
        return Ok(rows.into_iter().map(|r| (r, Shown::Full)).collect());
    }
    let mut nodes: Vec<Node> = rows.iter().map(&node).collect();
    securables::attach_grants(conn, &mut nodes.iter_mut().collect::<Vec<_>>(), &caller.principals_json)?;
    let mut out = Vec::with_capacity(rows.len());
    for (row, n) in rows.into_iter().zip(nodes) {
        let mut chain = Vec::with_capacity(parents.len() + 1);
        chain.push(&n);
        chain.extend_from_slice(parents);
        let shown = if authz::visible(caller, action, &chain) {
            Shown::Full
        } else if browse.is_some_and(|b| authz::visible(caller, b, &chain)) {
            Shown::BrowseOnly
        } else {
            Shown::Hidden
        };
        out.push((row, shown));
    }
    Ok(out)
}

/// A judged page: its rows with how each is shown, and the key the next page starts after.
pub type Judged<T> = (Vec<(T, Shown)>, Option<String>);

/// A list of one kind of schema child: who may list at all (`list`), who sees every row
/// (`list_all`), what shows one row in full (`read`), and whether the caller asked for
/// browse-only rows (`include_browse`).
pub struct ChildList<'a> {
    pub list: &'a Action,
    pub list_all: &'a Action,
    pub read: &'a Action,
    pub browse: bool,
}

/// listTables, listVolumes, listFunctions: the schema and its catalog (404, or 403 without use
/// of them unless the caller may browse the catalog and asked to), then one page scanned by
/// `scan` (given the schema's chain) and judged row by row with the page's grants in one query.
pub fn schema_children<T>(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    schema: &SchemaName,
    actions: ChildList<'_>,
    scan: impl FnOnce(&SchemaChain) -> ApiResult<Page<T>>,
    node: impl Fn(&T) -> Node,
) -> ApiResult<Judged<T>> {
    let (chain, [snode, cnode]) = load_schema_chain(conn, caller, metastore_id, schema)?;
    let browsing = actions.browse && authz::visible(caller, &Action::BrowseCatalog, &[&cnode]);
    if let Err(d) = authz::require(caller, actions.list, &[&snode, &cnode]) {
        if !browsing {
            return Err(denied(d));
        }
    }
    let all = authz::visible(caller, actions.list_all, &[&snode, &cnode]);
    let page = scan(&chain)?;
    let browse = browsing.then_some(&Action::BrowseCatalog);
    let rule = Rule { all, action: actions.read, browse };
    Ok((judge(conn, caller, page.rows, node, rule, &[&snode, &cnode])?, page.more_after))
}
