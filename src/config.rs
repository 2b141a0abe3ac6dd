//! Command-line flags and `UC_EMULATOR_*` variables. Flags win; a flag replaces
//! its variable entirely.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::domain::storage_url::StorageUrl;
use crate::telemetry::LogFormat;

#[derive(Parser, Debug)]
#[command(
    name = "uc-emulator",
    version,
    about = "A local emulator of Databricks Unity Catalog (UC API 2.1) with SCIM identity and tokens, over SQLite.",
    long_about = "A local emulator of Databricks Unity Catalog (UC API 2.1) with SCIM identity and tokens, over SQLite.\n\
                  Point databricks-sdk at it: WorkspaceClient(host=\"http://127.0.0.1:8080\", token=\"dapi-admin\")."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the REST API until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Explain whether a principal may do an action on a securable, and why, from a database.
    Explain(ExplainArgs),
    /// Partner Connect tools: certify a partner's implementation of the Partner Connect API.
    PartnerConnect(PartnerConnectArgs),
    /// Check that a server answers `GET /healthz` (for container health checks; no curl needed).
    /// Exit 0 when it answers 200, 1 otherwise.
    Healthcheck(HealthcheckArgs),
}

#[derive(Args, Debug, Clone)]
pub struct HealthcheckArgs {
    /// The server's address, HOST:PORT, as given to `serve --bind`; a wildcard host (0.0.0.0,
    /// [::]) means this machine (127.0.0.1).
    #[arg(long, env = "UC_EMULATOR_BIND", default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    pub bind: String,

    /// Give up after this many seconds (1-60).
    #[arg(long, value_name = "SECONDS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub timeout: u64,
}

#[derive(Args, Debug, Clone)]
pub struct PartnerConnectArgs {
    #[command(subcommand)]
    pub command: PartnerConnectCommand,
}

#[derive(Subcommand, Debug, Clone)]
pub enum PartnerConnectCommand {
    /// Run the Databricks certification cases (CONFIG, AUTH, P100-P900) against a partner, in a
    /// private in-memory emulator. Prints one PASS/FAIL/SKIP line per case, then a summary;
    /// exit 0 when nothing failed, 1 when a case failed, 2 for usage errors.
    #[command(
        override_usage = "uc-emulator partner-connect certify --config FILE [--basic-user USER --basic-password PASSWORD] [--timeout-ms N] [--case ID]..."
    )]
    Certify(CertifyArgs),
}

/// The certification cases, in the order they run.
pub const CERTIFY_CASES: &[&str] = &[
    "CONFIG", "AUTH", "P100", "P300", "P302", "P400", "P401", "P402", "P403", "P404", "P405", "P501", "P502", "P600",
    "P700", "P800", "P801", "P900",
];

#[derive(Args, Debug, Clone)]
pub struct CertifyArgs {
    /// The partner's PartnerConfig as JSON (just the config, not a registration document).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,

    /// The partner's basic-auth user name (give both credential options or neither).
    #[arg(long, value_name = "USER", requires = "basic_password")]
    pub basic_user: Option<String>,

    /// The partner's basic-auth password (give both credential options or neither).
    #[arg(long, value_name = "PASSWORD", requires = "basic_user")]
    pub basic_password: Option<String>,

    /// Limit of one partner call in milliseconds (100-600000). Certify never retries.
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub timeout_ms: u64,

    /// Run only this case (repeatable): CONFIG, AUTH, P100, P300, P302, P400, P401, P402, P403,
    /// P404, P405, P501, P502, P600, P700, P800, P801, P900. CONFIG always runs.
    #[arg(long = "case", value_name = "ID", value_parser = parse_case)]
    pub cases: Vec<String>,
}

fn parse_case(raw: &str) -> Result<String, String> {
    let id = raw.trim().to_ascii_uppercase();
    if CERTIFY_CASES.contains(&id.as_str()) {
        Ok(id)
    } else {
        Err(format!("unknown case {raw:?}; the cases are {}", CERTIFY_CASES.join(", ")))
    }
}

#[derive(Args, Debug, Clone)]
pub struct ExplainArgs {
    /// The SQLite database of a server (it may be running).
    #[arg(long, env = "UC_EMULATOR_DB", default_value = "./uc-emulator.db", value_name = "PATH")]
    pub db: String,

