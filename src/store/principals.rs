//! Users, groups and service principals: one id space, one name space.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};

use crate::authz::{Allowed, PrincipalKind};
use crate::error::{ApiError, ApiResult, ErrorCode};

/// One principal as stored.
#[derive(Clone, Debug)]
pub struct PrincipalRow {
    pub id: i64,
    pub kind: PrincipalKind,
    pub name: String,
    pub display_name: String,
    pub active: bool,
    pub account_admin: bool,
    pub external_id: Option<String>,
    pub extra: String,
}

const COLUMNS: &str = "id, kind, name, display_name, active, account_admin, external_id, extra";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PrincipalRow> {
    let kind: String = r.get(1)?;
    Ok(PrincipalRow {
        id: r.get(0)?,
        kind: PrincipalKind::parse(&kind).unwrap_or(PrincipalKind::User),
        name: r.get(2)?,
        display_name: r.get(3)?,
        active: r.get(4)?,
        account_admin: r.get(5)?,
        external_id: r.get(6)?,
        extra: r.get(7)?,
    })
}

/// The proofs that cover changing users, groups and service principals: workspace SCIM, account
/// SCIM (account admins, or a group's managers).
fn identity_write(a: &crate::authz::Action) -> bool {
    use crate::authz::Action;
    matches!(a, Action::ManageIdentities | Action::ManageAccount | Action::ManageAccountGroup { .. })
}

/// A new random SCIM id: a positive 63-bit integer, unique across the three kinds.
fn fresh_id(conn: &Connection) -> ApiResult<i64> {
    loop {
        let mut b = [0u8; 8];
        getrandom::getrandom(&mut b).map_err(|e| ApiError::internal(e.to_string()))?;
        // 16 decimal digits, like hosted ids; never 0.
        let id = (u64::from_le_bytes(b) % 9_000_000_000_000_000 + 1_000_000_000_000_000) as i64;
        let taken: bool = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM principals WHERE id = ?1)")?
            .query_row([id], |r| r.get(0))?;
        if !taken {
            return Ok(id);
        }
    }
}

/// What creating a principal needs.
pub struct NewPrincipal<'a> {
    pub kind: PrincipalKind,
    pub name: &'a str,
    pub display_name: &'a str,
    pub account_admin: bool,
    pub external_id: Option<&'a str>,
    pub extra: &'a str,
}

/// Inserts a principal; a name held by any principal → 409.
pub fn insert(conn: &Connection, ok: &Allowed, new: &NewPrincipal<'_>) -> ApiResult<i64> {
    ok.check(
        "store::principals::insert",
        |a| identity_write(a) || matches!(a, crate::authz::Action::ConnectPartner),
        None,
    );
    let id = fresh_id(conn)?;
    conn.prepare_cached(
        "INSERT INTO principals (id, kind, name, display_name, active, account_admin, external_id, extra)
         VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7)",
    )?
    .execute(params![id, new.kind.as_str(), new.name, new.display_name, new.account_admin, new.external_id, new.extra])
    .map_err(crate::store::on_conflict(|| {
        ApiError::new(ErrorCode::ResourceAlreadyExists, format!("A principal named '{}' already exists.", new.name))
    }))?;
    Ok(id)
}

pub fn by_name(conn: &Connection, name: &str) -> ApiResult<Option<PrincipalRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM principals WHERE name = ?1"))?
        .query_row([name], row)
        .optional()?)
}

pub fn by_id(conn: &Connection, id: i64) -> ApiResult<Option<PrincipalRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM principals WHERE id = ?1"))?
        .query_row([id], row)
        .optional()?)
}

/// The principals with these ids, in one query (a list's page), by id.
pub fn by_ids(conn: &Connection, ids: &[i64]) -> ApiResult<HashMap<i64, PrincipalRow>> {
    let ids = serde_json::to_string(ids).expect("ids serialize");
    let mut stmt = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM principals WHERE id IN (SELECT value FROM json_each(?1))"))?;
    let rows = stmt.query_map([ids], row)?.map(|r| r.map(|p| (p.id, p))).collect::<Result<_, _>>()?;
    Ok(rows)
}

