//! `/api/2.0/partner-connect`: the registry, connections (connect,
//! sign-in, test, delete, read), account hooks and connectors. The partner is never called while
//! a transaction or lock is held.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::extract::{parse_json, path_param, AppState, Auth, Body, Params, RawBody};
use super::{ok_empty, Res};
use crate::authz::{self, Caller};
use crate::domain::now_ms;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::partner_connect::client::Operation;
use crate::partner_connect::config::{canonical_cloud, RegistrationWire};
use crate::partner_connect::registration_row;
use crate::partner_connect::requests::{
    self, default_region, parse_connect, partner_not_found, ConnectBody, Requested,
};
use crate::partner_connect::validate::ConnectKind;
use crate::partner_connect::{self as pc, Address, ConnectionInfo, Partner, PartnerInfo, Profile, UserInfo};
use crate::store::partner_connect::{self as pc_store};

pub fn routes(cfg: &mut web::ServiceConfig) {
    let p = |s: &str| format!("/2.0/partner-connect{s}");
    cfg.service(Res::new(&p("/partners")).get(list_partners).post(register_partner).build())
        .service(Res::new(&p("/partners/{partner_id}")).get(get_partner).delete(delete_partner).build())
        .service(Res::new(&p("/partners/{partner_id}/delete-account")).post(delete_account).build())
        .service(Res::new(&p("/partners/{partner_id}/expire-account")).post(expire_account).build())
        .service(Res::new(&p("/partners/{partner_id}/connectors")).get(connectors).build())
        .service(Res::new(&p("/connections")).get(list_connections).post(connect).build())
        .service(Res::new(&p("/connections/{id}")).get(get_connection).delete(delete_connection).build())
        .service(Res::new(&p("/connections/{id}/test")).post(test_connection).build());
}

fn uuid_param(req: &HttpRequest, name: &str) -> ApiResult<String> {
    let raw = path_param(req, name)?;
    uuid::Uuid::parse_str(&raw)
        .map(|u| u.to_string())
        .map_err(|_| ApiError::invalid(name, format!("{raw:?} is not a UUID")))
}

async fn load_partner(state: &AppState, id: String) -> ApiResult<Partner> {
    let row =
        state.store.read(move |conn| pc_store::partner_get(conn, &id)?.ok_or_else(|| partner_not_found(&id))).await?;
    Partner::load(row)
}

/// `POST <pc>/partners`: 400 (every violation) → 403 (account admins only) → 409 (name).
pub async fn register_partner(
    Auth(caller): Auth,
    state: web::Data<AppState>,
    RawBody(raw): RawBody,
) -> ApiResult<HttpResponse> {
    let doc: RegistrationWire = parse_json(&raw)?;
    let row = registration_row(doc, &caller.name, now_ms())
        .map_err(|v| ApiError::new(ErrorCode::InvalidParameterValue, v.join("; ")))?;
    let stored = row.clone();
    state.store.write(move |tx| requests::register(tx, &caller, &stored)).await?;
    Ok(HttpResponse::Ok().json(Partner::load(row)?.info()))
}

/// `listPartners`' answer.
#[derive(Serialize)]
struct PartnerList<'a> {
    partners: Vec<PartnerInfo<'a>>,
}

pub async fn list_partners(_auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let rows = state.store.read(pc_store::partners).await?;
    let partners = rows.into_iter().map(Partner::load).collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(PartnerList { partners: partners.iter().map(Partner::info).collect() }))
}

pub async fn get_partner(req: HttpRequest, _auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let id = uuid_param(&req, "partner_id")?;
    Ok(HttpResponse::Ok().json(load_partner(&state, id).await?.info()))
}

/// `DELETE <pc>/partners/:id`: account admins; refused while connections remain.
pub async fn delete_partner(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let id = uuid_param(&req, "partner_id")?;
    state.store.write(move |tx| requests::delete_partner(tx, &caller, &id)).await?;
    Ok(ok_empty())
}

