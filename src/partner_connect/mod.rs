//! Partner Connect, the Databricks side: what a connection provisions, the
//! requests partners receive, and how their answers become results. The HTTP handlers are in
//! `api::partner_connect`; this module knows the flow's rules and calls the store for SQL.

pub mod certify;
pub mod client;
pub mod config;
pub mod requests;
pub mod validate;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

use crate::authz::{AclEntry, Allowed, PrincipalKind};
use crate::domain::workspace_object::WorkspaceObject;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::partner_connect::config::{validate_registration, RegistrationWire, WorkspaceDetail};
use crate::store::partner_connect::{self as pc_store, ConnectionRow, PartnerRow};
use crate::store::principals::{self, NewPrincipal};
use crate::store::{grants, tokens, warehouses, workspace_acls};
use client::{Operation, Outcome};
use config::{CallOptions, PartnerConfig};
use validate::{ConnectKind, Verdict};

/// A registered partner, parsed.
pub struct Partner {
    pub row: PartnerRow,
    pub config: PartnerConfig,
    pub options: CallOptions,
}

impl Partner {
    /// A stored partner: its config was validated once, when it was registered, and is stored
    /// as the typed `PartnerConfig` (rows written by versions that stored only the document as
    /// sent are validated on load instead).
    pub fn load(row: PartnerRow) -> ApiResult<Partner> {
        let config = match serde_json::from_str::<PartnerConfig>(&row.config) {
            Ok(config) => config,
            Err(_) => {
                let raw: Json = serde_json::from_str(&row.config).map_err(ApiError::internal)?;
                config::validate_config(&raw, "config.").map_err(|v| ApiError::internal(v.join("; ")))?
            }
        };
        let options = serde_json::from_str(&row.options).map_err(ApiError::internal)?;
        Ok(Partner { row, config, options })
    }

    pub fn client(&self) -> client::Partner<'_> {
        client::Partner {
            config: &self.config,
            basic_auth: self.row.basic_user.as_deref().zip(self.row.basic_password.as_deref()),
            options: self.options,
        }
    }

    /// `PartnerInfo`: the password is never returned.
    pub fn info(&self) -> PartnerInfo<'_> {
        PartnerInfo {
            partner_id: &self.row.id,
            name: &self.row.name,
            config: &self.config.raw,
            basic_auth: self.row.basic_user.as_deref().map(|username| BasicAuthInfo { username }),
            options: self.options,
            created_at: self.row.created_at,
            created_by: &self.row.created_by,
        }
    }
}

/// `PartnerInfo`: a registered partner as the API answers it.
#[derive(Serialize)]
pub struct PartnerInfo<'a> {
    pub partner_id: &'a str,
    pub name: &'a str,
    /// The config as registered.
    pub config: &'a Json,
    pub basic_auth: Option<BasicAuthInfo<'a>>,
    pub options: CallOptions,
    pub created_at: i64,
    pub created_by: &'a str,
}

#[derive(Serialize)]
pub struct BasicAuthInfo<'a> {
    pub username: &'a str,
}

/// The workspace the emulator pretends to be for a connection.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Profile {
    pub cloud_provider: String,
    pub cloud_provider_region: String,
    pub demo: bool,
    pub is_free_trial: bool,
    pub catalog_name: Option<String>,
    pub destination_location: Option<String>,
}

/// `ConnectionInfo`, also the stored record of a connection.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConnectionInfo {
    pub id: String,
    pub partner_id: String,
    pub partner_name: String,
    pub workspace_id: i64,
    pub connection_id: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub service_principal_id: String,
    pub service_principal_name: String,
    pub token_id: String,
    pub warehouse_id: Option<String>,
    pub cluster_id: Option<String>,
    pub http_path: Option<String>,
    pub catalog_name: Option<String>,
    pub destination_location: Option<String>,
    pub cloud_provider: String,
    pub cloud_provider_region: String,
    pub demo: bool,
    pub is_free_trial: bool,
    pub resources: Vec<String>,
    pub data_permissions: Vec<GrantedDataPermission>,
    pub object_permissions: Vec<GrantedObjectPermission>,
    pub skipped_permissions: Vec<SkippedPermission>,
}

/// A config data permission the connection granted: on which catalog, as which UC privileges.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GrantedDataPermission {
    pub permission: String,
    pub securable_type: String,
    pub full_name: String,
    pub privileges: Vec<String>,
}

