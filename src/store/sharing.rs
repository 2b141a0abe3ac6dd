//! Delta Sharing, the recipient's side: activation links, bearer credentials, and what a
//! recipient's shares hold.

use rusqlite::{params, Connection, OptionalExtension};

use crate::authz::Allowed;
use crate::error::ApiResult;

/// An activation link's token, its recipient and metastore.
pub struct ActivationRow {
    pub token_id: String,
    pub retrieved: bool,
    pub expiration_time: Option<i64>,
    pub recipient_name: String,
    pub metastore_id: String,
    pub ip_access_list: Option<String>,
    pub delta_sharing_scope: String,
}

pub fn by_activation_token(conn: &Connection, activation_token: &str) -> ApiResult<Option<ActivationRow>> {
    Ok(conn
        .prepare_cached(
            "SELECT c.token_id, c.retrieved_at IS NOT NULL, t.expiration_time, r.name, r.metastore_id,
                    r.ip_access_list, m.delta_sharing_scope
             FROM recipient_credentials c JOIN recipient_tokens t ON t.id = c.token_id
                  JOIN recipients r ON r.id = t.recipient_id JOIN metastores m ON m.id = r.metastore_id
             WHERE c.activation_token = ?1",
        )?
        .query_row([activation_token], |r| {
            Ok(ActivationRow {
                token_id: r.get(0)?,
                retrieved: r.get(1)?,
                expiration_time: r.get(2)?,
                recipient_name: r.get(3)?,
                metastore_id: r.get(4)?,
                ip_access_list: r.get(5)?,
                delta_sharing_scope: r.get(6)?,
            })
        })
        .optional()?)
}

/// Marks the token's credential retrieved with the hash of its new bearer token; `false` when
/// another request retrieved it first (exactly one retrieval wins).
pub fn mark_retrieved(conn: &Connection, ok: &Allowed, token_id: &str, bearer_hash: &str, now: i64) -> ApiResult<bool> {
    ok.check(
        "store::sharing::mark_retrieved",
        |a| matches!(a, crate::authz::Action::RetrieveRecipientCredential),
        Some(token_id),
    );
    let n = conn
        .prepare_cached(
            "UPDATE recipient_credentials SET bearer_hash = ?2, retrieved_at = ?3
             WHERE token_id = ?1 AND retrieved_at IS NULL",
        )?
        .execute(params![token_id, bearer_hash, now])?;
    Ok(n == 1)
}

/// The recipient a bearer token (by hash) belongs to.
pub struct BearerRow {
    pub expiration_time: Option<i64>,
    pub recipient_id: String,
    pub recipient_name: String,
    pub authentication_type: String,
    pub metastore_id: String,
    pub ip_access_list: Option<String>,
    pub properties_kvpairs: Option<String>,
    pub delta_sharing_scope: String,
}

pub fn by_bearer_hash(conn: &Connection, hash: &str) -> ApiResult<Option<BearerRow>> {
    Ok(conn
        .prepare_cached(
            "SELECT t.expiration_time, r.id, r.name, r.authentication_type, r.metastore_id, r.ip_access_list,
                    r.properties_kvpairs, m.delta_sharing_scope
             FROM recipient_credentials c JOIN recipient_tokens t ON t.id = c.token_id
                  JOIN recipients r ON r.id = t.recipient_id JOIN metastores m ON m.id = r.metastore_id
             WHERE c.bearer_hash = ?1",
        )?
        .query_row([hash], |r| {
            Ok(BearerRow {
                expiration_time: r.get(0)?,
                recipient_id: r.get(1)?,
                recipient_name: r.get(2)?,
                authentication_type: r.get(3)?,
                metastore_id: r.get(4)?,
                ip_access_list: r.get(5)?,
                properties_kvpairs: r.get(6)?,
                delta_sharing_scope: r.get(7)?,
            })
        })
        .optional()?)
}

/// A share as a recipient sees it.
pub struct RecipientShare {
    pub id: String,
    pub name: String,
    pub owner: String,
    /// What the recipient holds on it.
    pub privileges: Vec<String>,
}

/// The metastore's shares that grant `recipient` something, by name, with the privileges.
pub fn shares_granted(conn: &Connection, metastore_id: &str, recipient: &str) -> ApiResult<Vec<RecipientShare>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.name, s.owner, g.privilege FROM grants g JOIN shares s ON s.id = g.securable_id
         WHERE s.metastore_id = ?1 AND g.principal = ?2 ORDER BY s.name, g.privilege",
    )?;
    let mut out: Vec<RecipientShare> = Vec::new();
    let mut rows = stmt.query(params![metastore_id, recipient])?;
    while let Some(r) = rows.next()? {
        let (id, name, owner, privilege): (String, String, String, String) =
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        match out.last_mut() {
            Some(s) if s.id == id => s.privileges.push(privilege),
            _ => out.push(RecipientShare { id, name, owner, privileges: vec![privilege] }),
        }
    }
    Ok(out)
}

/// One share by name, with what `recipient` holds on it.
pub fn share_granted(
    conn: &Connection,
    metastore_id: &str,
    name: &str,
    recipient: &str,
) -> ApiResult<Option<RecipientShare>> {
    let share = conn
        .prepare_cached("SELECT id, name, owner FROM shares WHERE metastore_id = ?1 AND name = ?2")?
        .query_row(params![metastore_id, name], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((id, name, owner)) = share else { return Ok(None) };
    let privileges = conn
        .prepare_cached("SELECT privilege FROM grants WHERE securable_id = ?1 AND principal = ?2 ORDER BY privilege")?
        .query_map(params![id, recipient], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(Some(RecipientShare { id, name, owner, privileges }))
}

/// A table of a share as the recipient sees it.
#[derive(Clone, Debug)]
pub struct SharedObjectRow {
    pub table_id: String,
    pub shared_as: String,
    pub cdf_enabled: Option<bool>,
    pub start_version: Option<i64>,
    pub history_data_sharing_status: Option<String>,
    pub partitions: Option<String>,
    pub added_at: i64,
    /// The table's Delta version when it was added (`None` on objects from older databases).
    pub added_version: Option<i64>,
}

/// The share's tables ordered by `shared_as` (`<schema>.<table>`).
pub fn objects(conn: &Connection, share_id: &str) -> ApiResult<Vec<SharedObjectRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT table_id, shared_as, cdf_enabled, start_version, history_data_sharing_status, partitions, added_at,
                added_version
         FROM share_objects WHERE share_id = ?1 ORDER BY shared_as",
    )?;
    let rows = stmt
        .query_map([share_id], |r| {
            Ok(SharedObjectRow {
                table_id: r.get(0)?,
                shared_as: r.get(1)?,
                cdf_enabled: r.get(2)?,
                start_version: r.get(3)?,
                history_data_sharing_status: r.get(4)?,
                partitions: r.get(5)?,
                added_at: r.get(6)?,
                added_version: r.get(7)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
