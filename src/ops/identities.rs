//! Users, groups and service principals: who may change them, and the SCIM writes of both
//! levels (workspace SCIM, account SCIM). The HTTP layer parses a body into a [`CreateSpec`],
//! [`ReplaceSpec`] or [`PatchSpec`] and calls one operation ([`create`], [`replace`], [`patch`],
//! [`delete`]), which authorizes and writes in its one transaction and answers the principal as
//! it now is ([`PrincipalView`]).

use rusqlite::Connection;
use serde::Deserialize;
use serde_json::{Map, Value as Json};

use crate::authz::{self, Action, Allowed, Caller, PrincipalKind, ACCOUNT_USERS};
use crate::domain::scim_filter::{self, Filter, Value};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ops::access_control::{GROUP_MANAGER, SP_MANAGER};
use crate::store::account as account_store;
use crate::store::principals::{self, NewPrincipal, PrincipalRow, Ref};

/// The one role account SCIM models.
pub const ACCOUNT_ADMIN_ROLE: &str = "account_admin";

/// Attributes the emulator keeps verbatim in `extra` (everything else is modelled).
pub const EXTRA_ATTRIBUTES: &[&str] = &["emails", "name", "entitlements", "roles"];

const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// SCIM writes: workspace and account admins (the refusal in SCIM's error shape).
pub fn may_manage(caller: &Caller) -> ApiResult<Allowed> {
    authz::require(caller, &Action::ManageIdentities, &[]).map_err(|_| {
        ApiError::denied("Only workspace admins and account admins may change users, groups and service principals.")
            .scim()
    })
}

/// Which SCIM a route is: the kind of principal, and account (`true`) or workspace SCIM.
#[derive(Clone, Copy)]
pub struct Level {
    pub kind: PrincipalKind,
    pub account: bool,
}

pub fn account_admin_only(caller: &Caller) -> ApiResult<Allowed> {
    authz::require(caller, &Action::ManageAccount, &[])
        .map_err(|_| ApiError::denied(format!("{} is not an account admin.", caller.describe())).scim())
}

/// Whether the caller holds `role` on the resource (through the account rule set too).
pub fn holds_role(conn: &Connection, caller: &Caller, resource: &str, role: &str) -> ApiResult<bool> {
    let held = crate::store::rule_sets::roles_held(conn, caller.id, &["account", resource])?;
    Ok(held.values().flatten().any(|r| r == role))
}

/// The proof for an account SCIM request on one principal: account admins; for a group also its
/// managers when `changes_roles` is false. Decided before the principal is looked up.
pub fn account_proof(
    conn: &Connection,
    caller: &Caller,
    kind: PrincipalKind,
    id: Option<i64>,
    changes_roles: bool,
) -> ApiResult<Allowed> {
    if caller.account_admin || kind != PrincipalKind::Group {
        return account_admin_only(caller);
    }
    let manager = match id {
        Some(id) => holds_role(conn, caller, &format!("groups/{id}"), GROUP_MANAGER)?,
        None => false,
    };
    authz::require(caller, &Action::ManageAccountGroup { manager, changes_roles }, &[]).map_err(|_| {
        let why = if manager {
            "group managers may not change a group's roles"
        } else {
            "it is not an account admin and does not manage this group"
        };
        ApiError::denied(format!("{} may not change this group: {why}.", caller.describe())).scim()
    })
}

/// The proof a SCIM write runs under: workspace SCIM needs a workspace or account admin; account
/// SCIM as [`account_proof`] says.
pub fn write_proof(
    conn: &Connection,
    caller: &Caller,
    level: Level,
    id: Option<i64>,
    changes_roles: bool,
) -> ApiResult<Allowed> {
    if level.account {
        account_proof(conn, caller, level.kind, id, changes_roles)
    } else {
        may_manage(caller)
    }
}

/// SCIM's resource type of a kind (`meta.resourceType`, and the 404's wording).
pub fn resource_type(kind: PrincipalKind) -> &'static str {
    match kind {
        PrincipalKind::User => "User",
        PrincipalKind::Group => "Group",
        PrincipalKind::ServicePrincipal => "ServicePrincipal",
    }
}

