//! Recipients (Delta Sharing): CRUD, tokens and their rotation, share permissions.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value as Json;

use super::extract::{name_param, AppState, Body, Params, Scoped};
use super::listing::{Listing, PageArgs};
use super::shares::PageParams;
use super::{ok_empty, Res};
use crate::domain::split_global_metastore_id;
use crate::error::{ApiError, ApiResult};
use crate::ops;
use crate::ops::recipients::{CreateRecipient, RecipientSpec, RecipientUpdate, RotateToken, UpdateRecipient};
use crate::store::recipients::{RecipientRow, TokenRow};

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

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RecipientTokenInfo {
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

#[derive(Serialize, utoipa::ToSchema)]
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
    #[schema(value_type = Option<Object>)]
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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

/// updateRecipient
pub async fn update_recipient(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(body): Body<UpdateRecipient>,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let update = RecipientUpdate::try_from(body)?;
    let Scoped { caller, metastore } = scoped;
    let out = state.store.write(move |tx| ops::recipients::update(tx, &caller, &metastore.id, &name, update)).await?;
    Ok(HttpResponse::Ok().json(info_with(out.0, out.1, &state.public_url)))
}

/// deleteRecipient: its share grants go with it.
pub async fn delete_recipient(req: HttpRequest, scoped: Scoped, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let Scoped { caller, metastore } = scoped;
    state.store.write(move |tx| ops::recipients::delete(tx, &caller, &metastore.id, &name)).await?;
    Ok(ok_empty())
}

/// rotateRecipientToken: shortens (never extends) every live token, then adds one.
pub async fn rotate_token(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(body): Body<RotateToken>,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let seconds = body.expire_in_seconds()?;
    let Scoped { caller, metastore } = scoped;
    let out =
        state.store.write(move |tx| ops::recipients::rotate_token(tx, &caller, &metastore.id, &name, seconds)).await?;
    Ok(HttpResponse::Ok().json(info_with(out.0, out.1, &state.public_url)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ShareToPrivilegeAssignment {
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
    let (recipient, granted) =
        state.store.read(move |conn| ops::recipients::share_permissions(conn, &caller, &metastore.id, &name)).await?;
    let out: Vec<ShareToPrivilegeAssignment> = granted
        .into_iter()
        .map(|(share_name, privileges)| ShareToPrivilegeAssignment {
            share_name,
            privilege_assignments: vec![serde_json::json!({ "principal": recipient, "privileges": privileges })],
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "permissions_out": out })))
}