/// A config object permission the connection set: on which workspace object.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GrantedObjectPermission {
    pub name: String,
    pub level: String,
    pub object_type: String,
    pub object_id: String,
}

/// A config permission the connection did not apply, and why: a data permission (`permission`)
/// or an object permission (`name`, `level`).
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SkippedPermission {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permission: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    pub reason: String,
}

impl SkippedPermission {
    fn object(name: &str, level: &str, reason: &str) -> SkippedPermission {
        SkippedPermission {
            permission: None,
            name: Some(name.into()),
            level: Some(level.into()),
            reason: reason.into(),
        }
    }
}

impl ConnectionInfo {
    pub fn parse(row: &ConnectionRow) -> ApiResult<ConnectionInfo> {
        serde_json::from_str(&row.record).map_err(ApiError::internal)
    }

    pub fn profile(&self) -> Profile {
        Profile {
            cloud_provider: self.cloud_provider.clone(),
            cloud_provider_region: self.cloud_provider_region.clone(),
            demo: self.demo,
            is_free_trial: self.is_free_trial,
            catalog_name: self.catalog_name.clone(),
            destination_location: self.destination_location.clone(),
        }
    }
}

/// UC privileges a config data permission grants on the catalog; `None`: skipped.
pub fn uc_privileges(permission: &str) -> Option<&'static [&'static str]> {
    Some(match permission {
        "USE_CATALOG" => &["USE_CATALOG"],
        "USE_SCHEMA" => &["USE_SCHEMA"],
        "SELECT" => &["SELECT"],
        "CREATE_SCHEMA" => &["CREATE_SCHEMA"],
        "CREATE_TABLE" => &["CREATE_TABLE"],
        "USAGE" => &["USE_CATALOG", "USE_SCHEMA"],
        "CREATE" => &["CREATE_SCHEMA", "CREATE_TABLE"],
        "MODIFY" => &["MODIFY"],
        "READ_METADATA" => &["BROWSE"],
        "CREATE_NAMED_FUNCTION" => &["CREATE_FUNCTION"],
        "ALL PRIVILEGES" => &["ALL_PRIVILEGES"],
        _ => return None,
    })
}

/// Everything a new connection needs that is known before provisioning.
pub struct NewConnection<'a> {
    pub partner: &'a Partner,
    pub workspace_id: i64,
    pub admin: &'a str,
    pub profile: Profile,
    /// The catalog the connection uses, with the proof that the caller may connect with it.
    pub catalog: Option<(String, Allowed)>,
    pub now: i64,
}

