//! Recipients (Delta Sharing): CRUD, tokens and their rotation, share permissions.

use actix_web::{web, HttpRequest, HttpResponse};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value as Json;

use super::extract::{name_param, AppState, Body, Params, Scoped};
use super::listing::{Listing, PageArgs};
use super::shares::PageParams;
use super::{changed, denied, ok_empty, owner_name, Res};
use crate::authz::{self, Action};
use crate::domain::names::Ident;
use crate::domain::update::{rename_to, UpdateShape};
use crate::domain::{now_ms, split_global_metastore_id};
use crate::error::{ApiError, ApiResult};
use crate::ops;
use crate::ops::recipients::{ip_list, load, properties, CreateRecipient, RecipientSpec};
use crate::store::recipients::{self, RecipientChanges, RecipientRow, TokenRow};
use crate::store::shares;

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

/// A token's activation link (`""` once its credential was retrieved), made for this answer.
fn activation_url(t: &TokenRow, public_url: &str) -> String {
    if t.retrieved || t.activation_token.is_empty() {
        String::new()
    } else {
        format!("{public_url}/delta_sharing/retrieve_config.html?{}", t.activation_token)
    }
}

impl RecipientTokenInfo {
    fn new(t: TokenRow, public_url: &str) -> Self {
        RecipientTokenInfo {
            activation_url: activation_url(&t, public_url),
            id: t.id,
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
fn info(conn: &Connection, r: RecipientRow, public_url: &str) -> ApiResult<RecipientInfo> {
    let token = r.authentication_type == "TOKEN";
    let tokens = if token { Some(recipients::live_tokens(conn, &r.id, now_ms())?) } else { None };
    Ok(info_with(r, tokens, public_url))
}

/// A recipient's answer with its live tokens (`Some` for TOKEN recipients).
fn info_with(r: RecipientRow, tokens: Option<Vec<TokenRow>>, public_url: &str) -> RecipientInfo {
    let (cloud, region, metastore_id) =
        match r.data_recipient_global_metastore_id.as_deref().map(split_global_metastore_id) {
            Some(Some((c, rg, m))) => (Some(c), Some(rg), Some(m)),
            _ => (None, None, None),
        };
    let ip_access_list = r
        .ip_access_list
        .as_ref()
        .map(|list| serde_json::json!({ "allowed_ip_addresses": serde_json::from_str::<Json>(list.get()).unwrap_or_default() }));
    RecipientInfo {
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
        activation_url: tokens.as_ref().and_then(|t| t.last()).map(|t| activation_url(t, public_url)),
        tokens: tokens.map(|t| t.into_iter().map(|t| RecipientTokenInfo::new(t, public_url)).collect()),
        activated: r.activated,
        created_at: r.created_at,
        created_by: r.created_by,
        updated_at: r.updated_at,
        updated_by: r.updated_by,
    }
}

/// createRecipient
pub async fn create_recipient(
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(req): Body<CreateRecipient>,
) -> ApiResult<HttpResponse> {
    let spec = RecipientSpec::try_from(req)?;
    let Scoped { caller, metastore } = scoped;
    let out = state.store.write(move |tx| ops::recipients::create(tx, &caller, &metastore.id, spec)).await?;
    Ok(HttpResponse::Ok().json(info_with(out.0, out.1, &state.public_url)))
}

/// getRecipient
pub async fn get_recipient(req: HttpRequest, scoped: Scoped, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let Scoped { caller, metastore } = scoped;
    let out = state.store.read(move |conn| ops::recipients::get(conn, &caller, &metastore.id, &name)).await?;
    Ok(HttpResponse::Ok().json(info_with(out.0, out.1, &state.public_url)))
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
            let wanted = f.data_recipient_global_metastore_id;
            ops::recipients::list(conn, &caller, &metastore.id, &after, limit, wanted.as_deref())
        })
        .await?;
    let items: Vec<RecipientInfo> =
        items.into_iter().map(|(r, tokens)| info_with(r, tokens, &state.public_url)).collect();
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
    let public_url = state.public_url.clone();
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
            info(tx, row, &public_url)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// deleteRecipient: its share grants go with it.
pub async fn delete_recipient(req: HttpRequest, scoped: Scoped, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let Scoped { caller, metastore } = scoped;
    state.store.write(move |tx| ops::recipients::delete(tx, &caller, &metastore.id, &name)).await?;
    Ok(ok_empty())
}

#[derive(Deserialize)]
pub struct RotateToken {
    existing_token_expire_in_seconds: Option<i64>,
}

/// rotateRecipientToken: shortens (never extends) every live token, then adds one.
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
    let public_url = state.public_url.clone();
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
            info(tx, current, &public_url)
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
