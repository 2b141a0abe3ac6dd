//! The account: its id, workspaces, workspace assignments, and who is an account admin.

use std::collections::HashSet;

use rusqlite::{params, Connection, OptionalExtension};

use crate::authz::{Action, Allowed, Caller};
use crate::error::{ApiError, ApiResult};
use crate::store::principals::{self, PrincipalRow};

/// The `meta` key holding the account id.
const ACCOUNT_ID_KEY: &str = "account_id";

/// The account id stored in the database, if any.
pub fn stored_account_id(conn: &Connection) -> ApiResult<Option<String>> {
    let v: Option<Vec<u8>> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([ACCOUNT_ID_KEY], |r| r.get(0))
        .optional()?;
    Ok(v.map(|b| String::from_utf8_lossy(&b).into_owned()))
}

/// Records the account id (once, when the database gets one).
pub fn set_account_id(conn: &Connection, ok: &Allowed, id: &str) -> ApiResult<()> {
    ok.check("store::account::set_account_id", |_| false, None);
    conn.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?
        .execute(params![ACCOUNT_ID_KEY, id.as_bytes()])?;
    Ok(())
}

/// A workspace permission of an assignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum WorkspacePermission {
    User,
    Admin,
}

impl WorkspacePermission {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "USER",
            Self::Admin => "ADMIN",
        }
    }

    fn parse(s: &str) -> WorkspacePermission {
        if s == "ADMIN" {
            Self::Admin
        } else {
            Self::User
        }
    }
}

fn permits_assignment(a: &Action) -> bool {
    matches!(a, Action::ManageAccount | Action::ManageIdentities | Action::ConnectPartner)
}

/// Creates or replaces a principal's assignment to a workspace.
pub fn assign(
    conn: &Connection,
    ok: &Allowed,
    workspace_id: i64,
    principal_id: i64,
    permission: WorkspacePermission,
) -> ApiResult<()> {
    ok.check("store::account::assign", permits_assignment, None);
    conn.prepare_cached(
        "INSERT INTO workspace_assignments (workspace_id, principal_id, permission) VALUES (?1, ?2, ?3)
         ON CONFLICT (workspace_id, principal_id) DO UPDATE SET permission = excluded.permission
         WHERE permission IS NOT excluded.permission",
    )?
    .execute(params![workspace_id, principal_id, permission.as_str()])?;
    Ok(())
}

/// Assigns a principal unless it already has an assignment there (fixtures, create-if-missing).
pub fn assign_if_missing(
    conn: &Connection,
    ok: &Allowed,
    workspace_id: i64,
    principal_id: i64,
    permission: WorkspacePermission,
) -> ApiResult<()> {
    ok.check("store::account::assign_if_missing", permits_assignment, None);
    conn.prepare_cached(
        "INSERT OR IGNORE INTO workspace_assignments (workspace_id, principal_id, permission) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![workspace_id, principal_id, permission.as_str()])?;
    Ok(())
}

/// Removes a principal's direct assignment; whether there was one.
pub fn unassign(conn: &Connection, ok: &Allowed, workspace_id: i64, principal_id: i64) -> ApiResult<bool> {
    ok.check("store::account::unassign", |a| matches!(a, Action::ManageAccount), None);
    Ok(conn
        .prepare_cached("DELETE FROM workspace_assignments WHERE workspace_id = ?1 AND principal_id = ?2")?
        .execute([workspace_id, principal_id])?
        > 0)
}

/// The direct assignments of a workspace with their principals, by principal id.
pub fn assignments(conn: &Connection, workspace_id: i64) -> ApiResult<Vec<(PrincipalRow, WorkspacePermission)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.principal_id, a.permission FROM workspace_assignments a
         WHERE a.workspace_id = ?1 ORDER BY a.principal_id",
    )?;
    let rows: Vec<(i64, String)> =
        stmt.query_map([workspace_id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    // The principals in one query, never one per assignment.
    let ids: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
    let mut principals = principals::by_ids(conn, &ids)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, perm)| principals.remove(&id).map(|p| (p, WorkspacePermission::parse(&perm))))
        .collect())
}

/// The ids of every principal that belongs to a workspace: assigned, or a transitive member of
/// an assigned group.
pub fn belonging_ids(conn: &Connection, workspace_id: i64) -> ApiResult<HashSet<i64>> {
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE b(id) AS (
             SELECT principal_id FROM workspace_assignments WHERE workspace_id = ?1
             UNION SELECT gm.member_id FROM group_members gm JOIN b ON gm.group_id = b.id)
         SELECT id FROM b",
    )?;
    let ids = stmt.query_map([workspace_id], |r| r.get(0))?.collect::<Result<HashSet<i64>, _>>()?;
    Ok(ids)
}

