//! Volumes: createVolume's validated input, the storage rules (managed locations, the external
//! location an EXTERNAL volume needs, overlaps with tables, volumes and managed storage), the
//! local directory a volume's files live in, and the volume operations.

use rusqlite::Connection;
use serde::Deserialize;

use super::schemas::{load_schema, refuse_information_schema};
use super::tables::required;
use super::{changed, denied, owner_name};
use crate::authz::{self, Action, Caller, Node};
use crate::domain::names::{Ident, TableName};
use crate::domain::storage_url::StorageUrl;
use crate::domain::update::{rename_to, UpdateShape};
use crate::domain::{new_ordered_id, now_ms};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::files::{self, LocalPath, LocalStorage};
use crate::store::schemas::SchemaRow;
use crate::store::volumes::{self, NewVolume, VolumeChanges, VolumeRow};
use crate::store::{external_locations, metastores, securables, tables};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateVolume {
    pub name: Option<String>,
    pub catalog_name: Option<String>,
    pub schema_name: Option<String>,
    pub volume_type: Option<String>,
    pub storage_location: Option<String>,
    pub comment: Option<String>,
}

/// A validated volume create, shared with fixtures.
pub struct VolumeSpec {
    pub full_name: TableName,
    pub external: bool,
    /// EXTERNAL only: the given URL in normal form (no trailing `/`).
    pub storage_location: Option<StorageUrl>,
    pub comment: Option<String>,
}

/// The `volume_type`s a create accepts.
pub const VOLUME_TYPES: &[&str] = &["MANAGED", "EXTERNAL"];

impl TryFrom<CreateVolume> for VolumeSpec {
    type Error = ApiError;
    fn try_from(c: CreateVolume) -> ApiResult<Self> {
        let full_name = TableName {
            catalog: Ident::parse("catalog_name", required("catalog_name", &c.catalog_name)?)?,
            schema: Ident::parse("schema_name", required("schema_name", &c.schema_name)?)?,
            table: Ident::parse("name", required("name", &c.name)?)?,
        };
        refuse_information_schema(full_name.schema.as_str(), "schema_name")?;
        let external = match required("volume_type", &c.volume_type)? {
            "MANAGED" => false,
            "EXTERNAL" => true,
            other => {
                return Err(ApiError::invalid(
                    "volume_type",
                    format!("unknown value {other:?}; expected one of MANAGED, EXTERNAL"),
                ))
            }
        };
        let location = c.storage_location.filter(|l| !l.is_empty());
        let storage_location = match (external, location) {
            (false, Some(_)) => {
                return Err(ApiError::invalid(
                    "storage_location",
                    "must not be given for a MANAGED volume; the server places it in managed storage",
                ))
            }
            (false, None) => None,
            (true, None) => return Err(ApiError::invalid("storage_location", "is required for an EXTERNAL volume")),
            (true, Some(l)) => Some(StorageUrl::parse(&l).map_err(|e| ApiError::invalid("storage_location", e))?),
        };
        Ok(VolumeSpec { full_name, external, storage_location, comment: c.comment })
    }
}

/// The local directory of a volume's storage location: `file://` paths under a `--file-root`,
/// and cloud URLs under a `--storage-map` prefix. `None`: the volume has no local directory.
pub fn local_dir(location: &str, storage: &LocalStorage) -> Option<LocalPath> {
    storage.local_path(location)
}

/// The external location covering an EXTERNAL volume's URL, or 400 naming `storage_location`
/// (there is no storage-credential alternative, and admins are no exception).
fn covering_location(tx: &Connection, metastore_id: &str, url: &StorageUrl) -> ApiResult<Node> {
    match external_locations::covering(tx, metastore_id, url)? {
        Some(l) => Ok(l.node()),
        None => Err(ApiError::invalid(
            "storage_location",
            format!(
                "No parent external location found for {url}; an EXTERNAL volume must lie under an external location"
            ),
        )),
    }
}

/// An external volume's location may not equal, lie inside or contain a table's, another
/// volume's, or a managed storage root (the metastore's, a catalog's or a schema's).
fn check_external_location(tx: &Connection, metastore_id: &str, url: &StorageUrl) -> ApiResult<()> {
    if let Some(table) = tables::overlapping(tx, metastore_id, url, None)? {
        return Err(ApiError::invalid(
            "storage_location",
            format!("{url} overlaps the location of table '{table}'; volumes and tables may not overlap"),
        ));
    }
    if let Some((other, loc)) = volumes::overlapping(tx, metastore_id, url, None)? {
        return Err(ApiError::invalid(
            "storage_location",
            format!("{url} overlaps the location of volume '{other}' ({loc}); volumes may not overlap"),
        ));
    }
    if let Some(root) = crate::store::managed::root_overlapping(tx, metastore_id, url)? {
        return Err(ApiError::invalid(
            "storage_location",
            format!("{url} overlaps {root}; external volumes may not overlap managed storage"),
        ));
    }
    Ok(())
}