/// SCIM's 404 for a principal of `kind` with the id `id` (as sent).
pub fn not_found(kind: PrincipalKind, id: &str) -> ApiError {
    ApiError::new(ErrorCode::ResourceDoesNotExist, format!("{} {id} does not exist.", resource_type(kind))).scim()
}

/// A principal as SCIM shows it: its row, its direct groups and (for a group) its members.
pub struct PrincipalView {
    pub row: PrincipalRow,
    pub groups: Vec<Ref>,
    pub members: Vec<Ref>,
}

/// The [`PrincipalView`] of one principal (two queries).
pub fn view(conn: &Connection, p: PrincipalRow) -> ApiResult<PrincipalView> {
    let groups = principals::direct_groups(conn, p.id)?;
    let members = if p.kind == PrincipalKind::Group { principals::members(conn, p.id)? } else { Vec::new() };
    Ok(PrincipalView { row: p, groups, members })
}

/// The principal a SCIM path names: the id as sent, and as a number when it is one.
pub struct Target {
    pub raw: String,
    pub id: Option<i64>,
}

impl Target {
    pub fn new(raw: String) -> Target {
        let id = raw.parse::<i64>().ok();
        Target { raw, id }
    }
}

/// A validated SCIM create body.
pub struct CreateSpec {
    kind: PrincipalKind,
    name: String,
    display: String,
    active: bool,
    members: Option<Vec<i64>>,
    groups: Option<Vec<i64>>,
    external_id: Option<String>,
    roles: Option<bool>,
    extra: String,
}

impl CreateSpec {
    pub fn parse(level: Level, body: &ScimBody) -> ApiResult<CreateSpec> {
        let Level { kind, account } = level;
        let display = body.string("displayName")?;
        let (name, display) = match kind {
            PrincipalKind::User => {
                let name =
                    body.string("userName")?.ok_or_else(|| ApiError::invalid("userName", "is required").scim())?;
                check_name(kind, "userName", &name)?;
                let display = display.unwrap_or_else(|| name.clone());
                (name, display)
            }
            PrincipalKind::Group => {
                let name = display.ok_or_else(|| ApiError::invalid("displayName", "is required").scim())?;
                check_name(kind, "displayName", &name)?;
                (name.clone(), name)
            }
            PrincipalKind::ServicePrincipal => {
                let app = body.string("applicationId")?.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                check_name(kind, "applicationId", &app)?;
                let display = display.unwrap_or_else(|| app.clone());
                (app, display)
            }
        };
        Ok(CreateSpec {
            kind,
            name,
            display,
            active: body.boolean("active")?.unwrap_or(true),
            members: body.ids("members")?,
            groups: body.ids("groups")?,
            external_id: body.string("externalId")?,
            roles: if account {
                parse_roles("roles", body.obj.get("roles"))?
            } else {
                refuse_account_role("roles", body.obj.get("roles"))?;
                None
            },
            extra: if account { body.extra_without(&["roles", "entitlements"])? } else { body.extra()? },
        })
    }
}

