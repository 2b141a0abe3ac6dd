//! What an update request changes, for the rules that depend on it.

use super::names::Ident;

/// Which kinds of change an update makes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpdateShape {
    pub rename: bool,
    pub owner: bool,
    pub other: bool,
}

impl UpdateShape {
    /// Metastore admins who are not owners may change only the owner.
    pub fn owner_only(self) -> bool {
        self.owner && !self.rename && !self.other
    }
}

/// The new name of a rename: the SDK sends `new_name`, the API reference a differing `name`.
pub fn rename_to(current: &Ident, name: Option<Ident>, new_name: Option<Ident>) -> Option<Ident> {
    new_name.or(name).filter(|n| n != current)
}
