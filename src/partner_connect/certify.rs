//! `uc-emulator partner-connect certify`: the Databricks certification
//! cases run against a partner, with a private in-memory emulator (the sandbox) playing
//! Databricks. Standard output carries one line per case and a summary; logs go to stderr.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value as Json};

use super::client::{self, Operation};
use super::config::{canonical_cloud, validate_config, CallOptions, PartnerConfig, WorkspaceDetail};
use super::validate::ConnectKind;
use super::{is_test_domain, judge, unprovision, ConnectionInfo};
use crate::config::{CertifyArgs, ServeArgs, CERTIFY_CASES};
use crate::domain::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::store::partner_connect as pc_store;
use crate::store::Store;

/// The ConnectRequest overrides of a partner: its `test_workspace_detail`, inside certify's
/// sandbox only (`sandbox` is the server's state: a `serve` process is never one).
pub fn workspace_overrides(config: &PartnerConfig, sandbox: bool) -> Option<&WorkspaceDetail> {
    if sandbox {
        config.test_workspace_detail.as_ref()
    } else {
        None
    }
}

const PC: &str = "/api/2.0/partner-connect";
/// The catalog every case workspace has (used when the config has data permissions).
const CATALOG: &str = "certify";
/// `redirect_value`s a valid new connection or sign-in may have unless a case says otherwise.
const DEFAULT_REDIRECTS: &[&str] = &["create_trial", "sign_in", "purchase_product"];

/// Runs certify; returns the exit status (0 nothing failed, 1 a case failed, 2 usage error).
/// A started emulator for the sandbox: its URL, its store and the server (not yet polled).
pub struct SandboxServer {
    pub url: String,
    pub store: Arc<Store>,
    pub server: actix_web::dev::Server,
}

/// How certify starts its sandbox emulator: the binary passes the HTTP layer's start-up, so the
/// Partner Connect logic does not reach into the HTTP layer itself.
pub type StartServer = fn(&ServeArgs) -> Result<SandboxServer, String>;

pub fn run(args: &CertifyArgs, start: StartServer) -> i32 {
    let path = args.config.display().to_string();
    let text = match std::fs::read_to_string(&args.config) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("uc-emulator partner-connect certify: --config {path}: cannot be read: {e}");
            return 2;
        }
    };
    let raw: Json = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("uc-emulator partner-connect certify: --config {path}: is not JSON: {e}");
            return 2;
        }
    };
    let basic = args.basic_user.clone().zip(args.basic_password.clone());
    if args.basic_user.is_some() != args.basic_password.is_some() {
        eprintln!("uc-emulator partner-connect certify: give both --basic-user and --basic-password, or neither");
        return 2;
    }
    let selected: Vec<&'static str> = CERTIFY_CASES
        .iter()
        .copied()
        .filter(|c| *c == "CONFIG" || args.cases.is_empty() || args.cases.iter().any(|x| x == c))
        .collect();
    let mut report = Report::default();
    let config = match validate_config(&raw, "") {
        Ok(c) => {
            report.line("CONFIG", Verdict::Pass);
            c
        }
        Err(violations) => {
            report.line("CONFIG", Verdict::Fail(violations.join("; ")));
            for case in selected.iter().filter(|c| **c != "CONFIG") {
                report.line(case, Verdict::Skip("CONFIG failed".into()));
            }
            return report.finish();
        }
    };
    let mut plans = Vec::new();
    for case in selected.iter().copied().filter(|c| *c != "CONFIG") {
        match needs(case, &config, basic.is_some()) {
            Some(reason) => plans.push((case, Err(reason))),
            None => plans.push((case, Ok(CasePlan::new(case)))),
        }
    }
    if plans.iter().all(|(_, p)| p.is_err()) {
        for (case, plan) in plans {
            if let Err(reason) = plan {
                report.line(case, Verdict::Skip(reason));
            }
        }
        return report.finish();
    }
    let system = actix_web::rt::System::new();
    system.block_on(sandbox_run(start, raw, config, basic, args.timeout_ms, plans, &mut report));
    report.finish()
}

/// What a case needs from the config; `Some(reason)` when it is skipped.
fn needs(case: &str, cfg: &PartnerConfig, credentials: bool) -> Option<String> {
    let e = &cfg.endpoints;
    let path = |p: &Option<String>, key: &str| p.is_none().then(|| format!("the config has no endpoints.{key}"));
    match case {
        "AUTH" if !credentials => Some("no --basic-user/--basic-password given".into()),
        "P401" | "P402" => path(&e.delete_connection_path, "delete_connection_path"),
        "P403" | "P404" | "P405" => path(&e.delete_account_path, "delete_account_path"),
        "P501" => path(&e.expire_account_path, "expire_account_path"),
        "P502" => path(&e.expire_account_path, "expire_account_path")
            .or_else(|| cfg.trial_type.is_none().then(|| "the config has no trial_type".into())),
        "P700" if !cfg.supports_demo => Some("the config does not set supports_demo to true".into()),
        "P800" => path(&e.test_connection_path, "test_connection_path"),
        "P801" => path(&e.test_connection_path, "test_connection_path")
            .or_else(|| path(&e.delete_connection_path, "delete_connection_path")),
        "P900" => path(&e.get_connectors_path, "get_connectors_path"),
        _ => None,
    }
}

