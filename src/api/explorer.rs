//! The permission explorer: a page served by the binary itself at `/explorer/` (`/` redirects
//! there). Its HTML, script, style and icon are compiled in (`src/explorer/`), no token is
//! needed to load them, and a strict same-origin Content-Security-Policy confines the page to
//! this server. The page is a client of the public API only: it decides nothing itself.

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, HttpRequest, HttpResponse};

use super::Res;
use crate::error::{ApiError, ErrorCode};

/// The page's policy: its own origin only; no inline or evaluated script.
pub const CSP: &str = "default-src 'self'; script-src 'self'; img-src 'self' data:; style-src 'self'; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

const INDEX: &str = include_str!("../explorer/index.html");

/// (file name, content type, bytes)
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../explorer/app.js")),
    ("app.css", "text/css; charset=utf-8", include_bytes!("../explorer/app.css")),
    ("icon.svg", "image/svg+xml", include_bytes!("../explorer/icon.svg")),
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(Res::new("/").get(redirect).build()).service(
        web::scope("/explorer")
            .wrap(
                DefaultHeaders::new()
                    .add((header::CONTENT_SECURITY_POLICY, CSP))
                    .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                    .add((header::REFERRER_POLICY, "no-referrer")),
            )
            .service(Res::new("").get(index).build())
            .service(Res::new("/assets/{file}").get(asset).build())
            .default_service(web::to(not_found)),
    );
}

/// `GET /`: 302 to the explorer.
async fn redirect() -> HttpResponse {
    HttpResponse::Found().insert_header((header::LOCATION, "/explorer/")).finish()
}

/// `GET /explorer/` (and `/explorer`): the page.
async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(INDEX)
}

/// `GET /explorer/assets/{file}`: an embedded asset, or 404.
async fn asset(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let file = req.match_info().get("file").unwrap_or_default();
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => Ok(HttpResponse::Ok()
            .content_type(*content_type)
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(*bytes)),
        None => Err(ApiError::new(ErrorCode::NotFound, format!("The explorer has no asset '{file}'."))),
    }
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::endpoint_not_found(req.path()))
}
