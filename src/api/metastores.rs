//! Metastores, the metastore summary and workspace assignments.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::extract::{path_param, qbool, qint, AppState, Auth, Body, Params, RawBody, Scoped};
use super::listing::Listing;
use super::{denied, ok_empty, owner_name};
use crate::authz::{self, Action};
use crate::domain::names::Ident;
use crate::domain::now_ms;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ops;
use crate::ops::metastores::{CreateMetastore, MetastoreSpec};
use crate::store::metastores::{self, AssignmentRow, MetastoreChanges, MetastoreRow};
use crate::store::{catalogs, principals};

const SCOPES: &[&str] = &["INTERNAL", "INTERNAL_AND_EXTERNAL"];

/// `MetastoreInfo` (also the summary's answer, which carries every field).
#[derive(Serialize)]
pub struct MetastoreInfo {
    metastore_id: String,
    name: String,
    storage_root: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_root_credential_id: Option<String>,
    owner: String,
    cloud: String,
    region: String,
    global_metastore_id: String,
    delta_sharing_scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    delta_sharing_recipient_token_lifetime_in_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delta_sharing_organization_name: Option<String>,
    delta_sharing_enabled: bool,
    privilege_model_version: String,
    external_access_enabled: bool,
    created_at: i64,
    created_by: String,
    updated_at: i64,
    updated_by: String,
}

impl From<MetastoreRow> for MetastoreInfo {
    fn from(m: MetastoreRow) -> Self {
        MetastoreInfo {
            global_metastore_id: format!("{}:{}:{}", m.cloud, m.region, m.id),
            delta_sharing_enabled: m.delta_sharing_scope == "INTERNAL_AND_EXTERNAL",
            metastore_id: m.id,
            name: m.name,
            storage_root: m.storage_root,
            storage_root_credential_id: m.storage_root_credential_id,
            owner: m.owner,
            cloud: m.cloud,
            region: m.region,
            delta_sharing_scope: m.delta_sharing_scope,
            delta_sharing_recipient_token_lifetime_in_seconds: m.delta_sharing_recipient_token_lifetime_in_seconds,
            delta_sharing_organization_name: m.delta_sharing_organization_name,
            privilege_model_version: m.privilege_model_version,
            external_access_enabled: m.external_access_enabled,
            created_at: m.created_at,
            created_by: m.created_by,
            updated_at: m.updated_at,
            updated_by: m.updated_by,
        }
    }
}

/// createMetastore
pub async fn create_metastore(
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(req): Body<CreateMetastore>,
) -> ApiResult<HttpResponse> {
    let spec = MetastoreSpec::try_from(req)?;
    state.file_roots.check("storage_root", &spec.storage_root)?;
    let row = state.store.write(move |tx| ops::metastores::create(tx, &caller, spec)).await?;
    Ok(HttpResponse::Ok().json(MetastoreInfo::from(row)))
}

#[derive(Deserialize)]
pub struct ListMetastoresParams {
    #[serde(default, deserialize_with = "qint::option")]
    max_results: Option<i64>,
}

/// listMetastores: the workspace's metastore, or nothing.
pub async fn list_metastores(
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Params(p): Params<ListMetastoresParams>,
) -> ApiResult<HttpResponse> {
    if p.max_results.is_some_and(|n| n < 0) {
        return Err(ApiError::invalid("max_results", "must not be negative"));
    }
    let Some(scope) = caller.metastore.clone() else {
        return Ok(HttpResponse::Ok().json(Listing::<MetastoreInfo> {
            key: "metastores",
            items: vec![],
            next_page_token: None,
        }));
    };
    let row = state.store.read(move |conn| ops::metastores::get(conn, &caller, &scope.id)).await?;
    Ok(HttpResponse::Ok().json(Listing {
        key: "metastores",
        items: vec![MetastoreInfo::from(row)],
        next_page_token: None,
    }))
}

/// getMetastore
pub async fn get_metastore(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let id = path_param(&req, "id")?;
    let row = state.store.read(move |conn| ops::metastores::get(conn, &caller, &id)).await?;
    Ok(HttpResponse::Ok().json(MetastoreInfo::from(row)))
}

#[derive(Deserialize)]
pub struct UpdateMetastore {
    name: Option<String>,
    new_name: Option<String>,
    owner: Option<String>,
    storage_root: Option<String>,
    storage_root_credential_id: Option<String>,
    delta_sharing_scope: Option<String>,
    delta_sharing_recipient_token_lifetime_in_seconds: Option<i64>,
    delta_sharing_organization_name: Option<String>,
    privilege_model_version: Option<String>,
    external_access_enabled: Option<bool>,
    // Accepted and ignored (deprecated in the API reference).
    #[allow(dead_code)]
    delta_sharing_enabled: Option<bool>,
}

