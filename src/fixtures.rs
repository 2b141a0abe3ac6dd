//! Fixture files: identities and UC objects applied at start-up, create-if-missing, in one
//! transaction, through the same validation as the API (README, "Fixtures").

use std::collections::HashSet;
use std::path::Path;

use rusqlite::Connection;
use serde::Deserialize;
use serde_json::Value as Json;

use crate::authz::{Allowed, PrincipalKind, ACCOUNT_USERS};
use crate::domain::names::{Ident, SchemaName, TableName};
use crate::domain::now_ms;
use crate::domain::privilege;
use crate::domain::securable::{SecTypeSpelling, SecurableKind};
use crate::error::ApiError;
use crate::files::LocalStorage;
use crate::ops::catalogs::{CatalogSpec, CreateCatalog};
use crate::ops::external_locations::{CreateExternalLocation, LocationSpec};
use crate::ops::functions::{insert_function, parse_create, FunctionSpec};
use crate::ops::metastores::{CreateMetastore, MetastoreSpec};
use crate::ops::providers::{CreateProvider, ProviderSpec};
use crate::ops::recipients::{insert_recipient, CreateRecipient, RecipientSpec};
use crate::ops::schemas::{CreateSchema, SchemaSpec};
use crate::ops::shares::{add_fixture_objects, CreateShare, DataObjectIn, ShareSpec};
use crate::ops::storage_credentials::{CreateStorageCredential, CredentialSpec};
use crate::ops::tables::{insert_table, CreateTable, TableSpec};
use crate::ops::volumes::{insert_volume, CreateVolume, VolumeSpec};
use crate::store::metastores::{self, AssignmentRow};
use crate::store::partner_connect as pc_store;
use crate::store::principals::{self, NewPrincipal};
use crate::store::{
    catalogs, credentials, external_locations, functions, grants, providers, recipients, schemas, shares, tables,
    tokens, volumes, Store,
};

/// The built-in fixture, applied to a new database when no fixture is given.
pub const DEFAULT_FIXTURE: &str = include_str!("../fixtures/default.json");
pub const DEFAULT_FIXTURE_NAME: &str = "fixtures/default.json (built in)";

/// A fixture problem, already phrased as `file: key[i] ("name"): problem`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FixtureError(pub String);

