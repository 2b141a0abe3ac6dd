//! Workspace objects that carry access control lists under `/api/2.0/permissions/` (the
//! Databricks Permissions API's `PermissionLevel`), and the permission levels each accepts.

/// One object whose access control list the permissions API serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkspaceObject {
    /// `authorization/tokens`: the workspace's token ACL.
    Tokens,
    /// `authorization/passwords`: the workspace's password ACL.
    Passwords,
    /// `warehouses/:id`: an emulated SQL warehouse.
    Warehouse(String),
}

/// What a path's `{object_type}/{object_id}` names.
#[derive(Debug, PartialEq, Eq)]
pub enum ObjectRef {
    Object(WorkspaceObject),
    /// A type (or an `authorization/...` object) the emulator does not serve.
    Unsupported,
}

/// `(level, description)` of tokens (`TokenPermissionLevel`).
const TOKEN_LEVELS: &[(&str, &str)] = &[
    ("CAN_USE", "Can create and use personal access tokens"),
    ("CAN_MANAGE", "Can manage the token permissions and all tokens of the workspace"),
];
/// Passwords (`PasswordPermissionLevel`).
const PASSWORD_LEVELS: &[(&str, &str)] = &[("CAN_USE", "Can sign in with a password")];
/// SQL warehouses (`WarehousePermissionLevel`).
const WAREHOUSE_LEVELS: &[(&str, &str)] = &[
    ("CAN_USE", "Can use the warehouse"),
    ("CAN_MANAGE", "Can manage the warehouse and its permissions"),
    ("CAN_MONITOR", "Can monitor the warehouse and its queries"),
    ("CAN_VIEW", "Can view the warehouse"),
    ("IS_OWNER", "Owns the warehouse"),
];

/// Levels that let their holder read and change an object's access control list.
pub const MANAGE_LEVELS: &[&str] = &["CAN_MANAGE", "IS_OWNER"];

/// The level only one user or service principal holds (warehouses).
pub const OWNER_LEVEL: &str = "IS_OWNER";

impl WorkspaceObject {
    /// Parses the two path segments (an empty warehouse id is unsupported).
    pub fn parse(object_type: &str, object_id: &str) -> ObjectRef {
        match (object_type, object_id) {
            ("authorization", "tokens") => ObjectRef::Object(WorkspaceObject::Tokens),
            ("authorization", "passwords") => ObjectRef::Object(WorkspaceObject::Passwords),
            ("warehouses", id) if !id.is_empty() => ObjectRef::Object(WorkspaceObject::Warehouse(id.to_string())),
            _ => ObjectRef::Unsupported,
        }
    }

    /// The stored `object_type`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Tokens => "tokens",
            Self::Passwords => "passwords",
            Self::Warehouse(_) => "warehouses",
        }
    }

    /// The stored `object_id`.
    pub fn id(&self) -> &str {
        match self {
            Self::Tokens => "tokens",
            Self::Passwords => "passwords",
            Self::Warehouse(id) => id,
        }
    }

    /// `object_id` of the answer, as hosted Databricks spells it.
    pub fn wire_id(&self) -> String {
        match self {
            Self::Tokens => "authorization/tokens".to_string(),
            Self::Passwords => "authorization/passwords".to_string(),
            Self::Warehouse(id) => format!("/sql/warehouses/{id}"),
        }
    }

    /// `object_type` of the answer.
    pub fn wire_type(&self) -> &'static str {
        self.kind()
    }

    /// What admins' `CAN_MANAGE` is shown as inherited from.
    pub fn root(&self) -> &'static str {
        match self {
            Self::Tokens | Self::Passwords => "/authorization/",
            Self::Warehouse(_) => "/sql/warehouses/",
        }
    }

    /// "the token ACL", "warehouse 0123...", for messages.
    pub fn describe(&self) -> String {
        match self {
            Self::Tokens => "authorization/tokens".to_string(),
            Self::Passwords => "authorization/passwords".to_string(),
            Self::Warehouse(id) => format!("warehouse {id}"),
        }
    }

    /// The permission levels of this object, with descriptions.
    pub fn levels(&self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Tokens => TOKEN_LEVELS,
            Self::Passwords => PASSWORD_LEVELS,
            Self::Warehouse(_) => WAREHOUSE_LEVELS,
        }
    }

    /// The canonical spelling of `level` if it is valid here (levels are matched exactly, as
    /// the SDK sends its enum values).
    pub fn level(&self, level: &str) -> Option<&'static str> {
        self.levels().iter().find(|(l, _)| *l == level).map(|(l, _)| *l)
    }

    pub fn level_names(&self) -> Vec<&'static str> {
        self.levels().iter().map(|(l, _)| *l).collect()
    }

    /// Every permission level of any object, each once.
    pub fn all_level_names() -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for (level, _) in TOKEN_LEVELS.iter().chain(PASSWORD_LEVELS).chain(WAREHOUSE_LEVELS) {
            if !out.contains(level) {
                out.push(level);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_served_objects() {
        assert_eq!(WorkspaceObject::parse("authorization", "tokens"), ObjectRef::Object(WorkspaceObject::Tokens));
        assert_eq!(WorkspaceObject::parse("authorization", "passwords"), ObjectRef::Object(WorkspaceObject::Passwords));
        assert_eq!(
            WorkspaceObject::parse("warehouses", "abc"),
            ObjectRef::Object(WorkspaceObject::Warehouse("abc".into()))
        );
        assert_eq!(WorkspaceObject::parse("authorization", "other"), ObjectRef::Unsupported);
        assert_eq!(WorkspaceObject::parse("clusters", "x"), ObjectRef::Unsupported);
    }

    #[test]
    fn levels_per_object() {
        assert_eq!(WorkspaceObject::Tokens.level("CAN_MANAGE"), Some("CAN_MANAGE"));
        assert_eq!(WorkspaceObject::Passwords.level("CAN_MANAGE"), None);
        assert_eq!(WorkspaceObject::Warehouse("w".into()).level("IS_OWNER"), Some("IS_OWNER"));
        assert_eq!(WorkspaceObject::Tokens.level("can_use"), None);
    }
}
