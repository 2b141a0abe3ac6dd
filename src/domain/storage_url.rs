//! Storage URLs: accepted schemes, normalisation, and path-segment overlap.

/// A validated storage URL in normal form: scheme and host lower-cased, no trailing `/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageUrl(String);

const CLOUD_SCHEMES: &[&str] = &["s3", "abfss", "gs"];

impl StorageUrl {
    /// Accepts `s3://`, `abfss://`, `gs://` with a host, or `file:///absolute/path`.
    pub fn parse(raw: &str) -> Result<StorageUrl, String> {
        let Some((scheme, rest)) = raw.split_once("://") else {
            return Err(format!("'{raw}' is not a storage URL; expected s3://, abfss://, gs:// or file:///"));
        };
        let scheme = scheme.to_ascii_lowercase();
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if scheme == "file" {
            if !host.is_empty() || !path.starts_with('/') {
                return Err(format!("'{raw}' is not a local storage URL; write file:///absolute/path"));
            }
        } else if !CLOUD_SCHEMES.contains(&scheme.as_str()) {
            return Err(format!("'{raw}' uses an unsupported scheme '{scheme}'; expected s3, abfss, gs or file"));
        } else if host.is_empty() {
            return Err(format!("'{raw}' has no bucket or host"));
        }
        if path.split('/').any(|seg| seg == "." || seg == "..") {
            return Err(format!("'{raw}' may not contain '.' or '..' path segments"));
        }
        if raw.chars().any(char::is_control) {
            return Err(format!("'{raw}' contains a control character"));
        }
        let path = path.trim_end_matches('/');
        Ok(StorageUrl(format!("{scheme}://{}{path}", host.to_ascii_lowercase())))
    }

    /// A URL the store wrote itself.
    pub fn from_stored(s: String) -> StorageUrl {
        StorageUrl(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `self/child`.
    pub fn join(&self, child: &str) -> StorageUrl {
        StorageUrl(format!("{}/{child}", self.0))
    }

    /// Whether `self` equals `other` or lies under it, by whole path segments.
    pub fn is_within(&self, other: &StorageUrl) -> bool {
        self.0 == other.0 || (self.0.starts_with(&other.0) && self.0.as_bytes().get(other.0.len()) == Some(&b'/'))
    }

    /// Every proper ancestor of the URL down to the bucket root (`s3://b/a/x` → `s3://b/a`, `s3://b`).
    pub fn ancestors(&self) -> Vec<String> {
        let root_end = self.0.find("://").map(|i| i + 3).unwrap_or(0);
        let mut out = Vec::new();
        let mut cur = self.0.as_str();
        while let Some(i) = cur.rfind('/') {
            if i < root_end {
                break;
            }
            cur = &cur[..i];
            if cur.len() > root_end {
                out.push(cur.to_string());
            }
        }
        out
    }

    /// The first key after every URL strictly inside this one (`/` + 1 is `0`), for range scans.
    pub fn descendants_range(&self) -> (String, String) {
        (format!("{}/", self.0), format!("{}0", self.0))
    }
}

impl std::fmt::Display for StorageUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_scheme_host_and_trailing_slash() {
        assert_eq!(StorageUrl::parse("S3://Bucket/Path/").unwrap().as_str(), "s3://bucket/Path");
        assert_eq!(StorageUrl::parse("file:///tmp/x/").unwrap().as_str(), "file:///tmp/x");
    }

    #[test]
    fn refuses_other_schemes_and_traversal() {
        for bad in ["http://x/y", "s3:///nohost", "file://host/x", "relative/path", "s3://b/a/../c"] {
            assert!(StorageUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overlap_is_by_path_segment() {
        let a = StorageUrl::parse("s3://b/a").unwrap();
        assert!(StorageUrl::parse("s3://b/a/x").unwrap().is_within(&a));
        assert!(!StorageUrl::parse("s3://b/ab").unwrap().is_within(&a));
        assert_eq!(StorageUrl::parse("s3://b/a/x/y").unwrap().ancestors(), vec!["s3://b/a/x", "s3://b/a", "s3://b"]);
        assert_eq!(StorageUrl::parse("file:///t/x").unwrap().ancestors(), vec!["file:///t"]);
    }
}
