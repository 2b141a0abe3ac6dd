//! Values of the Delta Sharing protocol every layer shares: recipient credentials (activation
//! and bearer tokens), IP access lists, the protocol's timestamps, and SQL `LIKE`.

use std::net::IpAddr;

use base64::Engine;

fn random_url_safe(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    getrandom::getrandom(&mut b).expect("the OS random source works");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// A new activation token: 32 characters from `[A-Za-z0-9_-]`.
pub fn new_activation_token() -> String {
    random_url_safe(24)
}

/// A new recipient bearer token: 64 characters from `[A-Za-z0-9_-]`, never starting with
/// `dapi` (workspace tokens do).
pub fn new_bearer_token() -> String {
    loop {
        let t = random_url_safe(48);
        if !t.starts_with("dapi") {
            return t;
        }
    }
}

/// Whether `peer` lies in one of `entries` (IP addresses or CIDR blocks; an IPv4-mapped IPv6
/// peer is compared as IPv4). Malformed entries match nothing.
pub fn ip_in_list(peer: IpAddr, entries: &[String]) -> bool {
    let peer = match peer {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    entries.iter().any(|e| {
        let (addr, bits) = match e.split_once('/') {
            Some((a, b)) => match b.parse::<u8>() {
                Ok(b) => (a, Some(b)),
                Err(_) => return false,
            },
            None => (e.as_str(), None),
        };
        let Ok(addr) = addr.parse::<IpAddr>() else { return false };
        match (peer, addr) {
            (IpAddr::V4(p), IpAddr::V4(a)) => {
                let bits = u32::from(bits.unwrap_or(32).min(32));
                let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
                u32::from(p) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(p), IpAddr::V6(a)) => {
                let bits = u32::from(bits.unwrap_or(128).min(128));
                let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
                u128::from(p) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    })
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Epoch milliseconds as ISO 8601 UTC with milliseconds: `2026-01-20T03:36:52.591Z`.
pub fn iso_millis(ms: i64) -> String {
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(days);
    let (h, min, s, milli) = (rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{milli:03}Z")
}

/// The protocol's timestamp (`YYYY-MM-DDTHH:MM:SS[.fraction]` then `Z` or `±HH:MM`) as epoch
/// milliseconds (fractions below a millisecond are dropped); `None` when malformed.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b't') || b[13] != b':' {
        return None;
    }
    if b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes().all(|c| c.is_ascii_digit()).then(|| t.parse().ok())?
    };
    let (y, mo, d, h, mi, sec) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut millis = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits: String = frac.chars().take_while(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() {
            return None;
        }
        let first3 = format!("{:0<3}", &digits[..digits.len().min(3)]);
        millis = first3.parse().ok()?;
        rest = &frac[digits.len()..];
    }
    let offset_min = match rest {
        "Z" | "z" => 0,
        _ => {
            let rb = rest.as_bytes();
            if rb.len() != 6 || rb[3] != b':' || !(rb[0] == b'+' || rb[0] == b'-') {
                return None;
            }
            let oh: i64 = rest[1..3].parse().ok()?;
            let om: i64 = rest[4..6].parse().ok()?;
            if oh > 23 || om > 59 || !rest[1..3].bytes().chain(rest[4..6].bytes()).all(|c| c.is_ascii_digit()) {
                return None;
            }
            let sign = if rb[0] == b'-' { -1 } else { 1 };
            sign * (oh * 60 + om)
        }
    };
    let days = days_from_civil(y, mo, d);
    Some(((days * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60) * 1000) + millis)
}

/// SQL `LIKE`: `%` any sequence, `_` one character, case-sensitive, no escape character.
pub fn sql_like(value: &str, pattern: &str) -> bool {
    let v: Vec<char> = value.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    // Classic two-pointer wildcard matching with backtracking to the last `%`.
    let (mut i, mut j) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while i < v.len() {
        if j < p.len() && (p[j] == '_' || (p[j] != '%' && p[j] == v[i])) {
            i += 1;
            j += 1;
        } else if j < p.len() && p[j] == '%' {
            star = Some(j);
            mark = i;
            j += 1;
        } else if let Some(s) = star {
            j = s + 1;
            mark += 1;
            i = mark;
        } else {
            return false;
        }
    }
    while j < p.len() && p[j] == '%' {
        j += 1;
    }
    j == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_their_shape() {
        let a = new_activation_token();
        assert_eq!(a.len(), 32);
        let b = new_bearer_token();
        assert_eq!(b.len(), 64);
        assert!(!b.starts_with("dapi"));
        assert!(a.chars().chain(b.chars()).all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn ip_lists_match_addresses_and_blocks() {
        let list = vec!["10.0.0.0/8".to_string(), "192.168.1.7".to_string(), "::1".to_string()];
        assert!(ip_in_list("10.1.2.3".parse().unwrap(), &list));
        assert!(ip_in_list("192.168.1.7".parse().unwrap(), &list));
        assert!(!ip_in_list("192.168.1.8".parse().unwrap(), &list));
        assert!(ip_in_list("::ffff:10.9.9.9".parse().unwrap(), &list), "IPv4-mapped compared as IPv4");
        assert!(ip_in_list("::1".parse().unwrap(), &list));
        assert!(!ip_in_list("127.0.0.1".parse().unwrap(), &list));
        assert!(ip_in_list("1.2.3.4".parse().unwrap(), &["0.0.0.0/0".to_string()]));
    }

    #[test]
    fn timestamps_round_trip() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_timestamp("2026-01-20T03:36:52.591Z").map(iso_millis).unwrap(), "2026-01-20T03:36:52.591Z");
        assert_eq!(parse_timestamp("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_timestamp("1970-01-01T00:00:00.123456-00:30"), Some(1_800_123));
        for bad in ["2026-01-20", "2026-01-20 03:36:52Z", "2026-13-01T00:00:00Z", "x", "2026-01-20T03:36:52"] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn like_is_sql_like() {
        assert!(sql_like("europe", "eu%"));
        assert!(sql_like("eu", "e_"));
        assert!(!sql_like("EU", "eu%"), "case-sensitive");
        assert!(sql_like("a-b-c", "%b%"));
        assert!(!sql_like("abc", "a_"));
        assert!(sql_like("", "%"));
    }
}
