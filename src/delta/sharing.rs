//! The answers of the Delta Sharing table endpoints (version, metadata, query, changes), built
//! from a shared table's Delta log: which version, which files, which lines, in the
//! protocol's `parquet` or `delta` response format. The HTTP layer writes the lines as NDJSON.

use std::collections::HashMap;
use std::path::PathBuf;

use md5::{Digest, Md5};
use serde_json::{json, Map, Value};

use super::filter::{limit_count, parse_json_predicate, predicate_excludes, PartitionFilter};
use super::log::{Action, DeltaLog, FileAction, LogError, Snapshot};
use crate::error::{ApiError, ApiResult, ErrorCode};

/// A shared table, resolved for one recipient's request.
#[derive(Clone, Debug)]
pub struct SharedTable {
    /// `<schema>.<table>` as the recipient sees it (messages name this, never the storage).
    pub name: String,
    /// The table's storage URL (files' storage URLs are made from it).
    pub storage_location: String,
    /// The table's directory on this machine, resolved inside its root; `None`: not readable.
    pub dir: Option<PathBuf>,
    /// History sharing is on (`history_data_sharing_status` ENABLED or `cdf_enabled`).
    pub history: bool,
    /// `start_version` as given to the share.
    pub start_version: Option<i64>,
    /// The table's version when it was added to the share (the default start version),
    /// recorded at `ADD`; `None` on objects added by older versions of the emulator.
    pub added_version: Option<i64>,
    /// When the table was added to the share (the default start version of objects without
    /// `added_version`: the newest version committed by then).
    pub added_at: i64,
    pub filter: PartitionFilter,
}

/// The protocol's response formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Parquet,
    Delta,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Delta => "delta",
        }
    }
}

/// What the client accepts (`delta-sharing-capabilities: responseformat=...`).
#[derive(Clone, Copy, Debug)]
pub struct Accepts {
    pub parquet: bool,
    pub delta: bool,
}

/// How file URLs are minted for this answer.
pub struct Minting {
    pub public_url: String,
    pub key: [u8; 32],
    pub expires_ms: i64,
}

/// An answer: its `Delta-Table-Version`, its format (metadata, query, changes) and lines.
pub struct Answer {
    pub version: i64,
    pub format: Option<Format>,
    pub lines: Vec<Value>,
}

/// `query`'s body, validated.
#[derive(Default, Debug)]
pub struct QueryRequest {
    pub json_predicate: Option<String>,
    pub limit_hint: Option<i64>,
    pub version: Option<i64>,
    pub timestamp: Option<i64>,
    pub starting_version: Option<i64>,
    pub ending_version: Option<i64>,
}

/// `changes`' parameters, validated.
#[derive(Default, Debug)]
pub struct ChangesRequest {
    pub starting_version: Option<i64>,
    pub starting_timestamp: Option<i64>,
    pub ending_version: Option<i64>,
    pub ending_timestamp: Option<i64>,
    pub include_historical_metadata: bool,
}

fn invalid(field: &str, problem: impl std::fmt::Display) -> ApiError {
    ApiError::invalid(field, problem)
}

fn state(t: &SharedTable, why: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::InvalidState, format!("The shared table '{}' cannot be read: {why}.", t.name))
}

fn log_error(t: &SharedTable, field: &str, e: LogError) -> ApiError {
    match e {
        LogError::Unreadable(why) => state(t, why),
        LogError::Version(why) => invalid(field, why),
    }
}

fn open(t: &SharedTable) -> ApiResult<DeltaLog> {
    let dir = t.dir.as_ref().ok_or_else(|| state(t, "its storage location has no readable local directory"))?;
    DeltaLog::open(dir).map_err(|e| log_error(t, "version", e))
}

fn no_history(field: &str) -> ApiError {
    invalid(field, "history sharing is not enabled on this shared table")
}

/// The table's directory on this machine: its storage location mapped and resolved inside its
/// root (no symbolic link leading out), when that is a directory.
pub fn table_dir(local: &crate::files::LocalStorage, storage_location: &str) -> Option<PathBuf> {
    local.local_path(storage_location).and_then(|lp| crate::files::resolve(&lp).ok()).filter(|p| p.is_dir())
}

/// The latest version of the Delta table at `storage_location`, when its log is readable here
/// (recorded when the table is added to a share; bounds a share's `start_version`).
pub fn current_version(local: &crate::files::LocalStorage, storage_location: &str) -> Option<i64> {
    DeltaLog::open(&table_dir(local, storage_location)?).ok().map(|l| l.latest())
}

