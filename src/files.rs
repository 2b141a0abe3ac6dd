//! Real local storage behind storage URLs (listFiles): `file://` URLs and cloud
//! prefixes mapped with `--storage-map`, listed without ever leaving the directory a URL maps to.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::config::StorageMapping;
use crate::domain::storage_url::StorageUrl;
use crate::error::{ApiError, ApiResult};

/// The directories `file://` URLs may point into (`--file-root`), as real paths. Empty by
/// default: then no `file://` URL is accepted anywhere.
#[derive(Clone, Debug, Default)]
pub struct FileRoots(Arc<[PathBuf]>);

impl FileRoots {
    /// `dirs` are real paths (the flag's parser resolves them).
    pub fn new(dirs: Vec<PathBuf>) -> Self {
        FileRoots(dirs.into())
    }

    /// The file root that covers a `file://` URL (equal or under it, by path segment); `None`
    /// for other URLs and for uncovered ones.
    pub fn covering(&self, url: &StorageUrl) -> Option<&Path> {
        let path = Path::new(url.as_str().strip_prefix("file://")?);
        let path = if path.as_os_str().is_empty() { Path::new("/") } else { path };
        self.0.iter().find(|root| path.starts_with(root)).map(PathBuf::as_path)
    }

    /// A `file://` URL that no file root covers → 400 naming `field`. Other URLs pass. Checked
    /// before authorization and before any filesystem access, for every caller.
    pub fn check(&self, field: &str, url: &StorageUrl) -> ApiResult<()> {
        if url.as_str().starts_with("file://") && self.covering(url).is_none() {
            return Err(ApiError::invalid(field, self.refusal(url)));
        }
        Ok(())
    }

    /// The same check for a URL that may not even parse (parse errors are left to the caller).
    pub fn check_raw(&self, field: &str, raw: &str) -> ApiResult<()> {
        match StorageUrl::parse(raw) {
            Ok(url) => self.check(field, &url),
            Err(_) => Ok(()),
        }
    }

    fn refusal(&self, url: &StorageUrl) -> String {
        let roots = if self.0.is_empty() {
            "none is given".to_string()
        } else {
            self.0.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", ")
        };
        format!("{url}: file:// URLs must lie under a directory given with --file-root (file roots: {roots})")
    }
}

/// Where storage URLs live on this machine in this run: the `--storage-map` prefixes and the
/// `--file-root` directories.
#[derive(Clone, Debug, Default)]
pub struct LocalStorage {
    pub map: Arc<[StorageMapping]>,
    pub roots: FileRoots,
}

impl LocalStorage {
    /// The local directory of a stored URL, if it has one in this run.
    pub fn local_path(&self, url: &str) -> Option<LocalPath> {
        local_path(&StorageUrl::from_stored(url.to_string()), &self.map, &self.roots)
    }
}

/// Where a storage URL lives on this machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalPath {
    /// The directory the access may not leave (symbolic links included): the file root that
    /// covers a `file://` URL, or the mapped directory of a cloud URL.
    pub root: PathBuf,
    /// The path the URL names.
    pub path: PathBuf,
}

/// The local path of `url`: `file:///p` is `/p`, confined to the file root that covers it; a
/// cloud URL under a mapped prefix (longest prefix wins) is the mapped directory joined with the
/// rest of its path. `None`: no local directory (an unmapped cloud URL, or a `file://` URL that
/// no current file root covers).
pub fn local_path(url: &StorageUrl, map: &[StorageMapping], roots: &FileRoots) -> Option<LocalPath> {
    if let Some(path) = url.as_str().strip_prefix("file://") {
        let root = roots.covering(url)?;
        return Some(LocalPath {
            root: root.to_path_buf(),
            path: PathBuf::from(if path.is_empty() { "/" } else { path }),
        });
    }
    let mapping = map.iter().filter(|m| url.is_within(&m.url)).max_by_key(|m| m.url.as_str().len())?;
    let rest = &url.as_str()[mapping.url.as_str().len()..];
    let mut path = mapping.dir.clone();
    for seg in rest.split('/').filter(|s| !s.is_empty()) {
        path.push(seg);
    }
    Some(LocalPath { root: mapping.dir.clone(), path })
}

/// One entry of a listing.
#[derive(Debug)]
pub struct Entry {
    pub name: String,
    pub is_dir: bool,
    pub size: i64,
    pub mtime: i64,
}

/// Why a local path could not be listed or probed; none of these is a server fault.
#[derive(Debug)]
pub enum ListError {
    /// The path does not exist, or a component on the way is not a directory.
    NotFound,
    /// A symbolic link on the way leads outside the root.
    Outside,
    /// The emulator process may not read it.
    Denied,
    /// A symbolic-link loop, a name too long, or any other trouble.
    Invalid(String),
}

