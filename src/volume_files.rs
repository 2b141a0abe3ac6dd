//! The filesystem side of the Files API on volumes: a volume is a local directory, and every
//! path below it is a list of already validated segments (no `.`, `..`, `/`, `\` or control
//! characters). Every access resolves real paths component by component ([`files::resolve`]) and
//! never leaves the volume's directory; nothing here knows HTTP.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::files::{self, ListError, LocalPath};

/// Why a Files API operation failed; none of these is a server fault but `Io`.
#[derive(Debug)]
pub enum FsError {
    /// No file (or directory) of the wanted kind there.
    NotFound,
    /// Something of the other kind is in the way (409 `ALREADY_EXISTS`).
    Conflict(String),
    /// A symbolic link leads outside the volume.
    Outside,
    /// A directory that is not empty cannot be deleted.
    NotEmpty,
    Io(io::Error),
}

impl From<io::Error> for FsError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => FsError::NotFound,
            io::ErrorKind::DirectoryNotEmpty => FsError::NotEmpty,
            _ => FsError::Io(e),
        }
    }
}

fn from_list(e: ListError) -> FsError {
    match e {
        ListError::NotFound => FsError::NotFound,
        ListError::Outside => FsError::Outside,
        ListError::Denied => FsError::Io(io::Error::from(io::ErrorKind::PermissionDenied)),
        ListError::Invalid(why) => FsError::Io(io::Error::other(why)),
    }
}

/// A volume's directory on this machine.
#[derive(Clone, Debug)]
pub struct VolumeDir {
    /// Where the volume's storage location maps to (inside its file root or mapped directory).
    pub local: LocalPath,
}

/// Metadata of a regular file.
#[derive(Debug, Clone, Copy)]
pub struct FileMeta {
    pub size: u64,
    pub modified: SystemTime,
}

/// One entry of a directory listing.
#[derive(Debug)]
pub struct Entry {
    pub name: String,
    pub is_dir: bool,
    pub size: u64,
    pub modified_ms: i64,
}

fn millis(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)).unwrap_or(0)
}

impl VolumeDir {
    /// The volume's directory, (re)created when missing, inside its root.
    pub fn ensure(&self) -> Result<PathBuf, FsError> {
        files::create_dir_within(&self.local).map_err(|why| FsError::Io(io::Error::other(why)))?;
        self.resolve(&[])
    }

    /// The real path of `rel` (which must exist), never outside the volume.
    fn resolve(&self, rel: &[String]) -> Result<PathBuf, FsError> {
        let mut path = self.local.path.clone();
        path.extend(rel);
        files::resolve(&LocalPath { root: self.local.path.clone(), path }).map_err(from_list)
    }