/// The object's start version: as given, else the table's latest version when it was added.
fn start_version(t: &SharedTable, log: &DeltaLog) -> i64 {
    if let Some(v) = t.start_version.or(t.added_version) {
        return v;
    }
    log.timestamps().into_iter().filter(|(_, ts)| *ts <= t.added_at).map(|(v, _)| v).max().unwrap_or(0)
}

fn not_below_start(t: &SharedTable, log: &DeltaLog, field: &str, v: i64) -> ApiResult<()> {
    let start = start_version(t, log);
    if v < start {
        return Err(invalid(field, format!("version {v} is before the shared table's start version {start}")));
    }
    Ok(())
}

/// The latest version committed at or before `ts`.
fn version_at_or_before(log: &DeltaLog, field: &str, ts: i64) -> ApiResult<i64> {
    log.timestamps().into_iter().filter(|(_, t)| *t <= ts).map(|(v, _)| v).max().ok_or_else(|| {
        invalid(
            field,
            format!("no version of the table was committed at or before {}", crate::domain::sharing::iso_millis(ts)),
        )
    })
}

/// The first version committed at or after `ts`.
fn version_at_or_after(log: &DeltaLog, field: &str, ts: i64) -> ApiResult<i64> {
    log.timestamps().into_iter().filter(|(_, t)| *t >= ts).map(|(v, _)| v).min().ok_or_else(|| {
        invalid(
            field,
            format!("no version of the table was committed at or after {}", crate::domain::sharing::iso_millis(ts)),
        )
    })
}

fn check_version(log: &DeltaLog, field: &str, v: i64) -> ApiResult<()> {
    if v > log.latest() {
        return Err(invalid(field, format!("version {v} does not exist; the latest version is {}", log.latest())));
    }
    Ok(())
}

