//! The S3 operations over local directories: `s3://bucket/key` is the file at the local path of
//! that URL (`--storage-map`, longest prefix). Reads stream through a short queue of pooled
//! 1 MiB buffers (bounded memory, no allocation or zeroing per chunk); writes go to a temporary file beside the target and are renamed into place, so
//! readers never see a partial object; `If-None-Match: *` creates with a hard link, which fails
//! atomically when the key exists (delta-rs commits rely on it). Multipart parts wait in a
//! staging directory outside every mapped directory.

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bytes::Bytes;
use futures_util::StreamExt;
use md5::{Digest, Md5};
use s3s::dto::*;
use s3s::{s3_error, S3Error, S3ErrorCode, S3Request, S3Response, S3Result, S3};

use super::etags::{hex, Etags};
use crate::domain::storage_url::StorageUrl;
use crate::files::{self, ListError, LocalPath, LocalStorage};
use crate::vended::Registry;

/// Bytes per chunk of a streamed read, and chunks queued ahead of the connection.
const CHUNK: usize = 1024 * 1024;
const QUEUED_CHUNKS: usize = 4;

/// Warm read buffers shared by every GetObject. A chunk leaves as `Bytes` owning a pooled
/// buffer, which comes back when the connection has written it: steady streaming cycles through
/// a few buffers instead of allocating and zeroing a fresh one per chunk. At most
/// `POOL_IDLE` buffers wait idle; memory in flight stays bounded by the per-request queue.
pub struct BufferPool {
    idle: Mutex<Vec<Vec<u8>>>,
}

const POOL_IDLE: usize = 8;

struct Pooled {
    buf: Vec<u8>,
    len: usize,
    pool: Arc<BufferPool>,
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        let mut idle = self.pool.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < POOL_IDLE {
            idle.push(buf);
        }
    }
}

impl BufferPool {
    fn new() -> Arc<BufferPool> {
        Arc::new(BufferPool { idle: Mutex::new(Vec::new()) })
    }

    /// The next `n` bytes of `f` (n at most one chunk) in a pooled buffer.
    fn read_chunk(self: &Arc<Self>, f: &mut fs::File, n: usize) -> std::io::Result<Bytes> {
        let mut buf = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop().unwrap_or_default();
        if buf.len() != CHUNK {
            buf = vec![0u8; CHUNK];
        }
        f.read_exact(&mut buf[..n])?;
        Ok(Bytes::from_owner(Pooled { buf, len: n, pool: Arc::clone(self) }))
    }
}
/// The flexible checksum algorithms S3 accepts on a write.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Algorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl Algorithm {
    const ALL: [Algorithm; 5] =
        [Algorithm::Crc32, Algorithm::Crc32c, Algorithm::Crc64Nvme, Algorithm::Sha1, Algorithm::Sha256];

    /// `x-amz-checksum-<algorithm>`: the header (or trailer) that carries the value.
    fn header(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "x-amz-checksum-crc32",
            Algorithm::Crc32c => "x-amz-checksum-crc32c",
            Algorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Algorithm::Sha1 => "x-amz-checksum-sha1",
            Algorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    fn computed(self, sums: &s3s::dto::Checksum) -> Option<&str> {
        match self {
            Algorithm::Crc32 => sums.checksum_crc32.as_deref(),
            Algorithm::Crc32c => sums.checksum_crc32c.as_deref(),
            Algorithm::Crc64Nvme => sums.checksum_crc64nvme.as_deref(),
            Algorithm::Sha1 => sums.checksum_sha1.as_deref(),
            Algorithm::Sha256 => sums.checksum_sha256.as_deref(),
        }
    }
}

/// The checksums a PutObject or UploadPart declares: `x-amz-checksum-*` headers (value known
/// up front), and the one an aws-chunked body names in `x-amz-trailer`
/// (`STREAMING-UNSIGNED-PAYLOAD-TRAILER` and its signed form), whose value follows the body.
/// Each is verified when its value is present.
struct Declared {
    headers: Vec<(Algorithm, String)>,
    trailer: Option<(Algorithm, s3s::TrailingHeaders)>,
}

impl Declared {
    fn of(headers: &hyper::HeaderMap, trailers: Option<s3s::TrailingHeaders>) -> S3Result<Declared> {
        let mut found = Vec::new();
        for a in Algorithm::ALL {
            if let Some(v) = headers.get(a.header()) {
                let v = v.to_str().map_err(|_| s3_error!(InvalidRequest, "{} is not text", a.header()))?;
                found.push((a, v.to_string()));
            }
        }
        let trailer = match headers.get("x-amz-trailer").map(|v| v.to_str().unwrap_or("").trim().to_ascii_lowercase()) {
            None => None,
            Some(name) => {
                let a = Algorithm::ALL
                    .into_iter()
                    .find(|a| a.header() == name)
                    .ok_or_else(|| s3_error!(InvalidRequest, "the trailer '{name}' is not a checksum S3 accepts"))?;
                trailers.map(|t| (a, t))
            }
        };
        Ok(Declared { headers: found, trailer })
    }

    /// A hasher for every declared algorithm (none: nothing is computed).
    fn hasher(&self) -> s3s::checksum::ChecksumHasher {
        use s3s::crypto::Checksum as _;
        let mut h = s3s::checksum::ChecksumHasher::default();
        for a in self.headers.iter().map(|(a, _)| *a).chain(self.trailer.as_ref().map(|(a, _)| *a)) {
            match a {
                Algorithm::Crc32 => h.crc32 = Some(s3s::crypto::Crc32::new()),
                Algorithm::Crc32c => h.crc32c = Some(s3s::crypto::Crc32c::new()),
                Algorithm::Crc64Nvme => h.crc64nvme = Some(s3s::crypto::Crc64Nvme::new()),
                Algorithm::Sha1 => h.sha1 = Some(s3s::crypto::Sha1::new()),
                Algorithm::Sha256 => h.sha256 = Some(s3s::crypto::Sha256::new()),
            }
        }
        h
    }

