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

#[derive(Serialize, utoipa::ToSchema)]
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

#[derive(Deserialize, utoipa::ToSchema)]
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

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UpdateProvider {
    name: Option<String>,
    new_name: Option<String>,
    owner: Option<String>,
    comment: Option<String>,
    recipient_profile_str: Option<String>,
}

/// A validated updateProvider body.
pub struct ProviderUpdate {
    name: Option<Ident>,
    new_name: Option<Ident>,
    owner: Option<String>,
    comment: Option<String>,
    profile: Option<String>,
}

impl TryFrom<UpdateProvider> for ProviderUpdate {
    type Error = ApiError;
    fn try_from(body: UpdateProvider) -> ApiResult<Self> {
        let new_name = body.new_name.map(|n| Ident::parse("new_name", &n)).transpose()?;
        let name = body.name.map(|n| Ident::parse("name", &n)).transpose()?;
        let profile = body.recipient_profile_str.filter(|p| !p.is_empty());
        if let Some(p) = &profile {
            parse_profile(p).map_err(|e| ApiError::invalid("recipient_profile_str", e))?;
        }
        Ok(ProviderUpdate { name, new_name, owner: body.owner, comment: body.comment, profile })
    }
}

/// updateProvider: the owner; a metastore admin changing only `owner`; renames need both.
pub fn update(
    tx: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &Ident,
    body: ProviderUpdate,
) -> ApiResult<ProviderRow> {
    let (current, [pn, mn]) = load(tx, caller, metastore_id, name)?;
    if body.profile.is_some() && current.authentication_type != "TOKEN" {
        return Err(ApiError::invalid("recipient_profile_str", "is only for TOKEN providers"));
    }
    let owner = body.owner.as_deref().map(|o| super::owner_name(tx, o)).transpose()?.filter(|o| *o != current.owner);
    let changes = providers::ProviderChanges {
        new_name: crate::domain::update::rename_to(name, body.name, body.new_name),
        comment: body.comment.filter(|c| super::changed(&current.comment, c)),
        recipient_profile_str: body.profile.filter(|p| super::changed(&current.recipient_profile_str, p)),
        owner,
    };
    let shape = crate::domain::update::UpdateShape {
        rename: changes.new_name.is_some(),
        owner: changes.owner.is_some(),
        other: changes.comment.is_some() || changes.recipient_profile_str.is_some(),
    };
    let ok = authz::require(caller, &Action::UpdateProvider(shape), &[&pn, &mn]).map_err(denied)?;
    providers::update(tx, &ok, &current, &changes, &caller.name, crate::domain::now_ms())
}

/// listProviderShares: the names of the shares a provider offers (as getProvider).
pub fn shares(conn: &Connection, caller: &Caller, metastore_id: &str, name: &Ident) -> ApiResult<Vec<String>> {
    let (prov, [pn, mn]) = load(conn, caller, metastore_id, name)?;
    authz::require(caller, &Action::GetProvider, &[&pn, &mn]).map_err(denied)?;
    Ok(serde_json::from_str::<Vec<String>>(&prov.shares).unwrap_or_default())
}

/// listProviders: a page of providers after `after`, each shown when the caller may get it (all
/// for metastore admins and USE_PROVIDER holders), optionally of one global metastore id.
pub fn list(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    after: &str,
    limit: Option<usize>,
    wanted: Option<&str>,
) -> ApiResult<(Vec<ProviderRow>, Option<String>)> {
    let ms = securables::metastore_node(conn, metastore_id, &caller.principals_json)?;
    let all = authz::visible(caller, &Action::ListAllProviders, &[&ms]);
    let page = providers::scan(conn, metastore_id, after, limit)?;
    let rows = page
        .rows
        .into_iter()
        .filter(|p| all || authz::visible(caller, &Action::GetProvider, &[&p.node(), &ms]))
        .filter(|p| wanted.is_none() || p.data_provider_global_metastore_id.as_deref() == wanted)
        .collect();
    Ok((rows, page.more_after))
}
