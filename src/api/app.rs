//! Wiring: open the store, apply fixtures, build the HTTP server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_service::ServiceFactoryExt;
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App};

use crate::api::{self, extract};
use crate::config::ServeArgs;
use crate::fixtures::{self, FixtureError, Loaded};
use crate::store::{self, Store};

/// A start-up failure: one line on stderr, exit status 2.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Database(#[from] store::OpenError),
    #[error("{0}")]
    Fixture(#[from] FixtureError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
}

/// A started server: the listening address and the future that runs it.
pub struct Running {
    pub server: Server,
    pub url: String,
    pub store: Arc<Store>,
    /// The S3 endpoint (`--s3-bind`), serving already; dropping it stops it.
    pub s3: Option<crate::s3::S3Server>,
}

/// Opens the database, binds, applies fixtures, and builds the server (not yet polled).
pub fn start(args: &ServeArgs) -> Result<Running, StartError> {
    let fresh_file = !store::exists(&args.db) && args.db != ":memory:";
    let result = start_inner(args);
    if result.is_err() && fresh_file {
        // A database this failed start-up created is not kept: the next start is "new" again.
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", args.db));
        }
        let _ = std::fs::remove_dir_all(format!("{}-s3", args.db));
    }
    result
}

fn start_inner(args: &ServeArgs) -> Result<Running, StartError> {
    if args.reset && args.db != ":memory:" {
        // `--reset`: start from an empty database, so the fixtures give their own state again.
        for suffix in ["", "-wal", "-shm"] {
            let path = format!("{}{suffix}", args.db);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StartError::Fixture(FixtureError(format!("--reset: cannot remove {path}: {e}")))),
            }
        }
    }
    // Fixtures are read first so that a bad file fails before anything is created.
    let mut files: Vec<Loaded> = args.fixtures.iter().map(|p| fixtures::load(p)).collect::<Result<_, _>>()?;
    let store = Arc::new(Store::open(&args.db)?);
    let listener =
        TcpListener::bind(&args.bind).map_err(|source| StartError::Bind { addr: args.bind.clone(), source })?;
    let port = listener.local_addr().map_err(|source| StartError::Bind { addr: args.bind.clone(), source })?.port();
    let host = args.bind.rsplit_once(':').map(|(h, _)| h).unwrap_or("127.0.0.1");
    let s3_listener = match &args.s3_bind {
        Some(addr) => Some(TcpListener::bind(addr).map_err(|source| StartError::Bind { addr: addr.clone(), source })?),
        None => None,
    };

    let using_default = files.is_empty() && store.is_new;
    if using_default {
        files.push(fixtures::parse(fixtures::DEFAULT_FIXTURE_NAME, fixtures::DEFAULT_FIXTURE)?);
    }
    let roots = crate::files::FileRoots::new(args.file_roots.clone());
    fixtures::check_file_urls(&files, &roots)?;
    let local = crate::files::LocalStorage { map: args.storage_map.clone().into(), roots: roots.clone() };
    fixtures::apply_mapped(&store, &files, &local)?;
    // A connect cut short by a crash left a pending connection: roll it back before serving.
    let recovered = crate::partner_connect::recover_pending(&store).map_err(|e| {
        StartError::Fixture(FixtureError(format!("recovering pending Partner Connect connections: {e}")))
    })?;
    if recovered > 0 {
        tracing::warn!(recovered, "rolled back Partner Connect connections a crash left pending");
    }
    tracing::info!(db = %args.db, new = store.is_new, "database open");
    if let Ok(Some(account_id)) = store.read_now(crate::store::account::stored_account_id) {
        tracing::info!(account_id = %account_id, "account");
    }
    for f in &files {
        tracing::info!(fixture = %f.name, "fixture applied");
        let tokens = f.announced_tokens();
        if !tokens.is_empty() && !using_default {
            let list: Vec<String> = tokens.iter().map(|(t, p)| format!("'{t}' ({p})")).collect();
            tracing::info!("fixture {}: use token {}", f.name, list.join(", "));
        }
    }
    if using_default {
        tracing::info!(
            "built-in fixture: use token 'dapi-admin' (account admin, metastore 'main' owner) or 'dapi-alice'"
        );
    }

    let configured_public_url =
        crate::config::public_url().filter(|_| !args.own_address_only).map(|url| url.trim_end_matches('/').to_string());
    let public_url = configured_public_url.clone().unwrap_or_else(|| listening_url(host, port));
    let vended = Arc::new(crate::vended::Registry::new(args.credential_lifetime));
    let s3 = match (s3_listener, &args.s3_bind) {
        (Some(l), Some(addr)) => {
            let s3_host = addr.rsplit_once(':').map(|(h, _)| h).unwrap_or("127.0.0.1");
            let bind_err = |source| StartError::Bind { addr: addr.clone(), source };
            let s3_port = l.local_addr().map_err(bind_err)?.port();
            let catalog = Arc::clone(&store);
            let read_only: crate::s3::ReadOnlyCheck = Arc::new(move |url| {
                catalog
                    .read_now(|conn| crate::ops::temporary_credentials::read_only_location(conn, url))
                    .map_err(|e| e.message)
            });
            // The endpoint's state lives beside the database (`<db>-s3/`), unless that would put
            // it inside a mapped directory, where its files would be objects.
            let state = std::path::PathBuf::from(format!("{}-s3", args.db));
            let state = (args.db != ":memory:"
                && !local.map.iter().any(|m| {
                    let dir = std::fs::canonicalize(&m.dir).unwrap_or_else(|_| m.dir.clone());
                    let parent =
                        state.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
                    std::fs::canonicalize(parent).is_ok_and(|p| p.starts_with(&dir))
                }))
            .then_some(state);
            let server = crate::s3::start(l, s3_host, Arc::clone(&vended), local.clone(), read_only, state)
                .map_err(|source| StartError::Bind { addr: addr.clone(), source })?;
            let advertised = args.s3_public_url.clone().unwrap_or_else(|| listening_url(s3_host, s3_port));
            Some((server, advertised))
        }
        _ => None,
    };
    let data_plane = DataPlane { vended, s3_endpoint_url: s3.as_ref().map(|(_, u)| u.clone()) };
    let server = build(Arc::clone(&store), listener, args, public_url, configured_public_url, data_plane)
        .map_err(|source| StartError::Bind { addr: args.bind.clone(), source })?;
    tracing::info!("permission explorer: http://{host}:{port}/explorer/");
    Ok(Running { server, url: format!("http://{host}:{port}"), store, s3: s3.map(|(s, _)| s) })
}