    /// Compares the computed checksums with the declared values (the trailer's once the body
    /// has been read).
    fn verify(&self, sums: &s3s::dto::Checksum) -> S3Result<()> {
        let trailed = self.trailer.as_ref().and_then(|(a, t)| {
            t.read(|h| h.get(a.header()).and_then(|v| v.to_str().ok()).map(str::to_string)).flatten().map(|v| (*a, v))
        });
        for (a, expected) in self.headers.iter().cloned().chain(trailed) {
            if a.computed(sums) != Some(expected.trim()) {
                let name = a.header().trim_start_matches("x-amz-checksum-").to_ascii_uppercase();
                return Err(s3_error!(
                    BadDigest,
                    "The {name} you specified did not match the calculated checksum ({} declared)",
                    a.header()
                ));
            }
        }
        Ok(())
    }
}

/// S3's limit for one PutObject or UploadPart body.
const MAX_OBJECT: u64 = 5 * 1024 * 1024 * 1024;

pub struct Inner {
    storage: LocalStorage,
    registry: Arc<Registry>,
    /// ETags by file, hashed once while the file is unchanged.
    etags: Etags,
    uploads: Mutex<HashMap<String, Upload>>,
    staging: PathBuf,
    /// Serialises the check-and-replace of `If-Match` writes.
    commit: Mutex<()>,
    buffers: Arc<BufferPool>,
}

struct Upload {
    bucket: String,
    key: String,
    /// part number → (staged file, MD5 hex, size)
    parts: HashMap<i32, (PathBuf, String, u64)>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.staging);
    }
}

fn internal(e: impl std::fmt::Display) -> S3Error {
    s3_error!(InternalError, "{e}")
}

fn etag(hex: &str) -> ETag {
    ETag::Strong(hex.to_string())
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> S3Result<T> + Send + 'static) -> S3Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(internal)?
}

/// A key's segments must be non-empty and not `.` or `..`; no NUL byte.
fn check_key(key: &str) -> S3Result<()> {
    let body = key.strip_suffix('/').unwrap_or(key);
    if key.contains('\0') || body.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        return Err(s3_error!(AccessDenied, "the key '{key}' has an empty, '.' or '..' segment"));
    }
    Ok(())
}

fn list_error(e: ListError, key: &str) -> S3Error {
    match e {
        ListError::NotFound => s3_error!(NoSuchKey, "no object '{key}'"),
        ListError::Outside => s3_error!(AccessDenied, "'{key}' leads outside the directory its bucket maps to"),
        ListError::Denied => s3_error!(AccessDenied, "the emulator may not read '{key}'"),
        ListError::Invalid(why) => s3_error!(InvalidArgument, "'{key}': {why}"),
    }
}

fn timestamp(t: SystemTime) -> Timestamp {
    Timestamp::from(t)
}

fn secs(t: &Timestamp) -> i64 {
    time::OffsetDateTime::from(t.clone()).unix_timestamp()
}

