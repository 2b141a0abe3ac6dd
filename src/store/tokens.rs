//! Personal access tokens, kept only as SHA-256 hashes, and the caller a token stands for.

use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::authz::{Allowed, Caller};
use crate::error::ApiResult;
use crate::store::principals;

/// The stored form of a token value.
pub fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

pub struct NewToken<'a> {
    pub value: &'a str,
    pub principal_id: i64,
    pub workspace_id: i64,
    pub comment: Option<&'a str>,
    pub creation_time: i64,
    pub expiry_time: i64,
    pub from_api: bool,
    pub created_by_id: Option<i64>,
}

/// Stores a token; returns its id.
pub fn insert(conn: &Connection, ok: &Allowed, new: &NewToken<'_>) -> ApiResult<String> {
    ok.check(
        "store::tokens::insert",
        |a| {
            matches!(
                a,
                crate::authz::Action::OwnTokens
                    | crate::authz::Action::CreateToken { .. }
                    | crate::authz::Action::ManageWorkspaceTokens
                    | crate::authz::Action::ConnectPartner
            )
        },
        None,
    );
    let token_id = crate::domain::new_id().replace('-', "");
    conn.prepare_cached(
        "INSERT INTO tokens (token_id, token_hash, principal_id, workspace_id, comment, creation_time,
                             expiry_time, from_api, created_by_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        token_id,
        hash(new.value),
        new.principal_id,
        new.workspace_id,
        new.comment,
        new.creation_time,
        new.expiry_time,
        new.from_api,
        new.created_by_id
    ])?;
    Ok(token_id)
}

pub fn exists(conn: &Connection, value: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM tokens WHERE token_hash = ?1)")?
        .query_row([hash(value)], |r| r.get(0))?)
}

/// A token's caller and the moment the token stops working (`None`: never).
pub struct Resolved {
    pub caller: Caller,
    pub expires_at: Option<i64>,
    /// Why the workspace the request names (`X-Databricks-Workspace-Id`) cannot be acted in
    /// with this credential, if it cannot.
    pub workspace_refused: Option<String>,
}

/// Resolves a credential hash (a personal access token, or an OAuth access token of a service
/// principal) to its caller: principal, transitive groups, acting workspace and whether the
/// principal belongs there, the workspace's metastore. `requested` is the workspace the
/// request names, if any. `None` when the credential is unknown or its principal inactive.
pub fn resolve(conn: &Connection, token_hash: &str, requested: Option<i64>) -> ApiResult<Option<Resolved>> {
    let found = conn
        .prepare_cached("SELECT t.principal_id, t.workspace_id, t.expiry_time FROM tokens t WHERE t.token_hash = ?1")?
        .query_row([token_hash], |r| Ok((r.get::<_, i64>(0)?, Some(r.get::<_, i64>(1)?), r.get::<_, i64>(2)?)))
        .optional()?;
    let found = match found {
        Some(f) => Some(f),
        None => crate::store::oauth::token_principal(conn, token_hash)?.map(|(p, exp)| (p, None, exp)),
    };
    let Some((principal_id, pat_workspace, expiry)) = found else {
        return Ok(None);
    };
    let Some(p) = principals::by_id(conn, principal_id)? else { return Ok(None) };
    if !p.active {
        return Ok(None);
    }
    let (workspace_id, workspace_refused) = match (pat_workspace, requested) {
        (Some(w), Some(r)) if r != w => (w, Some(format!("This token belongs to workspace {w}."))),
        (Some(w), _) => (w, None),
        (None, Some(r)) => {
            if principals::workspace_exists(conn, r)? {
                (r, None)
            } else {
                (r, Some(format!("Workspace {r} does not exist.")))
            }
        }
        (None, None) => (crate::store::account::lowest_workspace_of(conn, p.id)?.unwrap_or(0), None),
    };
    let caller = crate::store::account::caller_in(conn, p, workspace_id)?;
    Ok(Some(Resolved { caller, expires_at: (expiry >= 0).then_some(expiry), workspace_refused }))
}

/// An API-created token as the token APIs show it (never its value).
#[derive(Clone, Debug)]
pub struct TokenRow {
    pub token_id: String,
    pub owner_id: i64,
    pub workspace_id: i64,
    pub comment: Option<String>,
    pub creation_time: i64,
    pub expiry_time: i64,
    pub created_by_id: Option<i64>,
    /// The creator's `user_name` / `application_id`, when the creator still exists.
    pub created_by_name: Option<String>,
}

const TOKEN_COLUMNS: &str = "t.token_id, t.principal_id, t.workspace_id, t.comment, t.creation_time, t.expiry_time,
     t.created_by_id, c.name";

fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRow> {
    Ok(TokenRow {
        token_id: r.get(0)?,
        owner_id: r.get(1)?,
        workspace_id: r.get(2)?,
        comment: r.get(3)?,
        creation_time: r.get(4)?,
        expiry_time: r.get(5)?,
        created_by_id: r.get(6)?,
        created_by_name: r.get(7)?,
    })
}

/// Filters of a token list; every API-created token of `workspace_id` that matches all of them.
#[derive(Default)]
pub struct TokenFilter<'a> {
    pub owner_id: Option<i64>,
    pub created_by_id: Option<i64>,
    pub created_by_name: Option<&'a str>,
}

/// API-created tokens of a workspace, oldest first (fixture tokens are never listed).
pub fn list_api_tokens(conn: &Connection, workspace_id: i64, f: &TokenFilter<'_>) -> ApiResult<Vec<TokenRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TOKEN_COLUMNS} FROM tokens t LEFT JOIN principals c ON c.id = t.created_by_id
         WHERE t.workspace_id = ?1 AND t.from_api = 1
           AND (?2 IS NULL OR t.principal_id = ?2)
           AND (?3 IS NULL OR t.created_by_id = ?3)
           AND (?4 IS NULL OR c.name = ?4)
         ORDER BY t.creation_time, t.token_id"
    ))?;
    let rows = stmt
        .query_map(params![workspace_id, f.owner_id, f.created_by_id, f.created_by_name], token_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// One API-created token of a workspace (optionally only if `owner_id` owns it).
pub fn get_api_token(
    conn: &Connection,
    workspace_id: i64,
    token_id: &str,
    owner_id: Option<i64>,
) -> ApiResult<Option<TokenRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens t LEFT JOIN principals c ON c.id = t.created_by_id
             WHERE t.workspace_id = ?1 AND t.from_api = 1 AND t.token_id = ?2
               AND (?3 IS NULL OR t.principal_id = ?3)"
        ))?
        .query_row(params![workspace_id, token_id, owner_id], token_row)
        .optional()?)
}

/// Deletes a token by id; whether one was deleted. The identity epoch moves with it, so the
/// token stops authenticating at once.
pub fn delete(conn: &Connection, ok: &Allowed, token_id: &str) -> ApiResult<bool> {
    ok.check(
        "store::tokens::delete",
        |a| matches!(a, crate::authz::Action::OwnTokens | crate::authz::Action::ManageWorkspaceTokens),
        None,
    );
    Ok(conn.prepare_cached("DELETE FROM tokens WHERE token_id = ?1")?.execute([token_id])? > 0)
}