/// The principals with these names, in one query, by name.
pub fn by_names(conn: &Connection, names: &[&str]) -> ApiResult<HashMap<String, PrincipalRow>> {
    let names = serde_json::to_string(names).expect("names serialize");
    let mut stmt = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM principals WHERE name IN (SELECT value FROM json_each(?1))"))?;
    let rows = stmt.query_map([names], row)?.map(|r| r.map(|p| (p.name.clone(), p))).collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Every principal of a kind, ordered by id (SCIM lists).
pub fn list(conn: &Connection, kind: PrincipalKind) -> ApiResult<Vec<PrincipalRow>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM principals WHERE kind = ?1 ORDER BY id"))?;
    let rows = stmt.query_map([kind.as_str()], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Whether a principal of that name exists (owners and grantees must).
pub fn exists(conn: &Connection, name: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM principals WHERE name = ?1)")?
        .query_row([name], |r| r.get(0))?)
}

/// 404 `PRINCIPAL_DOES_NOT_EXIST` unless `name` is a known principal (or `account users`).
pub fn require_exists(conn: &Connection, name: &str) -> ApiResult<()> {
    if name == crate::authz::ACCOUNT_USERS || exists(conn, name)? {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::PrincipalDoesNotExist, format!("Could not find principal with name {name}")))
    }
}

/// Adds `member` to `group`; a no-op when already a member. Refuses cycles.
pub fn add_member(conn: &Connection, ok: &Allowed, group: i64, member: i64) -> ApiResult<()> {
    ok.check("store::principals::add_member", identity_write, None);
    if group == member || transitive_group_ids(conn, group)?.contains(&member) {
        return Err(ApiError::invalid("members", "adding this member would make a group contain itself"));
    }
    conn.prepare_cached("INSERT OR IGNORE INTO group_members (group_id, member_id) VALUES (?1, ?2)")?
        .execute([group, member])?;
    Ok(())
}

/// The ids of every group `member` belongs to, directly or through other groups.
pub fn transitive_group_ids(conn: &Connection, member: i64) -> ApiResult<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE up(id) AS (
             SELECT group_id FROM group_members WHERE member_id = ?1
             UNION SELECT gm.group_id FROM group_members gm JOIN up ON gm.member_id = up.id)
         SELECT id FROM up",
    )?;
    let ids = stmt.query_map([member], |r| r.get(0))?.collect::<Result<Vec<i64>, _>>()?;
    Ok(ids)
}

/// The display names of every group `member` belongs to, transitively.
pub fn transitive_group_names(conn: &Connection, member: i64) -> ApiResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE up(id) AS (
             SELECT group_id FROM group_members WHERE member_id = ?1
             UNION SELECT gm.group_id FROM group_members gm JOIN up ON gm.member_id = up.id)
         SELECT p.name FROM principals p JOIN up ON p.id = up.id ORDER BY p.name",
    )?;
    let names = stmt.query_map([member], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
    Ok(names)
}

/// A complex value of SCIM: `{"value": id, "display": name}`.
#[derive(Clone, Debug)]
pub struct Ref {
    pub id: i64,
    pub display: String,
    pub kind: PrincipalKind,
}

fn group_ref(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, Ref)> {
    let kind: String = r.get(3)?;
    Ok((
        r.get(0)?,
        Ref { id: r.get(1)?, display: r.get(2)?, kind: PrincipalKind::parse(&kind).unwrap_or(PrincipalKind::User) },
    ))
}

/// The direct groups of a principal.
pub fn direct_groups(conn: &Connection, member: i64) -> ApiResult<Vec<Ref>> {
    Ok(direct_groups_of(conn, &[member])?.remove(&member).unwrap_or_default())
}

/// The direct members of a group.
pub fn members(conn: &Connection, group: i64) -> ApiResult<Vec<Ref>> {
    Ok(members_of(conn, &[group])?.remove(&group).unwrap_or_default())
}

