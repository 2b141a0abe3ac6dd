//! Partner registrations: the API's `PartnerConfig` validated field by field, credentials and
//! call options. Every violation is collected, so one answer lists
//! them all.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

pub const CATEGORIES: &[&str] = &[
    "INGEST",
    "DATA_PREP_AND_TRANSFORM",
    "SECURITY_AND_GOVERNANCE",
    "BI_AND_VIZ",
    "ML",
    "DATA_QUALITY",
    "REVERSE_ETL",
    "SEMANTIC_LAYER",
    "DATA_GOVERNANCE",
];
pub const RESOURCE_TYPES: &[&str] = &["PAT", "SqlEndpoint", "DestLocation", "InteractiveCluster"];
pub const DATA_PERMISSIONS: &[&str] = &[
    "SELECT",
    "CREATE",
    "MODIFY",
    "USAGE",
    "READ_METADATA",
    "CREATE_NAMED_FUNCTION",
    "MODIFY_CLASSPATH",
    "ALL PRIVILEGES",
    "USE_CATALOG",
    "USE_SCHEMA",
    "CREATE_SCHEMA",
    "CREATE_TABLE",
];
pub const OBJECT_NAMES: &[&str] = &[
    "Token",
    "Password",
    "Cluster",
    "Pool",
    "Job",
    "DLT_Pipeline",
    "Notebook",
    "Directory",
    "MLflow_Experiment",
    "MLflow_Registered_Model",
    "SQL_Endpoint",
    "Repo",
];
pub const OBJECT_LEVELS: &[&str] = &[
    "CAN_MANAGE",
    "CAN_RESTART",
    "CAN_ATTACH_TO",
    "IS_OWNER",
    "CAN_MANAGE_RUN",
    "CAN_VIEW",
    "CAN_READ",
    "CAN_RUN",
    "CAN_EDIT",
    "CAN_USE",
    "CAN_MANAGE_STAGING_VERSIONS",
    "CAN_MANAGE_PRODUCTION_VERSIONS",
    "CAN_EDIT_METADATA",
    "CAN_VIEW_METADATA",
];
pub const CLOUDS: &[&str] = &["aws", "azure", "gcp"];
pub const NEW_USER_ACTIONS: &[&str] = &["auto_add", "invite", "not_found", "error"];
pub const ENDPOINT_KEYS: &[&str] = &[
    "connect_path",
    "test_connection_path",
    "delete_connection_path",
    "delete_account_path",
    "expire_account_path",
    "get_connectors_path",
];

/// The levels that apply to the objects the emulator provisions.
pub fn levels_for(object: &str) -> Option<&'static [&'static str]> {
    match object {
        "SQL_Endpoint" => Some(&["CAN_USE", "CAN_MANAGE", "CAN_VIEW", "IS_OWNER"]),
        "Token" => Some(&["CAN_USE", "CAN_MANAGE"]),
        "Password" => Some(&["CAN_USE"]),
        _ => None,
    }
}

/// `<PARTNER-NAME>`: upper-cased, runs of non-alphanumerics as one `_`, trimmed.
pub fn partner_key(name: &str) -> String {
    let mut out = String::new();
    let mut gap = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(c.to_ascii_uppercase());
        } else {
            gap = true;
        }
    }
    out
}

/// `gpc` is the API's typo for `gcp`.
pub fn canonical_cloud(c: &str) -> Option<&'static str> {
    match c {
        "aws" => Some("aws"),
        "azure" => Some("azure"),
        "gcp" | "gpc" => Some("gcp"),
        _ => None,
    }
}

/// A validated config: the fields the emulator acts on, and the document as sent.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PartnerConfig {
    pub name: String,
    pub base_url: String,
    pub endpoints: Endpoints,
    pub resources: Vec<String>,
    pub data_permissions: Vec<String>,
    pub object_permissions: Vec<(String, String)>,
    pub supported_clouds: Vec<String>,
    pub hostnames: Vec<String>,
    pub new_user_action: String,
    pub require_manual_signup: bool,
    pub trial_type: Option<String>,
    pub supports_demo: bool,
    pub test_workspace_detail: Option<Json>,
    /// The config as registered, unknown keys included.
    pub raw: Json,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Endpoints {
    pub connect_path: String,
    pub test_connection_path: Option<String>,
    pub delete_connection_path: Option<String>,
    pub delete_account_path: Option<String>,
    pub expire_account_path: Option<String>,
    pub get_connectors_path: Option<String>,
}

