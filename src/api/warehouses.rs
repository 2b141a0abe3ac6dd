//! Emulated SQL warehouses, read-only: workspace admins see every
//! warehouse of their workspace, anyone else those they hold a permission level on.

use crate::ops::warehouses::{address, jdbc_url};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::extract::{path_param, AppState, Auth};
use super::{denied, Res};
use crate::authz::{self, AclEntry, Action};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::warehouses::{self, WarehouseRow};
use crate::store::workspace_acls;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(Res::new("/2.0/sql/warehouses").get(list_warehouses).build())
        .service(Res::new("/2.0/sql/warehouses/{id}").get(get_warehouse).build());
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct OdbcParams {
    hostname: String,
    port: u16,
    path: String,
    protocol: String,
}

/// `EndpointInfo` / `GetWarehouseResponse` in the SDK's shape.
#[derive(Serialize, utoipa::ToSchema)]
pub struct WarehouseInfo {
    id: String,
    name: String,
    state: &'static str,
    cluster_size: &'static str,
    min_num_clusters: u32,
    max_num_clusters: u32,
    num_clusters: u32,
    auto_stop_mins: u32,
    warehouse_type: &'static str,
    enable_serverless_compute: bool,
    creator_name: String,
    odbc_params: OdbcParams,
    jdbc_url: String,
}

fn info(w: WarehouseRow, public_url: &str) -> WarehouseInfo {
    let (scheme, host, port) = address(public_url);
    WarehouseInfo {
        jdbc_url: jdbc_url(public_url, &w.id),
        odbc_params: OdbcParams {
            hostname: host,
            port,
            path: format!("/sql/1.0/warehouses/{}", w.id),
            protocol: scheme,
        },
        id: w.id,
        name: w.name,
        state: "RUNNING",
        cluster_size: "2X-Small",
        min_num_clusters: 1,
        max_num_clusters: 1,
        num_clusters: 1,
        auto_stop_mins: 10,
        warehouse_type: "PRO",
        enable_serverless_compute: false,
        creator_name: w.creator_name,
    }
}

/// `GET /api/2.0/sql/warehouses`: the warehouses the caller may see; no paging.
pub async fn list_warehouses(Auth(caller): Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let public_url = state.public_url.clone();
    let items = state
        .store
        .read(move |conn| {
            let all = warehouses::list(conn, caller.workspace_id)?;
            // One query for every warehouse's list, not one per warehouse.
            let entries = workspace_acls::entries_of_kind(conn, caller.workspace_id, "warehouses")?;
            Ok(all
                .into_iter()
                .filter(|w| {
                    let acl: Vec<AclEntry> =
                        entries.iter().filter(|(id, _)| *id == w.id).map(|(_, e)| e.clone()).collect();
                    authz::visible(&caller, &Action::ReadObjectAcl { acl }, &[])
                })
                .map(|w| info(w, &public_url))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "warehouses": items })))
}

/// `GET /api/2.0/sql/warehouses/{id}`: 404 for unknown, deleted or another workspace's; 403 for one
/// the caller may not see.
pub async fn get_warehouse(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let id = path_param(&req, "id")?;
    let public_url = state.public_url.clone();
    let out = state
        .store
        .read(move |conn| {
            let w = warehouses::get(conn, caller.workspace_id, &id)?.ok_or_else(|| {
                ApiError::new(ErrorCode::ResourceDoesNotExist, format!("Warehouse {id} does not exist."))
            })?;
            let object = crate::domain::workspace_object::WorkspaceObject::Warehouse(w.id.clone());
            let acl = workspace_acls::entries(conn, caller.workspace_id, &object)?;
            authz::require(&caller, &Action::ReadObjectAcl { acl }, &[]).map_err(denied)?;
            Ok(info(w, &public_url))
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}