fn secs_of(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Whether an ETag condition names this object's ETag (`*` names any).
fn matches(cond: &ETagCondition, current: &str) -> bool {
    match cond {
        ETagCondition::Any => true,
        ETagCondition::ETag(e) => e.value() == current,
    }
}

impl Inner {
    /// The endpoint's state over `state` (a directory beside the database; `None`: a
    /// temporary directory for this process): multipart parts wait in `uploads/`, emptied at
    /// every start (unfinished uploads do not outlive the process that took them), and the
    /// ETag cache is kept in `etags`.
    fn new(storage: LocalStorage, registry: Arc<Registry>, state: Option<PathBuf>) -> std::io::Result<Inner> {
        let (staging, etags) = match state {
            Some(dir) => {
                let staging = dir.join("uploads");
                match fs::remove_dir_all(&staging) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
                fs::create_dir_all(&staging)?;
                (staging, Etags::persistent(&dir.join("etags"))?)
            }
            None => {
                let tmp = std::env::temp_dir();
                sweep_dead_staging(&tmp);
                (
                    tmp.join(format!("{STAGING_PREFIX}{}-{}", std::process::id(), crate::domain::new_id())),
                    Etags::in_memory(),
                )
            }
        };
        fs::create_dir_all(&staging)?;
        Ok(Inner {
            storage,
            registry,
            etags,
            uploads: Mutex::new(HashMap::new()),
            staging,
            commit: Mutex::new(()),
            buffers: BufferPool::new(),
        })
    }

    /// The local path of `bucket/key` (its mapped directory is the root it may not leave).
    fn local(&self, bucket: &str, key: &str) -> S3Result<LocalPath> {
        check_key(key)?;
        let url = StorageUrl::from_stored(format!("s3://{bucket}/{}", key.trim_end_matches('/')));
        self.storage
            .local_path(url.as_str())
            .ok_or_else(|| s3_error!(AccessDenied, "s3://{bucket}/{key} is not under a mapped prefix"))
    }

    /// The MD5 ETag of a file (hashed once while it is unchanged).
    fn etag_of(&self, path: &Path, meta: &fs::Metadata) -> S3Result<String> {
        self.etags.of(path, meta).map_err(internal)
    }

    fn remember(&self, path: &Path, meta: &fs::Metadata, etag: &str) {
        self.etags.remember(path, meta, etag);
    }

    /// A regular file's real path and metadata, or `NoSuchKey`; a directory marker key (`…/`)
    /// names the directory.
    fn stat(&self, bucket: &str, key: &str) -> S3Result<(PathBuf, fs::Metadata)> {
        let local = self.local(bucket, key)?;
        let real = files::resolve(&local).map_err(|e| list_error(e, key))?;
        let meta = fs::metadata(&real).map_err(|_| s3_error!(NoSuchKey, "no object '{key}'"))?;
        let is_marker = key.ends_with('/');
        if (is_marker && !meta.is_dir()) || (!is_marker && !meta.is_file()) {
            return Err(s3_error!(NoSuchKey, "no object '{key}'"));
        }
        Ok((real, meta))
    }

    /// Creates the directory that will hold `local.path`, never outside its root, and returns it.
    fn parent_dir(local: &LocalPath) -> S3Result<PathBuf> {
        let parent = local.path.parent().ok_or_else(|| s3_error!(AccessDenied, "no parent directory"))?;
        let dir = LocalPath { root: local.root.clone(), path: parent.to_path_buf() };
        files::create_dir_within(&dir).map_err(|why| s3_error!(AccessDenied, "{why}"))?;
        files::resolve(&dir).map_err(|e| list_error(e, &parent.display().to_string()))
    }

    /// Puts the finished temporary file `tmp` at `target`: with `If-None-Match: *` only when no
    /// object is there (atomically), with `If-Match` only when the current ETag matches.
    fn commit(
        &self,
        tmp: &Path,
        target: &Path,
        if_none_match: Option<&ETagCondition>,
        if_match: Option<&ETagCondition>,
    ) -> S3Result<()> {
        let result = (|| {
            let _guard = self.commit.lock().unwrap_or_else(|e| e.into_inner());
            let current = match fs::symlink_metadata(target) {
                Ok(m) if m.is_file() => Some(self.etag_of(target, &m)?),
                Ok(m) if m.is_dir() => return Err(s3_error!(InvalidArgument, "a directory is in the way")),
                _ => None,
            };
            if let Some(cond) = if_match {
                match &current {
                    Some(e) if matches(cond, e) => {}
                    _ => return Err(s3_error!(PreconditionFailed, "If-Match does not hold")),
                }
            }
            if let Some(cond) = if_none_match {
                if current.as_ref().is_some_and(|e| matches(cond, e)) {
                    return Err(s3_error!(PreconditionFailed, "the object exists (If-None-Match)"));
                }
                if matches!(cond, ETagCondition::Any) {
                    // Atomic create: link fails when the name exists (also against other processes).
                    return match fs::hard_link(tmp, target) {
                        Ok(()) => Ok(()),
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                            Err(s3_error!(PreconditionFailed, "the object exists (If-None-Match)"))
                        }
                        Err(e) => Err(internal(e)),
                    };
                }
            }
            fs::rename(tmp, target).map_err(internal)
        })();
        let _ = fs::remove_file(tmp);
        result
    }

    /// Streams a request body into a new temporary file in `dir`, returning it with the MD5 and size.
    /// The checksums `declared` are computed on the way and compared once the body (and its
    /// trailer) has arrived: a mismatch is 400 `BadDigest` and the temporary file is removed.
    async fn receive(
        dir: PathBuf,
        body: Option<StreamingBlob>,
        declared: Declared,
    ) -> S3Result<(PathBuf, String, u64)> {
        let tmp = dir.join(format!(".uc-upload-{}", uuid::Uuid::new_v4().simple()));
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(QUEUED_CHUNKS);
        let path = tmp.clone();
        let mut sums = declared.hasher();
        let writer = tokio::task::spawn_blocking(move || -> S3Result<(String, u64, s3s::dto::Checksum)> {
            // The directory was made (or found) inside its root just before; a concurrent
            // request may have removed it again while empty (a refused write, a marker delete).
            let mut f = match fs::File::create(&path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    path.parent().map(fs::create_dir_all).transpose().map_err(internal)?;
                    fs::File::create(&path)
                }
                other => other,
            }
            .map_err(internal)?;
            let mut h = Md5::new();
            let mut n = 0u64;
            while let Some(chunk) = rx.blocking_recv() {
                h.update(&chunk);
                sums.update(&chunk);
                n += chunk.len() as u64;
                f.write_all(&chunk).map_err(internal)?;
            }
            f.sync_all().map_err(internal)?;
            Ok((hex(&h.finalize()), n, sums.finalize()))
        });
        let mut sent = 0u64;
        let mut failure = None;
        if let Some(mut body) = body {
            while let Some(chunk) = body.next().await {
                match chunk {
                    Ok(c) => {
                        sent += c.len() as u64;
                        if sent > MAX_OBJECT {
                            failure = Some(s3_error!(EntityTooLarge, "an object may have at most 5 GiB"));
                            break;
                        }
                        if tx.send(c).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        // A chunk whose signature does not verify (aws-chunked) is an
                        // authentication failure; anything else an incomplete body.
                        let text = e.to_string();
                        failure = Some(if text.contains("Signature") {
                            s3_error!(AccessDenied, "a chunk signature does not verify: {text}")
                        } else if text.contains("Sha256Mismatch") || text.contains("Checksum") {
                            s3_error!(BadDigest, "the body does not match its declared digest: {text}")
                        } else {
                            s3_error!(IncompleteBody, "{text}")
                        });
                        break;
                    }
                }
            }
        }
        drop(tx);
        let written = writer.await.map_err(internal)?;
        let written = written.and_then(|(md5, n, sums)| declared.verify(&sums).map(|()| (md5, n)));
        match (failure, written) {
            (None, Ok((md5, n))) => Ok((tmp, md5, n)),
            (Some(e), _) | (None, Err(e)) => {
                let _ = fs::remove_file(&tmp);
                Err(e)
            }
        }
    }

    /// Regular files under the bucket's directory whose keys start with `prefix`, in byte
    /// order (symbolic links are not followed; nothing outside the mapped directory is read).
    fn keys(&self, bucket: &str, prefix: &str) -> S3Result<Vec<(String, PathBuf, fs::Metadata)>> {
        let dir_key = match prefix.rfind('/') {
            Some(i) => &prefix[..i],
            None => "",
        };
        let url = if dir_key.is_empty() { format!("s3://{bucket}") } else { format!("s3://{bucket}/{dir_key}") };
        if !dir_key.is_empty() {
            check_key(dir_key)?;
        }
        let Some(local) = self.storage.local_path(&url) else {
            return Err(s3_error!(AccessDenied, "{url} is not under a mapped prefix"));
        };
        let start = match files::resolve(&local) {
            Ok(p) => p,
            Err(ListError::NotFound) => return Ok(Vec::new()),
            Err(e) => return Err(list_error(e, dir_key)),
        };
        let mut out = Vec::new();
        let mut stack = vec![(start, if dir_key.is_empty() { String::new() } else { format!("{dir_key}/") })];
        while let Some((dir, key_prefix)) = stack.pop() {
            let Ok(entries) = fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                let Ok(name) = entry.file_name().into_string() else { continue };
                if name.starts_with(".uc-upload-") {
                    continue;
                }
                let key = format!("{key_prefix}{name}");
                let Ok(ft) = entry.file_type() else { continue };
                if ft.is_dir() {
                    // Descend only where keys with the prefix can be.
                    let as_dir = format!("{key}/");
                    if as_dir.starts_with(prefix) || prefix.starts_with(&as_dir) {
                        stack.push((entry.path(), as_dir));
                    }
                } else if ft.is_file() && key.starts_with(prefix) {
                    if let Ok(meta) = entry.metadata() {
                        out.push((key, entry.path(), meta));
                    }
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// One page of a listing: objects and common prefixes after `after`, at most `max`.
    #[allow(clippy::type_complexity)]
    fn page(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        after: &str,
        max: usize,
        scope: Option<&crate::vended::Vended>,
    ) -> S3Result<(Vec<Object>, Vec<CommonPrefix>, bool, Option<String>)> {
        let mut all = self.keys(bucket, prefix)?;
        // Never a key outside the credential's scope (a prefix `t1` also matches `t10/…`).
        all.retain(|(k, _, _)| scope.is_none_or(|v| v.covers(bucket, k)));
        let mut objects = Vec::new();
        let mut prefixes: Vec<CommonPrefix> = Vec::new();
        let mut last = None;
        let mut truncated = false;
        for (key, path, meta) in all.into_iter().filter(|(k, _, _)| k.as_str() > after) {
            let group = delimiter
                .filter(|d| !d.is_empty())
                .and_then(|d| key[prefix.len()..].find(d).map(|i| key[..prefix.len() + i + d.len()].to_string()));
            if let Some(g) = &group {
                if prefixes.last().and_then(|p| p.prefix.as_deref()) == Some(g.as_str()) || g.as_str() <= after {
                    continue;
                }
            }
            if objects.len() + prefixes.len() >= max {
                truncated = true;
                break;
            }
            match group {
                Some(g) => {
                    last = Some(g.clone());
                    prefixes.push(CommonPrefix { prefix: Some(g) });
                }
                None => {
                    let e = self.etag_of(&path, &meta)?;
                    last = Some(key.clone());
                    objects.push(Object {
                        key: Some(key),
                        size: Some(meta.len() as i64),
                        e_tag: Some(etag(&e)),
                        last_modified: meta.modified().ok().map(timestamp),
                        storage_class: Some(ObjectStorageClass::from_static(ObjectStorageClass::STANDARD)),
                        ..Default::default()
                    });
                }
            }
        }
        Ok((objects, prefixes, truncated, if truncated { last } else { None }))
    }
}

/// One page of ListObjects (v1 or v2), keys URL-encoded when asked.
struct Listing {
    prefix: String,
    max: usize,
    objects: Vec<Object>,
    prefixes: Vec<CommonPrefix>,
    truncated: bool,
    next: Option<String>,
}

/// The request fields ListObjects v1 and v2 share.
struct ListArgs<'a> {
    bucket: &'a str,
    prefix: &'a Option<String>,
    delimiter: &'a Option<String>,
    encoding: &'a Option<EncodingType>,
    max_keys: Option<i32>,
}

impl<'a> From<&'a ListObjectsInput> for ListArgs<'a> {
    fn from(i: &'a ListObjectsInput) -> Self {
        ListArgs {
            bucket: &i.bucket,
            prefix: &i.prefix,
            delimiter: &i.delimiter,
            encoding: &i.encoding_type,
            max_keys: i.max_keys,
        }
    }
}