impl From<rusqlite::Error> for FixtureError {
    fn from(e: rusqlite::Error) -> Self {
        FixtureError(format!("database error while applying fixtures: {e}"))
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// The account's id (a UUID); fixed when the database is created.
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    workspaces: Vec<WorkspaceEntry>,
    #[serde(default)]
    users: Vec<UserEntry>,
    #[serde(default)]
    service_principals: Vec<ServicePrincipalEntry>,
    #[serde(default)]
    groups: Vec<GroupEntry>,
    #[serde(default)]
    tokens: Vec<TokenEntry>,
    /// Log this file's tokens at start-up (teaching fixtures, whose tokens are public anyway);
    /// other fixtures' tokens never reach a log.
    #[serde(default)]
    announce_tokens: bool,
    #[serde(default)]
    metastores: Vec<MetastoreEntry>,
    #[serde(default)]
    catalogs: Vec<Json>,
    #[serde(default)]
    schemas: Vec<Json>,
    #[serde(default)]
    tables: Vec<Json>,
    #[serde(default)]
    volumes: Vec<Json>,
    #[serde(default)]
    functions: Vec<Json>,
    #[serde(default)]
    grants: Vec<GrantEntry>,
    // UC objects kept as JSON: each entry is the create endpoint's own body plus `metastore` and
    // `owner`, validated by that endpoint's TryFrom when applied.
    #[serde(default)]
    storage_credentials: Vec<Json>,
    #[serde(default)]
    external_locations: Vec<Json>,
    #[serde(default)]
    shares: Vec<Json>,
    #[serde(default)]
    recipients: Vec<Json>,
    #[serde(default)]
    providers: Vec<Json>,
    /// `{"partners": [registration, ...]}`.
    #[serde(default)]
    partner_connect: Option<Json>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkspaceEntry {
    workspace_id: i64,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    user_name: String,
    display_name: Option<String>,
    #[serde(default)]
    account_admin: bool,
    /// The workspaces it is assigned to (default: every workspace of the start-up's fixtures).
    workspaces: Option<Vec<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServicePrincipalEntry {
    application_id: String,
    display_name: Option<String>,
    #[serde(default)]
    account_admin: bool,
    /// OAuth secrets (values) the service principal signs in with (`oauth-m2m`); valid 730 days
    /// from when they are first applied.
    #[serde(default)]
    oauth_secrets: Vec<String>,
    /// The workspaces it is assigned to (default: every workspace of the start-up's fixtures).
    workspaces: Option<Vec<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupEntry {
    display_name: String,
    #[serde(default)]
    members: Vec<String>,
    /// The workspaces it is assigned to (default: every workspace of the start-up's fixtures).
    workspaces: Option<Vec<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    token: String,
    principal: String,
    workspace_id: i64,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct MetastoreEntry {
    name: Option<String>,
    storage_root: Option<String>,
    owner: Option<String>,
    metastore_id: Option<String>,
    cloud: Option<String>,
    region: Option<String>,
    delta_sharing_scope: Option<String>,
    delta_sharing_recipient_token_lifetime_in_seconds: Option<i64>,
    delta_sharing_organization_name: Option<String>,
    /// Whether engines outside Databricks may be vended credentials (default false).
    external_access_enabled: Option<bool>,
    #[serde(default)]
    assignments: Vec<AssignmentEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignmentEntry {
    workspace_id: i64,
    default_catalog_name: Option<String>,
}

#[derive(Deserialize)]
struct GrantEntry {
    metastore: Option<String>,
    securable_type: String,
    full_name: String,
    principal: String,
    privileges: Vec<String>,
}

/// A provider entry's offered shares (listProviderShares answers them).
#[derive(Deserialize)]
struct ProviderShares {
    #[serde(default)]
    shares: Vec<String>,
}

/// A share entry's objects.
#[derive(Deserialize)]
struct ShareObjects {
    #[serde(default)]
    objects: Vec<DataObjectIn>,
}

/// What every UC object entry may add to its create body.
#[derive(Deserialize)]
struct ObjectMeta {
    metastore: Option<String>,
    owner: Option<String>,
}

/// A fixture read from a file (or the built-in text), with the name used in messages.
pub struct Loaded {
    pub name: String,
    pub fixture: Fixture,
}

impl Loaded {
    /// The file's tokens as (token, principal), for the start-up hint; empty unless the file
    /// sets `announce_tokens`.
    pub fn announced_tokens(&self) -> Vec<(&str, &str)> {
        if !self.fixture.announce_tokens {
            return Vec::new();
        }
        self.fixture.tokens.iter().map(|t| (t.token.as_str(), t.principal.as_str())).collect()
    }
}

/// Reads and parses a fixture file; the message names the file.
pub fn load(path: &Path) -> Result<Loaded, FixtureError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| FixtureError(format!("{name}: cannot be read: {e}")))?;
    parse(&name, &text)
}

pub fn parse(name: &str, text: &str) -> Result<Loaded, FixtureError> {
    let value: Json =
        serde_json::from_str(text).map_err(|e| FixtureError(format!("{name}: is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(FixtureError(format!("{name}: must be a JSON object")));
    }
    let fixture: Fixture = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        FixtureError(format!("{name}: {path}: {}", e.into_inner()))
    })?;
    if let Some(pc) = &fixture.partner_connect {
        let ok_shape = pc
            .as_object()
            .is_some_and(|o| o.keys().all(|k| k == "partners") && o.get("partners").is_none_or(Json::is_array));
        if !ok_shape {
            return Err(FixtureError(format!(
                "{name}: partner_connect: must be {{\"partners\": [registration, ...]}}"
            )));
        }
    }
    Ok(Loaded { name: name.to_string(), fixture })
}

/// `file://` URLs in fixture entries must lie under a `--file-root`, as through the API (and
/// admins' fixtures are no exception); the recipient-token lifetime must fit `int32`. Checked
/// before anything is applied.
pub fn check_file_urls(files: &[Loaded], roots: &crate::files::FileRoots) -> Result<(), FixtureError> {
    let check = |name: &str, key: &str, i: usize, entry_label: &str, field: &str, raw: Option<&str>| match raw {
        Some(raw) => roots.check_raw(field, raw).map_err(|e| entry_err(name, key, i, entry_label, api_problem(e))),
        None => Ok(()),
    };
    for f in files {
        let fx = &f.fixture;
        for (i, m) in fx.metastores.iter().enumerate() {
            let label = m.name.clone().or_else(|| m.metastore_id.clone()).unwrap_or_default();
            check(&f.name, "metastores", i, &label, "storage_root", m.storage_root.as_deref())?;
            if let Some(s) = m.delta_sharing_recipient_token_lifetime_in_seconds {
                if !(0..=i64::from(i32::MAX)).contains(&s) {
                    return Err(entry_err(
                        &f.name,
                        "metastores",
                        i,
                        &label,
                        "delta_sharing_recipient_token_lifetime_in_seconds: must be between 0 and 2147483647",
                    ));
                }
            }
        }
        for (key, entries, field) in [
            ("catalogs", &fx.catalogs, "storage_root"),
            ("schemas", &fx.schemas, "storage_root"),
            ("tables", &fx.tables, "storage_location"),
            ("external_locations", &fx.external_locations, "url"),
            ("shares", &fx.shares, "storage_root"),
            ("volumes", &fx.volumes, "storage_location"),
        ] {
            for (i, v) in entries.iter().enumerate() {
                let label = label_of(v, &["name"]);
                check(&f.name, key, i, &label, field, v.get(field).and_then(Json::as_str))?;
            }
        }
    }
    Ok(())
}

/// Applies every fixture in one transaction; nothing is applied when any entry is refused.
pub fn apply(store: &Store, files: &[Loaded]) -> Result<(), FixtureError> {
    apply_mapped(store, files, &LocalStorage::default())
}

/// [`apply`], with the `--storage-map` and `--file-root` that fixture volumes' local directories
/// are created under.
pub fn apply_mapped(store: &Store, files: &[Loaded], map: &LocalStorage) -> Result<(), FixtureError> {
    check_duplicates(files)?;
    let is_new = store.is_new;
    store.write_now(|tx| {
        crate::authz::with_fixture_proof(|ok| {
            account_of(tx, ok, files, is_new)?;
            apply_in(tx, ok, files, map)
        })
    })
}

/// The account id: the fixtures may name it when the database is created; afterwards they may
/// only repeat it.
fn account_of(tx: &Connection, ok: &Allowed, files: &[Loaded], is_new: bool) -> Result<(), FixtureError> {
    let mut named: Option<(&str, &str)> = None;
    for f in files {
        let Some(id) = f.fixture.account_id.as_deref() else { continue };
        let canonical = uuid::Uuid::parse_str(id).ok().map(|u| u.hyphenated().to_string());
        if canonical.as_deref().map(str::to_ascii_lowercase) != Some(id.to_ascii_lowercase()) || id.len() != 36 {
            return Err(FixtureError(format!("{}: account_id ({id:?}): must be a UUID (8-4-4-4-12)", f.name)));
        }
        match named {
            Some((other, file)) if !other.eq_ignore_ascii_case(id) => {
                return Err(FixtureError(format!(
                    "{}: account_id ({id:?}): {file} names another account id ({other:?})",
                    f.name
                )))
            }
            _ => named = Some((id, &f.name)),
        }
    }
    let stored = crate::store::account::stored_account_id(tx).map_err(|e| FixtureError(api_problem(e)))?;
    let current = match stored {
        Some(s) => s,
        None => {
            let id = match named {
                Some((id, _)) if is_new => id.to_ascii_lowercase(),
                _ => crate::domain::ACCOUNT_ID.to_string(),
            };
            crate::store::account::set_account_id(tx, ok, &id).map_err(|e| FixtureError(api_problem(e)))?;
            id
        }
    };
    if let Some((id, file)) = named {
        if !id.eq_ignore_ascii_case(&current) {
            return Err(FixtureError(format!(
                "{file}: account_id ({id:?}): the database belongs to account {current:?}"
            )));
        }
    }
    Ok(())
}

fn apply_in(tx: &Connection, ok: &Allowed, files: &[Loaded], map: &LocalStorage) -> Result<(), FixtureError> {
    {
        for f in files {
            identities(tx, ok, f)?;
        }
        for f in files {
            members(tx, ok, f)?;
        }
        assignments_of(tx, ok, files)?;
        for f in files {
            secrets_of(tx, ok, f)?;
        }
        for f in files {
            tokens_of(tx, ok, f)?;
        }
        for f in files {
            metastores_of(tx, ok, f)?;
        }
        for f in files {
            storage_of(tx, ok, f)?;
        }
        for f in files {
            partners_of(tx, ok, f)?;
        }
        for f in files {
            sharing_parties(tx, ok, f)?;
        }
        for f in files {
            objects(tx, ok, f, map)?;
        }
        for f in files {
            volumes_and_functions(tx, ok, f, map)?;
        }
        for f in files {
            shares_of(tx, ok, f, map)?;
        }
        for f in files {
            grants_of(tx, ok, f)?;
        }
        Ok(())
    }
}

fn entry_err(file: &str, key: &str, i: usize, label: &str, problem: impl std::fmt::Display) -> FixtureError {
    FixtureError(format!("{file}: {key}[{i}] ({label:?}): {problem}"))
}

fn api_problem(e: ApiError) -> String {
    e.message
}

/// A key that appears twice among the fixtures of one start-up is refused.
fn check_duplicates(files: &[Loaded]) -> Result<(), FixtureError> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut once = |file: &str, key: &str, i: usize, id: String, label: &str| -> Result<(), FixtureError> {
        if seen.insert(format!("{key}\u{0}{id}")) {
            Ok(())
        } else {
            Err(entry_err(file, key, i, label, "appears more than once among the fixtures"))
        }
    };
    for f in files {
        let fx = &f.fixture;
        for (i, w) in fx.workspaces.iter().enumerate() {
            once(&f.name, "workspaces", i, w.workspace_id.to_string(), &w.workspace_id.to_string())?;
        }
        // Names are one name space across users, service principals and groups.
        for (i, u) in fx.users.iter().enumerate() {
            once(&f.name, "users", i, format!("principal:{}", u.user_name), &u.user_name)?;
        }
        for (i, s) in fx.service_principals.iter().enumerate() {
            once(&f.name, "service_principals", i, format!("principal:{}", s.application_id), &s.application_id)?;
        }
        for (i, g) in fx.groups.iter().enumerate() {
            once(&f.name, "groups", i, format!("principal:{}", g.display_name), &g.display_name)?;
        }
        for (i, t) in fx.tokens.iter().enumerate() {
            once(&f.name, "tokens", i, t.token.clone(), &t.token)?;
        }
        let partners = fx.partner_connect.as_ref().and_then(|p| p.get("partners")).and_then(Json::as_array);
        for (i, p) in partners.into_iter().flatten().enumerate() {
            let pname = p["config"]["name"].as_str().unwrap_or("");
            let key = crate::partner_connect::config::partner_key(pname);
            if !key.is_empty() {
                once(&f.name, "partner_connect.partners", i, key, pname)?;
            }
        }
        for (i, m) in fx.metastores.iter().enumerate() {
            let key = m
                .metastore_id
                .clone()
                .or_else(|| m.name.as_deref().map(crate::domain::names::fold_case))
                .unwrap_or_default();
            once(&f.name, "metastores", i, key.clone(), &key)?;
        }
    }
    Ok(())
}

fn identities(tx: &Connection, ok: &Allowed, f: &Loaded) -> Result<(), FixtureError> {
    let file = &f.name;
    let fx = &f.fixture;
    let wrap = |key: &'static str, i: usize, label: &str| {
        let label = label.to_string();
        move |e: ApiError| entry_err(file, key, i, &label, api_problem(e))
    };
    for (i, w) in fx.workspaces.iter().enumerate() {
        let label = w.workspace_id.to_string();
        if w.workspace_id <= 0 {
            return Err(entry_err(file, "workspaces", i, &label, "workspace_id must be a positive integer"));
        }
        if !principals::workspace_exists(tx, w.workspace_id).map_err(wrap("workspaces", i, &label))? {
            principals::insert_workspace(tx, ok, w.workspace_id, w.name.as_deref()).map_err(wrap(
                "workspaces",
                i,
                &label,
            ))?;
        }
    }
    let declare = |key: &'static str, i: usize, kind: PrincipalKind, name: &str, display: Option<&str>, admin: bool| {
        if name.is_empty() {
            return Err(entry_err(file, key, i, name, "the name must not be empty"));
        }
        if name == ACCOUNT_USERS {
            return Err(entry_err(file, key, i, name, "'account users' is implicit and cannot be declared"));
        }
        if kind == PrincipalKind::ServicePrincipal && uuid::Uuid::parse_str(name).is_err() {
            return Err(entry_err(file, key, i, name, "application_id must be a UUID"));
        }
        match principals::by_name(tx, name).map_err(wrap(key, i, name))? {
            Some(existing) if existing.kind != kind => Err(entry_err(
                file,
                key,
                i,
                name,
                format!("the name is already held by a {}", existing.kind.noun().to_lowercase()),
            )),
            Some(_) => Ok(()),
            None => {
                let new = NewPrincipal {
                    kind,
                    name,
                    display_name: display.unwrap_or(name),
                    account_admin: admin,
                    external_id: None,
                    extra: "{}",
                };
                principals::insert(tx, ok, &new).map(|_| ()).map_err(wrap(key, i, name))
            }
        }
    };
    for (i, u) in fx.users.iter().enumerate() {
        declare("users", i, PrincipalKind::User, &u.user_name, u.display_name.as_deref(), u.account_admin)?;
    }
    for (i, s) in fx.service_principals.iter().enumerate() {
        declare(
            "service_principals",
            i,
            PrincipalKind::ServicePrincipal,
            &s.application_id,
            s.display_name.as_deref(),
            s.account_admin,
        )?;
    }
    for (i, g) in fx.groups.iter().enumerate() {
        declare("groups", i, PrincipalKind::Group, &g.display_name, Some(&g.display_name), false)?;
    }
    Ok(())
}

/// Second pass: every file's principals exist by now, so members may be declared anywhere.
fn members(tx: &Connection, ok: &Allowed, f: &Loaded) -> Result<(), FixtureError> {
    for (i, g) in f.fixture.groups.iter().enumerate() {
        let err = |p: String| entry_err(&f.name, "groups", i, &g.display_name, p);
        let group = principals::by_name(tx, &g.display_name)
            .map_err(|e| err(api_problem(e)))?
            .ok_or_else(|| err("the group is missing".into()))?;
        for m in &g.members {
            let member = principals::by_name(tx, m)
                .map_err(|e| err(api_problem(e)))?
                .ok_or_else(|| err(format!("unknown principal {m:?}")))?;
            principals::add_member(tx, ok, group.id, member.id)
                .map_err(|_| err(format!("member {m:?} would make the group contain itself")))?;
        }
    }
    Ok(())
}

/// Every declared principal is assigned to every workspace the start-up's fixtures declare
/// (`ADMIN` for `admins` and account admins), or to the ones its `workspaces` names;
/// create-if-missing, so an assignment changed through the API stays as it is.
fn assignments_of(tx: &Connection, ok: &Allowed, files: &[Loaded]) -> Result<(), FixtureError> {
    use crate::store::account::{assign_if_missing, WorkspacePermission};
    let declared: Vec<i64> = files.iter().flat_map(|f| f.fixture.workspaces.iter().map(|w| w.workspace_id)).collect();
    for f in files {
        let fx = &f.fixture;
        let entries = fx
            .users
            .iter()
            .map(|u| ("users", &u.user_name, u.account_admin, &u.workspaces))
            .chain(
                fx.service_principals
                    .iter()
                    .map(|s| ("service_principals", &s.application_id, s.account_admin, &s.workspaces)),
            )
            .chain(fx.groups.iter().map(|g| ("groups", &g.display_name, g.display_name == "admins", &g.workspaces)));
        let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (key, name, admin, workspaces) in entries {
            let i = {
                let n = index.entry(key).or_insert(0);
                *n += 1;
                *n - 1
            };
            let err = |p: String| entry_err(&f.name, key, i, name, p);
            let targets: Vec<i64> = match workspaces {
                None => declared.clone(),
                Some(list) => {
                    for w in list {
                        if !declared.contains(w) {
                            return Err(err(format!("workspaces: workspace {w} is not declared by the fixtures")));
                        }
                    }
                    list.clone()
                }
            };
            let p = principals::by_name(tx, name)
                .map_err(|e| err(api_problem(e)))?
                .ok_or_else(|| err("the principal is missing".into()))?;
            let permission = if admin { WorkspacePermission::Admin } else { WorkspacePermission::User };
            for w in targets {
                assign_if_missing(tx, ok, w, p.id, permission).map_err(|e| err(api_problem(e)))?;
            }
        }
    }
    Ok(())
}

/// Service principals' OAuth secrets, create-if-missing by value (stored hashed).
fn secrets_of(tx: &Connection, ok: &Allowed, f: &Loaded) -> Result<(), FixtureError> {
    for (i, s) in f.fixture.service_principals.iter().enumerate() {
        let err = |p: String| entry_err(&f.name, "service_principals", i, &s.application_id, p);
        for value in &s.oauth_secrets {
            if value.len() < 8 {
                return Err(err("oauth_secrets: a secret must have at least 8 characters".into()));
            }
            let hash = tokens::hash(value);
            if crate::store::oauth::secret_by_hash(tx, &hash).map_err(|e| err(api_problem(e)))?.is_some() {
                continue;
            }
            let p = principals::by_name(tx, &s.application_id)
                .map_err(|e| err(api_problem(e)))?
                .ok_or_else(|| err("the service principal is missing".into()))?;
            let now = now_ms() / 1000;
            let row = crate::store::oauth::SecretRow {
                id: crate::ops::oauth::random_hex(16),
                principal_id: p.id,
                secret_hash: hash,
                create_time: now,
                expire_time: now + crate::ops::oauth::MAX_SECRET_LIFETIME_SECS,
                scopes: None,
            };
            crate::store::oauth::insert_secret(tx, ok, &row).map_err(|e| err(api_problem(e)))?;
        }
    }
    Ok(())
}

fn tokens_of(tx: &Connection, ok: &Allowed, f: &Loaded) -> Result<(), FixtureError> {
    for (i, t) in f.fixture.tokens.iter().enumerate() {
        let err = |p: String| entry_err(&f.name, "tokens", i, &t.token, p);
        if t.token.is_empty() {
            return Err(err("the token must not be empty".into()));
        }
        let p = principals::by_name(tx, &t.principal)
            .map_err(|e| err(api_problem(e)))?
            .ok_or_else(|| err(format!("unknown principal {:?}", t.principal)))?;
        if p.kind == PrincipalKind::Group {
            return Err(err(format!("{:?} is a group; groups cannot hold tokens", t.principal)));
        }
        if !principals::workspace_exists(tx, t.workspace_id).map_err(|e| err(api_problem(e)))? {
            return Err(err(format!("unknown workspace {}", t.workspace_id)));
        }
        if tokens::exists(tx, &t.token).map_err(|e| err(api_problem(e)))? {
            continue;
        }
        let new = tokens::NewToken {
            value: &t.token,
            principal_id: p.id,
            workspace_id: t.workspace_id,
            comment: t.comment.as_deref(),
            creation_time: now_ms(),
            expiry_time: -1,
            from_api: false,
            created_by_id: None,
        };
        tokens::insert(tx, ok, &new).map_err(|e| err(api_problem(e)))?;
    }
    Ok(())
}

fn metastores_of(tx: &Connection, ok: &Allowed, f: &Loaded) -> Result<(), FixtureError> {
    for (i, m) in f.fixture.metastores.iter().enumerate() {
        let label = m.name.clone().or_else(|| m.metastore_id.clone()).unwrap_or_default();
        let err = |p: String| entry_err(&f.name, "metastores", i, &label, p);
        let owner = m.owner.clone().ok_or_else(|| err("owner is required".into()))?;
        if !principals::exists(tx, &owner).map_err(|e| err(api_problem(e)))? {
            return Err(err(format!("unknown principal {owner:?}")));
        }
        let spec = MetastoreSpec::try_from(CreateMetastore::from_fixture(
            m.name.clone(),
            m.storage_root.clone(),
            m.region.clone(),
        ))
        .map_err(|e| err(api_problem(e)))?;
        if let Some(id) = &m.metastore_id {
            uuid::Uuid::parse_str(id).map_err(|_| err(format!("metastore_id {id:?} is not a UUID")))?;
        }
        let existing = match &m.metastore_id {
            Some(id) => metastores::get(tx, id),
            None => metastores::by_name(tx, spec.name.as_str()),
        }
        .map_err(|e| err(api_problem(e)))?;
        let row = match existing {
            Some(row) => row,
            None => {
                let id = m.metastore_id.clone().unwrap_or_else(crate::domain::new_id);
                let mut new = spec.into_new(id, owner, m.cloud.clone(), now_ms());
                new.delta_sharing_scope = m.delta_sharing_scope.clone();
                new.delta_sharing_recipient_token_lifetime_in_seconds =
                    m.delta_sharing_recipient_token_lifetime_in_seconds;
                new.delta_sharing_organization_name = m.delta_sharing_organization_name.clone();
                new.external_access_enabled = m.external_access_enabled.unwrap_or(false);
                metastores::insert(tx, ok, &new).map_err(|e| err(api_problem(e)))?
            }
        };
        for a in &m.assignments {
            if !principals::workspace_exists(tx, a.workspace_id).map_err(|e| err(api_problem(e)))? {
                return Err(err(format!("assignments: unknown workspace {}", a.workspace_id)));
            }
            let default_catalog_name = a
                .default_catalog_name
                .as_deref()
                .map(|n| Ident::parse("default_catalog_name", n).map(Ident::into_string))
                .transpose()
                .map_err(|e| err(e.to_string()))?;
            if metastores::assignment(tx, a.workspace_id).map_err(|e| err(api_problem(e)))?.is_none() {
                let row =
                    AssignmentRow { workspace_id: a.workspace_id, metastore_id: row.id.clone(), default_catalog_name };
                metastores::assign(tx, ok, &row).map_err(|e| err(api_problem(e)))?;
            }
        }
    }
    Ok(())
}

/// The metastore an entry belongs to: named, or the only one there is.
fn metastore_for(tx: &Connection, named: Option<&str>) -> Result<metastores::MetastoreRow, String> {
    match named {
        Some(n) => metastores::by_name(tx, &crate::domain::names::fold_case(n))
            .map_err(api_problem)?
            .ok_or_else(|| format!("unknown metastore {n:?}")),
        None => {
            let mut all = metastores::all(tx).map_err(api_problem)?;
            match all.len() {
                1 => Ok(all.remove(0)),
                0 => Err("no metastore exists; declare one under \"metastores\"".into()),
                _ => Err("several metastores exist; name one with \"metastore\"".into()),
            }
        }
    }
}

fn owner_for(tx: &Connection, owner: Option<String>, ms: &metastores::MetastoreRow) -> Result<String, String> {
    match owner {
        None => Ok(ms.owner.clone()),
        Some(o) => match principals::exists(tx, &o).map_err(api_problem)? {
            true => Ok(o),
            false => Err(format!("unknown principal {o:?}")),
        },
    }
}

fn label_of(v: &Json, keys: &[&str]) -> String {
    keys.iter().filter_map(|k| v.get(*k).and_then(Json::as_str)).collect::<Vec<_>>().join(".")
}

fn body<T: serde::de::DeserializeOwned>(v: &Json) -> Result<T, String> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        format!("{path}: {}", e.into_inner())
    })
}

