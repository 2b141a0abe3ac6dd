//! "May principal P do action A on securable S, and why?" — shared by the explain endpoint and
//! `uc-emulator explain`. Loads with the store, decides with the authorization core.

use rusqlite::Connection;

use crate::authz::explain::{explain_decision, explain_decision_shown_as, parse_action, Explanation};
use crate::authz::{self, Caller};
use crate::domain::securable::{SecTypeSpelling, SecurableKind};
use crate::error::{ApiError, ApiResult};
use crate::store::{metastores, principals, securables};

/// The explain endpoint's operation: `caller` explains its own decision, or (metastore admins
/// only, by the rule table) that of `principal`. The asker learns no more than the API would
/// tell it: unless it may explain others' decisions (a metastore admin), hidden tables are
/// explained by their parents alone.
pub fn explain_as(
    conn: &Connection,
    caller: &Caller,
    principal: Option<&str>,
    action: &str,
    sec_type: &str,
    full_name: Option<&str>,
) -> ApiResult<Explanation> {
    let sees_all = authz::visible(caller, &authz::Action::ExplainForOthers, &[]);
    let subject = match principal.filter(|n| !n.is_empty() && *n != caller.name) {
        Some(_) if !sees_all => {
            return Err(ApiError::denied("Only metastore admins may explain the decisions of other principals."))
        }
        Some(name) => principals::subject(conn, name, caller.workspace_id, caller.metastore.clone())?,
        None => caller.clone(),
    };
    explain(conn, &subject, action, sec_type, full_name, !sees_all)
}

/// Explains one decision for `subject` in its metastore. `hide_tables` is true when the asker
/// may not learn more than the API tells it (not a metastore admin): then a table whose catalog
/// and schema the subject may not use is explained by those parents alone, exactly as for a
/// missing table.
pub fn explain(
    conn: &Connection,
    subject: &Caller,
    action: &str,
    sec_type: &str,
    full_name: Option<&str>,
    hide_tables: bool,
) -> ApiResult<Explanation> {
    let kind = match SecurableKind::parse_spelling(sec_type) {
        Some(SecTypeSpelling::Modelled(k)) => k,
        _ => {
            return Err(ApiError::invalid(
                "securable_type",
                format!("unknown or unsupported securable type {sec_type:?}"),
            ))
        }
    };
    let metastore = subject.metastore.as_ref().ok_or_else(ApiError::no_metastore)?;
    // The metastore is addressed by its id or its name, and explanations name it.
    let metastore_row = metastores::require(conn, &metastore.id)?;
    let full_name = match (full_name.filter(|n| !n.is_empty()), kind) {
        (Some(n), SecurableKind::Metastore) if n == metastore_row.name => metastore.id.clone(),
        (Some(n), _) => n.to_string(),
        (None, SecurableKind::Metastore) => metastore.id.clone(),
        (None, _) => return Err(ApiError::invalid("full_name", "is required")),
    };
    // Callers without use of a table's catalog and schema learn nothing about the table: the
    // answer names only the parents, whether or not the table exists (as the API's 403 does).
    if hide_tables && matches!(kind, SecurableKind::Table | SecurableKind::View | SecurableKind::Schema) {
        use crate::domain::securable::SecurableName;
        use authz::Action::{BrowseCatalog, ListSchemas, ListTables, TableExists};
        let parsed = parse_action(action, kind).map_err(|e| ApiError::invalid("action", e))?;
        let (catalog, schema, shown) = match kind {
            SecurableKind::Schema => {
                let n = crate::domain::names::SchemaName::parse("full_name", &full_name)?;
                (n.catalog.to_string(), None, n.to_string())
            }
            _ => {
                let n = crate::domain::names::TableName::parse("full_name", &full_name)?;
                (n.catalog.to_string(), Some(n.schema_name().to_string()), n.to_string())
            }
        };
        let mut cat =
            securables::locate(conn, &metastore.id, &SecurableName::parse(SecurableKind::Catalog, &catalog)?)?;
        securables::attach_grants(conn, &mut cat.nodes_mut(), &subject.principals_json)?;
        let c = cat.refs();
        let browse = authz::visible(subject, &BrowseCatalog, &c);
        if !browse && !authz::visible(subject, &ListSchemas, &c) {
            return Ok(explain_decision_shown_as(subject, action, &ListSchemas, &c, kind, &shown));
        }
        if let Some(schema) = schema {
            let schema = SecurableName::parse(SecurableKind::Schema, &schema)?;
            let mut parents = securables::locate(conn, &metastore.id, &schema)?;
            securables::attach_grants(conn, &mut parents.nodes_mut(), &subject.principals_json)?;
            let chain = parents.refs();
            if !browse && !matches!(parsed, TableExists) && !authz::visible(subject, &ListTables, &chain) {
                return Ok(explain_decision_shown_as(subject, action, &ListTables, &chain, kind, &shown));
            }
        }
    }
    let name = crate::domain::securable::SecurableName::parse(kind, &full_name)?;
    let mut located = securables::locate(conn, &metastore.id, &name)?;
    securables::attach_grants(conn, &mut located.nodes_mut(), &subject.principals_json)?;
    let parsed = parse_action(action, located.kind).map_err(|e| ApiError::invalid("action", e))?;
    for node in located.nodes_mut() {
        if node.kind == SecurableKind::Metastore {
            node.name = metastore_row.name.clone();
        }
    }
    Ok(explain_decision(subject, action, &parsed, &located.refs()))
}

/// `uc-emulator explain`: the same answer as the endpoint, read straight from a database.
/// `Ok((text, allowed))`; the CLI exits 1 when the answer is DENIED.
pub fn run_cli(args: &crate::config::ExplainArgs) -> Result<(String, bool), String> {
    use crate::store::{principals, Store};
    if !crate::store::exists(&args.db) {
        return Err(format!("database {} does not exist", args.db));
    }
    let store = Store::open(&args.db).map_err(|e| e.to_string())?;
    let explanation = store
        .read_now(|conn| {
            let workspace_id = match args.workspace_id {
                Some(w) => w,
                None => match metastores::assigned_workspaces(conn)?.as_slice() {
                    [only] => *only,
                    [] => return Err(ApiError::no_metastore()),
                    _ => {
                        return Err(ApiError::invalid(
                            "workspace_id",
                            "several workspaces have metastores; pass --workspace-id",
                        ))
                    }
                },
            };
            let scope = metastores::scope_of(conn, workspace_id)?;
            let subject = principals::subject(conn, &args.principal, workspace_id, scope)?;
            // The operator reads the database: nothing is hidden.
            explain(conn, &subject, &args.action, &args.securable_type, args.full_name.as_deref(), false)
        })
        .map_err(|e| e.message)?;
    if args.json {
        return Ok((serde_json::to_string_pretty(&explanation).expect("serializable"), explanation.allowed));
    }
    let mut out = explanation.explanation.clone();
    for r in &explanation.reasons {
        out.push_str(&format!("\n  - {}", r.text));
    }
    out.push_str("\nRequirement ([has] / [lacks]):");
    let mut lines = Vec::new();
    explanation.requirement.lines(1, &mut lines);
    for l in lines {
        out.push('\n');
        out.push_str(&l);
    }
    Ok((out, explanation.allowed))
}