/// Provisions a new connection in the caller's transaction and records it pending.
/// Returns the record and the PAT value (sent to the partner once, never stored in clear).
pub fn provision(conn: &Connection, ok: &Allowed, new: &NewConnection<'_>) -> ApiResult<(ConnectionInfo, String)> {
    let cfg = &new.partner.config;
    let key = config::partner_key(&cfg.name);
    let sp_name = format!("{key}_USER");
    let application_id = uuid::Uuid::new_v4().to_string();
    let sp = NewPrincipal {
        kind: PrincipalKind::ServicePrincipal,
        name: &application_id,
        display_name: &sp_name,
        account_admin: false,
        external_id: None,
        extra: "{}",
    };
    let sp_id = principals::insert(conn, ok, &sp)?;
    // It belongs to the connection's workspace, where its token acts.
    crate::store::account::assign(conn, ok, new.workspace_id, sp_id, crate::store::account::WorkspacePermission::User)?;
    let pat = format!("dapi{}", uuid::Uuid::new_v4().simple());
    let token = tokens::NewToken {
        value: &pat,
        principal_id: sp_id,
        workspace_id: new.workspace_id,
        comment: Some(&format!("Partner Connect: {}", cfg.name)),
        creation_time: new.now,
        expiry_time: -1,
        from_api: true,
        created_by_id: Some(sp_id),
    };
    let token_id = tokens::insert(conn, ok, &token)?;
    let wants = |r: &str| cfg.resources.iter().any(|x| x == r);
    let warehouse_id = if wants("SqlEndpoint") {
        let id = warehouses::insert(conn, ok, new.workspace_id, &format!("{key}_ENDPOINT"), new.admin, new.now)?;
        let object = WorkspaceObject::Warehouse(id.clone());
        workspace_acls::add(
            conn,
            ok,
            new.workspace_id,
            &object,
            &[AclEntry { principal: new.admin.into(), level: "IS_OWNER".into() }],
        )?;
        Some(id)
    } else {
        None
    };
    let cluster_id = match (&warehouse_id, wants("InteractiveCluster")) {
        (Some(w), _) => Some(w.clone()),
        (None, true) => Some(cluster_identifier(new.now)),
        (None, false) => None,
    };
    let mut data_permissions = Vec::new();
    let mut skipped = Vec::new();
    if let (Some((catalog_id, catalog_ok)), Some(catalog)) = (&new.catalog, &new.profile.catalog_name) {
        let mut granted: Vec<&str> = Vec::new();
        for permission in &cfg.data_permissions {
            match uc_privileges(permission) {
                Some(privileges) => {
                    for p in privileges {
                        if !granted.contains(p) {
                            grants::add(conn, catalog_ok, catalog_id, &application_id, p)?;
                            granted.push(p);
                        }
                    }
                    data_permissions.push(GrantedDataPermission {
                        permission: permission.clone(),
                        securable_type: "catalog".into(),
                        full_name: catalog.clone(),
                        privileges: privileges.iter().map(|p| p.to_string()).collect(),
                    });
                }
                None => skipped.push(SkippedPermission {
                    permission: Some(permission.clone()),
                    name: None,
                    level: None,
                    reason: "no Unity Catalog meaning".into(),
                }),
            }
        }
    }
    let mut object_permissions = Vec::new();
    for (name, level) in &cfg.object_permissions {
        let target = match name.as_str() {
            "SQL_Endpoint" => match &warehouse_id {
                Some(w) => Some(WorkspaceObject::Warehouse(w.clone())),
                None => {
                    skipped.push(SkippedPermission::object(name, level, "no SQL warehouse provisioned"));
                    continue;
                }
            },
            "Token" => Some(WorkspaceObject::Tokens),
            "Password" => Some(WorkspaceObject::Passwords),
            _ => None,
        };
        let Some(object) = target else {
            skipped.push(SkippedPermission::object(name, level, "the object type is not emulated"));
            continue;
        };
        if level == "IS_OWNER" {
            // The service principal becomes the owner; the connecting admin keeps CAN_MANAGE.
            let current = workspace_acls::entries(conn, new.workspace_id, &object)?;
            let mut next: Vec<AclEntry> = current
                .into_iter()
                .map(|e| if e.level == "IS_OWNER" { AclEntry { level: "CAN_MANAGE".into(), ..e } } else { e })
                .collect();
            next.push(AclEntry { principal: application_id.clone(), level: "IS_OWNER".into() });
            workspace_acls::replace(conn, ok, new.workspace_id, &object, &next)?;
        } else {
            workspace_acls::add(
                conn,
                ok,
                new.workspace_id,
                &object,
                &[AclEntry { principal: application_id.clone(), level: level.clone() }],
            )?;
        }
        let (object_type, object_id) = match &object {
            WorkspaceObject::Warehouse(id) => ("warehouses".to_string(), id.clone()),
            WorkspaceObject::Tokens => ("authorization".to_string(), "tokens".to_string()),
            WorkspaceObject::Passwords => ("authorization".to_string(), "passwords".to_string()),
        };
        object_permissions.push(GrantedObjectPermission {
            name: name.clone(),
            level: level.clone(),
            object_type,
            object_id,
        });
    }
    let info = ConnectionInfo {
        id: uuid::Uuid::new_v4().to_string(),
        partner_id: new.partner.row.id.clone(),
        partner_name: new.partner.row.name.clone(),
        workspace_id: new.workspace_id,
        connection_id: None,
        created_by: new.admin.to_string(),
        created_at: new.now,
        service_principal_id: application_id,
        service_principal_name: sp_name,
        token_id,
        http_path: warehouse_id.as_ref().map(|w| format!("/sql/1.0/warehouses/{w}")),
        warehouse_id,
        cluster_id,
        catalog_name: new.profile.catalog_name.clone(),
        destination_location: new.profile.destination_location.clone(),
        cloud_provider: new.profile.cloud_provider.clone(),
        cloud_provider_region: new.profile.cloud_provider_region.clone(),
        demo: new.profile.demo,
        is_free_trial: new.profile.is_free_trial,
        resources: cfg.resources.clone(),
        data_permissions,
        object_permissions,
        skipped_permissions: skipped,
    };
    let row = ConnectionRow {
        id: info.id.clone(),
        partner_id: info.partner_id.clone(),
        workspace_id: info.workspace_id,
        pending: true,
        record: serde_json::to_string(&info).expect("serializable"),
    };
    pc_store::insert_pending(conn, ok, &row, new.now)?;
    Ok((info, pat))
}