/// The direct groups of several principals in one query, by member id (a list's page).
pub fn direct_groups_of(conn: &Connection, members: &[i64]) -> ApiResult<HashMap<i64, Vec<Ref>>> {
    let ids = serde_json::to_string(members).expect("ids serialize");
    let mut stmt = conn.prepare_cached(
        "SELECT gm.member_id, p.id, p.display_name, p.kind FROM group_members gm JOIN principals p ON p.id = gm.group_id
         WHERE gm.member_id IN (SELECT value FROM json_each(?1)) ORDER BY gm.member_id, p.id",
    )?;
    let mut out: HashMap<i64, Vec<Ref>> = HashMap::new();
    for row in stmt.query_map([ids], group_ref)? {
        let (member, group) = row?;
        out.entry(member).or_default().push(group);
    }
    Ok(out)
}

/// The direct members of several groups in one query, by group id (a list's page).
pub fn members_of(conn: &Connection, groups: &[i64]) -> ApiResult<HashMap<i64, Vec<Ref>>> {
    let ids = serde_json::to_string(groups).expect("ids serialize");
    let mut stmt = conn.prepare_cached(
        "SELECT gm.group_id, p.id, p.display_name, p.kind FROM group_members gm JOIN principals p ON p.id = gm.member_id
         WHERE gm.group_id IN (SELECT value FROM json_each(?1)) ORDER BY gm.group_id, p.id",
    )?;
    let mut out: HashMap<i64, Vec<Ref>> = HashMap::new();
    for row in stmt.query_map([ids], group_ref)? {
        let (group, member) = row?;
        out.entry(group).or_default().push(member);
    }
    Ok(out)
}

pub fn workspace_exists(conn: &Connection, workspace_id: i64) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM workspaces WHERE workspace_id = ?1)")?
        .query_row([workspace_id], |r| r.get(0))?)
}

/// The workspace id when the database has exactly one workspace.
pub fn sole_workspace(conn: &Connection) -> ApiResult<Option<i64>> {
    let ids: Vec<i64> = conn
        .prepare_cached("SELECT workspace_id FROM workspaces LIMIT 2")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(match ids.as_slice() {
        [only] => Some(*only),
        _ => None,
    })
}

pub fn insert_workspace(conn: &Connection, ok: &Allowed, workspace_id: i64, name: Option<&str>) -> ApiResult<()> {
    ok.check("store::principals::insert_workspace", |_| false, None);
    conn.prepare_cached("INSERT INTO workspaces (workspace_id, name) VALUES (?1, ?2)")?
        .execute(params![workspace_id, name])?;
    // The token-usage ACL starts with `account users` -> CAN_USE.
    conn.prepare_cached(
        "INSERT OR IGNORE INTO workspace_acls (workspace_id, object_type, object_id, principal, permission_level)
         VALUES (?1, 'tokens', 'tokens', 'account users', 'CAN_USE')",
    )?
    .execute([workspace_id])?;
    Ok(())
}

/// The caller that principal `name` would be in a workspace: for explaining decisions about
/// someone other than the one asking. 404 when no such principal exists.
pub fn subject(
    conn: &Connection,
    name: &str,
    workspace_id: i64,
    metastore: Option<crate::authz::MetastoreScope>,
) -> ApiResult<crate::authz::Caller> {
    let p = by_name(conn, name)?.ok_or_else(|| {
        ApiError::new(ErrorCode::PrincipalDoesNotExist, format!("Could not find principal with name {name}"))
    })?;
    let mut caller = crate::store::account::caller_in(conn, p, workspace_id)?;
    caller.metastore = metastore;
    Ok(caller)
}

/// The caller an active user or service principal `name` is in a workspace, as if it had sent
/// the request with a token of that workspace (the explorer's view-as header). `None` for an
/// unknown name, a group, or an inactive principal.
pub fn acting_as(conn: &Connection, name: &str, workspace_id: i64) -> ApiResult<Option<crate::authz::Caller>> {
    let Some(p) = by_name(conn, name)? else { return Ok(None) };
    if !p.active || p.kind == crate::authz::PrincipalKind::Group {
        return Ok(None);
    }
    Ok(Some(crate::store::account::caller_in(conn, p, workspace_id)?))
}