impl<'a> From<&'a ListObjectsV2Input> for ListArgs<'a> {
    fn from(i: &'a ListObjectsV2Input) -> Self {
        ListArgs {
            bucket: &i.bucket,
            prefix: &i.prefix,
            delimiter: &i.delimiter,
            encoding: &i.encoding_type,
            max_keys: i.max_keys,
        }
    }
}

impl Inner {
    /// One page of keys after `after`, never outside `scope`.
    fn listing(&self, args: ListArgs<'_>, after: &str, scope: Option<&crate::vended::Vended>) -> S3Result<Listing> {
        let prefix = args.prefix.clone().unwrap_or_default();
        let max = args.max_keys.map(|m| m.clamp(0, 1000) as usize).unwrap_or(1000);
        let (objects, prefixes, truncated, next) =
            self.page(args.bucket, &prefix, args.delimiter.as_deref(), after, max, scope)?;
        let (objects, prefixes) = url_encoded(args.encoding.as_ref(), objects, prefixes);
        Ok(Listing { prefix, max, objects, prefixes, truncated, next })
    }
}

/// The `s3s` service over the storage map (cheap to clone; one shared state).
pub struct Objects(Arc<Inner>);

impl Objects {
    pub fn new(storage: LocalStorage, registry: Arc<Registry>, state: Option<PathBuf>) -> std::io::Result<Objects> {
        Ok(Objects(Arc::new(Inner::new(storage, registry, state)?)))
    }

    fn self_arc(&self) -> Arc<Inner> {
        Arc::clone(&self.0)
    }
}

impl std::ops::Deref for Objects {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

#[async_trait::async_trait]
impl S3 for Objects {
    async fn head_bucket(&self, _req: S3Request<HeadBucketInput>) -> S3Result<S3Response<HeadBucketOutput>> {
        Ok(S3Response::new(HeadBucketOutput::default()))
    }

