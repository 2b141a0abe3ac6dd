//! Workspace object permissions under `/api/2.0/permissions/` (the Databricks Permissions API:
//! `ObjectPermissions`, `AccessControlRequest`/`Response`, `Permission`,
//! `PermissionsDescription`): the token and password ACLs and SQL warehouses, as the SDK's
//! `w.permissions` calls them.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::extract::{path_param, AppState, Auth, Body};
use super::{denied, Res};
use crate::authz::{self, AclEntry, Action, Caller, PrincipalKind, ACCOUNT_USERS};
use crate::domain::workspace_object::{ObjectRef, WorkspaceObject, OWNER_LEVEL};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::{principals, workspace_acls};

/// The group whose members are workspace admins; they always hold `CAN_MANAGE`.
const ADMINS: &str = "admins";

/// The workspace permissions routes, inside the `/api` scope.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        Res::new("/2.0/permissions/{object_type}/{object_id}")
            .get(get_permissions)
            .put(set_permissions)
            .patch(update_permissions)
            .build(),
    )
    .service(
        Res::new("/2.0/permissions/{object_type}/{object_id}/permissionLevels").get(get_permission_levels).build(),
    );
}

/// The object a path names; 404 for types the emulator does not serve.
fn object(req: &HttpRequest) -> ApiResult<WorkspaceObject> {
    let object_type = path_param(req, "object_type")?;
    let object_id = path_param(req, "object_id")?;
    match WorkspaceObject::parse(&object_type, &object_id) {
        ObjectRef::Object(o) => Ok(o),
        ObjectRef::Unsupported => Err(ApiError::new(
            ErrorCode::ResourceDoesNotExist,
            format!("Permissions of '{object_type}/{object_id}' are not served by this emulator."),
        )),
    }
}

fn object_not_found(object: &WorkspaceObject) -> ApiError {
    ApiError::new(ErrorCode::ResourceDoesNotExist, format!("{} does not exist.", capitalize(&object.describe())))
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// 404 unless the object exists in the caller's workspace.
fn require_object(conn: &Connection, caller: &Caller, object: &WorkspaceObject) -> ApiResult<()> {
    if workspace_acls::object_exists(conn, caller.workspace_id, object)? {
        Ok(())
    } else {
        Err(object_not_found(object))
    }
}

// --- wire shapes --------------------------------------------------------------------------------

/// `Permission`
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Permission {
    permission_level: String,
    inherited: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    inherited_from_object: Vec<String>,
}

/// `AccessControlResponse`
#[derive(Serialize, Default, utoipa::ToSchema)]
pub(crate) struct AccessControlResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_principal_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    all_permissions: Vec<Permission>,
}

/// `ObjectPermissions`
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ObjectPermissions {
    object_id: String,
    object_type: String,
    access_control_list: Vec<AccessControlResponse>,
}

/// `AccessControlRequest`
#[derive(Deserialize, utoipa::ToSchema)]
pub struct AccessControlRequest {
    user_name: Option<String>,
    group_name: Option<String>,
    service_principal_name: Option<String>,
    permission_level: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PermissionsRequest {
    access_control_list: Option<Vec<AccessControlRequest>>,
}

/// The principal key an entry names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    User,
    Group,
    ServicePrincipal,
}

impl Key {
    fn field(self) -> &'static str {
        match self {
            Key::User => "user_name",
            Key::Group => "group_name",
            Key::ServicePrincipal => "service_principal_name",
        }
    }

    fn kind(self) -> PrincipalKind {
        match self {
            Key::User => PrincipalKind::User,
            Key::Group => PrincipalKind::Group,
            Key::ServicePrincipal => PrincipalKind::ServicePrincipal,
        }
    }
}

/// One validated request entry (its principal not yet looked up).
struct Requested {
    index: usize,
    key: Key,
    name: String,
    level: &'static str,
}

impl Requested {
    fn field(&self) -> String {
        format!("access_control_list[{}].{}", self.index, self.key.field())
    }

    fn entry(&self) -> AclEntry {
        AclEntry { principal: self.name.clone(), level: self.level.to_string() }
    }
}