fn objects(tx: &Connection, ok: &Allowed, f: &Loaded, map: &LocalStorage) -> Result<(), FixtureError> {
    let now = now_ms();
    for (i, v) in f.fixture.catalogs.iter().enumerate() {
        let label = label_of(v, &["name"]);
        let err = |p: String| entry_err(&f.name, "catalogs", i, &label, p);
        let meta: ObjectMeta = body(v).map_err(err)?;
        let spec = CatalogSpec::try_from(body::<CreateCatalog>(v).map_err(err)?).map_err(|e| err(api_problem(e)))?;
        let ms = metastore_for(tx, meta.metastore.as_deref()).map_err(err)?;
        if catalogs::get(tx, &ms.id, &spec.name).map_err(|e| err(api_problem(e)))?.is_some() {
            continue;
        }
        let owner = owner_for(tx, meta.owner, &ms).map_err(err)?;
        let new = spec.into_new(tx, &ms.id, owner, now).map_err(|e| err(api_problem(e)))?;
        catalogs::insert(tx, ok, &ms.id, &new).map_err(|e| err(api_problem(e)))?;
    }
    for (i, v) in f.fixture.schemas.iter().enumerate() {
        let label = label_of(v, &["catalog_name", "name"]);
        let err = |p: String| entry_err(&f.name, "schemas", i, &label, p);
        let meta: ObjectMeta = body(v).map_err(err)?;
        let spec = SchemaSpec::try_from(body::<CreateSchema>(v).map_err(err)?).map_err(|e| err(api_problem(e)))?;
        let ms = metastore_for(tx, meta.metastore.as_deref()).map_err(err)?;
        let catalog = catalogs::get(tx, &ms.id, &spec.full_name.catalog)
            .map_err(|e| err(api_problem(e)))?
            .ok_or_else(|| err(format!("unknown catalog {:?}", spec.full_name.catalog.as_str())))?;
        if schemas::get(tx, &ms.id, &spec.full_name).map_err(|e| err(api_problem(e)))?.is_some() {
            continue;
        }
        let owner = owner_for(tx, meta.owner, &ms).map_err(err)?;
        let catalog_name = spec.full_name.catalog.clone();
        schemas::insert(tx, ok, &catalog.id, &catalog_name, &spec.into_new(owner, now))
            .map_err(|e| err(api_problem(e)))?;
    }
    for (i, v) in f.fixture.tables.iter().enumerate() {
        let label = label_of(v, &["catalog_name", "schema_name", "name"]);
        let err = |p: String| entry_err(&f.name, "tables", i, &label, p);
        let meta: ObjectMeta = body(v).map_err(err)?;
        let spec = TableSpec::try_from(body::<CreateTable>(v).map_err(err)?).map_err(|e| err(api_problem(e)))?;
        let ms = metastore_for(tx, meta.metastore.as_deref()).map_err(err)?;
        let schema_name = spec.full_name.schema_name();
        let schema = schemas::get(tx, &ms.id, &schema_name)
            .map_err(|e| err(api_problem(e)))?
            .ok_or_else(|| err(format!("unknown schema {:?}", schema_name.to_string())))?;
        if tables::get(tx, &ms.id, &spec.full_name).map_err(|e| err(api_problem(e)))?.is_some() {
            continue;
        }
        let owner = owner_for(tx, meta.owner, &ms).map_err(err)?;
        insert_table(tx, ok, &schema, spec, owner, now, map).map_err(|e| err(api_problem(e)))?;
    }
    Ok(())
}