    async fn get_bucket_location(
        &self,
        _req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        Ok(S3Response::new(GetBucketLocationOutput::default()))
    }

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        let this = self.self_arc();
        let input = req.input;
        blocking(move || {
            let (real, meta) = this.stat(&input.bucket, &input.key)?;
            if meta.is_dir() {
                return Ok(S3Response::new(GetObjectOutput {
                    body: Some(StreamingBlob::from(s3s::Body::empty())),
                    content_length: Some(0),
                    ..Default::default()
                }));
            }
            let e = this.etag_of(&real, &meta)?;
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            preconditions(
                &e,
                modified,
                &input.if_match,
                &input.if_none_match,
                &input.if_modified_since,
                &input.if_unmodified_since,
            )?;
            let len = meta.len();
            let range = match &input.range {
                Some(r) => Some(r.check(len).map_err(|_| s3_error!(InvalidRange, "the range is not satisfiable"))?),
                None => None,
            };
            let (start, end) = range.as_ref().map(|r| (r.start, r.end)).unwrap_or((0, len));
            let mut f = fs::File::open(&real).map_err(internal)?;
            f.seek(SeekFrom::Start(start)).map_err(internal)?;
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(QUEUED_CHUNKS);
            let mut remaining = end - start;
            let pool = Arc::clone(&this.buffers);
            tokio::task::spawn_blocking(move || {
                while remaining > 0 {
                    let n = remaining.min(CHUNK as u64) as usize;
                    let item = pool.read_chunk(&mut f, n);
                    let failed = item.is_err();
                    if tx.blocking_send(item).is_err() || failed {
                        return;
                    }
                    remaining -= n as u64;
                }
            });
            let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) });
            Ok(S3Response::new(GetObjectOutput {
                body: Some(StreamingBlob::wrap(sync_wrapper::SyncStream::new(stream))),
                content_length: Some((end - start) as i64),
                content_range: range.map(|r| format!("bytes {}-{}/{len}", r.start, r.end - 1)),
                content_type: Some("application/octet-stream".to_string()),
                accept_ranges: Some("bytes".to_string()),
                e_tag: Some(etag(&e)),
                last_modified: Some(timestamp(modified)),
                ..Default::default()
            }))
        })
        .await
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        let this = self.self_arc();
        let input = req.input;
        blocking(move || {
            let (real, meta) = this.stat(&input.bucket, &input.key)?;
            if meta.is_dir() {
                return Ok(S3Response::new(HeadObjectOutput { content_length: Some(0), ..Default::default() }));
            }
            let e = this.etag_of(&real, &meta)?;
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            preconditions(
                &e,
                modified,
                &input.if_match,
                &input.if_none_match,
                &input.if_modified_since,
                &input.if_unmodified_since,
            )?;
            Ok(S3Response::new(HeadObjectOutput {
                content_length: Some(meta.len() as i64),
                content_type: Some("application/octet-stream".to_string()),
                accept_ranges: Some("bytes".to_string()),
                e_tag: Some(etag(&e)),
                last_modified: Some(timestamp(modified)),
                ..Default::default()
            }))
        })
        .await
    }

    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        let declared = Declared::of(&req.headers, req.trailing_headers.clone())?;
        let input = req.input;
        let local = self.local(&input.bucket, &input.key)?;
        if input.content_length.is_some_and(|n| n as u64 > MAX_OBJECT) {
            return Err(s3_error!(EntityTooLarge, "an object may have at most 5 GiB"));
        }
        if input.key.ends_with('/') {
            // A directory marker.
            let this = self.self_arc();
            return blocking(move || {
                files::create_dir_within(&local).map_err(|why| s3_error!(AccessDenied, "{why}"))?;
                let _ = &this;
                Ok(S3Response::new(PutObjectOutput {
                    e_tag: Some(etag(&hex(&Md5::new().finalize()))),
                    ..Default::default()
                }))
            })
            .await;
        }
        // The directories this write creates are removed again if it is refused.
        let made = local.path.parent().and_then(first_missing);
        let dir = {
            let local = local.clone();
            blocking(move || Inner::parent_dir(&local)).await?
        };
        let undo = |e: S3Error| {
            if let (Some(top), Some(parent)) = (&made, local.path.parent()) {
                remove_empty_up_to(parent, top);
            }
            e
        };
        let name =
            local.path.file_name().map(|n| n.to_os_string()).ok_or_else(|| s3_error!(AccessDenied, "no name"))?;
        let (tmp, md5, _) = Inner::receive(dir.clone(), input.body, declared).await.map_err(undo)?;
        if let Some(expected) = &input.content_md5 {
            let got = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, hex_bytes(&md5));
            if *expected != got {
                let _ = fs::remove_file(&tmp);
                return Err(undo(s3_error!(BadDigest, "Content-MD5 does not match the body")));
            }
        }
        let this = self.self_arc();
        let target = dir.join(name);
        let (inm, im) = (input.if_none_match, input.if_match);
        let e = md5.clone();
        blocking(move || {
            this.commit(&tmp, &target, inm.as_ref(), im.as_ref())?;
            if let Ok(meta) = fs::metadata(&target) {
                this.remember(&target, &meta, &e);
            }
            Ok(())
        })
        .await
        .map_err(undo)?;
        Ok(S3Response::new(PutObjectOutput { e_tag: Some(etag(&md5)), ..Default::default() }))
    }

    async fn copy_object(&self, req: S3Request<CopyObjectInput>) -> S3Result<S3Response<CopyObjectOutput>> {
        // The target's conditions (`If-None-Match: *`, `If-Match`) as for PutObject.
        let (inm, im) = (target_condition(&req.headers, "if-none-match")?, target_condition(&req.headers, "if-match")?);
        let input = req.input;
        let (src_bucket, src_key) = copy_source(&input.copy_source)?;
        let conditions = SourceConditions {
            if_match: input.copy_source_if_match,
            if_none_match: input.copy_source_if_none_match,
            if_modified_since: input.copy_source_if_modified_since,
            if_unmodified_since: input.copy_source_if_unmodified_since,
        };
        let local = self.local(&input.bucket, &input.key)?;
        let this = self.self_arc();
        blocking(move || {
            let (src, meta) = this.stat(&src_bucket, &src_key)?;
            if meta.is_dir() {
                return Err(s3_error!(NoSuchKey, "no object '{src_key}'"));
            }
            conditions.check(&this.etag_of(&src, &meta)?, &meta)?;
            let dir = Inner::parent_dir(&local)?;
            let name = local.path.file_name().ok_or_else(|| s3_error!(AccessDenied, "no name"))?;
            let tmp = dir.join(format!(".uc-upload-{}", uuid::Uuid::new_v4().simple()));
            fs::copy(&src, &tmp).map_err(internal)?;
            let target = dir.join(name);
            this.commit(&tmp, &target, inm.as_ref(), im.as_ref())?;
            let meta = fs::metadata(&target).map_err(internal)?;
            let e = this.etag_of(&target, &meta)?;
            Ok(S3Response::new(CopyObjectOutput {
                copy_object_result: Some(CopyObjectResult {
                    e_tag: Some(etag(&e)),
                    last_modified: meta.modified().ok().map(timestamp),
                    ..Default::default()
                }),
                ..Default::default()
            }))
        })
        .await
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        let input = req.input;
        self.upload_of(&input.upload_id, &input.bucket, &input.key)?;
        if !(1..=10000).contains(&input.part_number) {
            return Err(s3_error!(InvalidArgument, "part numbers run from 1 to 10000"));
        }
        let (src_bucket, src_key) = copy_source(&input.copy_source)?;
        let range = match &input.copy_source_range {
            Some(r) => Some(
                Range::parse(r)
                    .map_err(|_| s3_error!(InvalidArgument, "x-amz-copy-source-range must be bytes=first-last"))?,
            ),
            None => None,
        };
        let conditions = SourceConditions {
            if_match: input.copy_source_if_match,
            if_none_match: input.copy_source_if_none_match,
            if_modified_since: input.copy_source_if_modified_since,
            if_unmodified_since: input.copy_source_if_unmodified_since,
        };
        let dir = self.staging.join(&input.upload_id);
        let part_path = dir.join(format!("part-{}", input.part_number));
        let this = self.self_arc();
        let staged = part_path.clone();
        let (md5, size, modified) = blocking(move || {
            let (src, meta) = this.stat(&src_bucket, &src_key)?;
            if meta.is_dir() {
                return Err(s3_error!(NoSuchKey, "no object '{src_key}'"));
            }
            conditions.check(&this.etag_of(&src, &meta)?, &meta)?;
            let (start, end) = match &range {
                Some(r) => {
                    let r = r
                        .check(meta.len())
                        .map_err(|_| s3_error!(InvalidRange, "x-amz-copy-source-range is not satisfiable"))?;
                    (r.start, r.end)
                }
                None => (0, meta.len()),
            };
            let mut f = fs::File::open(&src).map_err(internal)?;
            f.seek(SeekFrom::Start(start)).map_err(internal)?;
            let tmp = dir.join(format!(".uc-upload-{}", uuid::Uuid::new_v4().simple()));
            let mut out = fs::File::create(&tmp).map_err(internal)?;
            let (md5, n) = copy_hashing(&mut f.take(end - start), &mut out).map_err(internal)?;
            out.sync_all().map_err(internal)?;
            fs::rename(&tmp, &staged).map_err(internal)?;
            Ok((md5, n, meta.modified().unwrap_or(SystemTime::UNIX_EPOCH)))
        })
        .await?;
        let mut uploads = self.uploads.lock().unwrap_or_else(|e| e.into_inner());
        match uploads.get_mut(&input.upload_id) {
            Some(u) => {
                u.parts.insert(input.part_number, (part_path, md5.clone(), size));
            }
            None => return Err(s3_error!(NoSuchUpload)),
        }
        Ok(S3Response::new(UploadPartCopyOutput {
            copy_part_result: Some(CopyPartResult {
                e_tag: Some(etag(&md5)),
                last_modified: Some(timestamp(modified)),
                ..Default::default()
            }),
            ..Default::default()
        }))
    }

    async fn delete_object(&self, req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
        let input = req.input;
        let local = self.local(&input.bucket, &input.key)?;
        let marker = input.key.ends_with('/');
        blocking(move || {
            delete_local(&local, marker)?;
            Ok(S3Response::new(DeleteObjectOutput::default()))
        })
        .await
    }

    async fn delete_objects(&self, req: S3Request<DeleteObjectsInput>) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let input = req.input;
        let quiet = input.delete.quiet.unwrap_or(false);
        let mut targets = Vec::new();
        for o in &input.delete.objects {
            targets.push((o.key.clone(), self.local(&input.bucket, &o.key)));
        }
        blocking(move || {
            let mut deleted = Vec::new();
            let mut errors = Vec::new();
            for (key, local) in targets {
                match local.and_then(|l| delete_local(&l, key.ends_with('/'))) {
                    Ok(()) if quiet => {}
                    Ok(()) => deleted.push(DeletedObject { key: Some(key), ..Default::default() }),
                    Err(e) => errors.push(Error {
                        code: Some(e.code().as_str().to_string()),
                        key: Some(key),
                        message: e.message().map(str::to_string),
                        ..Default::default()
                    }),
                }
            }
            Ok(S3Response::new(DeleteObjectsOutput {
                deleted: Some(deleted),
                errors: Some(errors),
                ..Default::default()
            }))
        })
        .await
    }

    async fn list_objects_v2(&self, req: S3Request<ListObjectsV2Input>) -> S3Result<S3Response<ListObjectsV2Output>> {
        let scope = self.scope_of(&req);
        let input = req.input;
        let this = self.self_arc();
        blocking(move || {
            let after = match (&input.continuation_token, &input.start_after) {
                (Some(t), _) => decode_token(t)?,
                (None, Some(s)) => s.clone(),
                _ => String::new(),
            };
            let Listing { prefix, max, objects, prefixes, truncated, next } =
                this.listing((&input).into(), &after, scope.as_deref())?;
            Ok(S3Response::new(ListObjectsV2Output {
                encoding_type: input.encoding_type.clone(),
                name: Some(input.bucket.clone()),
                prefix: Some(prefix),
                max_keys: Some(max as i32),
                key_count: Some((objects.len() + prefixes.len()) as i32),
                continuation_token: input.continuation_token.clone(),
                is_truncated: Some(truncated),
                next_continuation_token: next.map(|k| encode_token(&k)),
                contents: Some(objects),
                common_prefixes: (!prefixes.is_empty()).then_some(prefixes),
                delimiter: input.delimiter.clone(),
                start_after: input.start_after.clone(),
                ..Default::default()
            }))
        })
        .await
    }

    async fn list_objects(&self, req: S3Request<ListObjectsInput>) -> S3Result<S3Response<ListObjectsOutput>> {
        let scope = self.scope_of(&req);
        let input = req.input;
        let this = self.self_arc();
        blocking(move || {
            let after = input.marker.clone().unwrap_or_default();
            let Listing { prefix, max, objects, prefixes, truncated, next } =
                this.listing((&input).into(), &after, scope.as_deref())?;
            Ok(S3Response::new(ListObjectsOutput {
                encoding_type: input.encoding_type.clone(),
                name: Some(input.bucket.clone()),
                prefix: Some(prefix),
                marker: input.marker.clone(),
                max_keys: Some(max as i32),
                is_truncated: Some(truncated),
                next_marker: next,
                contents: Some(objects),
                common_prefixes: (!prefixes.is_empty()).then_some(prefixes),
                delimiter: input.delimiter.clone(),
                ..Default::default()
            }))
        })
        .await
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let input = req.input;
        self.local(&input.bucket, &input.key)?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        fs::create_dir_all(self.staging.join(&id)).map_err(internal)?;
        self.uploads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), Upload { bucket: input.bucket.clone(), key: input.key.clone(), parts: HashMap::new() });
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(id),
            ..Default::default()
        }))
    }

    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        let declared = Declared::of(&req.headers, req.trailing_headers.clone())?;
        let input = req.input;
        self.upload_of(&input.upload_id, &input.bucket, &input.key)?;
        if !(1..=10000).contains(&input.part_number) {
            return Err(s3_error!(InvalidArgument, "part numbers run from 1 to 10000"));
        }
        let dir = self.staging.join(&input.upload_id);
        let (tmp, md5, size) = Inner::receive(dir.clone(), input.body, declared).await?;
        let part_path = dir.join(format!("part-{}", input.part_number));
        fs::rename(&tmp, &part_path).map_err(internal)?;
        let mut uploads = self.uploads.lock().unwrap_or_else(|e| e.into_inner());
        match uploads.get_mut(&input.upload_id) {
            Some(u) => {
                u.parts.insert(input.part_number, (part_path, md5.clone(), size));
            }
            None => return Err(s3_error!(NoSuchUpload)),
        }
        Ok(S3Response::new(UploadPartOutput { e_tag: Some(etag(&md5)), ..Default::default() }))
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let input = req.input;
        self.upload_of(&input.upload_id, &input.bucket, &input.key)?;
        let wanted: Vec<(i32, Option<String>)> = input
            .multipart_upload
            .as_ref()
            .and_then(|m| m.parts.as_ref())
            .map(|ps| {
                ps.iter()
                    .map(|p| (p.part_number.unwrap_or(0), p.e_tag.as_ref().map(|e| e.value().to_string())))
                    .collect()
            })
            .unwrap_or_default();
        let parts: Vec<(PathBuf, String)> = {
            let uploads = self.uploads.lock().unwrap_or_else(|e| e.into_inner());
            let u = uploads.get(&input.upload_id).ok_or_else(|| s3_error!(NoSuchUpload))?;
            let mut out = Vec::new();
            for (n, e) in &wanted {
                let (path, md5, _) =
                    u.parts.get(n).ok_or_else(|| s3_error!(InvalidPart, "part {n} was not uploaded"))?;
                if e.as_deref().is_some_and(|e| e != md5) {
                    return Err(s3_error!(InvalidPart, "part {n} has another ETag"));
                }
                out.push((path.clone(), md5.clone()));
            }
            out
        };
        if parts.is_empty() {
            return Err(s3_error!(MalformedXML, "no parts listed"));
        }
        let local = self.local(&input.bucket, &input.key)?;
        let this = self.self_arc();
        let (inm, im) = (input.if_none_match.clone(), input.if_match.clone());
        let e = blocking(move || {
            let dir = Inner::parent_dir(&local)?;
            let name = local.path.file_name().ok_or_else(|| s3_error!(AccessDenied, "no name"))?;
            let tmp = dir.join(format!(".uc-upload-{}", uuid::Uuid::new_v4().simple()));
            let mut out = fs::File::create(&tmp).map_err(internal)?;
            let mut digests = Md5::new();
            for (path, md5) in &parts {
                let mut f = fs::File::open(path).map_err(internal)?;
                std::io::copy(&mut f, &mut out).map_err(internal)?;
                digests.update(hex_bytes(md5));
            }
            out.sync_all().map_err(internal)?;
            drop(out);
            let e = format!("{}-{}", hex(&digests.finalize()), parts.len());
            let target = dir.join(name);
            this.commit(&tmp, &target, inm.as_ref(), im.as_ref())?;
            if let Ok(meta) = fs::metadata(&target) {
                this.remember(&target, &meta, &e);
            }
            Ok(e)
        })
        .await?;
        self.uploads.lock().unwrap_or_else(|e| e.into_inner()).remove(&input.upload_id);
        let _ = fs::remove_dir_all(self.staging.join(&input.upload_id));
        Ok(S3Response::new(CompleteMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            e_tag: Some(etag(&e)),
            ..Default::default()
        }))
    }

    async fn list_parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        let input = req.input;
        self.upload_of(&input.upload_id, &input.bucket, &input.key)?;
        let after = input.part_number_marker.unwrap_or(0);
        let max = input.max_parts.map(|m| m.clamp(0, 1000) as usize).unwrap_or(1000);
        let mut parts: Vec<Part> = {
            let uploads = self.uploads.lock().unwrap_or_else(|e| e.into_inner());
            let u = uploads.get(&input.upload_id).ok_or_else(|| s3_error!(NoSuchUpload))?;
            u.parts
                .iter()
                .filter(|(n, _)| **n > after)
                .map(|(n, (_, md5, size))| Part {
                    part_number: Some(*n),
                    e_tag: Some(etag(md5)),
                    size: Some(*size as i64),
                    ..Default::default()
                })
                .collect()
        };
        parts.sort_by_key(|p| p.part_number);
        let truncated = parts.len() > max;
        parts.truncate(max);
        Ok(S3Response::new(ListPartsOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(input.upload_id),
            is_truncated: Some(truncated),
            next_part_number_marker: if truncated { parts.last().and_then(|p| p.part_number) } else { None },
            max_parts: Some(max as i32),
            parts: Some(parts),
            ..Default::default()
        }))
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let input = req.input;
        self.upload_of(&input.upload_id, &input.bucket, &input.key)?;
        self.uploads.lock().unwrap_or_else(|e| e.into_inner()).remove(&input.upload_id);
        let _ = fs::remove_dir_all(self.staging.join(&input.upload_id));
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }
}

