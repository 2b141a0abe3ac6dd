//! Recipients (Delta Sharing, spec §18): CRUD, tokens and their rotation, share permissions.

use std::net::IpAddr;

use actix_web::{web, HttpRequest, HttpResponse};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value as Json;

use super::extract::{name_param, AppState, Body, Params, Scoped};
use super::listing::{Listing, PageArgs};
use super::shares::PageParams;
use super::{changed, denied, ok_empty, owner_name, Res};
use crate::authz::{self, Action, Caller, Node};
use crate::domain::names::Ident;
use crate::domain::update::{rename_to, UpdateShape};
use crate::domain::{now_ms, split_global_metastore_id};
use crate::error::{ApiError, ApiResult};
use crate::store::metastores::{self, MetastoreRow};
use crate::store::recipients::{self, NewRecipient, RecipientChanges, RecipientRow, TokenRow};
use crate::store::{securables, shares};

const AUTHENTICATION_TYPES: &[&str] = &["TOKEN", "DATABRICKS"];
const MAX_IP_ADDRESSES: usize = 100;

pub fn routes(cfg: &mut web::ServiceConfig) {
    let uc = |p: &str| format!("/2.1/unity-catalog{p}");
    cfg.service(Res::new(&uc("/recipients")).get(list_recipients).post(create_recipient).build())
        .service(
            Res::new(&uc("/recipients/{name}"))
                .get(get_recipient)
                .patch(update_recipient)
                .delete(delete_recipient)
                .build(),
        )
        .service(Res::new(&uc("/recipients/{name}/rotate-token")).post(rotate_token).build())
        .service(Res::new(&uc("/recipients/{name}/share-permissions")).get(share_permissions).build());
}

#[derive(Serialize)]
struct RecipientTokenInfo {
    id: String,
    activation_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_time: Option<i64>,
    created_at: i64,
    created_by: String,
    updated_at: i64,
    updated_by: String,
}

impl From<TokenRow> for RecipientTokenInfo {
    fn from(t: TokenRow) -> Self {
        RecipientTokenInfo {
            id: t.id,
            activation_url: t.activation_url,
            expiration_time: t.expiration_time,
            created_at: t.created_at,
            created_by: t.created_by,
            updated_at: t.updated_at,
            updated_by: t.updated_by,
        }
    }
}

#[derive(Serialize)]
pub struct RecipientInfo {
    id: String,
    name: String,
    authentication_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    owner: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_recipient_global_metastore_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cloud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metastore_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip_access_list: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties_kvpairs: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tokens: Option<Vec<RecipientTokenInfo>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    activation_url: Option<String>,
    activated: bool,
    created_at: i64,
    created_by: String,
    updated_at: i64,
    updated_by: String,
}

/// A recipient as answered, with its live tokens (TOKEN recipients only).
fn info(conn: &Connection, r: RecipientRow) -> ApiResult<RecipientInfo> {
    let token = r.authentication_type == "TOKEN";
    let tokens = if token { Some(recipients::live_tokens(conn, &r.id, now_ms())?) } else { None };
    let (cloud, region, metastore_id) =
        match r.data_recipient_global_metastore_id.as_deref().map(split_global_metastore_id) {
            Some(Some((c, rg, m))) => (Some(c), Some(rg), Some(m)),
            _ => (None, None, None),
        };
    let ip_access_list = r
        .ip_access_list
        .as_ref()
        .map(|list| serde_json::json!({ "allowed_ip_addresses": serde_json::from_str::<Json>(list.get()).unwrap_or_default() }));
    Ok(RecipientInfo {
        id: r.id,
        name: r.name,
        authentication_type: r.authentication_type,
        comment: r.comment,
        owner: r.owner,
        data_recipient_global_metastore_id: r.data_recipient_global_metastore_id,
        cloud,
        region,
        metastore_id,
        ip_access_list,
        properties_kvpairs: r.properties_kvpairs,
        activation_url: tokens.as_ref().and_then(|t| t.last()).map(|t| t.activation_url.clone()),
        tokens: tokens.map(|t| t.into_iter().map(RecipientTokenInfo::from).collect()),
        activated: false,
        created_at: r.created_at,
        created_by: r.created_by,
        updated_at: r.updated_at,
        updated_by: r.updated_by,
    })
}

