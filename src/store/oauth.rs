//! OAuth secrets of service principals and the access tokens the token endpoints mint. Only
//! SHA-256 hashes of secret and token values are kept.

use rusqlite::{params, Connection, OptionalExtension};

use crate::authz::{Action, Allowed};
use crate::error::ApiResult;

/// One stored secret (never its value).
#[derive(Clone, Debug)]
pub struct SecretRow {
    pub id: String,
    pub principal_id: i64,
    pub secret_hash: String,
    /// Epoch seconds.
    pub create_time: i64,
    pub expire_time: i64,
    pub scopes: Option<Vec<String>>,
}

fn secret_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SecretRow> {
    let scopes: Option<String> = r.get(5)?;
    Ok(SecretRow {
        id: r.get(0)?,
        principal_id: r.get(1)?,
        secret_hash: r.get(2)?,
        create_time: r.get(3)?,
        expire_time: r.get(4)?,
        scopes: scopes.and_then(|s| serde_json::from_str(&s).ok()),
    })
}

const SECRET_COLUMNS: &str = "id, principal_id, secret_hash, create_time, expire_time, scopes";

/// Stores a new secret of a service principal.
pub fn insert_secret(conn: &Connection, ok: &Allowed, s: &SecretRow) -> ApiResult<()> {
    ok.check(
        "store::oauth::insert_secret",
        |a| matches!(a, Action::ManageAccount | Action::ManageSecretsInWorkspace),
        None,
    );
    let scopes = s.scopes.as_ref().map(|v| serde_json::to_string(v).expect("strings serialize"));
    conn.prepare_cached(&format!("INSERT INTO sp_secrets ({SECRET_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"))?
        .execute(params![s.id, s.principal_id, s.secret_hash, s.create_time, s.expire_time, scopes])?;
    Ok(())
}

/// A service principal's secrets, by creation time then id.
pub fn secrets(conn: &Connection, principal_id: i64) -> ApiResult<Vec<SecretRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SECRET_COLUMNS} FROM sp_secrets WHERE principal_id = ?1 ORDER BY create_time, id"
    ))?;
    let rows = stmt.query_map([principal_id], secret_row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Deletes one secret of a service principal; whether it existed.
pub fn delete_secret(conn: &Connection, ok: &Allowed, principal_id: i64, id: &str) -> ApiResult<bool> {
    ok.check(
        "store::oauth::delete_secret",
        |a| matches!(a, Action::ManageAccount | Action::ManageSecretsInWorkspace),
        None,
    );
    Ok(conn
        .prepare_cached("DELETE FROM sp_secrets WHERE principal_id = ?1 AND id = ?2")?
        .execute(params![principal_id, id])?
        > 0)
}

/// The secret with this hash, if it exists.
pub fn secret_by_hash(conn: &Connection, secret_hash: &str) -> ApiResult<Option<SecretRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {SECRET_COLUMNS} FROM sp_secrets WHERE secret_hash = ?1"))?
        .query_row([secret_hash], secret_row)
        .optional()?)
}

/// Stores a minted access token; expired tokens of the same principal are dropped on the way.
pub fn insert_token(
    conn: &Connection,
    ok: &Allowed,
    token_hash: &str,
    principal_id: i64,
    scope: &str,
    expires_at: i64,
    now: i64,
) -> ApiResult<()> {
    ok.check("store::oauth::insert_token", |a| matches!(a, Action::MintOAuthToken), None);
    conn.prepare_cached("DELETE FROM oauth_tokens WHERE principal_id = ?1 AND expires_at <= ?2")?
        .execute(params![principal_id, now])?;
    conn.prepare_cached(
        "INSERT INTO oauth_tokens (token_hash, principal_id, scope, expires_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![token_hash, principal_id, scope, expires_at])?;
    Ok(())
}

/// The principal and expiry (epoch ms) of an OAuth access token.
pub fn token_principal(conn: &Connection, token_hash: &str) -> ApiResult<Option<(i64, i64)>> {
    Ok(conn
        .prepare_cached("SELECT principal_id, expires_at FROM oauth_tokens WHERE token_hash = ?1")?
        .query_row([token_hash], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}
