//! The kinds of securable object and their spellings.

use std::fmt;

/// A securable's kind. Tables and views share a namespace; the stored `table_type` tells them
/// apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SecurableKind {
    Metastore,
    Catalog,
    Schema,
    Table,
    View,
    Volume,
    Function,
    StorageCredential,
    ExternalLocation,
    Share,
    /// Holds no privileges; a node only for ownership rules.
    Recipient,
    /// Holds no privileges; a node only for ownership rules.
    Provider,
}

/// What a `<sec_type>` path segment names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecTypeSpelling {
    /// A kind the emulator models; `Table` also resolves views.
    Modelled(SecurableKind),
    /// An SDK type the emulator does not model (404).
    Unmodelled,
    /// A type that holds no privileges (`provider`, `recipient`: 400).
    Privilegeless,
}

impl SecurableKind {
    /// Every kind, in the order answers and the explain actions list them.
    pub const ALL: [SecurableKind; 12] = [
        Self::Metastore,
        Self::Catalog,
        Self::Schema,
        Self::Table,
        Self::View,
        Self::Volume,
        Self::Function,
        Self::StorageCredential,
        Self::ExternalLocation,
        Self::Share,
        Self::Recipient,
        Self::Provider,
    ];

    /// The upper-case form used in `inherited_from_type` and explanations.
    pub const fn upper(self) -> &'static str {
        match self {
            Self::Metastore => "METASTORE",
            Self::Catalog => "CATALOG",
            Self::Schema => "SCHEMA",
            Self::Table => "TABLE",
            Self::View => "VIEW",
            Self::Volume => "VOLUME",
            Self::Function => "FUNCTION",
            Self::StorageCredential => "STORAGE_CREDENTIAL",
            Self::ExternalLocation => "EXTERNAL_LOCATION",
            Self::Share => "SHARE",
            Self::Recipient => "RECIPIENT",
            Self::Provider => "PROVIDER",
        }
    }

    /// Human form for messages: "Catalog 'main'".
    pub const fn noun(self) -> &'static str {
        match self {
            Self::Metastore => "Metastore",
            Self::Catalog => "Catalog",
            Self::Schema => "Schema",
            Self::Table => "Table",
            Self::View => "View",
            Self::Volume => "Volume",
            Self::Function => "Function",
            Self::StorageCredential => "Storage credential",
            Self::ExternalLocation => "External location",
            Self::Share => "Share",
            Self::Recipient => "Recipient",
            Self::Provider => "Provider",
        }
    }

    /// Parses a permissions path segment: case-insensitive, `-` = `_`, a leading
    /// `SecurableType.` stripped. `None` for strings that name no type (400).
    pub fn parse_spelling(raw: &str) -> Option<SecTypeSpelling> {
        let trimmed = raw.strip_prefix("SecurableType.").unwrap_or(raw);
        let norm = trimmed.to_ascii_lowercase().replace('-', "_");
        use SecTypeSpelling::*;
        Some(match norm.as_str() {
            "metastore" => Modelled(Self::Metastore),
            "catalog" => Modelled(Self::Catalog),
            "schema" => Modelled(Self::Schema),
            "table" => Modelled(Self::Table),
            "view" => Modelled(Self::View),
            "function" => Modelled(Self::Function),
            "volume" => Modelled(Self::Volume),
            "storage_credential" => Modelled(Self::StorageCredential),
            "external_location" => Modelled(Self::ExternalLocation),
            "share" => Modelled(Self::Share),
            "connection" | "credential" | "pipeline" | "clean_room" | "staging_table" | "external_metadata" => {
                Unmodelled
            }
            "provider" | "recipient" => Privilegeless,
            _ => return None,
        })
    }
}

/// A securable named on the permissions paths (`{securable_type}/{full_name}`), parsed once at
/// the edge: 400 naming `full_name` for a malformed name, naming `securable_type` for a kind
/// that holds no privileges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecurableName {
    /// A metastore is named by its id.
    Metastore(String),
    Catalog(super::names::Ident),
    Schema(super::names::SchemaName),
    /// A table or a view: they share a namespace.
    Table(super::names::TableName),
    Function(super::names::TableName),
    Volume(super::names::TableName),
    Share(super::names::Ident),
    StorageCredential(super::names::Ident),
    ExternalLocation(super::names::Ident),
}

impl SecurableName {
    pub fn parse(kind: SecurableKind, full_name: &str) -> Result<SecurableName, super::names::NameError> {
        use super::names::{Ident, NameError, SchemaName, TableName};
        const FIELD: &str = "full_name";
        Ok(match kind {
            SecurableKind::Metastore => SecurableName::Metastore(full_name.to_string()),
            SecurableKind::Catalog => SecurableName::Catalog(Ident::parse(FIELD, full_name)?),
            SecurableKind::Schema => SecurableName::Schema(SchemaName::parse(FIELD, full_name)?),
            SecurableKind::Table | SecurableKind::View => SecurableName::Table(TableName::parse(FIELD, full_name)?),
            SecurableKind::Function => SecurableName::Function(TableName::parse(FIELD, full_name)?),
            SecurableKind::Volume => SecurableName::Volume(TableName::parse(FIELD, full_name)?),
            SecurableKind::Share => SecurableName::Share(Ident::parse(FIELD, full_name)?),
            SecurableKind::StorageCredential => SecurableName::StorageCredential(Ident::parse(FIELD, full_name)?),
            SecurableKind::ExternalLocation => SecurableName::ExternalLocation(Ident::parse(FIELD, full_name)?),
            SecurableKind::Recipient | SecurableKind::Provider => {
                return Err(NameError {
                    field: "securable_type".to_string(),
                    problem: format!("no privileges exist on a {}", kind.noun().to_lowercase()),
                })
            }
        })
    }
}

impl serde::Serialize for SecurableKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.upper())
    }
}

impl fmt::Display for SecurableKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.upper())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_every_sdk_generation_resolve() {
        for s in ["storage-credential", "storage_credential", "STORAGE_CREDENTIAL", "SecurableType.STORAGE_CREDENTIAL"]
        {
            assert_eq!(
                SecurableKind::parse_spelling(s),
                Some(SecTypeSpelling::Modelled(SecurableKind::StorageCredential)),
                "{s}"
            );
        }
        assert_eq!(SecurableKind::parse_spelling("VOLUME"), Some(SecTypeSpelling::Modelled(SecurableKind::Volume)));
        assert_eq!(SecurableKind::parse_spelling("connection"), Some(SecTypeSpelling::Unmodelled));
        assert_eq!(SecurableKind::parse_spelling("recipient"), Some(SecTypeSpelling::Privilegeless));
        assert_eq!(SecurableKind::parse_spelling("tabel"), None);
    }
}
