//! SQL warehouses: the addresses clients are told about.

/// (scheme, host, port) of a `scheme://host:port` address.
pub fn address(public_url: &str) -> (String, String, u16) {
    let (scheme, rest) = public_url.split_once("://").unwrap_or(("http", public_url));
    let rest = rest.split('/').next().unwrap_or(rest);
    let default_port = if scheme == "https" { 443 } else { 80 };
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || rest.starts_with('[') => {
            (h.to_string(), p.parse().unwrap_or(default_port))
        }
        _ => (rest.to_string(), default_port),
    };
    (scheme.to_string(), host, port)
}

/// The JDBC URL of a warehouse (Partner Connect's `databricks_jdbc_url`).
pub fn jdbc_url(public_url: &str, id: &str) -> String {
    let (scheme, host, port) = address(public_url);
    let ssl = u8::from(scheme == "https");
    format!("jdbc:databricks://{host}:{port}/default;transportMode=http;ssl={ssl};AuthMech=3;httpPath=/sql/1.0/warehouses/{id};")
}
