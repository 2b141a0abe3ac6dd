//! Storage credentials and `validate-storage-credentials` (SDK).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::{Map, Value};

use super::catalogs::ListParams;
use super::extract::{name_param, AppState, Body, Params, RawBody, Scoped};
use super::listing::{Listing, PageArgs};
use super::metastores::{force_flag, ForceOpts};
use super::{ok_empty, Res, UC};
use crate::error::{ApiError, ApiResult};
use crate::ops;
use crate::ops::storage_credentials::{
    kind, CreateStorageCredential, CredentialSpec, CredentialUpdate, Kind, UpdateStorageCredential, ValidateSpec,
    ValidateStorageCredential,
};
use crate::store::credentials::CredentialRow;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        Res::new(&format!("{UC}/storage-credentials"))
            .get(list_storage_credentials)
            .post(create_storage_credential)
            .build(),
    )
    .service(
        Res::new(&format!("{UC}/storage-credentials/{{name}}"))
            .get(get_storage_credential)
            .patch(update_storage_credential)
            .delete(delete_storage_credential)
            .build(),
    )
    .service(Res::new(&format!("{UC}/validate-storage-credentials")).post(validate_storage_credential).build());
}

/// The stored details as returned: without secrets.
fn public_details(kind: &Kind, details: &str) -> Value {
    let mut map: Map<String, Value> = serde_json::from_str(details).unwrap_or_default();
    for s in kind.secrets {
        map.remove(*s);
    }
    Value::Object(map)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StorageCredentialInfo {
    id: String,
    name: String,
    full_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    owner: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    aws_iam_role: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    azure_service_principal: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gcp_service_account_key: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    azure_managed_identity: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    databricks_gcp_service_account: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cloudflare_api_token: Option<Value>,
    read_only: bool,
    isolation_mode: String,
    used_for_managed_storage: bool,
    securable_type: &'static str,
    metastore_id: String,
    created_at: i64,
    created_by: String,
    updated_at: i64,
    updated_by: String,
}

impl From<CredentialRow> for StorageCredentialInfo {
    fn from(c: CredentialRow) -> Self {
        let k = kind(&c.kind);
        let details = Some(public_details(k, &c.details));
        let pick = |name: &str| if k.name == name { details.clone() } else { None };
        StorageCredentialInfo {
            aws_iam_role: pick("aws_iam_role"),
            azure_service_principal: pick("azure_service_principal"),
            gcp_service_account_key: pick("gcp_service_account_key"),
            azure_managed_identity: pick("azure_managed_identity"),
            databricks_gcp_service_account: pick("databricks_gcp_service_account"),
            cloudflare_api_token: pick("cloudflare_api_token"),
            id: c.id,
            full_name: c.name.clone(),
            name: c.name,
            comment: c.comment,
            owner: c.owner,
            read_only: c.read_only,
            isolation_mode: c.isolation_mode,
            used_for_managed_storage: false,
            securable_type: "STORAGE_CREDENTIAL",
            metastore_id: c.metastore_id,
            created_at: c.created_at,
            created_by: c.created_by,
            updated_at: c.updated_at,
            updated_by: c.updated_by,
        }
    }
}

/// createStorageCredential
pub async fn create_storage_credential(
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(req): Body<CreateStorageCredential>,
) -> ApiResult<HttpResponse> {
    let spec = CredentialSpec::try_from(req)?;
    let Scoped { caller, metastore } = scoped;
    let row = state.store.write(move |tx| ops::storage_credentials::create(tx, &caller, &metastore.id, spec)).await?;
    Ok(HttpResponse::Ok().json(StorageCredentialInfo::from(row)))
}

/// getStorageCredential
pub async fn get_storage_credential(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let Scoped { caller, metastore } = scoped;
    let row = state.store.read(move |conn| ops::storage_credentials::get(conn, &caller, &metastore.id, &name)).await?;
    Ok(HttpResponse::Ok().json(StorageCredentialInfo::from(row)))
}

/// listStorageCredentials: all for metastore and account admins, else those the caller may get.
pub async fn list_storage_credentials(
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<ListParams>,
) -> ApiResult<HttpResponse> {
    let Scoped { caller, metastore } = scoped;
    let args = PageArgs::new(
        &state.store,
        format!("storage-credentials:{}", metastore.id),
        p.max_results,
        p.page_token.as_deref(),
        None,
    )?;
    let (after, limit) = (args.after.clone(), args.limit);
    let (items, more_after) = state
        .store
        .read(move |conn| ops::storage_credentials::list(conn, &caller, &metastore.id, &after, limit))
        .await?;
    let items: Vec<StorageCredentialInfo> = items.into_iter().map(StorageCredentialInfo::from).collect();
    let next_page_token = args.next_token(&state.store, more_after);
    Ok(HttpResponse::Ok().json(Listing { key: "storage_credentials", items, next_page_token }))
}

/// updateStorageCredential
pub async fn update_storage_credential(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(body): Body<UpdateStorageCredential>,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let update = CredentialUpdate::try_from(body)?;
    let Scoped { caller, metastore } = scoped;
    let row = state
        .store
        .write(move |tx| ops::storage_credentials::update(tx, &caller, &metastore.id, &name, update))
        .await?;
    Ok(HttpResponse::Ok().json(StorageCredentialInfo::from(row)))
}

/// deleteStorageCredential: without `force`, only a credential no location or table depends on.
pub async fn delete_storage_credential(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(q): Params<ForceOpts>,
    RawBody(body): RawBody,
) -> ApiResult<HttpResponse> {
    let name = name_param(&req)?;
    let force = force_flag(q, &body)?;
    let Scoped { caller, metastore } = scoped;
    state.store.write(move |tx| ops::storage_credentials::delete(tx, &caller, &metastore.id, &name, force)).await?;
    Ok(ok_empty())
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ValidationResult {
    operation: &'static str,
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ValidateResponse {
    #[serde(rename = "isDir", skip_serializing_if = "Option::is_none")]
    is_dir: Option<bool>,
    results: Vec<ValidationResult>,
}

/// `POST /validate-storage-credentials` (SDK): per-check results without contacting any cloud.
/// The credential (named, or given inline) must be well-formed; a `file://` or mapped URL is
/// checked against the real directory; other URLs pass the checks that need no cloud and skip
/// the rest.
pub async fn validate_storage_credential(
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(req): Body<ValidateStorageCredential>,
) -> ApiResult<HttpResponse> {
    let spec = ValidateSpec::try_from(req)?;
    if let Some(u) = &spec.url {
        state.file_roots.check("url", u)?;
    }
    let read_only = spec.read_only;
    let Scoped { caller, metastore } = scoped;
    let map = state.storage_map.clone();
    let roots = state.file_roots.clone();
    let url =
        state.store.read(move |conn| ops::storage_credentials::validate(conn, &caller, &metastore.id, spec)).await?;
    let result = |operation, result, message: Option<String>| ValidationResult { operation, result, message };
    let mut results = Vec::new();
    let mut is_dir = None;
    let probed = match url.as_ref().and_then(|u| crate::files::local_path(u, &map, &roots)) {
        Some(local) => Some(web::block(move || crate::files::probe(&local)).await.map_err(ApiError::internal)?),
        None => None,
    };
    match url.as_ref().map(|u| (u, probed)) {
        // No URL: the credential itself was checked (well-formed, and it exists).
        None => results.push(result("READ", "PASS", None)),
        Some((_, Some(Ok(dir)))) => {
            is_dir = Some(dir);
            for op in ["PATH_EXISTS", "LIST", "READ"] {
                results.push(result(op, "PASS", None));
            }
            for op in ["WRITE", "DELETE"] {
                results.push(match read_only {
                    true => result(op, "SKIP", Some("read_only: not tested".to_string())),
                    false => result(op, "PASS", None),
                });
            }
        }
        Some((u, Some(Err(crate::files::ListError::NotFound)))) => {
            results.push(result("PATH_EXISTS", "FAIL", Some(format!("{u} does not exist in local storage"))));
            for op in ["LIST", "READ", "WRITE", "DELETE"] {
                results.push(result(op, "SKIP", Some("the path does not exist".to_string())));
            }
        }
        Some((u, Some(Err(e)))) => return Err(e.to_api(u.as_str())),
        Some((u, None)) => {
            for op in ["PATH_EXISTS", "LIST", "READ", "WRITE", "DELETE"] {
                let why = format!("{u} is not mapped to local storage; the emulator contacts no cloud");
                results.push(result(op, "SKIP", Some(why)));
            }
        }
    }
    Ok(HttpResponse::Ok().json(ValidateResponse { is_dir, results }))
}
