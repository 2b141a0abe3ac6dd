//! Delta Sharing recipients and their tokens.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::value::RawValue;

use crate::authz::{Allowed, Node};
use crate::domain::names::Ident;
use crate::domain::securable::SecurableKind;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::catalogs::raw_json;
use crate::store::on_conflict;
use crate::store::securables::{scan_limit, Page};

#[derive(Debug)]
pub struct RecipientRow {
    pub id: String,
    pub metastore_id: String,
    pub name: String,
    pub authentication_type: String,
    pub comment: Option<String>,
    pub owner: String,
    pub data_recipient_global_metastore_id: Option<String>,
    pub ip_access_list: Option<Box<RawValue>>,
    pub properties_kvpairs: Option<Box<RawValue>>,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    /// The credential of one of its tokens has been retrieved (never goes back).
    pub activated: bool,
}

impl RecipientRow {
    pub fn node(&self) -> Node {
        Node {
            kind: SecurableKind::Recipient,
            id: self.id.clone(),
            name: self.name.clone(),
            owner: self.owner.clone(),
            grants: vec![],
        }
    }
}

const COLUMNS: &str = "id, metastore_id, name, authentication_type, comment, owner, data_recipient_global_metastore_id,
                       ip_access_list, properties_kvpairs, created_at, created_by, updated_at, updated_by,
                       EXISTS (SELECT 1 FROM recipient_tokens rt JOIN recipient_credentials rc ON rc.token_id = rt.id
                               WHERE rt.recipient_id = recipients.id AND rc.retrieved_at IS NOT NULL)";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RecipientRow> {
    Ok(RecipientRow {
        id: r.get(0)?,
        metastore_id: r.get(1)?,
        name: r.get(2)?,
        authentication_type: r.get(3)?,
        comment: r.get(4)?,
        owner: r.get(5)?,
        data_recipient_global_metastore_id: r.get(6)?,
        ip_access_list: raw_json(r, 7)?,
        properties_kvpairs: raw_json(r, 8)?,
        created_at: r.get(9)?,
        created_by: r.get(10)?,
        updated_at: r.get(11)?,
        updated_by: r.get(12)?,
        activated: r.get(13)?,
    })
}

pub fn get(conn: &Connection, metastore_id: &str, name: &str) -> ApiResult<Option<RecipientRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM recipients WHERE metastore_id = ?1 AND name = ?2"))?
        .query_row(params![metastore_id, name], row)
        .optional()?)
}

pub fn not_found(name: &str) -> ApiError {
    ApiError::new(ErrorCode::ResourceDoesNotExist, format!("Recipient '{name}' does not exist."))
}

pub fn require(conn: &Connection, metastore_id: &str, name: &Ident) -> ApiResult<RecipientRow> {
    get(conn, metastore_id, name.as_str())?.ok_or_else(|| not_found(name.as_str()))
}

pub fn scan(conn: &Connection, metastore_id: &str, after: &str, limit: Option<usize>) -> ApiResult<Page<RecipientRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM recipients WHERE metastore_id = ?1 AND name > ?2 ORDER BY name LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![metastore_id, after, scan_limit(limit)], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_scan(rows, limit, |r| r.name.clone()))
}

pub struct NewRecipient {
    pub name: Ident,
    pub authentication_type: String,
    pub comment: Option<String>,
    pub data_recipient_global_metastore_id: Option<String>,
    pub ip_access_list: Option<String>,
    pub properties_kvpairs: Option<String>,
    pub owner: String,
    pub created_by: String,
    pub now: i64,
}