/// `POST <kind>`: creates a principal (workspace SCIM also adds it to the caller's workspace,
/// or adds an account principal of that name that is not there yet).
pub fn create(conn: &Connection, caller: &Caller, level: Level, spec: CreateSpec) -> ApiResult<PrincipalView> {
    let account = level.account;
    let ok = if account { account_admin_only(caller)? } else { may_manage(caller)? };
    let CreateSpec { kind, name, display, active, members, groups, external_id, roles, extra } = spec;
    let workspace_id = caller.workspace_id;
    if !account {
        // A name held by an account principal of the same kind that does not belong to this
        // workspace: the principal is added to the workspace (identity federation).
        if let Some(existing) = principals::by_name(conn, &name)? {
            if existing.kind == kind && account_store::effective_permission(conn, workspace_id, existing.id)?.is_none()
            {
                account_store::assign(conn, &ok, workspace_id, existing.id, account_store::WorkspacePermission::User)?;
                return view(conn, existing);
            }
        }
    }
    let new = NewPrincipal {
        kind,
        name: &name,
        display_name: &display,
        account_admin: roles == Some(true),
        external_id: external_id.as_deref(),
        extra: &extra,
    };
    let id = principals::insert(conn, &ok, &new).map_err(ApiError::scim)?;
    if !active {
        principals::set_active(conn, &ok, id, false)?;
    }
    let p = principals::by_id(conn, id)?.ok_or_else(|| not_found(kind, &id.to_string()))?;
    if let Some(m) = &members {
        add_members(conn, &ok, &p, m)?;
    }
    for g in groups.iter().flatten() {
        let group = require_member(conn, *g)?;
        add_members(conn, &ok, &group, &[id])?;
    }
    if !account {
        account_store::assign(conn, &ok, workspace_id, id, account_store::WorkspacePermission::User)?;
    }
    // The creator of a group or service principal becomes its manager.
    match kind {
        PrincipalKind::Group => {
            crate::store::rule_sets::grant_creator(conn, &ok, &format!("groups/{id}"), GROUP_MANAGER, caller.id)?
        }
        PrincipalKind::ServicePrincipal => crate::store::rule_sets::grant_creator(
            conn,
            &ok,
            &format!("servicePrincipals/{id}"),
            SP_MANAGER,
            caller.id,
        )?,
        PrincipalKind::User => {}
    }
    admin_remains(conn)?;
    view(conn, p)
}

/// A validated SCIM replace (`PUT`) body.
pub struct ReplaceSpec {
    user_name: Option<String>,
    display: Option<String>,
    active: Option<bool>,
    members: Option<Vec<i64>>,
    external_id: Option<String>,
    roles: bool,
    extra: String,
}

impl ReplaceSpec {
    pub fn parse(level: Level, target: &Target, body: &ScimBody) -> ApiResult<ReplaceSpec> {
        let Level { kind, account } = level;
        let spec = ReplaceSpec {
            user_name: body.string("userName")?,
            display: body.string("displayName")?,
            active: body.boolean("active")?,
            members: body.ids("members")?,
            external_id: body.string("externalId")?,
            // Account SCIM replaces `roles` too (absent = none).
            roles: if account {
                parse_roles("roles", body.obj.get("roles"))?.unwrap_or(false)
            } else {
                refuse_account_role("roles", body.obj.get("roles"))?;
                false
            },
            extra: if account { body.extra_without(&["roles", "entitlements"])? } else { body.extra()? },
        };
        if kind == PrincipalKind::ServicePrincipal {
            if let Some(app) = body.string("applicationId")? {
                if target.id.is_some() && app.is_empty() {
                    return Err(ApiError::invalid("applicationId", "must not be empty").scim());
                }
            }
        }
        Ok(spec)
    }
}

/// `PUT <kind>/:id`: replaces the principal's modelled and verbatim attributes.
pub fn replace(
    conn: &Connection,
    caller: &Caller,
    level: Level,
    target: &Target,
    spec: ReplaceSpec,
) -> ApiResult<PrincipalView> {
    let Level { kind, account } = level;
    let (raw_id, id) = (target.raw.as_str(), target.id);
    let ok = write_proof(conn, caller, level, id, false)?;
    let p = load_at(conn, level, caller.workspace_id, raw_id, id)?;
    if account && spec.roles != p.account_admin {
        let ok = write_proof(conn, caller, level, id, true)?;
        account_store::set_account_admin(conn, &ok, p.id, spec.roles)?;
    }
    if kind == PrincipalKind::User && spec.user_name.is_none() {
        return Err(ApiError::invalid("userName", "is required").scim());
    }
    if kind == PrincipalKind::Group && spec.display.is_none() {
        return Err(ApiError::invalid("displayName", "is required").scim());
    }
    apply_names(conn, &ok, &p, spec.display)?;
    if kind != PrincipalKind::Group {
        principals::set_active(conn, &ok, p.id, spec.active.unwrap_or(true))?;
    }
    // A user's emails are kept as they are, whatever the PUT says.
    let extra = if kind == PrincipalKind::User { keep_emails(&p.extra, &spec.extra) } else { spec.extra };
    principals::set_extra(conn, &ok, p.id, spec.external_id.as_deref(), &extra)?;
    if kind == PrincipalKind::Group {
        principals::clear_members(conn, &ok, p.id)?;
        add_members(conn, &ok, &p, spec.members.as_deref().unwrap_or_default())?;
    }
    admin_remains(conn)?;
    let p = load(conn, kind, raw_id, id)?;
    view(conn, p)
}

