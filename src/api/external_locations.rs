//! External locations.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::catalogs::ListParams;
use super::extract::{name_param, AppState, Body, Params, RawBody, Scoped};
use super::listing::{judge, Listing, PageArgs, Rule, Shown};
use super::metastores::{force_flag, ForceOpts};
use super::{changed, denied, ok_empty, owner_name, Res, UC};
use crate::authz::{self, Action};
use crate::domain::names::Ident;
use crate::domain::now_ms;
use crate::domain::storage_url::StorageUrl;
use crate::domain::update::{rename_to, UpdateShape};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ops::external_locations::{check_url, parse_url, CreateExternalLocation, LocationSpec};
use crate::store::external_locations::{self, LocationChanges, LocationRow};
use crate::store::{credentials, securables, tables};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        Res::new(&format!("{UC}/external-locations"))
            .get(list_external_locations)
            .post(create_external_location)
            .build(),
    )
    .service(
        Res::new(&format!("{UC}/external-locations/{{name}}"))
            .get(get_external_location)
            .patch(update_external_location)
            .delete(delete_external_location)
            .build(),
    );
}

#[derive(Serialize)]
pub struct ExternalLocationInfo {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    owner: String,
    url: String,
    credential_name: String,
    credential_id: String,
    read_only: bool,
    fallback: bool,
    isolation_mode: String,
    metastore_id: String,
    created_at: i64,
    created_by: String,
    updated_at: i64,
    updated_by: String,
}

impl From<LocationRow> for ExternalLocationInfo {
    fn from(l: LocationRow) -> Self {
        ExternalLocationInfo {
            name: l.name,
            comment: l.comment,
            owner: l.owner,
            url: l.url,
            credential_name: l.credential_name,
            credential_id: l.credential_id,
            read_only: l.read_only,
            fallback: l.fallback,
            isolation_mode: l.isolation_mode,
            metastore_id: l.metastore_id,
            created_at: l.created_at,
            created_by: l.created_by,
            updated_at: l.updated_at,
            updated_by: l.updated_by,
        }
    }
}

/// createExternalLocation
pub async fn create_external_location(
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(req): Body<CreateExternalLocation>,
) -> ApiResult<HttpResponse> {
    let spec = LocationSpec::try_from(req)?;
    state.file_roots.check("url", &spec.url)?;
    let Scoped { caller, metastore } = scoped;
    let row = state
        .store
        .write(move |tx| {
            let ms = securables::metastore_node(tx, &metastore.id, &caller.principals_json)?;
            let credential = credentials::require(tx, &metastore.id, &spec.credential_name)?;
            let cred = securables::with_grants(tx, credential.node(), &caller.principals_json)?;
            let ok = authz::require(&caller, &Action::CreateExternalLocation, &[&ms, &cred]).map_err(denied)?;
            let new = spec.into_new(tx, &metastore.id, caller.name.clone(), now_ms())?;
            external_locations::insert(tx, &ok, &metastore.id, &new)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ExternalLocationInfo::from(row)))
}

/// getExternalLocation
pub async fn get_external_location(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let Scoped { caller, metastore } = scoped;
    let row = state
        .store
        .read(move |conn| {
            let row = external_locations::require(conn, &metastore.id, &name)?;
            let node = securables::with_grants(conn, row.node(), &caller.principals_json)?;
            authz::require(&caller, &Action::GetExternalLocation, &[&node]).map_err(denied)?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ExternalLocationInfo::from(row)))
}

/// listExternalLocations: all for metastore admins, else those the caller may get.
pub async fn list_external_locations(
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<ListParams>,
) -> ApiResult<HttpResponse> {
    let Scoped { caller, metastore } = scoped;
    let args = PageArgs::new(
        &state.store,
        format!("external-locations:{}", metastore.id),
        p.max_results,
        p.page_token.as_deref(),
        None,
    )?;
    let (after, limit) = (args.after.clone(), args.limit);
    let (items, more_after) = state
        .store
        .read(move |conn| {
            let page = external_locations::scan(conn, &metastore.id, &after, limit)?;
            let all = authz::visible(&caller, &Action::ListAllExternalLocations, &[]);
            let judged = judge(
                conn,
                &caller,
                page.rows,
                |l| l.node(),
                Rule { all, action: &Action::GetExternalLocation, browse: None },
                &[],
            )?;
            let items = judged
                .into_iter()
                .filter(|(_, shown)| *shown == Shown::Full)
                .map(|(row, _)| ExternalLocationInfo::from(row))
                .collect::<Vec<_>>();
            Ok((items, page.more_after))
        })
        .await?;
    let next_page_token = args.next_token(&state.store, more_after);
    Ok(HttpResponse::Ok().json(Listing { key: "external_locations", items, next_page_token }))
}

#[derive(Deserialize)]
pub struct UpdateExternalLocation {
    name: Option<String>,
    new_name: Option<String>,
    comment: Option<String>,
    owner: Option<String>,
    url: Option<String>,
    credential_name: Option<String>,
    read_only: Option<bool>,
    fallback: Option<bool>,
    isolation_mode: Option<String>,
    force: Option<bool>,
    #[allow(dead_code)]
    skip_validation: Option<bool>,
}

const ISOLATION_MODES: &[&str] = &["ISOLATION_MODE_OPEN", "ISOLATION_MODE_ISOLATED"];

