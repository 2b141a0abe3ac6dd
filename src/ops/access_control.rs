//! Account access control: the resources that have rule sets (the account, each group, each
//! service principal), their assignable roles, and reading and replacing a rule set with its
//! etag. Account admins hold every role; a resource's managers read and change its rule set.

use std::collections::BTreeMap;

use rusqlite::Connection;

use crate::authz::{self, Action, Allowed, Caller, PrincipalKind};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::principals::{self, PrincipalRow};
use crate::store::rule_sets;

pub const GROUP_MANAGER: &str = "roles/group.manager";
pub const SP_MANAGER: &str = "roles/servicePrincipal.manager";
pub const SP_USER: &str = "roles/servicePrincipal.user";
const ACCOUNT_ROLES: &[&str] = &["roles/billing.admin", GROUP_MANAGER, "roles/marketplace.admin", SP_MANAGER, SP_USER];
const GROUP_ROLES: &[&str] = &[GROUP_MANAGER];
const SP_ROLES: &[&str] = &[SP_MANAGER, SP_USER];

/// A resource as a request names it (parsed, not yet looked up).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResourceRef {
    Account,
    Group(String),
    ServicePrincipal(String),
}

/// Parses `accounts/<A>[/groups/<id> | /servicePrincipals/<id>]`; `field` names the parameter in
/// errors. Another account id or a kind the emulator does not serve → 404.
pub fn parse_resource(field: &str, raw: &str, account_id: &str) -> ApiResult<ResourceRef> {
    let bad = || {
        ApiError::invalid(
            field,
            format!(
                "{raw:?} is not a resource: use accounts/<account id>, accounts/<account id>/groups/<group id> or \
                 accounts/<account id>/servicePrincipals/<application id>"
            ),
        )
    };
    let parts: Vec<&str> = raw.split('/').collect();
    if parts.len() < 2 || parts[0] != "accounts" || parts[1].is_empty() {
        return Err(bad());
    }
    if !parts[1].eq_ignore_ascii_case(account_id) {
        return Err(ApiError::new(ErrorCode::ResourceDoesNotExist, format!("Account '{}' does not exist.", parts[1])));
    }
    match parts.as_slice() {
        [_, _] => Ok(ResourceRef::Account),
        [_, _, "groups", id] if !id.is_empty() => Ok(ResourceRef::Group(id.to_string())),
        [_, _, "servicePrincipals", id] if !id.is_empty() => Ok(ResourceRef::ServicePrincipal(id.to_string())),
        [_, _, kind, id] if !kind.is_empty() && !id.is_empty() => Err(ApiError::new(
            ErrorCode::ResourceDoesNotExist,
            format!("Rule sets of '{kind}' are not served by this emulator."),
        )),
        _ => Err(bad()),
    }
}

/// A rule-set name: `<resource>/ruleSets/default`.
pub fn parse_rule_set_name(field: &str, raw: &str, account_id: &str) -> ApiResult<ResourceRef> {
    match raw.strip_suffix("/ruleSets/default") {
        Some(resource) => parse_resource(field, resource, account_id),
        None => {
            Err(ApiError::invalid(field, format!("{raw:?} is not a rule set name: use <resource>/ruleSets/default")))
        }
    }
}

/// A resource that exists: its store key and the principal it is about.
pub struct Resource {
    pub key: String,
    pub principal: Option<PrincipalRow>,
}

impl Resource {
    /// `accounts/<A>/…` with the application id for service principals.
    pub fn name(&self, account_id: &str) -> String {
        match &self.principal {
            None => format!("accounts/{account_id}"),
            Some(p) if p.kind == PrincipalKind::Group => format!("accounts/{account_id}/groups/{}", p.id),
            Some(p) => format!("accounts/{account_id}/servicePrincipals/{}", p.name),
        }
    }

    pub fn roles(&self) -> &'static [&'static str] {
        match &self.principal {
            None => ACCOUNT_ROLES,
            Some(p) if p.kind == PrincipalKind::Group => GROUP_ROLES,
            Some(_) => SP_ROLES,
        }
    }

    fn manager_role(&self) -> Option<&'static str> {
        match &self.principal {
            None => None,
            Some(p) if p.kind == PrincipalKind::Group => Some(GROUP_MANAGER),
            Some(_) => Some(SP_MANAGER),
        }
    }
}

/// The resource a reference names, if it exists.
fn lookup(conn: &Connection, r: &ResourceRef) -> ApiResult<Option<Resource>> {
    let by_kind = |p: Option<PrincipalRow>, kind: PrincipalKind| p.filter(|p| p.kind == kind);
    Ok(match r {
        ResourceRef::Account => Some(Resource { key: "account".into(), principal: None }),
        ResourceRef::Group(id) => {
            let p = match id.parse::<i64>() {
                Ok(n) => by_kind(principals::by_id(conn, n)?, PrincipalKind::Group),
                Err(_) => None,
            };
            p.map(|p| Resource { key: format!("groups/{}", p.id), principal: Some(p) })
        }
        ResourceRef::ServicePrincipal(id) => {
            let p = match id.parse::<i64>() {
                Ok(n) => by_kind(principals::by_id(conn, n)?, PrincipalKind::ServicePrincipal),
                Err(_) => by_kind(principals::by_name(conn, id)?, PrincipalKind::ServicePrincipal),
            };
            p.map(|p| Resource { key: format!("servicePrincipals/{}", p.id), principal: Some(p) })
        }
    })
}