/// Volumes (their local directories created) and functions, after the schemas and external
/// locations they need; through the create endpoints' validation.
fn volumes_and_functions(tx: &Connection, ok: &Allowed, f: &Loaded, map: &LocalStorage) -> Result<(), FixtureError> {
    let now = now_ms();
    for (i, v) in f.fixture.volumes.iter().enumerate() {
        let label = label_of(v, &["catalog_name", "schema_name", "name"]);
        let err = |p: String| entry_err(&f.name, "volumes", i, &label, p);
        let meta: ObjectMeta = body(v).map_err(err)?;
        let spec = VolumeSpec::try_from(body::<CreateVolume>(v).map_err(err)?).map_err(|e| err(api_problem(e)))?;
        let ms = metastore_for(tx, meta.metastore.as_deref()).map_err(err)?;
        let schema_name = spec.full_name.schema_name();
        let schema = schemas::get(tx, &ms.id, &schema_name)
            .map_err(|e| err(api_problem(e)))?
            .ok_or_else(|| err(format!("unknown schema {:?}", schema_name.to_string())))?;
        if volumes::get(tx, &ms.id, &spec.full_name).map_err(|e| err(api_problem(e)))?.is_some() {
            continue;
        }
        if let Some(url) = &spec.storage_location {
            if external_locations::covering(tx, &ms.id, url).map_err(|e| err(api_problem(e)))?.is_none() {
                return Err(err(format!("no external location covers {url}")));
            }
        }
        let owner = owner_for(tx, meta.owner, &ms).map_err(err)?;
        insert_volume(tx, ok, &schema, &spec, &owner, now, map).map_err(|e| err(api_problem(e)))?;
    }
    for (i, v) in f.fixture.functions.iter().enumerate() {
        let label = label_of(v, &["catalog_name", "schema_name", "name"]);
        let err = |p: String| entry_err(&f.name, "functions", i, &label, p);
        let meta: ObjectMeta = body(v).map_err(err)?;
        let mut bare = v.clone();
        if let Some(o) = bare.as_object_mut() {
            o.remove("metastore");
            o.remove("owner");
        }
        let spec = parse_create(bare).and_then(FunctionSpec::try_from).map_err(|e| err(api_problem(e)))?;
        let ms = metastore_for(tx, meta.metastore.as_deref()).map_err(err)?;
        let schema_name = spec.full_name.schema_name();
        let schema = schemas::get(tx, &ms.id, &schema_name)
            .map_err(|e| err(api_problem(e)))?
            .ok_or_else(|| err(format!("unknown schema {:?}", schema_name.to_string())))?;
        if functions::get(tx, &ms.id, &spec.full_name).map_err(|e| err(api_problem(e)))?.is_some() {
            continue;
        }
        let owner = owner_for(tx, meta.owner, &ms).map_err(err)?;
        insert_function(tx, ok, &schema, &spec, &owner, now).map_err(|e| err(api_problem(e)))?;
    }
    Ok(())
}