/// updateExternalLocation
pub async fn update_external_location(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(body): Body<UpdateExternalLocation>,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let new_name = body.new_name.map(|n| Ident::parse("new_name", &n)).transpose()?;
    let body_name = body.name.map(|n| Ident::parse("name", &n)).transpose()?;
    let url = body.url.filter(|u| !u.is_empty()).map(|u| parse_url(&u)).transpose()?;
    if let Some(u) = &url {
        state.file_roots.check("url", u)?;
    }
    let credential_name = body.credential_name.map(|n| Ident::parse("credential_name", &n)).transpose()?;
    if let Some(mode) = &body.isolation_mode {
        if !ISOLATION_MODES.contains(&mode.as_str()) {
            return Err(ApiError::invalid(
                "isolation_mode",
                format!("unknown value {mode:?}; expected one of {ISOLATION_MODES:?}"),
            ));
        }
    }
    let force = body.force.unwrap_or(false);
    let Scoped { caller, metastore } = scoped;
    let row = state
        .store
        .write(move |tx| {
            let current = external_locations::require(tx, &metastore.id, &name)?;
            let owner = body.owner.as_deref().map(|o| owner_name(tx, o)).transpose()?;
            let credential_name_after = credential_name.filter(|c| c.as_str() != current.credential_name);
            let credential = match credential_name_after.clone() {
                Some(c) => {
                    let row = credentials::require(tx, &metastore.id, &c)?;
                    Some((row.id, row.name))
                }
                None => None,
            };
            let changes = LocationChanges {
                new_name: rename_to(&name, body_name, new_name),
                owner: owner.filter(|o| *o != current.owner),
                comment: body.comment.filter(|c| changed(&current.comment, c)),
                url: url.filter(|u| u.as_str() != current.url),
                credential,
                read_only: body.read_only.filter(|r| *r != current.read_only),
                isolation_mode: body.isolation_mode.filter(|m| *m != current.isolation_mode),
                fallback: body.fallback.filter(|f| *f != current.fallback),
            };
            let shape = UpdateShape {
                rename: changes.new_name.is_some(),
                owner: changes.owner.is_some(),
                other: changes.comment.is_some()
                    || changes.url.is_some()
                    || changes.credential.is_some()
                    || changes.read_only.is_some()
                    || changes.isolation_mode.is_some()
                    || changes.fallback.is_some(),
            };
            let node = securables::with_grants(tx, current.node(), &caller.principals_json)?;
            let ok = authz::require(&caller, &Action::UpdateExternalLocation(shape), &[&node]).map_err(denied)?;
            if changes.url.is_some() || changes.credential.is_some() {
                // What the update creates needs what a create needs, on the credential used after
                // the change (checked against the state before the request).
                let cred_name =
                    credential_name_after.unwrap_or_else(|| Ident::from_stored(current.credential_name.clone()));
                let cred = credentials::require(tx, &metastore.id, &cred_name)?;
                let cred = securables::with_grants(tx, cred.node(), &caller.principals_json)?;
                let ms = securables::metastore_node(tx, &metastore.id, &caller.principals_json)?;
                authz::require(&caller, &Action::CreateExternalLocation, &[&ms, &cred]).map_err(denied)?;
            }
            if let Some(new_url) = &changes.url {
                check_url(tx, &metastore.id, new_url, Some(&current.id))?;
                // `force`: go ahead even if external tables under the old URL are left uncovered.
                let stranded: Vec<String> = tables::external_within(tx, &metastore.id, &current.storage_url())?
                    .into_iter()
                    .chain(crate::store::volumes::external_within(tx, &metastore.id, &current.storage_url())?)
                    .filter(|(_, loc)| !StorageUrl::from_stored(loc.clone()).is_within(new_url))
                    .map(|(t, _)| t)
                    .collect();
                if !stranded.is_empty() && !force {
                    return Err(ApiError::new(
                        ErrorCode::InvalidState,
                        format!(
                            "Changing the url of external location '{name}' would leave external table(s) or volume(s) {} outside it; use force=true to change it anyway.",
                            stranded.join(", ")
                        ),
                    ));
                }
            }
            external_locations::update(tx, &ok, &current, &changes, &caller.name, now_ms())
        })
        .await?;
    Ok(HttpResponse::Ok().json(ExternalLocationInfo::from(row)))
}

/// deleteExternalLocation: without `force`, only a location no external table depends on.
pub async fn delete_external_location(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(q): Params<ForceOpts>,
    RawBody(body): RawBody,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let force = force_flag(q, &body)?;
    let Scoped { caller, metastore } = scoped;
    state
        .store
        .write(move |tx| {
            let current = external_locations::require(tx, &metastore.id, &name)?;
            let node = securables::with_grants(tx, current.node(), &caller.principals_json)?;
            let ok = authz::require(&caller, &Action::DeleteExternalLocation, &[&node]).map_err(denied)?;
            if !force {
                let mut dependents = tables::external_within(tx, &metastore.id, &current.storage_url())?;
                dependents.extend(crate::store::volumes::external_within(tx, &metastore.id, &current.storage_url())?);
                if !dependents.is_empty() {
                    let names: Vec<&str> = dependents.iter().map(|(t, _)| t.as_str()).collect();
                    return Err(ApiError::new(
                        ErrorCode::InvalidState,
                        format!(
                            "External location '{name}' has dependent external table(s) or volume(s) {}; use force=true to delete it anyway.",
                            names.join(", ")
                        ),
                    ));
                }
            }
            external_locations::delete(tx, &ok, &current.id)
        })
        .await?;
    Ok(ok_empty())
}
