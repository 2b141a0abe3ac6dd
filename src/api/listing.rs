//! The list envelope (`{"<plural>": [...], "next_page_token": ...}`) and page arguments.

use rusqlite::Connection;
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::authz::{self, Action, Caller, Node};
use crate::store::securables;

use crate::domain::paging::PageRequest;
use crate::error::{ApiError, ApiResult};
use crate::store::Store;

/// A page of a list, serialized under the resource's plural key; the last page has no
/// `next_page_token` key at all (interface.md).
pub struct Listing<T> {
    pub key: &'static str,
    pub items: Vec<T>,
    pub next_page_token: Option<String>,
}

impl<T: Serialize> Serialize for Listing<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1 + usize::from(self.next_page_token.is_some())))?;
        map.serialize_entry(self.key, &self.items)?;
        if let Some(t) = &self.next_page_token {
            map.serialize_entry("next_page_token", t)?;
        }
        map.end()
    }
}

/// Where a page starts and how long it may be.
pub struct PageArgs {
    /// The list this page belongs to (page tokens are bound to it).
    pub list: String,
    /// Resume after this key ("" = from the start).
    pub after: String,
    pub limit: Option<usize>,
}

impl PageArgs {
    /// Reads `max_results` and `page_token` for the list named `list`.
    pub fn new(
        store: &Store,
        list: String,
        max_results: Option<i64>,
        page_token: Option<&str>,
        default_limit: Option<usize>,
    ) -> ApiResult<PageArgs> {
        let limit = PageRequest::from_max_results(max_results, default_limit)
            .map_err(|e| ApiError::invalid("max_results", e))?
            .limit;
        let after = match page_token.filter(|t| !t.is_empty()) {
            None => String::new(),
            Some(t) => store.page_key.open(&list, t).ok_or_else(|| {
                ApiError::invalid("page_token", "is not a page token this server issued for this list")
            })?,
        };
        Ok(PageArgs { list, after, limit })
    }

    /// The token for the page after one whose scan stopped at `more_after`.
    pub fn next_token(&self, store: &Store, more_after: Option<String>) -> Option<String> {
        more_after.map(|after| store.page_key.seal(&self.list, &after))
    }
}

/// How a list shows one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    Full,
    /// Selective metadata only (`include_browse`, privileges.md §5).
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
    let nodes: Vec<Node> = rows.iter().map(&node).collect();
    let ids: Vec<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    let mut grants = securables::grants_on(conn, &ids, &caller.principals_json)?;
    let mut out = Vec::with_capacity(rows.len());
    for (row, mut n) in rows.into_iter().zip(nodes) {
        n.grants = grants.remove(&n.id).unwrap_or_default();
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
