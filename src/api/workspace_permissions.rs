//! Workspace object permissions under `/api/2.0/permissions/` (the Databricks Permissions API:
//! `ObjectPermissions`, `AccessControlRequest`/`Response`, `Permission`,
//! `PermissionsDescription`): the token and password ACLs and SQL warehouses, as the SDK's
//! `w.permissions` calls them.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::extract::{path_param, AppState, Auth, Body};
use super::Res;
use crate::authz::{Caller, PrincipalKind, ACCOUNT_USERS};
use crate::domain::workspace_object::{ObjectRef, WorkspaceObject};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ops;
use crate::ops::workspace_acls::{validate, ObjectAcl, PermissionsRequest, ADMINS};

/// The workspace permissions routes, inside the `/api` scope.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        Res::new("/2.0/permissions/{object_type}/{object_id}")
            .get(get_permissions)
            .put(set_permissions)
            .patch(update_permissions)
            .build(),
    )
    .service(
        Res::new("/2.0/permissions/{object_type}/{object_id}/permissionLevels").get(get_permission_levels).build(),
    );
}

/// The object a path names; 404 for types the emulator does not serve.
fn object(req: &HttpRequest) -> ApiResult<WorkspaceObject> {
    let object_type = path_param(req, "object_type")?;
    let object_id = path_param(req, "object_id")?;
    match WorkspaceObject::parse(&object_type, &object_id) {
        ObjectRef::Object(o) => Ok(o),
        ObjectRef::Unsupported => Err(ApiError::new(
            ErrorCode::ResourceDoesNotExist,
            format!("Permissions of '{object_type}/{object_id}' are not served by this emulator."),
        )),
    }
}

// --- wire shapes --------------------------------------------------------------------------------

/// `Permission`
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Permission {
    permission_level: String,
    inherited: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    inherited_from_object: Vec<String>,
}

/// `AccessControlResponse`
#[derive(Serialize, Default, utoipa::ToSchema)]
pub(crate) struct AccessControlResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_principal_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    all_permissions: Vec<Permission>,
}

/// `ObjectPermissions`
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ObjectPermissions {
    object_id: String,
    object_type: String,
    access_control_list: Vec<AccessControlResponse>,
}

/// The object's list as the SDK reads it: one entry per principal, admins' `CAN_MANAGE` shown
/// as inherited from the `admins` group. Entries of principals deleted since are left out.
fn render(object: &WorkspaceObject, acl: ObjectAcl) -> ObjectPermissions {
    let ObjectAcl { entries, mut principals } = acl;
    let mut by_principal: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in &entries {
        by_principal.entry(e.principal.as_str()).or_default().push(e.level.as_str());
    }
    by_principal.entry(ADMINS).or_default();
    let mut acl = Vec::new();
    for (name, levels) in by_principal {
        let mut all_permissions: Vec<Permission> = levels
            .iter()
            .map(|l| Permission { permission_level: l.to_string(), inherited: false, inherited_from_object: vec![] })
            .collect();
        let mut entry = AccessControlResponse::default();
        if name == ACCOUNT_USERS {
            entry.group_name = Some(name.to_string());
        } else {
            let Some(p) = principals.remove(name) else {
                continue;
            };
            match p.kind {
                PrincipalKind::User => {
                    entry.user_name = Some(p.name);
                    entry.display_name = Some(p.display_name);
                }
                PrincipalKind::ServicePrincipal => {
                    entry.service_principal_name = Some(p.name);
                    entry.display_name = Some(p.display_name);
                }
                PrincipalKind::Group => entry.group_name = Some(p.name),
            }
        }
        if name == ADMINS {
            all_permissions.push(Permission {
                permission_level: "CAN_MANAGE".to_string(),
                inherited: true,
                inherited_from_object: vec![object.root().to_string()],
            });
        }
        entry.all_permissions = all_permissions;
        acl.push(entry);
    }
    ObjectPermissions {
        object_id: object.wire_id(),
        object_type: object.wire_type().to_string(),
        access_control_list: acl,
    }
}

// --- handlers -------------------------------------------------------------------------------

/// `GET /api/2.0/permissions/{object_type}/{object_id}`
pub async fn get_permissions(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let object = object(&req)?;
    let wanted = object.clone();
    let acl = state.store.read(move |conn| ops::workspace_acls::get(conn, &caller, &wanted)).await?;
    Ok(HttpResponse::Ok().json(render(&object, acl)))
}

/// Shared by PUT and PATCH: validate, authorize, check principals, write, render; all in one
/// transaction, so a rejected request changes nothing.
async fn change(
    req: HttpRequest,
    caller: Arc<Caller>,
    state: web::Data<AppState>,
    body: PermissionsRequest,
    replace: bool,
) -> ApiResult<HttpResponse> {
    let object = object(&req)?;
    let requested = validate(&object, body)?;
    let target = object.clone();
    let acl =
        state.store.write(move |tx| ops::workspace_acls::change(tx, &caller, &target, &requested, replace)).await?;
    Ok(HttpResponse::Ok().json(render(&object, acl)))
}

/// `PUT /api/2.0/permissions/{object_type}/{object_id}`: replaces the list.
pub async fn set_permissions(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<PermissionsRequest>,
) -> ApiResult<HttpResponse> {
    change(req, caller, state, body, true).await
}

/// `PATCH /api/2.0/permissions/{object_type}/{object_id}`: adds to the list.
pub async fn update_permissions(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<PermissionsRequest>,
) -> ApiResult<HttpResponse> {
    change(req, caller, state, body, false).await
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PermissionsDescription {
    permission_level: &'static str,
    description: &'static str,
}

/// `GET /api/2.0/permissions/{object_type}/{object_id}/permissionLevels`: any caller of the
/// workspace.
pub async fn get_permission_levels(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let object = object(&req)?;
    let levels: Vec<PermissionsDescription> = object
        .levels()
        .iter()
        .map(|(permission_level, description)| PermissionsDescription { permission_level, description })
        .collect();
    state.store.read(move |conn| ops::workspace_acls::require_object(conn, &caller, &object)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "permission_levels": levels })))
}