/// A validated SCIM PatchOp body: its schema, and the operations (each one's path within SCIM's
/// limits; what an operation means is read as it is applied, in order).
pub struct PatchSpec {
    operations: Vec<PatchOperation>,
}

impl TryFrom<PatchBody> for PatchSpec {
    type Error = ApiError;

    fn try_from(body: PatchBody) -> ApiResult<PatchSpec> {
        if let Some(schemas) = &body.schemas {
            if schemas.iter().any(|s| s != PATCH_SCHEMA) || schemas.is_empty() {
                return Err(ApiError::invalid("schemas", format!("must be [\"{PATCH_SCHEMA}\"]")).scim());
            }
        }
        let operations = body.operations.ok_or_else(|| ApiError::invalid("Operations", "is required").scim())?;
        // The path limits hold before anything is parsed or applied (invalidPath).
        for op in &operations {
            if let Some(path) = &op.path {
                scim_filter::check_limits(path).map_err(|e| ApiError::invalid("path", e).scim())?;
            }
        }
        Ok(PatchSpec { operations })
    }
}

/// `PATCH <kind>/:id`: applies the operations in order, all or none.
pub fn patch(
    conn: &Connection,
    caller: &Caller,
    level: Level,
    target: &Target,
    spec: PatchSpec,
) -> ApiResult<PrincipalView> {
    let (raw_id, id) = (target.raw.as_str(), target.id);
    if !level.account {
        for (i, op) in spec.operations.iter().enumerate().filter(|(_, op)| is_roles_operation(op)) {
            let field = format!("Operations[{i}]");
            refuse_account_role(&field, op.value.as_ref())?;
            refuse_account_role(&field, op.path.as_ref().map(|p| Json::String(p.clone())).as_ref())?;
        }
    }
    let ok = write_proof(conn, caller, level, id, false)?;
    let p = load_at(conn, level, caller.workspace_id, raw_id, id)?;
    for (i, op) in spec.operations.iter().enumerate() {
        if level.account && is_roles_operation(op) {
            let ok = write_proof(conn, caller, level, id, true)?;
            apply_roles_operation(conn, &ok, &p, i, op)?;
        } else {
            apply_operation(conn, &ok, &p, i, op)?;
        }
    }
    admin_remains(conn)?;
    let p = load(conn, level.kind, raw_id, id)?;
    view(conn, p)
}

/// `DELETE <kind>/:id`.
pub fn delete(conn: &Connection, caller: &Caller, level: Level, target: &Target) -> ApiResult<()> {
    let ok = write_proof(conn, caller, level, target.id, false)?;
    let p = load_at(conn, level, caller.workspace_id, &target.raw, target.id)?;
    principals::delete(conn, &ok, p.id)?;
    admin_remains(conn)
}

/// `GET <kind>/:id`: account SCIM asks the account rule first.
pub fn get(conn: &Connection, caller: &Caller, level: Level, target: &Target) -> ApiResult<PrincipalView> {
    if level.account {
        account_proof(conn, caller, level.kind, target.id, false)?;
    }
    let p = load_at(conn, level, caller.workspace_id, &target.raw, target.id)?;
    view(conn, p)
}

/// The principal of this kind with this id, or SCIM's 404.
pub fn load(conn: &Connection, kind: PrincipalKind, raw: &str, id: Option<i64>) -> ApiResult<PrincipalRow> {
    match id {
        Some(id) => match principals::by_id(conn, id)? {
            Some(p) if p.kind == kind => Ok(p),
            _ => Err(not_found(kind, raw)),
        },
        None => Err(not_found(kind, raw)),
    }
}

/// [`load`] at a level: workspace SCIM sees only the principals of the caller's workspace.
pub fn load_at(
    conn: &Connection,
    level: Level,
    workspace_id: i64,
    raw: &str,
    id: Option<i64>,
) -> ApiResult<PrincipalRow> {
    let p = load(conn, level.kind, raw, id)?;
    if !level.account && account_store::effective_permission(conn, workspace_id, p.id)?.is_none() {
        return Err(not_found(level.kind, raw));
    }
    Ok(p)
}

