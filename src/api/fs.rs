//! The Files API on volumes (`/api/2.0/fs/files/Volumes/...`, `/api/2.0/fs/directories/...`):
//! uploads streamed to disk (never held in memory, exempt from the JSON body limit), downloads
//! streamed from disk with `Range` and `If-Unmodified-Since`, metadata in headers, directory
//! listings with pages. What `WorkspaceClient.files` sends first (presigned-URL endpoints) is not
//! served, so the SDK falls back to these plain endpoints.

use std::io;
use std::pin::Pin;
use std::str::FromStr;
use std::task::{Context, Poll};
use std::time::SystemTime;

use actix_web::body::{BodySize, MessageBody};
use actix_web::http::header::{self, HttpDate};
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::extract::{qbool, qint, AppState, Params, Scoped};
use super::{Res, UC_FS_DIRS, UC_FS_FILES};
use crate::domain::names::{Ident, TableName};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ops;
use crate::volume_files::{self, FsError, Upload, VolumeDir};

/// The largest upload (the Files API's limit, 5 GiB).
pub const MAX_UPLOAD_BYTES: u64 = 5 * 1024 * 1024 * 1024;
/// Bytes per chunk read from disk for a download; at most `DOWNLOAD_QUEUE` chunks wait in memory.
const DOWNLOAD_CHUNK: usize = 256 * 1024;
const DOWNLOAD_QUEUE: usize = 4;
/// Upload chunks (as they arrive, ~tens of KiB) that may wait for the disk writer.
const UPLOAD_QUEUE: usize = 16;
/// Directory entries per page at most (and by default).
const MAX_PAGE: usize = 1000;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        Res::new(&format!("{UC_FS_FILES}/{{tail:.*}}"))
            .get(download)
            .head(file_metadata)
            .put(upload)
            .delete(delete_file)
            .post(multipart)
            .build(),
    )
    .service(
        Res::new(&format!("{UC_FS_DIRS}/{{tail:.*}}"))
            .get(list_directory)
            .head(directory_metadata)
            .put(create_directory)
            .delete(delete_directory)
            .build(),
    );
}

/// `/Volumes/<catalog>/<schema>/<volume>/<rel...>`, decoded and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumePath {
    pub volume: TableName,
    pub rel: Vec<String>,
}

impl VolumePath {
    /// The absolute path with the stored (lower-case) names.
    pub fn display(&self) -> String {
        let mut s = format!("/Volumes/{}/{}/{}", self.volume.catalog, self.volume.schema, self.volume.table);
        for r in &self.rel {
            s.push('/');
            s.push_str(r);
        }
        s
    }
}

/// Parses the percent-encoded path after `/api/2.0/fs/files` or `/api/2.0/fs/directories`. Each
/// segment is decoded once; `.`, `..`, an encoded `/`, `\`, control characters, empty or overlong
/// segments are refused (400 naming the path), never normalised.
pub fn parse_volume_path(encoded: &str) -> ApiResult<VolumePath> {
    let bad = |why: &str| ApiError::invalid("path", format!("'{encoded}' is not a volume path: {why}"));
    let trimmed = encoded.strip_suffix('/').unwrap_or(encoded);
    let rest = trimmed.strip_prefix('/').ok_or_else(|| bad("it must be absolute"))?;
    let mut segments = Vec::new();
    for raw in rest.split('/') {
        let seg = percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| bad("a segment is not UTF-8 after percent-decoding"))?;
        if seg.is_empty() {
            return Err(bad("empty path segment"));
        }
        if seg == "." || seg == ".." {
            return Err(bad("'.' and '..' segments are not allowed"));
        }
        if seg.contains('/') || seg.contains('\\') || seg.chars().any(char::is_control) {
            return Err(bad("a segment contains '/', '\\' or a control character"));
        }
        if seg.len() > 255 {
            return Err(bad("a segment is longer than 255 bytes"));
        }
        segments.push(seg.into_owned());
    }
    if segments.first().map(String::as_str) != Some("Volumes") || segments.len() < 4 {
        return Err(bad("it must start with /Volumes/<catalog>/<schema>/<volume>"));
    }
    let volume = TableName {
        catalog: Ident::parse("path", &segments[1])?,
        schema: Ident::parse("path", &segments[2])?,
        table: Ident::parse("path", &segments[3])?,
    };
    Ok(VolumePath { volume, rel: segments.split_off(4) })
}