/// `POST <pc>/connections`: a new connection (workspace admins) or a sign-in (any user).
pub async fn connect(
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<ConnectBody>,
) -> ApiResult<HttpResponse> {
    let req = parse_connect(body)?;
    let partner = load_partner(&state, req.partner_id.clone()).await?;
    let (pid, ws) = (partner.row.id.clone(), caller.workspace_id);
    let existing = state.store.read(move |conn| pc_store::connection_for(conn, &pid, ws)).await?;
    match existing {
        Some(row) if row.pending => Err(ApiError::new(
            ErrorCode::ResourceAlreadyExists,
            "A connection to this partner is being created in this workspace.",
        )),
        Some(row) => sign_in(caller, state, partner, ConnectionInfo::parse(&row)?, req).await,
        None => new_connection(caller, state, partner, req).await,
    }
}

async fn new_connection(
    caller: std::sync::Arc<Caller>,
    state: web::Data<AppState>,
    partner: Partner,
    req: Requested,
) -> ApiResult<HttpResponse> {
    requests::may_connect(&caller)?;
    let cfg = &partner.config;
    let cloud = req.cloud.clone().unwrap_or_else(|| "aws".into());
    if !cfg.supported_clouds.contains(&cloud) {
        return Err(ApiError::invalid("cloud_provider", format!("{cloud} is not in the partner's supported_clouds")));
    }
    if req.destination.is_some() && !cfg.resources.iter().any(|r| r == "DestLocation") {
        return Err(ApiError::invalid("destination_location", "the partner does not provision DestLocation"));
    }
    if req.catalog.is_none() && !cfg.data_permissions.is_empty() {
        return Err(ApiError::invalid("catalog_name", "required: the partner asks for data permissions"));
    }
    let profile = Profile {
        cloud_provider_region: req.region.clone().unwrap_or_else(|| default_region(&cloud).into()),
        cloud_provider: cloud,
        demo: req.demo.unwrap_or(false),
        is_free_trial: req.is_free_trial.unwrap_or(false),
        catalog_name: req.catalog.as_ref().map(|c| c.as_str().to_string()),
        destination_location: req.destination.clone(),
    };
    let addr = Address::from_url(&state.public_url);
    // Provision and record the pending connection in one transaction, authorized inside it and
    // committed before the partner is called; its proof also finishes the flow.
    let (info, pat, user, ok) = {
        let caller = caller.clone();
        let partner_row = partner.row.clone();
        let catalog = req.catalog.clone();
        let profile = profile.clone();
        state.store.write(move |tx| requests::provision(tx, &caller, partner_row, catalog.as_ref(), profile)).await?
    };
    let request = pc::connect_request(
        &info,
        &user,
        &addr,
        Some(&pat),
        pc::certify::workspace_overrides(cfg, state.certify_sandbox),
    );
    // The rest runs as its own task: a client that disconnects does not cancel the flow, which
    // ends in a committed connection or a complete rollback either way.
    let task = actix_web::rt::spawn(async move {
        let outcome = partner.client().call(Operation::Connect, Some(&request), &[]).await;
        match pc::judge(Operation::Connect, ConnectKind::New, &partner.config, outcome) {
            Ok((status, body)) if body.get("configured_resources") == Some(&Json::Bool(true)) => {
                let mut active = info.clone();
                active.connection_id = body["connection_id"].as_str().map(str::to_string);
                let record = serde_json::to_string(&active).expect("serializable");
                let id = active.id.clone();
                state.store.write(move |tx| pc_store::activate(tx, &ok, &id, &record)).await?;
                Ok(ConnectAnswer::new("NEW_CONNECTION", Some(active), status, body))
            }
            Ok((status, body)) => {
                // Declined: Databricks cleans up what it provisioned.
                rollback(&state, ok, info).await?;
                Ok(ConnectAnswer::new("NEW_CONNECTION", None, status, body))
            }
            Err(e) => {
                rollback(&state, ok, info).await?;
                Err(e)
            }
        }
    });
    let answer = task.await.map_err(ApiError::internal)??;
    Ok(HttpResponse::Ok().json(answer))
}

/// `connectPartner`'s answer: which flow ran, the connection, and the partner's answer.
#[derive(Serialize)]
struct ConnectAnswer {
    flow: &'static str,
    connection: Option<ConnectionInfo>,
    partner_response: PartnerResponse,
}

#[derive(Serialize)]
struct PartnerResponse {
    status_code: u16,
    body: Json,
}

