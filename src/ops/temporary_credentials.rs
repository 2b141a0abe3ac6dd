//! Temporary table, path and volume credentials (`TemporaryTableCredentialsAPI`,
//! `TemporaryPathCredentialsAPI`, `TemporaryVolumeCredentialsAPI`): the request forms, the
//! checks in their order, and what a credential may reach. Minting is the caller's (the
//! process's credential registry); this module decides whether, and for which URL.

use rusqlite::Connection;

use super::denied;
use crate::authz::{self, Action, Caller, Denied, Node};
use crate::domain::storage_url::StorageUrl;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::files::LocalStorage;
use crate::store::{external_locations, managed, metastores, securables, tables, volumes};

/// A validated temporary-table-credentials request.
#[derive(Debug)]
pub struct TableCredentialsSpec {
    pub table_id: String,
    pub write: bool,
}

/// The `operation`s of temporary table, volume and path credentials.
pub const TABLE_OPERATIONS: &[&str] = &["READ", "READ_WRITE"];
pub const VOLUME_OPERATIONS: &[&str] = &["READ_VOLUME", "WRITE_VOLUME"];
pub const PATH_OPERATIONS: &[&str] = &["PATH_READ", "PATH_READ_WRITE", "PATH_CREATE_TABLE"];

impl TableCredentialsSpec {
    /// `table_id` (a UUID) and `operation` (`READ` | `READ_WRITE`), each from the query string
    /// or the body (the query wins); 400 naming the field otherwise.
    pub fn parse(table_id: Option<String>, operation: Option<String>) -> ApiResult<TableCredentialsSpec> {
        let table_id = uuid_field("table_id", table_id)?;
        let write = match operation.as_deref() {
            Some("READ") => false,
            Some("READ_WRITE") => true,
            Some(other) => return Err(ApiError::invalid("operation", format!("'{other}' is not READ or READ_WRITE"))),
            None => return Err(ApiError::invalid("operation", "is required (READ or READ_WRITE)")),
        };
        Ok(TableCredentialsSpec { table_id, write })
    }
}

/// A validated temporary-volume-credentials request.
#[derive(Debug)]
pub struct VolumeCredentialsSpec {
    pub volume_id: String,
    pub write: bool,
}

impl VolumeCredentialsSpec {
    pub fn parse(volume_id: Option<String>, operation: Option<String>) -> ApiResult<VolumeCredentialsSpec> {
        let volume_id = uuid_field("volume_id", volume_id)?;
        let write = match operation.as_deref() {
            Some("READ_VOLUME") => false,
            Some("WRITE_VOLUME") => true,
            Some(other) => {
                return Err(ApiError::invalid("operation", format!("'{other}' is not READ_VOLUME or WRITE_VOLUME")))
            }
            None => return Err(ApiError::invalid("operation", "is required (READ_VOLUME or WRITE_VOLUME)")),
        };
        Ok(VolumeCredentialsSpec { volume_id, write })
    }
}

/// `PATH_READ`, `PATH_READ_WRITE`, `PATH_CREATE_TABLE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathOperation {
    Read,
    ReadWrite,
    CreateTable,
}

/// A validated temporary-path-credentials request.
#[derive(Debug)]
pub struct PathCredentialsSpec {
    pub url: StorageUrl,
    pub operation: PathOperation,
    pub dry_run: bool,
}

impl PathCredentialsSpec {
    pub fn parse(url: Option<String>, operation: Option<String>, dry_run: bool) -> ApiResult<PathCredentialsSpec> {
        let raw = url.filter(|u| !u.is_empty()).ok_or_else(|| ApiError::invalid("url", "is required"))?;
        if raw.to_ascii_lowercase().contains("%2f") {
            return Err(ApiError::invalid("url", format!("'{raw}' may not contain an encoded '/'")));
        }
        let url = StorageUrl::parse(&raw).map_err(|e| ApiError::invalid("url", e))?;
        let operation = match operation.as_deref() {
            Some("PATH_READ") => PathOperation::Read,
            Some("PATH_READ_WRITE") => PathOperation::ReadWrite,
            Some("PATH_CREATE_TABLE") => PathOperation::CreateTable,
            Some(other) => {
                return Err(ApiError::invalid(
                    "operation",
                    format!("'{other}' is not PATH_READ, PATH_READ_WRITE or PATH_CREATE_TABLE"),
                ))
            }
            None => {
                return Err(ApiError::invalid(
                    "operation",
                    "is required (PATH_READ, PATH_READ_WRITE or PATH_CREATE_TABLE)",
                ))
            }
        };
        Ok(PathCredentialsSpec { url, operation, dry_run })
    }
}

fn uuid_field(field: &str, value: Option<String>) -> ApiResult<String> {
    let value = value.filter(|v| !v.is_empty()).ok_or_else(|| ApiError::invalid(field, "is required"))?;
    match uuid::Uuid::parse_str(&value) {
        Ok(u) => Ok(u.hyphenated().to_string()),
        Err(_) => Err(ApiError::invalid(field, format!("'{value}' is not a UUID"))),
    }
}