fn grants_of(tx: &Connection, ok: &Allowed, f: &Loaded) -> Result<(), FixtureError> {
    for (i, g) in f.fixture.grants.iter().enumerate() {
        let label = format!("{} {} {}", g.securable_type, g.full_name, g.principal);
        let err = |p: String| entry_err(&f.name, "grants", i, &label, p);
        let ms = metastore_for(tx, g.metastore.as_deref()).map_err(err)?;
        let (id, kind) = securable(tx, &ms, &g.securable_type, &g.full_name).map_err(err)?;
        if kind == SecurableKind::Share {
            // Share grantees are recipients of the same metastore.
            if !recipients::exists(tx, &ms.id, &g.principal).map_err(|e| err(api_problem(e)))? {
                return Err(err(format!("unknown recipient {:?}", g.principal)));
            }
        } else if g.principal != ACCOUNT_USERS
            && !principals::exists(tx, &g.principal).map_err(|e| err(api_problem(e)))?
        {
            return Err(err(format!("unknown principal {:?}", g.principal)));
        }
        for p in &g.privileges {
            let canonical = privilege::normalize(p).ok_or_else(|| err(format!("unknown privilege {p:?}")))?;
            if !privilege::is_valid_on(canonical, kind) {
                return Err(err(format!("privilege {canonical} is not valid on a {}", kind.noun().to_lowercase())));
            }
            grants::add(tx, ok, &id, &g.principal, canonical).map_err(|e| err(api_problem(e)))?;
        }
    }
    Ok(())
}

