//! The OpenAPI 3.1 document of everything the main listener serves, `GET /api/openapi.json`.
//!
//! The document is built once from three sources in the code:
//! - the operations table (`operations.rs`): one row per served method and path, naming its
//!   `operationId`, tag, query-parameter type, body type and answer type;
//! - the wire types themselves: request and answer structs derive `utoipa::ToSchema`, query
//!   structs `utoipa::IntoParams`, so a field added to a type is in the document;
//! - the route table: every `Res` records its path and methods when [`served_routes`] asks,
//!   and a unit test (`tests.rs`) compares that with the document in both directions.
//!
//! Rules applied to every operation (so that no row can forget them): bearer security unless
//! the row says otherwise, the error statuses the operation can answer (each with the `Error`
//! schema, or its SCIM variant on SCIM paths) and `default`; every object schema reachable from a
//! success answer is closed (`additionalProperties: false`) unless it is a map.

mod operations;
mod refine;
mod schemas;
#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::extract::AppState;
pub(crate) use schemas::Schemas;

/// The document's path, served without a token.
pub const PATH: &str = "/api/openapi.json";

/// `GET /api/openapi.json`: the document, with `servers[0].url` the base URL this request used.
pub async fn document(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let base = super::host_metadata::base_url(&req, state.configured_public_url.as_deref(), &state.public_url);
    let mut doc = built().clone();
    doc["servers"] = json!([{ "url": base }]);
    HttpResponse::Ok().json(doc)
}

/// The document without `servers` (built once per process).
pub fn built() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(build)
}

fn build() -> Value {
    let mut schemas = Schemas::default();
    let ops = operations::all(&mut schemas);
    refine::all(&mut schemas);
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut used_tags = Vec::new();
    for op in ops {
        if !used_tags.contains(&op.tag) {
            used_tags.push(op.tag);
        }
        let (path, method, value) = op.render(&mut schemas);
        paths.entry(path).or_default().insert(method, value);
    }
    let tags: Vec<Value> = operations::TAGS
        .iter()
        .filter(|(name, _)| used_tags.contains(name))
        .map(|(name, description)| json!({"name": name, "description": description}))
        .collect();
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "uc-emulator",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The HTTP surface of uc-emulator, a local emulator of Databricks Unity Catalog \
                (Unity Catalog REST API 2.1, volumes, functions, the Files API, temporary credentials, \
                Delta Sharing as provider and as sharing server) with SCIM identity, personal access \
                tokens, workspace permissions, SQL warehouses, Partner Connect, the account APIs and \
                OAuth, and the emulator's own explain and health endpoints. Request and response objects carry the names of the databricks-sdk dataclasses. \
                The normative description of the behaviour is the emulator's README and Databricks' \
                public REST API reference; this document is generated from the emulator's route table \
                and wire types.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}
        },
        "servers": [{"url": "http://127.0.0.1:8080"}],
        "tags": tags,
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a personal access token or OAuth access token"
                },
                "recipientToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a Delta Sharing recipient's bearer token (from its credential file)"
                },
                "clientSecretBasic": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "OAuth client credentials: a service principal's application id and secret"
                }
            },
            "schemas": schemas.into_components(),
        }
    });
    schemas::close_success_schemas(&mut doc);
    doc
}

/// Who may call an operation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Security {
    /// `bearerAuth` (the document's default).
    Bearer,
    /// No token: `security: []`.
    None,
    /// OAuth token endpoints: client id and secret by HTTP Basic, or as form fields.
    ClientSecret,
    /// The Delta Sharing server: a recipient's bearer token.
    RecipientToken,
}

/// The error schema an operation's failures use.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorShape {
    Plain,
    Scim,
    OAuth,
    Sharing,
}