impl ConnectAnswer {
    fn new(flow: &'static str, connection: Option<ConnectionInfo>, status_code: u16, body: Json) -> ConnectAnswer {
        ConnectAnswer { flow, connection, partner_response: PartnerResponse { status_code, body } }
    }
}

async fn rollback(state: &AppState, ok: authz::Allowed, info: ConnectionInfo) -> ApiResult<()> {
    let heir = info.created_by.clone();
    state.store.write(move |tx| pc::unprovision(tx, &ok, &info, &heir, now_ms())).await
}

async fn sign_in(
    caller: std::sync::Arc<Caller>,
    state: web::Data<AppState>,
    partner: Partner,
    info: ConnectionInfo,
    req: Requested,
) -> ApiResult<HttpResponse> {
    requests::may_sign_in(&caller)?;
    let stored = info.profile();
    let differs = |field: &str| {
        ApiError::invalid(
            field,
            "differs from the value stored on the connection; delete and re-create it to change it",
        )
    };
    if req.catalog.as_ref().is_some_and(|c| Some(c.as_str()) != stored.catalog_name.as_deref()) {
        return Err(differs("catalog_name"));
    }
    if req.cloud.as_ref().is_some_and(|c| *c != stored.cloud_provider) {
        return Err(differs("cloud_provider"));
    }
    if req.region.as_ref().is_some_and(|r| *r != stored.cloud_provider_region) {
        return Err(differs("cloud_provider_region"));
    }
    if req.demo.is_some_and(|d| d != stored.demo) {
        return Err(differs("demo"));
    }
    if req.is_free_trial.is_some_and(|d| d != stored.is_free_trial) {
        return Err(differs("is_free_trial"));
    }
    if req.destination.as_ref().is_some_and(|d| Some(d) != stored.destination_location.as_ref()) {
        return Err(differs("destination_location"));
    }
    let id = caller.id;
    let user = state.store.read(move |conn| UserInfo::of(conn, id)).await?;
    let addr = Address::from_url(&state.public_url);
    let request = pc::connect_request(
        &info,
        &user,
        &addr,
        None,
        pc::certify::workspace_overrides(&partner.config, state.certify_sandbox),
    );
    let outcome = partner.client().call(Operation::Connect, Some(&request), &[]).await;
    let (status, body) = pc::judge(Operation::Connect, ConnectKind::SignIn, &partner.config, outcome)?;
    Ok(HttpResponse::Ok().json(ConnectAnswer::new("SIGN_IN", Some(info), status, body)))
}

fn connection_not_found(id: &str) -> ApiError {
    ApiError::new(ErrorCode::ResourceDoesNotExist, format!("Connection {id} does not exist."))
}

/// The active connection `id` of the caller's workspace, with its partner.
async fn load_connection(state: &AppState, caller: &Caller, id: String) -> ApiResult<(ConnectionInfo, Partner)> {
    let ws = caller.workspace_id;
    let (row, partner) = state
        .store
        .read(move |conn| {
            let row = pc_store::connection_get(conn, &id)?
                .filter(|r| r.workspace_id == ws && !r.pending)
                .ok_or_else(|| connection_not_found(&id))?;
            let partner =
                pc_store::partner_get(conn, &row.partner_id)?.ok_or_else(|| partner_not_found(&row.partner_id))?;
            Ok((row, partner))
        })
        .await?;
    Ok((ConnectionInfo::parse(&row)?, Partner::load(partner)?))
}

pub async fn list_connections(Auth(caller): Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let ws = caller.workspace_id;
    let rows = state.store.read(move |conn| pc_store::active_in(conn, ws)).await?;
    let connections = rows.iter().map(ConnectionInfo::parse).collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(ConnectionList { connections }))
}

pub async fn get_connection(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let id = uuid_param(&req, "id")?;
    let (info, _) = load_connection(&state, &caller, id).await?;
    Ok(HttpResponse::Ok().json(info))
}

/// `listPartnerConnections`' answer.
#[derive(Serialize)]
struct ConnectionList {
    connections: Vec<ConnectionInfo>,
}

/// What test-connection and delete-connection tell the partner about the connection.
#[derive(Serialize)]
struct ConnectionRef<'a> {
    connection_id: Option<&'a str>,
    cloud_provider: &'a str,
    databricks_organization_id: i64,
}

