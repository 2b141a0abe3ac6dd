//! Delta Sharing, the recipient's side: activation (credential retrieval), and the sharing
//! server's resolution of a recipient bearer token, its shares, their schemas and tables,
//! with the share owner's `SELECT` re-checked on every table request.

use std::collections::HashMap;
use std::net::IpAddr;

use rusqlite::Connection;
use serde_json::Value as Json;

use crate::authz::{self, sharing as rules, Action};
use crate::delta::filter::{Cond, PartitionFilter};
use crate::delta::sharing::SharedTable;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::sharing::{self as store, RecipientShare, SharedObjectRow};
use crate::store::{principals, securables, tables};

fn ip_entries(raw: Option<&str>) -> Vec<String> {
    raw.and_then(|r| serde_json::from_str::<Vec<String>>(r).ok()).unwrap_or_default()
}

fn refusal(r: rules::Refusal) -> ApiError {
    match r {
        rules::Refusal::Scope | rules::Refusal::Address(_) => ApiError::denied(r.message()),
        rules::Refusal::Retrieved | rules::Refusal::Expired => {
            ApiError::new(ErrorCode::ResourceDoesNotExist, r.message())
        }
    }
}

fn unknown_link() -> ApiError {
    ApiError::new(ErrorCode::ResourceDoesNotExist, "The activation link does not exist.")
}

/// Activation info: `Ok` exactly when a retrieval would succeed now; never changes anything.
pub fn activation_info(conn: &Connection, activation_token: &str, peer: Option<IpAddr>, now: i64) -> ApiResult<()> {
    let row = store::by_activation_token(conn, activation_token)?.ok_or_else(unknown_link)?;
    let ips = ip_entries(row.ip_access_list.as_deref());
    rules::retrieval(&rules::TokenFacts {
        token_id: &row.token_id,
        delta_sharing_scope: &row.delta_sharing_scope,
        ip_access_list: &ips,
        peer,
        retrieved: row.retrieved,
        live: row.expiration_time.is_none_or(|t| t > now),
    })
    .map_err(refusal)?;
    Ok(())
}

/// A retrieved credential: what the profile file is made of.
pub struct Credential {
    pub metastore_id: String,
    pub expiration_time: Option<i64>,
}

/// Retrieving the credential: checks as [`activation_info`], then marks the token retrieved
/// with the hash of `bearer_token` (one transaction: of concurrent retrievals one wins).
pub fn retrieve(
    tx: &Connection,
    activation_token: &str,
    peer: Option<IpAddr>,
    bearer_hash: &str,
    now: i64,
) -> ApiResult<Credential> {
    let row = store::by_activation_token(tx, activation_token)?.ok_or_else(unknown_link)?;
    let ips = ip_entries(row.ip_access_list.as_deref());
    let ok = rules::retrieval(&rules::TokenFacts {
        token_id: &row.token_id,
        delta_sharing_scope: &row.delta_sharing_scope,
        ip_access_list: &ips,
        peer,
        retrieved: row.retrieved,
        live: row.expiration_time.is_none_or(|t| t > now),
    })
    .map_err(refusal)?;
    if !store::mark_retrieved(tx, &ok, &row.token_id, bearer_hash, now)? {
        return Err(refusal(rules::Refusal::Retrieved));
    }
    Ok(Credential { metastore_id: row.metastore_id, expiration_time: row.expiration_time })
}

/// Would the activation page's retrieval be refused for scope or address (the page's 403)?
pub fn activation_page_refusal(
    conn: &Connection,
    activation_token: &str,
    peer: Option<IpAddr>,
) -> ApiResult<Option<String>> {
    let Some(row) = store::by_activation_token(conn, activation_token)? else { return Ok(None) };
    let ips = ip_entries(row.ip_access_list.as_deref());
    Ok(rules::gate(&row.delta_sharing_scope, &ips, peer).err().map(|r| r.message()))
}

/// The recipient a bearer token stands for, past the gate.
pub struct Recipient {
    pub id: String,
    pub name: String,
    pub metastore_id: String,
    properties: HashMap<String, String>,
}

/// Authentication (401) then the gate (403) of every sharing-server request.
pub fn authenticate(
    conn: &Connection,
    bearer_hash: Option<&str>,
    metastore_id: &str,
    peer: Option<IpAddr>,
    now: i64,
) -> ApiResult<Recipient> {
    let unknown = || ApiError::unauthenticated("The bearer token is not a valid Delta Sharing recipient token.");
    let hash = bearer_hash.ok_or_else(|| ApiError::unauthenticated("Missing Authorization: Bearer <token> header."))?;
    let row = store::by_bearer_hash(conn, hash)?.ok_or_else(unknown)?;
    if row.authentication_type != "TOKEN" || !row.metastore_id.eq_ignore_ascii_case(metastore_id) {
        return Err(unknown());
    }
    if row.expiration_time.is_some_and(|t| t <= now) {
        return Err(ApiError::unauthenticated("The recipient token has expired."));
    }
    let ips = ip_entries(row.ip_access_list.as_deref());
    rules::gate(&row.delta_sharing_scope, &ips, peer).map_err(refusal)?;
    let properties = row
        .properties_kvpairs
        .as_deref()
        .and_then(|p| serde_json::from_str::<Json>(p).ok())
        .and_then(|p| p.get("properties").and_then(Json::as_object).cloned())
        .map(|m| m.into_iter().filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string()))).collect())
        .unwrap_or_default();
    Ok(Recipient { id: row.recipient_id, name: row.recipient_name, metastore_id: row.metastore_id, properties })
}