/// One operation: one method on one path.
pub(crate) struct Op {
    method: &'static str,
    path: String,
    id: &'static str,
    tag: &'static str,
    security: Security,
    errors: ErrorShape,
    params: Vec<Value>,
    body: Option<(Value, bool)>,
    ok_status: u16,
    ok: Option<Value>,
    ok_media: &'static str,
    extra_statuses: Vec<u16>,
    /// The body may also come as `application/x-www-form-urlencoded`.
    form_body: bool,
    /// The body's media type (`application/octet-stream` for a file upload).
    body_media: &'static str,
    /// Further success statuses with the same content (`206` beside `200`).
    extra_ok: Vec<u16>,
    /// Path parameters typed other than `string` (`{workspace_id}`: int64).
    path_types: Vec<(&'static str, Value)>,
}

impl Op {
    pub(crate) fn new(method: &'static str, path: impl Into<String>, id: &'static str, tag: &'static str) -> Op {
        Op {
            method,
            path: path.into(),
            id,
            tag,
            security: Security::Bearer,
            errors: ErrorShape::Plain,
            params: Vec::new(),
            body: None,
            ok_status: 200,
            ok: None,
            ok_media: "application/json",
            extra_statuses: Vec::new(),
            extra_ok: Vec::new(),
            form_body: false,
            body_media: "application/json",
            path_types: Vec::new(),
        }
    }
    pub(crate) fn public(mut self) -> Op {
        self.security = Security::None;
        self
    }
    /// An OAuth token endpoint: client credentials by HTTP Basic or in the form, a form or JSON
    /// body, RFC 6749 errors.
    pub(crate) fn oauth_token(mut self, body: Value) -> Op {
        self.security = Security::ClientSecret;
        self.errors = ErrorShape::OAuth;
        self.form_body = true;
        self.body = Some((body, true));
        self
    }
    /// The Delta Sharing protocol: a recipient's token, errors that also carry `errorCode`.
    pub(crate) fn sharing(mut self) -> Op {
        self.security = Security::RecipientToken;
        self.errors = ErrorShape::Sharing;
        self
    }
    pub(crate) fn scim(mut self) -> Op {
        self.errors = ErrorShape::Scim;
        self
    }
    /// Query parameters from a type that derives `IntoParams`.
    pub(crate) fn query<T: utoipa::IntoParams>(mut self) -> Op {
        let params = T::into_params(|| Some(utoipa::openapi::path::ParameterIn::Query));
        self.params.extend(params.into_iter().map(|p| serde_json::to_value(p).expect("a parameter serializes")));
        self
    }
    /// One query parameter given by hand (for handlers that read the query string themselves).
    pub(crate) fn param(mut self, name: &str, schema: Value, required: bool, description: &str) -> Op {
        let mut p = json!({"name": name, "in": "query", "required": required, "schema": schema});
        if !description.is_empty() {
            p["description"] = json!(description);
        }
        self.params.push(p);
        self
    }
    /// Leaves out a parameter the query type has but this endpoint ignores.
    pub(crate) fn ignores(mut self, name: &str) -> Op {
        self.params.retain(|p| p["name"] != name);
        self
    }
    /// Marks query parameters whose absence is a 400 as `required`.
    pub(crate) fn required(mut self, names: &[&str]) -> Op {
        for p in &mut self.params {
            if names.iter().any(|n| p["name"] == *n) {
                p["required"] = Value::Bool(true);
            }
        }
        self
    }
    /// Changes the schema of query parameter `name` (an enum, a format, the real type).
    pub(crate) fn param_schema(mut self, name: &str, schema: Value) -> Op {
        let p = self.params.iter_mut().find(|p| p["name"] == name).unwrap_or_else(|| panic!("no parameter {name}"));
        p["schema"] = schema;
        self
    }
    pub(crate) fn path_type(mut self, name: &'static str, schema: Value) -> Op {
        self.path_types.push((name, schema));
        self
    }
    /// A JSON request body; `required` when an empty body is refused.
    pub(crate) fn body(mut self, schema: Value, required: bool) -> Op {
        self.body = Some((schema, required));
        self
    }
    /// A request body of raw bytes (a file's content; it may be empty).
    pub(crate) fn bytes_body(mut self) -> Op {
        self.body = Some((json!({"type": "string", "format": "binary"}), false));
        self.body_media = "application/octet-stream";
        self
    }
    pub(crate) fn ok(mut self, schema: Value) -> Op {
        self.ok = Some(schema);
        self
    }
    pub(crate) fn ok_status(mut self, status: u16) -> Op {
        self.ok_status = status;
        self
    }
    /// A success answer that is not JSON (`application/octet-stream` downloads) or has no body.
    pub(crate) fn ok_media(mut self, media: &'static str) -> Op {
        self.ok_media = media;
        self
    }
    pub(crate) fn also_ok(mut self, status: u16) -> Op {
        self.extra_ok.push(status);
        self
    }
    pub(crate) fn also(mut self, statuses: &[u16]) -> Op {
        self.extra_statuses.extend_from_slice(statuses);
        self
    }

