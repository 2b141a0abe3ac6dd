//! Storage credentials: the credential kinds, createStorageCredential's validated input.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::domain::names::Ident;
use crate::error::{ApiError, ApiResult};
use crate::store::credentials::NewCredential;

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
#[derive(Deserialize, Default)]
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

#[derive(Deserialize)]
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