/// `MMDD-HHMMSS-xxxxxxxx` from a time in ms.
fn cluster_identifier(now_ms: i64) -> String {
    let secs = now_ms / 1000;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let suffix: String = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    format!("{month:02}{day:02}-{:02}{:02}{:02}-{suffix}", rem / 3600, (rem % 3600) / 60, rem % 60)
}

/// Removes everything a connection provisioned (rollback, or the first step of a delete): the service
/// principal's objects go to `heir`, its grants and ACL entries are dropped, the warehouse is
/// deleted, the PAT and the service principal go, and so does the connection record.
pub fn unprovision(conn: &Connection, ok: &Allowed, info: &ConnectionInfo, heir: &str, now: i64) -> ApiResult<()> {
    principals::hand_over_and_revoke(conn, ok, &info.service_principal_id, heir)?;
    if let Some(w) = &info.warehouse_id {
        warehouses::delete(conn, ok, info.workspace_id, w, now)?;
    }
    if let Some(sp) = principals::by_name(conn, &info.service_principal_id)? {
        principals::delete(conn, ok, sp.id)?; // its tokens go with it
    }
    pc_store::delete_connection(conn, ok, &info.id)
}

/// At start-up, before serving: rolls back the connections a crash left pending, in one
/// transaction under the server's own proof. Returns how many.
pub fn recover_pending(store: &crate::store::Store) -> ApiResult<usize> {
    store.write_now(|tx| crate::authz::with_server_proof(|ok| recover(tx, ok, crate::domain::now_ms())))
}

/// Rolls back every pending connection: a connect cut short by a crash.
pub fn recover(conn: &Connection, ok: &Allowed, now: i64) -> ApiResult<usize> {
    let pending = pc_store::pending(conn)?;
    for row in &pending {
        let info = ConnectionInfo::parse(row)?;
        let heir = info.created_by.clone();
        unprovision(conn, ok, &info, &heir, now)?;
    }
    Ok(pending.len())
}

/// The workspace address pieces.
pub struct Address {
    pub scheme: String,
    pub host: String,
    pub port: u16,
}

impl Address {
    pub fn from_url(url: &str) -> Address {
        let (scheme, host, port) = crate::ops::warehouses::address(url);
        Address { scheme, host, port }
    }
}

/// The requesting user, as the ConnectRequest describes them.
pub struct UserInfo {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub databricks_user_id: i64,
}

impl UserInfo {
    /// From the caller's SCIM record (`first_name` / `last_name` as Partner Connect derives them).
    pub fn of(conn: &Connection, principal_id: i64) -> ApiResult<UserInfo> {
        let p = principals::by_id(conn, principal_id)?
            .ok_or_else(|| ApiError::unauthenticated("The principal is gone."))?;
        /// The SCIM `name` the principal's verbatim attributes may hold.
        #[derive(Default, Deserialize)]
        struct Extra {
            name: Option<Name>,
        }
        #[derive(Default, Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Name {
            given_name: Option<Json>,
            family_name: Option<Json>,
        }
        let name = serde_json::from_str::<Extra>(&p.extra).unwrap_or_default().name.unwrap_or_default();
        let given = name.given_name.as_ref().and_then(Json::as_str);
        let family = name.family_name.as_ref().and_then(Json::as_str);
        let (first, last) = if given.is_some() || family.is_some() {
            (given.unwrap_or("").to_string(), family.unwrap_or("").to_string())
        } else if !p.display_name.is_empty() {
            match p.display_name.split_once(' ') {
                Some((f, l)) => (f.to_string(), l.to_string()),
                None => (p.display_name.clone(), String::new()),
            }
        } else {
            (p.name.split('@').next().unwrap_or("").to_string(), String::new())
        };
        Ok(UserInfo { email: p.name, first_name: first, last_name: last, databricks_user_id: p.id })
    }
}

