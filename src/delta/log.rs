//! Reading a Delta table's transaction log (`_delta_log`) from a local directory: JSON
//! commits, single-file and multi-part checkpoints (Parquet, through the `parquet` crate's
//! record reader), snapshot replay and commit timestamps.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// Why a log cannot answer.
#[derive(Debug, PartialEq, Eq)]
pub enum LogError {
    /// No readable log at all, or a file of it that cannot be parsed.
    Unreadable(String),
    /// A version that this log cannot rebuild (too old, a gap, or past the end).
    Version(String),
}

/// One file action (`add`, `remove` or `cdc`) as the log wrote it.
#[derive(Clone, Debug)]
pub struct FileAction {
    /// The action object itself (passed on in the protocol's `delta` format).
    pub raw: Map<String, Value>,
}

impl FileAction {
    pub fn path(&self) -> &str {
        self.raw.get("path").and_then(Value::as_str).unwrap_or("")
    }
    pub fn size(&self) -> Option<i64> {
        self.raw.get("size").and_then(Value::as_i64)
    }
    pub fn stats(&self) -> Option<&str> {
        self.raw.get("stats").and_then(Value::as_str)
    }
    pub fn data_change(&self) -> bool {
        self.raw.get("dataChange").and_then(Value::as_bool).unwrap_or(true)
    }
    pub fn has_deletion_vector(&self) -> bool {
        self.raw.get("deletionVector").is_some_and(|v| !v.is_null())
    }
    /// `partitionValues`: a missing key, JSON null or `""` is null.
    pub fn partition_value(&self, column: &str) -> Option<&str> {
        let pv = self.raw.get("partitionValues")?.as_object()?;
        let v = pv.get(column).or_else(|| pv.iter().find(|(k, _)| k.eq_ignore_ascii_case(column)).map(|(_, v)| v))?;
        v.as_str().filter(|s| !s.is_empty())
    }
    pub fn partition_values(&self) -> Value {
        self.raw.get("partitionValues").cloned().filter(Value::is_object).unwrap_or_else(|| Value::Object(Map::new()))
    }
    /// `stats.numRecords`, when the log recorded it.
    pub fn num_records(&self) -> Option<i64> {
        let stats: Value = serde_json::from_str(self.stats()?).ok()?;
        stats.get("numRecords")?.as_i64()
    }
}

/// One action of a commit or checkpoint.
#[derive(Clone, Debug)]
pub enum Action {
    Protocol(Map<String, Value>),
    Metadata(Map<String, Value>),
    Add(FileAction),
    Remove(FileAction),
    Cdc(FileAction),
    CommitInfo(Map<String, Value>),
}

impl Action {
    /// The action of one log line or checkpoint row (`{"add": {...}}`); `None` for kinds this
    /// reader does not use.
    pub fn from_json(mut obj: Map<String, Value>) -> Option<Action> {
        for key in ["add", "remove", "cdc", "metaData", "protocol", "commitInfo"] {
            let Some(Value::Object(inner)) = obj.remove(key) else { continue };
            return Some(match key {
                "add" => Action::Add(FileAction { raw: inner }),
                "remove" => Action::Remove(FileAction { raw: inner }),
                "cdc" => Action::Cdc(FileAction { raw: inner }),
                "metaData" => Action::Metadata(inner),
                "protocol" => Action::Protocol(inner),
                _ => Action::CommitInfo(inner),
            });
        }
        None
    }
}

/// A file of a snapshot and the version whose commit (or checkpoint) holds its `add`.
#[derive(Clone, Debug)]
pub struct SnapshotFile {
    pub version: i64,
    pub add: FileAction,
}

/// The table as of one version.
#[derive(Debug)]
pub struct Snapshot {
    pub version: i64,
    pub protocol: Map<String, Value>,
    pub metadata: Map<String, Value>,
    /// Ordered by the version that holds the `add`, then its position there.
    pub files: Vec<SnapshotFile>,
}

/// One commit's actions and timestamp.
#[derive(Debug)]
pub struct Commit {
    pub version: i64,
    pub timestamp: i64,
    pub actions: Vec<Action>,
}

/// The commit and checkpoint files of one table's `_delta_log`.
#[derive(Debug)]
pub struct DeltaLog {
    dir: PathBuf,
    commits: BTreeMap<i64, PathBuf>,
    /// Complete checkpoints: version → their parts in order.
    checkpoints: BTreeMap<i64, Vec<PathBuf>>,
    latest: i64,
}