fn connection_info_body(info: &ConnectionInfo) -> ConnectionRef<'_> {
    ConnectionRef {
        connection_id: info.connection_id.as_deref(),
        cloud_provider: &info.cloud_provider,
        databricks_organization_id: info.workspace_id,
    }
}

/// The member `key` of a partner's answer (`null` when it has none), answered as the partner sent it.
fn member(body: &Json, key: &str) -> Json {
    body.get(key).cloned().unwrap_or(Json::Null)
}

/// `testPartnerConnection`'s answer.
#[derive(Serialize)]
struct TestAnswer {
    test_results: Json,
    partner_status: u16,
}

/// `POST <pc>/connections/:id/test`.
pub async fn test_connection(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let id = uuid_param(&req, "id")?;
    let (info, partner) = load_connection(&state, &caller, id).await?;
    requests::may_connect(&caller)?;
    require_path(&partner, Operation::TestConnection)?;
    let outcome = partner.client().call(Operation::TestConnection, Some(&connection_info_body(&info)), &[]).await;
    let (status, body) = pc::judge(Operation::TestConnection, ConnectKind::New, &partner.config, outcome)?;
    Ok(HttpResponse::Ok().json(TestAnswer { test_results: member(&body, "test_results"), partner_status: status }))
}

fn require_path(partner: &Partner, op: Operation) -> ApiResult<()> {
    match op.path(&partner.config) {
        Some(_) => Ok(()),
        None => Err(ApiError::new(
            ErrorCode::InvalidState,
            format!("{}: the partner's config declares no endpoint for {}", op.path_key(), op.name()),
        )),
    }
}

/// `DELETE <pc>/connections/:id`: removes what was provisioned, then tells the partner.
pub async fn delete_connection(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let id = uuid_param(&req, "id")?;
    let (info, partner) = load_connection(&state, &caller, id).await?;
    {
        let info = info.clone();
        state.store.write(move |tx| requests::delete_connection(tx, &caller, &info)).await?;
    }
    let notification = if partner.config.endpoints.delete_connection_path.is_none() {
        Notification { status: "SKIPPED", ..Notification::default() }
    } else {
        let outcome = partner.client().call(Operation::DeleteConnection, Some(&connection_info_body(&info)), &[]).await;
        match pc::judge(Operation::DeleteConnection, ConnectKind::New, &partner.config, outcome) {
            Ok((status, body)) => Notification {
                status: "OK",
                partner_status: Some(Json::from(status)),
                resource_status: Some(member(&body, "resource_status")),
                ..Notification::default()
            },
            Err(e) => Notification {
                status: "FAILED",
                error_code: Some(e.code.wire().1),
                partner_status: e.extra().and_then(|x| x.get("partner_status")).cloned(),
                message: Some(e.message),
                ..Notification::default()
            },
        }
    };
    Ok(HttpResponse::Ok().json(DeleteConnectionAnswer { partner_notification: notification }))
}

/// `deletePartnerConnection`'s answer: the connection is gone; how telling the partner went.
#[derive(Serialize)]
struct DeleteConnectionAnswer {
    partner_notification: Notification,
}

/// `SKIPPED` (no endpoint), `OK` (with the partner's status and `resource_status`) or `FAILED`
/// (the error the partner's answer would have been, and its status when it answered).
#[derive(Default, Serialize)]
struct Notification {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    partner_status: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_status: Option<Json>,
}

/// The answer of the account hooks: the partner's status.
#[derive(Serialize)]
struct PartnerStatus {
    partner_status: u16,
}

/// The delete-account hook's request to the partner.
#[derive(Serialize)]
struct DeleteAccountRequest {
    domain: String,
    cloud_provider: String,
    databricks_organization_id: i64,
}