impl Inner {
    /// The credential a request was signed with (checked already by the access rules).
    fn scope_of<T>(&self, req: &S3Request<T>) -> Option<Arc<crate::vended::Vended>> {
        req.credentials.as_ref().and_then(|c| self.registry.get(&c.access_key))
    }

    /// The upload `id` for this bucket and key, or 404 `NoSuchUpload`.
    fn upload_of(&self, id: &str, bucket: &str, key: &str) -> S3Result<()> {
        let uploads = self.uploads.lock().unwrap_or_else(|e| e.into_inner());
        match uploads.get(id) {
            Some(u) if u.bucket == bucket && u.key == key => Ok(()),
            _ => Err(s3_error!(NoSuchUpload, "no upload '{id}' for this key")),
        }
    }
}

/// The staging directories of servers without a database file: `<prefix><pid>-<id>` in the
/// temporary directory.
const STAGING_PREFIX: &str = "uc-emulator-s3-";

/// Removes the staging directories in `tmp` whose process is gone (killed before it could
/// remove its own), so unfinished uploads never outlive their process. Only where `/proc` tells
/// which processes live.
fn sweep_dead_staging(tmp: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(tmp) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(STAGING_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// The topmost directory on the way to `dir` that does not exist yet (`None`: all exist).
fn first_missing(dir: &Path) -> Option<PathBuf> {
    let mut missing = None;
    let mut p = Some(dir);
    while let Some(d) = p {
        if fs::symlink_metadata(d).is_ok() {
            break;
        }
        missing = Some(d.to_path_buf());
        p = d.parent();
    }
    missing
}

/// Removes `dir` and its parents up to `top` while they are empty (a refused write leaves no
/// directories behind; one another request has filled meanwhile stays).
fn remove_empty_up_to(dir: &Path, top: &Path) {
    let mut p = Some(dir);
    while let Some(d) = p.filter(|d| d.starts_with(top)) {
        if fs::remove_dir(d).is_err() {
            break;
        }
        p = d.parent();
    }
}

/// Removes a regular file (absent is fine), or an empty directory for a marker key.
fn delete_local(local: &LocalPath, marker: bool) -> S3Result<()> {
    let real = match files::resolve(local) {
        Ok(p) => p,
        Err(ListError::NotFound) => return Ok(()),
        Err(e) => return Err(list_error(e, &local.path.display().to_string())),
    };
    let meta = fs::symlink_metadata(&real).map_err(internal)?;
    if marker {
        if meta.is_dir() && real != local.root {
            let _ = fs::remove_dir(&real);
        }
        return Ok(());
    }
    if meta.is_file() {
        match fs::remove_file(&real) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(internal(e)),
        }
    }
    Ok(())
}

fn preconditions(
    current: &str,
    modified: SystemTime,
    if_match: &Option<ETagCondition>,
    if_none_match: &Option<ETagCondition>,
    if_modified_since: &Option<Timestamp>,
    if_unmodified_since: &Option<Timestamp>,
) -> S3Result<()> {
    if let Some(c) = if_match {
        if !matches(c, current) {
            return Err(s3_error!(PreconditionFailed, "If-Match does not hold"));
        }
    }
    if let Some(t) = if_unmodified_since {
        if if_match.is_none() && secs_of(modified) > secs(t) {
            return Err(s3_error!(PreconditionFailed, "modified since If-Unmodified-Since"));
        }
    }
    if let Some(c) = if_none_match {
        if matches(c, current) {
            return Err(s3_error!(NotModified));
        }
    }
    if let Some(t) = if_modified_since {
        if if_none_match.is_none() && secs_of(modified) <= secs(t) {
            return Err(s3_error!(NotModified));
        }
    }
    Ok(())
}

/// With `encoding-type=url`, keys and common prefixes are percent-encoded (`/` kept).
fn url_encoded(
    encoding: Option<&EncodingType>,
    mut objects: Vec<Object>,
    mut prefixes: Vec<CommonPrefix>,
) -> (Vec<Object>, Vec<CommonPrefix>) {
    const KEEP: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    if encoding.is_some_and(|e| e.as_str() == EncodingType::URL) {
        let enc = |s: &mut Option<String>| {
            if let Some(v) = s {
                *v = percent_encoding::utf8_percent_encode(v, KEEP).to_string();
            }
        };
        objects.iter_mut().for_each(|o| enc(&mut o.key));
        prefixes.iter_mut().for_each(|p| enc(&mut p.prefix));
    }
    (objects, prefixes)
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2).filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()).collect()
}

