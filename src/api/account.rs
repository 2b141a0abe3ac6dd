//! Account APIs under `/api/2.0/accounts/<A>/` (the middleware has checked `<A>`): workspaces
//! (read-only) and workspace assignments (`a.workspaces`, `a.workspace_assignment`), and the
//! workspace's permission migration (`w.permission_migration`).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::extract::{path_param, AppState, Auth, Body};
use super::{ok_empty, Res};
use crate::error::{ApiError, ApiResult};
use crate::ops::account as ops;
use crate::store::account::{WorkspacePermission, WorkspaceRow};
use crate::store::principals::PrincipalRow;

/// The account routes of this module, inside the `/api` scope.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let acc = |p: &str| format!("/2.0/accounts/{{account_id}}{p}");
    cfg.service(Res::new(&acc("/workspaces")).get(list_workspaces).build())
        .service(Res::new(&acc("/workspaces/{workspace_id}")).get(get_workspace).build())
        .service(Res::new(&acc("/workspaces/{workspace_id}/permissionassignments")).get(list_assignments).build())
        .service(
            Res::new(&acc("/workspaces/{workspace_id}/permissionassignments/permissions"))
                .get(permission_levels)
                .build(),
        )
        .service(
            Res::new(&acc("/workspaces/{workspace_id}/permissionassignments/principals/{principal_id}"))
                .put(update_assignment)
                .delete(delete_assignment)
                .build(),
        )
        .service(Res::new("/2.0/permissionmigration").post(migrate_permissions).build());
}

/// A decimal int64 path parameter; 400 naming it otherwise.
pub fn int_param(req: &HttpRequest, name: &str) -> ApiResult<i64> {
    let raw = path_param(req, name)?;
    raw.parse::<i64>().map_err(|_| ApiError::invalid(name, format!("expected a decimal integer, got {raw:?}")))
}

/// `Workspace` of `a.workspaces` (the fields the emulator knows).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct WorkspaceInfo {
    workspace_id: i64,
    workspace_name: String,
    account_id: String,
    workspace_status: &'static str,
}

fn workspace_info(w: WorkspaceRow, account_id: &str) -> WorkspaceInfo {
    WorkspaceInfo {
        workspace_name: w.name.unwrap_or_else(|| w.workspace_id.to_string()),
        workspace_id: w.workspace_id,
        account_id: account_id.to_string(),
        workspace_status: "RUNNING",
    }
}

/// `GET /accounts/<A>/workspaces`: a JSON array, by id.
async fn list_workspaces(Auth(caller): Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let rows = state.store.read(move |conn| ops::list_workspaces(conn, &caller)).await?;
    let out: Vec<WorkspaceInfo> = rows.into_iter().map(|w| workspace_info(w, &state.account_id)).collect();
    Ok(HttpResponse::Ok().json(out))
}

async fn get_workspace(req: HttpRequest, Auth(caller): Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let ws = int_param(&req, "workspace_id")?;
    let row = state.store.read(move |conn| ops::get_workspace(conn, &caller, ws)).await?;
    Ok(HttpResponse::Ok().json(workspace_info(row, &state.account_id)))
}

/// `PrincipalOutput`
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PrincipalOutput {
    principal_id: i64,
    display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_principal_name: Option<String>,
}

/// `PermissionAssignment`
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PermissionAssignment {
    principal: PrincipalOutput,
    permissions: Vec<&'static str>,
}

fn assignment(p: PrincipalRow, perm: Option<WorkspacePermission>) -> PermissionAssignment {
    use crate::authz::PrincipalKind::*;
    let name = Some(p.name);
    let (user_name, group_name, service_principal_name) = match p.kind {
        User => (name, None, None),
        Group => (None, name, None),
        ServicePrincipal => (None, None, name),
    };
    PermissionAssignment {
        principal: PrincipalOutput {
            principal_id: p.id,
            display_name: p.display_name,
            user_name,
            group_name,
            service_principal_name,
        },
        permissions: perm.into_iter().map(WorkspacePermission::as_str).collect(),
    }
}

async fn list_assignments(req: HttpRequest, Auth(caller): Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let ws = int_param(&req, "workspace_id")?;
    let rows = state.store.read(move |conn| ops::list_assignments(conn, &caller, ws)).await?;
    let list: Vec<PermissionAssignment> = rows.into_iter().map(|(p, perm)| assignment(p, Some(perm))).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "permission_assignments": list })))
}

async fn permission_levels(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let ws = int_param(&req, "workspace_id")?;
    state.store.read(move |conn| ops::check_workspace(conn, &caller, ws)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"permissions": [
        {"permission_level": "USER", "description": "Can use the workspace."},
        {"permission_level": "ADMIN", "description": "Can use the workspace and administer it (workspace admin)."},
    ]})))
}

/// `UpdateWorkspaceAssignments`: `permissions` is kept as JSON to name the field when it is not
/// an array of strings.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct UpdateAssignment {
    #[schema(value_type = Option<Vec<String>>)]
    permissions: Option<Json>,
}

/// The permission an update asks for: ADMIN if listed, else USER if listed, else none.
fn requested_permission(raw: Option<Json>) -> ApiResult<Option<WorkspacePermission>> {
    let items = match raw {
        None | Some(Json::Null) => return Ok(None),
        Some(Json::Array(items)) => items,
        Some(_) => return Err(ApiError::invalid("permissions", "must be an array of strings")),
    };
    let mut strings = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Json::String(s) => strings.push(s),
            _ => return Err(ApiError::invalid("permissions", "must be an array of strings")),
        }
    }
    Ok(if strings.iter().any(|s| s == "ADMIN") {
        Some(WorkspacePermission::Admin)
    } else if strings.iter().any(|s| s == "USER") {
        Some(WorkspacePermission::User)
    } else {
        None
    })
}

async fn update_assignment(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<UpdateAssignment>,
) -> ApiResult<HttpResponse> {
    let ws = int_param(&req, "workspace_id")?;
    let pid = int_param(&req, "principal_id")?;
    let perm = requested_permission(body.permissions)?;
    let (p, perm) = state.store.write(move |tx| ops::update_assignment(tx, &caller, ws, pid, perm)).await?;
    Ok(HttpResponse::Ok().json(assignment(p, perm)))
}

async fn delete_assignment(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let ws = int_param(&req, "workspace_id")?;
    let pid = int_param(&req, "principal_id")?;
    state.store.write(move |tx| ops::delete_assignment(tx, &caller, ws, pid)).await?;
    Ok(ok_empty())
}

/// `PermissionMigrationRequest`
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct MigrationRequest {
    workspace_id: Option<i64>,
    from_workspace_group_name: Option<String>,
    to_account_group_name: Option<String>,
    size: Option<i64>,
}

async fn migrate_permissions(
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<MigrationRequest>,
) -> ApiResult<HttpResponse> {
    let ws = body.workspace_id.ok_or_else(|| ApiError::invalid("workspace_id", "is required"))?;
    let from = body
        .from_workspace_group_name
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::invalid("from_workspace_group_name", "is required"))?;
    let to = body
        .to_account_group_name
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::invalid("to_account_group_name", "is required"))?;
    let size = body.size;
    state.store.read(move |conn| ops::migrate_permissions(conn, &caller, ws, &from, &to, size)).await?;
    Ok(ok_empty())
}