/// Read (`write` false) or change a resource's rule set, or its assignable roles: account
/// admins, or its managers (through the account rule set too); on the workspace proxy anyone
/// of the workspace reads. Decided before a missing resource is reported, so callers who
/// manage nothing get 403 rather than learn what exists.
fn authorize(conn: &Connection, caller: &Caller, r: &ResourceRef, proxy_read: bool) -> ApiResult<(Allowed, Resource)> {
    let found = lookup(conn, r)?;
    let manager = match &found {
        Some(res) => match res.manager_role() {
            Some(role) => {
                let held = rule_sets::roles_held(conn, caller.id, &["account", &res.key])?;
                held.values().flatten().any(|h| h == role)
            }
            None => false,
        },
        None => false,
    };
    let ok = authz::require(caller, &Action::ManageRuleSet { manager: manager || proxy_read }, &[]).map_err(|_| {
        ApiError::denied(format!("{} is not an account admin and does not manage this resource.", caller.describe()))
    })?;
    let res = found.ok_or_else(|| ApiError::new(ErrorCode::ResourceDoesNotExist, "The resource does not exist."))?;
    Ok((ok, res))
}

/// The assignable roles of a resource, sorted (a read: anyone of the workspace on the proxy).
pub fn assignable_roles(
    conn: &Connection,
    caller: &Caller,
    r: &ResourceRef,
    proxy: bool,
) -> ApiResult<Vec<&'static str>> {
    let (_, res) = authorize(conn, caller, r, proxy)?;
    Ok(res.roles().to_vec())
}

/// A rule set as answered.
pub struct RuleSet {
    pub name: String,
    pub etag: String,
    /// role → sorted principals (`users/…`, `groups/…`, `servicePrincipals/…`).
    pub rules: BTreeMap<String, Vec<String>>,
}

fn etag(key: &str, version: i64) -> String {
    let digest = crate::store::tokens::hash(&format!("{key}#{version}"));
    format!("{}{version}", &digest[..12])
}

fn principal_string(kind: PrincipalKind, name: &str) -> String {
    match kind {
        PrincipalKind::User => format!("users/{name}"),
        PrincipalKind::Group => format!("groups/{name}"),
        PrincipalKind::ServicePrincipal => format!("servicePrincipals/{name}"),
    }
}

fn load(conn: &Connection, res: &Resource, account_id: &str) -> ApiResult<RuleSet> {
    let version = rule_sets::version(conn, &res.key)?;
    let mut rules: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for g in rule_sets::grants(conn, &res.key)? {
        rules.entry(g.role).or_default().push(principal_string(g.kind, &g.name));
    }
    for v in rules.values_mut() {
        v.sort();
        v.dedup();
    }
    Ok(RuleSet { name: format!("{}/ruleSets/default", res.name(account_id)), etag: etag(&res.key, version), rules })
}

/// `GET rule-sets`.
pub fn get_rule_set(
    conn: &Connection,
    caller: &Caller,
    r: &ResourceRef,
    proxy: bool,
    account_id: &str,
) -> ApiResult<RuleSet> {
    let (_, res) = authorize(conn, caller, r, proxy)?;
    load(conn, &res, account_id)
}

/// One grant rule of an update, as sent.
pub struct RuleIn {
    pub role: String,
    pub principals: Vec<String>,
}

/// `PUT rule-sets`: replaces every rule when `etag` is the current version (409 otherwise).
pub fn update_rule_set(
    tx: &Connection,
    caller: &Caller,
    r: &ResourceRef,
    etag_in: &str,
    rules: &[RuleIn],
    account_id: &str,
) -> ApiResult<RuleSet> {
    let (ok, res) = authorize(tx, caller, r, false)?;
    // Only account admins change the account's own rule set.
    if res.principal.is_none() {
        authz::require(caller, &Action::ManageAccount, &[])
            .map_err(|_| ApiError::denied(format!("{} is not an account admin.", caller.describe())))?;
    }
    let mut rows: Vec<(String, i64)> = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        if !res.roles().contains(&rule.role.as_str()) {
            return Err(ApiError::invalid(
                &format!("rule_set.grant_rules[{i}].role"),
                format!("{:?} is not assignable on this resource; assignable: {}", rule.role, res.roles().join(", ")),
            ));
        }
        for (j, p) in rule.principals.iter().enumerate() {
            let field = format!("rule_set.grant_rules[{i}].principals[{j}]");
            let (kind, name) = match p.split_once('/') {
                Some(("users", n)) => (PrincipalKind::User, n),
                Some(("groups", n)) => (PrincipalKind::Group, n),
                Some(("servicePrincipals", n)) => (PrincipalKind::ServicePrincipal, n),
                _ => {
                    return Err(ApiError::invalid(
                        &field,
                        format!(
                            "{p:?} is not users/<userName>, groups/<displayName> or servicePrincipals/<applicationId>"
                        ),
                    ))
                }
            };
            let found = principals::by_name(tx, name)?.filter(|x| x.kind == kind);
            let Some(found) = found else {
                return Err(ApiError::invalid(&field, format!("{p:?} names no principal of the account")));
            };
            rows.push((rule.role.clone(), found.id));
        }
    }
    let current = etag(&res.key, rule_sets::version(tx, &res.key)?);
    if etag_in != current {
        return Err(ApiError::new(
            ErrorCode::ResourceConflict,
            format!("Conflict with another RuleSet operation: etag '{etag_in}' is not the current version."),
        ));
    }
    rule_sets::replace(tx, &ok, &res.key, &rows)?;
    load(tx, &res, account_id)
}
