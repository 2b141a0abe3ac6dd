//! Delta Sharing recipients: createRecipient's validated input, the recipient chain loader and
//! the insert step shared with fixtures.

use super::denied;
use crate::authz::{self, Action, Caller, Node};
use std::net::IpAddr;

use rusqlite::Connection;
use serde::Deserialize;
use serde_json::Value as Json;

use crate::domain::names::Ident;
use crate::domain::split_global_metastore_id;
use crate::domain::update::{rename_to, UpdateShape};
use crate::error::{ApiError, ApiResult};
use crate::store::metastores::{self, MetastoreRow};
use crate::store::recipients::{self, NewRecipient, RecipientChanges, RecipientRow};
use crate::store::securables;

pub const AUTHENTICATION_TYPES: &[&str] = &["TOKEN", "DATABRICKS"];

const MAX_IP_ADDRESSES: usize = 100;

/// `ip_access_list`: the SDK's object, or the API reference's one-element array of it; at most 100
/// addresses, each an IP address or CIDR block.
pub fn ip_list(v: Option<Json>) -> ApiResult<Option<String>> {
    let field = "ip_access_list.allowed_ip_addresses";
    let obj = match v {
        None | Some(Json::Null) => return Ok(None),
        Some(Json::Array(mut items)) if items.len() == 1 => items.remove(0),
        Some(o @ Json::Object(_)) => o,
        Some(_) => {
            return Err(ApiError::invalid("ip_access_list", "must be an object {\"allowed_ip_addresses\": [...]}"))
        }
    };
    let addresses = match &obj["allowed_ip_addresses"] {
        Json::Null => Vec::new(),
        Json::Array(a) => a.clone(),
        _ => return Err(ApiError::invalid(field, "must be an array of strings")),
    };
    if addresses.len() > MAX_IP_ADDRESSES {
        return Err(ApiError::invalid(
            field,
            format!("at most {MAX_IP_ADDRESSES} entries are allowed, got {}", addresses.len()),
        ));
    }
    for (i, a) in addresses.iter().enumerate() {
        let s = a.as_str().ok_or_else(|| ApiError::invalid(&format!("{field}[{i}]"), "must be a string"))?;
        if !is_ip_or_cidr(s) {
            return Err(ApiError::invalid(
                &format!("{field}[{i}]"),
                format!("{s:?} is not an IP address or CIDR block"),
            ));
        }
    }
    Ok(Some(Json::Array(addresses).to_string()))
}

fn is_ip_or_cidr(s: &str) -> bool {
    match s.split_once('/') {
        None => s.parse::<IpAddr>().is_ok(),
        Some((addr, bits)) => match (addr.parse::<IpAddr>(), bits.parse::<u8>()) {
            (Ok(IpAddr::V4(_)), Ok(b)) => b <= 32 && !bits.starts_with('+'),
            (Ok(IpAddr::V6(_)), Ok(b)) => b <= 128 && !bits.starts_with('+'),
            _ => false,
        },
    }
}

