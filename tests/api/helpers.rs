//! A `TestApp`: the real server started in-process on 127.0.0.1:0 over a temporary SQLite file,
//! a reqwest client per token, and `dump_state()` for before/after checks.

use std::path::PathBuf;

use actix_web::dev::ServerHandle;
use reqwest::header::{HeaderMap, CONTENT_TYPE};
use reqwest::Method;
use serde_json::{json, Value};
use uc_emulator::api::app;
use uc_emulator::config::ServeArgs;

pub const ADMIN: &str = "dapi-admin";
pub const ALICE: &str = "dapi-alice";
pub const UC: &str = "/api/2.1/unity-catalog";

/// The built-in default fixture, as a fixture file.
pub const DEFAULT_FIXTURE: &str = r#"{
  "workspaces": [{"workspace_id": 1001, "name": "dev"}],
  "users": [
    {"user_name": "admin@example.com", "display_name": "Ada Admin", "account_admin": true},
    {"user_name": "alice@example.com", "display_name": "Alice"}
  ],
  "groups": [
    {"display_name": "analysts", "members": ["alice@example.com"]},
    {"display_name": "admins", "members": ["admin@example.com"]}
  ],
  "service_principals": [
    {"application_id": "6f1d1c2e-0000-4000-8000-000000000001", "display_name": "etl-bot"}
  ],
  "tokens": [
    {"token": "dapi-admin", "principal": "admin@example.com", "workspace_id": 1001},
    {"token": "dapi-alice", "principal": "alice@example.com", "workspace_id": 1001}
  ],
  "metastores": [
    {
      "name": "main",
      "storage_root": "s3://uc-emulator/main",
      "owner": "admin@example.com",
      "assignments": [{"workspace_id": 1001, "default_catalog_name": "main"}]
    }
  ],
  "catalogs": [{"name": "main", "comment": "The default catalog."}]
}"#;

pub struct TestApp {
    pub url: String,
    pub client: reqwest::Client,
    pub db: PathBuf,
    pub fixture: PathBuf,
    handle: ServerHandle,
    task: Option<actix_web::rt::task::JoinHandle<std::io::Result<()>>>,
    // Last: the directory outlives the server that uses it.
    _dir: tempfile::TempDir,
}

/// A started server over the default fixture.
pub async fn spawn() -> TestApp {
    spawn_with(DEFAULT_FIXTURE).await
}

/// A started server over `fixture` (a JSON document written to a temporary file).
pub async fn spawn_with(fixture: &str) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("uc.db");
    let fixture_path = dir.path().join("fixture.json");
    std::fs::write(&fixture_path, fixture).expect("write fixture");
    let (url, handle, task) = start(&db, &fixture_path);
    let client = reqwest::Client::builder().build().expect("client");
    let app = TestApp { url, client, db, fixture: fixture_path, handle, task: Some(task), _dir: dir };
    app.wait_ready().await;
    app
}

/// A started server over `fixture` with `serve` arguments changed by `adjust`.
#[allow(dead_code)]
pub async fn spawn_adjusted(fixture: &str, adjust: impl FnOnce(&mut ServeArgs)) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("uc.db");
    let fixture_path = dir.path().join("fixture.json");
    std::fs::write(&fixture_path, fixture).expect("write fixture");
    let mut serve = args(&db, &fixture_path);
    adjust(&mut serve);
    let (url, handle, task) = start_args(&serve);
    let client = reqwest::Client::builder().build().expect("client");
    let app = TestApp { url, client, db, fixture: fixture_path, handle, task: Some(task), _dir: dir };
    app.wait_ready().await;
    app
}

/// As the admin: a storage credential `credential` (an IAM role; `read_only` as given) and an
/// external location `location` at `url` on it.
pub async fn credential_and_location(app: &TestApp, credential: &str, read_only: bool, location: &str, url: &str) {
    let admin = app.admin();
    let role = format!("arn:aws:iam::1:role/{credential}");
    let body = json!({"name": credential, "aws_iam_role": {"role_arn": role}, "read_only": read_only});
    admin.post(&format!("{UC}/storage-credentials"), body).await.ok("credential");
    let body = json!({"name": location, "url": url, "credential_name": credential});
    admin.post(&format!("{UC}/external-locations"), body).await.ok("location");
}

