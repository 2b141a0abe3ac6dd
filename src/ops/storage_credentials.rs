//! Storage credentials: the credential kinds, createStorageCredential's validated input.

use super::denied;
use crate::authz::{self, Action, Caller};
use crate::domain::now_ms;
use crate::error::ErrorCode;
use crate::store::securables;
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{changed, owner_name};
use crate::domain::names::Ident;
use crate::domain::storage_url::StorageUrl;
use crate::domain::update::{rename_to, UpdateShape};
use crate::error::{ApiError, ApiResult};
use crate::store::credentials::{self, CredentialChanges, CredentialRow, NewCredential};

/// A credential kind: its field name, the fields a create needs, optional fields, and which
/// of them are secrets (stored, never returned).
pub struct Kind {
    pub name: &'static str,
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
    pub secrets: &'static [&'static str],
}

/// The API reference's three kinds and the SDK's other three.
pub const KINDS: &[Kind] = &[
    Kind { name: "aws_iam_role", required: &["role_arn"], optional: &[], secrets: &[] },
    Kind {
        name: "azure_service_principal",
        required: &["directory_id", "application_id", "client_secret"],
        optional: &[],
        secrets: &["client_secret"],
    },
    Kind {
        name: "gcp_service_account_key",
        required: &["email", "private_key_id", "private_key"],
        optional: &[],
        secrets: &["private_key"],
    },
    Kind {
        name: "azure_managed_identity",
        required: &["access_connector_id"],
        optional: &["managed_identity_id"],
        secrets: &[],
    },
    Kind { name: "databricks_gcp_service_account", required: &[], optional: &[], secrets: &[] },
    Kind {
        name: "cloudflare_api_token",
        required: &["access_key_id", "secret_access_key"],
        optional: &["account_id"],
        secrets: &["secret_access_key"],
    },
];

pub fn kind(name: &str) -> &'static Kind {
    KINDS.iter().find(|k| k.name == name).expect("a stored kind is known")
}

/// The credential-detail objects of a body, by kind.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct Details {
    aws_iam_role: Option<Value>,
    azure_service_principal: Option<Value>,
    gcp_service_account_key: Option<Value>,
    azure_managed_identity: Option<Value>,
    databricks_gcp_service_account: Option<Value>,
    cloudflare_api_token: Option<Value>,
}

impl Details {
    /// The one kind given (none → `None`; more than one → 400).
    pub fn one(self) -> ApiResult<Option<(&'static Kind, Value)>> {
        let given: Vec<(&'static Kind, Value)> = [
            ("aws_iam_role", self.aws_iam_role),
            ("azure_service_principal", self.azure_service_principal),
            ("gcp_service_account_key", self.gcp_service_account_key),
            ("azure_managed_identity", self.azure_managed_identity),
            ("databricks_gcp_service_account", self.databricks_gcp_service_account),
            ("cloudflare_api_token", self.cloudflare_api_token),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.filter(|v| !v.is_null()).map(|v| (kind(k), v)))
        .collect();
        match given.len() {
            0 => Ok(None),
            1 => Ok(given.into_iter().next()),
            _ => {
                let names: Vec<&str> = given.iter().map(|(k, _)| k.name).collect();
                Err(ApiError::invalid(
                    &names.join(", "),
                    "give exactly one credential kind (aws_iam_role, azure_service_principal, gcp_service_account_key, azure_managed_identity, databricks_gcp_service_account or cloudflare_api_token)",
                ))
            }
        }
    }
}

/// The kind's known fields of `value`, each a string; `base` (the stored details of the same
/// kind, on update) supplies fields not given. Every required field must end up present.
pub fn kind_fields(kind: &Kind, value: Value, base: Option<&Map<String, Value>>) -> ApiResult<Map<String, Value>> {
    let Value::Object(given) = value else {
        return Err(ApiError::invalid(kind.name, "must be an object"));
    };
    let mut out = base.cloned().unwrap_or_default();
    for f in kind.required.iter().chain(kind.optional) {
        match given.get(*f) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.is_empty() && kind.required.contains(f) => {
                return Err(ApiError::invalid(&format!("{}.{f}", kind.name), "must not be empty"))
            }
            Some(Value::String(s)) => {
                out.insert(f.to_string(), Value::String(s.clone()));
            }
            Some(_) => return Err(ApiError::invalid(&format!("{}.{f}", kind.name), "must be a string")),
        }
    }
    for f in kind.required {
        if !out.contains_key(*f) {
            return Err(ApiError::invalid(&format!("{}.{f}", kind.name), "is required"));
        }
    }
    Ok(out)
}