/// Call options with defaults filled in.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct CallOptions {
    pub timeout_ms: u64,
    pub max_retries: u32,
    pub retry_backoff_ms: u64,
}

impl Default for CallOptions {
    fn default() -> Self {
        CallOptions { timeout_ms: 10_000, max_retries: 3, retry_backoff_ms: 1_000 }
    }
}

/// A whole registration document, validated.
#[derive(Clone, Debug)]
pub struct Registration {
    pub config: PartnerConfig,
    pub basic_auth: Option<(String, String)>,
    pub options: CallOptions,
}

struct Checker {
    violations: Vec<String>,
}

impl Checker {
    fn bad(&mut self, field: &str, problem: impl std::fmt::Display) {
        self.violations.push(format!("{field}: {problem}"));
    }

    fn string(&mut self, obj: &Map<String, Json>, prefix: &str, key: &str, required: bool) -> Option<String> {
        let field = format!("{prefix}{key}");
        match obj.get(key) {
            None | Some(Json::Null) => {
                if required {
                    self.bad(&field, "required");
                }
                None
            }
            Some(Json::String(s)) => Some(s.clone()),
            Some(_) => {
                self.bad(&field, "must be a string");
                None
            }
        }
    }

    fn boolean(&mut self, obj: &Map<String, Json>, prefix: &str, key: &str) -> Option<bool> {
        match obj.get(key) {
            None | Some(Json::Null) => None,
            Some(Json::Bool(b)) => Some(*b),
            Some(_) => {
                self.bad(&format!("{prefix}{key}"), "must be a JSON boolean");
                None
            }
        }
    }

    fn one_of(&mut self, field: &str, value: &str, allowed: &[&str]) -> bool {
        if allowed.contains(&value) {
            true
        } else {
            self.bad(field, format!("{value:?} is not one of {}", allowed.join(", ")));
            false
        }
    }

    fn array<'a>(
        &mut self,
        obj: &'a Map<String, Json>,
        prefix: &str,
        key: &str,
        required: bool,
    ) -> Option<&'a Vec<Json>> {
        match obj.get(key) {
            None | Some(Json::Null) => {
                if required {
                    self.bad(&format!("{prefix}{key}"), "required");
                }
                None
            }
            Some(Json::Array(a)) => Some(a),
            Some(_) => {
                self.bad(&format!("{prefix}{key}"), "must be an array");
                None
            }
        }
    }

    fn http_url(&mut self, field: &str, url: &str, allow_path: bool) {
        match parse_http_url(url) {
            Ok(u) if !allow_path && (u.query || u.fragment) => self.bad(field, "must not carry a query or fragment"),
            Ok(u) if u.query || u.fragment => self.bad(field, "must not carry a query or fragment"),
            Ok(_) => {}
            Err(e) => self.bad(field, e),
        }
    }
}

/// The parts of an `http`/`https` URL the checks need.
pub struct HttpUrl {
    pub scheme: String,
    pub host: String,
    pub query: bool,
    pub fragment: bool,
}

pub fn parse_http_url(url: &str) -> Result<HttpUrl, String> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| format!("{url:?} is not an absolute http(s) URL"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!("{url:?} is not an http or https URL"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let host = if host_port.starts_with('[') {
        host_port.split(']').next().unwrap_or("").trim_start_matches('[').to_string()
    } else {
        host_port.split(':').next().unwrap_or("").to_string()
    };
    if host.is_empty() {
        return Err(format!("{url:?} has no host"));
    }
    Ok(HttpUrl { scheme, host: host.to_ascii_lowercase(), query: rest.contains('?'), fragment: rest.contains('#') })
}

fn is_version(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) && parts[0] == "2"
}

fn image_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !name.is_empty() && (lower.ends_with(".png") || lower.ends_with(".svg")) && lower.len() > 4
}

