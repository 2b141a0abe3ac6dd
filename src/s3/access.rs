//! Who may do what on the S3 endpoint: only credentials this process vended, signed with their
//! secret and carrying their session token, before their expiry, inside their URL (by path
//! segment), and writes only for read-write credentials. Every refusal is 403 `AccessDenied`
//! and has no effect.

use std::sync::Arc;

use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::dto::{
    CopyObjectInput, CopySource, DeleteObjectsInput, ListObjectsInput, ListObjectsV2Input, UploadPartCopyInput,
};
use s3s::path::S3Path;
use s3s::{s3_error, S3Request, S3Result};

use crate::domain::now_ms;
use crate::domain::storage_url::StorageUrl;
use crate::vended::{Registry, Vended};

/// Secrets by access key: only credentials this process vended (expired ones too, so that the
/// refusal can say "expired" after the signature is checked).
pub struct Auth(pub Arc<Registry>);

#[async_trait::async_trait]
impl S3Auth for Auth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.0.get(access_key) {
            Some(v) => Ok(SecretKey::from(v.secret_access_key.as_str())),
            None => Err(s3_error!(AccessDenied, "the access key was not vended by this server")),
        }
    }
}

/// Operations every live credential may perform (inside its scope).
const READS: &[&str] =
    &["GetObject", "HeadObject", "ListObjects", "ListObjectsV2", "ListParts", "HeadBucket", "GetBucketLocation"];
/// Operations only read-write credentials may perform.
const WRITES: &[&str] = &[
    "PutObject",
    "CopyObject",
    "DeleteObject",
    "DeleteObjects",
    "CreateMultipartUpload",
    "UploadPart",
    "UploadPartCopy",
    "CompleteMultipartUpload",
    "AbortMultipartUpload",
];

pub struct Access {
    pub registry: Arc<Registry>,
    pub read_only: super::ReadOnlyCheck,
}

impl Access {
    /// A write to `bucket/key` is refused under a read-only external location, whatever the
    /// credential (it may have been vended before the location became read-only).
    fn writable(&self, bucket: &str, key: &str) -> S3Result<()> {
        let url = StorageUrl::from_stored(format!("s3://{bucket}/{}", key.trim_end_matches('/')));
        match (self.read_only)(&url) {
            Ok(None) => Ok(()),
            Ok(Some(name)) => {
                Err(s3_error!(AccessDenied, "external location '{name}' is read-only; {url} may not be written"))
            }
            Err(e) => Err(s3_error!(InternalError, "the catalog could not be read: {e}")),
        }
    }

    /// The live credential of a verified request, with its session token checked.
    fn credential(&self, access_key: Option<&str>, token: Option<&str>) -> S3Result<Arc<Vended>> {
        let Some(key) = access_key else {
            return Err(s3_error!(AccessDenied, "anonymous requests are refused; sign with a vended credential"));
        };
        let v = self
            .registry
            .get(key)
            .ok_or_else(|| s3_error!(AccessDenied, "the access key was not vended by this server"))?;
        if token != Some(v.session_token.as_str()) {
            return Err(s3_error!(AccessDenied, "the session token does not belong to this credential"));
        }
        if !v.is_live(now_ms()) {
            return Err(s3_error!(AccessDenied, "credential expired"));
        }
        Ok(v)
    }

    fn of_request<T>(&self, req: &S3Request<T>) -> S3Result<Arc<Vended>> {
        let key = req.credentials.as_ref().map(|c| c.access_key.as_str());
        self.credential(key, session_token(&req.headers, &req.uri))
    }
}

/// The session token: `x-amz-security-token`, or `X-Amz-Security-Token` in a pre-signed URL.
fn session_token<'a>(headers: &'a hyper::HeaderMap, uri: &'a hyper::Uri) -> Option<&'a str> {
    if let Some(v) = headers.get("x-amz-security-token") {
        return v.to_str().ok();
    }
    uri.query()?.split('&').find_map(|kv| kv.strip_prefix("X-Amz-Security-Token=")).filter(|t| !t.contains('%'))
}

/// A copy source must lie in the credential's scope too (an access-point source never does: the
/// endpoint is path-style only).
fn source_in_scope(v: &Vended, source: &CopySource) -> S3Result<()> {
    match source {
        CopySource::Bucket { bucket, key, .. } if v.covers(bucket, key) => Ok(()),
        CopySource::Bucket { bucket, key, .. } => Err(out_of_scope(v, &format!("the copy source '{bucket}/{key}'"))),
        _ => Err(out_of_scope(v, "an access-point or outpost copy source (the endpoint is path-style only)")),
    }
}