/// Resolves a securable named in a grant entry to its id and actual kind.
fn securable(
    tx: &Connection,
    ms: &metastores::MetastoreRow,
    sec_type: &str,
    full_name: &str,
) -> Result<(String, SecurableKind), String> {
    let kind = match SecurableKind::parse_spelling(sec_type) {
        Some(SecTypeSpelling::Modelled(k)) => k,
        _ => return Err(format!("securable_type {sec_type:?} is not supported in fixtures")),
    };
    let missing = |what: &str| format!("unknown {what} {full_name:?}");
    match kind {
        SecurableKind::Metastore => Ok((ms.id.clone(), kind)),
        SecurableKind::Catalog => {
            let name = Ident::parse("full_name", full_name).map_err(|e| e.to_string())?;
            let c = catalogs::get(tx, &ms.id, &name).map_err(api_problem)?.ok_or_else(|| missing("catalog"))?;
            Ok((c.id, kind))
        }
        SecurableKind::Schema => {
            let name = SchemaName::parse("full_name", full_name).map_err(|e| e.to_string())?;
            let s = schemas::get(tx, &ms.id, &name).map_err(api_problem)?.ok_or_else(|| missing("schema"))?;
            Ok((s.id, kind))
        }
        SecurableKind::Table | SecurableKind::View => {
            let name = TableName::parse("full_name", full_name).map_err(|e| e.to_string())?;
            let t = tables::get(tx, &ms.id, &name).map_err(api_problem)?.ok_or_else(|| missing("table"))?;
            Ok((t.id.clone(), t.kind()))
        }
        SecurableKind::Volume => {
            let name = TableName::parse("full_name", full_name).map_err(|e| e.to_string())?;
            let v = volumes::get(tx, &ms.id, &name).map_err(api_problem)?.ok_or_else(|| missing("volume"))?;
            Ok((v.id, kind))
        }
        SecurableKind::Function => {
            let name = TableName::parse("full_name", full_name).map_err(|e| e.to_string())?;
            let f = functions::get(tx, &ms.id, &name).map_err(api_problem)?.ok_or_else(|| missing("function"))?;
            Ok((f.id, kind))
        }
        SecurableKind::Share => {
            let name = Ident::parse("full_name", full_name).map_err(|e| e.to_string())?;
            let s = shares::get(tx, &ms.id, &name).map_err(api_problem)?.ok_or_else(|| missing("share"))?;
            Ok((s.id, kind))
        }
        SecurableKind::StorageCredential => {
            let name = Ident::parse("full_name", full_name).map_err(|e| e.to_string())?;
            let c = credentials::get(tx, &ms.id, &name)
                .map_err(api_problem)?
                .ok_or_else(|| missing("storage credential"))?;
            Ok((c.id, kind))
        }
        SecurableKind::ExternalLocation => {
            let name = Ident::parse("full_name", full_name).map_err(|e| e.to_string())?;
            let l = external_locations::get(tx, &ms.id, &name)
                .map_err(api_problem)?
                .ok_or_else(|| missing("external location"))?;
            Ok((l.id, kind))
        }
        _ => Err(format!("securable_type {sec_type:?} is not supported in fixtures yet")),
    }
}