/// The shares the recipient may read, by name.
pub fn shares(conn: &Connection, r: &Recipient) -> ApiResult<Vec<RecipientShare>> {
    Ok(store::shares_granted(conn, &r.metastore_id, &r.name)?
        .into_iter()
        .filter(|s| rules::may_read_share(&s.privileges))
        .collect())
}

/// One share the recipient may read; a missing share and one not granted look alike (403).
pub fn share(conn: &Connection, r: &Recipient, name: &str) -> ApiResult<RecipientShare> {
    let name = crate::domain::names::fold_case(name);
    match store::share_granted(conn, &r.metastore_id, &name, &r.name)? {
        Some(s) if rules::may_read_share(&s.privileges) => Ok(s),
        _ => Err(ApiError::denied(format!("Recipient {} does not have SELECT on share {name}", r.name))),
    }
}

/// The share's tables, ordered by their `shared_as` names.
pub fn objects(conn: &Connection, share: &RecipientShare) -> ApiResult<Vec<SharedObjectRow>> {
    store::objects(conn, &share.id)
}

fn partition_filter(raw: Option<&str>, r: &Recipient) -> PartitionFilter {
    let parts: Vec<Json> = raw.and_then(|p| serde_json::from_str(p).ok()).unwrap_or_default();
    let partitions = parts
        .iter()
        .map(|p| {
            p.get("values")
                .and_then(Json::as_array)
                .map(|values| {
                    values
                        .iter()
                        .map(|v| {
                            let column = v.get("name").and_then(Json::as_str).unwrap_or("").to_lowercase();
                            let like = v.get("op").and_then(Json::as_str) == Some("LIKE");
                            match v.get("recipient_property_key").and_then(Json::as_str) {
                                Some(key) => match r.properties.get(key) {
                                    Some(value) => Cond { column, like, value: Some(value.clone()), never: false },
                                    None => Cond { column, like, value: None, never: true },
                                },
                                None => Cond {
                                    column,
                                    like,
                                    value: v.get("value").and_then(Json::as_str).map(String::from),
                                    never: false,
                                },
                            }
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect();
    PartitionFilter { partitions }
}

/// A table of a granted share for a table request: the schema (404), the table (404), then
/// the share owner's `SELECT` on the source table (403). The table's directory is left for
/// the caller to resolve off the request thread.
pub fn table(conn: &Connection, r: &Recipient, share_name: &str, schema: &str, table: &str) -> ApiResult<SharedTable> {
    let share = share(conn, r, share_name)?;
    let (schema, table) = (crate::domain::names::fold_case(schema), crate::domain::names::fold_case(table));
    let objects = objects(conn, &share)?;
    if !objects.iter().any(|o| o.shared_as.split_once('.').is_some_and(|(s, _)| s == schema)) {
        return Err(ApiError::new(
            ErrorCode::SchemaDoesNotExist,
            format!("Schema '{schema}' does not exist in share '{}'.", share.name),
        ));
    }
    let wanted = format!("{schema}.{table}");
    let o = objects.into_iter().find(|o| o.shared_as == wanted).ok_or_else(|| {
        ApiError::new(
            ErrorCode::TableDoesNotExist,
            format!("Table '{wanted}' does not exist in share '{}'.", share.name),
        )
    })?;
    let source = tables::get_by_id(conn, &r.metastore_id, &o.table_id)?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::TableDoesNotExist,
            format!("Table '{wanted}' does not exist in share '{}'.", share.name),
        )
    })?;
    let owner_may_select = match principals::subject(conn, &share.owner, 0, None) {
        Ok(owner) => {
            let [mut t, mut s, mut c] = source.nodes();
            securables::attach_grants(conn, &mut [&mut t, &mut s, &mut c], &owner.principals_json)?;
            authz::visible(&owner, &Action::HoldsPrivilege("SELECT"), &[&t, &s, &c])
        }
        Err(_) => false,
    };
    if !owner_may_select {
        return Err(ApiError::denied(format!(
            "The owner of share {} no longer holds SELECT on the table shared as '{wanted}'.",
            share.name
        )));
    }
    Ok(SharedTable {
        name: wanted,
        storage_location: source.storage_location.unwrap_or_default(),
        dir: None,
        history: o.history_data_sharing_status.as_deref() == Some("ENABLED") || o.cdf_enabled == Some(true),
        start_version: o.start_version,
        added_version: o.added_version,
        added_at: o.added_at,
        filter: partition_filter(o.partitions.as_deref(), r),
    })
}