    /// For a path that may not exist yet: the real path of its deepest existing ancestor joined
    /// with the missing rest. A file on the way is a conflict.
    fn resolve_for_create(&self, rel: &[String]) -> Result<PathBuf, FsError> {
        for i in (0..=rel.len()).rev() {
            match self.resolve(&rel[..i]) {
                Ok(real) => {
                    if i < rel.len() && !real.is_dir() {
                        return Err(FsError::Conflict(format!("'{}' is a file, not a directory", rel[..i].join("/"))));
                    }
                    let mut out = real;
                    out.extend(&rel[i..]);
                    return Ok(out);
                }
                Err(FsError::NotFound) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(FsError::NotFound)
    }

    /// Metadata of the regular file at `rel` (404 for a directory or nothing).
    pub fn file_meta(&self, rel: &[String]) -> Result<(PathBuf, FileMeta), FsError> {
        if rel.is_empty() {
            return Err(FsError::NotFound);
        }
        let real = self.resolve(rel)?;
        let meta = fs::metadata(&real)?;
        if !meta.is_file() {
            return Err(FsError::NotFound);
        }
        Ok((real, FileMeta { size: meta.len(), modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH) }))
    }

    /// Opens the file at `rel` positioned at `offset`.
    pub fn open_at(&self, real: &Path, offset: u64) -> Result<File, FsError> {
        let mut f = File::open(real)?;
        f.seek(SeekFrom::Start(offset))?;
        Ok(f)
    }

    /// Checks an upload's target before its body is read: parents that are files, or a
    /// directory at the target, conflict; an existing file conflicts unless `overwrite`.
    /// Returns the (real) directory to write into and the file name.
    pub fn prepare_upload(&self, rel: &[String], overwrite: bool) -> Result<(PathBuf, String), FsError> {
        let (name, parents) =
            rel.split_last().ok_or_else(|| FsError::Conflict("the volume root is a directory".into()))?;
        self.ensure()?;
        let parent = self.resolve_for_create(parents)?;
        if fs::metadata(&parent).is_ok_and(|m| !m.is_dir()) {
            return Err(FsError::Conflict(format!("'{}' is a file, not a directory", parents.join("/"))));
        }
        let target = parent.join(name);
        match fs::symlink_metadata(&target) {
            Ok(_) => match self.resolve(rel) {
                Ok(real) if real.is_dir() => {
                    return Err(FsError::Conflict(format!("'{}' is a directory", rel.join("/"))))
                }
                Ok(_) if !overwrite => {
                    return Err(FsError::Conflict(format!("the file '{}' already exists", rel.join("/"))))
                }
                Ok(_) => {}
                Err(FsError::NotFound) if !overwrite => {
                    return Err(FsError::Conflict(format!("'{}' already exists", rel.join("/"))))
                }
                Err(FsError::NotFound) => {}
                Err(e) => return Err(e),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        Ok((parent, name.clone()))
    }

    /// Creates the directory at `rel` and its parents (`mkdir -p`); an existing directory is
    /// fine, a file at the path or a parent is a conflict.
    pub fn create_dir(&self, rel: &[String]) -> Result<(), FsError> {
        self.ensure()?;
        let target = self.resolve_for_create(rel)?;
        match fs::metadata(&target) {
            Ok(m) if m.is_dir() => return Ok(()),
            Ok(_) => return Err(FsError::Conflict(format!("'{}' is a file", rel.join("/")))),
            Err(_) => {}
        }
        fs::create_dir_all(&target).map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists | io::ErrorKind::NotADirectory => {
                FsError::Conflict(format!("a file is in the way of '{}'", rel.join("/")))
            }
            _ => FsError::Io(e),
        })?;
        self.resolve(rel).map(|_| ())
    }

    /// Whether `rel` is a directory (the volume root always is).
    pub fn dir_exists(&self, rel: &[String]) -> Result<(), FsError> {
        if rel.is_empty() {
            self.ensure()?;
        }
        let real = self.resolve(rel)?;
        if fs::metadata(real)?.is_dir() {
            Ok(())
        } else {
            Err(FsError::NotFound)
        }
    }

    /// The direct children of the directory `rel`, by name (byte order); entries that are
    /// neither files nor directories, or links leading out of the volume, are left out.
    pub fn list(&self, rel: &[String]) -> Result<Vec<Entry>, FsError> {
        if rel.is_empty() {
            self.ensure()?;
        }
        let real = self.resolve(rel)?;
        if !fs::metadata(&real)?.is_dir() {
            return Err(FsError::NotFound);
        }
        let mut out = Vec::new();
        for item in fs::read_dir(&real)? {
            let Ok(item) = item else { continue };
            let Ok(name) = item.file_name().into_string() else { continue };
            if name.starts_with(UPLOAD_PREFIX) {
                continue; // an upload in flight
            }
            let mut child = rel.to_vec();
            child.push(name.clone());
            let meta = match fs::symlink_metadata(item.path()) {
                Ok(m) if m.file_type().is_symlink() => match self.resolve(&child).and_then(|p| Ok(fs::metadata(p)?)) {
                    Ok(m) => m,
                    Err(_) => continue,
                },
                Ok(m) => m,
                Err(_) => continue,
            };
            if !(meta.is_file() || meta.is_dir()) {
                continue;
            }
            out.push(Entry {
                name,
                is_dir: meta.is_dir(),
                size: if meta.is_dir() { 0 } else { meta.len() },
                modified_ms: meta.modified().map(millis).unwrap_or(0),
            });
        }
        out.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        Ok(out)
    }

    /// Deletes the file at `rel` (a link is removed, not followed). A directory or nothing: 404.
    pub fn delete_file(&self, rel: &[String]) -> Result<(), FsError> {
        let (name, parents) = rel.split_last().ok_or(FsError::NotFound)?;
        self.file_meta(rel)?;
        let parent = self.resolve(parents)?;
        fs::remove_file(parent.join(name))?;
        Ok(())
    }

    /// Deletes the empty directory at `rel`; the volume root cannot be deleted (caller's 400).
    pub fn delete_dir(&self, rel: &[String]) -> Result<(), FsError> {
        let (name, parents) = rel.split_last().ok_or(FsError::NotFound)?;
        self.dir_exists(rel)?;
        let path = self.resolve(parents)?.join(name);
        if fs::symlink_metadata(&path)?.file_type().is_symlink() {
            fs::remove_file(path)?;
            return Ok(());
        }
        fs::remove_dir(path)?;
        Ok(())
    }
}

/// Names of files being uploaded (written aside, then renamed into place).
pub const UPLOAD_PREFIX: &str = ".uc-upload-";

/// An upload being written aside in the target's directory; dropped without [`Upload::commit`],
/// the partial file is removed and the previous file (if any) stays.
pub struct Upload {
    file: Option<File>,
    temp: PathBuf,
    target: PathBuf,
    pub written: u64,
}

impl Upload {
    /// Starts writing `name` in `dir` (from [`VolumeDir::prepare_upload`]), creating `dir`.
    pub fn start(dir: &Path, name: &str) -> Result<Upload, FsError> {
        fs::create_dir_all(dir).map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists | io::ErrorKind::NotADirectory => {
                FsError::Conflict("a file is in the way of the target's directory".into())
            }
            _ => FsError::Io(e),
        })?;
        let temp = dir.join(format!("{UPLOAD_PREFIX}{}", uuid::Uuid::new_v4()));
        let file = File::options().write(true).create_new(true).open(&temp)?;
        Ok(Upload { file: Some(file), temp, target: dir.join(name), written: 0 })
    }

    pub fn write(&mut self, chunk: &[u8]) -> Result<(), FsError> {
        self.file.as_mut().expect("open until committed").write_all(chunk)?;
        self.written += chunk.len() as u64;
        Ok(())
    }

    /// Makes the new content visible at once (rename over the target). With `overwrite` false
    /// an existing target wins (409) and nothing changes.
    pub fn commit(mut self, overwrite: bool) -> Result<(), FsError> {
        let file = self.file.take().expect("open until committed");
        file.sync_data()?;
        drop(file);
        if fs::metadata(&self.target).is_ok_and(|m| m.is_dir()) {
            return Err(FsError::Conflict("the target is a directory".into()));
        }
        if !overwrite {
            // Atomically: fails if the target appeared meanwhile.
            return match fs::hard_link(&self.temp, &self.target) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    Err(FsError::Conflict("the file already exists".into()))
                }
                Err(e) => Err(e.into()),
            };
        }
        fs::rename(&self.temp, &self.target)?;
        Ok(())
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        // After a rename there is nothing left to remove; after a hard link, the aside name.
        let _ = fs::remove_file(&self.temp);
    }
}