/// Storage credentials, then external locations (which name them), before the tables that may
/// lie under them; through the create endpoints' validation (names, kinds, URL rules).
fn storage_of(tx: &Connection, ok: &Allowed, f: &Loaded) -> Result<(), FixtureError> {
    let now = now_ms();
    for (i, v) in f.fixture.storage_credentials.iter().enumerate() {
        let label = label_of(v, &["name"]);
        let err = |p: String| entry_err(&f.name, "storage_credentials", i, &label, p);
        let meta: ObjectMeta = body(v).map_err(err)?;
        let spec = CredentialSpec::try_from(body::<CreateStorageCredential>(v).map_err(err)?)
            .map_err(|e| err(api_problem(e)))?;
        let ms = metastore_for(tx, meta.metastore.as_deref()).map_err(err)?;
        if credentials::get(tx, &ms.id, &spec.name).map_err(|e| err(api_problem(e)))?.is_some() {
            continue;
        }
        let owner = owner_for(tx, meta.owner, &ms).map_err(err)?;
        credentials::insert(tx, ok, &ms.id, &spec.into_new(owner, now)).map_err(|e| err(api_problem(e)))?;
    }
    for (i, v) in f.fixture.external_locations.iter().enumerate() {
        let label = label_of(v, &["name"]);
        let err = |p: String| entry_err(&f.name, "external_locations", i, &label, p);
        let meta: ObjectMeta = body(v).map_err(err)?;
        let spec =
            LocationSpec::try_from(body::<CreateExternalLocation>(v).map_err(err)?).map_err(|e| err(api_problem(e)))?;
        let ms = metastore_for(tx, meta.metastore.as_deref()).map_err(err)?;
        if external_locations::get(tx, &ms.id, &spec.name).map_err(|e| err(api_problem(e)))?.is_some() {
            continue;
        }
        let owner = owner_for(tx, meta.owner, &ms).map_err(err)?;
        let new = spec.into_new(tx, &ms.id, owner, now).map_err(|e| err(api_problem(e)))?;
        external_locations::insert(tx, ok, &ms.id, &new).map_err(|e| err(api_problem(e)))?;
    }
    Ok(())
}

