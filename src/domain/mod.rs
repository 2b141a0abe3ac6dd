//! Domain values shared by every layer: names, privileges, securable kinds, paging, time.

pub mod names;
pub mod paging;
pub mod privilege;
pub mod scim_filter;
pub mod securable;
pub mod sharing;
pub mod storage_url;
pub mod update;
pub mod workspace_object;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The id of the Databricks account the database holds (the default account id of hosted
/// Databricks' documentation examples has this shape: a UUID).
pub const ACCOUNT_ID: &str = "00000000-0000-4000-8000-000000000000";

/// A new UC object id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `<cloud>:<region>:<metastore-uuid>`, the global metastore id of Delta Sharing peers, split
/// into its parts; `None` when malformed.
pub fn split_global_metastore_id(id: &str) -> Option<(String, String, String)> {
    let parts: Vec<&str> = id.split(':').collect();
    match parts.as_slice() {
        [c, r, m] if !c.is_empty() && !r.is_empty() && uuid::Uuid::parse_str(m).is_ok() => {
            Some((c.to_string(), r.to_string(), m.to_string()))
        }
        _ => None,
    }
}