fn hostname(h: &str) -> bool {
    !h.is_empty()
        && !h.contains("://")
        && !h.contains('/')
        && !h.contains(':')
        && h.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// Validates a `PartnerConfig`; `prefix` is `config.` inside a registration, empty for
/// certify's bare config.
pub fn validate_config(raw: &Json, prefix: &str) -> Result<PartnerConfig, Vec<String>> {
    let mut c = Checker { violations: Vec::new() };
    let Some(obj) = raw.as_object() else {
        return Err(vec![format!("{}: must be a JSON object", prefix.trim_end_matches('.').if_empty("config"))]);
    };
    let p = prefix;
    if let Some(v) = c.string(obj, p, "api_version", true) {
        if !is_version(&v) {
            c.bad(&format!("{p}api_version"), format!("{v:?} is not a 2.x.y version"));
        }
    }
    let name = c.string(obj, p, "name", true).unwrap_or_default();
    if obj.contains_key("name") && (name.is_empty() || name.chars().count() > 100 || partner_key(&name).is_empty()) {
        c.bad(&format!("{p}name"), "must be 1 to 100 characters with at least one letter or digit");
    }
    c.string(obj, p, "description_blurb", true);
    if let Some(cat) = c.string(obj, p, "category", true) {
        c.one_of(&format!("{p}category"), &cat, CATEGORIES);
    }
    let base_url = c.string(obj, p, "base_url", true).unwrap_or_default();
    if !base_url.is_empty() {
        c.http_url(&format!("{p}base_url"), &base_url, true);
    }
    let mut endpoints = Endpoints::default();
    match obj.get("endpoints") {
        Some(Json::Object(e)) => {
            for key in ENDPOINT_KEYS {
                let field = format!("{p}endpoints.{key}");
                let value = c.string(e, &format!("{p}endpoints."), key, *key == "connect_path");
                if let Some(v) = &value {
                    if !v.starts_with('/') {
                        c.bad(&field, format!("{v:?} must start with /"));
                    }
                }
                match *key {
                    "connect_path" => endpoints.connect_path = value.unwrap_or_default(),
                    "test_connection_path" => endpoints.test_connection_path = value,
                    "delete_connection_path" => endpoints.delete_connection_path = value,
                    "delete_account_path" => endpoints.delete_account_path = value,
                    "expire_account_path" => endpoints.expire_account_path = value,
                    _ => endpoints.get_connectors_path = value,
                }
            }
        }
        None | Some(Json::Null) => c.bad(&format!("{p}endpoints"), "required"),
        Some(_) => c.bad(&format!("{p}endpoints"), "must be an object"),
    }
    for key in ["sign_up_page", "privacy_policy", "terms_of_service"] {
        if let Some(u) = c.string(obj, p, key, true) {
            c.http_url(&format!("{p}{key}"), &u, true);
        }
    }
    for key in ["logo_file", "icon_file"] {
        if let Some(f) = c.string(obj, p, key, true) {
            if !image_file(&f) {
                c.bad(&format!("{p}{key}"), format!("{f:?} is not a .png or .svg file name"));
            }
        }
    }
    c.boolean(obj, p, "allow_editable_email");
    let mut resources = Vec::new();
    if let Some(items) = c.array(obj, p, "resources_to_provision", true) {
        for (i, item) in items.iter().enumerate() {
            let field = format!("{p}resources_to_provision[{i}].resource_type");
            match item.get("resource_type").and_then(Json::as_str) {
                Some(r) if c.one_of(&field, r, RESOURCE_TYPES) => {
                    if resources.iter().any(|x: &String| x == r) {
                        c.bad(&field, format!("{r:?} is listed twice"));
                    } else {
                        resources.push(r.to_string());
                    }
                }
                Some(_) => {}
                None => c.bad(&field, "required"),
            }
        }
    }
    let mut data_permissions = Vec::new();
    if let Some(items) = c.array(obj, p, "data_permissions", false) {
        for (i, item) in items.iter().enumerate() {
            let field = format!("{p}data_permissions[{i}].permission");
            match item.get("permission").and_then(Json::as_str) {
                Some(perm) if c.one_of(&field, perm, DATA_PERMISSIONS) => {
                    if !data_permissions.iter().any(|x: &String| x == perm) {
                        data_permissions.push(perm.to_string());
                    }
                }
                Some(_) => {}
                None => c.bad(&field, "required"),
            }
        }
    }
    let mut object_permissions = Vec::new();
    if let Some(items) = c.array(obj, p, "object_permissions", false) {
        for (i, item) in items.iter().enumerate() {
            let name = item.get("name").and_then(Json::as_str);
            let level = item.get("level").and_then(Json::as_str);
            let name_ok = match name {
                Some(n) => c.one_of(&format!("{p}object_permissions[{i}].name"), n, OBJECT_NAMES),
                None => {
                    c.bad(&format!("{p}object_permissions[{i}].name"), "required");
                    false
                }
            };
            let level_field = format!("{p}object_permissions[{i}].level");
            let level_ok = match level {
                Some(l) => c.one_of(&level_field, l, OBJECT_LEVELS),
                None => {
                    c.bad(&level_field, "required");
                    false
                }
            };
            if let (true, true, Some(n), Some(l)) = (name_ok, level_ok, name, level) {
                match levels_for(n) {
                    Some(allowed) if !allowed.contains(&l) => c.bad(&level_field, format!("{l} does not apply to {n}")),
                    _ => object_permissions.push((n.to_string(), l.to_string())),
                }
            }
        }
    }
    let mut supported_clouds = Vec::new();
    if let Some(items) = c.array(obj, p, "supported_clouds", true) {
        if items.is_empty() {
            c.bad(&format!("{p}supported_clouds"), "must not be empty");
        }
        for (i, item) in items.iter().enumerate() {
            match item.as_str().and_then(canonical_cloud) {
                Some(cloud) => supported_clouds.push(cloud.to_string()),
                None => c.bad(&format!("{p}supported_clouds[{i}]"), format!("{item} is not one of aws, azure, gcp")),
            }
        }
    }
    let mut hostnames = Vec::new();
    if let Some(items) = c.array(obj, p, "hostnames", true) {
        if items.is_empty() {
            c.bad(&format!("{p}hostnames"), "must not be empty");
        }
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(h) if hostname(h) => hostnames.push(h.to_ascii_lowercase()),
                _ => {
                    c.bad(&format!("{p}hostnames[{i}]"), format!("{item} is not a host name (no scheme, port or path)"))
                }
            }
        }
    }
    let new_user_action = c.string(obj, p, "new_user_action", true).unwrap_or_default();
    if obj.get("new_user_action").is_some_and(Json::is_string) {
        c.one_of(&format!("{p}new_user_action"), &new_user_action, NEW_USER_ACTIONS);
    }
    let require_manual_signup = c.boolean(obj, p, "require_manual_signup").unwrap_or(false);
    let trial_type = c.string(obj, p, "trial_type", false);
    if let Some(t) = &trial_type {
        c.one_of(&format!("{p}trial_type"), t, &["user", "account"]);
    }
    let supports_demo = c.boolean(obj, p, "supports_demo").unwrap_or(false);
    let test_workspace_detail = match obj.get("test_workspace_detail") {
        None | Some(Json::Null) => None,
        Some(Json::Object(t)) => {
            let tp = format!("{p}test_workspace_detail.");
            for key in ["hostname", "jdbc_url", "databricks_jdbc_url", "http_path", "cluster_id"] {
                c.string(t, &tp, key, true);
            }
            match t.get("port").and_then(Json::as_i64) {
                Some(port) if (1..=65535).contains(&port) => {}
                _ => c.bad(&format!("{tp}port"), "must be an integer from 1 to 65535"),
            }
            Some(Json::Object(t.clone()))
        }
        Some(_) => {
            c.bad(&format!("{p}test_workspace_detail"), "must be an object");
            None
        }
    };
    if !c.violations.is_empty() {
        return Err(c.violations);
    }
    Ok(PartnerConfig {
        name,
        base_url,
        endpoints,
        resources,
        data_permissions,
        object_permissions,
        supported_clouds,
        hostnames,
        new_user_action,
        require_manual_signup,
        trial_type,
        supports_demo,
        test_workspace_detail,
        raw: raw.clone(),
    })
}

