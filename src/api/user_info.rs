//! The User Info API.

use actix_web::HttpResponse;
use serde::Deserialize;

use super::extract::{qbool, Auth, Params};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ForAccountLevel {
    #[serde(default, deserialize_with = "qbool::option")]
    #[allow(dead_code)]
    for_account_level: Option<bool>,
}

/// getMyInfo: whether the caller is a metastore admin of the workspace's metastore.
pub async fn my_info(Auth(caller): Auth, Params(_): Params<ForAccountLevel>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "is_metastore_admin": caller.is_metastore_admin() }))
}

/// getMyGroups: every group of the caller, transitively, sorted, without `account users`.
pub async fn my_groups(Auth(caller): Auth, Params(_): Params<ForAccountLevel>) -> HttpResponse {
    let groups = caller.groups().to_vec();
    HttpResponse::Ok().json(serde_json::json!({ "group_name": groups, "group_names": groups }))
}