/// `ip_access_list`: the SDK's object, or the seed's one-element array of it; at most 100
/// addresses, each an IP address or CIDR block (spec §18.1).
fn ip_list(v: Option<Json>) -> ApiResult<Option<String>> {
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

fn properties(v: Option<Json>) -> ApiResult<Option<String>> {
    match v {
        None | Some(Json::Null) => Ok(None),
        Some(o @ Json::Object(_)) => Ok(Some(o.to_string())),
        Some(_) => Err(ApiError::invalid("properties_kvpairs", "must be an object {\"properties\": {...}}")),
    }
}

#[derive(Deserialize)]
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

/// Open sharing (TOKEN recipients) needs the metastore's external scope (spec §18.3).
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

/// createRecipient
pub async fn create_recipient(
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(req): Body<CreateRecipient>,
) -> ApiResult<HttpResponse> {
    let spec = RecipientSpec::try_from(req)?;
    let Scoped { caller, metastore } = scoped;
    let out = state
        .store
        .write(move |tx| {
            let ms = metastores::require(tx, &metastore.id)?;
            let node = securables::with_grants(tx, ms.node(), &caller.principals_json)?;
            let ok = authz::require(&caller, &Action::CreateRecipient, &[&node]).map_err(denied)?;
            let row = insert_recipient(tx, &ok, &ms, spec, caller.name.clone(), now_ms())?;
            info(tx, row)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// The recipient and its chain [recipient, metastore] with the caller's grants.
fn load(
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

/// getRecipient
pub async fn get_recipient(req: HttpRequest, scoped: Scoped, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let Scoped { caller, metastore } = scoped;
    let out = state
        .store
        .read(move |conn| {
            let (r, _, [rn, mn]) = load(conn, &caller, &metastore.id, &name)?;
            authz::require(&caller, &Action::GetRecipient, &[&rn, &mn]).map_err(denied)?;
            info(conn, r)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Deserialize)]
pub struct ListRecipientsParams {
    data_recipient_global_metastore_id: Option<String>,
}

/// listRecipients: all for a metastore admin (or USE_RECIPIENT), else the caller's own.
pub async fn list_recipients(
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<PageParams>,
    Params(f): Params<ListRecipientsParams>,
) -> ApiResult<HttpResponse> {
    let Scoped { caller, metastore } = scoped;
    let list = format!("recipients:{}:{}", metastore.id, f.data_recipient_global_metastore_id.as_deref().unwrap_or(""));
    let args = PageArgs::new(&state.store, list, p.max_results, p.page_token.as_deref(), None)?;
    let (after, limit) = (args.after.clone(), args.limit);
    let (items, more_after) = state
        .store
        .read(move |conn| {
            let ms = securables::metastore_node(conn, &metastore.id, &caller.principals_json)?;
            let all = authz::visible(&caller, &Action::ListAllRecipients, &[&ms]);
            let page = recipients::scan(conn, &metastore.id, &after, limit)?;
            let mut items = Vec::new();
            for r in page.rows {
                let wanted = f.data_recipient_global_metastore_id.as_deref();
                if (all || caller.is(&r.owner))
                    && wanted.is_none_or(|w| r.data_recipient_global_metastore_id.as_deref() == Some(w))
                {
                    items.push(info(conn, r)?);
                }
            }
            Ok((items, page.more_after))
        })
        .await?;
    let next_page_token = args.next_token(&state.store, more_after);
    Ok(HttpResponse::Ok().json(Listing { key: "recipients", items, next_page_token }))
}

#[derive(Deserialize)]
pub struct UpdateRecipient {
    name: Option<String>,
    new_name: Option<String>,
    owner: Option<String>,
    comment: Option<String>,
    ip_access_list: Option<Json>,
    properties_kvpairs: Option<Json>,
}

/// updateRecipient
pub async fn update_recipient(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(body): Body<UpdateRecipient>,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let new_name = body.new_name.map(|n| Ident::parse("new_name", &n)).transpose()?;
    let body_name = body.name.map(|n| Ident::parse("name", &n)).transpose()?;
    let ip = ip_list(body.ip_access_list)?;
    let props = properties(body.properties_kvpairs)?;
    let Scoped { caller, metastore } = scoped;
    let out = state
        .store
        .write(move |tx| {
            let (current, _, [rn, mn]) = load(tx, &caller, &metastore.id, &name)?;
            if ip.is_some() && current.authentication_type != "TOKEN" {
                return Err(ApiError::invalid("ip_access_list", "is only for TOKEN recipients"));
            }
            let owner = body.owner.as_deref().map(|o| owner_name(tx, o)).transpose()?.filter(|o| *o != current.owner);
            let changes = RecipientChanges {
                new_name: rename_to(&name, body_name, new_name),
                comment: body.comment.filter(|c| changed(&current.comment, c)),
                ip_access_list: ip.filter(|i| current.ip_access_list.as_ref().map(|c| c.get()) != Some(i.as_str())),
                properties_kvpairs: props,
                owner,
            };
            let shape = UpdateShape {
                rename: changes.new_name.is_some(),
                owner: changes.owner.is_some(),
                other: changes.comment.is_some()
                    || changes.ip_access_list.is_some()
                    || changes.properties_kvpairs.is_some(),
            };
            let ok = authz::require(&caller, &Action::UpdateRecipient(shape), &[&rn, &mn]).map_err(denied)?;
            let row = recipients::update(tx, &ok, &current, &changes, &caller.name, now_ms())?;
            info(tx, row)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// deleteRecipient: its share grants go with it (spec §18.3).
pub async fn delete_recipient(req: HttpRequest, scoped: Scoped, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let Scoped { caller, metastore } = scoped;
    state
        .store
        .write(move |tx| {
            let (current, _, [rn, mn]) = load(tx, &caller, &metastore.id, &name)?;
            let ok = authz::require(&caller, &Action::DeleteRecipient, &[&rn, &mn]).map_err(denied)?;
            recipients::delete(tx, &ok, &current.id)
        })
        .await?;
    Ok(ok_empty())
}

#[derive(Deserialize)]
pub struct RotateToken {
    existing_token_expire_in_seconds: Option<i64>,
}

/// rotateRecipientToken: shortens (never extends) every live token, then adds one (spec §18.1).
pub async fn rotate_token(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(body): Body<RotateToken>,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let seconds = body
        .existing_token_expire_in_seconds
        .ok_or_else(|| ApiError::invalid("existing_token_expire_in_seconds", "is required"))?;
    if seconds < 0 {
        return Err(ApiError::invalid("existing_token_expire_in_seconds", "must not be negative"));
    }
    let Scoped { caller, metastore } = scoped;
    let out = state
        .store
        .write(move |tx| {
            let (current, ms, [rn, mn]) = load(tx, &caller, &metastore.id, &name)?;
            let ok = authz::require(&caller, &Action::RotateRecipientToken, &[&rn, &mn]).map_err(denied)?;
            if current.authentication_type != "TOKEN" {
                return Err(ApiError::invalid("name", "only TOKEN recipients have tokens to rotate"));
            }
            let now = now_ms();
            // A value past int64 can only lie after every expiry: nothing is shortened, nothing
            // wraps into the past.
            if let Some(until) = seconds.checked_mul(1000).and_then(|ms| ms.checked_add(now)) {
                recipients::shorten_tokens(tx, &ok, &current.id, until, &caller.name, now)?;
            }
            let lifetime = ms.delta_sharing_recipient_token_lifetime_in_seconds.filter(|s| *s > 0);
            let expiry = lifetime.map(|s| now.saturating_add(s.saturating_mul(1000)));
            recipients::add_token(tx, &ok, &current.id, expiry, &caller.name, now)?;
            info(tx, current)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Serialize)]
struct ShareToPrivilegeAssignment {
    share_name: String,
    privilege_assignments: Vec<Json>,
}

/// getRecipientSharePermissions: the shares that grant the recipient something.
pub async fn share_permissions(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<PageParams>,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    if p.max_results.is_some_and(|n| n < 0) {
        return Err(ApiError::invalid("max_results", "must not be negative"));
    }
    let Scoped { caller, metastore } = scoped;
    let out = state
        .store
        .read(move |conn| {
            let (r, _, [rn, mn]) = load(conn, &caller, &metastore.id, &name)?;
            authz::require(&caller, &Action::GetRecipient, &[&rn, &mn]).map_err(denied)?;
            let granted = shares::granted_to(conn, &metastore.id, &r.name)?;
            Ok(granted
                .into_iter()
                .map(|(share_name, privileges)| ShareToPrivilegeAssignment {
                    share_name,
                    privilege_assignments: vec![serde_json::json!({ "principal": r.name, "privileges": privileges })],
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "permissions_out": out })))
}
