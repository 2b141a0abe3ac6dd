//! Emulated SQL warehouses, read-only: workspace admins see every
//! warehouse of their workspace, anyone else those they hold a permission level on.

use crate::ops::warehouses::{address, jdbc_url};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::extract::{path_param, AppState, Auth};
use super::Res;
use crate::error::ApiResult;
use crate::ops;
use crate::store::warehouses::WarehouseRow;

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
#[schema(as = EndpointInfo)]
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
    let rows = state.store.read(move |conn| ops::warehouses::list(conn, &caller)).await?;
    let items: Vec<_> = rows.into_iter().map(|w| info(w, &public_url)).collect();
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
    let w = state.store.read(move |conn| ops::warehouses::get(conn, &caller, &id)).await?;
    let out = info(w, &public_url);
    Ok(HttpResponse::Ok().json(out))
}