/// What the REST handlers need of the data plane: the credential registry shared with the S3
/// endpoint, and the endpoint URL advertised in `access_point` (`None`: no S3 endpoint).
pub struct DataPlane {
    pub vended: Arc<crate::vended::Registry>,
    pub s3_endpoint_url: Option<String>,
}

/// The workspace address given to partners when `UC_EMULATOR_PUBLIC_URL` is not set: the
/// listening address with a wildcard host replaced by 127.0.0.1; the port always explicit.
fn listening_url(host: &str, port: u16) -> String {
    let host = match host {
        "0.0.0.0" | "::" | "[::]" | "" => "127.0.0.1",
        h => h,
    };
    format!("http://{host}:{port}")
}

/// Every route of the main listener (the OpenAPI document's tests build it to list them).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(api::Res::new("/healthz").get(api::healthz).build())
        .service(api::Res::new(api::openapi::PATH).get(api::openapi::document).build())
        .service(api::Res::new("/.well-known/databricks-config").get(api::host_metadata::databricks_config).build());
    // The workspace API, for the paths no route below could serve: tried first, because the
    // router tries services in order and every route with a `{parameter}` costs a regular
    // expression match (about a twentieth of a getTable's work for the dozen below).
    cfg.service(api_scope(false).guard(actix_web::guard::fn_guard(|ctx| !served_before_api(ctx.head().uri.path()))));
    cfg.configure(api::oauth::public_routes);
    api::openapi::undocumented(|| api::explorer::routes(cfg));
    // Delta Sharing's recipient side: public activation paths, the sharing server (recipient
    // bearer tokens, not workspace tokens) and pre-signed file URLs; mounted before `/api`,
    // whose middleware authenticates workspace tokens.
    api::sharing::routes(cfg);
    // The same scope again for everything else under `/api` (what the routes above refuse).
    api::openapi::undocumented(|| cfg.service(api_scope(true)));
}

