//! Partner Connect's requests as operations: their validated inputs, and the authorization
//! and the one transaction of each request that writes (the partner itself is called by the
//! HTTP layer, outside every transaction). Every decision goes through the rule table.

use rusqlite::Connection;
use serde::Deserialize;

use super::config::canonical_cloud;
use super::{ConnectionInfo, NewConnection, Partner, Profile, UserInfo};
use crate::authz::{self, Action, Allowed, Caller};
use crate::domain::names::Ident;
use crate::domain::now_ms;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ops::denied;
use crate::store::partner_connect::{self as pc_store, PartnerRow};
use crate::store::{catalogs, principals, securables};

pub fn partner_not_found(id: &str) -> ApiError {
    ApiError::new(ErrorCode::ResourceDoesNotExist, format!("Partner {id} does not exist."))
}

/// registerPartner: account admins only; the name is unique (409).
pub fn register(tx: &Connection, caller: &Caller, row: &PartnerRow) -> ApiResult<()> {
    let ok = authz::require(caller, &Action::ManagePartners, &[]).map_err(denied)?;
    pc_store::insert_partner(tx, &ok, row)
}

/// deletePartner: account admins; refused while connections remain.
pub fn delete_partner(tx: &Connection, caller: &Caller, id: &str) -> ApiResult<()> {
    pc_store::partner_get(tx, id)?.ok_or_else(|| partner_not_found(id))?;
    let ok = authz::require(caller, &Action::ManagePartners, &[]).map_err(denied)?;
    let remaining = pc_store::connected_workspaces(tx, id)?;
    if !remaining.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidState,
            format!(
                "The partner still has {} connection(s), in workspace(s) {}; delete them first.",
                remaining.len(),
                remaining.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    pc_store::delete_partner(tx, &ok, id)
}

/// Whether the caller may create connections and make the workspace's calls to partners
/// (test, delete, account hooks, connectors): workspace admins.
pub fn may_connect(caller: &Caller) -> ApiResult<()> {
    authz::require(caller, &Action::ConnectPartner, &[]).map(|_| ()).map_err(denied)
}

/// Whether the caller may sign in to a partner through an existing connection: people, not
/// service principals.
pub fn may_sign_in(caller: &Caller) -> ApiResult<()> {
    authz::require(caller, &Action::PartnerSignIn, &[])
        .map(|_| ())
        .map_err(|_| ApiError::denied("Service principals cannot sign in through a Partner Connect connection."))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ConnectBody {
    partner_id: Option<String>,
    catalog_name: Option<String>,
    cloud_provider: Option<String>,
    cloud_provider_region: Option<String>,
    demo: Option<bool>,
    is_free_trial: Option<bool>,
    destination_location: Option<String>,
}

pub fn default_region(cloud: &str) -> &'static str {
    match cloud {
        "azure" => "westus2",
        "gcp" => "us-central1",
        _ => "us-west-2",
    }
}

/// The request's profile fields, validated; `None` where not given.
pub struct Requested {
    pub partner_id: String,
    pub catalog: Option<Ident>,
    pub cloud: Option<String>,
    pub region: Option<String>,
    pub demo: Option<bool>,
    pub is_free_trial: Option<bool>,
    pub destination: Option<String>,
}

pub fn parse_connect(b: ConnectBody) -> ApiResult<Requested> {
    let raw = b.partner_id.ok_or_else(|| ApiError::invalid("partner_id", "required"))?;
    let partner_id = uuid::Uuid::parse_str(&raw)
        .map_err(|_| ApiError::invalid("partner_id", format!("{raw:?} is not a UUID")))?
        .to_string();
    let cloud = b
        .cloud_provider
        .map(|c| {
            canonical_cloud(&c)
                .map(str::to_string)
                .ok_or_else(|| ApiError::invalid("cloud_provider", format!("{c:?} is not one of aws, azure, gcp")))
        })
        .transpose()?;
    if b.cloud_provider_region.as_deref() == Some("") {
        return Err(ApiError::invalid("cloud_provider_region", "must not be empty"));
    }
    if let Some(d) = &b.destination_location {
        if !d.contains("://") || d.starts_with("://") {
            return Err(ApiError::invalid("destination_location", format!("{d:?} is not an absolute URL")));
        }
    }
    let catalog = b.catalog_name.map(|c| Ident::parse("catalog_name", &c)).transpose()?;
    if catalog.as_ref().is_some_and(|c| c.as_str() == "hive_metastore") {
        return Err(ApiError::invalid("catalog_name", "hive_metastore is not emulated"));
    }
    Ok(Requested {
        partner_id,
        catalog,
        cloud,
        region: b.cloud_provider_region,
        demo: b.demo,
        is_free_trial: b.is_free_trial,
        destination: b.destination_location,
    })
}

/// What a new connection provisioned, committed before the partner is called: the connection,
/// the token handed to the partner, the admin's user info, and the proof that later activates
/// the connection or rolls it back.
pub type Provisioned = (ConnectionInfo, String, UserInfo, Allowed);

/// A new connection's one transaction: the catalog (USE_CATALOG and ownership rules through
/// `ConnectWithCatalog`), the caller's right to connect, and the provisioning.
pub fn provision(
    tx: &Connection,
    caller: &Caller,
    partner_row: PartnerRow,
    catalog: Option<&Ident>,
    profile: Profile,
) -> ApiResult<Provisioned> {
    let partner = Partner::load(partner_row)?;
    let catalog = match catalog {
        None => None,
        Some(name) => {
            let scope = caller.metastore.as_ref().ok_or_else(ApiError::no_metastore)?;
            let row = catalogs::require(tx, &scope.id, name)?;
            let node = securables::with_grants(tx, row.node(), &caller.principals_json)?;
            let ok = authz::require(caller, &Action::ConnectWithCatalog, &[&node]).map_err(denied)?;
            Some((row.id, ok))
        }
    };
    let ok = authz::require(caller, &Action::ConnectPartner, &[]).map_err(denied)?;
    let new = NewConnection {
        partner: &partner,
        workspace_id: caller.workspace_id,
        admin: &caller.name,
        profile,
        catalog,
        now: now_ms(),
    };
    let (info, pat) = super::provision(tx, &ok, &new)?;
    let user = UserInfo::of(tx, caller.id)?;
    Ok((info, pat, user, ok))
}

/// deleteConnection's one transaction: what was provisioned goes; the service principal's
/// objects pass to the connection's creator (or the caller when the creator is gone).
pub fn delete_connection(tx: &Connection, caller: &Caller, info: &ConnectionInfo) -> ApiResult<()> {
    let ok = authz::require(caller, &Action::ConnectPartner, &[]).map_err(denied)?;
    let heir = if principals::exists(tx, &info.created_by)? { info.created_by.clone() } else { caller.name.clone() };
    super::unprovision(tx, &ok, info, &heir, now_ms())
}