/// The request path as the client sent it, before the server's path normalisation merges `//`
/// (a Files API path with an empty segment is refused, not rewritten).
#[derive(Clone)]
pub struct RawPath(pub String);

/// The path normalisation every route sees, as actix-web's `NormalizePath::trim()` makes it
/// (trailing slashes trimmed, runs of slashes merged, `/` kept), after keeping the raw path of
/// Files API requests. Most paths need no change and pass untouched (`NormalizePath` ran a
/// regular expression over every path).
pub async fn normalize_path(
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.path().starts_with("/api/2.0/fs/") {
        let raw = RawPath(req.path().to_string());
        actix_web::HttpMessage::extensions_mut(&req).insert(raw);
    }
    if let Some(path) = normalized(req.path()) {
        let uri = req.uri();
        let with_query = match uri.query() {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        let mut parts = uri.clone().into_parts();
        if let Ok(pq) = actix_web::http::uri::PathAndQuery::from_maybe_shared(bytes::Bytes::from(with_query)) {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = actix_web::http::Uri::from_parts(parts) {
                // Before routing: nothing has been matched yet, so the path starts over.
                req.match_info_mut().set(actix_web::dev::Url::new(uri.clone()));
                req.head_mut().uri = uri;
            }
        }
    }
    next.call(req).await
}

/// `path` normalised, when that changes it.
fn normalized(path: &str) -> Option<String> {
    if path.is_empty() || path == "/" || !(path.ends_with('/') || path.contains("//")) {
        return None;
    }
    let mut out = String::with_capacity(path.len());
    for c in path.trim_end_matches('/').chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    (out != path).then_some(out)
}

#[cfg(test)]
mod normalize_tests {
    #[test]
    fn paths_are_normalised_as_normalize_path_trim_does() {
        for (path, want) in [
            ("/api/2.1/unity-catalog/tables/a.b.c", None),
            ("/", None),
            ("", None),
            ("/api/2.1/unity-catalog/catalogs/", Some("/api/2.1/unity-catalog/catalogs")),
            ("/api/2.1/unity-catalog/catalogs///", Some("/api/2.1/unity-catalog/catalogs")),
            ("//api//2.1/unity-catalog", Some("/api/2.1/unity-catalog")),
            ("//", Some("/")),
            ("///", Some("/")),
            ("/a//b/", Some("/a/b")),
        ] {
            assert_eq!(super::normalized(path).as_deref(), want, "{path}");
        }
    }
}

fn request_path(req: &HttpRequest, prefix: &str) -> ApiResult<VolumePath> {
    let raw = actix_web::HttpMessage::extensions(req).get::<RawPath>().map(|r| r.0.clone());
    let full = raw.as_deref().unwrap_or(req.uri().path());
    let encoded = full.strip_prefix("/api").and_then(|p| p.strip_prefix(prefix)).unwrap_or("");
    parse_volume_path(encoded)
}

/// The checks every Files API call makes, in order: path (400), catalog, schema (404), use of
/// both (403), volume (404), READ_VOLUME / WRITE_VOLUME (403), a local directory (400).
async fn open_volume(
    req: &HttpRequest,
    scoped: Scoped,
    state: &AppState,
    prefix: &str,
    write: bool,
) -> ApiResult<(VolumePath, VolumeDir, String)> {
    let path = request_path(req, prefix)?;
    let Scoped { caller, metastore } = scoped;
    let name = path.volume.clone();
    let row = state.store.read(move |conn| ops::volumes::for_files(conn, &caller, &metastore.id, &name, write)).await?;
    let storage = state.local_storage();
    let Some(local) = storage.local_path(&row.storage_location) else {
        let missing = if row.storage_location.starts_with("file://") {
            "a --file-root that covers it"
        } else {
            "a --storage-map prefix that covers it"
        };
        return Err(ApiError::new(
            ErrorCode::InvalidState,
            format!(
                "Volume '{}' has no local directory: its storage_location {} needs {missing}.",
                row.full_name(),
                row.storage_location
            ),
        ));
    };
    Ok((path, VolumeDir { local }, row.id))
}

fn fs_error(path: &VolumePath, e: FsError) -> ApiError {
    let shown = path.display();
    match e {
        FsError::NotFound => ApiError::new(ErrorCode::NotFound, format!("No such file or directory: '{shown}'.")),
        FsError::Conflict(why) => ApiError::new(ErrorCode::AlreadyExists, format!("'{shown}': {why}.")),
        FsError::Outside => ApiError::denied(format!("'{shown}' leads outside the volume's directory.")),
        FsError::NotEmpty => {
            let mut extra = serde_json::Map::new();
            extra.insert(
                "details".into(),
                serde_json::json!([{
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "FILES_API_DIRECTORY_IS_NOT_EMPTY",
                    "domain": "filesystem.databricks.com",
                }]),
            );
            ApiError::invalid("path", format!("the directory '{shown}' is not empty")).with_extra(extra)
        }
        FsError::Io(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            ApiError::denied(format!("The emulator may not access '{shown}' on this machine."))
        }
        FsError::Io(e) => ApiError::internal(e),
    }
}

/// Runs filesystem work off the request thread.
async fn blocking<T: Send + 'static>(
    path: &VolumePath,
    work: impl FnOnce() -> Result<T, FsError> + Send + 'static,
) -> ApiResult<T> {
    web::block(work).await.map_err(ApiError::internal)?.map_err(|e| fs_error(path, e))
}