fn encode_token(key: &str) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, key)
}

fn decode_token(token: &str) -> S3Result<String> {
    base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| s3_error!(InvalidArgument, "the continuation token is not valid"))
}

/// The bucket and key of a copy source (the access rules have checked its scope). Versioned
/// sources are not served: the endpoint keeps one version of every object.
fn copy_source(source: &CopySource) -> S3Result<(String, String)> {
    match source {
        CopySource::Bucket { version_id: Some(_), .. } => {
            Err(s3_error!(NotImplemented, "object versions are not served; copy the current object"))
        }
        CopySource::Bucket { bucket, key, .. } => Ok((bucket.to_string(), key.to_string())),
        _ => Err(s3_error!(NotImplemented, "access-point and outpost copy sources are not served")),
    }
}

/// A conditional header on a copy's target (`If-None-Match`, `If-Match`), which `s3s` leaves
/// to the service for CopyObject.
fn target_condition(headers: &hyper::HeaderMap, name: &str) -> S3Result<Option<ETagCondition>> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => ETagCondition::parse_http_header(v.as_bytes())
            .map(Some)
            .map_err(|_| s3_error!(InvalidArgument, "the {name} header is not an ETag or '*'")),
    }
}

/// `x-amz-copy-source-if-*`: every failed condition is 412 `PreconditionFailed` (a copy never
/// answers 304).
struct SourceConditions {
    if_match: Option<ETagCondition>,
    if_none_match: Option<ETagCondition>,
    if_modified_since: Option<Timestamp>,
    if_unmodified_since: Option<Timestamp>,
}