/// A started server over `fixture` with `--storage-map` entries (URL, local directory).
#[allow(dead_code)]
pub async fn spawn_mapped(fixture: &str, storage_map: &[(&str, &std::path::Path)]) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("uc.db");
    let fixture_path = dir.path().join("fixture.json");
    std::fs::write(&fixture_path, fixture).expect("write fixture");
    let mut serve = args(&db, &fixture_path);
    serve.storage_map = storage_map
        .iter()
        .map(|(url, d)| uc_emulator::config::StorageMapping {
            url: uc_emulator::domain::storage_url::StorageUrl::parse(url).expect("storage URL"),
            dir: d.to_path_buf(),
        })
        .collect();
    let (url, handle, task) = start_args(&serve);
    let client = reqwest::Client::builder().build().expect("client");
    let app = TestApp { url, client, db, fixture: fixture_path, handle, task: Some(task), _dir: dir };
    app.wait_ready().await;
    app
}

/// A started server over `fixture` with `--file-root` directories (resolved as the flag does).
#[allow(dead_code)]
pub async fn spawn_rooted(
    fixture: &str,
    storage_map: &[(&str, &std::path::Path)],
    file_roots: &[&std::path::Path],
) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("uc.db");
    let fixture_path = dir.path().join("fixture.json");
    std::fs::write(&fixture_path, fixture).expect("write fixture");
    let mut serve = args(&db, &fixture_path);
    serve.storage_map = storage_map
        .iter()
        .map(|(url, d)| uc_emulator::config::StorageMapping {
            url: uc_emulator::domain::storage_url::StorageUrl::parse(url).expect("storage URL"),
            dir: d.to_path_buf(),
        })
        .collect();
    serve.file_roots = file_roots
        .iter()
        .map(|d| uc_emulator::config::parse_file_root(d.to_str().expect("utf-8")).expect("file root"))
        .collect();
    let (url, handle, task) = start_args(&serve);
    let client = reqwest::Client::builder().build().expect("client");
    let app = TestApp { url, client, db, fixture: fixture_path, handle, task: Some(task), _dir: dir };
    app.wait_ready().await;
    app
}

/// A started server with `--storage-map`, `--file-root` and, when `s3`, the S3 endpoint on a
/// free port (the returned handle keeps it serving), vended credentials living `lifetime` s.
#[allow(dead_code)]
pub async fn spawn_data_plane(
    fixture: &str,
    storage_map: &[(&str, &std::path::Path)],
    file_roots: &[&std::path::Path],
    s3: bool,
    lifetime: u32,
) -> (TestApp, Option<uc_emulator::s3::S3Server>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("uc.db");
    let fixture_path = dir.path().join("fixture.json");
    std::fs::write(&fixture_path, fixture).expect("write fixture");
    let mut serve = args(&db, &fixture_path);
    serve.storage_map = storage_map
        .iter()
        .map(|(url, d)| uc_emulator::config::StorageMapping {
            url: uc_emulator::domain::storage_url::StorageUrl::parse(url).expect("storage URL"),
            dir: d.to_path_buf(),
        })
        .collect();
    serve.file_roots = file_roots
        .iter()
        .map(|d| uc_emulator::config::parse_file_root(d.to_str().expect("utf-8")).expect("file root"))
        .collect();
    serve.s3_bind = s3.then(|| "127.0.0.1:0".to_string());
    serve.credential_lifetime = lifetime;
    let running = app::start(&serve).unwrap_or_else(|e| panic!("server did not start: {e}"));
    let handle = running.server.handle();
    let task = actix_web::rt::spawn(running.server);
    let client = reqwest::Client::builder().build().expect("client");
    let app = TestApp { url: running.url, client, db, fixture: fixture_path, handle, task: Some(task), _dir: dir };
    app.wait_ready().await;
    (app, running.s3)
}