    /// The principal asking: a user name, group name or service principal application id.
    #[arg(long)]
    pub principal: String,

    /// The action: a Unity Catalog API operation name (getTable, createSchema, updateCatalogOwner, ...)
    /// or a privilege name (SELECT, USE_SCHEMA, ...).
    #[arg(long)]
    pub action: String,

    /// The securable's type: metastore, catalog, schema, table (any spelling the
    /// permissions API accepts).
    #[arg(long)]
    pub securable_type: String,

    /// The securable's full name (a metastore's id; omit for the workspace's metastore).
    #[arg(long)]
    pub full_name: Option<String>,

    /// The workspace whose metastore is in scope (default: the only assigned workspace).
    #[arg(long)]
    pub workspace_id: Option<i64>,

    /// Print the explanation as JSON (the endpoint's answer) instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on, HOST:PORT; port 0 picks a free port (printed on the listening line).
    #[arg(long, env = "UC_EMULATOR_BIND", default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    pub bind: String,

    /// SQLite database file, created when missing; `:memory:` keeps everything in memory.
    #[arg(long, env = "UC_EMULATOR_DB", default_value = "./uc-emulator.db", value_name = "PATH")]
    pub db: String,

    /// Fixture file applied at start-up (repeatable; UC_EMULATOR_FIXTURES is comma-separated).
    /// Without any, a new database gets the built-in default fixture (token `dapi-admin`).
    /// A fixture's `account_id` (a UUID) names the account of a new database; default
    /// 00000000-0000-4000-8000-000000000000.
    #[arg(long = "fixtures", env = "UC_EMULATOR_FIXTURES", value_delimiter = ',', value_name = "FILE")]
    pub fixtures: Vec<PathBuf>,

    /// Map a cloud storage prefix to a local directory, URL=DIR (repeatable;
    /// UC_EMULATOR_STORAGE_MAP is comma-separated). listFiles lists DIR for URLs under URL.
    #[arg(long = "storage-map", env = "UC_EMULATOR_STORAGE_MAP", value_delimiter = ',', value_name = "URL=DIR",
          value_parser = parse_storage_map)]
    pub storage_map: Vec<StorageMapping>,

    /// Delete the database file (PATH, PATH-wal, PATH-shm) before starting, so that the fixtures
    /// rebuild it: returns a teaching database to the fixture's state between classes.
    #[arg(long)]
    pub reset: bool,

    /// A directory that `file://` URLs may point into (repeatable; UC_EMULATOR_FILE_ROOTS is
    /// comma-separated). Default: none, so no `file://` URL is accepted anywhere, admins and
    /// fixtures included. Each DIR must exist; it is resolved to its real path at start-up.
    /// A --storage-map directory is not a file root.
    #[arg(long = "file-root", env = "UC_EMULATOR_FILE_ROOTS", value_delimiter = ',', value_name = "DIR",
          value_parser = parse_file_root)]
    pub file_roots: Vec<PathBuf>,

    /// Log format on stderr: `text` (human; coloured only on a terminal, never with NO_COLOR) or
    /// `json` (one object per line; per request: request_id, method, route, status, error_code,
    /// duration_ms, principal_id, principal).
    #[arg(long = "log-format", env = "UC_EMULATOR_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text,
          value_name = "FORMAT")]
    pub log_format: LogFormat,

    /// Lifetime of the pre-signed file URLs the Delta Sharing server hands out, in seconds
    /// (1-604800).
    #[arg(long = "presigned-url-lifetime", env = "UC_EMULATOR_PRESIGNED_URL_LIFETIME", default_value_t = 3600,
          value_name = "SECONDS", value_parser = clap::value_parser!(u32).range(1..=604_800))]
    pub presigned_url_lifetime: u32,
    /// Serve the S3-compatible endpoint on a second listener, HOST:PORT (port 0 picks a free
    /// port; announced on a second stdout line). Engines read and write `s3://` tables under
    /// --storage-map prefixes through it with the credentials the temporary-credentials
    /// endpoints vend. Default: off.
    #[arg(long = "s3-bind", env = "UC_EMULATOR_S3_BIND", value_name = "HOST:PORT", value_parser = parse_host_port)]
    pub s3_bind: Option<String>,

    /// The S3 endpoint URL written into vended credentials (`access_point`), for containers or
    /// proxies: http:// or https:// without path, query or fragment. Default: the printed S3
    /// URL, a wildcard host (0.0.0.0, ::) replaced by 127.0.0.1.
    #[arg(long = "s3-public-url", env = "UC_EMULATOR_S3_PUBLIC_URL", value_name = "URL", value_parser = parse_public_url)]
    pub s3_public_url: Option<String>,

    /// Lifetime of every vended temporary credential, in seconds (1-43200).
    #[arg(long = "credential-lifetime", env = "UC_EMULATOR_CREDENTIAL_LIFETIME", value_name = "SECONDS",
          default_value_t = 3600, value_parser = clap::value_parser!(u32).range(1..=43200))]
    pub credential_lifetime: u32,

    /// Lifetime of the OAuth access tokens the token endpoints mint for service principals
    /// (`expires_in`), in seconds (1-86400). Short values let tests see tokens expire and clients
    /// refresh them.
    #[arg(long = "oauth-token-lifetime", env = "UC_EMULATOR_OAUTH_TOKEN_LIFETIME", value_name = "SECONDS",
          default_value_t = crate::ops::oauth::DEFAULT_ACCESS_TOKEN_SECS,
          value_parser = clap::value_parser!(u32).range(1..=86400))]
    pub oauth_token_lifetime: u32,

    /// This server is certify's sandbox: advertise the listening address even when
    /// UC_EMULATOR_PUBLIC_URL is set, and send partners their `test_workspace_detail`. Not a flag.
    #[arg(skip)]
    pub own_address_only: bool,
}