/// The last check of every identity write: an account admin remains.
fn admin_remains(conn: &Connection) -> ApiResult<()> {
    account_store::require_an_account_admin(conn).map_err(ApiError::scim)
}

/// Workspace SCIM keeps `roles` as a verbatim attribute (instance profiles) but never holds the
/// account admin role: that one is granted and revoked through account SCIM only.
fn refuse_account_role(field: &str, v: Option<&Json>) -> ApiResult<()> {
    let named = |item: &Json| {
        item.get("value").and_then(Json::as_str).is_some_and(|s| s.trim().eq_ignore_ascii_case(ACCOUNT_ADMIN_ROLE))
    };
    let hit = match v {
        Some(Json::Array(items)) => items.iter().any(named),
        Some(Json::Object(o)) => {
            named(&Json::Object(o.clone()))
                || o.iter()
                    .any(|(k, v)| k.eq_ignore_ascii_case("roles") && refuse_account_role(field, Some(v)).is_err())
        }
        Some(Json::String(s)) => s.to_ascii_lowercase().contains(ACCOUNT_ADMIN_ROLE),
        _ => false,
    };
    if hit {
        return Err(ApiError::invalid(
            field,
            "the account_admin role is granted and revoked through account SCIM \
             (/api/2.0/accounts/<account id>/scim/v2), not workspace SCIM",
        )
        .scim());
    }
    Ok(())
}

/// `roles` of an account SCIM body: whether it grants `account_admin` (`None`: absent).
fn parse_roles(field: &str, v: Option<&Json>) -> ApiResult<Option<bool>> {
    match v {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Array(items)) => {
            let mut admin = false;
            for (i, item) in items.iter().enumerate() {
                match item.get("value").and_then(Json::as_str) {
                    Some(ACCOUNT_ADMIN_ROLE) => admin = true,
                    _ => {
                        return Err(
                            ApiError::invalid(&format!("{field}[{i}].value"), "the only role is account_admin").scim()
                        )
                    }
                }
            }
            Ok(Some(admin))
        }
        Some(_) => Err(ApiError::invalid(field, "must be an array of {\"value\": role}").scim()),
    }
}

/// A SCIM create or replace body. Open-ended: the modelled attributes are read here, the
/// verbatim ones (`emails`, `name`, `entitlements`, `roles`) kept.
pub struct ScimBody {
    obj: Map<String, Json>,
}

impl ScimBody {
    /// The body as the HTTP layer parsed it (any JSON); an object or SCIM's 400.
    pub fn from_json(body: Json) -> ApiResult<ScimBody> {
        match body {
            Json::Object(obj) => Ok(ScimBody { obj }),
            _ => Err(ApiError::invalid("body", "the request body must be a JSON object").scim()),
        }
    }

    fn string(&self, field: &str) -> ApiResult<Option<String>> {
        match self.obj.get(field) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::invalid(field, "must be a string").scim()),
        }
    }

    fn boolean(&self, field: &str) -> ApiResult<Option<bool>> {
        match self.obj.get(field) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::invalid(field, "must be true or false").scim()),
        }
    }

    /// `members` / `groups`: `[{"value": "<id>"}]`.
    fn ids(&self, field: &str) -> ApiResult<Option<Vec<i64>>> {
        match self.obj.get(field) {
            None | Some(Json::Null) => Ok(None),
            Some(v) => member_ids(field, v).map(Some),
        }
    }

    fn extra(&self) -> ApiResult<String> {
        self.extra_without(&[])
    }

    /// The verbatim attributes but `skip` (account SCIM models `roles` and drops entitlements).
    fn extra_without(&self, skip: &[&str]) -> ApiResult<String> {
        let mut extra = Map::new();
        for k in EXTRA_ATTRIBUTES.iter().filter(|k| !skip.contains(k)) {
            if let Some(v) = self.obj.get(*k).filter(|v| !v.is_null()) {
                // `name` is a complex attribute, the others are multi-valued (RFC 7643).
                if *k == "name" && !v.is_object() {
                    return Err(ApiError::invalid(k, "must be an object").scim());
                }
                if *k != "name" && !is_multi_valued(v) {
                    return Err(ApiError::invalid(k, "must be an array of objects").scim());
                }
                extra.insert((*k).to_string(), v.clone());
            }
        }
        Ok(Json::Object(extra).to_string())
    }
}