/// The `serve` arguments of a test server (port 0, the given database and fixture).
pub fn args(db: &std::path::Path, fixture: &std::path::Path) -> ServeArgs {
    ServeArgs {
        bind: "127.0.0.1:0".to_string(),
        db: db.to_str().expect("utf-8 temp path").to_string(),
        fixtures: vec![fixture.to_path_buf()],
        storage_map: vec![],
        file_roots: vec![],
        log_format: Default::default(),
        own_address_only: false,
        reset: false,
        presigned_url_lifetime: 3600,
        s3_bind: None,
        s3_public_url: None,
        credential_lifetime: 3600,
        oauth_token_lifetime: 3600,
    }
}

type Task = actix_web::rt::task::JoinHandle<std::io::Result<()>>;

fn start(db: &std::path::Path, fixture: &std::path::Path) -> (String, ServerHandle, Task) {
    start_args(&args(db, fixture))
}

fn start_args(args: &ServeArgs) -> (String, ServerHandle, Task) {
    let running = app::start(args).unwrap_or_else(|e| panic!("server did not start: {e}"));
    let handle = running.server.handle();
    let task = actix_web::rt::spawn(running.server);
    (running.url, handle, task)
}

impl TestApp {
    async fn wait_ready(&self) {
        for _ in 0..200 {
            if let Ok(r) = self.client.get(format!("{}/healthz", self.url)).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("server at {} never became healthy", self.url);
    }

    /// Stops the server gracefully (in-flight requests finish, the database closes).
    pub async fn stop(&mut self) {
        self.handle.stop(true).await;
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Stops the server and starts a new one on the same database file and fixture.
    pub async fn restart(&mut self) {
        self.stop().await;
        let (url, handle, task) = start(&self.db, &self.fixture);
        self.url = url;
        self.handle = handle;
        self.task = Some(task);
        self.wait_ready().await;
    }

    /// A second server on the same database while this one still runs (no clean close of the
    /// first: what a fresh process sees after `kill -9`).
    pub async fn second_server(&self) -> (String, ServerHandle, Task) {
        start(&self.db, &self.fixture)
    }

    pub fn admin(&self) -> As<'_> {
        self.with_token(ADMIN)
    }

    pub fn alice(&self) -> As<'_> {
        self.with_token(ALICE)
    }

    pub fn with_token<'a>(&'a self, token: &'a str) -> As<'a> {
        As { app: self, auth: Some(format!("Bearer {token}")), base: None }
    }

    /// No `Authorization` header at all.
    pub fn anonymous(&self) -> As<'_> {
        As { app: self, auth: None, base: None }
    }

    /// An arbitrary `Authorization` header value.
    pub fn with_authorization<'a>(&'a self, value: &str) -> As<'a> {
        As { app: self, auth: Some(value.to_string()), base: None }
    }

    /// Everything UC holds that an admin can read, for before/after comparisons: the metastore,
    /// the workspace assignment, every catalog, schema and table (full `*Info`s).
    pub async fn dump_state(&self) -> Value {
        let admin = self.admin();
        let assignment = admin.get(&format!("{UC}/current-metastore-assignment")).await;
        assert_eq!(assignment.status, 200, "dump: assignment: {}", assignment.text);
        let assignment = assignment.json();
        let metastore_id = assignment["metastore_id"].as_str().expect("metastore_id").to_string();
        let metastore = admin.get(&format!("{UC}/metastores/{metastore_id}")).await;
        assert_eq!(metastore.status, 200, "dump: metastore: {}", metastore.text);

        let mut catalogs_out = Vec::new();
        let catalogs = admin.get(&format!("{UC}/catalogs")).await;
        assert_eq!(catalogs.status, 200, "dump: catalogs: {}", catalogs.text);
        for catalog in catalogs.json()["catalogs"].as_array().cloned().unwrap_or_default() {
            let cname = catalog["name"].as_str().expect("catalog name").to_string();
            let schemas = admin.get(&format!("{UC}/schemas?catalog_name={}", enc(&cname))).await;
            assert_eq!(schemas.status, 200, "dump: schemas of {cname}: {}", schemas.text);
            let mut schemas_out = Vec::new();
            for schema in schemas.json()["schemas"].as_array().cloned().unwrap_or_default() {
                let sname = schema["name"].as_str().expect("schema name").to_string();
                let tables =
                    admin.get(&format!("{UC}/tables?catalog_name={}&schema_name={}", enc(&cname), enc(&sname))).await;
                assert_eq!(tables.status, 200, "dump: tables of {cname}.{sname}: {}", tables.text);
                let tables = tables.json()["tables"].clone();
                schemas_out.push(json!({"schema": schema, "tables": tables}));
            }
            catalogs_out.push(json!({"catalog": catalog, "schemas": schemas_out}));
        }
        json!({"assignment": assignment, "metastore": metastore.json(), "catalogs": catalogs_out})
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Fire and forget: the runtime of the test is going away anyway.
        drop(self.handle.stop(false));
    }
}

