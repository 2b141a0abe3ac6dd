//! Personal access tokens, kept only as SHA-256 hashes, and the caller a token stands for.

use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::authz::{Allowed, Caller, PrincipalKind};
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
pub fn insert(conn: &Connection, _ok: &Allowed, new: &NewToken<'_>) -> ApiResult<String> {
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
}

/// Resolves a token hash to its caller: principal, transitive groups, workspace, the
/// workspace's metastore. `None` when the token is unknown or its principal is inactive.
pub fn resolve(conn: &Connection, token_hash: &str) -> ApiResult<Option<Resolved>> {
    let found = conn
        .prepare_cached(
            "SELECT p.id, p.kind, p.name, p.active, p.account_admin, t.workspace_id, t.expiry_time
             FROM tokens t JOIN principals p ON p.id = t.principal_id WHERE t.token_hash = ?1",
        )?
        .query_row([token_hash], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, bool>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
            ))
        })
        .optional()?;
    let Some((id, kind, name, active, account_admin, workspace_id, expiry)) = found else {
        return Ok(None);
    };
    if !active {
        return Ok(None);
    }
    let kind = PrincipalKind::parse(&kind).unwrap_or(PrincipalKind::User);
    let groups = principals::transitive_group_names(conn, id)?;
    let metastore = crate::store::metastores::scope_of(conn, workspace_id)?;
    let caller = Caller::new(name, id, kind, workspace_id, groups, account_admin, metastore);
    Ok(Some(Resolved { caller, expires_at: (expiry >= 0).then_some(expiry) }))
}