/// A multi-valued SCIM attribute: an array of complex values.
fn is_multi_valued(v: &Json) -> bool {
    v.as_array().is_some_and(|a| a.iter().all(Json::is_object))
}

/// Reads `[{"value": "<id>"}, ...]` (ids as strings or numbers).
fn member_ids(field: &str, v: &Json) -> ApiResult<Vec<i64>> {
    let Some(items) = v.as_array() else {
        return Err(ApiError::invalid(field, "must be an array of {\"value\": id}").scim());
    };
    items
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let id = match &m["value"] {
                Json::String(s) => s.parse::<i64>().ok(),
                Json::Number(n) => n.as_i64(),
                _ => None,
            };
            id.ok_or_else(|| ApiError::invalid(&format!("{field}[{i}].value"), "must be a principal id").scim())
        })
        .collect()
}

/// A member id must name an existing principal (400 otherwise: it is the request's value).
fn require_member(conn: &Connection, id: i64) -> ApiResult<PrincipalRow> {
    principals::by_id(conn, id)?
        .ok_or_else(|| ApiError::invalid("members", format!("no user, group or service principal has id {id}")).scim())
}

fn add_members(conn: &Connection, ok: &Allowed, group: &PrincipalRow, ids: &[i64]) -> ApiResult<()> {
    if group.kind != PrincipalKind::Group {
        return Err(ApiError::invalid("members", "only groups have members").scim());
    }
    for (i, id) in ids.iter().enumerate() {
        principals::by_id(conn, *id)?.ok_or_else(|| {
            let field = format!("members[{i}].value");
            ApiError::invalid(&field, format!("no user, group or service principal has id {id}")).scim()
        })?;
        principals::add_member(conn, ok, group.id, *id).map_err(ApiError::scim)?;
    }
    Ok(())
}

fn check_name(kind: PrincipalKind, field: &str, name: &str) -> ApiResult<()> {
    if name.trim().is_empty() {
        return Err(ApiError::invalid(field, "must not be empty").scim());
    }
    if name == ACCOUNT_USERS {
        return Err(ApiError::new(
            ErrorCode::ResourceAlreadyExists,
            "'account users' is the implicit group of every user; it cannot be created or renamed to.",
        )
        .scim());
    }
    if kind == PrincipalKind::ServicePrincipal && field == "applicationId" && uuid::Uuid::parse_str(name).is_err() {
        return Err(ApiError::invalid(field, "must be a UUID").scim());
    }
    Ok(())
}

/// Applies a new name (and display name) per kind: a group's name is its display name.
fn apply_names(conn: &Connection, ok: &Allowed, p: &PrincipalRow, display: Option<String>) -> ApiResult<()> {
    // A user's userName never changes (SDK: "any supplied changes to them are ignored"); only
    // a group's name follows its displayName.
    let (name, display) = match p.kind {
        PrincipalKind::User => (p.name.clone(), display.unwrap_or_else(|| p.display_name.clone())),
        PrincipalKind::Group => {
            let d = display.unwrap_or_else(|| p.display_name.clone());
            (d.clone(), d)
        }
        PrincipalKind::ServicePrincipal => (p.name.clone(), display.unwrap_or_else(|| p.display_name.clone())),
    };
    if name != p.name {
        check_name(p.kind, if p.kind == PrincipalKind::User { "userName" } else { "displayName" }, &name)?;
    }
    if name != p.name || display != p.display_name {
        principals::rename(conn, ok, p, &name, &display).map_err(ApiError::scim)?;
    }
    Ok(())
}