trait IfEmpty {
    fn if_empty<'a>(&'a self, other: &'a str) -> &'a str;
}

impl IfEmpty for str {
    fn if_empty<'a>(&'a self, other: &'a str) -> &'a str {
        if self.is_empty() {
            other
        } else {
            self
        }
    }
}

/// Validates a registration document: every violation, `; `-separated by the caller.
pub fn validate_registration(doc: &Json) -> Result<Registration, Vec<String>> {
    let Some(obj) = doc.as_object() else {
        return Err(vec!["body: must be a JSON object".into()]);
    };
    let mut violations = Vec::new();
    let config = match obj.get("config") {
        None | Some(Json::Null) => {
            violations.push("config: required".to_string());
            None
        }
        Some(raw) => match validate_config(raw, "config.") {
            Ok(c) => Some(c),
            Err(v) => {
                violations.extend(v);
                None
            }
        },
    };
    let basic_auth = match obj.get("basic_auth") {
        None | Some(Json::Null) => None,
        Some(Json::Object(b)) => {
            let user = b.get("username").and_then(Json::as_str);
            let password = b.get("password").and_then(Json::as_str);
            match user {
                Some(u) if !u.is_empty() && !u.contains(':') => {}
                _ => violations.push("basic_auth.username: required, non-empty, without ':'".into()),
            }
            match password {
                Some(p) if !p.is_empty() => {}
                _ => violations.push("basic_auth.password: required, a non-empty string".into()),
            }
            user.zip(password).map(|(u, p)| (u.to_string(), p.to_string()))
        }
        Some(_) => {
            violations.push("basic_auth: must be an object".into());
            None
        }
    };
    let mut options = CallOptions::default();
    match obj.get("options") {
        None | Some(Json::Null) => {}
        Some(Json::Object(o)) => {
            let mut int = |key: &str, lo: u64, hi: u64| -> Option<u64> {
                match o.get(key) {
                    None | Some(Json::Null) => None,
                    Some(v) => match v.as_u64() {
                        Some(n) if (lo..=hi).contains(&n) => Some(n),
                        _ => {
                            violations.push(format!("options.{key}: must be an integer from {lo} to {hi}"));
                            None
                        }
                    },
                }
            };
            if let Some(t) = int("timeout_ms", 100, 600_000) {
                options.timeout_ms = t;
            }
            if let Some(r) = int("max_retries", 0, 10) {
                options.max_retries = r as u32;
            }
            if let Some(b) = int("retry_backoff_ms", 0, 60_000) {
                options.retry_backoff_ms = b;
            }
        }
        Some(_) => violations.push("options: must be an object".into()),
    }
    match (config, violations.is_empty()) {
        (Some(config), true) => Ok(Registration { config, basic_auth, options }),
        _ => Err(violations),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub fn good() -> Json {
        json!({
            "api_version": "2.1.1", "name": "Acme Ingest", "description_blurb": "x", "category": "INGEST",
            "base_url": "http://127.0.0.1:9001/acme", "endpoints": {"connect_path": "/connect"},
            "sign_up_page": "https://acme.example/signup", "privacy_policy": "https://acme.example/p",
            "terms_of_service": "https://acme.example/t", "logo_file": "acme.png", "icon_file": "acme.svg",
            "resources_to_provision": [{"resource_type": "PAT"}], "supported_clouds": ["aws", "gpc"],
            "hostnames": ["acme.example"], "new_user_action": "auto_add"
        })
    }

    #[test]
    fn partner_names_normalise() {
        assert_eq!(partner_key("Acme Ingest"), "ACME_INGEST");
        assert_eq!(partner_key("dbt Cloud"), "DBT_CLOUD");
        assert_eq!(partner_key("Power-BI (EU)"), "POWER_BI_EU");
        assert_eq!(partner_key("acme_ingest v2"), "ACME_INGEST_V2");
        assert_eq!(partner_key("!!"), "");
    }

    #[test]
    fn a_good_config_validates_and_gpc_means_gcp() {
        let c = validate_config(&good(), "config.").unwrap();
        assert_eq!(c.supported_clouds, vec!["aws", "gcp"]);
    }

    #[test]
    fn every_violation_is_named() {
        let mut bad = good();
        bad["endpoints"] = json!({});
        bad["data_permissions"] = json!([{"permission": "SELEKT"}]);
        bad["object_permissions"] = json!([{"name": "SQL_Endpoint", "level": "CAN_RESTART"}]);
        let v = validate_config(&bad, "config.").unwrap_err();
        assert!(v.contains(&"config.endpoints.connect_path: required".to_string()), "{v:?}");
        assert!(v.iter().any(|x| x.starts_with("config.data_permissions[0].permission: \"SELEKT\"")), "{v:?}");
        assert!(
            v.contains(&"config.object_permissions[0].level: CAN_RESTART does not apply to SQL_Endpoint".to_string())
        );
    }

    #[test]
    fn options_are_range_checked() {
        let doc = json!({"config": good(), "options": {"timeout_ms": 5}});
        assert_eq!(
            validate_registration(&doc).unwrap_err(),
            vec!["options.timeout_ms: must be an integer from 100 to 600000"]
        );
        let ok = validate_registration(&json!({"config": good(), "options": {"max_retries": 0}})).unwrap();
        assert_eq!(ok.options, CallOptions { timeout_ms: 10_000, max_retries: 0, retry_backoff_ms: 1_000 });
    }
}