fn out_of_scope(v: &Vended, what: &str) -> s3s::S3Error {
    s3_error!(AccessDenied, "{what} lies outside the credential's scope {}", v.url)
}

#[async_trait::async_trait]
impl S3Access for Access {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        if cx.headers().get("authorization").and_then(|a| a.to_str().ok()).is_some_and(|a| a.starts_with("AWS ")) {
            return Err(s3_error!(AccessDenied, "Signature Version 2 is not accepted; sign with SigV4"));
        }
        let key = cx.credentials().map(|c| c.access_key.clone());
        let v = self.credential(key.as_deref(), session_token(cx.headers(), cx.uri()))?;
        let op = cx.s3_op().name();
        let write = WRITES.contains(&op);
        match cx.s3_path() {
            S3Path::Root => return Err(s3_error!(AccessDenied, "a credential reaches only its own bucket")),
            S3Path::Bucket { bucket } => {
                if **bucket != *v.bucket() {
                    return Err(out_of_scope(&v, &format!("bucket '{bucket}'")));
                }
            }
            S3Path::Object { bucket, key } => {
                if !v.covers(bucket, key.trim_end_matches('/')) {
                    return Err(out_of_scope(&v, &format!("'{bucket}/{key}'")));
                }
            }
        }
        if write && !v.write {
            return Err(s3_error!(AccessDenied, "{op} needs a read-write credential; this one is read-only"));
        }
        if write {
            if let S3Path::Object { bucket, key } = cx.s3_path() {
                self.writable(bucket, key)?;
            }
        }
        if !write && !READS.contains(&op) {
            // Checks passed; the operation itself is not served (501 from the service).
            return Ok(());
        }
        Ok(())
    }

    async fn list_objects_v2(&self, req: &mut S3Request<ListObjectsV2Input>) -> S3Result<()> {
        let v = self.of_request(req)?;
        let prefix = req.input.prefix.as_deref().unwrap_or("");
        if !v.covers_listing(&req.input.bucket, prefix) {
            return Err(out_of_scope(&v, &format!("the listing prefix '{prefix}'")));
        }
        Ok(())
    }

    async fn list_objects(&self, req: &mut S3Request<ListObjectsInput>) -> S3Result<()> {
        let v = self.of_request(req)?;
        let prefix = req.input.prefix.as_deref().unwrap_or("");
        if !v.covers_listing(&req.input.bucket, prefix) {
            return Err(out_of_scope(&v, &format!("the listing prefix '{prefix}'")));
        }
        Ok(())
    }

    async fn delete_objects(&self, req: &mut S3Request<DeleteObjectsInput>) -> S3Result<()> {
        let v = self.of_request(req)?;
        for o in &req.input.delete.objects {
            if !v.covers(&req.input.bucket, &o.key) {
                return Err(out_of_scope(&v, &format!("'{}/{}'", req.input.bucket, o.key)));
            }
            self.writable(&req.input.bucket, &o.key)?;
        }
        Ok(())
    }

    async fn copy_object(&self, req: &mut S3Request<CopyObjectInput>) -> S3Result<()> {
        let v = self.of_request(req)?;
        source_in_scope(&v, &req.input.copy_source)
    }

    async fn upload_part_copy(&self, req: &mut S3Request<UploadPartCopyInput>) -> S3Result<()> {
        let v = self.of_request(req)?;
        source_in_scope(&v, &req.input.copy_source)
    }
}

/// Error codes `s3s` answers for authentication failures; the endpoint answers them all as
/// `AccessDenied` (the message keeps the detail).
const AUTH_CODES: &[&str] = &[
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "RequestTimeTooSkewed",
    "AuthorizationHeaderMalformed",
    "ExpiredToken",
    "InvalidToken",
    "MissingSecurityHeader",
];

/// What `s3s` says (as 400 `InvalidRequest`) about a SigV4 signature it cannot even check: an
/// `Authorization` header it cannot parse, no or a malformed `x-amz-date`, no
/// `x-amz-content-sha256` (SigV4 requests to S3 must carry one of the payload forms the endpoint
/// accepts), incomplete pre-signed fields. All are authentication failures: 403 `AccessDenied`,
/// like every other request that is not properly signed.
const AUTH_MESSAGES: &[&str] = &[
    "header: authorization",
    "header: x-amz-date",
    "header: x-amz-content-sha256",
    "invalid amz date",
    "presigned url",
];

