//! Pre-signed file URLs the emulator serves itself:
//! `<public>/delta-sharing/presigned/<key>?X-UC-Expires=<epoch ms>&X-UC-Signature=<hex>&X-Databricks-Signature=<hex>`,
//! where `<key>` is the file's storage URL in unpadded base64url and the signature is HMAC-SHA256
//! of `<key>\n<expires>` under the database's signing key.
//!
//! The signature is `X-UC-Signature`. The same value is repeated as `X-Databricks-Signature`,
//! the key Databricks' own pre-signed URLs carry, because the Delta kernel (the connector's
//! `use_delta_format=True` path) fetches a file over HTTP only when its URL carries one of the
//! query keys it knows for pre-signed URLs (`X-Amz-Signature`, `X-Databricks-Signature`…); any
//! other URL it opens as a path of its local object store. When present it must equal the
//! signature, so no part of a URL can be changed without refusal.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The path every pre-signed URL starts with.
pub const PATH_PREFIX: &str = "/delta-sharing/presigned/";
/// The same, as the HTTP scope that serves them.
pub const SCOPE: &str = "/delta-sharing/presigned";
/// The query parameter of the expiry (epoch ms).
pub const EXPIRES_PARAM: &str = "X-UC-Expires";
/// The query parameter of the signature (lower-case hex).
pub const SIGNATURE_PARAM: &str = "X-UC-Signature";
/// The same signature under the key the Delta kernel recognises pre-signed URLs by.
pub const KERNEL_SIGNATURE_PARAM: &str = "X-Databricks-Signature";

fn mac(key: &[u8; 32], url_key: &str, expires: &str) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(url_key.as_bytes());
    m.update(b"\n");
    m.update(expires.as_bytes());
    m
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A URL for `storage_url` valid until `expires_ms`.
pub fn sign(public_url: &str, key: &[u8; 32], storage_url: &str, expires_ms: i64) -> String {
    let url_key = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(storage_url.as_bytes());
    let expires = expires_ms.to_string();
    let signature = hex(&mac(key, &url_key, &expires).finalize().into_bytes());
    format!(
        "{public_url}{PATH_PREFIX}{url_key}?{EXPIRES_PARAM}={expires}&{SIGNATURE_PARAM}={signature}&{KERNEL_SIGNATURE_PARAM}={signature}"
    )
}

/// Why a pre-signed URL is refused (both 403).
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    InvalidSignature,
    Expired,
}

/// The storage URL a pre-signed URL stands for, when its signature matches (constant-time)
/// and it has not expired at `now_ms`.
pub fn verify(
    key: &[u8; 32],
    url_key: &str,
    expires: Option<&str>,
    signature: Option<&str>,
    now_ms: i64,
) -> Result<String, Refused> {
    let (Some(expires), Some(signature)) = (expires, signature) else { return Err(Refused::InvalidSignature) };
    let at: i64 = expires.parse().map_err(|_| Refused::InvalidSignature)?;
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Refused::InvalidSignature);
    }
    let given: Vec<u8> = (0..32).map(|i| u8::from_str_radix(&signature[2 * i..2 * i + 2], 16).unwrap_or(0)).collect();
    mac(key, url_key, expires).verify_slice(&given).map_err(|_| Refused::InvalidSignature)?;
    if now_ms >= at {
        return Err(Refused::Expired);
    }
    let bytes =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(url_key).map_err(|_| Refused::InvalidSignature)?;
    String::from_utf8(bytes).map_err(|_| Refused::InvalidSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(url: &str) -> (String, String, String) {
        let rest = url.split_once(PATH_PREFIX).unwrap().1;
        let (key, query) = rest.split_once('?').unwrap();
        let mut exp = String::new();
        let mut sig = String::new();
        for kv in query.split('&') {
            let (k, v) = kv.split_once('=').unwrap();
            if k == EXPIRES_PARAM {
                exp = v.into();
            } else if k == SIGNATURE_PARAM {
                sig = v.into();
            }
        }
        (key.into(), exp, sig)
    }

    #[test]
    fn signed_urls_verify_until_they_expire() {
        let key = [7u8; 32];
        let url = sign("http://127.0.0.1:9", &key, "file:///t/p=a/x%20y.parquet", 5_000);
        assert!(!url.contains("//delta") && !url.contains('='.to_string().repeat(2).as_str()));
        let (k, e, s) = parts(&url);
        assert!(k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{k}");
        assert_eq!(verify(&key, &k, Some(&e), Some(&s), 4_999).unwrap(), "file:///t/p=a/x%20y.parquet");
        assert_eq!(verify(&key, &k, Some(&e), Some(&s), 5_000), Err(Refused::Expired));
    }

    #[test]
    fn tampering_is_refused() {
        let key = [7u8; 32];
        let (k, e, s) = parts(&sign("http://h", &key, "file:///t/a.parquet", 5_000));
        let other = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("file:///etc/passwd");
        assert_eq!(verify(&key, &other, Some(&e), Some(&s), 0), Err(Refused::InvalidSignature));
        assert_eq!(verify(&key, &k, Some("6000"), Some(&s), 0), Err(Refused::InvalidSignature), "extended expiry");
        let mut flipped = s.clone().into_bytes();
        flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(verify(&key, &k, Some(&e), Some(&flipped), 0), Err(Refused::InvalidSignature));
        assert_eq!(verify(&[8u8; 32], &k, Some(&e), Some(&s), 0), Err(Refused::InvalidSignature), "another key");
        assert_eq!(verify(&key, &k, None, Some(&s), 0), Err(Refused::InvalidSignature));
        assert_eq!(verify(&key, &k, Some(&e), Some("zz"), 0), Err(Refused::InvalidSignature));
    }
}