/// updateMetastore
pub async fn update_metastore(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<UpdateMetastore>,
) -> ApiResult<HttpResponse> {
    let id = path_param(&req, "id")?;
    if body.storage_root.is_some() {
        return Err(ApiError::invalid("storage_root", "cannot be changed after creation"));
    }
    let new_name = body.new_name.or(body.name).map(|n| Ident::parse("new_name", &n)).transpose()?;
    if let Some(scope) = &body.delta_sharing_scope {
        if !SCOPES.contains(&scope.as_str()) {
            return Err(ApiError::invalid(
                "delta_sharing_scope",
                format!("unknown value {scope:?}; expected one of {SCOPES:?}"),
            ));
        }
    }
    // int32 in the API reference, not negative: expiry arithmetic then always fits int64.
    if body.delta_sharing_recipient_token_lifetime_in_seconds.is_some_and(|s| !(0..=i64::from(i32::MAX)).contains(&s)) {
        return Err(ApiError::invalid(
            "delta_sharing_recipient_token_lifetime_in_seconds",
            "must be between 0 and 2147483647 (an int32)",
        ));
    }
    if let Some(v) = &body.privilege_model_version {
        let ok = v.split_once('.').is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok());
        if !ok {
            return Err(ApiError::invalid("privilege_model_version", format!("{v:?} is not of the form major.minor")));
        }
    }
    let row = state
        .store
        .write(move |tx| {
            let current = metastores::require(tx, &id)?;
            let node = crate::store::securables::with_grants(tx, current.node(), &caller.principals_json)?;
            // A metastore whose owner was deleted has no admin: an account admin may then change
            // its `owner`, and only that (so the metastore can get an admin again).
            let orphaned = crate::store::securables::is_orphaned(tx, &current.id, &current.owner)?;
            let owner_only = body.owner.is_some()
                && new_name.is_none()
                && body.storage_root_credential_id.is_none()
                && body.delta_sharing_scope.is_none()
                && body.delta_sharing_recipient_token_lifetime_in_seconds.is_none()
                && body.delta_sharing_organization_name.is_none()
                && body.privilege_model_version.is_none()
                && body.external_access_enabled.is_none();
            let action = if orphaned && owner_only { Action::ReownOrphanedMetastore } else { Action::UpdateMetastore };
            let ok = authz::require(&caller, &action, &[&node]).map_err(denied)?;
            // SDK: an empty owner hands the metastore to the System User.
            let owner = match body.owner.as_deref() {
                Some("") => Some(catalogs::SYSTEM_USER.to_string()),
                Some(o) => Some(owner_name(tx, o)?),
                None => None,
            };
            let scope = body.delta_sharing_scope.as_deref().unwrap_or(&current.delta_sharing_scope);
            let lifetime = body
                .delta_sharing_recipient_token_lifetime_in_seconds
                .or(current.delta_sharing_recipient_token_lifetime_in_seconds);
            if scope == "INTERNAL_AND_EXTERNAL" && lifetime.is_none() {
                return Err(ApiError::invalid(
                    "delta_sharing_recipient_token_lifetime_in_seconds",
                    "is required when delta_sharing_scope is INTERNAL_AND_EXTERNAL",
                ));
            }
            let changes = MetastoreChanges {
                name: new_name.map(Ident::into_string),
                owner,
                storage_root_credential_id: body.storage_root_credential_id,
                delta_sharing_scope: body.delta_sharing_scope,
                delta_sharing_recipient_token_lifetime_in_seconds: body
                    .delta_sharing_recipient_token_lifetime_in_seconds,
                delta_sharing_organization_name: body.delta_sharing_organization_name,
                privilege_model_version: body.privilege_model_version,
                external_access_enabled: body.external_access_enabled,
            };
            metastores::update(tx, &ok, &current.id, &changes, &caller.name, now_ms())
        })
        .await?;
    Ok(HttpResponse::Ok().json(MetastoreInfo::from(row)))
}

#[derive(Deserialize, Default)]
pub struct ForceOpts {
    #[serde(default, deserialize_with = "qbool::option")]
    pub force: Option<bool>,
}

/// `force` from the query, else from a JSON body (the legacy CLI sends it there).
pub fn force_flag(query: ForceOpts, body: &[u8]) -> ApiResult<bool> {
    #[derive(Deserialize, Default)]
    struct BodyOpts {
        force: Option<bool>,
    }
    if let Some(f) = query.force {
        return Ok(f);
    }
    let body: BodyOpts =
        if body.iter().all(u8::is_ascii_whitespace) { BodyOpts::default() } else { super::extract::parse_json(body)? };
    Ok(body.force.unwrap_or(false))
}

/// deleteMetastore
pub async fn delete_metastore(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Params(q): Params<ForceOpts>,
    RawBody(body): RawBody,
) -> ApiResult<HttpResponse> {
    let id = path_param(&req, "id")?;
    let force = force_flag(q, &body)?;
    let removed = state.store.write(move |tx| ops::metastores::delete(tx, &caller, &id, force)).await?;
    super::volumes::remove_after_commit(&state, removed).await;
    Ok(ok_empty())
}

/// getMetastoreSummary: any caller of a workspace with a metastore.
pub async fn metastore_summary(scoped: Scoped, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let id = scoped.metastore.id.clone();
    let row = state.store.read(move |conn| metastores::require(conn, &id)).await?;
    Ok(HttpResponse::Ok().json(MetastoreInfo::from(row)))
}