/// The expire-account hook's request to the partner.
#[derive(Serialize)]
struct ExpireAccountRequest {
    email: String,
    databricks_user_id: i64,
    cloud_provider: String,
    databricks_organization_id: i64,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DeleteAccountBody {
    domain: Option<String>,
    cloud_provider: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ExpireAccountBody {
    email: Option<String>,
    databricks_user_id: Option<i64>,
    cloud_provider: Option<String>,
}

fn cloud_or_default(c: Option<String>) -> ApiResult<String> {
    match c {
        None => Ok("aws".into()),
        Some(c) => canonical_cloud(&c)
            .map(str::to_string)
            .ok_or_else(|| ApiError::invalid("cloud_provider", format!("{c:?} is not one of aws, azure, gcp"))),
    }
}

/// `POST <pc>/partners/:id/delete-account`.
pub async fn delete_account(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(b): Body<DeleteAccountBody>,
) -> ApiResult<HttpResponse> {
    let id = uuid_param(&req, "partner_id")?;
    let domain = b.domain.filter(|d| !d.is_empty()).ok_or_else(|| ApiError::invalid("domain", "required"))?;
    let cloud = cloud_or_default(b.cloud_provider)?;
    requests::may_connect(&caller)?;
    let partner = load_partner(&state, id).await?;
    require_path(&partner, Operation::DeleteAccount)?;
    if !pc::is_test_domain(&domain) {
        return Err(ApiError::invalid("domain", format!("{domain} is not a Databricks test domain")));
    }
    let body = DeleteAccountRequest { domain, cloud_provider: cloud, databricks_organization_id: caller.workspace_id };
    let outcome = partner.client().call(Operation::DeleteAccount, Some(&body), &[]).await;
    let (status, _) = pc::judge(Operation::DeleteAccount, ConnectKind::SignIn, &partner.config, outcome)?;
    Ok(HttpResponse::Ok().json(PartnerStatus { partner_status: status }))
}

/// `POST <pc>/partners/:id/expire-account`.
pub async fn expire_account(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(b): Body<ExpireAccountBody>,
) -> ApiResult<HttpResponse> {
    let id = uuid_param(&req, "partner_id")?;
    let email = b.email.filter(|e| !e.is_empty()).ok_or_else(|| ApiError::invalid("email", "required"))?;
    let cloud = cloud_or_default(b.cloud_provider)?;
    requests::may_connect(&caller)?;
    let partner = load_partner(&state, id).await?;
    require_path(&partner, Operation::ExpireAccount)?;
    let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    if !pc::is_test_domain(domain) {
        return Err(ApiError::invalid("email", format!("{email} is not an address of a Databricks test domain")));
    }
    let user_id = match b.databricks_user_id {
        Some(id) => id,
        None => {
            let lookup = email.clone();
            state
                .store
                .read(move |conn| crate::store::principals::by_name(conn, &lookup))
                .await?
                .map(|p| p.id)
                .unwrap_or_else(|| pc::derived_user_id(&email))
        }
    };
    let body = ExpireAccountRequest {
        email,
        databricks_user_id: user_id,
        cloud_provider: cloud,
        databricks_organization_id: caller.workspace_id,
    };
    let outcome = partner.client().call(Operation::ExpireAccount, Some(&body), &[]).await;
    let (status, _) = pc::judge(Operation::ExpireAccount, ConnectKind::SignIn, &partner.config, outcome)?;
    Ok(HttpResponse::Ok().json(PartnerStatus { partner_status: status }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConnectorsParams {
    page_token: Option<String>,
}

/// `GET <pc>/partners/:id/connectors`: one emulator page is one partner call.
pub async fn connectors(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Params(p): Params<ConnectorsParams>,
) -> ApiResult<HttpResponse> {
    let id = uuid_param(&req, "partner_id")?;
    requests::may_connect(&caller)?;
    let partner = load_partner(&state, id).await?;
    require_path(&partner, Operation::Connectors)?;
    let query: Vec<(&str, &str)> =
        p.page_token.as_deref().filter(|t| !t.is_empty()).map(|t| vec![("pagination_token", t)]).unwrap_or_default();
    let outcome = partner.client().call(Operation::Connectors, None::<&()>, &query).await;
    let (_, body) = pc::judge(Operation::Connectors, ConnectKind::SignIn, &partner.config, outcome)?;
    let next_page_token =
        body.get("pagination_token").and_then(Json::as_str).filter(|t| !t.is_empty()).map(str::to_string);
    Ok(HttpResponse::Ok().json(ConnectorsAnswer { connectors: member(&body, "connectors"), next_page_token }))
}

/// `listPartnerConnectors`' answer: the partner's connectors as it answered them.
#[derive(Serialize)]
struct ConnectorsAnswer {
    connectors: Json,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}