pub fn properties(v: Option<Json>) -> ApiResult<Option<String>> {
    match v {
        None | Some(Json::Null) => Ok(None),
        Some(o @ Json::Object(_)) => Ok(Some(o.to_string())),
        Some(_) => Err(ApiError::invalid("properties_kvpairs", "must be an object {\"properties\": {...}}")),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateRecipient {
    pub name: Option<String>,
    pub authentication_type: Option<String>,
    pub comment: Option<String>,
    pub data_recipient_global_metastore_id: Option<String>,
    pub ip_access_list: Option<Json>,
    pub properties_kvpairs: Option<Json>,
}

/// A validated recipient create, shared with fixtures.
pub struct RecipientSpec {
    pub name: Ident,
    pub authentication_type: String,
    pub comment: Option<String>,
    pub global_metastore_id: Option<String>,
    pub ip_access_list: Option<String>,
    pub properties_kvpairs: Option<String>,
}

impl TryFrom<CreateRecipient> for RecipientSpec {
    type Error = ApiError;
    fn try_from(c: CreateRecipient) -> ApiResult<Self> {
        let name = Ident::parse("name", c.name.as_deref().ok_or_else(|| ApiError::invalid("name", "is required"))?)?;
        let auth = c.authentication_type.ok_or_else(|| ApiError::invalid("authentication_type", "is required"))?;
        if !AUTHENTICATION_TYPES.contains(&auth.as_str()) {
            return Err(ApiError::invalid(
                "authentication_type",
                format!("unknown value {auth:?}; expected TOKEN or DATABRICKS"),
            ));
        }
        let global = c.data_recipient_global_metastore_id.filter(|g| !g.is_empty());
        match (auth.as_str(), &global) {
            ("DATABRICKS", None) => {
                return Err(ApiError::invalid(
                    "data_recipient_global_metastore_id",
                    "is required for DATABRICKS recipients",
                ))
            }
            ("DATABRICKS", Some(g)) if split_global_metastore_id(g).is_none() => {
                return Err(ApiError::invalid(
                    "data_recipient_global_metastore_id",
                    format!("{g:?} is not of the form <cloud>:<region>:<metastore-uuid>"),
                ))
            }
            ("TOKEN", Some(_)) => {
                return Err(ApiError::invalid(
                    "data_recipient_global_metastore_id",
                    "is only for DATABRICKS recipients",
                ))
            }
            _ => {}
        }
        let ip_access_list = ip_list(c.ip_access_list)?;
        if ip_access_list.is_some() && auth == "DATABRICKS" {
            return Err(ApiError::invalid("ip_access_list", "is only for TOKEN recipients"));
        }
        Ok(RecipientSpec {
            name,
            authentication_type: auth,
            comment: c.comment,
            global_metastore_id: global,
            ip_access_list,
            properties_kvpairs: properties(c.properties_kvpairs)?,
        })
    }
}

/// Open sharing (TOKEN recipients) needs the metastore's external scope.
pub fn require_external_scope(ms: &MetastoreRow, authentication_type: &str) -> ApiResult<()> {
    if authentication_type == "TOKEN" && ms.delta_sharing_scope != "INTERNAL_AND_EXTERNAL" {
        return Err(ApiError::invalid(
            "delta_sharing_scope",
            "TOKEN recipients need the metastore's delta_sharing_scope to be INTERNAL_AND_EXTERNAL",
        ));
    }
    Ok(())
}

/// Inserts a validated recipient (already authorized) with its first token; shared with fixtures.
pub fn insert_recipient(
    tx: &Connection,
    ok: &authz::Allowed,
    ms: &MetastoreRow,
    spec: RecipientSpec,
    owner: String,
    now: i64,
) -> ApiResult<RecipientRow> {
    require_external_scope(ms, &spec.authentication_type)?;
    let new = NewRecipient {
        name: spec.name,
        authentication_type: spec.authentication_type,
        comment: spec.comment,
        data_recipient_global_metastore_id: spec.global_metastore_id,
        ip_access_list: spec.ip_access_list,
        properties_kvpairs: spec.properties_kvpairs,
        created_by: owner.clone(),
        owner,
        now,
    };
    let row = recipients::insert(tx, ok, &ms.id, &new)?;
    if row.authentication_type == "TOKEN" {
        let lifetime = ms.delta_sharing_recipient_token_lifetime_in_seconds.filter(|s| *s > 0);
        let expiry = lifetime.map(|s| now.saturating_add(s.saturating_mul(1000)));
        recipients::add_token(tx, ok, &row.id, expiry, &row.created_by, now)?;
    }
    Ok(row)
}

/// The recipient and its chain [recipient, metastore] with the caller's grants.
pub fn load(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &Ident,
) -> ApiResult<(RecipientRow, MetastoreRow, [Node; 2])> {
    let r = recipients::require(conn, metastore_id, name)?;
    let ms = metastores::require(conn, metastore_id)?;
    let (mut rn, mut mn) = (r.node(), ms.node());
    securables::attach_grants(conn, &mut [&mut rn, &mut mn], &caller.principals_json)?;
    Ok((r, ms, [rn, mn]))
}

/// deleteRecipient
pub fn delete(tx: &Connection, caller: &Caller, metastore_id: &str, name: &Ident) -> ApiResult<()> {
    let (current, _, [rn, mn]) = load(tx, caller, metastore_id, name)?;
    let ok = authz::require(caller, &Action::DeleteRecipient, &[&rn, &mn]).map_err(denied)?;
    recipients::delete(tx, &ok, &current.id)
}

/// A recipient with its live tokens (`Some` for TOKEN recipients), as every answer shows it.
pub type WithTokens = (RecipientRow, Option<Vec<recipients::TokenRow>>);

fn with_tokens(conn: &Connection, r: RecipientRow) -> ApiResult<WithTokens> {
    let tokens = if r.authentication_type == "TOKEN" {
        Some(recipients::live_tokens(conn, &r.id, crate::domain::now_ms())?)
    } else {
        None
    };
    Ok((r, tokens))
}

/// createRecipient: a metastore admin or CREATE_RECIPIENT on the metastore.
pub fn create(tx: &Connection, caller: &Caller, metastore_id: &str, spec: RecipientSpec) -> ApiResult<WithTokens> {
    let ms = metastores::require(tx, metastore_id)?;
    let node = securables::with_grants(tx, ms.node(), &caller.principals_json)?;
    let ok = authz::require(caller, &crate::authz::Action::CreateRecipient, &[&node]).map_err(super::denied)?;
    let row = insert_recipient(tx, &ok, &ms, spec, caller.name.clone(), crate::domain::now_ms())?;
    with_tokens(tx, row)
}

/// getRecipient
pub fn get(conn: &Connection, caller: &Caller, metastore_id: &str, name: &Ident) -> ApiResult<WithTokens> {
    let (r, _, [rn, mn]) = load(conn, caller, metastore_id, name)?;
    authz::require(caller, &crate::authz::Action::GetRecipient, &[&rn, &mn]).map_err(super::denied)?;
    with_tokens(conn, r)
}

/// listRecipients: a page after `after`, each shown when the caller may get it (all for
/// metastore admins and USE_RECIPIENT holders), optionally of one global metastore id; the
/// page's tokens in one query.
pub fn list(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    after: &str,
    limit: Option<usize>,
    wanted: Option<&str>,
) -> ApiResult<(Vec<WithTokens>, Option<String>)> {
    use crate::authz::Action;
    let ms = securables::metastore_node(conn, metastore_id, &caller.principals_json)?;
    let all = authz::visible(caller, &Action::ListAllRecipients, &[&ms]);
    let page = recipients::scan(conn, metastore_id, after, limit)?;
    let shown: Vec<RecipientRow> = page
        .rows
        .into_iter()
        .filter(|r| all || authz::visible(caller, &Action::GetRecipient, &[&r.node(), &ms]))
        .filter(|r| wanted.is_none_or(|w| r.data_recipient_global_metastore_id.as_deref() == Some(w)))
        .collect();
    let token_ids: Vec<&str> =
        shown.iter().filter(|r| r.authentication_type == "TOKEN").map(|r| r.id.as_str()).collect();
    let mut tokens = recipients::live_tokens_of(conn, &token_ids, crate::domain::now_ms())?;
    let rows = shown
        .into_iter()
        .map(|r| {
            let live = (r.authentication_type == "TOKEN").then(|| tokens.remove(&r.id).unwrap_or_default());
            (r, live)
        })
        .collect();
    Ok((rows, page.more_after))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UpdateRecipient {
    name: Option<String>,
    new_name: Option<String>,
    owner: Option<String>,
    comment: Option<String>,
    ip_access_list: Option<Json>,
    properties_kvpairs: Option<Json>,
}

/// A validated updateRecipient body.
pub struct RecipientUpdate {
    name: Option<Ident>,
    new_name: Option<Ident>,
    owner: Option<String>,
    comment: Option<String>,
    ip_access_list: Option<String>,
    properties_kvpairs: Option<String>,
}

impl TryFrom<UpdateRecipient> for RecipientUpdate {
    type Error = ApiError;
    fn try_from(body: UpdateRecipient) -> ApiResult<Self> {
        let new_name = body.new_name.map(|n| Ident::parse("new_name", &n)).transpose()?;
        let name = body.name.map(|n| Ident::parse("name", &n)).transpose()?;
        Ok(RecipientUpdate {
            name,
            new_name,
            owner: body.owner,
            comment: body.comment,
            ip_access_list: ip_list(body.ip_access_list)?,
            properties_kvpairs: properties(body.properties_kvpairs)?,
        })
    }
}

/// updateRecipient: authorized as a whole against the recipient before the request.
pub fn update(
    tx: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &Ident,
    body: RecipientUpdate,
) -> ApiResult<WithTokens> {
    let (current, _, [rn, mn]) = load(tx, caller, metastore_id, name)?;
    if body.ip_access_list.is_some() && current.authentication_type != "TOKEN" {
        return Err(ApiError::invalid("ip_access_list", "is only for TOKEN recipients"));
    }
    let owner = body.owner.as_deref().map(|o| super::owner_name(tx, o)).transpose()?.filter(|o| *o != current.owner);
    let changes = RecipientChanges {
        new_name: rename_to(name, body.name, body.new_name),
        comment: body.comment.filter(|c| super::changed(&current.comment, c)),
        ip_access_list: body
            .ip_access_list
            .filter(|i| current.ip_access_list.as_ref().map(|c| c.get()) != Some(i.as_str())),
        properties_kvpairs: body.properties_kvpairs,
        owner,
    };
    let shape = UpdateShape {
        rename: changes.new_name.is_some(),
        owner: changes.owner.is_some(),
        other: changes.comment.is_some() || changes.ip_access_list.is_some() || changes.properties_kvpairs.is_some(),
    };
    let ok = authz::require(caller, &Action::UpdateRecipient(shape), &[&rn, &mn]).map_err(denied)?;
    let row = recipients::update(tx, &ok, &current, &changes, &caller.name, crate::domain::now_ms())?;
    with_tokens(tx, row)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RotateToken {
    existing_token_expire_in_seconds: Option<i64>,
}

impl RotateToken {
    /// `existing_token_expire_in_seconds`: required, not negative.
    pub fn expire_in_seconds(&self) -> ApiResult<i64> {
        let seconds = self
            .existing_token_expire_in_seconds
            .ok_or_else(|| ApiError::invalid("existing_token_expire_in_seconds", "is required"))?;
        if seconds < 0 {
            return Err(ApiError::invalid("existing_token_expire_in_seconds", "must not be negative"));
        }
        Ok(seconds)
    }
}

/// rotateRecipientToken: shortens (never extends) every live token to expire `seconds` from
/// now, then adds one.
pub fn rotate_token(
    tx: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &Ident,
    seconds: i64,
) -> ApiResult<WithTokens> {
    let (current, ms, [rn, mn]) = load(tx, caller, metastore_id, name)?;
    let ok = authz::require(caller, &Action::RotateRecipientToken, &[&rn, &mn]).map_err(denied)?;
    if current.authentication_type != "TOKEN" {
        return Err(ApiError::invalid("name", "only TOKEN recipients have tokens to rotate"));
    }
    let now = crate::domain::now_ms();
    // A value past int64 can only lie after every expiry: nothing is shortened, nothing wraps
    // into the past.
    if let Some(until) = seconds.checked_mul(1000).and_then(|ms| ms.checked_add(now)) {
        recipients::shorten_tokens(tx, &ok, &current.id, until, &caller.name, now)?;
    }
    let lifetime = ms.delta_sharing_recipient_token_lifetime_in_seconds.filter(|s| *s > 0);
    let expiry = lifetime.map(|s| now.saturating_add(s.saturating_mul(1000)));
    recipients::add_token(tx, &ok, &current.id, expiry, &caller.name, now)?;
    with_tokens(tx, current)
}

/// Each share that grants a recipient something, with the privileges it grants.
pub type SharePrivileges = Vec<(String, Vec<String>)>;

/// getRecipientSharePermissions: the recipient's name and the shares that grant it something,
/// with the privileges each grants.
pub fn share_permissions(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &Ident,
) -> ApiResult<(String, SharePrivileges)> {
    let (r, _, [rn, mn]) = load(conn, caller, metastore_id, name)?;
    authz::require(caller, &Action::GetRecipient, &[&rn, &mn]).map_err(denied)?;
    let granted = crate::store::shares::granted_to(conn, metastore_id, &r.name)?;
    Ok((r.name, granted))
}
