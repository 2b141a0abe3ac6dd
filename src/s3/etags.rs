//! ETags of the files the endpoint serves: the quoted hex MD5 of the content, which S3 clients
//! compare. A file not written through the endpoint is hashed the first time it is read, once
//! even when several requests ask at the same moment (pyarrow reads one file with parallel
//! ranged GETs), and the answer is kept while the file keeps its identity: inode, size,
//! modification and change times (nanoseconds). With a state directory (next to the database)
//! the cache is also kept in a journal file, so a restart does not hash the same files again.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use md5::{Digest, Md5};

/// What must be unchanged for a cached ETag to stay valid.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Identity {
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl Identity {
    pub fn of(meta: &fs::Metadata) -> Identity {
        Identity {
            ino: meta.ino(),
            size: meta.len(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            ctime_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
        }
    }
}

/// Entries kept at most; the cache starts over beyond (it is only a cache).
const MAX_ENTRIES: usize = 100_000;

pub struct Etags {
    known: Mutex<HashMap<PathBuf, (Identity, String)>>,
    /// One gate per file being hashed, so concurrent first reads hash it once.
    hashing: Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>,
    /// Appended with every new entry when the cache is persistent.
    journal: Option<Mutex<Journal>>,
    /// Files hashed so far (what the cache saves is the difference).
    hashed: std::sync::atomic::AtomicUsize,
}

/// The journal file and how many lines it holds; rewritten from the cache when it has grown
/// to twice the entries kept (a file rewritten many times adds a line each time).
struct Journal {
    path: PathBuf,
    file: fs::File,
    lines: usize,
}

impl Journal {
    /// Writes `known` as the whole journal (through a renamed temporary file) and opens it for
    /// appending.
    fn rewrite(path: &Path, known: &HashMap<PathBuf, (Identity, String)>) -> std::io::Result<Journal> {
        let tmp = path.with_extension("tmp");
        let mut lines = 0;
        {
            let mut out = std::io::BufWriter::new(fs::File::create(&tmp)?);
            for (p, (id, etag)) in known {
                if let Some(line) = format_line(p, id, etag) {
                    out.write_all(line.as_bytes())?;
                    lines += 1;
                }
            }
            out.flush()?;
        }
        fs::rename(&tmp, path)?;
        let file = fs::OpenOptions::new().append(true).open(path)?;
        Ok(Journal { path: path.to_path_buf(), file, lines })
    }
}

impl Etags {
    /// A cache kept only in memory.
    pub fn in_memory() -> Etags {
        Etags {
            known: Mutex::new(HashMap::new()),
            hashing: Mutex::new(HashMap::new()),
            journal: None,
            hashed: Default::default(),
        }
    }

    /// A cache kept in `journal` too: the entries whose files are unchanged are loaded, and the
    /// journal is rewritten with only those.
    pub fn persistent(journal: &Path) -> std::io::Result<Etags> {
        let mut known = HashMap::new();
        if let Ok(f) = fs::File::open(journal) {
            for line in std::io::BufReader::new(f).lines().map_while(Result::ok) {
                if let Some((path, id, etag)) = parse_line(&line) {
                    known.insert(path, (id, etag));
                }
            }
        }
        known.retain(|path, (id, _)| fs::metadata(path).is_ok_and(|m| m.is_file() && Identity::of(&m) == *id));
        if known.len() > MAX_ENTRIES {
            known.clear();
        }
        let journal = Journal::rewrite(journal, &known)?;
        Ok(Etags {
            known: Mutex::new(known),
            hashing: Mutex::new(HashMap::new()),
            journal: Some(Mutex::new(journal)),
            hashed: Default::default(),
        })
    }

    fn cached(&self, path: &Path, id: &Identity) -> Option<String> {
        match self.known.lock().unwrap_or_else(|e| e.into_inner()).get(path) {
            Some((known, etag)) if known == id => Some(etag.clone()),
            _ => None,
        }
    }

    /// The ETag of the regular file `path` whose metadata is `meta`: cached, or computed now
    /// (once, however many requests ask together).
    pub fn of(&self, path: &Path, meta: &fs::Metadata) -> std::io::Result<String> {
        let id = Identity::of(meta);
        if let Some(e) = self.cached(path, &id) {
            return Ok(e);
        }
        let gate =
            Arc::clone(self.hashing.lock().unwrap_or_else(|e| e.into_inner()).entry(path.to_path_buf()).or_default());
        let result = {
            let _hashing = gate.lock().unwrap_or_else(|e| e.into_inner());
            match self.cached(path, &id) {
                Some(e) => Ok(e),
                None => md5_of_file(path).inspect(|e| {
                    self.hashed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    // Kept only if the file did not change while it was read.
                    if fs::metadata(path).is_ok_and(|m| Identity::of(&m) == id) {
                        self.remember(path, meta, e);
                    }
                }),
            }
        };
        let mut hashing = self.hashing.lock().unwrap_or_else(|e| e.into_inner());
        if hashing.get(path).is_some_and(|g| Arc::ptr_eq(g, &gate)) {
            hashing.remove(path);
        }
        result
    }

    /// Records the ETag of a file the endpoint has just written (or hashed).
    pub fn remember(&self, path: &Path, meta: &fs::Metadata, etag: &str) {
        let id = Identity::of(meta);
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if known.len() >= MAX_ENTRIES {
            known.clear();
        }
        known.insert(path.to_path_buf(), (id, etag.to_string()));
        if let (Some(journal), Some(line)) = (&self.journal, format_line(path, &id, etag)) {
            // A journal that cannot be written only costs a hash after the next restart.
            let mut j = journal.lock().unwrap_or_else(|e| e.into_inner());
            if j.file.write_all(line.as_bytes()).is_ok() {
                j.lines += 1;
            }
            if j.lines > 2 * MAX_ENTRIES.min(known.len().max(1024)) {
                if let Ok(fresh) = Journal::rewrite(&j.path.clone(), &known) {
                    *j = fresh;
                }
            }
        }
    }
}

/// `ino size mtime_ns ctime_ns md5 path`; paths with a newline are not journaled.
fn format_line(path: &Path, id: &Identity, etag: &str) -> Option<String> {
    let p = path.to_str().filter(|p| !p.contains('\n'))?;
    Some(format!("{} {} {} {} {etag} {p}\n", id.ino, id.size, id.mtime_ns, id.ctime_ns))
}

fn parse_line(line: &str) -> Option<(PathBuf, Identity, String)> {
    let mut it = line.splitn(6, ' ');
    let id = Identity {
        ino: it.next()?.parse().ok()?,
        size: it.next()?.parse().ok()?,
        mtime_ns: it.next()?.parse().ok()?,
        ctime_ns: it.next()?.parse().ok()?,
    };
    let etag = it.next()?;
    let path = it.next()?;
    (etag.len() == 32 || etag.contains('-')).then(|| (PathBuf::from(path), id, etag.to_string()))
}

/// Bytes read per call while hashing.
const READ: usize = 1024 * 1024;

/// The hex MD5 of a file's content.
pub fn md5_of_file(path: &Path) -> std::io::Result<String> {
    let mut f = fs::File::open(path)?;
    let mut h = Md5::new();
    let mut buf = vec![0u8; READ];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(hex(&h.finalize()));
        }
        h.update(&buf[..n]);
    }
}