/// Creates a volume's (or a managed table's) local directory with its missing parents; a failure is 400 `INVALID_STATE`
/// naming `storage_location` (and the caller's transaction rolls back).
pub(crate) fn make_local_dir(location: &str, storage: &LocalStorage) -> ApiResult<()> {
    let Some(local) = local_dir(location, storage) else { return Ok(()) };
    files::create_dir_within(&local).map_err(|why| {
        ApiError::new(
            ErrorCode::InvalidState,
            format!("storage_location: the local directory of {location} cannot be created: {why}"),
        )
    })
}

/// Inserts a validated volume under `schema` (already authorized) and creates its local
/// directory; shared with fixtures.
pub fn insert_volume(
    tx: &Connection,
    ok: &authz::Allowed,
    schema: &SchemaRow,
    spec: &VolumeSpec,
    owner: &str,
    now: i64,
    storage: &LocalStorage,
) -> ApiResult<VolumeRow> {
    if volumes::get(tx, &schema.metastore_id, &spec.full_name)?.is_some() {
        return Err(ApiError::new(
            ErrorCode::VolumeAlreadyExists,
            format!("Volume '{}' already exists.", spec.full_name),
        ));
    }
    let id = new_ordered_id();
    let location = match &spec.storage_location {
        Some(url) => {
            check_external_location(tx, &schema.metastore_id, url)?;
            url.clone()
        }
        None => {
            // Under the schema's root, else the catalog's, else the metastore's (as managed tables).
            let root = match (&schema.storage_root, &schema.catalog_storage_root) {
                (Some(r), _) | (None, Some(r)) => r.clone(),
                (None, None) => metastores::require(tx, &schema.metastore_id)?.storage_root,
            };
            StorageUrl::from_stored(root.trim_end_matches('/').to_string()).join("volumes").join(&id)
        }
    };
    let new = NewVolume {
        id: &id,
        name: &spec.full_name.table,
        volume_type: if spec.external { "EXTERNAL" } else { "MANAGED" },
        storage_location: location.as_str(),
        comment: spec.comment.as_deref(),
        owner,
        now,
    };
    volumes::insert(tx, ok, &schema.id, &spec.full_name, &new)?;
    make_local_dir(location.as_str(), storage)?;
    volumes::get(tx, &schema.metastore_id, &spec.full_name)?.ok_or_else(|| volumes::not_found(&spec.full_name))
}

/// createVolume: parents (404), CREATE_VOLUME with use of the catalog and schema (403); EXTERNAL:
/// a covering external location (400) and CREATE_EXTERNAL_VOLUME on it (403); then the name
/// (409), the overlap rules (400), and the local directory.
pub fn create(
    tx: &Connection,
    caller: &Caller,
    metastore_id: &str,
    spec: VolumeSpec,
    storage: &LocalStorage,
) -> ApiResult<VolumeRow> {
    let (schema, [s, c]) = load_schema(tx, caller, metastore_id, &spec.full_name.schema_name())?;
    let mut ok = authz::require(caller, &Action::CreateVolume { external: false }, &[&s, &c]).map_err(denied)?;
    if let Some(url) = &spec.storage_location {
        let mut location = covering_location(tx, metastore_id, url)?;
        securables::attach_grants(tx, &mut [&mut location], &caller.principals_json)?;
        ok = authz::require(caller, &Action::CreateVolume { external: true }, &[&s, &c, &location]).map_err(denied)?;
    }
    insert_volume(tx, &ok, &schema, &spec, &caller.name, now_ms(), storage)
}

/// A volume and its chain with the caller's grants, or the right error: the parents' 404s, a 403
/// for callers who may not use the catalog and schema, else the volume's 404.
pub fn load_volume(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &TableName,
) -> ApiResult<(VolumeRow, [Node; 3])> {
    let found = volumes::get(conn, metastore_id, name)?.map(|r| {
        let nodes = r.nodes();
        (r, nodes)
    });
    super::schemas::load_child(conn, caller, metastore_id, name, found, &Action::ListVolumes, || {
        volumes::not_found(name)
    })
}

/// The volume a Files API call addresses, in the Files API's order of checks: catalog and schema
/// (404), use of both (403, no metastore-admin bypass), the volume (404), then READ_VOLUME (and
/// WRITE_VOLUME for `write`) on it (403). A denied caller never learns whether a file exists.
pub fn for_files(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &TableName,
    write: bool,
) -> ApiResult<VolumeRow> {
    let (_, [s, c]) = load_schema(conn, caller, metastore_id, &name.schema_name())?;
    authz::require(caller, &Action::ReachVolumeFiles, &[&s, &c]).map_err(denied)?;
    let row = volumes::get(conn, metastore_id, name)?.ok_or_else(|| volumes::not_found(name))?;
    let mut v = row.node();
    securables::attach_grants(conn, &mut [&mut v], &caller.principals_json)?;
    let action = if write { Action::WriteVolumeFiles } else { Action::ReadVolumeFiles };
    authz::require(caller, &action, &[&v, &s, &c]).map_err(denied)?;
    Ok(row)
}

