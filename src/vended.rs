//! The temporary credentials this process has vended: access key → secret, session token, scope
//! (one `s3://` URL), read-only or read-write, and expiry. Kept in memory only (a restart
//! invalidates every credential); shared by the REST handlers that vend and the S3 endpoint that
//! checks. Like a cloud STS token, a credential is never revoked: it ends at its expiry.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::domain::now_ms;
use crate::domain::storage_url::StorageUrl;

/// One vended credential.
#[derive(Debug)]
pub struct Vended {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    /// The scope: an `s3://bucket[/path]` URL in normal form.
    pub url: StorageUrl,
    /// `READ_WRITE`, `PATH_READ_WRITE` or `PATH_CREATE_TABLE`; else read-only.
    pub write: bool,
    /// Epoch milliseconds; the credential is dead from this moment on.
    pub expiration_time: i64,
}

impl Vended {
    /// The bucket of the scope.
    pub fn bucket(&self) -> &str {
        let rest = self.url.as_str().split_once("://").map(|(_, r)| r).unwrap_or("");
        rest.split('/').next().unwrap_or("")
    }

    /// The key prefix of the scope, without leading or trailing `/` (empty: the whole bucket).
    pub fn prefix(&self) -> &str {
        let rest = self.url.as_str().split_once("://").map(|(_, r)| r).unwrap_or("");
        rest.split_once('/').map(|(_, p)| p.trim_matches('/')).unwrap_or("")
    }

    pub fn is_live(&self, now: i64) -> bool {
        now < self.expiration_time
    }

    /// Whether the object `bucket/key` lies within the scope, by path segment: the key equals
    /// the scope's path or starts with it followed by `/` (a scope `b/t1` never reaches `b/t10`).
    pub fn covers(&self, bucket: &str, key: &str) -> bool {
        if bucket != self.bucket() {
            return false;
        }
        let prefix = self.prefix();
        prefix.is_empty() || key == prefix || key.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
    }

    /// Whether a list request's `prefix` stays within the scope: equal to the scope's path, or
    /// starting with it followed by `/`; the empty prefix only for a whole-bucket scope.
    pub fn covers_listing(&self, bucket: &str, list_prefix: &str) -> bool {
        if bucket != self.bucket() {
            return false;
        }
        let prefix = self.prefix();
        prefix.is_empty()
            || list_prefix == prefix
            || list_prefix.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
    }
}

/// Every credential vended by this process, by access key.
#[derive(Debug)]
pub struct Registry {
    by_key: RwLock<HashMap<String, Arc<Vended>>>,
    /// Lifetime of every credential, in seconds (`--credential-lifetime`).
    pub lifetime_secs: u32,
}

/// Expired credentials are dropped when the registry grows past this many.
const SWEEP_AT: usize = 4096;

impl Registry {
    pub fn new(lifetime_secs: u32) -> Registry {
        Registry { by_key: RwLock::new(HashMap::new()), lifetime_secs }
    }

    /// When a credential vended now would expire (epoch ms).
    pub fn expiration_from_now(&self) -> i64 {
        now_ms() + i64::from(self.lifetime_secs) * 1000
    }

    /// Mints a new credential for `url` (an `s3://` URL), unique per call.
    pub fn mint(&self, url: StorageUrl, write: bool) -> Arc<Vended> {
        let vended = Arc::new(Vended {
            access_key_id: format!("ASIA{}", random_from(UPPER_DIGITS, 16)),
            secret_access_key: random_from(SECRET_CHARS, 40),
            session_token: format!("UCE{}", random_from(TOKEN_CHARS, 96)),
            url,
            write,
            expiration_time: self.expiration_from_now(),
        });
        let mut map = self.by_key.write().unwrap_or_else(|e| e.into_inner());
        if map.len() >= SWEEP_AT {
            let now = now_ms();
            map.retain(|_, v| v.is_live(now));
        }
        map.insert(vended.access_key_id.clone(), Arc::clone(&vended));
        vended
    }

    /// The credential of an access key, live or expired (callers check expiry, so the refusal
    /// can say why).
    pub fn get(&self, access_key_id: &str) -> Option<Arc<Vended>> {
        self.by_key.read().unwrap_or_else(|e| e.into_inner()).get(access_key_id).cloned()
    }
}

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const SECRET_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const TOKEN_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `len` characters drawn uniformly from `alphabet` (rejection sampling over OS randomness).
fn random_from(alphabet: &[u8], len: usize) -> String {
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        getrandom::getrandom(&mut buf).expect("the OS provides randomness");
        for &b in &buf {
            if (b as usize) < limit && out.len() < len {
                out.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cred(url: &str) -> Arc<Vended> {
        Registry::new(60).mint(StorageUrl::parse(url).unwrap(), false)
    }

    #[test]
    fn scope_is_by_path_segment() {
        let c = cred("s3://lake/tables/t1");
        assert!(c.covers("lake", "tables/t1"));
        assert!(c.covers("lake", "tables/t1/_delta_log/0.json"));
        assert!(!c.covers("lake", "tables/t10/x"), "t1 never reaches t10");
        assert!(!c.covers("lake", "tables/t1x"));
        assert!(!c.covers("lake", "tables"));
        assert!(!c.covers("other", "tables/t1/x"));
        assert!(c.covers_listing("lake", "tables/t1/"));
        assert!(c.covers_listing("lake", "tables/t1"));
        assert!(!c.covers_listing("lake", "tables/t"), "a listing above the scope");
        assert!(!c.covers_listing("lake", ""));
        let whole = cred("s3://lake");
        assert!(whole.covers("lake", "anything/at/all"));
        assert!(whole.covers_listing("lake", ""));
    }

    #[test]
    fn credentials_have_the_sts_shapes_and_are_unique() {
        let r = Registry::new(60);
        let a = r.mint(StorageUrl::parse("s3://b/x").unwrap(), true);
        let b = r.mint(StorageUrl::parse("s3://b/x").unwrap(), true);
        assert_ne!(a.access_key_id, b.access_key_id);
        assert!(a.access_key_id.starts_with("ASIA") && a.access_key_id.len() == 20);
        assert!(a.access_key_id[4..].bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        assert_eq!(a.secret_access_key.len(), 40);
        assert!(a.is_live(now_ms()) && !a.is_live(a.expiration_time));
        assert!(r.get(&a.access_key_id).is_some() && r.get("ASIAFORGED0000000000").is_none());
    }
}