/// The service named in a SigV4 credential scope (`<key>/<date>/<region>/<service>/aws4_request`),
/// from the `Authorization` header or a pre-signed URL's `X-Amz-Credential`.
fn signing_service(headers: &hyper::HeaderMap, uri: &hyper::Uri) -> Option<String> {
    let scope = match headers.get("authorization").and_then(|a| a.to_str().ok()) {
        Some(auth) => auth.split_once("Credential=")?.1.split([',', ' ']).next()?.to_string(),
        None => {
            let raw = uri.query()?.split('&').find_map(|kv| kv.strip_prefix("X-Amz-Credential="))?;
            percent_encoding::percent_decode_str(raw).decode_utf8().ok()?.into_owned()
        }
    };
    scope.split('/').nth(3).map(str::to_string)
}

/// Serves one request: `s3s`, then the request id header on every answer, and authentication
/// failures under the one code `AccessDenied`.
pub async fn respond(
    service: &s3s::service::S3Service,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<s3s::HttpResponse, s3s::HttpError> {
    let resource = req.uri().path().to_string();
    // A refusal may come before the body is read (or, after `Expect: 100-continue`, before the
    // client sends it): the connection then ends with the answer, so the next request's bytes
    // are never taken for this one's body.
    let announces_body = req.headers().contains_key(hyper::header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    // Signature Version 2 (header or pre-signed form) is refused before `s3s` looks at it, so
    // that a V2 request missing a part (a `Date`) is not answered 400 instead.
    let v2 = req.headers().get("authorization").and_then(|a| a.to_str().ok()).is_some_and(|a| a.starts_with("AWS "))
        || req.uri().query().is_some_and(|q| q.split('&').any(|kv| kv.starts_with("AWSAccessKeyId=")));
    let refused = if v2 {
        Some(s3_error!(AccessDenied, "Signature Version 2 is not accepted; sign with SigV4"))
    } else {
        // The credential scope must name the service `s3` (any region is accepted); `s3s`
        // would let `sts` through and answer 501 for others.
        signing_service(req.headers(), req.uri())
            .filter(|s| s != "s3")
            .map(|s| s3_error!(AccessDenied, "the signature's credential scope names the service '{s}'; sign for 's3'"))
    };
    let refused = refused.and_then(|e| e.to_http_response().ok());
    let mut resp = match refused {
        Some(r) => r,
        None => service.call(req.map(s3s::Body::from)).await?,
    };
    let id = uuid::Uuid::new_v4().simple().to_string();
    if let Ok(v) = hyper::header::HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-amz-request-id", v);
    }
    if resp.status().is_client_error() || resp.status().is_server_error() {
        if announces_body {
            resp.headers_mut().insert(hyper::header::CONNECTION, hyper::header::HeaderValue::from_static("close"));
        }
        if let Some(bytes) = resp.body().bytes().filter(|b| !b.is_empty()) {
            let mut text = String::from_utf8_lossy(&bytes).into_owned();
            if resp.status() == hyper::StatusCode::FORBIDDEN {
                if let Some(code) = AUTH_CODES.iter().find(|c| text.contains(&format!("<Code>{c}</Code>"))) {
                    text = text.replace(&format!("<Code>{code}</Code>"), "<Code>AccessDenied</Code>");
                }
            }
            if resp.status() == hyper::StatusCode::BAD_REQUEST
                && text.contains("<Code>InvalidRequest</Code>")
                && AUTH_MESSAGES.iter().any(|m| text.contains(m))
            {
                text = text.replace("<Code>InvalidRequest</Code>", "<Code>AccessDenied</Code>");
                *resp.status_mut() = hyper::StatusCode::FORBIDDEN;
            }
            if !text.contains("<RequestId>") {
                let resource = resource.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
                text = text.replacen(
                    "</Error>",
                    &format!("<Resource>{resource}</Resource><RequestId>{id}</RequestId></Error>"),
                    1,
                );
            }
            resp.headers_mut().remove(hyper::header::CONTENT_LENGTH);
            *resp.body_mut() = s3s::Body::from(text);
        }
    }
    Ok(resp)
}
