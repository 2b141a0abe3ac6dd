//! Every column that names a principal, in one place: renaming a principal and handing over a
//! principal's objects walk these lists, so a table added later cannot be forgotten (a test
//! compares them with the schema).

use rusqlite::Connection;

use crate::error::ApiResult;

/// Tables whose `owner` column names a principal.
pub const OWNER_TABLES: &[&str] = &[
    "metastores",
    "catalogs",
    "schemas",
    "tables",
    "volumes",
    "functions",
    "storage_credentials",
    "external_locations",
    "shares",
    "recipients",
    "providers",
];

/// Tables whose `principal` column names a grantee (UC grants, workspace ACL entries).
pub const GRANTEE_TABLES: &[&str] = &["grants", "workspace_acls"];

/// UC grants whose grantee is a principal: share grants name recipients (which may share a
/// principal's spelling) and never follow or go with a principal.
fn principal_grantees_only(table: &str) -> &'static str {
    if table == "grants" {
        "AND securable_id NOT IN (SELECT id FROM shares)"
    } else {
        ""
    }
}

/// Points every owner and grantee naming `old` at `new` (a grantee already holding the same
/// entry under `new` keeps one) — not objects a deleted principal of that name left orphaned,
/// and not share grants to a recipient that happens to bear the name.
pub fn rename(conn: &Connection, old: &str, new: &str) -> ApiResult<()> {
    for table in OWNER_TABLES {
        conn.prepare_cached(&format!(
            "UPDATE {table} SET owner = ?2 WHERE owner = ?1
               AND id NOT IN (SELECT securable_id FROM orphaned_owners WHERE deleted_owner = ?1)"
        ))?
        .execute([old, new])?;
    }
    for table in GRANTEE_TABLES {
        conn.prepare_cached(&format!(
            "UPDATE OR REPLACE {table} SET principal = ?2 WHERE principal = ?1 {}",
            principal_grantees_only(table)
        ))?
        .execute([old, new])?;
    }
    Ok(())
}

/// Records every object `name` owns as orphaned (its principal is being deleted): the objects
/// keep showing the name, and no principal acts as their owner until they are handed on.
pub fn orphan(conn: &Connection, name: &str) -> ApiResult<()> {
    for table in OWNER_TABLES {
        conn.prepare_cached(&format!(
            "INSERT OR IGNORE INTO orphaned_owners (securable_id, deleted_owner) SELECT id, owner FROM {table} WHERE owner = ?1"
        ))?
        .execute([name])?;
    }
    Ok(())
}

/// Hands every object `name` owns to `heir`, except metastores (an account-level object a
/// principal keeps until an account admin changes it).
pub fn hand_over(conn: &Connection, name: &str, heir: &str) -> ApiResult<()> {
    for table in OWNER_TABLES.iter().filter(|t| **t != "metastores") {
        conn.prepare_cached(&format!("UPDATE {table} SET owner = ?2 WHERE owner = ?1"))?.execute([name, heir])?;
    }
    Ok(())
}

/// Drops every grant and workspace ACL entry naming the principal `name` (not share grants to a
/// recipient of that name).
pub fn revoke_all(conn: &Connection, name: &str) -> ApiResult<()> {
    for table in GRANTEE_TABLES {
        conn.prepare_cached(&format!("DELETE FROM {table} WHERE principal = ?1 {}", principal_grantees_only(table)))?
            .execute([name])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use rusqlite::Connection;

    use super::{GRANTEE_TABLES, OWNER_TABLES};

    /// Every (table, column) of the schema that holds a principal's name as an owner or grantee.
    fn principal_columns() -> BTreeSet<(String, String)> {
        let conn = Connection::open_in_memory().expect("db");
        conn.execute_batch(include_str!("../../schema.sql")).expect("schema");
        let mut stmt = conn
            .prepare(
                "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c
                 WHERE m.type = 'table' AND c.name IN ('owner', 'principal', 'grantee', 'owner_name', 'principal_name')",
            )
            .expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).expect("query").collect::<Result<_, _>>().expect("rows")
    }

    #[test]
    fn the_lists_name_every_owner_and_grantee_column_of_the_schema() {
        let listed: BTreeSet<(String, String)> = OWNER_TABLES
            .iter()
            .map(|t| (t.to_string(), "owner".to_string()))
            .chain(GRANTEE_TABLES.iter().map(|t| (t.to_string(), "principal".to_string())))
            .collect();
        assert_eq!(principal_columns(), listed, "a column naming a principal is missing from store::references");
    }
}
