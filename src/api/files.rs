//! listFiles: the real local directory behind a `file://` or mapped URL.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::extract::{qint, AppState, Params, Scoped};
use super::{Res, UC};
use crate::domain::names::Ident;
use crate::domain::storage_url::StorageUrl;
use crate::error::{ApiError, ApiResult};
use crate::files;
use crate::ops;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(Res::new(&format!("{UC}/files")).get(list_files).build());
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListFilesParams {
    url: Option<String>,
    credential_name: Option<String>,
    #[serde(default, deserialize_with = "qint::option")]
    max_results: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct FileInfo {
    path: String,
    name: String,
    size: i64,
    mtime: i64,
    is_dir: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ListFilesResponse {
    files: Vec<FileInfo>,
}

/// listFiles
pub async fn list_files(
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<ListFilesParams>,
) -> ApiResult<HttpResponse> {
    // 1. Input: a storage URL that never leaves the directory it maps to.
    let raw = p.url.filter(|u| !u.is_empty()).ok_or_else(|| ApiError::invalid("url", "is required"))?;
    let lower = raw.to_ascii_lowercase();
    if lower.contains("%2f") || lower.contains("%5c") || raw.contains('\\') {
        return Err(ApiError::invalid("url", "may not contain an encoded '/' or a '\\' inside a path segment"));
    }
    let url = StorageUrl::parse(&raw).map_err(|e| ApiError::invalid("url", e))?;
    state.file_roots.check("url", &url)?;
    let credential_name = p.credential_name.map(|n| Ident::parse("credential_name", &n)).transpose()?;
    let limit = match p.max_results {
        None | Some(0) => None,
        Some(n) if n < 0 => return Err(ApiError::invalid("max_results", "must not be negative")),
        Some(n) => Some(n as usize),
    };

    // 2. Authorization: metastore admin, or READ_FILES on the covering location / named credential.
    let Scoped { caller, metastore } = scoped;
    let lookup = url.clone();
    state
        .store
        .read(move |conn| {
            ops::external_locations::authorize_list_files(conn, &caller, &metastore.id, &lookup, credential_name)
        })
        .await?;

    // 3. The local path; an unmapped cloud URL lists nothing.
    let Some(local) = files::local_path(&url, &state.storage_map, &state.file_roots) else {
        return Ok(HttpResponse::Ok().json(ListFilesResponse { files: Vec::new() }));
    };
    let (single_file, entries) =
        web::block(move || files::list(&local)).await.map_err(ApiError::internal)?.map_err(|e| e.to_api(&raw))?;

    // 4. Result.
    let base = raw.trim_end_matches('/').to_string();
    let files = entries
        .into_iter()
        .take(limit.unwrap_or(usize::MAX))
        .map(|e| FileInfo {
            path: if single_file { base.clone() } else { format!("{base}/{}", e.name) },
            name: e.name,
            size: e.size,
            mtime: e.mtime,
            is_dir: e.is_dir,
        })
        .collect();
    Ok(HttpResponse::Ok().json(ListFilesResponse { files }))
}