#[derive(Serialize)]
struct MetastoreAssignment {
    workspace_id: i64,
    metastore_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_catalog_name: Option<String>,
}

/// The caller's workspace assignment (SDK `metastores.current()`).
pub async fn current_assignment(Auth(caller): Auth) -> ApiResult<HttpResponse> {
    let Some(m) = &caller.metastore else {
        return Err(ApiError::no_metastore());
    };
    Ok(HttpResponse::Ok().json(MetastoreAssignment {
        workspace_id: caller.workspace_id,
        metastore_id: m.id.clone(),
        default_catalog_name: m.default_catalog_name.clone(),
    }))
}

fn workspace_id(req: &HttpRequest) -> ApiResult<i64> {
    let raw = path_param(req, "workspace_id")?;
    raw.parse::<i64>()
        .map_err(|_| ApiError::invalid("workspace_id", format!("{raw:?} is not a workspace id (an integer)")))
}

fn require_workspace(conn: &rusqlite::Connection, id: i64) -> ApiResult<()> {
    if principals::workspace_exists(conn, id)? {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::WorkspaceDoesNotExist, format!("Workspace {id} does not exist.")))
    }
}

#[derive(Deserialize)]
pub struct AssignmentBody {
    metastore_id: Option<String>,
    default_catalog_name: Option<String>,
}

/// createMetastoreAssignment: creates or overwrites.
pub async fn create_assignment(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<AssignmentBody>,
) -> ApiResult<HttpResponse> {
    let workspace_id = workspace_id(&req)?;
    let metastore_id =
        body.metastore_id.filter(|m| !m.is_empty()).ok_or_else(|| ApiError::invalid("metastore_id", "is required"))?;
    let default_catalog_name = body
        .default_catalog_name
        .map(|n| Ident::parse("default_catalog_name", &n).map(Ident::into_string))
        .transpose()?;
    state
        .store
        .write(move |tx| {
            let ok = authz::require(&caller, &Action::CreateAssignment, &[]).map_err(denied)?;
            require_workspace(tx, workspace_id)?;
            metastores::require(tx, &metastore_id)?;
            metastores::assign(tx, &ok, &AssignmentRow { workspace_id, metastore_id, default_catalog_name })
        })
        .await?;
    Ok(ok_empty())
}

/// updateMetastoreAssignment: only an existing assignment.
pub async fn update_assignment(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<AssignmentBody>,
) -> ApiResult<HttpResponse> {
    let workspace_id = workspace_id(&req)?;
    let default_catalog_name = body
        .default_catalog_name
        .map(|n| Ident::parse("default_catalog_name", &n).map(Ident::into_string))
        .transpose()?;
    let metastore_id = body.metastore_id.filter(|m| !m.is_empty());
    state
        .store
        .write(move |tx| {
            require_workspace(tx, workspace_id)?;
            let current = metastores::assignment(tx, workspace_id)?.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::ResourceDoesNotExist,
                    format!("Workspace {workspace_id} has no metastore assigned."),
                )
            })?;
            let changes_metastore = metastore_id.as_ref().is_some_and(|m| *m != current.metastore_id);
            let ok = authz::require(&caller, &Action::UpdateAssignment { changes_metastore }, &[]).map_err(denied)?;
            if let Some(m) = &metastore_id {
                metastores::require(tx, m)?;
            }
            let next = AssignmentRow {
                workspace_id,
                metastore_id: metastore_id.unwrap_or(current.metastore_id),
                default_catalog_name: default_catalog_name.or(current.default_catalog_name),
            };
            metastores::assign(tx, &ok, &next)
        })
        .await?;
    Ok(ok_empty())
}

#[derive(Deserialize, Default)]
pub struct UnassignParams {
    metastore_id: Option<String>,
}

/// deleteMetastoreAssignment: `metastore_id` (query or body) must match.
pub async fn delete_assignment(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Params(q): Params<UnassignParams>,
    RawBody(body): RawBody,
) -> ApiResult<HttpResponse> {
    let workspace_id = workspace_id(&req)?;
    let from_body: UnassignParams = if body.iter().all(u8::is_ascii_whitespace) {
        UnassignParams::default()
    } else {
        super::extract::parse_json(&body)?
    };
    let metastore_id = q
        .metastore_id
        .or(from_body.metastore_id)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| ApiError::invalid("metastore_id", "is required"))?;
    state
        .store
        .write(move |tx| {
            let ok = authz::require(&caller, &Action::DeleteAssignment, &[]).map_err(denied)?;
            require_workspace(tx, workspace_id)?;
            let current = metastores::assignment(tx, workspace_id)?.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::ResourceDoesNotExist,
                    format!("Workspace {workspace_id} has no metastore assigned."),
                )
            })?;
            if current.metastore_id != metastore_id {
                return Err(ApiError::invalid(
                    "metastore_id",
                    format!(
                        "workspace {workspace_id} is assigned to metastore {}, not {metastore_id}",
                        current.metastore_id
                    ),
                ));
            }
            metastores::unassign(tx, &ok, workspace_id)
        })
        .await?;
    Ok(ok_empty())
}
