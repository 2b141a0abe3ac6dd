//! The HTTP layer: parse, call the store and the authorization core, render. No SQL, no rules.

pub mod access_control;
pub mod account;
pub mod account_uc;
pub mod app;
pub mod catalogs;
pub mod codec_errors;
pub mod explain;
pub mod explorer;
pub mod external_locations;
pub mod extract;
pub mod files;
pub mod fs;
pub mod functions;
pub mod host_metadata;
pub mod json_object;
pub mod listing;
pub mod metastores;
pub mod oauth;
pub mod openapi;
pub mod partner_connect;
pub mod permissions;
pub mod providers;
pub mod recipients;
pub mod schemas;
pub mod scim;
pub mod shares;
pub mod sharing;
pub mod storage_credentials;
pub mod tables;
pub mod temporary_credentials;
pub mod tokens;
pub mod user_info;
pub mod volumes;
pub mod warehouses;
pub mod workspace_permissions;

use crate::error::{ApiError, ApiResult};
pub use crate::ops::{changed, denied, owner_name, properties_json};
use actix_web::http::Method;
use actix_web::{web, FromRequest, Handler, HttpRequest, HttpResponse, Resource, Responder};

/// Paths inside the `/api` scope.
const UC: &str = "/2.1/unity-catalog";
/// The Files API (files and directories on volumes).
const UC_FS_FILES: &str = "/2.0/fs/files";
const UC_FS_DIRS: &str = "/2.0/fs/directories";
/// SCIM paths answer errors in SCIM's shape too.
pub const SCIM_PREFIX: &str = "/api/2.0/preview/scim/";

/// A 200 answering `body`, JSON already written (by [`json_object::JsonObject`]) into a buffer
/// sized up front, for answers of a known size on hot paths: `HttpResponseBuilder::json` starts
/// small and doubles, which for a page of 50 tables copied the body again eight times (a tenth
/// of the request).
pub(crate) fn json_body(body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok().content_type(actix_web::http::header::ContentType::json()).body(body)
}

/// A resource that answers 405 with `Allow` (and the error JSON) for methods it does not serve.
pub(crate) struct Res {
    path: String,
    methods: Vec<&'static str>,
    inner: Resource,
}

impl Res {
    pub(crate) fn new(path: &str) -> Res {
        Res { path: path.to_string(), methods: Vec::new(), inner: web::resource(path) }
    }

    fn on<F, Args>(mut self, method: Method, handler: F) -> Res
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.methods.push(match method {
            Method::GET => "GET",
            Method::POST => "POST",
            Method::PUT => "PUT",
            Method::PATCH => "PATCH",
            Method::DELETE => "DELETE",
            Method::HEAD => "HEAD",
            _ => "OTHER",
        });
        self.inner = self.inner.route(web::method(method).to(handler));
        self
    }

    pub(crate) fn get<F: Handler<A>, A: FromRequest + 'static>(self, h: F) -> Res
    where
        F::Output: Responder + 'static,
    {
        self.on(Method::GET, h)
    }
    pub(crate) fn post<F: Handler<A>, A: FromRequest + 'static>(self, h: F) -> Res
    where
        F::Output: Responder + 'static,
    {
        self.on(Method::POST, h)
    }
    pub(crate) fn put<F: Handler<A>, A: FromRequest + 'static>(self, h: F) -> Res
    where
        F::Output: Responder + 'static,
    {
        self.on(Method::PUT, h)
    }
    pub(crate) fn patch<F: Handler<A>, A: FromRequest + 'static>(self, h: F) -> Res
    where
        F::Output: Responder + 'static,
    {
        self.on(Method::PATCH, h)
    }
    pub(crate) fn head<F: Handler<A>, A: FromRequest + 'static>(self, h: F) -> Res
    where
        F::Output: Responder + 'static,
    {
        self.on(Method::HEAD, h)
    }
    pub(crate) fn delete<F: Handler<A>, A: FromRequest + 'static>(self, h: F) -> Res
    where
        F::Output: Responder + 'static,
    {
        self.on(Method::DELETE, h)
    }

    pub(crate) fn build(self) -> Resource {
        openapi::record(&self.path, &self.methods);
        let allow = self.methods.join(", ");
        self.inner.default_service(web::to(move |req: HttpRequest| {
            let allow = allow.clone();
            async move { Err::<HttpResponse, _>(ApiError::method_not_allowed(req.method().as_str(), allow)) }
        }))
    }
}