/// The API's `ConnectRequest`; fields without a value are omitted.
#[derive(Debug, Serialize)]
pub struct ConnectRequest {
    pub user_info: ConnectUserInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    pub hostname: String,
    pub port: u16,
    pub workspace_url: String,
    pub workspace_id: i64,
    pub demo: bool,
    pub is_free_trial: bool,
    pub cloud_provider: String,
    pub cloud_provider_region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    pub is_sql_endpoint: bool,
    pub is_sql_warehouse: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jdbc_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub databricks_jdbc_url: Option<String>,
    pub service_principal_id: String,
    pub connection_scope: &'static str,
}

/// `ConnectRequest.user_info`.
#[derive(Debug, Serialize)]
pub struct ConnectUserInfo {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub databricks_user_id: i64,
    pub databricks_organization_id: i64,
    pub is_connection_established: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<ConnectAuth>,
}

/// `ConnectRequest.user_info.auth`: the new connection's token, sent once.
#[derive(Debug, Serialize)]
pub struct ConnectAuth {
    pub personal_access_token: String,
}

/// The `ConnectRequest` of a new connection (`pat`: its token) or a sign-in (`None`).
pub fn connect_request(
    info: &ConnectionInfo,
    user: &UserInfo,
    addr: &Address,
    pat: Option<&str>,
    overrides: Option<&WorkspaceDetail>,
) -> ConnectRequest {
    let user_info = ConnectUserInfo {
        email: user.email.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        databricks_user_id: user.databricks_user_id,
        databricks_organization_id: info.workspace_id,
        is_connection_established: pat.is_none(),
        auth: pat.map(|p| ConnectAuth { personal_access_token: p.to_string() }),
    };
    let (mut host, mut port, mut scheme) = (addr.host.clone(), addr.port, addr.scheme.clone());
    let mut http_path = info.http_path.clone();
    let mut cluster_id = info.cluster_id.clone();
    let mut jdbc = None;
    let mut djdbc = None;
    if let Some(o) = overrides {
        // certify's test_workspace_detail.
        host = o.hostname.clone();
        port = o.port;
        scheme = "https".into();
        http_path = Some(o.http_path.clone());
        cluster_id = Some(o.cluster_id.clone());
        jdbc = Some(o.jdbc_url.clone());
        djdbc = Some(o.databricks_jdbc_url.clone());
    }
    let ssl = u8::from(scheme == "https");
    let warehouse = info.warehouse_id.is_some();
    let (http_path, jdbc_url, databricks_jdbc_url) = match (warehouse, http_path) {
        (true, Some(path)) => {
            let spark =
                format!("jdbc:spark://{host}:{port}/default;transportMode=http;ssl={ssl};AuthMech=3;httpPath={path};");
            let databricks = format!(
                "jdbc:databricks://{host}:{port}/default;transportMode=http;ssl={ssl};AuthMech=3;httpPath={path};"
            );
            (Some(path), Some(jdbc.unwrap_or(spark)), Some(djdbc.unwrap_or(databricks)))
        }
        _ => (None, None, None),
    };
    ConnectRequest {
        user_info,
        connection_id: if pat.is_none() { info.connection_id.clone() } else { None },
        workspace_url: format!("{scheme}://{host}:{port}/?o={}", info.workspace_id),
        hostname: host,
        port,
        workspace_id: info.workspace_id,
        demo: info.demo,
        is_free_trial: info.is_free_trial,
        cloud_provider: info.cloud_provider.clone(),
        cloud_provider_region: info.cloud_provider_region.clone(),
        catalog_name: info.catalog_name.clone(),
        destination_location: info.destination_location.clone(),
        cluster_id,
        is_sql_endpoint: warehouse,
        is_sql_warehouse: warehouse,
        http_path,
        jdbc_url,
        databricks_jdbc_url,
        service_principal_id: info.service_principal_id.clone(),
        connection_scope: "workspace",
    }
}