pub fn insert(conn: &Connection, ok: &Allowed, metastore_id: &str, new: &NewRecipient) -> ApiResult<RecipientRow> {
    ok.check("store::recipients::insert", |a| matches!(a, crate::authz::Action::CreateRecipient), Some(metastore_id));
    conn.prepare_cached(
        "INSERT INTO recipients (id, metastore_id, name, authentication_type, comment, owner,
                                 data_recipient_global_metastore_id, ip_access_list, properties_kvpairs,
                                 created_at, created_by, updated_at, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?10, ?11)",
    )?
    .execute(params![
        crate::domain::new_id(),
        metastore_id,
        new.name.as_str(),
        new.authentication_type,
        new.comment,
        new.owner,
        new.data_recipient_global_metastore_id,
        new.ip_access_list,
        new.properties_kvpairs,
        new.now,
        new.created_by
    ])
    .map_err(on_conflict(|| {
        ApiError::new(ErrorCode::ResourceAlreadyExists, format!("Recipient '{}' already exists.", new.name))
    }))?;
    require(conn, metastore_id, &new.name)
}

#[derive(Default)]
pub struct RecipientChanges {
    pub new_name: Option<Ident>,
    pub comment: Option<String>,
    pub owner: Option<String>,
    pub ip_access_list: Option<String>,
    pub properties_kvpairs: Option<String>,
}

pub fn update(
    conn: &Connection,
    ok: &Allowed,
    current: &RecipientRow,
    c: &RecipientChanges,
    by: &str,
    now: i64,
) -> ApiResult<RecipientRow> {
    ok.check("store::recipients::update", |a| matches!(a, crate::authz::Action::UpdateRecipient(_)), Some(&current.id));
    let name = c.new_name.as_ref().map(Ident::as_str).unwrap_or(&current.name);
    conn.prepare_cached(
        "UPDATE recipients SET name = ?2, comment = COALESCE(?3, comment), owner = COALESCE(?4, owner),
                ip_access_list = COALESCE(?5, ip_access_list), properties_kvpairs = COALESCE(?6, properties_kvpairs),
                updated_at = ?7, updated_by = ?8
         WHERE id = ?1",
    )?
    .execute(params![current.id, name, c.comment, c.owner, c.ip_access_list, c.properties_kvpairs, now, by])
    .map_err(on_conflict(|| {
        ApiError::new(ErrorCode::ResourceAlreadyExists, format!("Recipient '{name}' already exists."))
    }))?;
    require(conn, &current.metastore_id, &Ident::from_stored(name.to_string()))
}

pub fn delete(conn: &Connection, ok: &Allowed, id: &str) -> ApiResult<()> {
    ok.check("store::recipients::delete", |a| matches!(a, crate::authz::Action::DeleteRecipient), Some(id));
    conn.prepare_cached("DELETE FROM recipients WHERE id = ?1")?.execute([id])?;
    Ok(())
}