/// The one route table.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let uc = |p: &str| format!("{UC}{p}");
    // Tables first: the router tries resources in order and these are the most requested. A
    // `{parameter}` costs a regular expression match over the path, so they sit in a scope of
    // their own, whose prefix is a plain comparison: the expression then only reads the rest
    // (getTable's is before `…/exists`, which its one segment never matches).
    let tables = uc("/tables");
    cfg.service(openapi::under(&tables, || {
        web::scope(&tables)
            .service(Res::new("").get(tables::list_tables).post(tables::create_table).build())
            .service(
                Res::new("/{full_name}")
                    .get(tables::get_table)
                    .patch(tables::update_table)
                    .delete(tables::delete_table)
                    .build(),
            )
            .service(Res::new("/{full_name}/exists").get(tables::table_exists).build())
            .default_service(web::to(not_found))
    }));
    cfg.service(
        Res::new(&uc("/metastores")).get(metastores::list_metastores).post(metastores::create_metastore).build(),
    )
    .service(
        Res::new(&uc("/metastores/{id}"))
            .get(metastores::get_metastore)
            .patch(metastores::update_metastore)
            .delete(metastores::delete_metastore)
            .build(),
    )
    .service(Res::new(&uc("/metastore_summary")).get(metastores::metastore_summary).build())
    .service(Res::new(&uc("/current-metastore-assignment")).get(metastores::current_assignment).build())
    .service(
        Res::new(&uc("/workspaces/{workspace_id}/metastore"))
            .put(metastores::create_assignment)
            .patch(metastores::update_assignment)
            .delete(metastores::delete_assignment)
            .build(),
    )
    .service(Res::new(&uc("/catalogs")).get(catalogs::list_catalogs).post(catalogs::create_catalog).build())
    .service(
        Res::new(&uc("/catalogs/{name}"))
            .get(catalogs::get_catalog)
            .patch(catalogs::update_catalog)
            .delete(catalogs::delete_catalog)
            .build(),
    )
    .service(Res::new(&uc("/schemas")).get(schemas::list_schemas).post(schemas::create_schema).build())
    .service(
        Res::new(&uc("/schemas/{full_name}"))
            .get(schemas::get_schema)
            .patch(schemas::update_schema)
            .delete(schemas::delete_schema)
            .build(),
    )
    .service(
        Res::new(&uc("/table-summaries")).get(tables::list_summaries_get).post(tables::list_summaries_post).build(),
    )
    .service(
        Res::new(&uc("/permissions/{sec_type}/{full_name}"))
            .get(permissions::get_permissions)
            .patch(permissions::update_permissions)
            .put(permissions::replace_permissions)
            .build(),
    )
    .service(Res::new(&uc("/effective-permissions/{sec_type}/{full_name}")).get(permissions::get_effective).build())
    .service(
        Res::new(&uc("/privilege-assignments/{sec_type}/{full_name}"))
            .get(permissions::list_privilege_assignments)
            .build(),
    )
    .service(
        Res::new(&uc("/effective-privilege-assignments/{sec_type}/{full_name}"))
            .get(permissions::list_effective)
            .build(),
    )
    .service(Res::new(&uc("/explain")).get(explain::explain).build())
    .service(Res::new(&uc("/explain/actions")).get(explain::actions).build())
    .service(Res::new(&uc("/user-info/me")).get(user_info::my_info).build())
    .service(Res::new(&uc("/user-info/my-groups")).get(user_info::my_groups).build())
    .configure(scim::routes)
    .configure(shares::routes)
    .configure(recipients::routes)
    .configure(providers::routes)
    .configure(tokens::routes)
    .configure(workspace_permissions::routes)
    .configure(warehouses::routes)
    .configure(partner_connect::routes)
    .configure(storage_credentials::routes)
    .configure(external_locations::routes)
    .configure(files::routes)
    .configure(functions::routes)
    .configure(volumes::routes)
    .configure(fs::routes)
    .configure(account::routes)
    .configure(account_uc::routes)
    .configure(oauth::routes)
    .configure(access_control::routes)
    .configure(temporary_credentials::routes);
}

/// Every path no route serves: 404 `ENDPOINT_NOT_FOUND`.
pub async fn not_found(req: HttpRequest) -> ApiResult<HttpResponse> {
    let err = ApiError::endpoint_not_found(req.path());
    Err(if req.path().starts_with(SCIM_PREFIX) { err.scim() } else { err })
}

/// `GET /healthz`
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// 200 `{}` for endpoints whose API reference output is "none".
pub fn ok_empty() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::Map::new())
}