/// Partner Connect registrations, create-if-missing by `<PARTNER-NAME>`.
fn partners_of(tx: &Connection, ok: &Allowed, f: &Loaded) -> Result<(), FixtureError> {
    let entries = f.fixture.partner_connect.as_ref().and_then(|p| p.get("partners")).and_then(Json::as_array);
    for (i, doc) in entries.into_iter().flatten().enumerate() {
        let label = doc["config"]["name"].as_str().unwrap_or("").to_string();
        let err = |p: String| entry_err(&f.name, "partner_connect.partners", i, &label, p);
        let wire = match doc {
            Json::Object(_) => crate::partner_connect::config::RegistrationWire::deserialize(doc).ok(),
            _ => None,
        };
        let wire = wire.ok_or_else(|| err("body: must be a JSON object".into()))?;
        let row = crate::partner_connect::registration_row(wire, "fixture", now_ms()).map_err(|v| err(v.join("; ")))?;
        if pc_store::partner_by_key(tx, &row.name_key).map_err(|e| err(api_problem(e)))?.is_none() {
            pc_store::insert_partner(tx, ok, &row).map_err(|e| err(api_problem(e)))?;
        }
    }
    Ok(())
}

/// Providers and recipients, before the catalogs that may name a provider.
fn sharing_parties(tx: &Connection, ok: &Allowed, f: &Loaded) -> Result<(), FixtureError> {
    let now = now_ms();
    for (i, v) in f.fixture.providers.iter().enumerate() {
        let label = label_of(v, &["name"]);
        let err = |p: String| entry_err(&f.name, "providers", i, &label, p);
        let meta: ObjectMeta = body(v).map_err(err)?;
        let offered: ProviderShares = body(v).map_err(err)?;
        let spec = ProviderSpec::try_from(body::<CreateProvider>(v).map_err(err)?).map_err(|e| err(api_problem(e)))?;
        let ms = metastore_for(tx, meta.metastore.as_deref()).map_err(err)?;
        if providers::get(tx, &ms.id, &spec.name).map_err(|e| err(api_problem(e)))?.is_some() {
            continue;
        }
        let owner = owner_for(tx, meta.owner, &ms).map_err(err)?;
        let names = offered
            .shares
            .iter()
            .map(|s| Ident::parse("shares", s).map(Ident::into_string).map_err(|e| err(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        providers::insert(tx, ok, &ms.id, &spec.into_new(owner, names, now)).map_err(|e| err(api_problem(e)))?;
    }
    for (i, v) in f.fixture.recipients.iter().enumerate() {
        let label = label_of(v, &["name"]);
        let err = |p: String| entry_err(&f.name, "recipients", i, &label, p);
        let meta: ObjectMeta = body(v).map_err(err)?;
        let spec =
            RecipientSpec::try_from(body::<CreateRecipient>(v).map_err(err)?).map_err(|e| err(api_problem(e)))?;
        let ms = metastore_for(tx, meta.metastore.as_deref()).map_err(err)?;
        if recipients::get(tx, &ms.id, spec.name.as_str()).map_err(|e| err(api_problem(e)))?.is_some() {
            continue;
        }
        let owner = owner_for(tx, meta.owner, &ms).map_err(err)?;
        insert_recipient(tx, ok, &ms, spec, owner, now).map_err(|e| err(api_problem(e)))?;
    }
    Ok(())
}

/// Shares with their `objects`, after the tables they hold. Fixtures are the operator's word:
/// the owner's SELECT on each table is not checked. Each table's current Delta version (its
/// default start version) is read here, at start-up, before the server takes requests.
fn shares_of(tx: &Connection, ok: &Allowed, f: &Loaded, map: &LocalStorage) -> Result<(), FixtureError> {
    let now = now_ms();
    for (i, v) in f.fixture.shares.iter().enumerate() {
        let label = label_of(v, &["name"]);
        let err = |p: String| entry_err(&f.name, "shares", i, &label, p);
        let meta: ObjectMeta = body(v).map_err(err)?;
        let with_objects: ShareObjects = body(v).map_err(err)?;
        let spec = ShareSpec::try_from(body::<CreateShare>(v).map_err(err)?).map_err(|e| err(api_problem(e)))?;
        let ms = metastore_for(tx, meta.metastore.as_deref()).map_err(err)?;
        if shares::get(tx, &ms.id, &spec.name).map_err(|e| err(api_problem(e)))?.is_some() {
            continue;
        }
        let owner = owner_for(tx, meta.owner, &ms).map_err(err)?;
        let share =
            shares::insert(tx, ok, &ms.id, &spec.into_new(owner.clone(), now)).map_err(|e| err(api_problem(e)))?;
        let version_of = |location: &str| crate::delta::sharing::current_version(map, location);
        add_fixture_objects(tx, ok, &share, with_objects.objects, &version_of, &owner, now)
            .map_err(|e| err(api_problem(e)))?;
    }
    Ok(())
}
