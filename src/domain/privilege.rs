//! Privilege names: normalisation, validity per securable kind, legacy aliases
//!.

use super::securable::SecurableKind;

/// The SDK `Privilege` enum. Any other name is unknown.
pub const KNOWN: &[&str] = &[
    "ACCESS",
    "ALL_PRIVILEGES",
    "APPLY_TAG",
    "BROWSE",
    "CREATE",
    "CREATE_CASE_COLLECTION",
    "CREATE_CATALOG",
    "CREATE_CLEAN_ROOM",
    "CREATE_CONNECTION",
    "CREATE_DATASOURCE",
    "CREATE_EXTERNAL_LOCATION",
    "CREATE_EXTERNAL_TABLE",
    "CREATE_EXTERNAL_VOLUME",
    "CREATE_FEATURE",
    "CREATE_FLOW",
    "CREATE_FOREIGN_CATALOG",
    "CREATE_FOREIGN_SECURABLE",
    "CREATE_FUNCTION",
    "CREATE_MANAGED_STORAGE",
    "CREATE_MATERIALIZED_VIEW",
    "CREATE_MEMORY_STORE",
    "CREATE_MODEL",
    "CREATE_PROVIDER",
    "CREATE_RECIPIENT",
    "CREATE_RULE",
    "CREATE_SCHEMA",
    "CREATE_SEMANTIC_GRAPH",
    "CREATE_SERVICE",
    "CREATE_SERVICE_CREDENTIAL",
    "CREATE_SHARE",
    "CREATE_SKILL",
    "CREATE_STORAGE_CREDENTIAL",
    "CREATE_STREAM",
    "CREATE_TABLE",
    "CREATE_VIEW",
    "CREATE_VOLUME",
    "DELETE",
    "DELETE_EVENTS",
    "DELETE_SECURITY_DATA",
    "EXECUTE",
    "EXECUTE_CLEAN_ROOM_TASK",
    "EXTERNAL_USE_LOCATION",
    "EXTERNAL_USE_SCHEMA",
    "INSERT",
    "INSERT_SECURITY_DATA",
    "MANAGE",
    "MANAGE_ACCESS",
    "MANAGE_ACCESS_CONTROL",
    "MANAGE_ALLOWLIST",
    "MANAGE_GRANTS",
    "MODIFY",
    "MODIFY_CLEAN_ROOM",
    "READ_EVENTS",
    "READ_FEATURE",
    "READ_FILES",
    "READ_FLOW",
    "READ_MEMORY_STORE",
    "READ_METADATA",
    "READ_PRIVATE_FILES",
    "READ_SECURITY_DATA",
    "READ_SEMANTIC_GRAPH",
    "READ_SKILL",
    "READ_STREAM",
    "READ_VOLUME",
    "REFRESH",
    "REFRESH_FLOW",
    "SELECT",
    "SET_SHARE_PERMISSION",
    "UPDATE",
    "UPDATE_EVENTS",
    "UPDATE_SECURITY_DATA",
    "USAGE",
    "USE_CATALOG",
    "USE_CONNECTION",
    "USE_MARKETPLACE_ASSETS",
    "USE_PROVIDER",
    "USE_RECIPIENT",
    "USE_SCHEMA",
    "USE_SHARE",
    "USE_VOLUME",
    "VIEW_ADMIN_METADATA",
    "VIEW_METADATA",
    "VIEW_OBJECT",
    "WRITE_FILES",
    "WRITE_FLOW",
    "WRITE_MEMORY_STORE",
    "WRITE_PRIVATE_FILES",
    "WRITE_SEMANTIC_GRAPH",
    "WRITE_SKILL",
    "WRITE_VOLUME",
];

/// Privileges that `ALL_PRIVILEGES` and ownership never convey.
pub const NOT_IN_ALL: &[&str] = &["MANAGE", "EXTERNAL_USE_SCHEMA", "EXTERNAL_USE_LOCATION"];

const METASTORE: &[&str] = &[
    "CREATE_CATALOG",
    "CREATE_EXTERNAL_LOCATION",
    "CREATE_STORAGE_CREDENTIAL",
    "CREATE_SHARE",
    "CREATE_RECIPIENT",
    "CREATE_PROVIDER",
    "USE_SHARE",
    "USE_RECIPIENT",
    "USE_PROVIDER",
    "SET_SHARE_PERMISSION",
    "CREATE_CONNECTION",
    "CREATE_CLEAN_ROOM",
    "CREATE_SERVICE_CREDENTIAL",
    "USE_MARKETPLACE_ASSETS",
    "MANAGE_ALLOWLIST",
];
const CATALOG_OWN: &[&str] =
    &["ALL_PRIVILEGES", "USE_CATALOG", "CREATE_SCHEMA", "BROWSE", "APPLY_TAG", "MANAGE", "USAGE", "CREATE"];