/// Shape checks that need no lookup: exactly one principal key, a level valid for the object.
fn validate(object: &WorkspaceObject, body: PermissionsRequest) -> ApiResult<Vec<Requested>> {
    let mut out = Vec::new();
    for (index, e) in body.access_control_list.unwrap_or_default().into_iter().enumerate() {
        let field = format!("access_control_list[{index}]");
        let keys: Vec<(Key, String)> =
            [(Key::User, e.user_name), (Key::Group, e.group_name), (Key::ServicePrincipal, e.service_principal_name)]
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .collect();
        let (key, name) = match keys.len() {
            1 => keys.into_iter().next().expect("one key"),
            _ => {
                return Err(ApiError::invalid(
                    &field,
                    "exactly one of user_name, group_name and service_principal_name is required",
                ))
            }
        };
        if name.is_empty() {
            return Err(ApiError::invalid(&format!("{field}.{}", key.field()), "must not be empty"));
        }
        let level_field = format!("{field}.permission_level");
        let raw = e.permission_level.ok_or_else(|| ApiError::invalid(&level_field, "is required"))?;
        let level = object.level(&raw).ok_or_else(|| {
            ApiError::invalid(
                &level_field,
                format!(
                    "{raw:?} is not a permission level of {}; valid levels: {}",
                    object.describe(),
                    object.level_names().join(", ")
                ),
            )
        })?;
        if level == OWNER_LEVEL && key == Key::Group {
            return Err(ApiError::invalid(&level_field, "IS_OWNER can be held by a user or service principal only"));
        }
        out.push(Requested { index, key, name, level });
    }
    let owners: Vec<&Requested> = out.iter().filter(|r| r.level == OWNER_LEVEL).collect();
    if let Some(second) = owners.iter().find(|r| r.name != owners[0].name) {
        return Err(ApiError::invalid(
            &format!("access_control_list[{}].permission_level", second.index),
            "an object has exactly one owner (IS_OWNER)",
        ));
    }
    Ok(out)
}