/// What a credential may reach: its URL (the scope) and whether it may write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub url: StorageUrl,
    pub write: bool,
}

/// Which storage this run can serve: the local storage map and file roots, and whether the S3
/// endpoint is on.
#[derive(Clone, Debug, Default)]
pub struct Servable {
    pub storage: LocalStorage,
    pub s3_endpoint: bool,
}

impl Servable {
    /// A URL is servable when it is `file://` under a file root, or `s3://` under a mapped
    /// prefix while the S3 endpoint is on; otherwise 400 `INVALID_STATE` saying what is missing.
    pub fn check(&self, url: &StorageUrl) -> ApiResult<()> {
        let s = url.as_str();
        let missing = if s.starts_with("file://") {
            match self.storage.roots.covering(url) {
                Some(_) => return Ok(()),
                None => "no directory given with --file-root covers it".to_string(),
            }
        } else if self.storage.local_path(s).is_none() {
            "it is not under a prefix mapped with --storage-map".to_string()
        } else if !s.starts_with("s3://") {
            "Azure/GCS storage is not served (the emulator speaks only S3 and file://)".to_string()
        } else if !self.s3_endpoint {
            "the S3 endpoint is off (start the server with --s3-bind)".to_string()
        } else {
            return Ok(());
        };
        Err(ApiError::new(ErrorCode::InvalidState, format!("Storage {url} cannot be served: {missing}.")))
    }
}

/// The metastore's external-access switch (403 when off; no admin bypass).
fn external_access(conn: &Connection, metastore_id: &str) -> ApiResult<()> {
    let m = metastores::require(conn, metastore_id)?;
    if m.external_access_enabled {
        return Ok(());
    }
    Err(ApiError::denied(format!(
        "External access is disabled on metastore '{}': a metastore admin must set external_access_enabled \
         to true before credentials are vended to engines outside Databricks.",
        m.name
    )))
}

/// A refusal in the hosted form, naming the first missing privilege:
/// "User does not have EXTERNAL USE SCHEMA on Schema 'c.s'."
pub fn hosted_denial(d: Denied) -> ApiError {
    let first = d.decision.reasons.iter().find_map(|r| match r {
        authz::Reason::Missing { requirement } => Some(requirement.clone()),
        _ => None,
    });
    match first {
        Some(req) => {
            let (privilege, rest) = req.split_once(' ').unwrap_or((req.as_str(), ""));
            ApiError::denied(format!("User does not have {} {rest}.", privilege.replace('_', " ")))
        }
        None => denied(d),
    }
}

/// A write credential is never vended under a read-only external location (the location's own
/// `read_only`, or its storage credential's): 403 `PERMISSION_DENIED` naming the location. The
/// S3 endpoint applies the same rule to every write it receives ([`read_only_location`]).
fn writable(conn: &Connection, metastore_id: Option<&str>, url: &StorageUrl, write: bool) -> ApiResult<()> {
    if !write {
        return Ok(());
    }
    match external_locations::read_only_covering(conn, metastore_id, url)? {
        None => Ok(()),
        Some(name) => Err(ApiError::denied(format!(
            "External location '{name}' is read-only: {url} may be read but not written, so only read \
             credentials are vended for it."
        ))),
    }
}

/// The read-only external location (of any metastore) covering `url`, if any: the S3 endpoint
/// refuses writes there even with a read-write credential vended before the location became
/// read-only.
pub fn read_only_location(conn: &Connection, url: &StorageUrl) -> ApiResult<Option<String>> {
    external_locations::read_only_covering(conn, None, url)
}

/// temporary-table-credentials: the checks after authentication and the request's shape, in
/// order: external access (403), the table in the caller's metastore (404), the privileges
/// (403), storage (400), servable (400).
pub fn for_table(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    spec: &TableCredentialsSpec,
    servable: &Servable,
) -> ApiResult<Grant> {
    external_access(conn, metastore_id)?;
    let row = tables::get_by_id(conn, metastore_id, &spec.table_id)?.ok_or_else(|| {
        ApiError::new(ErrorCode::TableDoesNotExist, format!("Table with id '{}' does not exist.", spec.table_id))
    })?;
    let [mut t, mut s, mut c] = row.nodes();
    securables::attach_grants(conn, &mut [&mut t, &mut s, &mut c], &caller.principals_json)?;
    authz::require(caller, &Action::TableCredentials { write: spec.write }, &[&t, &s, &c]).map_err(hosted_denial)?;
    let location = row.storage_location.as_deref().filter(|l| !l.is_empty()).ok_or_else(|| {
        ApiError::invalid("table_id", format!("'{}' is a {} without storage", row.full_name(), row.table_type))
    })?;
    let url = StorageUrl::from_stored(location.trim_end_matches('/').to_string());
    writable(conn, Some(metastore_id), &url, spec.write)?;
    servable.check(&url)?;
    Ok(Grant { url, write: spec.write })
}