/// A response body read from disk by a blocking task, a few chunks ahead at most; its size is
/// known, so it goes out with `Content-Length`.
pub(crate) struct FileBody {
    pub(crate) size: u64,
    pub(crate) rx: Option<mpsc::Receiver<io::Result<Vec<u8>>>>,
}

impl MessageBody for FileBody {
    type Error = io::Error;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.size)
    }

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, io::Error>>> {
        let Some(rx) = self.get_mut().rx.as_mut() else { return Poll::Ready(None) };
        rx.poll_recv(cx).map(|item| item.map(|r| r.map(Bytes::from)))
    }
}

fn file_headers(res: &mut actix_web::HttpResponseBuilder, modified: SystemTime) {
    res.insert_header((header::CONTENT_TYPE, "application/octet-stream"))
        .insert_header((header::LAST_MODIFIED, HttpDate::from(modified).to_string()))
        .insert_header((header::ACCEPT_RANGES, "bytes"));
}

/// One `Range: bytes=...` over a file of `size` bytes: `Ok(None)` when absent, malformed or
/// multi-range (the whole file is sent); `Err(())` when it starts at or past the end (416).
pub(crate) fn byte_range(req: &HttpRequest, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(raw) = req.headers().get(header::RANGE).and_then(|v| v.to_str().ok()) else { return Ok(None) };
    let Some(spec) = raw.trim().strip_prefix("bytes=") else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else { return Ok(None) };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        let Ok(n) = b.parse::<u64>() else { return Ok(None) };
        if n == 0 || size == 0 {
            return Err(());
        }
        return Ok(Some((size.saturating_sub(n), size - 1)));
    }
    let Ok(start) = a.parse::<u64>() else { return Ok(None) };
    let end = if b.is_empty() {
        u64::MAX
    } else {
        match b.parse::<u64>() {
            Ok(e) if e >= start => e,
            _ => return Ok(None),
        }
    };
    if start >= size {
        return Err(());
    }
    Ok(Some((start, end.min(size - 1))))
}