/// Every requested principal must exist and be of the kind its key says (400 naming the field).
fn check_principals(conn: &Connection, requested: &[Requested]) -> ApiResult<()> {
    for r in requested {
        if r.key == Key::Group && r.name == ACCOUNT_USERS {
            continue;
        }
        match principals::by_name(conn, &r.name)? {
            None => return Err(ApiError::invalid(&r.field(), format!("principal {:?} does not exist", r.name))),
            Some(p) if p.kind != r.key.kind() => {
                return Err(ApiError::invalid(
                    &r.field(),
                    format!(
                        "{:?} is a {}, not a {}",
                        r.name,
                        p.kind.noun().to_lowercase(),
                        r.key.kind().noun().to_lowercase()
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The object's list as the SDK reads it: one entry per principal, admins' `CAN_MANAGE` shown
/// as inherited from the `admins` group. Entries of principals deleted since are left out.
fn render(conn: &Connection, object: &WorkspaceObject, entries: &[AclEntry]) -> ApiResult<ObjectPermissions> {
    let mut by_principal: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in entries {
        by_principal.entry(e.principal.as_str()).or_default().push(e.level.as_str());
    }
    by_principal.entry(ADMINS).or_default();
    let mut acl = Vec::new();
    for (name, levels) in by_principal {
        let mut all_permissions: Vec<Permission> = levels
            .iter()
            .map(|l| Permission { permission_level: l.to_string(), inherited: false, inherited_from_object: vec![] })
            .collect();
        let mut entry = AccessControlResponse::default();
        if name == ACCOUNT_USERS {
            entry.group_name = Some(name.to_string());
        } else {
            let Some(p) = principals::by_name(conn, name)? else {
                continue;
            };
            match p.kind {
                PrincipalKind::User => {
                    entry.user_name = Some(p.name);
                    entry.display_name = Some(p.display_name);
                }
                PrincipalKind::ServicePrincipal => {
                    entry.service_principal_name = Some(p.name);
                    entry.display_name = Some(p.display_name);
                }
                PrincipalKind::Group => entry.group_name = Some(p.name),
            }
        }
        if name == ADMINS {
            all_permissions.push(Permission {
                permission_level: "CAN_MANAGE".to_string(),
                inherited: true,
                inherited_from_object: vec![object.root().to_string()],
            });
        }
        entry.all_permissions = all_permissions;
        acl.push(entry);
    }
    Ok(ObjectPermissions {
        object_id: object.wire_id(),
        object_type: object.wire_type().to_string(),
        access_control_list: acl,
    })
}

fn dedup(mut entries: Vec<AclEntry>) -> Vec<AclEntry> {
    entries.sort_by(|a, b| (&a.principal, &a.level).cmp(&(&b.principal, &b.level)));
    entries.dedup();
    entries
}

/// The list after a PUT: exactly the request; a warehouse keeps its owner unless a new one is
/// named.
fn replaced(current: &[AclEntry], requested: &[Requested]) -> Vec<AclEntry> {
    let mut new: Vec<AclEntry> = requested.iter().map(Requested::entry).collect();
    if !new.iter().any(|e| e.level == OWNER_LEVEL) {
        new.extend(current.iter().filter(|e| e.level == OWNER_LEVEL).cloned());
    }
    dedup(new)
}

/// The list after a PATCH: the current entries plus the request; a new owner leaves the
/// previous one `CAN_MANAGE` (as Partner Connect sets it).
fn extended(current: &[AclEntry], requested: &[Requested]) -> Vec<AclEntry> {
    let new_owner = requested.iter().find(|r| r.level == OWNER_LEVEL).map(|r| r.name.clone());
    let mut new: Vec<AclEntry> = Vec::new();
    for e in current {
        match &new_owner {
            Some(o) if e.level == OWNER_LEVEL && &e.principal != o => {
                new.push(AclEntry { principal: e.principal.clone(), level: "CAN_MANAGE".to_string() })
            }
            _ => new.push(e.clone()),
        }
    }
    new.extend(requested.iter().map(Requested::entry));
    dedup(new)
}

// --- handlers -------------------------------------------------------------------------------

/// `GET /api/2.0/permissions/{object_type}/{object_id}`
pub async fn get_permissions(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let object = object(&req)?;
    let body = state
        .store
        .read(move |conn| {
            require_object(conn, &caller, &object)?;
            let acl = workspace_acls::entries(conn, caller.workspace_id, &object)?;
            authz::require(&caller, &Action::ReadObjectAcl { acl: acl.clone() }, &[]).map_err(denied)?;
            render(conn, &object, &acl)
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Shared by PUT and PATCH: validate, authorize, check principals, write, render; all in one
/// transaction, so a rejected request changes nothing.
async fn change(
    req: HttpRequest,
    caller: Arc<Caller>,
    state: web::Data<AppState>,
    body: PermissionsRequest,
    replace: bool,
) -> ApiResult<HttpResponse> {
    let object = object(&req)?;
    let requested = validate(&object, body)?;
    let body = state
        .store
        .write(move |conn| {
            require_object(conn, &caller, &object)?;
            let current = workspace_acls::entries(conn, caller.workspace_id, &object)?;
            let ok = authz::require(&caller, &Action::ChangeObjectAcl { acl: current.clone() }, &[]).map_err(denied)?;
            check_principals(conn, &requested)?;
            let new = if replace { replaced(&current, &requested) } else { extended(&current, &requested) };
            workspace_acls::replace(conn, &ok, caller.workspace_id, &object, &new)?;
            render(conn, &object, &new)
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// `PUT /api/2.0/permissions/{object_type}/{object_id}`: replaces the list.
pub async fn set_permissions(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<PermissionsRequest>,
) -> ApiResult<HttpResponse> {
    change(req, caller, state, body, true).await
}

/// `PATCH /api/2.0/permissions/{object_type}/{object_id}`: adds to the list.
pub async fn update_permissions(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
    Body(body): Body<PermissionsRequest>,
) -> ApiResult<HttpResponse> {
    change(req, caller, state, body, false).await
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PermissionsDescription {
    permission_level: &'static str,
    description: &'static str,
}

/// `GET /api/2.0/permissions/{object_type}/{object_id}/permissionLevels`: any caller of the
/// workspace.
pub async fn get_permission_levels(
    req: HttpRequest,
    Auth(caller): Auth,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let object = object(&req)?;
    let levels: Vec<PermissionsDescription> = object
        .levels()
        .iter()
        .map(|(permission_level, description)| PermissionsDescription { permission_level, description })
        .collect();
    state.store.read(move |conn| require_object(conn, &caller, &object)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "permission_levels": levels })))
}
