//! List paging: `max_results` semantics and sealed keyset page tokens.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

/// How many rows a page may hold at most, and the page size `max_results=0` asks for.
pub const SERVER_PAGE_SIZE: usize = 1000;

/// What a list request asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    /// `None`: everything (no `max_results` given).
    pub limit: Option<usize>,
}

impl PageRequest {
    /// `max_results`: absent → all; `0` → server page size; `> 0` → min(value, server max);
    /// `< 0` → error naming the parameter.
    pub fn from_max_results(
        max_results: Option<i64>,
        default_when_absent: Option<usize>,
    ) -> Result<PageRequest, String> {
        match max_results {
            None => Ok(PageRequest { limit: default_when_absent }),
            Some(n) if n < 0 => Err(format!("must not be negative, got {n}")),
            Some(0) => Ok(PageRequest { limit: Some(SERVER_PAGE_SIZE) }),
            Some(n) => Ok(PageRequest { limit: Some((n as usize).min(SERVER_PAGE_SIZE)) }),
        }
    }
}

/// The secret that seals page tokens; kept in the database so tokens outlive restarts.
#[derive(Clone)]
pub struct PageKey(Key);

impl PageKey {
    pub fn from_bytes(bytes: &[u8]) -> Option<PageKey> {
        (bytes.len() == 32).then(|| PageKey(*Key::from_slice(bytes)))
    }

    pub fn generate() -> [u8; 32] {
        let mut k = [0u8; 32];
        getrandom::getrandom(&mut k).expect("the OS random source works");
        k
    }

    /// Seals "this list, resume after `after`". Encrypted, not only signed: `after` may name a
    /// row the caller cannot see.
    pub fn seal(&self, list: &str, after: &str) -> String {
        // From the thread's CSPRNG (seeded by the OS, reseeded as it goes): a list page is no
        // reason for a system call.
        let nonce: [u8; 12] = rand::random();
        let body = format!("{list}\u{1f}{after}");
        let sealed = ChaCha20Poly1305::new(&self.0)
            .encrypt(Nonce::from_slice(&nonce), body.as_bytes())
            .expect("encryption of a short buffer cannot fail");
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(2 * (12 + sealed.len()));
        for b in nonce.iter().chain(sealed.iter()) {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        out
    }

    /// Opens a token issued for `list`; `None` for anything else (garbage, tampered, another list).
    pub fn open(&self, list: &str, token: &str) -> Option<String> {
        // Only the canonical spelling (lower-case hex) is a token this server issued.
        if token.len() < 2 * (12 + 16)
            || !token.len().is_multiple_of(2)
            || !token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return None;
        }
        let bytes: Vec<u8> = (0..token.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(token.get(i..i + 2)?, 16).ok())
            .collect::<Option<_>>()?;
        let (nonce, sealed) = bytes.split_at(12);
        let body = ChaCha20Poly1305::new(&self.0).decrypt(Nonce::from_slice(nonce), sealed).ok()?;
        let body = String::from_utf8(body).ok()?;
        let (issued_for, after) = body.split_once('\u{1f}')?;
        (issued_for == list).then(|| after.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> PageKey {
        PageKey::from_bytes(&PageKey::generate()).unwrap()
    }

    #[test]
    fn tokens_round_trip_only_for_their_list() {
        let k = key();
        let t = k.seal("tables:main.sales", "orders");
        assert_eq!(k.open("tables:main.sales", &t).as_deref(), Some("orders"));
        assert_eq!(k.open("tables:main.other", &t), None);
        assert!(!t.contains("orders"), "the body is encrypted");
    }

    #[test]
    fn forged_or_tampered_tokens_are_refused() {
        let k = key();
        let t = k.seal("catalogs", "a");
        let mut tampered = t.clone().into_bytes();
        tampered[30] = if tampered[30] == b'0' { b'1' } else { b'0' };
        assert_eq!(k.open("catalogs", std::str::from_utf8(&tampered).unwrap()), None);
        assert_eq!(k.open("catalogs", "garbage"), None);
        assert_eq!(k.open("catalogs", &t.to_uppercase()), None, "only the issued spelling");
        assert_eq!(k.open("catalogs", &t[..t.len() - 2]), None);
        assert_eq!(key().open("catalogs", &t), None, "another server's key");
    }

    #[test]
    fn max_results_semantics() {
        assert_eq!(PageRequest::from_max_results(None, None).unwrap().limit, None);
        assert_eq!(PageRequest::from_max_results(Some(0), None).unwrap().limit, Some(SERVER_PAGE_SIZE));
        assert_eq!(PageRequest::from_max_results(Some(5), None).unwrap().limit, Some(5));
        assert_eq!(PageRequest::from_max_results(Some(1_000_000), None).unwrap().limit, Some(SERVER_PAGE_SIZE));
        assert!(PageRequest::from_max_results(Some(-1), None).is_err());
    }
}
