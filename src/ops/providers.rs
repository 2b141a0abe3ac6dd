//! Delta Sharing providers: createProvider's validated input and the provider chain loader.

use super::denied;
use crate::authz::{self, Action, Caller, Node};
use crate::domain::now_ms;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::domain::names::Ident;
use crate::domain::split_global_metastore_id;
use crate::error::{ApiError, ApiResult};
use crate::store::providers::{self, NewProvider, ProviderRow};
use crate::store::{metastores, securables};

#[derive(Serialize)]
pub struct RecipientProfile {
    share_credentials_version: i64,
    endpoint: String,
}

/// A Delta Sharing profile: JSON with `endpoint` (and `shareCredentialsVersion`, `bearerToken`).
pub fn parse_profile(raw: &str) -> Result<RecipientProfile, String> {
    let v: Json = serde_json::from_str(raw).map_err(|e| format!("is not JSON: {e}"))?;
    let endpoint = v["endpoint"].as_str().filter(|e| !e.is_empty()).ok_or("has no \"endpoint\"")?;
    let version = match &v["shareCredentialsVersion"] {
        Json::Null => 1,
        Json::Number(n) => n.as_i64().ok_or("has a shareCredentialsVersion that is not an integer")?,
        _ => return Err("has a shareCredentialsVersion that is not an integer".into()),
    };
    Ok(RecipientProfile { share_credentials_version: version, endpoint: endpoint.to_string() })
}

#[derive(Deserialize)]
pub struct CreateProvider {
    pub name: Option<String>,
    pub authentication_type: Option<String>,
    pub comment: Option<String>,
    pub recipient_profile_str: Option<String>,
    pub data_provider_global_metastore_id: Option<String>,
}

/// A validated provider create, shared with fixtures.
pub struct ProviderSpec {
    pub name: Ident,
    pub authentication_type: String,
    pub comment: Option<String>,
    pub recipient_profile_str: Option<String>,
    pub global_metastore_id: Option<String>,
}

impl TryFrom<CreateProvider> for ProviderSpec {
    type Error = ApiError;
    fn try_from(c: CreateProvider) -> ApiResult<Self> {
        let name = Ident::parse("name", c.name.as_deref().ok_or_else(|| ApiError::invalid("name", "is required"))?)?;
        let auth = c.authentication_type.ok_or_else(|| ApiError::invalid("authentication_type", "is required"))?;
        let profile = c.recipient_profile_str.filter(|p| !p.is_empty());
        let global = c.data_provider_global_metastore_id.filter(|g| !g.is_empty());
        match auth.as_str() {
            "TOKEN" => {
                let p = profile
                    .as_deref()
                    .ok_or_else(|| ApiError::invalid("recipient_profile_str", "is required for TOKEN providers"))?;
                parse_profile(p).map_err(|e| ApiError::invalid("recipient_profile_str", e))?;
                if global.is_some() {
                    return Err(ApiError::invalid(
                        "data_provider_global_metastore_id",
                        "is only for DATABRICKS providers",
                    ));
                }
            }
            "DATABRICKS" => {
                if profile.is_some() {
                    return Err(ApiError::invalid("recipient_profile_str", "is only for TOKEN providers"));
                }
                if let Some(g) = global.as_deref().filter(|g| split_global_metastore_id(g).is_none()) {
                    return Err(ApiError::invalid(
                        "data_provider_global_metastore_id",
                        format!("{g:?} is not of the form <cloud>:<region>:<metastore-uuid>"),
                    ));
                }
            }
            other => {
                return Err(ApiError::invalid(
                    "authentication_type",
                    format!("unknown value {other:?}; expected TOKEN or DATABRICKS"),
                ))
            }
        }
        Ok(ProviderSpec {
            name,
            authentication_type: auth,
            comment: c.comment,
            recipient_profile_str: profile,
            global_metastore_id: global,
        })
    }
}

impl ProviderSpec {
    pub fn into_new(self, owner: String, shares: Vec<String>, now: i64) -> NewProvider {
        NewProvider {
            name: self.name,
            authentication_type: self.authentication_type,
            comment: self.comment,
            recipient_profile_str: self.recipient_profile_str,
            data_provider_global_metastore_id: self.global_metastore_id,
            shares: serde_json::to_string(&shares).expect("strings serialize"),
            created_by: owner.clone(),
            owner,
            now,
        }
    }
}

/// The provider and its chain [provider, metastore] with the caller's grants.
pub fn load(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &Ident,
) -> ApiResult<(ProviderRow, [Node; 2])> {
    let p = providers::require(conn, metastore_id, name)?;
    let (mut pn, mut mn) = (p.node(), metastores::require(conn, metastore_id)?.node());
    securables::attach_grants(conn, &mut [&mut pn, &mut mn], &caller.principals_json)?;
    Ok((p, [pn, mn]))
}

/// createProvider
pub fn create(tx: &Connection, caller: &Caller, metastore_id: &str, spec: ProviderSpec) -> ApiResult<ProviderRow> {
    let ms = securables::metastore_node(tx, metastore_id, &caller.principals_json)?;
    let ok = authz::require(caller, &Action::CreateProvider, &[&ms]).map_err(denied)?;
    providers::insert(tx, &ok, metastore_id, &spec.into_new(caller.name.clone(), Vec::new(), now_ms()))
}

/// getProvider
pub fn get(conn: &Connection, caller: &Caller, metastore_id: &str, name: &Ident) -> ApiResult<ProviderRow> {
    let (p, [pn, mn]) = load(conn, caller, metastore_id, name)?;
    authz::require(caller, &Action::GetProvider, &[&pn, &mn]).map_err(denied)?;
    Ok(p)
}

/// deleteProvider
pub fn delete(tx: &Connection, caller: &Caller, metastore_id: &str, name: &Ident) -> ApiResult<()> {
    let (current, [pn, mn]) = load(tx, caller, metastore_id, name)?;
    let ok = authz::require(caller, &Action::DeleteProvider, &[&pn, &mn]).map_err(denied)?;
    providers::delete(tx, &ok, &current.id)
}
