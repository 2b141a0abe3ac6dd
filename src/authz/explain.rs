//! Explanations: which action a name means, and a decision rendered for people.
//! The endpoint and `uc-emulator explain` render the same [`Decision`] that enforcement uses,
//! so what is explained is what is enforced.

use serde::Serialize;

use super::{Action, Decision, Reason};
use crate::domain::privilege;
use crate::domain::securable::SecurableKind;
use crate::domain::update::UpdateShape;

/// The actions `explain` knows, by the Unity Catalog API's operation names, and the kind of securable each
/// is asked about (the securable given to `explain` is the target of the rule: the parent for
/// creates and lists).
pub const ACTIONS: &[(&str, SecurableKind)] = &[
    ("getMetastore", SecurableKind::Metastore),
    ("updateMetastore", SecurableKind::Metastore),
    ("deleteMetastore", SecurableKind::Metastore),
    ("createCatalog", SecurableKind::Metastore),
    ("getCatalog", SecurableKind::Catalog),
    ("updateCatalog", SecurableKind::Catalog),
    ("updateCatalogOwner", SecurableKind::Catalog),
    ("renameCatalog", SecurableKind::Catalog),
    ("deleteCatalog", SecurableKind::Catalog),
    ("createSchema", SecurableKind::Catalog),
    ("listSchemas", SecurableKind::Catalog),
    ("getSchema", SecurableKind::Schema),
    ("updateSchema", SecurableKind::Schema),
    ("updateSchemaOwner", SecurableKind::Schema),
    ("renameSchema", SecurableKind::Schema),
    ("deleteSchema", SecurableKind::Schema),
    ("createTable", SecurableKind::Schema),
    ("listTables", SecurableKind::Schema),
    ("getTable", SecurableKind::Table),
    ("updateTable", SecurableKind::Table),
    ("updateTableOwner", SecurableKind::Table),
    ("renameTable", SecurableKind::Table),
    ("deleteTable", SecurableKind::Table),
    ("createStorageCredential", SecurableKind::Metastore),
    ("getStorageCredential", SecurableKind::StorageCredential),
    ("updateStorageCredential", SecurableKind::StorageCredential),
    ("updateStorageCredentialOwner", SecurableKind::StorageCredential),
    ("deleteStorageCredential", SecurableKind::StorageCredential),
    ("createExternalLocation", SecurableKind::Metastore),
    ("getExternalLocation", SecurableKind::ExternalLocation),
    ("updateExternalLocation", SecurableKind::ExternalLocation),
    ("updateExternalLocationOwner", SecurableKind::ExternalLocation),
    ("deleteExternalLocation", SecurableKind::ExternalLocation),
    ("createShare", SecurableKind::Metastore),
    ("getShare", SecurableKind::Share),
    ("updateShare", SecurableKind::Share),
    ("updateShareOwner", SecurableKind::Share),
    ("renameShare", SecurableKind::Share),
    ("deleteShare", SecurableKind::Share),
    ("createRecipient", SecurableKind::Metastore),
    ("createProvider", SecurableKind::Metastore),
    ("createVolume", SecurableKind::Schema),
    ("listVolumes", SecurableKind::Schema),
    ("readVolume", SecurableKind::Volume),
    ("updateVolume", SecurableKind::Volume),
    ("updateVolumeOwner", SecurableKind::Volume),
    ("renameVolume", SecurableKind::Volume),
    ("deleteVolume", SecurableKind::Volume),
    ("readVolumeFiles", SecurableKind::Volume),
    ("writeVolumeFiles", SecurableKind::Volume),
    ("createFunction", SecurableKind::Schema),
    ("listFunctions", SecurableKind::Schema),
    ("getFunction", SecurableKind::Function),
    ("updateFunctionOwner", SecurableKind::Function),
    ("deleteFunction", SecurableKind::Function),
    ("getPermissions", SecurableKind::Table),
    ("updatePermissions", SecurableKind::Table),
];

fn shape(rename: bool, owner: bool, other: bool) -> UpdateShape {
    UpdateShape { rename, owner, other }
}