/// Percent-encodes a query or path value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Requests as one caller.
pub struct As<'a> {
    app: &'a TestApp,
    auth: Option<String>,
    base: Option<String>,
}

/// A finished response, body read.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): status {} body {:?}", self.status, self.text))
    }

    pub fn content_type(&self) -> String {
        self.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }

    /// Asserts a successful JSON answer and returns its body.
    pub fn ok(&self, what: &str) -> Value {
        assert_eq!(self.status, 200, "{what}: {}", self.text);
        assert!(self.content_type().starts_with("application/json"), "{what}: Content-Type {:?}", self.content_type());
        self.json()
    }

    /// Asserts the one error shape: the status, JSON content type,
    /// `error_code` and a non-empty `message`; returns the message.
    pub fn error(&self, status: u16, code: &str, what: &str) -> String {
        assert_eq!(self.status, status, "{what}: expected {status} {code}, got body {}", self.text);
        assert!(
            self.content_type().starts_with("application/json"),
            "{what}: error Content-Type is {:?}, body {:?}",
            self.content_type(),
            self.text
        );
        let body = self.json();
        assert_eq!(body["error_code"], code, "{what}: body {}", self.text);
        let message = body["message"].as_str().unwrap_or_else(|| panic!("{what}: no message in {}", self.text));
        assert!(!message.is_empty(), "{what}: empty message");
        message.to_string()
    }

    /// A 400 `INVALID_PARAMETER_VALUE` whose message names `field`.
    pub fn invalid(&self, field: &str, what: &str) -> String {
        let message = self.error(400, "INVALID_PARAMETER_VALUE", what);
        assert!(message.contains(field), "{what}: message {message:?} does not name {field:?}");
        message
    }
}

impl<'a> As<'a> {
    /// Another base URL (e.g. a second server on the same database).
    pub fn at(mut self, base: &str) -> As<'a> {
        self.base = Some(base.to_string());
        self
    }

    pub fn request(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let base = self.base.as_deref().unwrap_or(&self.app.url);
        let mut rb = self.app.client.request(method, format!("{base}{path}"));
        if let Some(a) = &self.auth {
            rb = rb.header("Authorization", a);
        }
        rb
    }

    pub async fn execute(&self, rb: reqwest::RequestBuilder) -> Resp {
        let res = rb.send().await.expect("request failed");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        Resp { status, headers, text }
    }

    /// `body` is sent as is (with `Content-Type: application/json`) when given.
    pub async fn send(&self, method: &str, path: &str, body: Option<&str>) -> Resp {
        let mut rb = self.request(method, path);
        if let Some(b) = body {
            rb = rb.header(CONTENT_TYPE, "application/json").body(b.to_string());
        }
        self.execute(rb).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send("GET", path, None).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send("DELETE", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send("POST", path, Some(&body.to_string())).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send("PATCH", path, Some(&body.to_string())).await
    }

    #[allow(dead_code)]
    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.send("PUT", path, Some(&body.to_string())).await
    }

    // UC shorthands (paths relative to the UC prefix).

    pub async fn create_catalog(&self, name: &str) -> Value {
        self.post(&format!("{UC}/catalogs"), json!({"name": name})).await.ok(&format!("create catalog {name}"))
    }

    pub async fn create_schema(&self, catalog: &str, name: &str) -> Value {
        self.post(&format!("{UC}/schemas"), json!({"name": name, "catalog_name": catalog}))
            .await
            .ok(&format!("create schema {catalog}.{name}"))
    }

    pub async fn create_table(&self, catalog: &str, schema: &str, name: &str) -> Value {
        self.post(&format!("{UC}/tables"), table_body(catalog, schema, name))
            .await
            .ok(&format!("create table {catalog}.{schema}.{name}"))
    }
}