pub fn hex(d: &[u8]) -> String {
    use std::fmt::Write as _;
    d.iter().fold(String::with_capacity(d.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_first_reads_hash_a_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("big");
        fs::write(&f, vec![7u8; 8 << 20]).unwrap();
        let cache = Etags::in_memory();
        let m = fs::metadata(&f).unwrap();
        let answers: Vec<String> = std::thread::scope(|s| {
            let all: Vec<_> = (0..8).map(|_| s.spawn(|| cache.of(&f, &m).unwrap())).collect();
            all.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(answers.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(cache.hashed.load(std::sync::atomic::Ordering::Relaxed), 1, "eight readers, one hash");
        assert!(cache.hashing.lock().unwrap().is_empty(), "no gate is left behind");
    }

    #[test]
    fn a_file_is_hashed_once_and_again_only_when_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a");
        fs::write(&f, b"hello").unwrap();
        let journal = dir.path().join("etags");
        let cache = Etags::persistent(&journal).unwrap();
        let m = fs::metadata(&f).unwrap();
        assert_eq!(cache.of(&f, &m).unwrap(), "5d41402abc4b2a76b9719d911017c592");
        // A cached entry answers without reading: a wrong remembered value shows it.
        cache.remember(&f, &m, "00000000000000000000000000000000");
        assert_eq!(cache.of(&f, &m).unwrap(), "00000000000000000000000000000000");
        // Reloaded from the journal, the entry is still valid while the file is unchanged.
        drop(cache);
        let again = Etags::persistent(&journal).unwrap();
        assert_eq!(again.of(&f, &m).unwrap(), "00000000000000000000000000000000");
        // A change of content (same size) changes the identity: hashed again.
        std::thread::sleep(std::time::Duration::from_millis(5));
        fs::write(&f, b"world").unwrap();
        let m2 = fs::metadata(&f).unwrap();
        assert_eq!(again.of(&f, &m2).unwrap(), "7d793037a0760186574b0282f2f435e7");
        drop(again);
        // The journal keeps only entries of unchanged files.
        let reloaded = Etags::persistent(&journal).unwrap();
        assert_eq!(reloaded.known.lock().unwrap().len(), 1);
        fs::remove_file(&f).unwrap();
        drop(reloaded);
        assert_eq!(Etags::persistent(&journal).unwrap().known.lock().unwrap().len(), 0);
    }
}