fn partition_columns(metadata: &Map<String, Value>) -> Vec<String> {
    metadata
        .get("partitionColumns")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

fn choose_format(accepts: Accepts, protocol: &Map<String, Value>) -> ApiResult<Format> {
    let reader = protocol.get("minReaderVersion").and_then(Value::as_i64).unwrap_or(1);
    if accepts.parquet && reader == 1 {
        Ok(Format::Parquet)
    } else if accepts.delta {
        Ok(Format::Delta)
    } else {
        Err(invalid(
            "responseformat",
            format!("the table needs reader version {reader}, which only the delta response format can carry"),
        ))
    }
}

/// A file's id: the MD5 of its path as the log wrote it.
pub fn file_id(path: &str) -> String {
    Md5::digest(path.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A file's storage URL: the table's location joined with a relative path, or the absolute
/// path itself. A relative path leaving the table root is refused.
pub fn file_storage_url(t: &SharedTable, path: &str) -> ApiResult<String> {
    let absolute = path.contains("://") || path.starts_with("file:") || path.starts_with('/');
    if absolute {
        return Ok(path.to_string());
    }
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    if decoded.split('/').any(|s| s == ".." || s == ".") || decoded.is_empty() {
        return Err(state(t, format!("the file path '{path}' leaves the table's directory")));
    }
    Ok(format!("{}/{}", t.storage_location.trim_end_matches('/'), path))
}

struct Lines<'a> {
    t: &'a SharedTable,
    format: Format,
    mint: &'a Minting,
}

impl Lines<'_> {
    fn protocol(&self, protocol: &Map<String, Value>) -> Value {
        match self.format {
            Format::Parquet => json!({"protocol": {"minReaderVersion": 1}}),
            Format::Delta => json!({"protocol": {"deltaProtocol": protocol}}),
        }
    }

    fn metadata(&self, m: &Map<String, Value>, version: Option<i64>, size: Option<(i64, i64)>) -> Value {
        let mut out = Map::new();
        match self.format {
            Format::Parquet => {
                out.insert("id".into(), m.get("id").cloned().unwrap_or(Value::Null));
                for k in ["name", "description"] {
                    if let Some(v) = m.get(k).filter(|v| !v.is_null()) {
                        out.insert(k.into(), v.clone());
                    }
                }
                out.insert("format".into(), json!({"provider": "parquet"}));
                out.insert("schemaString".into(), m.get("schemaString").cloned().unwrap_or(Value::Null));
                out.insert("partitionColumns".into(), m.get("partitionColumns").cloned().unwrap_or(json!([])));
                out.insert(
                    "configuration".into(),
                    m.get("configuration").cloned().filter(Value::is_object).unwrap_or(json!({})),
                );
            }
            Format::Delta => {
                out.insert("deltaMetadata".into(), Value::Object(m.clone()));
            }
        }
        if let Some(v) = version {
            out.insert("version".into(), v.into());
        }
        if let Some((bytes, n)) = size {
            out.insert("size".into(), bytes.into());
            out.insert("numFiles".into(), n.into());
        }
        json!({ "metaData": out })
    }

    /// One file line. `kind`: `file` (snapshot), or `add` / `remove` / `cdf` (changes).
    fn file(
        &self,
        kind: &str,
        action: &FileAction,
        version: Option<i64>,
        timestamp: Option<i64>,
        size_on_disk: impl Fn() -> Option<i64>,
    ) -> ApiResult<Value> {
        let path = action.path();
        let storage = file_storage_url(self.t, path)?;
        let url = super::presign::sign(&self.mint.public_url, &self.mint.key, &storage, self.mint.expires_ms);
        let id = file_id(path);
        let mut out = Map::new();
        match self.format {
            Format::Parquet => {
                out.insert("url".into(), url.into());
                out.insert("id".into(), id.into());
                out.insert("partitionValues".into(), action.partition_values());
                let size = action.size().or_else(size_on_disk).unwrap_or(0);
                out.insert("size".into(), size.into());
                if matches!(kind, "file" | "add") {
                    if let Some(s) = action.stats() {
                        out.insert("stats".into(), s.into());
                    }
                }
                out.insert("expirationTimestamp".into(), self.mint.expires_ms.into());
            }
            Format::Delta => {
                let mut raw = action.raw.clone();
                raw.insert("path".into(), url.into());
                if kind == "remove" && !raw.contains_key("size") {
                    if let Some(s) = size_on_disk() {
                        raw.insert("size".into(), s.into());
                    }
                }
                let single = match kind {
                    "remove" => "remove",
                    "cdf" => "cdc",
                    _ => "add",
                };
                out.insert("id".into(), id.into());
                out.insert("expirationTimestamp".into(), self.mint.expires_ms.into());
                out.insert("deltaSingleAction".into(), json!({ single: raw }));
            }
        }
        if let Some(v) = version {
            out.insert("version".into(), v.into());
        }
        if let Some(ts) = timestamp {
            out.insert("timestamp".into(), ts.into());
        }
        let key = if self.format == Format::Delta { "file" } else { kind };
        Ok(json!({ key: out }))
    }
}

fn size_on_disk(t: &SharedTable, path: &str) -> Option<i64> {
    let dir = t.dir.as_ref()?;
    if path.contains("://") || path.starts_with('/') {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy().into_owned();
    std::fs::metadata(dir.join(decoded)).ok().map(|m| m.len() as i64)
}

/// The files of a snapshot the share lets the recipient see.
fn visible<'s>(t: &SharedTable, s: &'s Snapshot) -> ApiResult<Vec<&'s super::log::SnapshotFile>> {
    if s.files.iter().any(|f| f.add.has_deletion_vector()) {
        return Err(state(t, "it uses deletion vectors, which this server does not share"));
    }
    let cols = partition_columns(&s.metadata);
    Ok(s.files.iter().filter(|f| t.filter.admits(&f.add, &cols)).collect())
}

fn totals(files: &[&super::log::SnapshotFile]) -> (i64, i64) {
    (files.iter().map(|f| f.add.size().unwrap_or(0)).sum(), files.len() as i64)
}

/// `GET .../version`: the latest version, or the first at or after `starting_timestamp`.
pub fn table_version(t: &SharedTable, starting_timestamp: Option<i64>) -> ApiResult<i64> {
    let log = open(t)?;
    let Some(ts) = starting_timestamp else { return Ok(log.latest()) };
    if !t.history {
        return Err(no_history("startingTimestamp"));
    }
    let v = version_at_or_after(&log, "startingTimestamp", ts)?;
    Ok(v.max(start_version(t, &log)))
}

/// Resolves `version` / `timestamp` (at most one, both need history sharing) to a version.
fn snapshot_version(
    t: &SharedTable,
    log: &DeltaLog,
    version: Option<i64>,
    timestamp: Option<i64>,
) -> ApiResult<(i64, bool)> {
    match (version, timestamp) {
        (Some(_), Some(_)) => Err(invalid("version", "give at most one of version and timestamp")),
        (Some(v), None) => {
            if !t.history {
                return Err(no_history("version"));
            }
            check_version(log, "version", v)?;
            not_below_start(t, log, "version", v)?;
            Ok((v, true))
        }
        (None, Some(ts)) => {
            if !t.history {
                return Err(no_history("timestamp"));
            }
            let v = version_at_or_before(log, "timestamp", ts)?;
            not_below_start(t, log, "timestamp", v)?;
            Ok((v, true))
        }
        (None, None) => Ok((log.latest(), false)),
    }
}

