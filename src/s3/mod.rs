//! The S3-compatible endpoint (`--s3-bind`): its own HTTP layer on a second listener. `s3s`
//! parses the S3 REST protocol, verifies SigV4 (header and pre-signed forms, aws-chunked
//! streaming payloads) against the secrets of the credentials this process vended, and renders
//! S3 XML errors; `access` decides scope, operation and expiry for every request; `objects`
//! serves the operations over the directories of `--storage-map`.

mod access;
mod etags;
mod objects;

use std::net::TcpListener;
use std::sync::Arc;

use s3s::service::S3ServiceBuilder;

use crate::domain::storage_url::StorageUrl;
use crate::files::LocalStorage;
use crate::vended::Registry;

/// For the target of a write, the read-only external location covering it (`Ok(None)`: none);
/// `Err` when the catalog cannot be read (the write is refused).
pub type ReadOnlyCheck = Arc<dyn Fn(&StorageUrl) -> Result<Option<String>, String> + Send + Sync>;

/// A running S3 endpoint; dropping it stops accepting connections.
pub struct S3Server {
    /// `http://HOST:PORT` as bound (the second stdout line).
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves the endpoint on `listener` (already bound) from its own two-thread runtime, so file
/// transfers never compete with the REST workers' event loop. `state` is the endpoint's own
/// directory beside the database (staged multipart parts, emptied at every start, and the ETag
/// cache); `None` (an in-memory database) keeps both in a temporary directory of this process.
pub fn start(
    listener: TcpListener,
    host: &str,
    registry: Arc<Registry>,
    storage: LocalStorage,
    read_only: ReadOnlyCheck,
    state: Option<std::path::PathBuf>,
) -> std::io::Result<S3Server> {
    let port = listener.local_addr()?.port();
    listener.set_nonblocking(true)?;
    let service = {
        let mut b = S3ServiceBuilder::new(objects::Objects::new(storage, Arc::clone(&registry), state)?);
        b.set_auth(access::Auth(Arc::clone(&registry)));
        b.set_access(access::Access { registry, read_only });
        b.build()
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("s3-endpoint")
        .enable_all()
        .build()?;
    let thread = std::thread::Builder::new().name("s3-accept".into()).spawn(move || {
        runtime.block_on(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
            let mut stop_rx = stop_rx;
            loop {
                tokio::select! {
                    _ = &mut stop_rx => break,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let _ = stream.set_nodelay(true);
                        let service = service.clone();
                        tokio::spawn(async move {
                            let io = hyper_util::rt::TokioIo::new(stream);
                            let svc = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                                let service = service.clone();
                                async move { access::respond(&service, req).await }
                            });
                            let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, svc).await;
                        });
                    }
                }
            }
        });
        runtime.shutdown_background();
    })?;
    Ok(S3Server { url: format!("http://{host}:{port}"), stop: Some(stop_tx), thread: Some(thread) })
}
