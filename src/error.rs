//! The one table of error codes and the one error body every failure is rendered as.

use std::fmt;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Every failure the API can report. Each code owns its HTTP status (the SDK picks its
/// exception class from the status, then refines it by `error_code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidParameterValue,
    BadRequest,
    InvalidState,
    MalformedRequest,
    CatalogNotEmpty,
    SchemaNotEmpty,
    Unauthenticated,
    PermissionDenied,
    /// The permissions endpoints' 403.
    Unauthorized,
    NotFound,
    EndpointNotFound,
    ResourceDoesNotExist,
    MetastoreDoesNotExist,
    CatalogDoesNotExist,
    SchemaDoesNotExist,
    TableDoesNotExist,
    VolumeDoesNotExist,
    FunctionDoesNotExist,
    PrincipalDoesNotExist,
    WorkspaceDoesNotExist,
    /// The account storage-credential API's 404 (the workspace API answers `ResourceDoesNotExist`).
    StorageCredentialDoesNotExist,
    MethodNotAllowed,
    ResourceAlreadyExists,
    /// A rule-set update whose etag is not the current version.
    ResourceConflict,
    MetastoreAlreadyExists,
    CatalogAlreadyExists,
    SchemaAlreadyExists,
    TableAlreadyExists,
    VolumeAlreadyExists,
    FunctionAlreadyExists,
    /// The Files API's 409 (a file or directory is in the way).
    AlreadyExists,
    /// A download whose `If-Unmodified-Since` no longer holds.
    FailedPrecondition,
    /// A `Range` that starts at or past the end of the file.
    RangeNotSatisfiable,
    PayloadTooLarge,
    Internal,
    PartnerConnectionNotFound,
    PartnerAccountNotFound,
    PartnerRejected,
    PartnerResponseInvalid,
    PartnerUnreachable,
    PartnerTimeout,
}

impl ErrorCode {
    /// Every failure on one screen: HTTP status and wire code.
    pub const fn wire(self) -> (u16, &'static str) {
        match self {
            Self::InvalidParameterValue => (400, "INVALID_PARAMETER_VALUE"),
            Self::BadRequest => (400, "BAD_REQUEST"),
            Self::InvalidState => (400, "INVALID_STATE"),
            Self::MalformedRequest => (400, "MALFORMED_REQUEST"),
            Self::CatalogNotEmpty => (400, "CATALOG_NOT_EMPTY"),
            Self::SchemaNotEmpty => (400, "SCHEMA_NOT_EMPTY"),
            Self::Unauthenticated => (401, "UNAUTHENTICATED"),
            Self::PermissionDenied => (403, "PERMISSION_DENIED"),
            Self::Unauthorized => (403, "UNAUTHORIZED"),
            Self::NotFound => (404, "NOT_FOUND"),
            Self::EndpointNotFound => (404, "ENDPOINT_NOT_FOUND"),
            Self::ResourceDoesNotExist => (404, "RESOURCE_DOES_NOT_EXIST"),
            Self::MetastoreDoesNotExist => (404, "METASTORE_DOES_NOT_EXIST"),
            Self::CatalogDoesNotExist => (404, "CATALOG_DOES_NOT_EXIST"),
            Self::SchemaDoesNotExist => (404, "SCHEMA_DOES_NOT_EXIST"),
            Self::TableDoesNotExist => (404, "TABLE_DOES_NOT_EXIST"),
            Self::VolumeDoesNotExist => (404, "VOLUME_DOES_NOT_EXIST"),
            Self::FunctionDoesNotExist => (404, "FUNCTION_DOES_NOT_EXIST"),
            Self::PrincipalDoesNotExist => (404, "PRINCIPAL_DOES_NOT_EXIST"),
            Self::WorkspaceDoesNotExist => (404, "WORKSPACE_DOES_NOT_EXIST"),
            Self::StorageCredentialDoesNotExist => (404, "STORAGE_CREDENTIAL_DOES_NOT_EXIST"),
            Self::ResourceConflict => (409, "RESOURCE_CONFLICT"),
            Self::MethodNotAllowed => (405, "METHOD_NOT_ALLOWED"),
            Self::ResourceAlreadyExists => (409, "RESOURCE_ALREADY_EXISTS"),
            Self::MetastoreAlreadyExists => (409, "METASTORE_ALREADY_EXISTS"),
            Self::CatalogAlreadyExists => (409, "CATALOG_ALREADY_EXISTS"),
            Self::SchemaAlreadyExists => (409, "SCHEMA_ALREADY_EXISTS"),
            Self::TableAlreadyExists => (409, "TABLE_ALREADY_EXISTS"),
            Self::VolumeAlreadyExists => (409, "VOLUME_ALREADY_EXISTS"),
            Self::FunctionAlreadyExists => (409, "FUNCTION_ALREADY_EXISTS"),
            Self::AlreadyExists => (409, "ALREADY_EXISTS"),
            Self::FailedPrecondition => (412, "FAILED_PRECONDITION"),
            Self::RangeNotSatisfiable => (416, "INVALID_PARAMETER_VALUE"),
            Self::PayloadTooLarge => (413, "REQUEST_LIMIT_EXCEEDED"),
            Self::Internal => (500, "INTERNAL_ERROR"),
            Self::PartnerConnectionNotFound => (404, "PARTNER_CONNECTION_NOT_FOUND"),
            Self::PartnerAccountNotFound => (404, "PARTNER_ACCOUNT_NOT_FOUND"),
            Self::PartnerRejected => (502, "PARTNER_REJECTED"),
            Self::PartnerResponseInvalid => (502, "PARTNER_RESPONSE_INVALID"),
            Self::PartnerUnreachable => (502, "PARTNER_UNREACHABLE"),
            Self::PartnerTimeout => (504, "PARTNER_TIMEOUT"),
        }
    }

