//! Account access-control rule sets: grant rules (role -> principals) per resource, and the
//! version each update bumps (the etag is derived from it).

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};

use crate::authz::{Action, Allowed, PrincipalKind};
use crate::error::ApiResult;

/// The version of a rule set; 0 for one never written.
pub fn version(conn: &Connection, resource: &str) -> ApiResult<i64> {
    Ok(conn
        .prepare_cached("SELECT version FROM rule_sets WHERE resource = ?1")?
        .query_row([resource], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// One principal of a grant rule, as rule sets name it.
#[derive(Clone, Debug)]
pub struct Grantee {
    pub role: String,
    pub kind: PrincipalKind,
    pub name: String,
}

/// The grant rules of a rule set, by role then principal name.
pub fn grants(conn: &Connection, resource: &str) -> ApiResult<Vec<Grantee>> {
    let mut stmt = conn.prepare_cached(
        "SELECT g.role, p.kind, p.name FROM rule_set_grants g JOIN principals p ON p.id = g.principal_id
         WHERE g.resource = ?1 ORDER BY g.role, p.kind, p.name",
    )?;
    let rows = stmt
        .query_map([resource], |r| {
            let kind: String = r.get(1)?;
            Ok(Grantee {
                role: r.get(0)?,
                kind: PrincipalKind::parse(&kind).unwrap_or(PrincipalKind::User),
                name: r.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Replaces a rule set's grants with `rules` (role, principal id) and bumps its version.
pub fn replace(conn: &Connection, ok: &Allowed, resource: &str, rules: &[(String, i64)]) -> ApiResult<i64> {
    ok.check("store::rule_sets::replace", |a| matches!(a, Action::ManageAccount | Action::ManageRuleSet { .. }), None);
    conn.prepare_cached("DELETE FROM rule_set_grants WHERE resource = ?1")?.execute([resource])?;
    for (role, principal) in rules {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO rule_set_grants (resource, role, principal_id) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![resource, role, principal])?;
    }
    bump(conn, resource)
}

fn bump(conn: &Connection, resource: &str) -> ApiResult<i64> {
    conn.prepare_cached(
        "INSERT INTO rule_sets (resource, version) VALUES (?1, 1)
         ON CONFLICT (resource) DO UPDATE SET version = version + 1",
    )?
    .execute([resource])?;
    version(conn, resource)
}

/// The creator's grant on a new group or service principal: the first version of its rule set.
pub fn grant_creator(conn: &Connection, ok: &Allowed, resource: &str, role: &str, creator: i64) -> ApiResult<()> {
    ok.check(
        "store::rule_sets::grant_creator",
        |a| matches!(a, Action::ManageAccount | Action::ManageIdentities),
        None,
    );
    conn.prepare_cached("INSERT OR IGNORE INTO rule_set_grants (resource, role, principal_id) VALUES (?1, ?2, ?3)")?
        .execute(params![resource, role, creator])?;
    bump(conn, resource).map(|_| ())
}

/// Drops a deleted group's or service principal's own rule set.
pub fn drop_resource(conn: &Connection, resource: &str) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM rule_set_grants WHERE resource = ?1")?.execute([resource])?;
    conn.prepare_cached("DELETE FROM rule_sets WHERE resource = ?1")?.execute([resource])?;
    Ok(())
}

/// The roles a principal (itself or through its transitive groups) holds on each of
/// `resources`, by resource.
pub fn roles_held(conn: &Connection, principal_id: i64, resources: &[&str]) -> ApiResult<HashMap<String, Vec<String>>> {
    let list = serde_json::to_string(resources).expect("strings serialize");
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE up(id) AS (
             SELECT ?1 UNION SELECT gm.group_id FROM group_members gm JOIN up ON gm.member_id = up.id)
         SELECT DISTINCT g.resource, g.role FROM rule_set_grants g JOIN up ON g.principal_id = up.id
         WHERE g.resource IN (SELECT value FROM json_each(?2))",
    )?;
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for row in stmt.query_map(params![principal_id, list], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
        let (res, role) = row?;
        out.entry(res).or_default().push(role);
    }
    Ok(out)
}