fn digits(s: &str, n: usize) -> Option<i64> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
}

fn mtime_ms(path: &Path) -> i64 {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl DeltaLog {
    /// Lists `<table_dir>/_delta_log`. `table_dir` is already resolved inside its root; the log
    /// directory itself may not be a symbolic link.
    pub fn open(table_dir: &Path) -> Result<DeltaLog, LogError> {
        let dir = table_dir.join("_delta_log");
        let meta = std::fs::symlink_metadata(&dir).map_err(|_| LogError::Unreadable("it has no _delta_log".into()))?;
        if !meta.is_dir() {
            return Err(LogError::Unreadable("its _delta_log is not a directory".into()));
        }
        let mut commits = BTreeMap::new();
        let mut parts: BTreeMap<i64, BTreeMap<i64, (i64, PathBuf)>> = BTreeMap::new();
        let entries = std::fs::read_dir(&dir).map_err(|e| LogError::Unreadable(format!("_delta_log: {e}")))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if entry.file_type().map(|t| t.is_symlink()).unwrap_or(true) {
                continue;
            }
            let Some((v, rest)) = name.split_once('.') else { continue };
            let Some(v) = digits(v, 20) else { continue };
            if rest == "json" {
                commits.insert(v, path);
            } else if rest == "checkpoint.parquet" {
                parts.entry(v).or_default().insert(1, (1, path));
            } else if let Some(multi) = rest.strip_prefix("checkpoint.").and_then(|r| r.strip_suffix(".parquet")) {
                if let Some((p, n)) = multi.split_once('.') {
                    if let (Some(p), Some(n)) = (digits(p, 10), digits(n, 10)) {
                        parts.entry(v).or_default().insert(p, (n, path));
                    }
                }
            }
        }
        let checkpoints: BTreeMap<i64, Vec<PathBuf>> = parts
            .into_iter()
            .filter_map(|(v, ps)| {
                let n = ps.values().next()?.0;
                let complete =
                    n >= 1 && ps.len() as i64 == n && (1..=n).all(|i| ps.get(&i).is_some_and(|(m, _)| *m == n));
                complete.then(|| (v, ps.into_values().map(|(_, p)| p).collect()))
            })
            .collect();
        let latest =
            commits.keys().next_back().copied().into_iter().chain(checkpoints.keys().next_back().copied()).max();
        let Some(latest) = latest else {
            return Err(LogError::Unreadable("its _delta_log holds no commit or checkpoint".into()));
        };
        Ok(DeltaLog { dir, commits, checkpoints, latest })
    }

    pub fn latest(&self) -> i64 {
        self.latest
    }

    /// The oldest version this log can rebuild: 0 when every commit is there, else the oldest
    /// complete checkpoint from which an unbroken run of commits reaches the latest version.
    pub fn oldest(&self) -> i64 {
        let mut k = if self.commits.contains_key(&self.latest) { self.latest } else { self.latest + 1 };
        while k > 0 && self.commits.contains_key(&(k - 1)) {
            k -= 1;
        }
        if k == 0 {
            return 0;
        }
        self.checkpoints.range(k - 1..).next().map(|(v, _)| *v).unwrap_or(self.latest)
    }

    fn check_version(&self, v: i64) -> Result<(), LogError> {
        if v < 0 || v > self.latest {
            return Err(LogError::Version(format!(
                "version {v} does not exist; the latest version is {}",
                self.latest
            )));
        }
        Ok(())
    }

    fn read_commit_actions(&self, v: i64) -> Result<Vec<Action>, LogError> {
        let path =
            self.commits.get(&v).ok_or_else(|| LogError::Version(format!("the commit of version {v} is gone")))?;
        let file = std::fs::File::open(path).map_err(|e| LogError::Unreadable(format!("commit {v}: {e}")))?;
        let mut out = Vec::new();
        for line in std::io::BufReader::new(file).lines() {
            let line = line.map_err(|e| LogError::Unreadable(format!("commit {v}: {e}")))?;
            if line.trim().is_empty() {
                continue;
            }
            let obj: Map<String, Value> =
                serde_json::from_str(&line).map_err(|e| LogError::Unreadable(format!("commit {v}: {e}")))?;
            out.extend(Action::from_json(obj));
        }
        Ok(out)
    }

    /// A commit's timestamp: `commitInfo.inCommitTimestamp`, else `commitInfo.timestamp`, else the
    /// file's modification time (a version known only by its checkpoint: the checkpoint's).
    fn timestamp_of(&self, v: i64, actions: Option<&[Action]>) -> i64 {
        let from_info = |acts: &[Action]| {
            acts.iter().find_map(|a| match a {
                Action::CommitInfo(ci) => ci
                    .get("inCommitTimestamp")
                    .and_then(Value::as_i64)
                    .or_else(|| ci.get("timestamp").and_then(Value::as_i64)),
                _ => None,
            })
        };
        if let Some(ts) = actions.and_then(from_info) {
            return ts;
        }
        if let Some(path) = self.commits.get(&v) {
            if actions.is_none() {
                if let Some(ts) = self.read_commit_actions(v).ok().as_deref().and_then(from_info) {
                    return ts;
                }
            }
            return mtime_ms(path);
        }
        self.checkpoints.get(&v).and_then(|p| p.first()).map(|p| mtime_ms(p)).unwrap_or(0)
    }

    /// The timestamp of version `v`.
    pub fn timestamp(&self, v: i64) -> Result<i64, LogError> {
        self.check_version(v)?;
        Ok(self.timestamp_of(v, None))
    }

    /// Every rebuildable version with its timestamp, oldest first.
    pub fn timestamps(&self) -> Vec<(i64, i64)> {
        (self.oldest()..=self.latest).map(|v| (v, self.timestamp_of(v, None))).collect()
    }

    /// One commit (its actions and timestamp).
    pub fn commit(&self, v: i64) -> Result<Commit, LogError> {
        self.check_version(v)?;
        let actions = self.read_commit_actions(v)?;
        let timestamp = self.timestamp_of(v, Some(&actions));
        Ok(Commit { version: v, timestamp, actions })
    }

    /// The snapshot at `v`: the newest complete checkpoint at or below it, then the commits
    /// after it up to `v`.
    pub fn snapshot(&self, v: i64) -> Result<Snapshot, LogError> {
        self.check_version(v)?;
        let checkpoint = self.checkpoints.range(..=v).next_back();
        let first = checkpoint.map(|(cv, _)| cv + 1).unwrap_or(0);
        if let Some(missing) = (first..=v).find(|c| !self.commits.contains_key(c)) {
            return Err(LogError::Version(format!(
                "version {v} cannot be rebuilt: the commit of version {missing} is missing"
            )));
        }
        let mut protocol = None;
        let mut metadata = None;
        let mut files: HashMap<String, ((i64, usize), FileAction)> = HashMap::new();
        let mut apply = |version: i64, actions: Vec<Action>| {
            for (i, a) in actions.into_iter().enumerate() {
                match a {
                    Action::Protocol(p) => protocol = Some(p),
                    Action::Metadata(m) => metadata = Some(m),
                    Action::Add(f) => {
                        files.insert(f.path().to_string(), ((version, i), f));
                    }
                    Action::Remove(f) => {
                        files.remove(f.path());
                    }
                    Action::Cdc(_) | Action::CommitInfo(_) => {}
                }
            }
        };
        if let Some((cv, parts)) = checkpoint {
            let actions = super::checkpoint::read(parts)
                .map_err(|e| LogError::Unreadable(format!("checkpoint of version {cv}: {e}")))?;
            apply(*cv, actions);
        }
        for c in first..=v {
            apply(c, self.read_commit_actions(c)?);
        }
        let (Some(protocol), Some(metadata)) = (protocol, metadata) else {
            return Err(LogError::Unreadable(format!("version {v} has no protocol or no metaData")));
        };
        let mut ordered: Vec<((i64, usize), FileAction)> = files.into_values().collect();
        ordered.sort_by_key(|(k, _)| *k);
        let files = ordered.into_iter().map(|((version, _), add)| SnapshotFile { version, add }).collect();
        Ok(Snapshot { version: v, protocol, metadata, files })
    }

    /// The log directory (for messages in tests).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(dir: &Path, v: i64, lines: &[&str]) {
        std::fs::write(dir.join("_delta_log").join(format!("{v:020}.json")), lines.join("\n")).unwrap();
    }

    const PROTOCOL: &str = r#"{"protocol":{"minReaderVersion":1,"minWriterVersion":2}}"#;
    const META: &str = r#"{"metaData":{"id":"m","format":{"provider":"parquet","options":{}},"schemaString":"{}","partitionColumns":["p"],"configuration":{}}}"#;

    fn table() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("_delta_log")).unwrap();
        commit(
            dir.path(),
            0,
            &[
                r#"{"commitInfo":{"timestamp":1000}}"#,
                PROTOCOL,
                META,
                r#"{"add":{"path":"p=a/1.parquet","partitionValues":{"p":"a"},"size":10,"dataChange":true,"stats":"{\"numRecords\":3}"}}"#,
                r#"{"add":{"path":"p=b/2.parquet","partitionValues":{"p":"b"},"size":20,"dataChange":true}}"#,
            ],
        );
        commit(
            dir.path(),
            1,
            &[
                r#"{"commitInfo":{"timestamp":2000,"inCommitTimestamp":2500}}"#,
                r#"{"remove":{"path":"p=a/1.parquet","dataChange":true}}"#,
                r#"{"add":{"path":"p=a/3.parquet","partitionValues":{"p":"a"},"size":30,"dataChange":true}}"#,
                r#"{"txn":{"appId":"x","version":1}}"#,
            ],
        );
        dir
    }

    #[test]
    fn replays_commits_in_order() {
        let t = table();
        let log = DeltaLog::open(t.path()).unwrap();
        assert_eq!(log.latest(), 1);
        let s0 = log.snapshot(0).unwrap();
        let paths: Vec<&str> = s0.files.iter().map(|f| f.add.path()).collect();
        assert_eq!(paths, ["p=a/1.parquet", "p=b/2.parquet"]);
        assert_eq!(s0.files[0].add.num_records(), Some(3));
        let s1 = log.snapshot(1).unwrap();
        let paths: Vec<(&str, i64)> = s1.files.iter().map(|f| (f.add.path(), f.version)).collect();
        assert_eq!(paths, [("p=b/2.parquet", 0), ("p=a/3.parquet", 1)]);
        assert_eq!(s1.metadata["id"], "m");
        assert_eq!(log.timestamp(0).unwrap(), 1000);
        assert_eq!(log.timestamp(1).unwrap(), 2500, "inCommitTimestamp wins");
        assert!(matches!(log.snapshot(2), Err(LogError::Version(_))));
        let c1 = log.commit(1).unwrap();
        assert_eq!(c1.actions.len(), 3, "txn is ignored");
    }

    #[test]
    fn a_gap_or_no_log_is_refused() {
        let t = table();
        std::fs::remove_file(t.path().join("_delta_log").join(format!("{:020}.json", 0))).unwrap();
        let log = DeltaLog::open(t.path()).unwrap();
        assert!(matches!(log.snapshot(1), Err(LogError::Version(_))));
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(DeltaLog::open(empty.path()), Err(LogError::Unreadable(_))));
        std::fs::create_dir(empty.path().join("_delta_log")).unwrap();
        assert!(matches!(DeltaLog::open(empty.path()), Err(LogError::Unreadable(_))));
    }

    /// A table deltalake wrote (three appends, a delete, a checkpoint at version 3, one more
    /// append) whose commits before the checkpoint are gone.
    #[test]
    fn a_deltalake_checkpoint_rebuilds_the_table() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/delta/checkpointed");
        let log = DeltaLog::open(&dir).unwrap();
        assert_eq!((log.oldest(), log.latest()), (3, 4));
        let s = log.snapshot(4).unwrap();
        let regions: Vec<(Option<&str>, i64)> =
            s.files.iter().map(|f| (f.add.partition_value("region"), f.version)).collect();
        assert_eq!(regions, [(Some("eu"), 3), (Some("us"), 3), (Some("ap"), 4)], "checkpoint order, then commits");
        assert!(s.files.iter().all(|f| f.add.num_records() == Some(1) && f.add.size().is_some()));
        assert_eq!(s.metadata["partitionColumns"], serde_json::json!(["region"]));
        assert_eq!(s.protocol["minReaderVersion"], 1);
        assert!(s.files[0].add.raw.get("tags").is_none(), "null members of checkpoint rows are dropped");
        assert_eq!(log.snapshot(3).unwrap().files.len(), 2);
        assert!(matches!(log.snapshot(2), Err(LogError::Version(_))), "older than the checkpoint");
        assert!(log.timestamp(3).unwrap() > 0);
    }

    #[test]
    fn incomplete_multi_part_checkpoints_are_ignored() {
        let t = table();
        let log_dir = t.path().join("_delta_log");
        std::fs::write(log_dir.join(format!("{:020}.checkpoint.{:010}.{:010}.parquet", 1, 1, 2)), b"x").unwrap();
        let log = DeltaLog::open(t.path()).unwrap();
        assert!(log.checkpoints.is_empty());
        assert_eq!(log.snapshot(1).unwrap().files.len(), 2, "rebuilt from the commits");
    }
}
