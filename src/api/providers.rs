//! Providers (Delta Sharing).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::extract::{name_param, AppState, Body, Params, Scoped};
use super::listing::{Listing, PageArgs};
use super::shares::PageParams;
use super::{ok_empty, Res};
use crate::domain::split_global_metastore_id;
use crate::error::{ApiError, ApiResult};
use crate::ops;
use crate::ops::providers::{
    parse_profile, CreateProvider, ProviderSpec, ProviderUpdate, RecipientProfile, UpdateProvider,
};
use crate::store::providers::ProviderRow;

pub fn routes(cfg: &mut web::ServiceConfig) {
    let uc = |p: &str| format!("/2.1/unity-catalog{p}");
    cfg.service(Res::new(&uc("/providers")).get(list_providers).post(create_provider).build())
        .service(
            Res::new(&uc("/providers/{name}")).get(get_provider).patch(update_provider).delete(delete_provider).build(),
        )
        .service(Res::new(&uc("/providers/{name}/shares")).get(list_provider_shares).build());
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProviderInfo {
    name: String,
    authentication_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    owner: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient_profile: Option<RecipientProfile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_provider_global_metastore_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cloud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metastore_id: Option<String>,
    created_at: i64,
    created_by: String,
    updated_at: i64,
    updated_by: String,
}

impl From<ProviderRow> for ProviderInfo {
    fn from(p: ProviderRow) -> Self {
        // The profile is shown parsed and without its bearer token.
        let recipient_profile = p.recipient_profile_str.as_deref().and_then(|s| parse_profile(s).ok());
        let global = p.data_provider_global_metastore_id.clone();
        let (cloud, region, metastore_id) = match global.as_deref().and_then(split_global_metastore_id) {
            Some((c, r, m)) => (Some(c), Some(r), Some(m)),
            None => (None, None, None),
        };
        ProviderInfo {
            name: p.name,
            authentication_type: p.authentication_type,
            comment: p.comment,
            owner: p.owner,
            recipient_profile,
            cloud,
            region,
            metastore_id,
            data_provider_global_metastore_id: global,
            created_at: p.created_at,
            created_by: p.created_by,
            updated_at: p.updated_at,
            updated_by: p.updated_by,
        }
    }
}

/// createProvider
pub async fn create_provider(
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(req): Body<CreateProvider>,
) -> ApiResult<HttpResponse> {
    let spec = ProviderSpec::try_from(req)?;
    let Scoped { caller, metastore } = scoped;
    let row = state.store.write(move |tx| ops::providers::create(tx, &caller, &metastore.id, spec)).await?;
    Ok(HttpResponse::Ok().json(ProviderInfo::from(row)))
}

/// getProvider
pub async fn get_provider(req: HttpRequest, scoped: Scoped, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let Scoped { caller, metastore } = scoped;
    let row = state.store.read(move |conn| ops::providers::get(conn, &caller, &metastore.id, &name)).await?;
    Ok(HttpResponse::Ok().json(ProviderInfo::from(row)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListProvidersParams {
    data_provider_global_metastore_id: Option<String>,
}

/// listProviders: all for a metastore admin (or USE_PROVIDER), else the caller's own.
pub async fn list_providers(
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<PageParams>,
    Params(f): Params<ListProvidersParams>,
) -> ApiResult<HttpResponse> {
    let Scoped { caller, metastore } = scoped;
    let list = format!("providers:{}:{}", metastore.id, f.data_provider_global_metastore_id.as_deref().unwrap_or(""));
    let args = PageArgs::new(&state.store, list, p.max_results, p.page_token.as_deref(), None)?;
    let (after, limit) = (args.after.clone(), args.limit);
    let (items, more_after) = state
        .store
        .read(move |conn| {
            let wanted = f.data_provider_global_metastore_id;
            ops::providers::list(conn, &caller, &metastore.id, &after, limit, wanted.as_deref())
        })
        .await?;
    let items: Vec<ProviderInfo> = items.into_iter().map(ProviderInfo::from).collect();
    let next_page_token = args.next_token(&state.store, more_after);
    Ok(HttpResponse::Ok().json(Listing { key: "providers", items, next_page_token }))
}

/// updateProvider
pub async fn update_provider(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(body): Body<UpdateProvider>,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let update = ProviderUpdate::try_from(body)?;
    let Scoped { caller, metastore } = scoped;
    let row = state.store.write(move |tx| ops::providers::update(tx, &caller, &metastore.id, &name, update)).await?;
    Ok(HttpResponse::Ok().json(ProviderInfo::from(row)))
}

/// deleteProvider
pub async fn delete_provider(req: HttpRequest, scoped: Scoped, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let Scoped { caller, metastore } = scoped;
    state.store.write(move |tx| ops::providers::delete(tx, &caller, &metastore.id, &name)).await?;
    Ok(ok_empty())
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ProviderShare {
    name: String,
}

/// listProviderShares: the shares the fixture says the provider offers.
pub async fn list_provider_shares(
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
    let names = state.store.read(move |conn| ops::providers::shares(conn, &caller, &metastore.id, &name)).await?;
    let items: Vec<ProviderShare> = names.into_iter().map(|name| ProviderShare { name }).collect();
    Ok(HttpResponse::Ok().json(Listing { key: "shares", items, next_page_token: None }))
}