enum Verdict {
    Pass,
    Fail(String),
    Skip(String),
}

/// The report lines, printed as the cases finish.
#[derive(Default)]
struct Report {
    passed: usize,
    failed: usize,
    skipped: usize,
}

impl Report {
    fn line(&mut self, case: &str, verdict: Verdict) {
        let one_line = |s: String| s.replace(['\r', '\n'], " ");
        let text = match verdict {
            Verdict::Pass => {
                self.passed += 1;
                format!("PASS {case}")
            }
            Verdict::Fail(reason) => {
                self.failed += 1;
                format!("FAIL {case}: {}", one_line(reason))
            }
            Verdict::Skip(reason) => {
                self.skipped += 1;
                format!("SKIP {case}: {}", one_line(reason))
            }
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }

    fn finish(self) -> i32 {
        let mut summary = format!("{} passed, {} failed", self.passed, self.failed);
        if self.skipped > 0 {
            summary.push_str(&format!(", {} skipped", self.skipped));
        }
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{summary}");
        let _ = out.flush();
        i32::from(self.failed > 0)
    }
}

fn random_hex(n: usize) -> String {
    let mut s = String::new();
    while s.len() < n {
        s.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    s.truncate(n);
    s
}

/// A random positive int64 (a workspace id).
fn random_id() -> i64 {
    let b = uuid::Uuid::new_v4().into_bytes();
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[..8]);
    match (u64::from_be_bytes(x) & 0x7fff_ffff_ffff_ffff) as i64 {
        0 => 1,
        id => id,
    }
}

/// The fresh identities of one case: users `user1@<domain>`, `user2@<domain>`, one or two
/// workspaces, and a token per user per workspace.
struct CasePlan {
    domain: String,
    users: Vec<String>,
    /// How many of `users` (from the first) are workspace admins.
    admins: usize,
    workspaces: Vec<i64>,
    /// `tokens[workspace][user]`.
    tokens: Vec<Vec<String>>,
}

impl CasePlan {
    fn new(case: &str) -> CasePlan {
        let tld = if case == "P405" { "example.com" } else { "databricks-test.com" };
        let domain = format!("{}.{tld}", random_hex(8));
        let users: Vec<String> = (1..=2).map(|i| format!("user{i}@{domain}")).collect();
        // P700's second user creates a new connection after the first one is forgotten, which
        // only a workspace admin may do.
        let admins = if case == "P700" { 2 } else { 1 };
        let workspaces: Vec<i64> = (0..if case == "P600" { 2 } else { 1 }).map(|_| random_id()).collect();
        let tokens = workspaces
            .iter()
            .map(|_| users.iter().map(|_| format!("dapi-certify-{}", random_hex(32))).collect())
            .collect();
        CasePlan { domain, users, admins, workspaces, tokens }
    }

