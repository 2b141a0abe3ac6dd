//! Partner registrations: the API's `PartnerConfig` validated field by field, credentials and
//! call options. Every violation is collected, so one answer lists
//! them all.

use serde::de::{DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

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
    pub test_workspace_detail: Option<WorkspaceDetail>,
    /// The config as registered, unknown keys included: `PartnerInfo.config` answers it as sent.
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

/// `test_workspace_detail`: what certify's sandbox tells the partner instead of its own address.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkspaceDetail {
    pub hostname: String,
    pub port: u16,
    pub jdbc_url: String,
    pub databricks_jdbc_url: String,
    pub http_path: String,
    pub cluster_id: String,
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

/// One field of a wire document, read on its own: serde stops at the first field of the wrong
/// type, and the API answers every violation at once, so each field keeps its own outcome.
#[derive(Debug, Default)]
pub enum Field<T> {
    #[default]
    Missing,
    Null,
    Valid(T),
    /// Another JSON type: the value as JSON text, for the message.
    Invalid(String),
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Json::deserialize(d)?;
        if value.is_null() {
            return Ok(Field::Null);
        }
        Ok(match T::deserialize(&value) {
            Ok(v) => Field::Valid(v),
            Err(_) => Field::Invalid(value.to_string()),
        })
    }
}

impl<T> Field<T> {
    fn valid(self) -> Option<T> {
        match self {
            Field::Valid(v) => Some(v),
            _ => None,
        }
    }
}

/// A JSON object read into `T` (serde's derived structs would also take an array).
#[derive(Debug)]
pub struct Obj<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Visit<T> {
            type Value = Obj<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Obj<T>, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Obj)
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