impl SourceConditions {
    fn check(&self, current: &str, meta: &fs::Metadata) -> S3Result<()> {
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        preconditions(
            current,
            modified,
            &self.if_match,
            &self.if_none_match,
            &self.if_modified_since,
            &self.if_unmodified_since,
        )
        .map_err(|e| match e.code() {
            S3ErrorCode::NotModified => s3_error!(PreconditionFailed, "a copy-source condition does not hold"),
            _ => e,
        })
    }
}

/// Copies `from` into `to`, returning the MD5 (hex) and the number of bytes.
fn copy_hashing(from: &mut impl Read, to: &mut impl Write) -> std::io::Result<(String, u64)> {
    let mut h = Md5::new();
    let mut buf = vec![0u8; CHUNK];
    let mut n = 0u64;
    loop {
        let k = from.read(&mut buf)?;
        if k == 0 {
            return Ok((hex(&h.finalize()), n));
        }
        h.update(&buf[..k]);
        to.write_all(&buf[..k])?;
        n += k as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_of_dead_processes_is_swept_and_live_ones_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let live = tmp.path().join(format!("{STAGING_PREFIX}{}-a", std::process::id()));
        // Above Linux's largest pid (4194304): no such process.
        let dead = tmp.path().join(format!("{STAGING_PREFIX}4294967-b"));
        let other = tmp.path().join("unrelated-4294967-c");
        for d in [&live, &dead, &other] {
            fs::create_dir_all(d.join("upload")).unwrap();
            fs::write(d.join("upload/part-1"), b"part").unwrap();
        }
        sweep_dead_staging(tmp.path());
        assert!(live.exists(), "this process's staging stays");
        assert!(!dead.exists(), "a dead process's parts are removed");
        assert!(other.exists(), "nothing else is touched");
    }
}