fn snapshot(t: &SharedTable, log: &DeltaLog, v: i64) -> ApiResult<Snapshot> {
    log.snapshot(v).map_err(|e| log_error(t, "version", e))
}

/// `GET .../metadata`
pub fn metadata(
    t: &SharedTable,
    accepts: Accepts,
    version: Option<i64>,
    timestamp: Option<i64>,
    mint: &Minting,
) -> ApiResult<Answer> {
    let log = open(t)?;
    let (v, given) = snapshot_version(t, &log, version, timestamp)?;
    let s = snapshot(t, &log, v)?;
    let format = choose_format(accepts, &s.protocol)?;
    let files = visible(t, &s)?;
    let lines = Lines { t, format, mint };
    let out = vec![lines.protocol(&s.protocol), lines.metadata(&s.metadata, given.then_some(v), Some(totals(&files)))];
    Ok(Answer { version: v, format: Some(format), lines: out })
}

/// `POST .../query`
pub fn query(t: &SharedTable, accepts: Accepts, q: &QueryRequest, mint: &Minting) -> ApiResult<Answer> {
    let given =
        [q.version.is_some(), q.timestamp.is_some(), q.starting_version.is_some()].iter().filter(|b| **b).count();
    if given > 1 {
        return Err(invalid("version", "give at most one of version, timestamp and startingVersion"));
    }
    if q.ending_version.is_some() && q.starting_version.is_none() {
        return Err(invalid("endingVersion", "is only allowed with startingVersion"));
    }
    let log = open(t)?;
    if let Some(start) = q.starting_version {
        return change_files(t, &log, accepts, start, q.ending_version, mint);
    }
    let (v, given) = snapshot_version(t, &log, q.version, q.timestamp)?;
    let s = snapshot(t, &log, v)?;
    let format = choose_format(accepts, &s.protocol)?;
    let files = visible(t, &s)?;
    let lines = Lines { t, format, mint };
    let mut out =
        vec![lines.protocol(&s.protocol), lines.metadata(&s.metadata, given.then_some(v), Some(totals(&files)))];
    let cols = partition_columns(&s.metadata);
    let predicate = q.json_predicate.as_deref().and_then(parse_json_predicate);
    let hinted: Vec<&super::log::SnapshotFile> = files
        .into_iter()
        .filter(|f| predicate.as_ref().is_none_or(|p| !predicate_excludes(p, &f.add, &cols)))
        .collect();
    let keep = match q.limit_hint {
        Some(limit) => limit_count(&hinted.iter().map(|f| &f.add).collect::<Vec<_>>(), limit),
        None => hinted.len(),
    };
    let mut stamps: HashMap<i64, i64> = HashMap::new();
    for f in &hinted[..keep] {
        let (version, timestamp) = if given {
            let ts = match stamps.get(&f.version) {
                Some(ts) => *ts,
                None => {
                    let ts = log.timestamp(f.version).map_err(|e| log_error(t, "version", e))?;
                    stamps.insert(f.version, ts);
                    ts
                }
            };
            (Some(f.version), Some(ts))
        } else {
            (None, None)
        };
        out.push(lines.file("file", &f.add, version, timestamp, || None)?);
    }
    Ok(Answer { version: v, format: Some(format), lines: out })
}

/// The change-file form of `query` (`startingVersion`): the adds and removes of each version.
fn change_files(
    t: &SharedTable,
    log: &DeltaLog,
    accepts: Accepts,
    start: i64,
    end: Option<i64>,
    mint: &Minting,
) -> ApiResult<Answer> {
    if !t.history {
        return Err(no_history("startingVersion"));
    }
    check_version(log, "startingVersion", start)?;
    not_below_start(t, log, "startingVersion", start)?;
    let end = end.map(|e| e.min(log.latest())).unwrap_or(log.latest());
    if end < start {
        return Err(invalid("endingVersion", format!("{end} is before startingVersion {start}")));
    }
    let s = snapshot(t, log, start)?;
    let format = choose_format(accepts, &s.protocol)?;
    let lines = Lines { t, format, mint };
    let mut out = vec![lines.protocol(&s.protocol), lines.metadata(&s.metadata, None, None)];
    let mut cols = partition_columns(&s.metadata);
    for v in start..=end {
        let c = log.commit(v).map_err(|e| log_error(t, "startingVersion", e))?;
        for a in &c.actions {
            match a {
                Action::Metadata(m) => {
                    cols = partition_columns(m);
                    if v > start {
                        out.push(lines.metadata(m, Some(v), None));
                    }
                }
                Action::Add(f) if f.data_change() && t.filter.admits(f, &cols) => {
                    out.push(lines.file("add", f, Some(v), Some(c.timestamp), || None)?)
                }
                Action::Remove(f) if f.data_change() && t.filter.admits(f, &cols) => {
                    out.push(lines.file("remove", f, Some(v), Some(c.timestamp), || size_on_disk(t, f.path()))?)
                }
                _ => {}
            }
        }
    }
    Ok(Answer { version: start, format: Some(format), lines: out })
}