/// `extra` with the `emails` of `current` (present or absent as they were).
fn keep_emails(current: &str, extra: &str) -> String {
    let current: Map<String, Json> = serde_json::from_str(current).unwrap_or_default();
    let mut extra: Map<String, Json> = serde_json::from_str(extra).unwrap_or_default();
    extra.remove("emails");
    if let Some(e) = current.get("emails") {
        extra.insert("emails".to_string(), e.clone());
    }
    Json::Object(extra).to_string()
}

#[derive(Deserialize)]
pub struct PatchBody {
    schemas: Option<Vec<String>>,
    #[serde(rename = "Operations")]
    operations: Option<Vec<PatchOperation>>,
}

#[derive(Deserialize)]
pub struct PatchOperation {
    op: Option<String>,
    path: Option<String>,
    value: Option<Json>,
}

/// `members[value eq "<id>"]` → the id.
fn member_path_id(path: &str) -> Option<i64> {
    let inner = path.trim().strip_prefix("members[")?.strip_suffix(']')?;
    let f = scim_filter::parse(inner, &["value"]).ok()?;
    match f {
        Filter::Compare { op: scim_filter::Op::Eq, value: Value::Str(v), .. } => v.parse().ok(),
        _ => None,
    }
}

/// Applies one PatchOp operation. Everything runs in the request's transaction, so a rejected
/// operation leaves nothing of the earlier ones.
fn apply_operation(conn: &Connection, ok: &Allowed, p: &PrincipalRow, i: usize, op: &PatchOperation) -> ApiResult<()> {
    let field = |f: &str| format!("Operations[{i}].{f}");
    let bad = |f: &str, why: String| ApiError::invalid(&field(f), why).scim();
    let verb = op.op.as_deref().map(str::to_ascii_lowercase).ok_or_else(|| bad("op", "is required".into()))?;
    let path = op.path.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let value = op.value.clone().unwrap_or(Json::Null);
    match (verb.as_str(), path) {
        ("add" | "replace", None) => {
            let Json::Object(attrs) = value else {
                return Err(bad("value", "must be an object of attributes when no path is given".into()));
            };
            for (k, v) in attrs {
                set_attribute(conn, ok, p, i, &verb, &k, v)?;
            }
            Ok(())
        }
        ("add" | "replace", Some(path)) => set_attribute(conn, ok, p, i, &verb, path, value),
        ("remove", Some(path)) if path.eq_ignore_ascii_case("members") => {
            for id in member_ids(&field("value"), &value)? {
                principals::remove_member(conn, ok, p.id, id)?;
            }
            Ok(())
        }
        ("remove", Some(path)) => match member_path_id(path) {
            Some(id) if p.kind == PrincipalKind::Group => {
                require_member(conn, id)?;
                principals::remove_member(conn, ok, p.id, id)
            }
            _ => Err(bad("path", format!("cannot remove {path:?}; use members[value eq \"<id>\"]"))),
        },
        ("remove", None) => Err(bad("path", "is required for remove".into())),
        (other, _) => Err(bad("op", format!("unsupported operation {other:?}; use add, remove or replace"))),
    }
}

/// Whether a PatchOp operation is about `roles` (account SCIM models them).
fn is_roles_operation(op: &PatchOperation) -> bool {
    match op.path.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(path) => path.to_ascii_lowercase().starts_with("roles"),
        None => op
            .value
            .as_ref()
            .and_then(Json::as_object)
            .is_some_and(|o| o.keys().any(|k| k.eq_ignore_ascii_case("roles"))),
    }
}