/// Parses an action name (or a privilege name such as `SELECT`) for a securable of `kind`.
pub fn parse_action(name: &str, kind: SecurableKind) -> Result<Action, String> {
    let table_like = matches!(kind, SecurableKind::Table | SecurableKind::View);
    let expected = ACTIONS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, k)| *k);
    let fits = |k: SecurableKind| k == kind || (table_like && k == SecurableKind::Table);
    match expected {
        // The permissions actions apply to every kind; shares have their own rules.
        Some(_) if name.eq_ignore_ascii_case("getPermissions") && kind == SecurableKind::Share => {
            return Ok(Action::ReadSharePermissions)
        }
        Some(_) if name.eq_ignore_ascii_case("updatePermissions") && kind == SecurableKind::Share => {
            return Ok(Action::ChangeSharePermissions)
        }
        Some(_) if name.eq_ignore_ascii_case("getPermissions") => {
            return Ok(Action::ReadPermissions { principal_filter: None })
        }
        Some(_) if name.eq_ignore_ascii_case("updatePermissions") => return Ok(Action::ChangePermissions),
        Some(k) if !fits(k) => {
            return Err(format!(
                "{name} is asked about a {}, not a {}",
                k.noun().to_lowercase(),
                kind.noun().to_lowercase()
            ))
        }
        _ => {}
    }
    Ok(match name.to_ascii_lowercase().as_str() {
        "getmetastore" => Action::ReadMetastore,
        "updatemetastore" => Action::UpdateMetastore,
        "deletemetastore" => Action::DeleteMetastore,
        "createcatalog" => Action::CreateCatalog,
        "getcatalog" => Action::GetCatalog,
        "updatecatalog" => Action::UpdateCatalog(shape(false, false, true)),
        "updatecatalogowner" => Action::UpdateCatalog(shape(false, true, false)),
        "renamecatalog" => Action::UpdateCatalog(shape(true, false, false)),
        "deletecatalog" => Action::DeleteCatalog,
        "createschema" => Action::CreateSchema,
        "listschemas" => Action::ListSchemas,
        "getschema" => Action::GetSchema,
        "updateschema" => Action::UpdateSchema(shape(false, false, true)),
        "updateschemaowner" => Action::UpdateSchema(shape(false, true, false)),
        "renameschema" => Action::UpdateSchema(shape(true, false, false)),
        "deleteschema" => Action::DeleteSchema,
        "createtable" => Action::CreateTable { external: false },
        "listtables" => Action::ListTables,
        "gettable" => Action::GetTable,
        "updatetable" => Action::UpdateTable { shape: shape(false, false, true), new_view_owner: None },
        "updatetableowner" => Action::UpdateTable { shape: shape(false, true, false), new_view_owner: None },
        "renametable" => Action::UpdateTable { shape: shape(true, false, false), new_view_owner: None },
        "deletetable" => Action::DeleteTable,
        "createstoragecredential" => Action::CreateStorageCredential,
        "getstoragecredential" => Action::GetStorageCredential,
        "updatestoragecredential" => Action::UpdateStorageCredential(shape(false, false, true)),
        "updatestoragecredentialowner" => Action::UpdateStorageCredential(shape(false, true, false)),
        "deletestoragecredential" => Action::DeleteStorageCredential,
        "createexternallocation" => Action::CreateExternalLocation,
        "getexternallocation" => Action::GetExternalLocation,
        "updateexternallocation" => Action::UpdateExternalLocation(shape(false, false, true)),
        "updateexternallocationowner" => Action::UpdateExternalLocation(shape(false, true, false)),
        "deleteexternallocation" => Action::DeleteExternalLocation,
        "createshare" => Action::CreateShare,
        "getshare" => Action::GetShare,
        "updateshare" => Action::UpdateShare(shape(false, false, true)),
        "updateshareowner" => Action::UpdateShare(shape(false, true, false)),
        "renameshare" => Action::UpdateShare(shape(true, false, false)),
        "deleteshare" => Action::DeleteShare,
        "createrecipient" => Action::CreateRecipient,
        "createprovider" => Action::CreateProvider,
        "createvolume" => Action::CreateVolume { external: false },
        "listvolumes" => Action::ListVolumes,
        "readvolume" => Action::ReadVolume,
        "updatevolume" => Action::UpdateVolume(shape(false, false, true)),
        "updatevolumeowner" => Action::UpdateVolume(shape(false, true, false)),
        "renamevolume" => Action::UpdateVolume(shape(true, false, false)),
        "deletevolume" => Action::DeleteVolume,
        "readvolumefiles" => Action::ReadVolumeFiles,
        "writevolumefiles" => Action::WriteVolumeFiles,
        "createfunction" => Action::CreateFunction,
        "listfunctions" => Action::ListFunctions,
        "getfunction" => Action::GetFunction,
        "updatefunctionowner" => Action::UpdateFunction { new_owner: None },
        "deletefunction" => Action::DeleteFunction,
        _ => match privilege::normalize(name) {
            Some(p) if privilege::is_valid_on(p, kind) => Action::HoldsPrivilege(p),
            Some(p) => return Err(format!("privilege {p} is not valid on a {}", kind.noun().to_lowercase())),
            None => {
                let names: Vec<&str> = ACTIONS.iter().map(|(n, _)| *n).collect();
                return Err(format!("unknown action {name:?}; use a privilege name or one of {}", names.join(", ")));
            }
        },
    })
}

/// A decision, explained.
#[derive(Serialize)]
pub struct Explanation {
    pub principal: String,
    pub action: String,
    pub securable_type: SecurableKind,
    pub full_name: String,
    pub allowed: bool,
    pub reasons: Vec<ExplainedReason>,
    /// The whole answer as one paragraph.
    pub explanation: String,
}

#[derive(Serialize)]
pub struct ExplainedReason {
    #[serde(flatten)]
    pub reason: Reason,
    pub text: String,
}

pub fn render(principal: &str, action: &str, kind: SecurableKind, full_name: &str, decision: Decision) -> Explanation {
    let texts: Vec<String> = decision.reasons.iter().map(Reason::sentence).collect();
    let verdict = if decision.allowed { "ALLOWED" } else { "DENIED" };
    let explanation = format!(
        "{verdict}: {principal} {} {action} on {} '{full_name}' because it {}.",
        if decision.allowed { "may" } else { "may not" },
        kind.noun(),
        texts.join("; and it ")
    );
    Explanation {
        principal: principal.to_string(),
        action: action.to_string(),
        securable_type: kind,
        full_name: full_name.to_string(),
        allowed: decision.allowed,
        reasons: decision
            .reasons
            .into_iter()
            .zip(texts)
            .map(|(reason, text)| ExplainedReason { reason, text })
            .collect(),
        explanation,
    }
}
