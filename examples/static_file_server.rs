//! The loopback ceiling for `examples/s3_read_bench.py`: a bare static file server on hyper,
//! with none of the S3 endpoint's work (no signature, credential, scope or ETag, no disk read
//! per request): `GET`/`HEAD /<bucket>/<key>` answers the file `DIR/<key>` (one
//! `Range: bytes=a-b` or `bytes=a-` honoured, 206) from memory: each file is read once, kept,
//! and every answer is a zero-copy slice of it written as one buffer. The bench reads the same
//! files through it with the same clients, so the emulator's figure can be set beside what
//! plain HTTP on this machine's loopback allows these clients.
//!
//! ```text
//! cargo build --release --example static_file_server
//! target/release/examples/static_file_server DIR     # prints: listening on http://127.0.0.1:PORT
//! ```

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use hyper::{Request, Response, StatusCode};

fn main() -> std::io::Result<()> {
    let dir: PathBuf = std::env::args().nth(1).map(PathBuf::from).expect("usage: static_file_server DIR");
    let dir = Arc::new(Files { dir: dir.canonicalize()?, cache: Mutex::new(HashMap::new()) });
    // The same shape as the S3 endpoint's runtime: two workers.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("listening on http://{}", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            let dir = Arc::clone(&dir);
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| serve(Arc::clone(&dir), req));
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, svc).await;
            });
        }
    })
}

/// The served directory and the files read so far.
struct Files {
    dir: PathBuf,
    cache: Mutex<HashMap<PathBuf, Bytes>>,
}

impl Files {
    fn get(&self, key: &str) -> Option<Bytes> {
        let path = self.dir.join(Path::new(key));
        if let Some(b) = self.cache.lock().ok()?.get(&path) {
            return Some(b.clone());
        }
        let b = Bytes::from(std::fs::read(&path).ok()?);
        self.cache.lock().ok()?.insert(path, b.clone());
        Some(b)
    }
}

async fn serve(dir: Arc<Files>, req: Request<hyper::body::Incoming>) -> Result<Response<s3s::Body>, Infallible> {
    let head = req.method() == hyper::Method::HEAD;
    // `/<bucket>/<key>`: the bucket is ignored, the key is a path under DIR (no `..`).
    let key = req.uri().path().trim_start_matches('/').split_once('/').map(|(_, k)| k.to_string());
    let range = req.headers().get("range").and_then(|r| r.to_str().ok()).map(str::to_string);
    let answer = tokio::task::spawn_blocking(move || -> Option<(StatusCode, Bytes, u64, Option<String>)> {
        let key = key.filter(|k| !k.split('/').any(|s| s == ".." || s.is_empty()))?;
        let file = dir.get(&key)?;
        let len = file.len() as u64;
        let (start, end) = match range.as_deref().and_then(|r| r.strip_prefix("bytes=")) {
            Some(r) => {
                let (a, b) = r.split_once('-')?;
                let a: u64 = a.parse().ok()?;
                let b: u64 = if b.is_empty() { len - 1 } else { b.parse::<u64>().ok()?.min(len - 1) };
                (a, b + 1)
            }
            None => (0, len),
        };
        let status = if range.is_some() { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK };
        let content_range = range.as_ref().map(|_| format!("bytes {start}-{}/{len}", end - 1));
        let body = if head { Bytes::new() } else { file.slice(start as usize..end as usize) };
        Some((status, body, end - start, content_range))
    })
    .await
    .ok()
    .flatten();
    let Some((status, body, len, content_range)) = answer else {
        let mut r = Response::new(s3s::Body::empty());
        *r.status_mut() = StatusCode::NOT_FOUND;
        return Ok(r);
    };
    let mut r = Response::new(s3s::Body::from(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert("content-length", len.into());
    h.insert("content-type", hyper::header::HeaderValue::from_static("application/octet-stream"));
    h.insert("last-modified", hyper::header::HeaderValue::from_static("Thu, 01 Jan 2026 00:00:00 GMT"));
    h.insert("etag", hyper::header::HeaderValue::from_static("\"0\""));
    if let Some(cr) = content_range.and_then(|c| hyper::header::HeaderValue::from_str(&c).ok()) {
        h.insert("content-range", cr);
    }
    Ok(r)
}