/// An account SCIM PatchOp on `roles`: add, remove or replace the `account_admin` role.
fn apply_roles_operation(
    conn: &Connection,
    ok: &Allowed,
    p: &PrincipalRow,
    i: usize,
    op: &PatchOperation,
) -> ApiResult<()> {
    let verb = op.op.as_deref().map(str::to_ascii_lowercase).unwrap_or_default();
    let path = op.path.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let value_field = format!("Operations[{i}].value");
    let value = match (path, &op.value) {
        (None, Some(Json::Object(o))) => {
            o.iter().find(|(k, _)| k.eq_ignore_ascii_case("roles")).map(|(_, v)| v.clone())
        }
        (_, v) => v.clone(),
    };
    let current = principals::by_id(conn, p.id)?.map(|r| r.account_admin).unwrap_or(false);
    let new = match (verb.as_str(), path) {
        ("add", _) => parse_roles(&value_field, value.as_ref())?.unwrap_or(false) || current,
        ("replace", _) => parse_roles(&value_field, value.as_ref())?.unwrap_or(false),
        ("remove", Some(path)) => {
            let inner = path.get(5..).unwrap_or("").trim();
            let names_admin = inner.is_empty()
                || inner.strip_prefix('[').and_then(|r| r.strip_suffix(']')).is_some_and(|f| {
                    matches!(scim_filter::parse(f, &["value"]),
                        Ok(Filter::Compare { op: scim_filter::Op::Eq, value: Value::Str(v), .. }) if v == ACCOUNT_ADMIN_ROLE)
                });
            if !names_admin {
                return Err(ApiError::invalid(&value_field, "the only role is account_admin").scim());
            }
            false
        }
        _ => {
            return Err(ApiError::invalid(&format!("Operations[{i}]"), "unsupported operation on roles").scim());
        }
    };
    if new != current {
        account_store::set_account_admin(conn, ok, p.id, new)?;
    }
    Ok(())
}

/// One attribute of an `add` or `replace`.
fn set_attribute(
    conn: &Connection,
    ok: &Allowed,
    p: &PrincipalRow,
    i: usize,
    verb: &str,
    attr: &str,
    v: Json,
) -> ApiResult<()> {
    let field = format!("Operations[{i}].value");
    let bad = |why: &str| ApiError::invalid(&field, format!("{attr}: {why}")).scim();
    let current = principals::by_id(conn, p.id)?.ok_or_else(|| not_found(p.kind, &p.id.to_string()))?;
    match attr.to_ascii_lowercase().as_str() {
        "members" => {
            let ids = member_ids(&field, &v)?;
            if verb == "replace" {
                principals::clear_members(conn, ok, p.id)?;
            }
            add_members(conn, ok, &current, &ids)
        }
        "displayname" => {
            let name = v.as_str().ok_or_else(|| bad("must be a string"))?.to_string();
            apply_names(conn, ok, &current, Some(name))
        }
        // userName and emails of a user, and a service principal's applicationId, never change:
        // a supplied value is ignored (the rest of the request is applied).
        "username" | "emails" if p.kind == PrincipalKind::User => Ok(()),
        "applicationid" if p.kind == PrincipalKind::ServicePrincipal => Ok(()),
        "active" if p.kind != PrincipalKind::Group => {
            let active = match v {
                // The SDK drops a falsy `value`, so `replace` of path `active` with no value is
                // its `value=False`.
                Json::Null if verb == "replace" => false,
                Json::Bool(b) => b,
                Json::String(s) if s.eq_ignore_ascii_case("true") => true,
                Json::String(s) if s.eq_ignore_ascii_case("false") => false,
                _ => return Err(bad("must be true or false")),
            };
            principals::set_active(conn, ok, p.id, active)
        }
        a if EXTRA_ATTRIBUTES.contains(&a) => {
            let mut extra: Map<String, Json> = serde_json::from_str(&current.extra).unwrap_or_default();
            let merged = match (verb, extra.remove(a), v) {
                ("add", Some(Json::Array(mut old)), Json::Array(new)) => {
                    old.extend(new);
                    Json::Array(old)
                }
                // `name` is a complex attribute, the others are multi-valued (RFC 7643).
                (_, _, v) if a == "name" && v.is_object() => v,
                (_, _, v) if a != "name" && is_multi_valued(&v) => v,
                _ => return Err(bad(if a == "name" { "must be an object" } else { "must be an array of objects" })),
            };
            extra.insert(a.to_string(), merged);
            principals::set_extra(conn, ok, p.id, current.external_id.as_deref(), &Json::Object(extra).to_string())
        }
        "externalid" => {
            let ext = v.as_str().ok_or_else(|| bad("must be a string"))?;
            principals::set_extra(conn, ok, p.id, Some(ext), &current.extra)
        }
        _ => Err(ApiError::invalid(&format!("Operations[{i}].path"), format!("unsupported attribute {attr:?}")).scim()),
    }
}