    /// The path, lower-case method and operation object.
    fn render(self, schemas: &mut Schemas) -> (String, String, Value) {
        let mut params: Vec<Value> = path_params(&self.path)
            .into_iter()
            .map(|name| {
                let schema = self
                    .path_types
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, s)| s.clone())
                    .unwrap_or_else(|| json!({"type": "string"}));
                json!({"name": name, "in": "path", "required": true, "schema": schema})
            })
            .collect();
        let has_path_params = !params.is_empty();
        params.extend(self.params.iter().cloned());
        for p in &mut params {
            let name = p["name"].as_str().unwrap_or_default().to_string();
            if let Some(example) = refine::parameter_example(&self.path, &name) {
                p["schema"]["examples"] = json!([example]);
            }
        }

        let mut op = Map::new();
        op.insert("operationId".into(), json!(self.id));
        op.insert("tags".into(), json!([self.tag]));
        op.insert("summary".into(), json!(summary_of(self.id)));
        match self.security {
            Security::Bearer => {}
            Security::None => {
                op.insert("security".into(), json!([]));
            }
            Security::ClientSecret => {
                op.insert("security".into(), json!([{"clientSecretBasic": []}, {}]));
            }
            Security::RecipientToken => {
                op.insert("security".into(), json!([{"recipientToken": []}]));
            }
        }
        if !params.is_empty() {
            op.insert("parameters".into(), Value::Array(params.clone()));
        }
        let writes = matches!(self.method, "POST" | "PUT" | "PATCH");
        if let Some((schema, required)) = &self.body {
            let mut content = json!({self.body_media: {"schema": schema}});
            if self.form_body {
                content["application/x-www-form-urlencoded"] = json!({"schema": schema});
            }
            op.insert("requestBody".into(), json!({"required": required, "content": content}));
        }

        let head = self.method == "HEAD";
        let mut responses = Map::new();
        let ok = if head || self.ok_status == 204 {
            json!({"description": "success"})
        } else {
            // A row without `.ok(..)` documents "any JSON" (and fails `every_answer_is_described`).
            let schema = self.ok.clone().unwrap_or_else(|| json!({}));
            let media_schema = if self.ok_media == "application/json" { schema } else { json!({}) };
            json!({"description": "success", "content": {self.ok_media: {"schema": media_schema}}})
        };
        for status in &self.extra_ok {
            responses.insert(status.to_string(), ok.clone());
        }
        responses.insert(self.ok_status.to_string(), ok);

