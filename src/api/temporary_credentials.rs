//! Temporary table, path and volume credentials, at the hosted paths (`/api/2.0/unity-catalog/…`,
//! databricks-sdk) and the OSS paths (`/api/2.1/unity-catalog/…`, unitycatalog-client and
//! polars). Fields come from the JSON body and from the query string (polars sends
//! `?table_id=…&operation=…` with an empty body); the query wins.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::extract::{parse_json, AppState, Params, RawBody, Scoped};
use super::Res;
use crate::error::{ApiError, ApiResult};
use crate::ops::temporary_credentials::{
    self as ops, Grant, PathCredentialsSpec, Servable, TableCredentialsSpec, VolumeCredentialsSpec,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    for prefix in ["/2.0/unity-catalog", "/2.1/unity-catalog"] {
        cfg.service(Res::new(&format!("{prefix}/temporary-table-credentials")).post(table_credentials).build())
            .service(Res::new(&format!("{prefix}/temporary-path-credentials")).post(path_credentials).build())
            .service(Res::new(&format!("{prefix}/temporary-volume-credentials")).post(volume_credentials).build());
    }
}

#[derive(Deserialize, Default, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TableRequest {
    table_id: Option<String>,
    operation: Option<String>,
}

#[derive(Deserialize, Default, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VolumeRequest {
    volume_id: Option<String>,
    operation: Option<String>,
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct PathRequest {
    url: Option<String>,
    operation: Option<String>,
    dry_run: Option<bool>,
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PathQuery {
    url: Option<String>,
    operation: Option<String>,
    dry_run: Option<String>,
}

/// `TemporaryCredentials` (SDK `GenerateTemporaryTableCredentialResponse`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct TemporaryCredentials {
    #[serde(skip_serializing_if = "Option::is_none")]
    aws_temp_credentials: Option<AwsCredentials>,
    expiration_time: i64,
    url: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct AwsCredentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    access_point: String,
}

fn body_or_empty<T: serde::de::DeserializeOwned + Default>(raw: &[u8]) -> ApiResult<T> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        parse_json(raw)
    }
}

fn servable(state: &AppState) -> Servable {
    Servable { storage: state.local_storage(), s3_endpoint: state.s3_endpoint_url.is_some() }
}

/// Mints a credential for an `s3://` grant; a `file://` grant carries none (engines use the
/// path in place).
fn answer(state: &AppState, grant: Grant) -> HttpResponse {
    let url = grant.url.to_string();
    let (creds, expiration_time) = match (&state.s3_endpoint_url, url.starts_with("s3://")) {
        (Some(endpoint), true) => {
            let v = state.vended.mint(grant.url, grant.write);
            let creds = AwsCredentials {
                access_key_id: v.access_key_id.clone(),
                secret_access_key: v.secret_access_key.clone(),
                session_token: v.session_token.clone(),
                access_point: endpoint.clone(),
            };
            (Some(creds), v.expiration_time)
        }
        _ => (None, state.vended.expiration_from_now()),
    };
    HttpResponse::Ok().json(TemporaryCredentials { aws_temp_credentials: creds, expiration_time, url })
}

/// generateTemporaryTableCredentials
pub async fn table_credentials(
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(q): Params<TableRequest>,
    RawBody(raw): RawBody,
) -> ApiResult<HttpResponse> {
    let body: TableRequest = body_or_empty(&raw)?;
    let spec = TableCredentialsSpec::parse(q.table_id.or(body.table_id), q.operation.or(body.operation))?;
    let Scoped { caller, metastore } = scoped;
    let servable = servable(&state);
    let grant = state.store.read(move |conn| ops::for_table(conn, &caller, &metastore.id, &spec, &servable)).await?;
    Ok(answer(&state, grant))
}

/// generateTemporaryVolumeCredentials
pub async fn volume_credentials(
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(q): Params<VolumeRequest>,
    RawBody(raw): RawBody,
) -> ApiResult<HttpResponse> {
    let body: VolumeRequest = body_or_empty(&raw)?;
    let spec = VolumeCredentialsSpec::parse(q.volume_id.or(body.volume_id), q.operation.or(body.operation))?;
    let Scoped { caller, metastore } = scoped;
    let servable = servable(&state);
    let grant = state.store.read(move |conn| ops::for_volume(conn, &caller, &metastore.id, &spec, &servable)).await?;
    Ok(answer(&state, grant))
}

/// generateTemporaryPathCredentials; with `dry_run` every check runs and nothing is vended.
pub async fn path_credentials(
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(q): Params<PathQuery>,
    RawBody(raw): RawBody,
) -> ApiResult<HttpResponse> {
    let body: PathRequest = body_or_empty(&raw)?;
    let dry_run = match q.dry_run.as_deref() {
        Some("true") => true,
        Some("false") => false,
        Some(other) => return Err(ApiError::invalid("dry_run", format!("'{other}' is not true or false"))),
        None => body.dry_run.unwrap_or(false),
    };
    let raw_url = q.url.or(body.url);
    if let Some(u) = &raw_url {
        state.file_roots.check_raw("url", u)?;
    }
    let spec = PathCredentialsSpec::parse(raw_url, q.operation.or(body.operation), dry_run)?;
    let Scoped { caller, metastore } = scoped;
    let servable = servable(&state);
    let grant = state.store.read(move |conn| ops::for_path(conn, &caller, &metastore.id, &spec, &servable)).await?;
    if dry_run {
        let expiration_time = state.vended.expiration_from_now();
        return Ok(HttpResponse::Ok().json(TemporaryCredentials {
            aws_temp_credentials: None,
            expiration_time,
            url: grant.url.to_string(),
        }));
    }
    Ok(answer(&state, grant))
}
