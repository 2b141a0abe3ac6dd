//! OAuth machine-to-machine: service principal secrets (account paths for account admins, the
//! workspace proxy also for workspace admins) and the client-credentials grant that turns a
//! secret into a short-lived access token.

use rusqlite::Connection;

use crate::authz::{self, Action, Allowed, Caller, PrincipalKind};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::oauth::{self, SecretRow};
use crate::store::{account, principals, tokens};

/// Longest secret lifetime, and the default: 730 days.
pub const MAX_SECRET_LIFETIME_SECS: i64 = 63_072_000;
/// Lifetime of an access token unless `--oauth-token-lifetime` says otherwise.
pub const DEFAULT_ACCESS_TOKEN_SECS: u32 = 3600;

/// Where a secrets request came in: the account path, or the workspace proxy.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SecretsPath {
    Account,
    Workspace,
}

/// `lifetime`: decimal seconds with an optional `s`, 1 to 730 days.
pub fn parse_lifetime(raw: Option<&str>) -> ApiResult<i64> {
    let Some(raw) = raw else { return Ok(MAX_SECRET_LIFETIME_SECS) };
    let digits = raw.trim().strip_suffix('s').unwrap_or(raw.trim());
    match digits.parse::<i64>() {
        Ok(n) if (1..=MAX_SECRET_LIFETIME_SECS).contains(&n) && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(ApiError::invalid(
            "lifetime",
            format!(
                "must be a number of seconds between 1 and {MAX_SECRET_LIFETIME_SECS} (e.g. \"3600s\"), got {raw:?}"
            ),
        )),
    }
}

/// The proof a secrets request runs under; decided before the service principal is looked up.
fn authorize(caller: &Caller, path: SecretsPath) -> ApiResult<Allowed> {
    let action = match path {
        SecretsPath::Account => Action::ManageAccount,
        SecretsPath::Workspace => Action::ManageSecretsInWorkspace,
    };
    authz::require(caller, &action, &[]).map_err(|_| {
        ApiError::denied(match path {
            SecretsPath::Account => format!("{} is not an account admin.", caller.describe()),
            SecretsPath::Workspace => {
                format!("{} is not an admin of workspace {}.", caller.describe(), caller.workspace_id)
            }
        })
    })
}

/// The service principal with this numeric id (on the proxy: one of the acting workspace).
fn load_sp(conn: &Connection, caller: &Caller, path: SecretsPath, id: i64) -> ApiResult<principals::PrincipalRow> {
    let missing = || ApiError::new(ErrorCode::ResourceDoesNotExist, format!("Service principal {id} does not exist."));
    let p = principals::by_id(conn, id)?.filter(|p| p.kind == PrincipalKind::ServicePrincipal).ok_or_else(missing)?;
    if path == SecretsPath::Workspace && account::effective_permission(conn, caller.workspace_id, p.id)?.is_none() {
        return Err(missing());
    }
    Ok(p)
}

/// A new secret; returns the stored row and the value (shown once).
pub fn create_secret(
    tx: &Connection,
    caller: &Caller,
    path: SecretsPath,
    sp_id: i64,
    lifetime: i64,
    scopes: Option<Vec<String>>,
    now_secs: i64,
) -> ApiResult<(SecretRow, String)> {
    let ok = authorize(caller, path)?;
    let sp = load_sp(tx, caller, path, sp_id)?;
    let value = format!("dose{}", random_hex(20));
    let row = SecretRow {
        id: random_hex(16),
        principal_id: sp.id,
        secret_hash: tokens::hash(&value),
        create_time: now_secs,
        expire_time: now_secs + lifetime,
        scopes,
    };
    oauth::insert_secret(tx, &ok, &row)?;
    Ok((row, value))
}

/// Every secret of a service principal.
pub fn list_secrets(conn: &Connection, caller: &Caller, path: SecretsPath, sp_id: i64) -> ApiResult<Vec<SecretRow>> {
    authorize(caller, path)?;
    let sp = load_sp(conn, caller, path, sp_id)?;
    oauth::secrets(conn, sp.id)
}

/// Deletes one secret; 404 when it is not one of that service principal's.
pub fn delete_secret(
    tx: &Connection,
    caller: &Caller,
    path: SecretsPath,
    sp_id: i64,
    secret_id: &str,
) -> ApiResult<()> {
    let ok = authorize(caller, path)?;
    let sp = load_sp(tx, caller, path, sp_id)?;
    if oauth::delete_secret(tx, &ok, sp.id, secret_id)? {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::ResourceDoesNotExist, format!("Secret {secret_id} does not exist.")))
    }
}

/// Lower-case hex of `n` random bytes.
pub fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::getrandom(&mut b).expect("the OS random source works");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Why a client-credentials request fails, in RFC 6749's terms.
#[derive(Debug, PartialEq, Eq)]
pub enum GrantError {
    InvalidClient,
    InvalidScope(String),
}

/// A minted access token.
pub struct Minted {
    pub access_token: String,
    pub scope: String,
}

/// The client-credentials grant: `client_id` is a service principal's application id, the
/// secret one of its unexpired secrets; the principal must be active. Requested scopes must lie
/// within the secret's (`all-apis` covers all). The token lives `lifetime_secs`.
pub fn mint_token(
    tx: &Connection,
    client_id: &str,
    client_secret: &str,
    scope: Option<&str>,
    now_ms: i64,
    lifetime_secs: i64,
) -> ApiResult<Result<Minted, GrantError>> {
    let Some(secret) = oauth::secret_by_hash(tx, &tokens::hash(client_secret))? else {
        return Ok(Err(GrantError::InvalidClient));
    };
    let Some(sp) = principals::by_id(tx, secret.principal_id)? else { return Ok(Err(GrantError::InvalidClient)) };
    if sp.name != client_id || !sp.active || secret.expire_time * 1000 <= now_ms {
        return Ok(Err(GrantError::InvalidClient));
    }
    let requested: Vec<&str> = scope.unwrap_or("all-apis").split_whitespace().collect();
    let requested = if requested.is_empty() { vec!["all-apis"] } else { requested };
    if let Some(allowed) = secret.scopes.as_ref().filter(|s| !s.is_empty()) {
        let covered = |r: &str| allowed.iter().any(|a| a == "all-apis" || a == r);
        if let Some(bad) = requested.iter().find(|r| !covered(r)) {
            return Ok(Err(GrantError::InvalidScope(format!("The scope '{bad}' is not granted to this secret."))));
        }
    }
    let caller = account::caller_in(tx, sp, 0)?;
    let ok = authz::require(&caller, &Action::MintOAuthToken, &[]).map_err(|_| ApiError::denied("not a client"))?;
    let access_token = format!("doa{}", random_hex(32));
    let scope = requested.join(" ");
    oauth::insert_token(
        tx,
        &ok,
        &tokens::hash(&access_token),
        caller.id,
        &scope,
        now_ms.saturating_add(lifetime_secs.saturating_mul(1000)),
        now_ms,
    )?;
    Ok(Ok(Minted { access_token, scope }))
}