const CATALOG_FOR_CHILDREN: &[&str] = &[
    "USE_SCHEMA",
    "CREATE_TABLE",
    "CREATE_FUNCTION",
    "CREATE_VOLUME",
    "CREATE_MODEL",
    "CREATE_MATERIALIZED_VIEW",
    "EXTERNAL_USE_SCHEMA",
    "SELECT",
    "MODIFY",
    "REFRESH",
    "EXECUTE",
    "READ_VOLUME",
    "WRITE_VOLUME",
];
const SCHEMA_OWN: &[&str] = &[
    "ALL_PRIVILEGES",
    "USE_SCHEMA",
    "CREATE_TABLE",
    "CREATE_FUNCTION",
    "CREATE_VOLUME",
    "CREATE_MODEL",
    "CREATE_MATERIALIZED_VIEW",
    "EXTERNAL_USE_SCHEMA",
    "APPLY_TAG",
    "MANAGE",
    "USAGE",
    "CREATE",
];
const SCHEMA_FOR_CHILDREN: &[&str] = &["SELECT", "MODIFY", "REFRESH", "EXECUTE", "READ_VOLUME", "WRITE_VOLUME"];
const TABLE: &[&str] = &["ALL_PRIVILEGES", "SELECT", "MODIFY", "APPLY_TAG", "MANAGE"];
const VIEW: &[&str] = &["ALL_PRIVILEGES", "SELECT", "APPLY_TAG", "MANAGE"];
const FUNCTION: &[&str] = &["ALL_PRIVILEGES", "EXECUTE", "MANAGE"];
const VOLUME: &[&str] = &["ALL_PRIVILEGES", "READ_VOLUME", "WRITE_VOLUME", "APPLY_TAG", "MANAGE"];
const STORAGE_CREDENTIAL: &[&str] = &[
    "ALL_PRIVILEGES",
    "CREATE_EXTERNAL_LOCATION",
    "CREATE_EXTERNAL_TABLE",
    "READ_FILES",
    "WRITE_FILES",
    "MANAGE",
    "CREATE_TABLE",
];
const EXTERNAL_LOCATION: &[&str] = &[
    "ALL_PRIVILEGES",
    "CREATE_EXTERNAL_TABLE",
    "CREATE_EXTERNAL_VOLUME",
    "CREATE_MANAGED_STORAGE",
    "READ_FILES",
    "WRITE_FILES",
    "BROWSE",
    "EXTERNAL_USE_LOCATION",
    "MANAGE",
    "CREATE_TABLE",
];
const SHARE: &[&str] = &["SELECT"];

/// Normalises a privilege as sent (any case, spaces for underscores) and checks it is a known
/// name. Returns the canonical static spelling.
pub fn normalize(raw: &str) -> Option<&'static str> {
    let norm = raw.split_whitespace().collect::<Vec<_>>().join("_").to_ascii_uppercase();
    KNOWN.iter().copied().find(|k| *k == norm)
}

/// Every privilege that may be granted on `kind`.
pub fn valid_on(kind: SecurableKind) -> Vec<&'static str> {
    match kind {
        SecurableKind::Metastore => METASTORE.to_vec(),
        SecurableKind::Catalog => [CATALOG_OWN, CATALOG_FOR_CHILDREN].concat(),
        SecurableKind::Schema => [SCHEMA_OWN, SCHEMA_FOR_CHILDREN].concat(),
        SecurableKind::Table => TABLE.to_vec(),
        SecurableKind::View => VIEW.to_vec(),
        SecurableKind::Function => FUNCTION.to_vec(),
        SecurableKind::Volume => VOLUME.to_vec(),
        SecurableKind::StorageCredential => STORAGE_CREDENTIAL.to_vec(),
        SecurableKind::ExternalLocation => EXTERNAL_LOCATION.to_vec(),
        SecurableKind::Share => SHARE.to_vec(),
        SecurableKind::Recipient | SecurableKind::Provider => Vec::new(),
    }
}

pub fn is_valid_on(privilege: &str, kind: SecurableKind) -> bool {
    valid_on(kind).contains(&privilege)
}

/// The 1.0 privileges a stored grant of `granted` on a securable of `kind` stands for
/// (legacy aliases map onto their 1.0 equivalents).
pub fn canon(granted: &str, kind: SecurableKind) -> &[&str] {
    match (granted, kind) {
        ("USAGE", SecurableKind::Catalog) => &["USE_CATALOG"],
        ("USAGE", SecurableKind::Schema) => &["USE_SCHEMA"],
        ("CREATE", SecurableKind::Catalog) => &["CREATE_SCHEMA"],
        // Legacy CREATE on a schema counts as CREATE_FUNCTION, not CREATE_VOLUME.
        ("CREATE", SecurableKind::Schema) => &["CREATE_TABLE", "CREATE_FUNCTION"],
        ("CREATE_TABLE", SecurableKind::StorageCredential | SecurableKind::ExternalLocation) => {
            &["CREATE_EXTERNAL_TABLE"]
        }
        _ => std::slice::from_ref(KNOWN.iter().find(|k| **k == granted).unwrap_or(&"")),
    }
}