/// A principal's effective permission in a workspace (its own assignment and its groups'), or
/// `None` when it does not belong there.
pub fn effective_permission(
    conn: &Connection,
    workspace_id: i64,
    principal_id: i64,
) -> ApiResult<Option<WorkspacePermission>> {
    let best: Option<String> = conn
        .prepare_cached(
            "WITH RECURSIVE up(id) AS (
                 SELECT ?2 UNION SELECT gm.group_id FROM group_members gm JOIN up ON gm.member_id = up.id)
             SELECT MIN(a.permission) FROM workspace_assignments a JOIN up ON a.principal_id = up.id
             WHERE a.workspace_id = ?1",
        )?
        .query_row(params![workspace_id, principal_id], |r| r.get(0))?;
    // 'ADMIN' < 'USER': MIN is the highest permission.
    Ok(best.map(|p| WorkspacePermission::parse(&p)))
}

/// Whether a principal is an account admin: its own role, or a role of a group it belongs to
/// (transitively).
pub fn is_account_admin(conn: &Connection, principal_id: i64) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "WITH RECURSIVE up(id) AS (
                 SELECT ?1 UNION SELECT gm.group_id FROM group_members gm JOIN up ON gm.member_id = up.id)
             SELECT EXISTS (SELECT 1 FROM principals p JOIN up ON p.id = up.id WHERE p.account_admin = 1)",
        )?
        .query_row([principal_id], |r| r.get(0))?)
}

/// Whether at least one active user or service principal is an account admin.
pub fn some_account_admin_remains(conn: &Connection) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "WITH RECURSIVE admin(id) AS (
                 SELECT id FROM principals WHERE account_admin = 1
                 UNION SELECT gm.member_id FROM group_members gm JOIN admin ON gm.group_id = admin.id)
             SELECT EXISTS (SELECT 1 FROM principals p JOIN admin ON p.id = admin.id
                            WHERE p.active = 1 AND p.kind != 'group')",
        )?
        .query_row([], |r| r.get(0))?)
}

/// 400 unless an account admin remains: the last check of every identity write.
pub fn require_an_account_admin(conn: &Connection) -> ApiResult<()> {
    if some_account_admin_remains(conn)? {
        Ok(())
    } else {
        Err(ApiError::invalid("roles", "At least one account admin must remain."))
    }
}

/// Grants or revokes the `account_admin` role.
pub fn set_account_admin(conn: &Connection, ok: &Allowed, principal_id: i64, admin: bool) -> ApiResult<()> {
    ok.check(
        "store::account::set_account_admin",
        |a| matches!(a, Action::ManageAccount | Action::ManageAccountGroup { changes_roles: true, .. }),
        None,
    );
    conn.prepare_cached("UPDATE principals SET account_admin = ?2 WHERE id = ?1")?
        .execute(params![principal_id, admin])?;
    Ok(())
}

/// The caller principal `p` is when acting in `workspace_id`: its transitive groups, whether it
/// is an account admin (itself or through a group), whether it belongs to the workspace and
/// with which permission, and the workspace's metastore.
pub fn caller_in(conn: &Connection, p: PrincipalRow, workspace_id: i64) -> ApiResult<Caller> {
    let groups = principals::transitive_group_names(conn, p.id)?;
    let account_admin = is_account_admin(conn, p.id)?;
    let metastore = crate::store::metastores::scope_of(conn, workspace_id)?;
    let permission = effective_permission(conn, workspace_id, p.id)?;
    Ok(Caller::new(p.name, p.id, p.kind, workspace_id, groups, account_admin, metastore)
        .with_assignment(permission.is_some(), permission == Some(WorkspacePermission::Admin)))
}

/// One workspace of the account.
#[derive(Clone, Debug)]
pub struct WorkspaceRow {
    pub workspace_id: i64,
    pub name: Option<String>,
}

/// Every workspace, by id.
pub fn workspaces(conn: &Connection) -> ApiResult<Vec<WorkspaceRow>> {
    let mut stmt = conn.prepare_cached("SELECT workspace_id, name FROM workspaces ORDER BY workspace_id")?;
    let rows = stmt
        .query_map([], |r| Ok(WorkspaceRow { workspace_id: r.get(0)?, name: r.get(1)? }))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The lowest workspace a principal belongs to (an OAuth token without a workspace header).
pub fn lowest_workspace_of(conn: &Connection, principal_id: i64) -> ApiResult<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "WITH RECURSIVE up(id) AS (
                 SELECT ?1 UNION SELECT gm.group_id FROM group_members gm JOIN up ON gm.member_id = up.id)
             SELECT MIN(a.workspace_id) FROM workspace_assignments a JOIN up ON a.principal_id = up.id",
        )?
        .query_row([principal_id], |r| r.get(0))?)
}
