//! Providers (Delta Sharing).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::extract::{name_param, AppState, Body, Params, Scoped};
use super::listing::{Listing, PageArgs};
use super::shares::PageParams;
use super::{changed, denied, ok_empty, owner_name, Res};
use crate::authz::{self, Action};
use crate::domain::names::Ident;
use crate::domain::update::{rename_to, UpdateShape};
use crate::domain::{now_ms, split_global_metastore_id};
use crate::error::{ApiError, ApiResult};
use crate::ops::providers::{load, parse_profile, CreateProvider, ProviderSpec, RecipientProfile};
use crate::store::providers::{self, ProviderChanges, ProviderRow};
use crate::store::securables;

pub fn routes(cfg: &mut web::ServiceConfig) {
    let uc = |p: &str| format!("/2.1/unity-catalog{p}");
    cfg.service(Res::new(&uc("/providers")).get(list_providers).post(create_provider).build())
        .service(
            Res::new(&uc("/providers/{name}")).get(get_provider).patch(update_provider).delete(delete_provider).build(),
        )
        .service(Res::new(&uc("/providers/{name}/shares")).get(list_provider_shares).build());
}

#[derive(Serialize)]
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
    let row = state
        .store
        .write(move |tx| {
            let ms = securables::metastore_node(tx, &metastore.id, &caller.principals_json)?;
            let ok = authz::require(&caller, &Action::CreateProvider, &[&ms]).map_err(denied)?;
            providers::insert(tx, &ok, &metastore.id, &spec.into_new(caller.name.clone(), Vec::new(), now_ms()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(ProviderInfo::from(row)))
}

/// getProvider
pub async fn get_provider(req: HttpRequest, scoped: Scoped, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let Scoped { caller, metastore } = scoped;
    let row = state
        .store
        .read(move |conn| {
            let (p, [pn, mn]) = load(conn, &caller, &metastore.id, &name)?;
            authz::require(&caller, &Action::GetProvider, &[&pn, &mn]).map_err(denied)?;
            Ok(p)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ProviderInfo::from(row)))
}

#[derive(Deserialize)]
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
            let ms = securables::metastore_node(conn, &metastore.id, &caller.principals_json)?;
            let all = authz::visible(&caller, &Action::ListAllProviders, &[&ms]);
            let page = providers::scan(conn, &metastore.id, &after, limit)?;
            let wanted = f.data_provider_global_metastore_id.clone();
            let items = page
                .rows
                .into_iter()
                .filter(|p| all || authz::visible(&caller, &Action::GetProvider, &[&p.node(), &ms]))
                .filter(|p| wanted.is_none() || p.data_provider_global_metastore_id == wanted)
                .map(ProviderInfo::from)
                .collect::<Vec<_>>();
            Ok((items, page.more_after))
        })
        .await?;
    let next_page_token = args.next_token(&state.store, more_after);
    Ok(HttpResponse::Ok().json(Listing { key: "providers", items, next_page_token }))
}

#[derive(Deserialize)]
pub struct UpdateProvider {
    name: Option<String>,
    new_name: Option<String>,
    owner: Option<String>,
    comment: Option<String>,
    recipient_profile_str: Option<String>,
}

/// updateProvider
pub async fn update_provider(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(body): Body<UpdateProvider>,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let new_name = body.new_name.map(|n| Ident::parse("new_name", &n)).transpose()?;
    let body_name = body.name.map(|n| Ident::parse("name", &n)).transpose()?;
    let profile = body.recipient_profile_str.filter(|p| !p.is_empty());
    if let Some(p) = &profile {
        parse_profile(p).map_err(|e| ApiError::invalid("recipient_profile_str", e))?;
    }
    let Scoped { caller, metastore } = scoped;
    let row = state
        .store
        .write(move |tx| {
            let (current, [pn, mn]) = load(tx, &caller, &metastore.id, &name)?;
            if profile.is_some() && current.authentication_type != "TOKEN" {
                return Err(ApiError::invalid("recipient_profile_str", "is only for TOKEN providers"));
            }
            let owner = body.owner.as_deref().map(|o| owner_name(tx, o)).transpose()?.filter(|o| *o != current.owner);
            let changes = ProviderChanges {
                new_name: rename_to(&name, body_name, new_name),
                comment: body.comment.filter(|c| changed(&current.comment, c)),
                recipient_profile_str: profile.filter(|p| changed(&current.recipient_profile_str, p)),
                owner,
            };
            let shape = UpdateShape {
                rename: changes.new_name.is_some(),
                owner: changes.owner.is_some(),
                other: changes.comment.is_some() || changes.recipient_profile_str.is_some(),
            };
            let ok = authz::require(&caller, &Action::UpdateProvider(shape), &[&pn, &mn]).map_err(denied)?;
            providers::update(tx, &ok, &current, &changes, &caller.name, now_ms())
        })
        .await?;
    Ok(HttpResponse::Ok().json(ProviderInfo::from(row)))
}

/// deleteProvider
pub async fn delete_provider(req: HttpRequest, scoped: Scoped, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let Scoped { caller, metastore } = scoped;
    state
        .store
        .write(move |tx| {
            let (current, [pn, mn]) = load(tx, &caller, &metastore.id, &name)?;
            let ok = authz::require(&caller, &Action::DeleteProvider, &[&pn, &mn]).map_err(denied)?;
            providers::delete(tx, &ok, &current.id)
        })
        .await?;
    Ok(ok_empty())
}

#[derive(Serialize)]
struct ProviderShare {
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
    let names = state
        .store
        .read(move |conn| {
            let (prov, [pn, mn]) = load(conn, &caller, &metastore.id, &name)?;
            authz::require(&caller, &Action::GetProvider, &[&pn, &mn]).map_err(denied)?;
            Ok(serde_json::from_str::<Vec<String>>(&prov.shares).unwrap_or_default())
        })
        .await?;
    let items: Vec<ProviderShare> = names.into_iter().map(|name| ProviderShare { name }).collect();
    Ok(HttpResponse::Ok().json(Listing { key: "shares", items, next_page_token: None }))
}