impl ListError {
    /// The answer for `url` (security rules for filesystem errors).
    pub fn to_api(&self, url: &str) -> ApiError {
        use crate::error::ErrorCode;
        match self {
            ListError::NotFound => {
                ApiError::new(ErrorCode::ResourceDoesNotExist, format!("Path '{url}' does not exist."))
            }
            ListError::Outside => {
                ApiError::denied(format!("Path '{url}' leads outside the directory its storage URL maps to."))
            }
            ListError::Denied => ApiError::denied(format!("The emulator may not read '{url}'.")),
            ListError::Invalid(why) => ApiError::invalid("url", format!("'{url}' cannot be read: {why}")),
        }
    }
}

fn io_error(e: std::io::Error) -> ListError {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound | ErrorKind::NotADirectory => ListError::NotFound,
        ErrorKind::PermissionDenied => ListError::Denied,
        _ => ListError::Invalid(e.to_string()),
    }
}

/// Most symbolic links followed while resolving one path (as Linux's MAXSYMLINKS).
const MAX_LINK_HOPS: usize = 40;

/// Resolves `local.path` to its real path without ever looking outside `local.root`: each
/// component is inspected with `lstat`, and a symbolic link is followed only while its target
/// stays inside the root (else [`ListError::Outside`], before the target is touched).
pub fn resolve(local: &LocalPath) -> Result<PathBuf, ListError> {
    let root = std::fs::canonicalize(&local.root).map_err(io_error)?;
    let rest = local.path.strip_prefix(&local.root).map_err(|_| ListError::Outside)?;
    let mut pending: VecDeque<OsString> = VecDeque::new();
    for c in rest.components() {
        match c {
            Component::Normal(n) => pending.push_back(n.to_os_string()),
            Component::CurDir => {}
            _ => return Err(ListError::Outside),
        }
    }
    let mut current = root.clone();
    let mut hops = 0;
    while let Some(name) = pending.pop_front() {
        if name == ".." {
            current.pop();
            if !current.starts_with(&root) {
                return Err(ListError::Outside);
            }
            continue;
        }
        let next = current.join(&name);
        let meta = std::fs::symlink_metadata(&next).map_err(io_error)?;
        if !meta.file_type().is_symlink() {
            current = next;
            continue;
        }
        hops += 1;
        if hops > MAX_LINK_HOPS {
            return Err(ListError::Invalid("too many levels of symbolic links".to_string()));
        }
        let target = std::fs::read_link(&next).map_err(io_error)?;
        let mut front: Vec<OsString> = Vec::new();
        if target.is_absolute() {
            // Lexically inside the root, or refused without looking.
            let rest = target.strip_prefix(&root).map_err(|_| ListError::Outside)?;
            current = root.clone();
            for c in rest.components() {
                match c {
                    Component::Normal(n) => front.push(n.to_os_string()),
                    Component::ParentDir => front.push("..".into()),
                    Component::CurDir => {}
                    _ => return Err(ListError::Outside),
                }
            }
        } else {
            for c in target.components() {
                match c {
                    Component::Normal(n) => front.push(n.to_os_string()),
                    Component::ParentDir => front.push("..".into()),
                    Component::CurDir => {}
                    _ => return Err(ListError::Outside),
                }
            }
        }
        for n in front.into_iter().rev() {
            pending.push_front(n);
        }
    }
    Ok(current)
}