/// Changes a principal's name (userName / group displayName) and display name. A new name
/// held by another principal → 409. Every UC owner and grant that named it follows the rename
/// (a renamed group keeps its ownerships and grants).
pub fn rename(conn: &Connection, ok: &Allowed, p: &PrincipalRow, name: &str, display_name: &str) -> ApiResult<()> {
    ok.check("store::principals::rename", identity_write, None);
    conn.prepare_cached("UPDATE principals SET name = ?2, display_name = ?3 WHERE id = ?1")?
        .execute(params![p.id, name, display_name])
        .map_err(crate::store::on_conflict(|| {
            ApiError::new(ErrorCode::ResourceAlreadyExists, format!("A principal named '{name}' already exists."))
        }))?;
    if name != p.name {
        crate::store::references::rename(conn, &p.name, name)?;
    }
    Ok(())
}

pub fn set_active(conn: &Connection, ok: &Allowed, id: i64, active: bool) -> ApiResult<()> {
    ok.check("store::principals::set_active", identity_write, None);
    conn.prepare_cached("UPDATE principals SET active = ?2 WHERE id = ?1")?.execute(params![id, active])?;
    Ok(())
}

/// Stores the SCIM attributes the emulator keeps without interpreting (emails, name, ...).
pub fn set_extra(conn: &Connection, ok: &Allowed, id: i64, external_id: Option<&str>, extra: &str) -> ApiResult<()> {
    ok.check("store::principals::set_extra", identity_write, None);
    conn.prepare_cached("UPDATE principals SET external_id = ?2, extra = ?3 WHERE id = ?1")?.execute(params![
        id,
        external_id,
        extra
    ])?;
    Ok(())
}

pub fn remove_member(conn: &Connection, ok: &Allowed, group: i64, member: i64) -> ApiResult<()> {
    ok.check("store::principals::remove_member", identity_write, None);
    conn.prepare_cached("DELETE FROM group_members WHERE group_id = ?1 AND member_id = ?2")?
        .execute([group, member])?;
    Ok(())
}

pub fn clear_members(conn: &Connection, ok: &Allowed, group: i64) -> ApiResult<()> {
    ok.check("store::principals::clear_members", identity_write, None);
    conn.prepare_cached("DELETE FROM group_members WHERE group_id = ?1")?.execute([group])?;
    Ok(())
}

/// Deletes a principal: it leaves every group, and its tokens stop working (cascades). Its
/// direct UC grants and workspace ACL entries go (share grants name recipients, not principals).
/// Objects it owned keep its name as `owner`, orphaned: no principal acts as that owner, not
/// even one created later under the same name, until the object is handed on.
pub fn delete(conn: &Connection, ok: &Allowed, id: i64) -> ApiResult<()> {
    ok.check(
        "store::principals::delete",
        |a| {
            matches!(
                a,
                crate::authz::Action::ManageIdentities
                    | crate::authz::Action::ManageAccount
                    | crate::authz::Action::ManageAccountGroup { .. }
                    | crate::authz::Action::ConnectPartner
                    | crate::authz::Action::ServerTask
            )
        },
        None,
    );
    let name: Option<String> =
        conn.prepare_cached("SELECT name FROM principals WHERE id = ?1")?.query_row([id], |r| r.get(0)).optional()?;
    if let Some(name) = &name {
        crate::store::references::orphan(conn, name)?;
        crate::store::references::revoke_all(conn, name)?;
    }
    // Its own rule set goes with it (grants naming it cascade).
    crate::store::rule_sets::drop_resource(conn, &format!("groups/{id}"))?;
    crate::store::rule_sets::drop_resource(conn, &format!("servicePrincipals/{id}"))?;
    conn.prepare_cached("DELETE FROM principals WHERE id = ?1")?.execute([id])?;
    Ok(())
}

/// Hands every UC object `name` owns to `new_owner`, and drops every grant and workspace ACL
/// entry naming it: what deleting a Partner Connect service principal leaves behind
///.
pub fn hand_over_and_revoke(conn: &Connection, ok: &Allowed, name: &str, new_owner: &str) -> ApiResult<()> {
    ok.check(
        "store::principals::hand_over_and_revoke",
        |a| matches!(a, crate::authz::Action::ConnectPartner | crate::authz::Action::ServerTask),
        None,
    );
    crate::store::references::hand_over(conn, name, new_owner)?;
    crate::store::references::revoke_all(conn, name)
}
