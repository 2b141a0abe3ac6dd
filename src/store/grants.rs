//! Direct grants on securables.

use rusqlite::{params, Connection};

use crate::authz::Allowed;
use crate::error::ApiResult;

/// Adds a grant; a no-op when it exists.
pub fn add(conn: &Connection, ok: &Allowed, securable_id: &str, principal: &str, privilege: &str) -> ApiResult<()> {
    ok.check(
        "store::grants::add",
        |a| {
            matches!(
                a,
                crate::authz::Action::ChangePermissions
                    | crate::authz::Action::ChangeSharePermissions
                    | crate::authz::Action::ConnectWithCatalog
            )
        },
        Some(securable_id),
    );
    conn.prepare_cached("INSERT OR IGNORE INTO grants (securable_id, principal, privilege) VALUES (?1, ?2, ?3)")?
        .execute(params![securable_id, principal, privilege])?;
    Ok(())
}

/// Removes a grant; a no-op when it does not exist.
pub fn remove(conn: &Connection, ok: &Allowed, securable_id: &str, principal: &str, privilege: &str) -> ApiResult<()> {
    ok.check(
        "store::grants::remove",
        |a| matches!(a, crate::authz::Action::ChangePermissions | crate::authz::Action::ChangeSharePermissions),
        Some(securable_id),
    );
    conn.prepare_cached("DELETE FROM grants WHERE securable_id = ?1 AND principal = ?2 AND privilege = ?3")?
        .execute(params![securable_id, principal, privilege])?;
    Ok(())
}

/// Every direct grant on a securable as (principal, privilege), sorted.
pub fn on(conn: &Connection, securable_id: &str) -> ApiResult<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT principal, privilege FROM grants WHERE securable_id = ?1 ORDER BY principal, privilege",
    )?;
    let rows = stmt.query_map([securable_id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Replaces every direct grant on a securable (PUT permissions).
pub fn clear(conn: &Connection, ok: &Allowed, securable_id: &str) -> ApiResult<()> {
    ok.check(
        "store::grants::clear",
        |a| matches!(a, crate::authz::Action::ChangePermissions | crate::authz::Action::ChangeSharePermissions),
        Some(securable_id),
    );
    conn.prepare_cached("DELETE FROM grants WHERE securable_id = ?1")?.execute([securable_id])?;
    Ok(())
}