/// temporary-volume-credentials: as for tables, with the volume and READ_VOLUME / WRITE_VOLUME.
pub fn for_volume(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    spec: &VolumeCredentialsSpec,
    servable: &Servable,
) -> ApiResult<Grant> {
    external_access(conn, metastore_id)?;
    let row = volumes::get_by_id(conn, metastore_id, &spec.volume_id)?.ok_or_else(|| {
        ApiError::new(ErrorCode::VolumeDoesNotExist, format!("Volume with id '{}' does not exist.", spec.volume_id))
    })?;
    let [mut v, mut s, mut c] = row.nodes();
    securables::attach_grants(conn, &mut [&mut v, &mut s, &mut c], &caller.principals_json)?;
    authz::require(caller, &Action::VolumeCredentials { write: spec.write }, &[&v, &s, &c]).map_err(hosted_denial)?;
    let url = StorageUrl::from_stored(row.storage_location.trim_end_matches('/').to_string());
    writable(conn, Some(metastore_id), &url, spec.write)?;
    servable.check(&url)?;
    Ok(Grant { url, write: spec.write })
}

/// temporary-path-credentials: external access (403); what the URL belongs to (a table, a
/// volume, something above one, managed storage, an external location, nothing: 400s); the
/// privileges that object asks for (403); servable (400).
pub fn for_path(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    spec: &PathCredentialsSpec,
    servable: &Servable,
) -> ApiResult<Grant> {
    external_access(conn, metastore_id)?;
    let url = &spec.url;
    let write = spec.operation != PathOperation::Read;
    let create_table = spec.operation == PathOperation::CreateTable;
    if let Some(row) = tables::at_or_containing(conn, metastore_id, url)? {
        if row.table_type == "MANAGED" {
            return Err(ApiError::invalid(
                "url",
                format!(
                    "{url} lies in managed table '{}'; managed tables are served by temporary table credentials",
                    row.full_name()
                ),
            ));
        }
        if create_table {
            return Err(ApiError::invalid(
                "url",
                format!("{url} lies in table '{}'; a table already lives there", row.full_name()),
            ));
        }
        let [mut t, mut s, mut c] = row.nodes();
        securables::attach_grants(conn, &mut [&mut t, &mut s, &mut c], &caller.principals_json)?;
        let table_url = StorageUrl::from_stored(row.storage_location.clone().unwrap_or_default());
        let location = external_locations::covering(conn, metastore_id, &table_url)?;
        let mut chain: Vec<Node> = vec![t, s, c];
        if let Some(l) = &location {
            let mut n = l.node();
            securables::attach_grants(conn, &mut [&mut n], &caller.principals_json)?;
            chain.push(n);
        }
        let refs: Vec<&Node> = chain.iter().collect();
        authz::require(caller, &Action::TablePathCredentials { write, located: location.is_some() }, &refs)
            .map_err(hosted_denial)?;
    } else if let Some(row) = volumes::at_or_containing(conn, metastore_id, url)? {
        if create_table {
            return Err(ApiError::invalid(
                "url",
                format!("{url} lies in volume '{}'; a table cannot be created there", row.full_name()),
            ));
        }
        let [mut v, mut s, mut c] = row.nodes();
        securables::attach_grants(conn, &mut [&mut v, &mut s, &mut c], &caller.principals_json)?;
        authz::require(caller, &Action::VolumeCredentials { write }, &[&v, &s, &c]).map_err(hosted_denial)?;
    } else if let Some(table) = tables::overlapping(conn, metastore_id, url, None)? {
        return Err(ApiError::invalid(
            "url",
            format!("{url} contains the location of table '{table}'; ask for credentials on the table's own path"),
        ));
    } else if let Some((volume, _)) = volumes::overlapping(conn, metastore_id, url, None)? {
        return Err(ApiError::invalid(
            "url",
            format!("{url} contains the location of volume '{volume}'; ask for credentials on the volume's own path"),
        ));
    } else if let Some(root) = managed::root_overlapping(conn, metastore_id, url)? {
        return Err(ApiError::invalid(
            "url",
            format!("{url} overlaps {root}; managed storage is served by temporary table and volume credentials"),
        ));
    } else if let Some(location) = external_locations::covering(conn, metastore_id, url)? {
        let mut n = location.node();
        securables::attach_grants(conn, &mut [&mut n], &caller.principals_json)?;
        authz::require(caller, &Action::PathCredentials { write, create_table }, &[&n]).map_err(hosted_denial)?;
    } else {
        return Err(ApiError::invalid("url", format!("No external location covers {url}.")));
    }
    writable(conn, Some(metastore_id), url, write)?;
    servable.check(url)?;
    Ok(Grant { url: url.clone(), write })
}