    pub const fn status(self) -> u16 {
        self.wire().0
    }
}

/// An API failure: a code, a one-sentence message naming the thing, and for 500s the cause
/// (logged, never sent).
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    cause: Option<BoxError>,
    /// Extra headers a few errors carry (`Allow` on 405).
    allow: Option<String>,
    /// SCIM paths render RFC 7644's error keys beside ours.
    scim: bool,
    /// Delta Sharing's error shape: `errorCode` besides `error_code`.
    delta_sharing: bool,
    /// Extra keys some errors carry (Partner Connect's `partner_status`, `violations`, ...).
    extra: Option<serde_json::Map<String, serde_json::Value>>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            cause: None,
            allow: None,
            scim: false,
            delta_sharing: false,
            extra: None,
        }
    }

    /// 400 INVALID_PARAMETER_VALUE about one field.
    pub fn invalid(field: &str, problem: impl fmt::Display) -> Self {
        let field = if field.is_empty() || field == "." { "body" } else { field };
        Self::new(ErrorCode::InvalidParameterValue, format!("{field}: {problem}"))
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }

    pub fn denied(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::PermissionDenied, message)
    }

    pub fn no_metastore() -> Self {
        Self::new(ErrorCode::MetastoreDoesNotExist, "No metastore assigned for the current workspace.")
    }

    pub fn endpoint_not_found(path: &str) -> Self {
        Self::new(ErrorCode::EndpointNotFound, format!("No API found for '{path}'."))
    }

    pub fn method_not_allowed(method: &str, allow: String) -> Self {
        let mut e =
            Self::new(ErrorCode::MethodNotAllowed, format!("Method {method} is not allowed here; allowed: {allow}."));
        e.allow = Some(allow);
        e
    }

    /// A real server fault: the cause is logged, the client gets fixed text.
    pub fn internal(cause: impl Into<BoxError>) -> Self {
        let mut e = Self::new(ErrorCode::Internal, "Internal error.");
        e.cause = Some(cause.into());
        e
    }

    /// The extra keys of the error body, if any.
    pub fn extra(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.extra.as_ref()
    }

    /// Adds keys to the error body beside `error_code` and `message`.
    pub fn with_extra(mut self, extra: serde_json::Map<String, serde_json::Value>) -> Self {
        self.extra = Some(extra);
        self
    }

    /// The same error in the Delta Sharing protocol's shape (`errorCode` too; no cause kept).
    pub fn for_delta_sharing(&self) -> Self {
        ApiError {
            code: self.code,
            message: self.message.clone(),
            cause: None,
            allow: self.allow.clone(),
            scim: false,
            delta_sharing: true,
            extra: self.extra.clone(),
        }
    }

    pub fn scim(mut self) -> Self {
        self.scim = true;
        self
    }

    /// RFC 7644 §3.12's `scimType` where it names one.
    fn scim_type(&self) -> Option<&'static str> {
        match self.code.status() {
            409 => Some("uniqueness"),
            400 if self.message.starts_with("filter:") => Some("invalidFilter"),
            400 if self.message.starts_with("path:") || self.message.contains("Operations[") => Some("invalidPath"),
            400 => Some("invalidValue"),
            _ => None,
        }
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.code.status(), self.code.wire().1, self.message)?;
        if let Some(cause) = &self.cause {
            write!(f, " (cause: {cause})")?;
        }
        Ok(())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.wire().1, self.message)
    }
}

impl std::error::Error for ApiError {}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error_code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    schemas: Option<[&'static str; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
    #[serde(rename = "scimType", skip_serializing_if = "Option::is_none")]
    scim_type: Option<&'static str>,
    #[serde(rename = "errorCode", skip_serializing_if = "Option::is_none")]
    error_code_protocol: Option<&'a str>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    extra: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code) = self.code.wire();
        if let Some(cause) = &self.cause {
            let mut chain = cause.to_string();
            let mut source = cause.source();
            while let Some(s) = source {
                chain.push_str(": ");
                chain.push_str(&s.to_string());
                source = s.source();
            }
            tracing::error!(cause = %chain, "internal error");
        }
        let body = ErrorBody {
            error_code: code,
            message: &self.message,
            schemas: self.scim.then_some(["urn:ietf:params:scim:api:messages:2.0:Error"]),
            status: self.scim.then(|| status.to_string()),
            detail: self.scim.then_some(self.message.as_str()),
            scim_type: if self.scim { self.scim_type() } else { None },
            error_code_protocol: self.delta_sharing.then_some(code),
            extra: self.extra.as_ref(),
        };
        let mut res = HttpResponse::build(self.status_code());
        if let Some(allow) = &self.allow {
            res.insert_header((header::ALLOW, allow.as_str()));
        }
        let mut res = res.json(body);
        res.extensions_mut().insert(crate::telemetry::LoggedErrorCode(code));
        res
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        ApiError::internal(e)
    }
}

impl From<crate::domain::names::NameError> for ApiError {
    fn from(e: crate::domain::names::NameError) -> Self {
        ApiError::invalid(&e.field, &e.problem)
    }
}
