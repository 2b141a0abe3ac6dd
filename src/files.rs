//! Real local storage behind storage URLs (spec §10.3 listFiles): `file://` URLs and cloud
//! prefixes mapped with `--storage-map`, listed without ever leaving the directory a URL maps to.

use std::path::{Path, PathBuf};

use crate::config::StorageMapping;
use crate::domain::storage_url::StorageUrl;

/// Where a storage URL lives on this machine.
#[derive(Debug, PartialEq, Eq)]
pub struct LocalPath {
    /// The directory the listing may not leave (symbolic links included).
    pub root: PathBuf,
    /// The path the URL names.
    pub path: PathBuf,
}

/// The local path of `url`: `file:///p` is `/p` (confined to `file_root`, the covering
/// location's directory, when there is one); a cloud URL under a mapped prefix (longest prefix
/// wins) is the mapped directory joined with the rest of its path. `None`: an unmapped cloud URL.
pub fn local_path(url: &StorageUrl, map: &[StorageMapping], file_root: Option<&StorageUrl>) -> Option<LocalPath> {
    if let Some(path) = url.as_str().strip_prefix("file://") {
        let root = file_root.and_then(|r| r.as_str().strip_prefix("file://")).unwrap_or("/");
        let root = if root.is_empty() { "/" } else { root };
        return Some(LocalPath {
            root: PathBuf::from(root),
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

#[derive(Debug)]
pub enum ListError {
    /// The path does not exist.
    NotFound,
    /// A symbolic link on the way leads outside the root.
    Outside,
    Io(std::io::Error),
}

fn mtime_ms(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn entry(name: String, meta: &std::fs::Metadata) -> Entry {
    let is_dir = meta.is_dir();
    Entry { name, is_dir, size: if is_dir { 0 } else { meta.len() as i64 }, mtime: mtime_ms(meta) }
}

/// Lists `local`: a directory's direct children ordered by name, or a regular file itself
/// (`true`: the path is a file). Links inside a listed directory are reported (not followed); a
/// link on the way to the path must resolve inside the root.
pub fn list(local: &LocalPath) -> Result<(bool, Vec<Entry>), ListError> {
    let io = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => ListError::NotFound,
        _ => ListError::Io(e),
    };
    let root = std::fs::canonicalize(&local.root).map_err(io)?;
    let real = std::fs::canonicalize(&local.path).map_err(io)?;
    if !real.starts_with(&root) {
        return Err(ListError::Outside);
    }
    let meta = std::fs::metadata(&real).map_err(io)?;
    if !meta.is_dir() {
        let name = file_name(&local.path);
        return Ok((true, vec![entry(name, &meta)]));
    }
    let mut out = Vec::new();
    for item in std::fs::read_dir(&real).map_err(io)? {
        let item = item.map_err(ListError::Io)?;
        let meta = match std::fs::symlink_metadata(item.path()) {
            Ok(m) => m,
            // Gone between read_dir and stat: not listed.
            Err(_) => continue,
        };
        out.push(entry(item.file_name().to_string_lossy().into_owned(), &meta));
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
        let p = local_path(&StorageUrl::parse("s3://b/deep/x").unwrap(), &map, None).unwrap();
        assert_eq!(p, LocalPath { root: "/other".into(), path: "/other/x".into() });
        let p = local_path(&StorageUrl::parse("s3://b/deeper").unwrap(), &map, None).unwrap();
        assert_eq!(p.path, PathBuf::from("/data/b/deeper"));
        assert!(local_path(&StorageUrl::parse("s3://bb/x").unwrap(), &map, None).is_none());
        let f = local_path(&StorageUrl::parse("file:///tmp/x").unwrap(), &map, None).unwrap();
        assert_eq!(f, LocalPath { root: "/".into(), path: "/tmp/x".into() });
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
