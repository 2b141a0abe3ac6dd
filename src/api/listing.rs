//! The list envelope (`{"<plural>": [...], "next_page_token": ...}`) and page arguments.

use serde::ser::{Serialize, SerializeMap, Serializer};

pub use crate::ops::lists::{judge, Rule, Shown};

use crate::domain::paging::PageRequest;
use crate::error::{ApiError, ApiResult};
use crate::store::Store;

/// A page of a list, serialized under the resource's plural key; the last page has no
/// `next_page_token` key at all.
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

impl<T> Listing<T> {
    /// The 200 answer, rendered into a buffer of `capacity` bytes reserved up front
    /// ([`super::json_body`]), each item by `write` (byte for byte what its `Serialize` writes,
    /// without `serde_json`'s per-byte escaping: see [`super::json_object`]).
    pub fn respond_written(&self, capacity: usize, write: impl Fn(&T, &mut Vec<u8>)) -> actix_web::HttpResponse {
        let mut body = Vec::with_capacity(capacity);
        let mut o = super::json_object::JsonObject::begin(&mut body);
        o.array(self.key, &self.items, write);
        o.opt_str("next_page_token", self.next_page_token.as_deref());
        o.end();
        super::json_body(body)
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