/// readVolume: the row, and whether the caller sees it only through `BROWSE`.
pub fn get(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &TableName,
    browse: bool,
) -> ApiResult<(VolumeRow, bool)> {
    let (row, chain) = load_volume(conn, caller, metastore_id, name)?;
    let browse_only = super::schemas::read_or_browse(caller, &Action::ReadVolume, &chain, browse)?;
    Ok((row, browse_only))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UpdateVolume {
    name: Option<String>,
    new_name: Option<String>,
    owner: Option<String>,
    comment: Option<String>,
}

/// A validated updateVolume body for the volume `name`.
pub struct VolumeUpdate {
    rename: Option<Ident>,
    owner: Option<String>,
    comment: Option<String>,
}

impl VolumeUpdate {
    pub fn parse(name: &TableName, body: UpdateVolume) -> ApiResult<VolumeUpdate> {
        let new_name = body.new_name.map(|n| Ident::parse("new_name", &n)).transpose()?;
        let body_name = body.name.map(|n| Ident::parse("name", &n)).transpose()?;
        Ok(VolumeUpdate {
            rename: rename_to(&name.table, body_name, new_name),
            owner: body.owner,
            comment: body.comment,
        })
    }
}

/// updateVolume: rename, owner, comment (the files never move).
pub fn update(
    tx: &Connection,
    caller: &Caller,
    metastore_id: &str,
    name: &TableName,
    body: VolumeUpdate,
) -> ApiResult<VolumeRow> {
    let (current, [v, s, c]) = load_volume(tx, caller, metastore_id, name)?;
    let owner = body.owner.as_deref().map(|o| owner_name(tx, o)).transpose()?;
    let changes = VolumeChanges {
        new_name: body.rename,
        owner: owner.filter(|o| *o != current.owner),
        comment: body.comment.filter(|x| changed(&current.comment, x)),
    };
    let shape = UpdateShape {
        rename: changes.new_name.is_some(),
        owner: changes.owner.is_some(),
        other: changes.comment.is_some(),
    };
    let ok = authz::require(caller, &Action::UpdateVolume(shape), &[&v, &s, &c]).map_err(denied)?;
    volumes::update(tx, &ok, &current, &changes, &caller.name, now_ms())?;
    let now_named = TableName { table: changes.new_name.clone().unwrap_or_else(|| name.table.clone()), ..name.clone() };
    volumes::get(tx, metastore_id, &now_named)?.ok_or_else(|| volumes::not_found(&now_named))
}

/// deleteVolume: returns the storage location whose local directory goes too (MANAGED only),
/// to be removed once the transaction has committed.
pub fn delete(tx: &Connection, caller: &Caller, metastore_id: &str, name: &TableName) -> ApiResult<Option<String>> {
    let (current, [v, s, c]) = load_volume(tx, caller, metastore_id, name)?;
    let ok = authz::require(caller, &Action::DeleteVolume, &[&v, &s, &c]).map_err(denied)?;
    volumes::delete(tx, &ok, &current.id)?;
    Ok(current.is_managed().then_some(current.storage_location))
}

/// Removes the local directories of deleted managed volumes and tables (after their delete committed);
/// links inside are removed, not followed; failures are logged, never returned.
pub fn remove_local_dirs(locations: &[String], storage: &LocalStorage) {
    for location in locations {
        let Some(local) = local_dir(location, storage) else { continue };
        if let Err(e) = files::remove_dir_within(&local) {
            tracing::warn!(location = %location, error = %e, "could not remove the files of a deleted managed volume or table");
        }
    }
}

/// listVolumes: 403 without use of the catalog and schema (unless browsing); every row for
/// metastore admins, else those the caller may read.
pub fn list(
    conn: &Connection,
    caller: &Caller,
    metastore_id: &str,
    schema: &crate::domain::names::SchemaName,
    after: &str,
    limit: Option<usize>,
    browse: bool,
) -> ApiResult<super::lists::Judged<VolumeRow>> {
    let list = super::lists::ChildList {
        list: &Action::ListVolumes,
        list_all: &Action::ListAllVolumes,
        read: &Action::ReadVolume,
        browse,
    };
    let scan =
        |chain: &crate::store::read_cache::SchemaChain| volumes::scan(conn, &chain.parent.schema_id, after, limit);
    super::lists::schema_children(conn, caller, metastore_id, schema, list, scan, VolumeRow::node)
}