        let mut statuses: Vec<u16> = Vec::new();
        if !params.is_empty() || self.body.is_some() || writes {
            statuses.push(400);
        }
        if self.security != Security::None {
            statuses.extend([401, 403, 404]);
        } else if has_path_params {
            statuses.push(404);
        }
        if writes {
            statuses.push(409);
        }
        if writes || self.body.is_some() {
            statuses.push(413);
        }
        statuses.extend(self.extra_statuses.iter().copied());
        statuses.sort_unstable();
        statuses.dedup();
        let error_ref = schemas.error_ref(self.errors);
        for status in statuses {
            let description = status_description(status);
            let response = if head {
                json!({"description": description})
            } else {
                json!({"description": description, "content": {"application/json": {"schema": error_ref}}})
            };
            responses.insert(status.to_string(), response);
        }
        responses.insert(
            "default".into(),
            if head {
                json!({"description": "an unexpected failure"})
            } else {
                json!({"description": "an unexpected failure", "content": {"application/json": {"schema": error_ref}}})
            },
        );
        op.insert("responses".into(), Value::Object(responses));
        (self.path, self.method.to_ascii_lowercase(), Value::Object(op))
    }
}

/// `listCatalogs` → "List catalogs": the operation's name as a sentence.
fn summary_of(id: &str) -> String {
    let mut out = String::new();
    for (i, c) in id.chars().enumerate() {
        if i == 0 {
            out.extend(c.to_uppercase());
        } else if c.is_ascii_uppercase() {
            out.push(' ');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn status_description(status: u16) -> &'static str {
    match status {
        400 => "the request is invalid (a parameter or a body field names what)",
        401 => "no valid token",
        403 => "the caller may not do this",
        404 => "the object (or the workspace's metastore) does not exist",
        409 => "the object already exists, or the change conflicts with another object",
        412 => "a precondition does not hold",
        413 => "the request body is too large",
        416 => "the range cannot be satisfied",
        502 => "the partner refused, answered invalidly or could not be reached",
        504 => "the partner did not answer in time",
        _ => "an error",
    }
}

/// The `{name}` parameters of a documented path template.
pub(crate) fn path_params(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else { break };
        out.push(&rest[start + 1..start + end]);
        rest = &rest[start + end + 1..];
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Recording the route table.

/// One served resource: its full path pattern and methods, as the route table registers them.
#[derive(Clone, Debug)]
pub struct Served {
    pub pattern: String,
    pub methods: Vec<&'static str>,
}

thread_local! {
    static RECORDING: RefCell<Option<Vec<Served>>> = const { RefCell::new(None) };
    static PREFIX: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static HIDDEN: RefCell<u32> = const { RefCell::new(0) };
}

/// Called by every `Res` as it is built: notes its path and methods while [`served_routes`] runs.
pub(crate) fn record(path: &str, methods: &[&'static str]) {
    RECORDING.with(|r| {
        if let Some(list) = r.borrow_mut().as_mut() {
            if HIDDEN.with(|h| *h.borrow()) > 0 {
                return;
            }
            let prefix: String = PREFIX.with(|p| p.borrow().concat());
            list.push(Served { pattern: format!("{prefix}{path}"), methods: methods.to_vec() });
        }
    });
}

/// Runs `f` (which registers routes inside a `web::scope(prefix)`) so that the recorded paths
/// carry the scope's prefix.
pub(crate) fn under<R>(prefix: &str, f: impl FnOnce() -> R) -> R {
    PREFIX.with(|p| p.borrow_mut().push(prefix.to_string()));
    let out = f();
    PREFIX.with(|p| p.borrow_mut().pop());
    out
}

/// Runs `f` (which registers routes that are not part of the API: the explorer's page and
/// assets) without recording them.
pub(crate) fn undocumented<R>(f: impl FnOnce() -> R) -> R {
    HIDDEN.with(|h| *h.borrow_mut() += 1);
    let out = f();
    HIDDEN.with(|h| *h.borrow_mut() -= 1);
    out
}

/// Every resource the main listener serves, by building the app's routes once (nothing listens).
pub fn served_routes() -> Vec<Served> {
    RECORDING.with(|r| *r.borrow_mut() = Some(Vec::new()));
    let _app = actix_web::App::new().configure(crate::api::app::routes);
    RECORDING.with(|r| r.borrow_mut().take().unwrap_or_default())
}