/// A valid createTable body: a MANAGED DELTA table with one column.
pub fn table_body(catalog: &str, schema: &str, name: &str) -> Value {
    json!({
        "name": name,
        "catalog_name": catalog,
        "schema_name": schema,
        "table_type": "MANAGED",
        "data_source_format": "DELTA",
        "columns": [
            {"name": "id", "type_name": "LONG", "type_text": "bigint", "type_json": "{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}}", "position": 0}
        ]
    })
}

/// The `name`s of a list answer's `key` array.
pub fn names(body: &Value, key: &str) -> Vec<String> {
    body[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} array in {body}"))
        .iter()
        .map(|o| o["name"].as_str().expect("name").to_string())
        .collect()
}

/// The account id every test fixture's account has (the built-in default).
pub const ACCOUNT: &str = "00000000-0000-4000-8000-000000000000";

/// The SCIM PATCH message schema.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A path under the account API (`/api/2.0/accounts/<ACCOUNT><path>`).
pub fn acc(path: &str) -> String {
    format!("/api/2.0/accounts/{ACCOUNT}{path}")
}

/// A SCIM PATCH body with these operations.
pub fn scim_patch(ops: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": ops})
}

/// The account SCIM id of the `kind` (`Users`, `Groups`, `ServicePrincipals`) whose `attr` is `value`.
pub async fn account_scim_id(app: &TestApp, kind: &str, attr: &str, value: &str) -> String {
    let filter = enc(&format!("{attr} eq \"{value}\""));
    let body = app.admin().get(&acc(&format!("/scim/v2/{kind}?filter={filter}"))).await.ok(kind);
    body["Resources"][0]["id"].as_str().unwrap_or_else(|| panic!("{kind} {value}: {body}")).to_string()
}

/// The metastore the Delta Sharing tests start from: the admin's workspace, a metastore open to
/// external sharing (one-hour recipient tokens), catalog `shop` with schema `sales`, and the TOKEN
/// recipient `acme`. `extra` adds keys; an array it names is appended to the base's.
pub fn sharing_fixture(extra: Value) -> String {
    let mut f = json!({
        "workspaces": [{"workspace_id": 1001}],
        "users": [{"user_name": "admin@example.com", "account_admin": true}],
        "tokens": [{"token": "dapi-admin", "principal": "admin@example.com", "workspace_id": 1001}],
        "metastores": [{"name": "main", "storage_root": "s3://root/main", "owner": "admin@example.com",
                        "delta_sharing_scope": "INTERNAL_AND_EXTERNAL",
                        "delta_sharing_recipient_token_lifetime_in_seconds": 3600,
                        "assignments": [{"workspace_id": 1001}]}],
        "catalogs": [{"name": "shop"}],
        "schemas": [{"catalog_name": "shop", "name": "sales"}],
        "recipients": [{"name": "acme", "authentication_type": "TOKEN"}]
    });
    let Value::Object(extra) = extra else { panic!("sharing_fixture takes an object") };
    for (key, value) in extra {
        match (f.get_mut(&key), value) {
            (Some(Value::Array(base)), Value::Array(more)) => base.extend(more),
            (_, value) => {
                f[&key] = value;
            }
        }
    }
    f.to_string()
}