/// download (GET): the bytes, or one range of them (206).
pub async fn download(req: HttpRequest, scoped: Scoped, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let (path, vol, _) = open_volume(&req, scoped, &state, UC_FS_FILES, false).await?;
    let (rel, v) = (path.rel.clone(), vol.clone());
    let (real, meta) = blocking(&path, move || v.file_meta(&rel)).await?;
    if let Some(since) = req.headers().get(header::IF_UNMODIFIED_SINCE).and_then(|v| v.to_str().ok()) {
        if let Ok(date) = HttpDate::from_str(since) {
            let secs = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            if secs(meta.modified) > secs(SystemTime::from(date)) {
                return Err(ApiError::new(
                    ErrorCode::FailedPrecondition,
                    format!("'{}' was modified after {since}.", path.display()),
                ));
            }
        }
    }
    let (status, offset, len, range) = match byte_range(&req, meta.size) {
        Ok(None) => (actix_web::http::StatusCode::OK, 0, meta.size, None),
        Ok(Some((a, b))) => (actix_web::http::StatusCode::PARTIAL_CONTENT, a, b - a + 1, Some((a, b))),
        Err(()) => {
            let err = ApiError::new(
                ErrorCode::RangeNotSatisfiable,
                format!("Range: '{}' has {} bytes; the range starts past its end.", path.display(), meta.size),
            );
            let mut res = actix_web::ResponseError::error_response(&err);
            res.headers_mut().insert(
                header::CONTENT_RANGE,
                header::HeaderValue::from_str(&format!("bytes */{}", meta.size)).expect("ASCII"),
            );
            return Ok(res);
        }
    };
    let v = vol.clone();
    let file = blocking(&path, move || v.open_at(&real, offset)).await?;
    let (tx, rx) = mpsc::channel(DOWNLOAD_QUEUE);
    actix_web::rt::task::spawn_blocking(move || {
        volume_files::read_chunks(file, len, DOWNLOAD_CHUNK, |chunk| tx.blocking_send(chunk).is_ok())
    });
    let mut res = HttpResponse::build(status);
    file_headers(&mut res, meta.modified);
    if let Some((a, b)) = range {
        res.insert_header((header::CONTENT_RANGE, format!("bytes {a}-{b}/{}", meta.size)));
    }
    Ok(res.body(FileBody { size: len, rx: Some(rx) }))
}