/// Reads `len` bytes of `file` in chunks of at most `chunk` bytes, handing each to `send` until
/// it returns false (the client went away).
pub fn read_chunks(mut file: File, len: u64, chunk: usize, mut send: impl FnMut(io::Result<Vec<u8>>) -> bool) {
    let mut left = len;
    while left > 0 {
        let want = usize::try_from(left).unwrap_or(usize::MAX).min(chunk);
        let mut buf = vec![0u8; want];
        match file.read(&mut buf) {
            Ok(0) => {
                let _ = send(Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file became shorter")));
                return;
            }
            Ok(n) => {
                buf.truncate(n);
                left -= n as u64;
                if !send(Ok(buf)) {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = send(Err(e));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vol(dir: &Path) -> VolumeDir {
        VolumeDir { local: LocalPath { root: dir.to_path_buf(), path: dir.join("v") } }
    }

    fn rel(p: &str) -> Vec<String> {
        p.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect()
    }

    #[test]
    fn upload_list_and_delete_stay_inside_the_volume() {
        let tmp = tempfile::tempdir().unwrap();
        let v = vol(tmp.path());
        let (dir, name) = v.prepare_upload(&rel("a/b/c.txt"), true).unwrap();
        let mut up = Upload::start(&dir, &name).unwrap();
        up.write(b"hello").unwrap();
        up.commit(true).unwrap();
        assert_eq!(fs::read(tmp.path().join("v/a/b/c.txt")).unwrap(), b"hello");
        assert!(matches!(v.prepare_upload(&rel("a/b/c.txt"), false), Err(FsError::Conflict(_))));
        assert!(matches!(v.prepare_upload(&rel("a/b"), true), Err(FsError::Conflict(_))));
        assert!(matches!(v.prepare_upload(&rel("a/b/c.txt/d"), true), Err(FsError::Conflict(_))));
        let names: Vec<String> = v.list(&rel("a/b")).unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["c.txt"]);
        assert!(matches!(v.delete_dir(&rel("a/b")), Err(FsError::NotEmpty)));
        v.delete_file(&rel("a/b/c.txt")).unwrap();
        v.delete_dir(&rel("a/b")).unwrap();
        assert!(matches!(v.file_meta(&rel("a/b/c.txt")), Err(FsError::NotFound)));
    }

    #[cfg(unix)]
    #[test]
    fn links_out_of_the_volume_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let v = vol(tmp.path());
        v.ensure().unwrap();
        fs::create_dir(tmp.path().join("outside")).unwrap();
        fs::write(tmp.path().join("outside/secret"), b"s").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("outside"), tmp.path().join("v/escape")).unwrap();
        assert!(matches!(v.file_meta(&rel("escape/secret")), Err(FsError::Outside)));
        assert!(matches!(v.prepare_upload(&rel("escape/new"), true), Err(FsError::Outside)));
        assert!(matches!(v.create_dir(&rel("escape/d")), Err(FsError::Outside)));
        assert!(v.list(&[]).unwrap().is_empty(), "a link out of the volume is not listed");
        assert!(!tmp.path().join("outside/new").exists() && !tmp.path().join("outside/d").exists());
    }

    #[test]
    fn an_aborted_upload_leaves_the_previous_file() {
        let tmp = tempfile::tempdir().unwrap();
        let v = vol(tmp.path());
        let (dir, name) = v.prepare_upload(&rel("f"), true).unwrap();
        let mut up = Upload::start(&dir, &name).unwrap();
        up.write(b"old").unwrap();
        up.commit(true).unwrap();
        let (dir, name) = v.prepare_upload(&rel("f"), true).unwrap();
        let mut up = Upload::start(&dir, &name).unwrap();
        up.write(b"partial").unwrap();
        drop(up);
        assert_eq!(fs::read(tmp.path().join("v/f")).unwrap(), b"old");
        assert_eq!(v.list(&[]).unwrap().len(), 1, "no partial file left behind");
    }
}