/// Whether `name` is one of [`KNOWN`] (sorted, so a binary search: a check walks past a
/// grant or two per node of every chain it decides on).
fn is_known(name: &str) -> bool {
    KNOWN.binary_search(&name).is_ok()
}

/// Whether a grant of `granted` on a securable of `kind` conveys the 1.0 privilege `wanted`,
/// counting `ALL_PRIVILEGES`.
pub fn conveys(granted: &str, kind: SecurableKind, wanted: &str) -> bool {
    if granted == "ALL_PRIVILEGES" {
        return !NOT_IN_ALL.contains(&wanted);
    }
    match (granted, kind) {
        ("USAGE" | "CREATE", SecurableKind::Catalog | SecurableKind::Schema)
        | ("CREATE_TABLE", SecurableKind::StorageCredential | SecurableKind::ExternalLocation) => {
            canon(granted, kind).contains(&wanted)
        }
        // What `canon` answers for every other grant, without searching the list of known
        // privileges for each grant a check walks past (a tenth of a getTable through a group).
        _ if granted == wanted => granted.is_empty() || is_known(granted),
        _ => wanted.is_empty() && !is_known(granted),
    }
}

/// The individually granted privileges that revoking `ALL_PRIVILEGES` also removes: everything
/// valid on the kind except the ones it never covered.
pub fn covered_by_all(kind: SecurableKind) -> Vec<&'static str> {
    valid_on(kind).into_iter().filter(|p| !NOT_IN_ALL.contains(p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_is_sorted_and_without_duplicates() {
        assert!(KNOWN.windows(2).all(|w| w[0] < w[1]), "KNOWN must stay sorted (is_known searches it)");
        assert!(KNOWN.iter().all(|k| is_known(k)));
        assert!(!is_known("SELECTT") && !is_known("") && !is_known("select"));
    }

    #[test]
    fn conveys_is_canons_meaning() {
        let mut granted: Vec<&str> = KNOWN.to_vec();
        granted.extend(["USAGE", "CREATE", "", "SELEKT", "select"]);
        let wanted: Vec<&str> = KNOWN.iter().copied().chain(["", "USAGE", "SELEKT"]).collect();
        for kind in SecurableKind::ALL {
            for g in &granted {
                for w in &wanted {
                    let meaning =
                        if *g == "ALL_PRIVILEGES" { !NOT_IN_ALL.contains(w) } else { canon(g, kind).contains(w) };
                    assert_eq!(conveys(g, kind, w), meaning, "{g} on {kind:?} conveys {w}");
                }
            }
        }
    }

    #[test]
    fn normalisation_accepts_spaces_and_case() {
        assert_eq!(normalize("use catalog"), Some("USE_CATALOG"));
        assert_eq!(normalize(" ALL  PRIVILEGES "), Some("ALL_PRIVILEGES"));
        assert_eq!(normalize("SELEKT"), None);
    }

    #[test]
    fn validity_follows_the_per_kind_table() {
        assert!(is_valid_on("SELECT", SecurableKind::Schema), "1.0 allows SELECT on a schema");
        assert!(!is_valid_on("SELECT", SecurableKind::StorageCredential));
        assert!(!is_valid_on("CREATE_CATALOG", SecurableKind::Schema));
        assert!(!is_valid_on("MODIFY", SecurableKind::View));
        assert!(!is_valid_on("USAGE", SecurableKind::Table));
        assert!(!is_valid_on("ALL_PRIVILEGES", SecurableKind::Metastore));
    }

    #[test]
    fn legacy_aliases_convey_their_successors() {
        assert!(conveys("USAGE", SecurableKind::Catalog, "USE_CATALOG"));
        assert!(conveys("USAGE", SecurableKind::Schema, "USE_SCHEMA"));
        assert!(!conveys("USAGE", SecurableKind::Catalog, "USE_SCHEMA"));
        assert!(conveys("CREATE", SecurableKind::Schema, "CREATE_TABLE"));
        assert!(conveys("CREATE_TABLE", SecurableKind::ExternalLocation, "CREATE_EXTERNAL_TABLE"));
        assert!(conveys("ALL_PRIVILEGES", SecurableKind::Catalog, "SELECT"));
        assert!(!conveys("ALL_PRIVILEGES", SecurableKind::Schema, "EXTERNAL_USE_SCHEMA"));
    }
}