/// getMetadata (HEAD): the headers of a download, no body.
pub async fn file_metadata(req: HttpRequest, scoped: Scoped, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let (path, vol, _) = open_volume(&req, scoped, &state, UC_FS_FILES, false).await?;
    let rel = path.rel.clone();
    let (_, meta) = blocking(&path, move || vol.file_meta(&rel)).await?;
    let mut res = HttpResponse::Ok();
    file_headers(&mut res, meta.modified);
    Ok(res.body(FileBody { size: meta.size, rx: None }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    #[serde(default, deserialize_with = "qbool::option")]
    overwrite: Option<bool>,
    action: Option<String>,
}

/// upload (PUT): the body streamed to a file beside the target, renamed into place at the end.
pub async fn upload(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<UploadParams>,
    mut payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let (path, vol, _) = open_volume(&req, scoped, &state, UC_FS_FILES, true).await?;
    let overwrite = p.overwrite.unwrap_or(true);
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_UPLOAD_BYTES) {
        return Err(too_large());
    }
    let rel = path.rel.clone();
    let (dir, name) = blocking(&path, move || vol.prepare_upload(&rel, overwrite)).await?;
    // The disk writer runs on a blocking thread; the request's chunks reach it through a short
    // queue, so memory stays bounded whatever the file's size.
    let (tx, mut rx) = mpsc::channel::<Option<Bytes>>(UPLOAD_QUEUE);
    let writer = actix_web::rt::task::spawn_blocking(move || -> Result<(), FsError> {
        let mut up = Upload::start(&dir, &name)?;
        while let Some(msg) = rx.blocking_recv() {
            match msg {
                Some(chunk) => up.write(&chunk)?,
                None => return up.commit(overwrite),
            }
        }
        Err(FsError::Io(io::Error::other("the upload was cut short")))
    });
    let mut total: u64 = 0;
    let mut failure: Option<ApiError> = None;
    while let Some(item) = payload.next().await {
        let chunk = match item {
            Ok(c) => c,
            Err(e) => {
                failure = Some(ApiError::invalid("body", format!("the upload could not be read: {e}")));
                break;
            }
        };
        total += chunk.len() as u64;
        if total > MAX_UPLOAD_BYTES {
            failure = Some(too_large());
            break;
        }
        if tx.send(Some(chunk)).await.is_err() {
            break; // the writer failed: its error is the answer
        }
    }
    if failure.is_none() {
        let _ = tx.send(None).await;
    }
    drop(tx);
    let written = writer.await.map_err(ApiError::internal)?;
    if let Some(f) = failure {
        return Err(f);
    }
    written.map_err(|e| fs_error(&path, e))?;
    Ok(HttpResponse::NoContent().finish())
}

fn too_large() -> ApiError {
    ApiError::new(ErrorCode::PayloadTooLarge, format!("An upload may be at most {MAX_UPLOAD_BYTES} bytes (5 GiB)."))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct MultipartSession {
    session_token: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct InitiateUpload {
    multipart_upload: MultipartSession,
}

/// POST `?action=initiate-upload` (multipart negotiation): after the checks of an upload, a
/// session whose parts have nowhere to go (no presigned URLs are served), so the SDK aborts it
/// and falls back to one PUT. `abort-upload` is acknowledged; nothing is written either way.
pub async fn multipart(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<UploadParams>,
) -> ApiResult<HttpResponse> {
    let action = p.action.clone().unwrap_or_default();
    if !matches!(action.as_str(), "initiate-upload" | "abort-upload") {
        return Err(ApiError::invalid(
            "action",
            format!("{action:?} is not supported here; expected initiate-upload (then PUT the whole file)"),
        ));
    }
    let (path, vol, volume_id) = open_volume(&req, scoped, &state, UC_FS_FILES, true).await?;
    if action == "abort-upload" {
        return Ok(super::ok_empty());
    }
    let overwrite = p.overwrite.unwrap_or(true);
    let rel = path.rel.clone();
    blocking(&path, move || vol.prepare_upload(&rel, overwrite)).await?;
    let session_token = state.store.page_key.seal(&format!("upload:{volume_id}"), &path.display());
    Ok(HttpResponse::Ok().json(InitiateUpload { multipart_upload: MultipartSession { session_token } }))
}

/// delete (DELETE): a file; its parent directories stay.
pub async fn delete_file(req: HttpRequest, scoped: Scoped, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let (path, vol, _) = open_volume(&req, scoped, &state, UC_FS_FILES, true).await?;
    let rel = path.rel.clone();
    blocking(&path, move || vol.delete_file(&rel)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// createDirectory (PUT): `mkdir -p`, idempotent.
pub async fn create_directory(req: HttpRequest, scoped: Scoped, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let (path, vol, _) = open_volume(&req, scoped, &state, UC_FS_DIRS, true).await?;
    let rel = path.rel.clone();
    blocking(&path, move || vol.create_dir(&rel)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// getDirectoryMetadata (HEAD)
pub async fn directory_metadata(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let (path, vol, _) = open_volume(&req, scoped, &state, UC_FS_DIRS, false).await?;
    let rel = path.rel.clone();
    blocking(&path, move || vol.dir_exists(&rel)).await?;
    Ok(HttpResponse::Ok().finish())
}

/// deleteDirectory (DELETE): only an empty directory; never the volume root.
pub async fn delete_directory(req: HttpRequest, scoped: Scoped, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let (path, vol, _) = open_volume(&req, scoped, &state, UC_FS_DIRS, true).await?;
    if path.rel.is_empty() {
        return Err(ApiError::invalid(
            "path",
            format!("'{}' is the volume's root directory; delete the volume instead", path.display()),
        ));
    }
    let rel = path.rel.clone();
    blocking(&path, move || vol.delete_dir(&rel)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    #[serde(default, deserialize_with = "qint::option")]
    page_size: Option<i64>,
    page_token: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct DirectoryEntry {
    path: String,
    name: String,
    is_directory: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_size: Option<u64>,
    last_modified: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct DirectoryContents {
    contents: Vec<DirectoryEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

/// listDirectoryContents (GET): direct children by name, pages of at most 1000.
pub async fn list_directory(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<ListParams>,
) -> ApiResult<HttpResponse> {
    let limit = match p.page_size {
        Some(n) if n < 0 => return Err(ApiError::invalid("page_size", "must not be negative")),
        None | Some(0) => MAX_PAGE,
        Some(n) => usize::try_from(n).unwrap_or(MAX_PAGE).min(MAX_PAGE),
    };
    let (path, vol, volume_id) = open_volume(&req, scoped, &state, UC_FS_DIRS, false).await?;
    let list_key = format!("fs:{volume_id}:{}", path.rel.join("/"));
    let after = match p.page_token.as_deref().filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => Some(state.store.page_key.open(&list_key, t).ok_or_else(|| {
            ApiError::invalid("page_token", "is not a page token this server issued for this directory")
        })?),
    };
    let rel = path.rel.clone();
    let entries = blocking(&path, move || vol.list(&rel)).await?;
    let mut rest: Vec<_> =
        entries.into_iter().filter(|e| after.as_deref().is_none_or(|a| e.name.as_bytes() > a.as_bytes())).collect();
    let more = rest.len() > limit;
    rest.truncate(limit);
    let next_page_token = if more { rest.last().map(|e| state.store.page_key.seal(&list_key, &e.name)) } else { None };
    let base = path.display();
    let contents = rest
        .into_iter()
        .map(|e| DirectoryEntry {
            path: format!("{base}/{}", e.name),
            file_size: (!e.is_dir).then_some(e.size),
            is_directory: e.is_dir,
            last_modified: e.modified_ms,
            name: e.name,
        })
        .collect();
    Ok(HttpResponse::Ok().json(DirectoryContents { contents, next_page_token }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_paths_are_decoded_once_and_never_normalised() {
        let p = parse_volume_path("/Volumes/Main/Default/V1/a%20b/C.txt").unwrap();
        assert_eq!(p.volume.to_string(), "main.default.v1");
        assert_eq!(p.rel, ["a b", "C.txt"]);
        assert_eq!(p.display(), "/Volumes/main/default/v1/a b/C.txt");
        assert!(parse_volume_path("/Volumes/c/s/v").unwrap().rel.is_empty());
        assert!(parse_volume_path("/Volumes/c/s/v/").unwrap().rel.is_empty());
        for bad in [
            "/Volumes/c/s",
            "/Workspace/x/y/z",
            "/Volumes/c/s/v/../w/x",
            "/Volumes/c/s/v/%2E%2E/x",
            "/Volumes/c/s/v/%2e",
            "/Volumes/c/s/v/a%2Fb",
            "/Volumes/c/s/v/a%5Cb",
            "/Volumes/c/s/v/a%00b",
            "/Volumes/c/s/v/a//b",
            "/Volumes/c/s/v/%FF",
            "Volumes/c/s/v",
        ] {
            assert!(parse_volume_path(bad).is_err(), "{bad}");
        }
        assert!(parse_volume_path(&format!("/Volumes/c/s/v/{}", "x".repeat(256))).is_err());
    }
}