/// A partner's answer turned into the emulator's result: the valid success body, or the
/// error to answer with.
pub fn judge(op: Operation, kind: ConnectKind, cfg: &PartnerConfig, outcome: Outcome) -> Result<(u16, Json), ApiError> {
    let (status, body, attempts) = match outcome {
        Outcome::Unreachable { attempts, detail } => {
            return Err(ApiError::new(
                ErrorCode::PartnerUnreachable,
                format!("the partner could not be reached: {detail}"),
            )
            .with_extra(extra(&[("attempts", json!(attempts))])));
        }
        Outcome::TimedOut { attempts } => {
            return Err(ApiError::new(
                ErrorCode::PartnerTimeout,
                format!("the partner did not answer {} in time", op.name()),
            )
            .with_extra(extra(&[("attempts", json!(attempts))])));
        }
        Outcome::Answered { status, body, attempts } => (status, body, attempts),
    };
    match validate::check(op, kind, cfg, status, body.as_ref()) {
        Verdict::Success(b) => Ok((status, b)),
        Verdict::Invalid(violations) => Err(ApiError::new(
            ErrorCode::PartnerResponseInvalid,
            format!("the partner's {} answer breaks the API: {}", op.name(), violations.join("; ")),
        )
        .with_extra(extra(&[("partner_status", json!(status)), ("violations", json!(violations))]))),
        Verdict::Error { status, error } => {
            let reason = error["error_reason"].as_str().unwrap_or("").to_string();
            let detail = error["display_message"].as_str().or(error["debugging_message"].as_str()).unwrap_or("");
            let (code, message) = match (status, reason.as_str()) {
                (404, "connection_not_found") => (
                    ErrorCode::PartnerConnectionNotFound,
                    format!("the partner does not know this connection: {detail}"),
                ),
                (404, _) => (ErrorCode::PartnerAccountNotFound, format!("the partner has no such account: {detail}")),
                _ => (
                    ErrorCode::PartnerRejected,
                    format!("partner answered {status} {reason} {detail}").trim_end().to_string(),
                ),
            };
            let mut fields = vec![("partner_status", json!(status)), ("partner_error", error.clone())];
            if code == ErrorCode::PartnerRejected {
                fields.push(("attempts", json!(attempts)));
            }
            Err(ApiError::new(code, message).with_extra(extra(&fields)))
        }
    }
}

fn extra(fields: &[(&str, Json)]) -> Map<String, Json> {
    fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// Test domains of the account hooks: `databricks-test.com`, `databricks-demo.com` and
/// their subdomains.
pub fn is_test_domain(domain: &str) -> bool {
    let d = domain.trim_end_matches('.').to_ascii_lowercase();
    ["databricks-test.com", "databricks-demo.com"].iter().any(|t| d == *t || d.ends_with(&format!(".{t}")))
}

/// A stable positive id for an e-mail with no emulator user.
pub fn derived_user_id(email: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(email.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&digest[..8]);
    let id = (u64::from_be_bytes(b) & 0x7fff_ffff_ffff_ffff) as i64;
    if id == 0 {
        1
    } else {
        id
    }
}

/// Registers a partner from a registration document, validated here; shared with fixtures.
pub fn registration_row(doc: RegistrationWire, created_by: &str, now: i64) -> Result<PartnerRow, Vec<String>> {
    let reg = validate_registration(doc)?;
    Ok(PartnerRow {
        id: uuid::Uuid::new_v4().to_string(),
        name: reg.config.name.clone(),
        name_key: config::partner_key(&reg.config.name),
        config: serde_json::to_string(&reg.config).expect("serializable"),
        basic_user: reg.basic_auth.as_ref().map(|(u, _)| u.clone()),
        basic_password: reg.basic_auth.map(|(_, p)| p),
        options: serde_json::to_string(&reg.options).expect("serializable"),
        created_at: now,
        created_by: created_by.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_ids_have_the_hosted_shape() {
        let id = cluster_identifier(1_795_000_000_000);
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(parts.len(), 3, "{id}");
        assert_eq!(parts[0].len(), 4);
        assert_eq!(parts[1].len(), 6);
        assert_eq!(parts[2].len(), 8);
    }

    #[test]
    fn data_permissions_translate() {
        assert_eq!(uc_privileges("USAGE"), Some(&["USE_CATALOG", "USE_SCHEMA"][..]));
        assert_eq!(uc_privileges("READ_METADATA"), Some(&["BROWSE"][..]));
        assert_eq!(uc_privileges("MODIFY_CLASSPATH"), None);
    }

    #[test]
    fn test_domains() {
        assert!(is_test_domain("abc123.databricks-test.com"));
        assert!(is_test_domain("Databricks-Demo.com."));
        assert!(!is_test_domain("example.com"));
        assert!(!is_test_domain("notdatabricks-test.com"));
        assert!(derived_user_id("a@b.c") > 0);
    }
}