/// One `--storage-map URL=DIR`.
#[derive(Clone, Debug)]
pub struct StorageMapping {
    pub url: StorageUrl,
    pub dir: PathBuf,
}

fn parse_storage_map(raw: &str) -> Result<StorageMapping, String> {
    let (url, dir) = raw.split_once('=').ok_or_else(|| format!("{raw:?} is not URL=DIR"))?;
    let url = StorageUrl::parse(url)?;
    if url.as_str().starts_with("file:") {
        return Err(format!("{raw:?}: file:// URLs are local already; map cloud prefixes only"));
    }
    let dir = PathBuf::from(dir);
    if !dir.is_dir() {
        return Err(format!("{raw:?}: {} is not an existing directory", dir.display()));
    }
    Ok(StorageMapping { url, dir })
}

/// One `--file-root DIR`: an existing directory, resolved to its real path.
pub fn parse_file_root(raw: &str) -> Result<PathBuf, String> {
    let dir = PathBuf::from(raw);
    if !dir.is_absolute() && raw.is_empty() {
        return Err("a file root must name a directory".to_string());
    }
    let real = std::fs::canonicalize(&dir).map_err(|e| format!("{raw:?} is not an existing directory: {e}"))?;
    if !real.is_dir() {
        return Err(format!("{raw:?} is not an existing directory"));
    }
    if real.to_str().is_none() {
        return Err(format!("{raw:?}: the real path is not UTF-8"));
    }
    Ok(real)
}

/// `HOST:PORT` with a numeric port.
fn parse_host_port(raw: &str) -> Result<String, String> {
    match raw.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(raw.to_string()),
        _ => Err(format!("{raw:?} is not HOST:PORT")),
    }
}

/// An `http://` or `https://` URL without path, query or fragment (a trailing `/` is dropped).
fn parse_public_url(raw: &str) -> Result<String, String> {
    let url = raw.strip_suffix('/').unwrap_or(raw);
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', ' ']) => Ok(url.to_string()),
        _ => Err(format!("{raw:?} is not an http:// or https:// URL without path, query or fragment")),
    }
}

/// `UC_EMULATOR_PUBLIC_URL`: the address given to Partner Connect partners.
pub fn public_url() -> Option<String> {
    std::env::var("UC_EMULATOR_PUBLIC_URL").ok().filter(|s| !s.is_empty())
}