/// `/api`: workspace tokens authenticated by the scope's middleware, then the route table.
fn api_scope(
    hidden: bool,
) -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let configure = move |cfg: &mut web::ServiceConfig| {
        if hidden {
            api::configure(cfg)
        } else {
            api::openapi::under("/api", || api::configure(cfg))
        }
    };
    web::scope("/api")
        .wrap(from_fn(extract::authenticate))
        .configure(configure)
        .default_service(web::to(api::not_found))
}

/// Whether a route registered before the second `/api` scope may serve `path` (the Delta
/// Sharing server and the public activation paths live under `/api` without its
/// authentication). A path with a percent sign is left to them too: the router matches the
/// decoded path, this test the raw one.
fn served_before_api(path: &str) -> bool {
    path.contains('%')
        || path.starts_with(api::sharing::PREFIX)
        || path.starts_with("/api/2.0/unity-catalog/public/")
        || path.starts_with("/api/2.1/unity-catalog/public/")
}

/// The HTTP server over a store and a bound listener, configured by `args`.
pub fn build(
    store: Arc<Store>,
    listener: TcpListener,
    args: &ServeArgs,
    public_url: String,
    configured_public_url: Option<String>,
    data_plane: DataPlane,
) -> std::io::Result<Server> {
    let account_id = store
        .read_now(crate::store::account::stored_account_id)
        .ok()
        .flatten()
        .unwrap_or_else(|| crate::domain::ACCOUNT_ID.to_string());
    let state = web::Data::new(extract::AppState {
        account_id,
        store,
        callers: Default::default(),
        storage_map: args.storage_map.clone().into(),
        file_roots: crate::files::FileRoots::new(args.file_roots.clone()),
        public_url,
        configured_public_url,
        certify_sandbox: args.own_address_only,
        presigned_url_lifetime_ms: i64::from(args.presigned_url_lifetime) * 1000,
        oauth_token_lifetime_secs: i64::from(args.oauth_token_lifetime),
        vended: data_plane.vended,
        s3_endpoint_url: data_plane.s3_endpoint_url,
    });
    // actix-web's `HttpServer`, built by hand so that each connection's stream can be wrapped:
    // the HTTP/1 codec's own refusals then carry the error JSON (`api::codec_errors`).
    let addr = listener.local_addr()?;
    let server = actix_server::Server::build()
        .shutdown_timeout(10)
        .disable_signals()
        .listen(format!("uc-emulator-{addr}"), listener, move || {
            let state = state.clone();
            let app = move || {
                App::new()
                    .app_data(state.clone())
                    .app_data(web::PayloadConfig::new(extract::MAX_BODY_BYTES))
                    .configure(routes)
                    .default_service(web::to(api::not_found))
                    .wrap(from_fn(api::fs::normalize_path))
                    .wrap(from_fn(crate::telemetry::log_request))
            };
            let http = actix_http::HttpService::build()
                .keep_alive(actix_http::KeepAlive::Timeout(std::time::Duration::from_secs(5)))
                .client_request_timeout(std::time::Duration::from_secs(5))
                .client_disconnect_timeout(std::time::Duration::from_secs(1))
                .local_addr(addr)
                .h1(actix_service::map_config(
                    actix_service::IntoServiceFactory::into_factory(app())
                        .map_err(|e: actix_web::Error| e.error_response()),
                    |_| actix_web::dev::AppConfig::default(),
                ));
            actix_service::fn_service(|io: actix_web::rt::net::TcpStream| {
                let io = api::codec_errors::JsonRefusals::new(io);
                let peer = io.peer_addr();
                std::future::ready(Ok::<_, actix_http::error::DispatchError>((io, peer)))
            })
            .and_then(http)
        })?
        .run();
    Ok(server)
}