#[derive(Debug)]
pub struct TokenRow {
    pub id: String,
    /// The token's activation token (its link is made from it when answered).
    pub activation_token: String,
    /// Its credential has been retrieved: the link is used up.
    pub retrieved: bool,
    pub expiration_time: Option<i64>,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

/// The recipient's tokens that have not expired at `now` (expired ones are not listed).
pub fn live_tokens(conn: &Connection, recipient_id: &str, now: i64) -> ApiResult<Vec<TokenRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.id, COALESCE(c.activation_token, ''), c.retrieved_at IS NOT NULL, t.expiration_time, t.created_at,
                t.created_by, t.updated_at, t.updated_by
         FROM recipient_tokens t LEFT JOIN recipient_credentials c ON c.token_id = t.id
         WHERE t.recipient_id = ?1 AND (t.expiration_time IS NULL OR t.expiration_time > ?2)
         ORDER BY t.created_at, t.id",
    )?;
    let rows = stmt
        .query_map(params![recipient_id, now], |r| {
            Ok(TokenRow {
                id: r.get(0)?,
                activation_token: r.get(1)?,
                retrieved: r.get(2)?,
                expiration_time: r.get(3)?,
                created_at: r.get(4)?,
                created_by: r.get(5)?,
                updated_at: r.get(6)?,
                updated_by: r.get(7)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// [`live_tokens`] of several recipients in one query, by recipient id (a list's page).
pub fn live_tokens_of(
    conn: &Connection,
    recipient_ids: &[&str],
    now: i64,
) -> ApiResult<std::collections::HashMap<String, Vec<TokenRow>>> {
    let mut out: std::collections::HashMap<String, Vec<TokenRow>> = std::collections::HashMap::new();
    if recipient_ids.is_empty() {
        return Ok(out);
    }
    let ids = serde_json::to_string(recipient_ids).expect("strings serialize");
    let mut stmt = conn.prepare_cached(
        "SELECT t.recipient_id, t.id, COALESCE(c.activation_token, ''), c.retrieved_at IS NOT NULL, t.expiration_time,
                t.created_at, t.created_by, t.updated_at, t.updated_by
         FROM recipient_tokens t LEFT JOIN recipient_credentials c ON c.token_id = t.id
         WHERE t.recipient_id IN (SELECT value FROM json_each(?1)) AND (t.expiration_time IS NULL OR t.expiration_time > ?2)
         ORDER BY t.recipient_id, t.created_at, t.id",
    )?;
    let rows = stmt.query_map(params![ids, now], |r| {
        Ok((
            r.get::<_, String>(0)?,
            TokenRow {
                id: r.get(1)?,
                activation_token: r.get(2)?,
                retrieved: r.get(3)?,
                expiration_time: r.get(4)?,
                created_at: r.get(5)?,
                created_by: r.get(6)?,
                updated_at: r.get(7)?,
                updated_by: r.get(8)?,
            },
        ))
    })?;
    for row in rows {
        let (recipient, token) = row?;
        out.entry(recipient).or_default().push(token);
    }
    Ok(out)
}

/// Adds a token expiring at `expiration_time` (`None`: never).
pub fn add_token(
    conn: &Connection,
    ok: &Allowed,
    recipient_id: &str,
    expiration_time: Option<i64>,
    by: &str,
    now: i64,
) -> ApiResult<()> {
    // A recipient's first token is part of creating it (the proof is on the metastore).
    let on = (!matches!(ok.action(), crate::authz::Action::CreateRecipient)).then_some(recipient_id);
    ok.check(
        "store::recipients::add_token",
        |a| matches!(a, crate::authz::Action::CreateRecipient | crate::authz::Action::RotateRecipientToken),
        on,
    );
    let id = crate::domain::new_id();
    // The link is computed per answer from the activation token (`recipient_credentials`); the
    // legacy column keeps the token too.
    let activation_token = crate::domain::sharing::new_activation_token();
    conn.prepare_cached(
        "INSERT INTO recipient_tokens (id, recipient_id, activation_url, expiration_time, created_at, created_by,
                                       updated_at, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5, ?6)",
    )?
    .execute(params![id, recipient_id, activation_token, expiration_time, now, by])?;
    conn.prepare_cached("INSERT INTO recipient_credentials (token_id, activation_token) VALUES (?1, ?2)")?
        .execute(params![id, activation_token])?;
    Ok(())
}

/// Shortens every live token to expire at `at` where that is earlier (rotation never extends).
pub fn shorten_tokens(
    conn: &Connection,
    ok: &Allowed,
    recipient_id: &str,
    at: i64,
    by: &str,
    now: i64,
) -> ApiResult<()> {
    ok.check(
        "store::recipients::shorten_tokens",
        |a| matches!(a, crate::authz::Action::RotateRecipientToken),
        Some(recipient_id),
    );
    conn.prepare_cached(
        "UPDATE recipient_tokens SET expiration_time = ?2, updated_at = ?3, updated_by = ?4
         WHERE recipient_id = ?1 AND (expiration_time IS NULL OR expiration_time > ?2) AND
               (expiration_time IS NULL OR expiration_time > ?3)",
    )?
    .execute(params![recipient_id, at, now, by])?;
    Ok(())
}

/// Whether `name` is a recipient of the metastore (share grantees must be).
pub fn exists(conn: &Connection, metastore_id: &str, name: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM recipients WHERE metastore_id = ?1 AND name = ?2)")?
        .query_row(params![metastore_id, name], |r| r.get(0))?)
}