fn mtime_ms(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn entry(name: String, meta: &std::fs::Metadata) -> Entry {
    let is_dir = meta.is_dir();
    let size = if is_dir { 0 } else { i64::try_from(meta.len()).unwrap_or(i64::MAX) };
    Entry { name, is_dir, size, mtime: mtime_ms(meta) }
}

/// Whether the real path of `local` is a directory (validate-storage-credentials' probe).
pub fn probe(local: &LocalPath) -> Result<bool, ListError> {
    let real = resolve(local)?;
    let is_dir = std::fs::metadata(&real).map_err(io_error)?.is_dir();
    if is_dir {
        // A directory that cannot be listed is not readable, whatever its metadata says (some
        // refuse only when their entries are read).
        std::fs::read_dir(&real).and_then(|mut d| d.next().transpose()).map_err(io_error)?;
    }
    Ok(is_dir)
}

/// Lists `local`: a directory's direct children ordered by name, or a regular file itself
/// (`true`: the path is a file). Links inside a listed directory are reported (not followed); a
/// link on the way to the path must resolve inside the root. Entries that cannot be inspected
/// are listed with size and mtime 0.
pub fn list(local: &LocalPath) -> Result<(bool, Vec<Entry>), ListError> {
    let real = resolve(local)?;
    let meta = std::fs::metadata(&real).map_err(io_error)?;
    if !meta.is_dir() {
        let name = file_name(&local.path);
        return Ok((true, vec![entry(name, &meta)]));
    }
    let mut out = Vec::new();
    for item in std::fs::read_dir(&real).map_err(io_error)? {
        // A directory whose entries cannot be read fails as a whole (EACCES: 403).
        let item = item.map_err(io_error)?;
        let name = item.file_name().to_string_lossy().into_owned();
        match std::fs::symlink_metadata(item.path()) {
            Ok(m) => out.push(entry(name, &m)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue, // gone meanwhile
            Err(_) => out.push(Entry { name, is_dir: false, size: 0, mtime: 0 }),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((false, out))
}

/// Creates `local.path` with its missing parents, never outside `local.root`: the deepest
/// existing ancestor must already resolve inside the root (symbolic links included).
pub fn create_dir_within(local: &LocalPath) -> Result<(), String> {
    if !local.path.starts_with(&local.root) {
        return Err("the path lies outside the directory its storage URL maps to".into());
    }
    std::fs::create_dir_all(&local.root).map_err(|e| e.to_string())?;
    let root = std::fs::canonicalize(&local.root).map_err(|e| e.to_string())?;
    let mut existing = local.path.as_path();
    while std::fs::symlink_metadata(existing).is_err() {
        existing = existing.parent().ok_or("no existing parent")?;
    }
    let real = std::fs::canonicalize(existing).map_err(|e| e.to_string())?;
    if !real.starts_with(&root) {
        return Err("a symbolic link on the way leads outside the directory its storage URL maps to".into());
    }
    std::fs::create_dir_all(&local.path).map_err(|e| e.to_string())?;
    let made = std::fs::canonicalize(&local.path).map_err(|e| e.to_string())?;
    if !made.starts_with(&root) || !made.is_dir() {
        return Err("the path does not resolve to a directory inside its root".into());
    }
    Ok(())
}

/// Removes the directory `local.path` and everything in it (links are removed, not followed),
/// if it resolves strictly inside `local.root`. A missing directory is not an error.
pub fn remove_dir_within(local: &LocalPath) -> std::io::Result<()> {
    let real = match std::fs::canonicalize(&local.path) {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let root = std::fs::canonicalize(&local.root)?;
    if real == root || !real.starts_with(&root) {
        return Err(std::io::Error::other("the directory does not lie strictly inside its root"));
    }
    std::fs::remove_dir_all(real)
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(url: &str, dir: &Path) -> StorageMapping {
        StorageMapping { url: StorageUrl::parse(url).unwrap(), dir: dir.to_path_buf() }
    }

    #[test]
    fn longest_mapped_prefix_wins_and_near_misses_are_unmapped() {
        let map = [mapping("s3://b", Path::new("/data/b")), mapping("s3://b/deep", Path::new("/other"))];
        let p = local_path(&StorageUrl::parse("s3://b/deep/x").unwrap(), &map, &FileRoots::default()).unwrap();
        assert_eq!(p, LocalPath { root: "/other".into(), path: "/other/x".into() });
        let p = local_path(&StorageUrl::parse("s3://b/deeper").unwrap(), &map, &FileRoots::default()).unwrap();
        assert_eq!(p.path, PathBuf::from("/data/b/deeper"));
        assert!(local_path(&StorageUrl::parse("s3://bb/x").unwrap(), &map, &FileRoots::default()).is_none());
        let file = StorageUrl::parse("file:///tmp/x").unwrap();
        assert!(local_path(&file, &map, &FileRoots::default()).is_none(), "no file root, no local path");
        let roots = FileRoots::new(vec!["/tmp".into()]);
        assert_eq!(local_path(&file, &map, &roots).unwrap(), LocalPath { root: "/tmp".into(), path: "/tmp/x".into() });
        assert!(roots.check("url", &StorageUrl::parse("file:///tmpx").unwrap()).is_err(), "by path segment");
        assert!(roots.check("url", &StorageUrl::parse("file:///tmp").unwrap()).is_ok());
    }

    #[test]
    fn lists_children_by_name_and_refuses_links_out_of_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("b.txt"), b"hello").unwrap();
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&outside, root.join("escape")).unwrap();
        let (is_file, all) = list(&LocalPath { root: root.clone(), path: root.clone() }).unwrap();
        assert!(!is_file);
        let names: Vec<&str> = all.iter().map(|e| e.name.as_str()).collect();
        #[cfg(unix)]
        assert_eq!(names, ["b.txt", "escape", "sub"]);
        assert_eq!(all[0].size, 5);
        assert!(all.iter().any(|e| e.name == "sub" && e.is_dir && e.size == 0));
        #[cfg(unix)]
        assert!(matches!(list(&LocalPath { root: root.clone(), path: root.join("escape") }), Err(ListError::Outside)));
        assert!(matches!(list(&LocalPath { root: root.clone(), path: root.join("nope") }), Err(ListError::NotFound)));
        let (is_file, one) = list(&LocalPath { root: root.clone(), path: root.join("b.txt") }).unwrap();
        assert!(is_file);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].name, "b.txt");
    }
}