/// `PartnerConfig` as partners send it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConfigWire {
    api_version: Field<String>,
    name: Field<String>,
    description_blurb: Field<String>,
    category: Field<String>,
    base_url: Field<String>,
    endpoints: Field<Obj<EndpointsWire>>,
    sign_up_page: Field<String>,
    privacy_policy: Field<String>,
    terms_of_service: Field<String>,
    logo_file: Field<String>,
    icon_file: Field<String>,
    allow_editable_email: Field<bool>,
    resources_to_provision: Field<Vec<Field<Obj<ResourceWire>>>>,
    data_permissions: Field<Vec<Field<Obj<DataPermissionWire>>>>,
    object_permissions: Field<Vec<Field<Obj<ObjectPermissionWire>>>>,
    supported_clouds: Field<Vec<Field<String>>>,
    hostnames: Field<Vec<Field<String>>>,
    new_user_action: Field<String>,
    require_manual_signup: Field<bool>,
    trial_type: Field<String>,
    supports_demo: Field<bool>,
    test_workspace_detail: Field<Obj<WorkspaceDetailWire>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EndpointsWire {
    connect_path: Field<String>,
    test_connection_path: Field<String>,
    delete_connection_path: Field<String>,
    delete_account_path: Field<String>,
    expire_account_path: Field<String>,
    get_connectors_path: Field<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResourceWire {
    resource_type: Field<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DataPermissionWire {
    permission: Field<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ObjectPermissionWire {
    name: Field<String>,
    level: Field<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WorkspaceDetailWire {
    hostname: Field<String>,
    jdbc_url: Field<String>,
    databricks_jdbc_url: Field<String>,
    http_path: Field<String>,
    cluster_id: Field<String>,
    port: Field<i64>,
}

/// A registration document as sent: `config` is kept as sent (its unknown keys too), and read
/// into [`ConfigWire`] when validated.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RegistrationWire {
    config: Field<Json>,
    basic_auth: Field<Obj<BasicAuthWire>>,
    options: Field<Obj<OptionsWire>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BasicAuthWire {
    username: Field<String>,
    password: Field<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OptionsWire {
    timeout_ms: Field<u64>,
    max_retries: Field<u64>,
    retry_backoff_ms: Field<u64>,
}

struct Checker {
    violations: Vec<String>,
}

impl Checker {
    fn bad(&mut self, field: &str, problem: impl std::fmt::Display) {
        self.violations.push(format!("{field}: {problem}"));
    }

    fn string(&mut self, value: Field<String>, field: &str, required: bool) -> Option<String> {
        match value {
            Field::Missing | Field::Null => {
                if required {
                    self.bad(field, "required");
                }
                None
            }
            Field::Valid(s) => Some(s),
            Field::Invalid(_) => {
                self.bad(field, "must be a string");
                None
            }
        }
    }

    fn boolean(&mut self, value: Field<bool>, field: &str) -> Option<bool> {
        match value {
            Field::Valid(b) => Some(b),
            Field::Invalid(_) => {
                self.bad(field, "must be a JSON boolean");
                None
            }
            Field::Missing | Field::Null => None,
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

    fn array<T>(&mut self, value: Field<Vec<T>>, field: &str, required: bool) -> Option<Vec<T>> {
        match value {
            Field::Missing | Field::Null => {
                if required {
                    self.bad(field, "required");
                }
                None
            }
            Field::Valid(a) => Some(a),
            Field::Invalid(_) => {
                self.bad(field, "must be an array");
                None
            }
        }
    }

    /// A string item of an array, or `None` for another type: `(value, its JSON text)`.
    fn item(value: Field<String>) -> (Option<String>, String) {
        match value {
            Field::Valid(s) => {
                let text = Json::String(s.clone()).to_string();
                (Some(s), text)
            }
            Field::Invalid(text) => (None, text),
            Field::Missing | Field::Null => (None, "null".into()),
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

/// Validates a `PartnerConfig` document; `prefix` is `config.` inside a registration, empty for
/// certify's bare config. The document is read into [`ConfigWire`] and kept as sent.
pub fn validate_config(raw: &Json, prefix: &str) -> Result<PartnerConfig, Vec<String>> {
    let not_object = || vec![format!("{}: must be a JSON object", prefix.trim_end_matches('.').if_empty("config"))];
    if !raw.is_object() {
        return Err(not_object());
    }
    let Ok(Obj(wire)) = Obj::<ConfigWire>::deserialize(raw) else { return Err(not_object()) };
    check_config(wire, prefix).map(|mut config| {
        config.raw = raw.clone();
        config
    })
}

fn check_config(w: ConfigWire, p: &str) -> Result<PartnerConfig, Vec<String>> {
    let mut c = Checker { violations: Vec::new() };
    if let Some(v) = c.string(w.api_version, &format!("{p}api_version"), true) {
        if !is_version(&v) {
            c.bad(&format!("{p}api_version"), format!("{v:?} is not a 2.x.y version"));
        }
    }
    let name_present = !matches!(w.name, Field::Missing);
    let name = c.string(w.name, &format!("{p}name"), true).unwrap_or_default();
    if name_present && (name.is_empty() || name.chars().count() > 100 || partner_key(&name).is_empty()) {
        c.bad(&format!("{p}name"), "must be 1 to 100 characters with at least one letter or digit");
    }
    c.string(w.description_blurb, &format!("{p}description_blurb"), true);
    if let Some(cat) = c.string(w.category, &format!("{p}category"), true) {
        c.one_of(&format!("{p}category"), &cat, CATEGORIES);
    }
    let base_url = c.string(w.base_url, &format!("{p}base_url"), true).unwrap_or_default();
    if !base_url.is_empty() {
        c.http_url(&format!("{p}base_url"), &base_url, true);
    }
    let mut endpoints = Endpoints::default();
    match w.endpoints {
        Field::Valid(Obj(e)) => {
            let fields = [
                ("connect_path", e.connect_path),
                ("test_connection_path", e.test_connection_path),
                ("delete_connection_path", e.delete_connection_path),
                ("delete_account_path", e.delete_account_path),
                ("expire_account_path", e.expire_account_path),
                ("get_connectors_path", e.get_connectors_path),
            ];
            for (key, value) in fields {
                let field = format!("{p}endpoints.{key}");
                let value = c.string(value, &field, key == "connect_path");
                if let Some(v) = &value {
                    if !v.starts_with('/') {
                        c.bad(&field, format!("{v:?} must start with /"));
                    }
                }
                match key {
                    "connect_path" => endpoints.connect_path = value.unwrap_or_default(),
                    "test_connection_path" => endpoints.test_connection_path = value,
                    "delete_connection_path" => endpoints.delete_connection_path = value,
                    "delete_account_path" => endpoints.delete_account_path = value,
                    "expire_account_path" => endpoints.expire_account_path = value,
                    _ => endpoints.get_connectors_path = value,
                }
            }
        }
        Field::Missing | Field::Null => c.bad(&format!("{p}endpoints"), "required"),
        Field::Invalid(_) => c.bad(&format!("{p}endpoints"), "must be an object"),
    }
    for (key, value) in [
        ("sign_up_page", w.sign_up_page),
        ("privacy_policy", w.privacy_policy),
        ("terms_of_service", w.terms_of_service),
    ] {
        if let Some(u) = c.string(value, &format!("{p}{key}"), true) {
            c.http_url(&format!("{p}{key}"), &u, true);
        }
    }
    for (key, value) in [("logo_file", w.logo_file), ("icon_file", w.icon_file)] {
        if let Some(f) = c.string(value, &format!("{p}{key}"), true) {
            if !image_file(&f) {
                c.bad(&format!("{p}{key}"), format!("{f:?} is not a .png or .svg file name"));
            }
        }
    }
    c.boolean(w.allow_editable_email, &format!("{p}allow_editable_email"));
    let mut resources = Vec::new();
    if let Some(items) = c.array(w.resources_to_provision, &format!("{p}resources_to_provision"), true) {
        for (i, item) in items.into_iter().enumerate() {
            let field = format!("{p}resources_to_provision[{i}].resource_type");
            match item.valid().and_then(|Obj(r)| r.resource_type.valid()) {
                Some(r) if c.one_of(&field, &r, RESOURCE_TYPES) => {
                    if resources.contains(&r) {
                        c.bad(&field, format!("{r:?} is listed twice"));
                    } else {
                        resources.push(r);
                    }
                }
                Some(_) => {}
                None => c.bad(&field, "required"),
            }
        }
    }
    let mut data_permissions = Vec::new();
    if let Some(items) = c.array(w.data_permissions, &format!("{p}data_permissions"), false) {
        for (i, item) in items.into_iter().enumerate() {
            let field = format!("{p}data_permissions[{i}].permission");
            match item.valid().and_then(|Obj(d)| d.permission.valid()) {
                Some(perm) if c.one_of(&field, &perm, DATA_PERMISSIONS) => {
                    if !data_permissions.contains(&perm) {
                        data_permissions.push(perm);
                    }
                }
                Some(_) => {}
                None => c.bad(&field, "required"),
            }
        }
    }
    let mut object_permissions = Vec::new();
    if let Some(items) = c.array(w.object_permissions, &format!("{p}object_permissions"), false) {
        for (i, item) in items.into_iter().enumerate() {
            let (name, level) = match item.valid() {
                Some(Obj(o)) => (o.name.valid(), o.level.valid()),
                None => (None, None),
            };
            let name_ok = match &name {
                Some(n) => c.one_of(&format!("{p}object_permissions[{i}].name"), n, OBJECT_NAMES),
                None => {
                    c.bad(&format!("{p}object_permissions[{i}].name"), "required");
                    false
                }
            };
            let level_field = format!("{p}object_permissions[{i}].level");
            let level_ok = match &level {
                Some(l) => c.one_of(&level_field, l, OBJECT_LEVELS),
                None => {
                    c.bad(&level_field, "required");
                    false
                }
            };
            if let (true, true, Some(n), Some(l)) = (name_ok, level_ok, name, level) {
                match levels_for(&n) {
                    Some(allowed) if !allowed.contains(&l.as_str()) => {
                        c.bad(&level_field, format!("{l} does not apply to {n}"))
                    }
                    _ => object_permissions.push((n, l)),
                }
            }
        }
    }
    let mut supported_clouds = Vec::new();
    if let Some(items) = c.array(w.supported_clouds, &format!("{p}supported_clouds"), true) {
        if items.is_empty() {
            c.bad(&format!("{p}supported_clouds"), "must not be empty");
        }
        for (i, item) in items.into_iter().enumerate() {
            let (value, text) = Checker::item(item);
            match value.as_deref().and_then(canonical_cloud) {
                Some(cloud) => supported_clouds.push(cloud.to_string()),
                None => c.bad(&format!("{p}supported_clouds[{i}]"), format!("{text} is not one of aws, azure, gcp")),
            }
        }
    }
    let mut hostnames = Vec::new();
    if let Some(items) = c.array(w.hostnames, &format!("{p}hostnames"), true) {
        if items.is_empty() {
            c.bad(&format!("{p}hostnames"), "must not be empty");
        }
        for (i, item) in items.into_iter().enumerate() {
            match Checker::item(item) {
                (Some(h), _) if hostname(&h) => hostnames.push(h.to_ascii_lowercase()),
                (_, text) => {
                    c.bad(&format!("{p}hostnames[{i}]"), format!("{text} is not a host name (no scheme, port or path)"))
                }
            }
        }
    }
    let action_is_string = matches!(w.new_user_action, Field::Valid(_));
    let new_user_action = c.string(w.new_user_action, &format!("{p}new_user_action"), true).unwrap_or_default();
    if action_is_string {
        c.one_of(&format!("{p}new_user_action"), &new_user_action, NEW_USER_ACTIONS);
    }
    let require_manual_signup =
        c.boolean(w.require_manual_signup, &format!("{p}require_manual_signup")).unwrap_or(false);
    let trial_type = c.string(w.trial_type, &format!("{p}trial_type"), false);
    if let Some(t) = &trial_type {
        c.one_of(&format!("{p}trial_type"), t, &["user", "account"]);
    }
    let supports_demo = c.boolean(w.supports_demo, &format!("{p}supports_demo")).unwrap_or(false);
    let test_workspace_detail = match w.test_workspace_detail {
        Field::Missing | Field::Null => None,
        Field::Valid(Obj(t)) => {
            let tp = format!("{p}test_workspace_detail.");
            let hostname = c.string(t.hostname, &format!("{tp}hostname"), true);
            let jdbc_url = c.string(t.jdbc_url, &format!("{tp}jdbc_url"), true);
            let databricks_jdbc_url = c.string(t.databricks_jdbc_url, &format!("{tp}databricks_jdbc_url"), true);
            let http_path = c.string(t.http_path, &format!("{tp}http_path"), true);
            let cluster_id = c.string(t.cluster_id, &format!("{tp}cluster_id"), true);
            let port = match t.port {
                Field::Valid(port) if (1..=65535).contains(&port) => Some(port as u16),
                _ => {
                    c.bad(&format!("{tp}port"), "must be an integer from 1 to 65535");
                    None
                }
            };
            match (hostname, port, jdbc_url, databricks_jdbc_url, http_path, cluster_id) {
                (
                    Some(hostname),
                    Some(port),
                    Some(jdbc_url),
                    Some(databricks_jdbc_url),
                    Some(http_path),
                    Some(cluster_id),
                ) => Some(WorkspaceDetail { hostname, port, jdbc_url, databricks_jdbc_url, http_path, cluster_id }),
                _ => None,
            }
        }
        Field::Invalid(_) => {
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
        raw: Json::Null,
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
pub fn validate_registration(doc: RegistrationWire) -> Result<Registration, Vec<String>> {
    let mut violations = Vec::new();
    let config = match &doc.config {
        Field::Missing | Field::Null => {
            violations.push("config: required".to_string());
            None
        }
        Field::Valid(raw) => match validate_config(raw, "config.") {
            Ok(c) => Some(c),
            Err(v) => {
                violations.extend(v);
                None
            }
        },
        // Any JSON value reads as `Json`; kept for the match to be total.
        Field::Invalid(_) => {
            violations.push("config: must be a JSON object".to_string());
            None
        }
    };
    let basic_auth = match doc.basic_auth {
        Field::Missing | Field::Null => None,
        Field::Valid(Obj(b)) => {
            let (user, password) = (b.username.valid(), b.password.valid());
            match &user {
                Some(u) if !u.is_empty() && !u.contains(':') => {}
                _ => violations.push("basic_auth.username: required, non-empty, without ':'".into()),
            }
            match &password {
                Some(p) if !p.is_empty() => {}
                _ => violations.push("basic_auth.password: required, a non-empty string".into()),
            }
            user.zip(password)
        }
        Field::Invalid(_) => {
            violations.push("basic_auth: must be an object".into());
            None
        }
    };
    let mut options = CallOptions::default();
    match doc.options {
        Field::Missing | Field::Null => {}
        Field::Valid(Obj(o)) => {
            let mut int = |key: &str, value: Field<u64>, lo: u64, hi: u64| -> Option<u64> {
                match value {
                    Field::Missing | Field::Null => None,
                    Field::Valid(n) if (lo..=hi).contains(&n) => Some(n),
                    _ => {
                        violations.push(format!("options.{key}: must be an integer from {lo} to {hi}"));
                        None
                    }
                }
            };
            if let Some(t) = int("timeout_ms", o.timeout_ms, 100, 600_000) {
                options.timeout_ms = t;
            }
            if let Some(r) = int("max_retries", o.max_retries, 0, 10) {
                options.max_retries = r as u32;
            }
            if let Some(b) = int("retry_backoff_ms", o.retry_backoff_ms, 0, 60_000) {
                options.retry_backoff_ms = b;
            }
        }
        Field::Invalid(_) => violations.push("options: must be an object".into()),
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
    fn fields_of_the_wrong_type_are_reported_together() {
        let mut bad = good();
        bad["name"] = json!(5);
        bad["endpoints"] = json!([]);
        bad["hostnames"] = json!(["acme.example", 5, "x/y"]);
        bad["supports_demo"] = json!("yes");
        bad["resources_to_provision"] = json!(["PAT", {"resource_type": 1}]);
        bad["test_workspace_detail"] = json!({"port": 70000});
        let v = validate_config(&bad, "config.").unwrap_err();
        for want in [
            "config.name: must be a string",
            "config.name: must be 1 to 100 characters with at least one letter or digit",
            "config.endpoints: must be an object",
            "config.hostnames[1]: 5 is not a host name (no scheme, port or path)",
            "config.hostnames[2]: \"x/y\" is not a host name (no scheme, port or path)",
            "config.supports_demo: must be a JSON boolean",
            "config.resources_to_provision[0].resource_type: required",
            "config.resources_to_provision[1].resource_type: required",
            "config.test_workspace_detail.hostname: required",
            "config.test_workspace_detail.port: must be an integer from 1 to 65535",
        ] {
            assert!(v.iter().any(|x| x == want), "{want} not in {v:?}");
        }
        assert!(validate_config(&json!([1]), "").unwrap_err() == vec!["config: must be a JSON object".to_string()]);
    }

    #[test]
    fn the_config_is_kept_as_sent() {
        let mut doc = good();
        doc["x_unknown"] = json!({"kept": true});
        let c = validate_config(&doc, "config.").unwrap();
        assert_eq!(c.raw, doc);
    }

    #[test]
    fn options_are_range_checked() {
        let wire = |doc: Json| RegistrationWire::deserialize(&doc).unwrap();
        let doc = json!({"config": good(), "options": {"timeout_ms": 5}});
        assert_eq!(
            validate_registration(wire(doc)).unwrap_err(),
            vec!["options.timeout_ms: must be an integer from 100 to 600000"]
        );
        let ok = validate_registration(wire(json!({"config": good(), "options": {"max_retries": 0}}))).unwrap();
        assert_eq!(ok.options, CallOptions { timeout_ms: 10_000, max_retries: 0, retry_backoff_ms: 1_000 });
    }
}