    fn token(&self, ws: usize, user: usize) -> &str {
        &self.tokens[ws][user]
    }
}

/// The account admin who registers the partner.
struct AdminPlan {
    user: String,
    workspace: i64,
    token: String,
}

/// The sandbox's fixture: every identity and UC object the cases need, declared up front.
fn fixture(admin: &AdminPlan, plans: &[(&str, &CasePlan)]) -> Json {
    let mut workspaces = vec![json!({"workspace_id": admin.workspace, "name": "certify admin"})];
    let mut users = vec![json!({"user_name": admin.user, "display_name": "Certify Admin", "account_admin": true})];
    let mut tokens = vec![json!({"token": admin.token, "principal": admin.user, "workspace_id": admin.workspace})];
    let mut groups = Vec::new();
    let mut admins_members = Vec::new();
    let mut metastores = Vec::new();
    let mut catalogs = Vec::new();
    for (case, plan) in plans {
        for (i, user) in plan.users.iter().enumerate() {
            users.push(json!({"user_name": user, "display_name": format!("Certify User{}", i + 1)}));
        }
        admins_members.extend(plan.users[..plan.admins].iter().cloned());
        let metastore_owner = if plan.admins > 1 {
            let group = format!("certify-admins-{}", plan.domain);
            groups.push(json!({"display_name": group, "members": plan.users[..plan.admins]}));
            group
        } else {
            plan.users[0].clone()
        };
        for (w, ws) in plan.workspaces.iter().enumerate() {
            workspaces.push(json!({"workspace_id": ws, "name": format!("certify {case}")}));
            for (u, user) in plan.users.iter().enumerate() {
                tokens.push(json!({"token": plan.token(w, u), "principal": user, "workspace_id": ws}));
            }
            let metastore = format!("certify-{ws}");
            metastores.push(json!({
                "name": metastore,
                "storage_root": format!("s3://uc-emulator-certify/{ws}"),
                "owner": metastore_owner,
                "assignments": [{"workspace_id": ws, "default_catalog_name": CATALOG}],
            }));
            catalogs.push(json!({"name": CATALOG, "metastore": metastore, "owner": plan.users[0]}));
        }
    }
    groups.push(json!({"display_name": "admins", "members": admins_members}));
    json!({
        "workspaces": workspaces, "users": users, "groups": groups, "tokens": tokens,
        "metastores": metastores, "catalogs": catalogs,
    })
}

/// Starts the sandbox, registers the partner and runs the planned cases in order.
async fn sandbox_run(
    start: StartServer,
    raw: Json,
    config: PartnerConfig,
    basic: Option<(String, String)>,
    timeout_ms: u64,
    plans: Vec<(&'static str, Result<CasePlan, String>)>,
    report: &mut Report,
) {
    let admin = AdminPlan {
        user: format!("certify-admin@{}.databricks-test.com", random_hex(8)),
        workspace: random_id(),
        token: format!("dapi-certify-{}", random_hex(32)),
    };
    let runnable: Vec<(&str, &CasePlan)> = plans.iter().filter_map(|(c, p)| p.as_ref().ok().map(|p| (*c, p))).collect();
    let started = start_sandbox(start, &fixture(&admin, &runnable));
    let (running_url, store, handle, task) = match started {
        Ok(s) => s,
        Err(e) => {
            for (case, plan) in plans {
                match plan {
                    Ok(_) => report.line(case, Verdict::Fail(format!("the sandbox did not start: {e}"))),
                    Err(reason) => report.line(case, Verdict::Skip(reason)),
                }
            }
            return;
        }
    };
    tracing::info!(url = %running_url, "certify sandbox listening");
    let sandbox = Sandbox::new(running_url, store.clone(), config, basic.clone(), timeout_ms, admin.token);
    let mut sandbox = match sandbox {
        Ok(s) => s,
        Err(e) => {
            for (case, plan) in plans {
                match plan {
                    Ok(_) => report.line(case, Verdict::Fail(e.clone())),
                    Err(reason) => report.line(case, Verdict::Skip(reason)),
                }
            }
            return;
        }
    };
    let mut registered: Result<(), String> = Err("the partner is not registered yet".into());
    for (case, plan) in &plans {
        let plan = match plan {
            Err(reason) => {
                report.line(case, Verdict::Skip(reason.clone()));
                continue;
            }
            Ok(p) => p,
        };
        tracing::info!(case, "certify case");
        let verdict = if *case == "AUTH" {
            // A registration with a wrong password, replaced by the real one afterwards.
            let (user, _) = basic.clone().expect("AUTH runs only with credentials");
            let wrong = Some((user, format!("wrong-{}", random_hex(16))));
            let result = sandbox.auth_case(&raw, wrong, plan).await;
            if let Err(e) = sandbox.unregister().await {
                tracing::warn!(error = %e, "could not remove the wrong-password registration");
            }
            result
        } else {
            if registered.is_err() {
                registered = sandbox.register(&raw, basic.clone()).await;
            }
            match &registered {
                Err(e) => Err(e.clone()),
                Ok(()) => sandbox.run_case(case, plan).await,
            }
        };
        report.line(case, verdict.map_or_else(Verdict::Fail, |()| Verdict::Pass));
    }
    handle.stop(false).await;
    let _ = task.await;
    store.close();
}

type Started = (String, Arc<Store>, actix_web::dev::ServerHandle, actix_web::rt::task::JoinHandle<std::io::Result<()>>);

/// The in-memory emulator on 127.0.0.1 with a free port, the cases' fixture applied.
fn start_sandbox(start: StartServer, fixture: &Json) -> Result<Started, String> {
    let args = ServeArgs {
        bind: "127.0.0.1:0".into(),
        db: ":memory:".into(),
        fixtures: Vec::new(),
        storage_map: Vec::new(),
        file_roots: Vec::new(),
        log_format: Default::default(),
        own_address_only: true,
        reset: false,
        presigned_url_lifetime: 3600,
        s3_bind: None,
        s3_public_url: None,
        credential_lifetime: 3600,
        oauth_token_lifetime: 3600,
    };
    let running = start(&args)?;
    // Applied in memory (certify writes no files); the built-in fixture the new database got
    // is never used by the cases.
    let loaded = crate::fixtures::parse("certify sandbox fixture", &fixture.to_string()).map_err(|e| e.to_string())?;
    crate::fixtures::apply(&running.store, &[loaded]).map_err(|e| e.to_string())?;
    let handle = running.server.handle();
    let task = actix_web::rt::spawn(running.server);
    Ok((running.url, running.store, handle, task))
}

/// A failed sandbox request or partner call, as the emulator reported it.
struct Failure {
    http: u16,
    code: String,
    message: String,
    partner_status: Option<u64>,
    reason: Option<String>,
}

impl Failure {
    fn from_json(http: u16, body: &Json) -> Failure {
        Failure {
            http,
            code: body["error_code"].as_str().unwrap_or("").to_string(),
            message: body["message"].as_str().map_or_else(|| body.to_string(), str::to_string),
            partner_status: body["partner_status"].as_u64(),
            reason: body["partner_error"]["error_reason"].as_str().map(str::to_string),
        }
    }

    fn from_error(e: &ApiError) -> Failure {
        let extra = e.extra().cloned().map(Json::Object).unwrap_or(Json::Null);
        let (http, code) = e.code.wire();
        Failure {
            http,
            code: code.to_string(),
            message: e.message.clone(),
            partner_status: extra["partner_status"].as_u64(),
            reason: extra["partner_error"]["error_reason"].as_str().map(str::to_string),
        }
    }

    fn describe(&self, timeout_ms: u64) -> String {
        match self.code.as_str() {
            "PARTNER_TIMEOUT" => format!("the partner did not answer within {timeout_ms} ms"),
            c if c.starts_with("PARTNER_") => self.message.clone(),
            _ => format!("the sandbox answered {} {}: {}", self.http, self.code, self.message),
        }
    }
}

/// A sandbox answer (or a direct partner call's result).
enum Reply {
    /// 2xx: the sandbox's body (`{"partner_status", "body"}` for direct calls).
    Ok(Json),
    Failed(Failure),
}

/// The status of the partner's successful answer in a reply, for messages.
fn success_status(r: &Json) -> String {
    r["partner_response"]["status_code"]
        .as_u64()
        .or_else(|| r["partner_status"].as_u64())
        .map_or_else(|| "a success".to_string(), |s| s.to_string())
}

/// A new connection the sandbox stored.
struct NewConn {
    id: String,
    connection_id: String,
    workspace_id: i64,
    cloud: String,
    body: Json,
}

fn quoted_set(values: &[&str]) -> String {
    match values {
        [one] => format!("{one:?}"),
        _ => format!("one of {}", values.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(", ")),
    }
}

/// `expected <field> <want><why>, got <value>`.
fn expect_field(step: &str, body: &Json, field: &str, want: &[&str], why: &str) -> Result<(), String> {
    let got = &body[field];
    if got.as_str().is_some_and(|g| want.contains(&g)) {
        Ok(())
    } else {
        let got = if got.is_null() { "nothing".to_string() } else { got.to_string() };
        Err(format!("{step}: expected {field} {}{why}, got {got}", quoted_set(want)))
    }
}

struct Sandbox {
    url: String,
    http: reqwest::Client,
    probe: reqwest::Client,
    store: Arc<Store>,
    config: PartnerConfig,
    basic: Option<(String, String)>,
    timeout_ms: u64,
    admin_token: String,
    partner_id: String,
    cloud: String,
}

impl Sandbox {
    fn new(
        url: String,
        store: Arc<Store>,
        config: PartnerConfig,
        basic: Option<(String, String)>,
        timeout_ms: u64,
        admin_token: String,
    ) -> Result<Sandbox, String> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_millis(timeout_ms.saturating_mul(2) + 30_000))
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        let probe = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_millis(timeout_ms))
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        let cloud = config.supported_clouds.first().and_then(|c| canonical_cloud(c)).unwrap_or("aws").to_string();
        Ok(Sandbox {
            url,
            http,
            probe,
            store,
            config,
            basic,
            timeout_ms,
            admin_token,
            partner_id: String::new(),
            cloud,
        })
    }

    /// `azure` when the config supports it (the hosted suite's choice), else the first cloud.
    fn azure(&self) -> String {
        if self.config.supported_clouds.iter().any(|c| canonical_cloud(c) == Some("azure")) {
            "azure".into()
        } else {
            self.cloud.clone()
        }
    }

    async fn call(&self, method: Method, path: &str, token: &str, body: Option<Json>) -> Reply {
        let mut rb = self.http.request(method, format!("{}{path}", self.url)).bearer_auth(token);
        if let Some(b) = &body {
            rb = rb.json(b);
        }
        let res = match rb.send().await {
            Ok(r) => r,
            Err(e) => {
                return Reply::Failed(Failure {
                    http: 0,
                    code: "SANDBOX".into(),
                    message: format!("the sandbox did not answer: {e}"),
                    partner_status: None,
                    reason: None,
                })
            }
        };
        let status = res.status().as_u16();
        let body: Json = res.json().await.unwrap_or(Json::Null);
        if (200..300).contains(&status) {
            Reply::Ok(body)
        } else {
            Reply::Failed(Failure::from_json(status, &body))
        }
    }

    /// Calls the partner directly, as the sandbox would, judged as the connect flow judges answers.
    async fn direct(&self, op: Operation, body: &Json) -> Reply {
        let partner = client::Partner {
            config: &self.config,
            basic_auth: self.basic.as_ref().map(|(u, p)| (u.as_str(), p.as_str())),
            options: CallOptions { timeout_ms: self.timeout_ms, max_retries: 0, retry_backoff_ms: 0 },
        };
        let outcome = partner.call(op, Some(body), &[]).await;
        match judge(op, ConnectKind::New, &self.config, outcome) {
            Ok((status, body)) => Reply::Ok(json!({"partner_status": status, "body": body})),
            Err(e) => Reply::Failed(Failure::from_error(&e)),
        }
    }

    /// Registers the partner as the sandbox's account admin.
    async fn register(&mut self, raw: &Json, basic: Option<(String, String)>) -> Result<(), String> {
        let mut doc = json!({
            "config": raw,
            "options": {"timeout_ms": self.timeout_ms, "max_retries": 0, "retry_backoff_ms": 0},
        });
        if let Some((u, p)) = basic {
            doc["basic_auth"] = json!({"username": u, "password": p});
        }
        match self.call(Method::POST, &format!("{PC}/partners"), &self.admin_token, Some(doc)).await {
            Reply::Ok(info) => {
                self.partner_id = info["partner_id"].as_str().unwrap_or("").to_string();
                Ok(())
            }
            Reply::Failed(f) => Err(format!("registering the partner in the sandbox failed: {}", f.describe(0))),
        }
    }

    async fn unregister(&mut self) -> Result<(), String> {
        let path = format!("{PC}/partners/{}", self.partner_id);
        match self.call(Method::DELETE, &path, &self.admin_token, None).await {
            Reply::Ok(_) => {
                self.partner_id.clear();
                Ok(())
            }
            Reply::Failed(f) => Err(f.describe(0)),
        }
    }

    /// `AUTH`: a connect with a wrong password must get 401 `unauthorized`; whatever the answer,
    /// nothing of the request stays in the sandbox.
    async fn auth_case(&mut self, raw: &Json, wrong: Option<(String, String)>, plan: &CasePlan) -> Result<(), String> {
        self.register(raw, wrong).await?;
        let reply = self.connect(plan, 0, 0, &self.cloud, false).await;
        if let Reply::Ok(r) = &reply {
            if let Some(id) = r["connection"]["id"].as_str() {
                self.forget(id)?;
            }
        }
        self.expect_error("connect with a wrong password", reply, 401, &["unauthorized"])
    }

    async fn connect(&self, plan: &CasePlan, ws: usize, user: usize, cloud: &str, demo: bool) -> Reply {
        let mut body = json!({"partner_id": self.partner_id, "cloud_provider": cloud});
        if !self.config.data_permissions.is_empty() {
            body["catalog_name"] = json!(CATALOG);
        }
        if demo {
            body["demo"] = json!(true);
        }
        self.call(Method::POST, &format!("{PC}/connections"), plan.token(ws, user), Some(body)).await
    }

    async fn sign_in(&self, plan: &CasePlan, ws: usize, user: usize) -> Reply {
        let body = json!({"partner_id": self.partner_id});
        self.call(Method::POST, &format!("{PC}/connections"), plan.token(ws, user), Some(body)).await
    }

    /// A connect that must be a valid new connection.
    #[allow(clippy::too_many_arguments)]
    async fn new_connection(
        &self,
        step: &str,
        plan: &CasePlan,
        ws: usize,
        user: usize,
        cloud: &str,
        demo: bool,
        redirects: &[&str],
    ) -> Result<NewConn, String> {
        let reply = self.connect(plan, ws, user, cloud, demo).await;
        let r = match reply {
            Reply::Failed(f) => return Err(format!("{step}: {}", f.describe(self.timeout_ms))),
            Reply::Ok(r) => r,
        };
        if r["flow"] != "NEW_CONNECTION" {
            return Err(format!("{step}: expected a new connection, the sandbox made {}", r["flow"]));
        }
        let body = r["partner_response"]["body"].clone();
        if r["connection"].is_null() {
            return Err(format!(
                "{step}: the partner declined the connection (configured_resources false, redirect_value {})",
                body["redirect_value"]
            ));
        }
        self.expect_redirect(step, &body, redirects).await?;
        Ok(NewConn {
            id: r["connection"]["id"].as_str().unwrap_or("").to_string(),
            connection_id: body["connection_id"].as_str().unwrap_or("").to_string(),
            workspace_id: plan.workspaces[ws],
            cloud: cloud.to_string(),
            body,
        })
    }

    /// A sign-in that must be valid; `None` when the config requires a manual sign-up and
    /// the expected 404 came, so the checks on the answer are not made.
    async fn valid_sign_in(
        &self,
        step: &str,
        plan: &CasePlan,
        ws: usize,
        user: usize,
        redirects: &[&str],
    ) -> Result<Option<Json>, String> {
        let reply = self.sign_in(plan, ws, user).await;
        if self.config.require_manual_signup {
            self.expect_error(step, reply, 404, &["account_not_found", "connection_not_found"])?;
            return Ok(None);
        }
        let r = match reply {
            Reply::Failed(f) => return Err(format!("{step}: {}", f.describe(self.timeout_ms))),
            Reply::Ok(r) => r,
        };
        if r["flow"] != "SIGN_IN" {
            return Err(format!("{step}: expected a sign-in, the sandbox made {}", r["flow"]));
        }
        let body = r["partner_response"]["body"].clone();
        self.expect_redirect(step, &body, redirects).await?;
        Ok(Some(body))
    }

    /// A sign-in that must get the partner's error `status` `reasons` (any of them when the
    /// config requires a manual sign-up).
    async fn failed_sign_in(
        &self,
        step: &str,
        plan: &CasePlan,
        ws: usize,
        user: usize,
        status: u16,
        reasons: &[&str],
    ) -> Result<(), String> {
        let reply = self.sign_in(plan, ws, user).await;
        if self.config.require_manual_signup {
            return self.expect_error(step, reply, 404, &["account_not_found", "connection_not_found"]);
        }
        self.expect_error(step, reply, status, reasons)
    }

    async fn expect_redirect(&self, step: &str, body: &Json, redirects: &[&str]) -> Result<(), String> {
        expect_field(step, body, "redirect_value", redirects, "")?;
        let uri = body["redirect_uri"].as_str().unwrap_or("");
        match self.probe.get(uri).header("User-Agent", "databricks").send().await {
            Ok(res) if res.status().is_success() || res.status().is_redirection() => Ok(()),
            Ok(res) => Err(format!("{step}: redirect_uri {uri} answered {}", res.status().as_u16())),
            Err(e) if e.is_timeout() => {
                Err(format!("{step}: redirect_uri {uri} did not answer within {} ms", self.timeout_ms))
            }
            Err(e) => Err(format!("{step}: redirect_uri {uri} is not reachable: {e}")),
        }
    }

    /// Expected error: the partner answered `status` with one of `reasons`.
    fn expect_error(&self, step: &str, reply: Reply, status: u16, reasons: &[&str]) -> Result<(), String> {
        let want = format!("{status} {}", reasons.join(" or "));
        match reply {
            Reply::Ok(r) => {
                Err(format!("{step}: expected {want}, the partner answered {} (success)", success_status(&r)))
            }
            Reply::Failed(f) => match (f.partner_status, f.reason.as_deref()) {
                (Some(s), Some(reason)) if s == u64::from(status) && reasons.contains(&reason) => Ok(()),
                (Some(s), Some(reason)) => Err(format!("{step}: expected {want}, the partner answered {s} {reason}")),
                _ => Err(format!("{step}: expected {want}, but {}", f.describe(self.timeout_ms))),
            },
        }
    }

    fn expect_ok(&self, step: &str, reply: Reply) -> Result<Json, String> {
        match reply {
            Reply::Ok(r) => Ok(r),
            Reply::Failed(f) => Err(format!("{step}: {}", f.describe(self.timeout_ms))),
        }
    }

    /// Forget: the sandbox drops the connection and rolls back what it provisioned, without
    /// telling the partner.
    fn forget(&self, id: &str) -> Result<(), String> {
        self.store
            .write_now(|tx| -> ApiResult<()> {
                if let Some(row) = pc_store::connection_get(tx, id)? {
                    let info = ConnectionInfo::parse(&row)?;
                    let heir = info.created_by.clone();
                    crate::authz::with_server_proof(|ok| unprovision(tx, ok, &info, &heir, now_ms()))?;
                }
                Ok(())
            })
            .map_err(|e| format!("forget: the sandbox could not roll the connection back: {}", e.message))
    }

    /// Delete: the partner must be notified with a valid 200.
    async fn delete(&self, step: &str, plan: &CasePlan, ws: usize, conn: &NewConn) -> Result<(), String> {
        let path = format!("{PC}/connections/{}", conn.id);
        let r = self.expect_ok(step, self.call(Method::DELETE, &path, plan.token(ws, 0), None).await)?;
        let n = &r["partner_notification"];
        if n["status"] == "OK" {
            Ok(())
        } else {
            let detail = n["message"].as_str().map_or_else(|| n.to_string(), str::to_string);
            Err(format!("{step}: the partner's delete-connection failed: {detail}"))
        }
    }

    /// Partner deletes: certify calls the partner's delete-connection itself.
    async fn partner_deletes(&self, step: &str, conn: &NewConn) -> Result<(), String> {
        let body = json!({
            "connection_id": conn.connection_id,
            "cloud_provider": conn.cloud,
            "databricks_organization_id": conn.workspace_id,
        });
        self.expect_ok(step, self.direct(Operation::DeleteConnection, &body).await).map(|_| ())
    }

    /// Delete account; a domain the sandbox would refuse itself goes to the partner directly.
    async fn delete_account(&self, plan: &CasePlan, ws: usize, cloud: &str) -> Reply {
        if is_test_domain(&plan.domain) {
            let path = format!("{PC}/partners/{}/delete-account", self.partner_id);
            let body = json!({"domain": plan.domain, "cloud_provider": cloud});
            self.call(Method::POST, &path, plan.token(ws, 0), Some(body)).await
        } else {
            let body = json!({"domain": plan.domain, "cloud_provider": cloud,
                              "databricks_organization_id": plan.workspaces[ws]});
            self.direct(Operation::DeleteAccount, &body).await
        }
    }

    async fn expire_account(&self, plan: &CasePlan, ws: usize, user: usize, cloud: &str) -> Reply {
        let path = format!("{PC}/partners/{}/expire-account", self.partner_id);
        let body = json!({"email": plan.users[user], "cloud_provider": cloud});
        self.call(Method::POST, &path, plan.token(ws, 0), Some(body)).await
    }

    async fn test(&self, plan: &CasePlan, ws: usize, conn: &NewConn) -> Reply {
        let path = format!("{PC}/connections/{}/test", conn.id);
        self.call(Method::POST, &path, plan.token(ws, 0), None).await
    }

    async fn run_case(&self, case: &str, plan: &CasePlan) -> Result<(), String> {
        let cloud = self.cloud.clone();
        let azure = self.azure();
        let any = DEFAULT_REDIRECTS;
        match case {
            "P100" => {
                self.new_connection("connect of user1", plan, 0, 0, &cloud, false, &["create_trial"]).await?;
            }
            "P300" => {
                self.new_connection("connect of user1", plan, 0, 0, &cloud, false, &["create_trial"]).await?;
                self.valid_sign_in("sign-in of user1", plan, 0, 0, any).await?;
            }
            "P302" => self.p302(plan, &cloud).await?,
            "P400" => {
                let c = self.new_connection("connect of user1", plan, 0, 0, &cloud, false, any).await?;
                self.forget(&c.id)?;
                self.new_connection("second connect of user1", plan, 0, 0, &cloud, false, any).await?;
            }
            "P401" => {
                let c = self.new_connection("connect of user1", plan, 0, 0, &cloud, false, any).await?;
                self.delete("delete of the connection", plan, 0, &c).await?;
                self.new_connection("second connect of user1", plan, 0, 0, &cloud, false, any).await?;
            }
            "P402" => {
                let c = self.new_connection("connect of user1", plan, 0, 0, &cloud, false, any).await?;
                self.partner_deletes("the partner's delete-connection", &c).await?;
                self.failed_sign_in("sign-in of user1", plan, 0, 0, 404, &["connection_not_found"]).await?;
            }
            "P403" => {
                let c = self.new_connection("connect of user1", plan, 0, 0, &azure, false, any).await?;
                let step = format!("delete-account of {}", plan.domain);
                self.expect_ok(&step, self.delete_account(plan, 0, &azure).await)?;
                self.forget(&c.id)?;
                self.new_connection("second connect of user1", plan, 0, 0, &azure, false, any).await?;
            }
            "P404" => {
                self.new_connection("connect of user1", plan, 0, 0, &azure, false, any).await?;
                let step = format!("delete-account of {}", plan.domain);
                self.expect_ok(&step, self.delete_account(plan, 0, &azure).await)?;
                self.failed_sign_in("sign-in of user1", plan, 0, 0, 404, &["connection_not_found"]).await?;
            }
            "P405" => {
                self.new_connection("connect of user1", plan, 0, 0, &azure, false, any).await?;
                let step = format!("delete-account of the non-test domain {}", plan.domain);
                self.expect_error(&step, self.delete_account(plan, 0, &azure).await, 400, &["bad_request"])?;
            }
            "P501" => self.p501(plan, &azure).await?,
            "P502" => {
                self.p501(plan, &azure).await?;
                let want = if self.config.trial_type.as_deref() == Some("user") { "active" } else { "expired" };
                let why = format!(" (trial_type {})", self.config.trial_type.as_deref().unwrap_or(""));
                // user2 is new to the partner: its new_user_action decides the answer, as in P302.
                let step = "sign-in of user2";
                let redirects: &[&str] = match self.config.new_user_action.as_str() {
                    "not_found" => return self.failed_sign_in(step, plan, 0, 1, 404, &["account_not_found"]).await,
                    "error" => return self.failed_sign_in(step, plan, 0, 1, 500, &["general_error"]).await,
                    "invite" => &["contact_admin"],
                    _ => any,
                };
                if let Some(body) = self.valid_sign_in(step, plan, 0, 1, redirects).await? {
                    expect_field(step, &body, "account_status", &[want], &why)?;
                }
            }
            "P600" => {
                self.new_connection("connect of user1 in workspace A", plan, 0, 0, &cloud, false, any).await?;
                self.valid_sign_in("sign-in of user1 in workspace A", plan, 0, 0, any).await?;
                self.new_connection("connect of user1 in workspace B", plan, 1, 0, &cloud, false, any).await?;
                self.valid_sign_in("sign-in of user1 in workspace B", plan, 1, 0, any).await?;
            }
            "P700" => {
                let c = self.demo_connect("demo connect of user1", plan, 0, &cloud).await?;
                self.valid_sign_in("sign-in of user1", plan, 0, 0, any).await?;
                self.forget(&c.id)?;
                self.demo_connect("demo connect of user2", plan, 1, &cloud).await?;
                self.valid_sign_in("sign-in of user2", plan, 0, 1, any).await?;
            }
            "P800" => {
                let c = self.new_connection("connect of user1", plan, 0, 0, &cloud, false, any).await?;
                let step = "test of the connection";
                let r = self.expect_ok(step, self.test(plan, 0, &c).await)?;
                if r["partner_status"] != json!(200) {
                    return Err(format!("{step}: expected 200, the partner answered {}", r["partner_status"]));
                }
                for (i, t) in r["test_results"].as_array().into_iter().flatten().enumerate() {
                    let name = t["test_name"].as_str().unwrap_or("");
                    if t["message"].as_str().is_none_or(str::is_empty) {
                        return Err(format!("{step}: test_results[{i}] ({name:?}) has no message"));
                    }
                    if t["status"] == "FAIL" {
                        return Err(format!("{step}: test_results[{i}] ({name:?}) failed: {}", t["message"]));
                    }
                }
            }
            "P801" => {
                let c = self.new_connection("connect of user1", plan, 0, 0, &cloud, false, any).await?;
                self.partner_deletes("the partner's delete-connection", &c).await?;
                let step = "test of the deleted connection";
                self.expect_error(step, self.test(plan, 0, &c).await, 404, &["connection_not_found"])?;
            }
            "P900" => {
                self.new_connection("connect of user1", plan, 0, 0, &cloud, false, any).await?;
                self.p900(plan).await?;
            }
            other => return Err(format!("unknown case {other}")),
        }
        Ok(())
    }

    async fn p302(&self, plan: &CasePlan, cloud: &str) -> Result<(), String> {
        self.new_connection("connect of user1", plan, 0, 0, cloud, false, DEFAULT_REDIRECTS).await?;
        let step = "sign-in of user2";
        let action = self.config.new_user_action.as_str();
        let why = format!(" (new_user_action {action})");
        match action {
            "auto_add" | "invite" => {
                let (status, redirects): (&str, &[&str]) = if action == "auto_add" {
                    ("new", &["sign_in", "create_trial"])
                } else {
                    ("not_applicable", &["contact_admin"])
                };
                if let Some(body) = self.valid_sign_in(step, plan, 0, 1, redirects).await? {
                    expect_field(step, &body, "user_status", &[status], &why)?;
                }
                Ok(())
            }
            "not_found" => self.failed_sign_in(step, plan, 0, 1, 404, &["account_not_found"]).await,
            _ => self.failed_sign_in(step, plan, 0, 1, 500, &["general_error"]).await,
        }
    }

    async fn p501(&self, plan: &CasePlan, cloud: &str) -> Result<(), String> {
        self.new_connection("connect of user1", plan, 0, 0, cloud, false, DEFAULT_REDIRECTS).await?;
        self.expect_ok("expire-account of user1", self.expire_account(plan, 0, 0, cloud).await)?;
        let step = "sign-in of user1 after expiry";
        if let Some(body) = self.valid_sign_in(step, plan, 0, 0, &["purchase_product"]).await? {
            expect_field(step, &body, "account_status", &["expired"], "")?;
        }
        Ok(())
    }

    /// P700's connect in a demo workspace: a fresh trial every time.
    async fn demo_connect(&self, step: &str, plan: &CasePlan, user: usize, cloud: &str) -> Result<NewConn, String> {
        let c = self.new_connection(step, plan, 0, user, cloud, true, &["create_trial"]).await?;
        expect_field(step, &c.body, "user_status", &["new"], " (demo)")?;
        expect_field(step, &c.body, "account_status", &["new"], " (demo)")?;
        Ok(c)
    }

    /// P900: every connectors page from the first, following `pagination_token`.
    async fn p900(&self, plan: &CasePlan) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        let mut token: Option<String> = None;
        for page in 1..=100 {
            let step = format!("connectors page {page}");
            let mut path = format!("{PC}/partners/{}/connectors", self.partner_id);
            if let Some(t) = &token {
                path.push_str("?page_token=");
                path.push_str(
                    &percent_encoding::utf8_percent_encode(t, percent_encoding::NON_ALPHANUMERIC).to_string(),
                );
            }
            let r = self.expect_ok(&step, self.call(Method::GET, &path, plan.token(0, 0), None).await)?;
            if page == 1 && r["connectors"].as_array().is_none_or(Vec::is_empty) {
                return Err(format!("{step}: the first page has no connectors"));
            }
            match r["next_page_token"].as_str().filter(|t| !t.is_empty()) {
                None => return Ok(()),
                Some(t) => {
                    if !seen.insert(t.to_string()) {
                        return Err(format!("{step}: pagination_token {t:?} was already given"));
                    }
                    token = Some(t.to_string());
                }
            }
        }
        Err("connectors: still a pagination_token after 100 pages".into())
    }
}