/// Output-only fields the server generates for a new credential of `kind` (the AWS
/// identity that assumes the role, and the external id; ids for the SDK's managed kinds).
pub fn generate(kind: &Kind, fields: &mut Map<String, Value>, name: &str) {
    let id = crate::domain::new_id();
    let mut put = |k: &str, v: String| {
        fields.entry(k.to_string()).or_insert(Value::String(v));
    };
    match kind.name {
        "aws_iam_role" => {
            put("unity_catalog_iam_arn", "arn:aws:iam::000000000000:role/uc-emulator-unity-catalog".to_string());
            put("external_id", id);
        }
        "azure_managed_identity" => put("credential_id", id),
        "databricks_gcp_service_account" => {
            let short: String = id.chars().filter(|c| c.is_ascii_hexdigit()).take(12).collect();
            let slug: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).take(16).collect();
            put("email", format!("uc-{slug}-{short}@uc-emulator.iam.gserviceaccount.com"));
            put("credential_id", id);
        }
        _ => {}
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateStorageCredential {
    pub name: Option<String>,
    pub comment: Option<String>,
    pub read_only: Option<bool>,
    /// Accepted and ignored: no cloud is contacted.
    #[allow(dead_code)]
    pub skip_validation: Option<bool>,
    #[serde(flatten)]
    pub details: Details,
}

/// A validated credential create, shared with fixtures.
pub struct CredentialSpec {
    pub name: Ident,
    comment: Option<String>,
    kind: &'static Kind,
    fields: Map<String, Value>,
    read_only: bool,
}

impl TryFrom<CreateStorageCredential> for CredentialSpec {
    type Error = ApiError;
    fn try_from(c: CreateStorageCredential) -> ApiResult<Self> {
        let name = Ident::parse("name", c.name.as_deref().ok_or_else(|| ApiError::invalid("name", "is required"))?)?;
        let (kind, value) = c.details.one()?.ok_or_else(|| {
            ApiError::invalid(
                "aws_iam_role",
                "a credential needs exactly one kind: aws_iam_role, azure_service_principal, gcp_service_account_key, azure_managed_identity, databricks_gcp_service_account or cloudflare_api_token",
            )
        })?;
        let mut fields = kind_fields(kind, value, None)?;
        generate(kind, &mut fields, name.as_str());
        Ok(CredentialSpec { name, comment: c.comment, kind, fields, read_only: c.read_only.unwrap_or(false) })
    }
}

impl CredentialSpec {
    pub fn into_new(self, owner: String, now: i64) -> NewCredential {
        NewCredential {
            name: self.name,
            comment: self.comment,
            kind: self.kind.name.to_string(),
            details: Value::Object(self.fields).to_string(),
            read_only: self.read_only,
            created_by: owner.clone(),
            owner,
            now,
        }
    }
}

/// createStorageCredential: account admins or CREATE_STORAGE_CREDENTIAL on the metastore.
pub fn create(tx: &Connection, caller: &Caller, metastore_id: &str, spec: CredentialSpec) -> ApiResult<CredentialRow> {
    let ms = securables::metastore_node(tx, metastore_id, &caller.principals_json)?;
    let ok = authz::require(caller, &Action::CreateStorageCredential, &[&ms]).map_err(denied)?;
    credentials::insert(tx, &ok, metastore_id, &spec.into_new(caller.name.clone(), now_ms()))
}

/// getStorageCredential
pub fn get(conn: &Connection, caller: &Caller, metastore_id: &str, name: &Ident) -> ApiResult<CredentialRow> {
    let row = credentials::require(conn, metastore_id, name)?;
    let node = securables::with_grants(conn, row.node(), &caller.principals_json)?;
    authz::require(caller, &Action::GetStorageCredential, &[&node]).map_err(denied)?;
    Ok(row)
}

/// deleteStorageCredential: without `force`, only a credential nothing depends on.
pub fn delete(tx: &Connection, caller: &Caller, metastore_id: &str, name: &Ident, force: bool) -> ApiResult<()> {
    let current = credentials::require(tx, metastore_id, name)?;
    let node = securables::with_grants(tx, current.node(), &caller.principals_json)?;
    let ok = authz::require(caller, &Action::DeleteStorageCredential, &[&node]).map_err(denied)?;
    if !force {
        let (locations, tables) = credentials::dependents(tx, &current)?;
        if locations + tables > 0 {
            return Err(ApiError::new(
                ErrorCode::InvalidState,
                format!(
                    "Storage credential '{name}' has {locations} dependent external location(s) and {tables} dependent external table(s); use force=true to delete it anyway."
                ),
            ));
        }
    }
    credentials::delete(tx, &ok, &current.id)
}

/// The list: a page after `after`; every row for those who may list them all, else the rows the
/// caller may get (the page's grants in one query).
pub fn list(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    after: &str,
    limit: Option<usize>,
) -> ApiResult<(Vec<CredentialRow>, Option<String>)> {
    let page = credentials::scan(conn, metastore_id, after, limit)?;
    let all = authz::visible(caller, &Action::ListAllStorageCredentials, &[]);
    let rule = super::lists::Rule { all, action: &Action::GetStorageCredential, browse: None };
    let judged = super::lists::judge(conn, caller, page.rows, |r| r.node(), rule, &[])?;
    let rows = judged.into_iter().filter(|(_, shown)| *shown == super::lists::Shown::Full).map(|(r, _)| r).collect();
    Ok((rows, page.more_after))
}

#[derive(Default, Deserialize, utoipa::ToSchema)]
pub struct UpdateStorageCredential {
    name: Option<String>,
    new_name: Option<String>,
    comment: Option<String>,
    owner: Option<String>,
    read_only: Option<bool>,
    isolation_mode: Option<String>,
    #[allow(dead_code)]
    skip_validation: Option<bool>,
    #[allow(dead_code)]
    force: Option<bool>,
    #[serde(flatten)]
    details: Details,
}

pub const ISOLATION_MODES: &[&str] = &["ISOLATION_MODE_OPEN", "ISOLATION_MODE_ISOLATED"];

/// A validated updateStorageCredential body.
pub struct CredentialUpdate {
    name: Option<Ident>,
    new_name: Option<Ident>,
    comment: Option<String>,
    owner: Option<String>,
    read_only: Option<bool>,
    isolation_mode: Option<String>,
    details: Option<(&'static Kind, Value)>,
}

impl TryFrom<UpdateStorageCredential> for CredentialUpdate {
    type Error = ApiError;
    fn try_from(body: UpdateStorageCredential) -> ApiResult<Self> {
        let new_name = body.new_name.map(|n| Ident::parse("new_name", &n)).transpose()?;
        let name = body.name.map(|n| Ident::parse("name", &n)).transpose()?;
        if let Some(mode) = &body.isolation_mode {
            if !ISOLATION_MODES.contains(&mode.as_str()) {
                return Err(ApiError::invalid(
                    "isolation_mode",
                    format!("unknown value {mode:?}; expected one of {ISOLATION_MODES:?}"),
                ));
            }
        }
        let details = body.details.one()?;
        Ok(CredentialUpdate {
            name,
            new_name,
            comment: body.comment,
            owner: body.owner,
            read_only: body.read_only,
            isolation_mode: body.isolation_mode,
            details,
        })
    }
}

/// updateStorageCredential: an `owner` change by the owner or an admin, anything else by an
/// account admin.
pub fn update(
    tx: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &Ident,
    body: CredentialUpdate,
) -> ApiResult<CredentialRow> {
    let current = credentials::require(tx, metastore_id, name)?;
    let owner = body.owner.as_deref().map(|o| owner_name(tx, o)).transpose()?;
    let details = match body.details {
        None => None,
        Some((kind, value)) => {
            // The same kind: the given fields over the stored ones; another kind: complete.
            let stored: Map<String, Value> = serde_json::from_str(&current.details).unwrap_or_default();
            let base = (kind.name == current.kind).then_some(&stored);
            let mut fields = kind_fields(kind, value, base)?;
            generate(kind, &mut fields, &current.name);
            let text = Value::Object(fields).to_string();
            (kind.name != current.kind || text != current.details).then(|| (kind.name.to_string(), text))
        }
    };
    let changes = CredentialChanges {
        new_name: rename_to(name, body.name, body.new_name),
        owner: owner.filter(|o| *o != current.owner),
        comment: body.comment.filter(|c| changed(&current.comment, c)),
        details,
        read_only: body.read_only.filter(|r| *r != current.read_only),
        isolation_mode: body.isolation_mode.filter(|m| *m != current.isolation_mode),
    };
    let shape = UpdateShape {
        rename: changes.new_name.is_some(),
        owner: changes.owner.is_some(),
        other: changes.comment.is_some()
            || changes.details.is_some()
            || changes.read_only.is_some()
            || changes.isolation_mode.is_some(),
    };
    let node = securables::with_grants(tx, current.node(), &caller.principals_json)?;
    let ok = authz::require(caller, &Action::UpdateStorageCredential(shape), &[&node]).map_err(denied)?;
    credentials::update(tx, &ok, &current, &changes, &caller.name, now_ms())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ValidateStorageCredential {
    storage_credential_name: Option<String>,
    external_location_name: Option<String>,
    url: Option<String>,
    read_only: Option<bool>,
    #[serde(flatten)]
    details: Details,
}

/// A validated validate-storage-credentials body: a named credential or well-formed inline
/// details, an optional external location and URL.
pub struct ValidateSpec {
    credential: Option<Ident>,
    location: Option<Ident>,
    pub url: Option<StorageUrl>,
    pub read_only: bool,
}

impl TryFrom<ValidateStorageCredential> for ValidateSpec {
    type Error = ApiError;
    fn try_from(req: ValidateStorageCredential) -> ApiResult<Self> {
        let inline = req.details.one()?;
        if let Some((kind, value)) = inline.clone() {
            kind_fields(kind, value, None)?;
        }
        let credential =
            req.storage_credential_name.map(|n| Ident::parse("storage_credential_name", &n)).transpose()?;
        let location = req.external_location_name.map(|n| Ident::parse("external_location_name", &n)).transpose()?;
        if inline.is_none() && credential.is_none() {
            return Err(ApiError::invalid(
                "storage_credential_name",
                "is required unless credential details are given",
            ));
        }
        let url = req
            .url
            .filter(|u| !u.is_empty())
            .map(|u| StorageUrl::parse(&u).map_err(|e| ApiError::invalid("url", e)))
            .transpose()?;
        Ok(ValidateSpec { credential, location, url, read_only: req.read_only.unwrap_or(false) })
    }
}

/// validate-storage-credentials, the part inside the store: the named credential and location
/// exist, and the caller may validate (metastore admin, the credential's owner, or
/// CREATE_EXTERNAL_LOCATION on the metastore and the credential). Returns the URL to probe: the
/// one given, else the location's.
pub fn validate(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    spec: ValidateSpec,
) -> ApiResult<Option<StorageUrl>> {
    let mut ms = crate::store::metastores::require(conn, metastore_id)?.node();
    let cred = spec.credential.as_ref().map(|n| credentials::require(conn, metastore_id, n)).transpose()?;
    let location =
        spec.location.as_ref().map(|n| crate::store::external_locations::require(conn, metastore_id, n)).transpose()?;
    let mut cnode = cred.map(|c| c.node());
    let mut nodes: Vec<&mut crate::authz::Node> = vec![&mut ms];
    if let Some(c) = cnode.as_mut() {
        nodes.push(c);
    }
    securables::attach_grants(conn, &mut nodes, &caller.principals_json)?;
    let mut chain = Vec::new();
    if let Some(c) = &cnode {
        chain.push(c);
    }
    chain.push(&ms);
    authz::require(caller, &Action::ValidateStorageCredential, &chain).map_err(denied)?;
    Ok(spec.url.or_else(|| location.as_ref().map(|l| l.storage_url())))
}