fn cdf_enabled(m: &Map<String, Value>) -> bool {
    m.get("configuration")
        .and_then(|c| c.get("delta.enableChangeDataFeed"))
        .and_then(Value::as_str)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// `GET .../changes` (the change data feed).
pub fn changes(t: &SharedTable, accepts: Accepts, c: &ChangesRequest, mint: &Minting) -> ApiResult<Answer> {
    match (c.starting_version, c.starting_timestamp) {
        (None, None) => return Err(invalid("startingVersion", "give startingVersion or startingTimestamp")),
        (Some(_), Some(_)) => {
            return Err(invalid("startingVersion", "give only one of startingVersion and startingTimestamp"))
        }
        _ => {}
    }
    if c.ending_version.is_some() && c.ending_timestamp.is_some() {
        return Err(invalid("endingVersion", "give at most one of endingVersion and endingTimestamp"));
    }
    if !t.history {
        return Err(no_history(if c.starting_version.is_some() { "startingVersion" } else { "startingTimestamp" }));
    }
    let log = open(t)?;
    let start = match (c.starting_version, c.starting_timestamp) {
        (Some(v), _) => v,
        (_, Some(ts)) => version_at_or_after(&log, "startingTimestamp", ts)?,
        _ => unreachable!("checked above"),
    };
    let end = match (c.ending_version, c.ending_timestamp) {
        (Some(v), _) => v.min(log.latest()),
        (_, Some(ts)) => version_at_or_before(&log, "endingTimestamp", ts)?,
        _ => log.latest(),
    };
    if start > log.latest() {
        return Err(invalid("startingVersion", format!("{start} is after the latest version {}", log.latest())));
    }
    if start > end {
        return Err(invalid("startingVersion", format!("{start} is after the ending version {end}")));
    }
    not_below_start(t, &log, "startingVersion", start)?;
    let s = snapshot(t, &log, start)?;
    if !cdf_enabled(&s.metadata) {
        return Err(invalid(
            "startingVersion",
            format!("change data feed is not enabled on the table at version {start}"),
        ));
    }
    let mut commits = Vec::new();
    let (mut protocol, mut metadata) = (s.protocol.clone(), s.metadata.clone());
    for v in start..=end {
        let commit = log.commit(v).map_err(|e| log_error(t, "startingVersion", e))?;
        for a in &commit.actions {
            match a {
                Action::Metadata(m) => {
                    if !cdf_enabled(m) {
                        return Err(invalid(
                            "startingVersion",
                            format!("change data feed is not enabled on the table at version {v}"),
                        ));
                    }
                    metadata = m.clone();
                }
                Action::Protocol(p) => protocol = p.clone(),
                _ => {}
            }
        }
        commits.push(commit);
    }
    let format = choose_format(accepts, &protocol)?;
    let lines = Lines { t, format, mint };
    let meta_version = (format == Format::Delta).then_some(start);
    let mut out = vec![lines.protocol(&protocol), lines.metadata(&metadata, meta_version, None)];
    let mut cols = partition_columns(&s.metadata);
    for commit in &commits {
        let v = commit.version;
        let has_cdc = commit.actions.iter().any(|a| matches!(a, Action::Cdc(_)));
        for a in &commit.actions {
            match a {
                Action::Metadata(m) => {
                    cols = partition_columns(m);
                    if c.include_historical_metadata && v > start {
                        out.push(lines.metadata(m, Some(v), None));
                    }
                }
                Action::Cdc(f) if t.filter.admits(f, &cols) => {
                    out.push(lines.file("cdf", f, Some(v), Some(commit.timestamp), || None)?)
                }
                Action::Add(f) if !has_cdc && f.data_change() && t.filter.admits(f, &cols) => {
                    out.push(lines.file("add", f, Some(v), Some(commit.timestamp), || None)?)
                }
                Action::Remove(f) if !has_cdc && f.data_change() && t.filter.admits(f, &cols) => {
                    out.push(lines.file("remove", f, Some(v), Some(commit.timestamp), || size_on_disk(t, f.path()))?)
                }
                _ => {}
            }
        }
    }
    Ok(Answer { version: start, format: Some(format), lines: out })
}
