//! One rule per action, as the Unity Catalog API reference states it; "holds" includes ownership
//! of the object or an ancestor, so "ownership of, or USAGE on, the catalog" is
//! `Holds(USE_CATALOG)`.

use super::{Action, Caller, Req};
use crate::domain::securable::SecurableKind::{
    Catalog, ExternalLocation, Function, Metastore, Provider, Recipient, Schema, Share, StorageCredential, Table,
    Volume,
};
use crate::domain::update::UpdateShape;
use crate::domain::workspace_object::MANAGE_LEVELS;

use Req::{
    AccountAdmin, All, Any, Condition, Holds, MemberOf, MetastoreAdmin, Owner, OwnerOfTarget, SomePrivilege,
    WorkspaceAdmin,
};

/// every schema endpoint first needs access to the parent catalog.
fn catalog_access() -> Req {
    Any(vec![MetastoreAdmin, Holds("USE_CATALOG", Catalog)])
}

/// use of the parent catalog and schema (ownership counts), with no admin bypass.
fn use_catalog_and_schema() -> Req {
    All(vec![Holds("USE_CATALOG", Catalog), Holds("USE_SCHEMA", Schema)])
}

/// Temporary table credentials: use of the catalog and schema, explicit EXTERNAL_USE_SCHEMA
/// (on the schema or its catalog), SELECT, and MODIFY for `READ_WRITE`, in that order (the
/// first missing one is named).
fn table_credentials(write: bool) -> Req {
    let mut all = vec![
        Holds("USE_CATALOG", Catalog),
        Holds("USE_SCHEMA", Schema),
        Holds("EXTERNAL_USE_SCHEMA", Schema),
        Holds("SELECT", Table),
    ];
    if write {
        all.push(Holds("MODIFY", Table));
    }
    All(all)
}

/// EXTERNAL tables: a metastore admin, or CREATE_EXTERNAL_TABLE (legacy CREATE_TABLE) on
/// the external location covering the table's location or on the named storage credential.
fn external_storage() -> Req {
    Any(vec![
        MetastoreAdmin,
        Holds("CREATE_EXTERNAL_TABLE", ExternalLocation),
        Holds("CREATE_EXTERNAL_TABLE", StorageCredential),
    ])
}

/// The common update rule: the owner; or a metastore admin changing only `owner`.
fn owner_or_admin_changing_owner(kind: crate::domain::securable::SecurableKind, shape: UpdateShape) -> Req {
    Any(vec![Owner(kind), All(vec![MetastoreAdmin, Condition(shape.owner_only(), "only `owner` changes")])])
}

pub fn requirement(caller: &Caller, action: &Action) -> Req {
    match action {
        // (emulator decision): metastores are created by account admins.
        Action::CreateMetastore => AccountAdmin,
        // every other metastore endpoint is for its metastore admins.
        Action::ReadMetastore | Action::UpdateMetastore | Action::DeleteMetastore => MetastoreAdmin,
        // A metastore whose owner was deleted has no admin: an account admin may give it an
        // owner again, and change nothing else (README "Security").
        Action::ReownOrphanedMetastore => AccountAdmin,
        Action::CreateAssignment | Action::DeleteAssignment => AccountAdmin,
        Action::UpdateAssignment { changes_metastore: true } => AccountAdmin,
        Action::UpdateAssignment { changes_metastore: false } => Any(vec![WorkspaceAdmin, AccountAdmin]),

        // (CREATE_STORAGE_CREDENTIAL on the metastore is an alternative; the metastore-admin role
        // alone is not enough). The chain is [metastore].
        Action::CreateStorageCredential => Any(vec![AccountAdmin, Holds("CREATE_STORAGE_CREDENTIAL", Metastore)]),
        // the chain is [credential].
        Action::GetStorageCredential => {
            Any(vec![MetastoreAdmin, AccountAdmin, Owner(StorageCredential), SomePrivilege(StorageCredential)])
        }
        Action::ListAllStorageCredentials => Any(vec![MetastoreAdmin, AccountAdmin]),
        // an `owner` change needs the owner, an account admin or a metastore admin; every
        // other change an account admin; a request doing both must satisfy both.
        Action::UpdateStorageCredential(shape) => {
            let owner_rule = Any(vec![Owner(StorageCredential), AccountAdmin, MetastoreAdmin]);
            match (shape.owner, shape.rename || shape.other) {
                (true, true) => All(vec![owner_rule, AccountAdmin]),
                (false, true) => AccountAdmin,
                // An `owner` change, or nothing to change: the owner rule.
                (_, false) => owner_rule,
            }
        }
        Action::DeleteStorageCredential => Any(vec![Owner(StorageCredential), AccountAdmin]),
        // SDK docstring (emulator decision, the API reference has no such endpoint): metastore admin, the
        // credential's owner, or CREATE_EXTERNAL_LOCATION on the metastore and the credential;
        // account admins (who create credentials) too. The chain is [credential?, metastore].
        Action::ValidateStorageCredential => Any(vec![
            MetastoreAdmin,
            AccountAdmin,
            Owner(StorageCredential),
            All(vec![
                Holds("CREATE_EXTERNAL_LOCATION", Metastore),
                Holds("CREATE_EXTERNAL_LOCATION", StorageCredential),
            ]),
        ]),

        // and the SDK docstring: CREATE_EXTERNAL_LOCATION on the metastore and on the storage
        // credential (ownership counts). The chain is [metastore, credential] for creates and for
        // updates that change `url` or `credential_name` (the credential used after the change);
        // [location] for the other location actions.
        Action::CreateExternalLocation => Any(vec![
            MetastoreAdmin,
            All(vec![
                Holds("CREATE_EXTERNAL_LOCATION", Metastore),
                Holds("CREATE_EXTERNAL_LOCATION", StorageCredential),
            ]),
        ]),
        Action::GetExternalLocation => {
            Any(vec![MetastoreAdmin, Owner(ExternalLocation), SomePrivilege(ExternalLocation)])
        }
        Action::ListAllExternalLocations => MetastoreAdmin,
        // the owner; or a metastore admin when only `owner` changes.
        Action::UpdateExternalLocation(shape) => owner_or_admin_changing_owner(ExternalLocation, *shape),
        Action::DeleteExternalLocation => Owner(ExternalLocation),
        // (emulator decision): metastore admin, or READ_FILES on the external location that
        // contains `url` or on the storage credential named by `credential_name`.
        Action::ListFiles => {
            Any(vec![MetastoreAdmin, Holds("READ_FILES", ExternalLocation), Holds("READ_FILES", StorageCredential)])
        }

        Action::CreateCatalog => Any(vec![MetastoreAdmin, Holds("CREATE_CATALOG", Metastore)]),
        Action::GetCatalog => Any(vec![MetastoreAdmin, Holds("USE_CATALOG", Catalog)]),
        Action::BrowseCatalog => Holds("BROWSE", Catalog),
        Action::ListAllCatalogs => MetastoreAdmin,
        Action::UpdateCatalog(shape) if shape.rename => All(vec![Owner(Catalog), MetastoreAdmin]),
        Action::UpdateCatalog(shape) => owner_or_admin_changing_owner(Catalog, *shape),
        Action::DeleteCatalog => Owner(Catalog),

        Action::CreateSchema => All(vec![catalog_access(), Any(vec![MetastoreAdmin, Holds("CREATE_SCHEMA", Catalog)])]),
        Action::ListSchemas => catalog_access(),
        Action::ListAllSchemas => Any(vec![MetastoreAdmin, Owner(Catalog)]),
        Action::GetSchema => All(vec![catalog_access(), Any(vec![MetastoreAdmin, Holds("USE_SCHEMA", Schema)])]),
        Action::UpdateSchema(shape) => {
            let mut all = vec![catalog_access(), owner_or_admin_changing_owner(Schema, *shape)];
            if shape.rename {
                all.push(Any(vec![Holds("CREATE_SCHEMA", Catalog), MetastoreAdmin]));
            }
            All(all)
        }
        Action::DeleteSchema => All(vec![catalog_access(), Any(vec![Owner(Schema), Owner(Catalog)])]),

        // createTable has no metastore-admin bypass for the catalog/schema part.
        // EXTERNAL: also a metastore admin, or CREATE_EXTERNAL_TABLE (legacy CREATE_TABLE) on the
        // external location that covers `storage_location` or on the storage credential named by
        // `storage_credential_name`; the chain is [schema, catalog, location or credential].
        Action::CreateTable { external } => {
            let mut all = vec![use_catalog_and_schema(), Holds("CREATE_TABLE", Schema)];
            if *external {
                all.push(external_storage());
            }
            All(all)
        }
        // (emulator decision): 403 when the caller cannot use the catalog and schema.
        Action::ListTables => Any(vec![MetastoreAdmin, use_catalog_and_schema()]),
        Action::ListAllTables => MetastoreAdmin,
        Action::GetTable => Any(vec![MetastoreAdmin, All(vec![use_catalog_and_schema(), Holds("SELECT", Table)])]),
        // SDK: as getTable, or BROWSE on the parent catalog.
        Action::TableExists => Any(vec![
            MetastoreAdmin,
            All(vec![use_catalog_and_schema(), Holds("SELECT", Table)]),
            Holds("BROWSE", Catalog),
        ]),
        Action::UpdateTable { shape, new_view_owner } => {
            let mut all = vec![use_catalog_and_schema(), owner_or_admin_changing_owner(Table, *shape)];
            if shape.rename {
                // "even if the caller is a metastore admin"
                all.push(Holds("CREATE_TABLE", Schema));
            }
            if let Some(owner) = new_view_owner {
                all.push(MemberOf(owner.clone()));
            }
            All(all)
        }
        // "A storage_location change on update (EXTERNAL tables only) is checked by the same
        // rules": the new location needs what createTable's EXTERNAL clause needs. The
        // chain is [table, schema, catalog, location or credential].
        Action::RelocateExternalTable => external_storage(),
        Action::DeleteTable => Any(vec![
            Owner(Catalog),
            All(vec![Holds("USE_CATALOG", Catalog), Owner(Schema)]),
            All(vec![use_catalog_and_schema(), Owner(Table)]),
        ]),

        // without catalog access the result is empty (not a 403).
        Action::ListTableSummaries => Any(vec![MetastoreAdmin, Holds("USE_CATALOG", Catalog)]),
        Action::SummarizeTable => {
            Any(vec![MetastoreAdmin, All(vec![Holds("USE_SCHEMA", Schema), Holds("SELECT", Table)])])
        }

        // Volumes (SDK `VolumesAPI` docstrings, Databricks "Unity Catalog volume privileges"): the
        // chain is [schema, catalog] for creates and lists, [volume, schema, catalog] otherwise.
        // createVolume has no metastore-admin bypass for CREATE_VOLUME; EXTERNAL also needs
        // CREATE_EXTERNAL_VOLUME on the covering external location (no admin bypass either), which
        // the chain then ends with.
        Action::CreateVolume { external } => {
            let mut all = vec![Any(vec![MetastoreAdmin, use_catalog_and_schema()]), Holds("CREATE_VOLUME", Schema)];
            if *external {
                all.push(Holds("CREATE_EXTERNAL_VOLUME", ExternalLocation));
            }
            All(all)
        }
        Action::ListVolumes => Any(vec![MetastoreAdmin, use_catalog_and_schema()]),
        Action::ListAllVolumes => MetastoreAdmin,
        Action::ReadVolume => {
            Any(vec![MetastoreAdmin, All(vec![use_catalog_and_schema(), Holds("READ_VOLUME", Volume)])])
        }
        // Only ownership of the volume itself counts here, not of its schema or catalog.
        Action::UpdateVolume(_) | Action::DeleteVolume => {
            Any(vec![MetastoreAdmin, All(vec![Owner(Volume), use_catalog_and_schema()])])
        }
        // The Files API is data access: no metastore-admin bypass, BROWSE never suffices.
        Action::ReachVolumeFiles => use_catalog_and_schema(),
        Action::ReadVolumeFiles => All(vec![use_catalog_and_schema(), Holds("READ_VOLUME", Volume)]),
        Action::WriteVolumeFiles => {
            All(vec![use_catalog_and_schema(), Holds("READ_VOLUME", Volume), Holds("WRITE_VOLUME", Volume)])
        }

        // Credential vending for engines outside Databricks (SDK `TemporaryTableCredentialsAPI`,
        // `TemporaryPathCredentialsAPI`; Databricks "Enable external data access to Unity
        // Catalog"): no metastore-admin bypass anywhere. `EXTERNAL_USE_SCHEMA` and
        // `EXTERNAL_USE_LOCATION` count only when granted explicitly (ownership and
        // ALL_PRIVILEGES never confer them); the data privileges count as usual.
        Action::TableCredentials { write } => table_credentials(*write),
        Action::TablePathCredentials { write, located } => {
            let mut all = vec![table_credentials(*write)];
            if *located {
                all.push(Holds("EXTERNAL_USE_LOCATION", ExternalLocation));
            }
            All(all)
        }
        Action::VolumeCredentials { write } => {
            let mut all =
                vec![use_catalog_and_schema(), Holds("EXTERNAL_USE_SCHEMA", Schema), Holds("READ_VOLUME", Volume)];
            if *write {
                all.push(Holds("WRITE_VOLUME", Volume));
            }
            All(all)
        }
        Action::PathCredentials { write, create_table } => {
            let mut all = vec![Holds("EXTERNAL_USE_LOCATION", ExternalLocation)];
            if *create_table {
                all.push(Holds("CREATE_EXTERNAL_TABLE", ExternalLocation));
            } else {
                all.push(Holds("READ_FILES", ExternalLocation));
                if *write {
                    all.push(Holds("WRITE_FILES", ExternalLocation));
                }
            }
            All(all)
        }

        // Functions (SDK `FunctionsAPI` docstrings): the chain is [schema, catalog] for creates
        // and lists, [function, schema, catalog] otherwise.
        Action::CreateFunction => All(vec![use_catalog_and_schema(), Holds("CREATE_FUNCTION", Schema)]),
        Action::ListFunctions => Any(vec![MetastoreAdmin, use_catalog_and_schema()]),
        Action::ListAllFunctions => MetastoreAdmin,
        Action::GetFunction => Any(vec![
            MetastoreAdmin,
            Owner(Catalog),
            All(vec![Holds("USE_CATALOG", Catalog), Owner(Function)]),
            All(vec![use_catalog_and_schema(), Holds("EXECUTE", Function)]),
        ]),
        // "Only the owner of the function can be updated"; the caller must be a member of the
        // new owner (a metastore admin need not be).
        Action::UpdateFunction { new_owner } => {
            let who = Any(vec![
                MetastoreAdmin,
                Owner(Catalog),
                All(vec![Owner(Schema), Holds("USE_CATALOG", Catalog)]),
                All(vec![Owner(Function), use_catalog_and_schema()]),
            ]);
            match new_owner {
                Some(owner) => All(vec![who, Any(vec![MetastoreAdmin, MemberOf(owner.clone())])]),
                None => who,
            }
        }
        // As deleteTable: no metastore-admin bypass.
        Action::DeleteFunction => Any(vec![
            Owner(Catalog),
            All(vec![Holds("USE_CATALOG", Catalog), Owner(Schema)]),
            All(vec![use_catalog_and_schema(), Owner(Function)]),
        ]),

        // the owner of the securable or a metastore admin; others read their own only.
        Action::ReadPermissions { principal_filter } => {
            let own = principal_filter.as_deref() == Some(caller.name.as_str());
            Any(vec![OwnerOfTarget, MetastoreAdmin, Condition(own, "the caller reads only its own permissions")])
        }
        Action::ChangePermissions => Any(vec![OwnerOfTarget, MetastoreAdmin]),
        Action::HoldsPrivilege(p) => Req::HoldsOnTarget(p),

        // Every principal creates, lists and deletes its own tokens (the
        // store only ever addresses the caller's tokens). Token use is not gated on the
        // `authorization/tokens` ACL.
        Action::OwnTokens => Condition(true, "every principal manages its own tokens"),
        // Token management is for workspace or account admins.
        Action::ManageWorkspaceTokens => Any(vec![WorkspaceAdmin, AccountAdmin]),
        // Workspace admins and holders of CAN_MANAGE (IS_OWNER on a
        // warehouse includes it) read and set an object's list; any other holder of a level on
        // it may read it.
        Action::ReadObjectAcl { acl } => Any(vec![
            WorkspaceAdmin,
            AccountAdmin,
            Condition(acl.iter().any(|e| caller.is(&e.principal)), "the caller holds a permission level on the object"),
        ]),
        Action::ChangeObjectAcl { acl } => Any(vec![
            WorkspaceAdmin,
            AccountAdmin,
            Condition(
                acl.iter().any(|e| caller.is(&e.principal) && MANAGE_LEVELS.contains(&e.level.as_str())),
                "the caller holds CAN_MANAGE on the object",
            ),
        ]),
        // (and the metastore-privilege alternatives). The chain is
        // [share, metastore]; creates pass [metastore].
        Action::CreateShare => Any(vec![MetastoreAdmin, Holds("CREATE_SHARE", Metastore)]),
        Action::GetShare | Action::ReadSharePermissions => {
            Any(vec![MetastoreAdmin, Owner(Share), Holds("USE_SHARE", Metastore)])
        }
        Action::ListAllShares => Any(vec![MetastoreAdmin, Holds("USE_SHARE", Metastore)]),
        Action::UpdateShare(shape) if shape.rename => All(vec![Owner(Share), MetastoreAdmin]),
        Action::UpdateShare(shape) => owner_or_admin_changing_owner(Share, *shape),
        Action::DeleteShare => Owner(Share),
        Action::ChangeSharePermissions => Any(vec![
            MetastoreAdmin,
            Owner(Share),
            All(vec![Holds("USE_SHARE", Metastore), Holds("SET_SHARE_PERMISSION", Metastore)]),
        ]),
        // The chain is [recipient, metastore].
        Action::CreateRecipient => Any(vec![MetastoreAdmin, Holds("CREATE_RECIPIENT", Metastore)]),
        Action::GetRecipient => Any(vec![MetastoreAdmin, Owner(Recipient), Holds("USE_RECIPIENT", Metastore)]),
        Action::ListAllRecipients => Any(vec![MetastoreAdmin, Holds("USE_RECIPIENT", Metastore)]),
        Action::UpdateRecipient(shape) if shape.rename => All(vec![Owner(Recipient), MetastoreAdmin]),
        Action::UpdateRecipient(shape) => owner_or_admin_changing_owner(Recipient, *shape),
        Action::DeleteRecipient | Action::RotateRecipientToken | Action::GrantToRecipient => Owner(Recipient),
        // The chain is [provider, metastore].
        Action::CreateProvider => Any(vec![MetastoreAdmin, Holds("CREATE_PROVIDER", Metastore)]),
        Action::GetProvider => Any(vec![MetastoreAdmin, Owner(Provider), Holds("USE_PROVIDER", Metastore)]),
        Action::ListAllProviders => Any(vec![MetastoreAdmin, Holds("USE_PROVIDER", Metastore)]),
        Action::UpdateProvider(shape) if shape.rename => All(vec![Owner(Provider), MetastoreAdmin]),
        Action::UpdateProvider(shape) => owner_or_admin_changing_owner(Provider, *shape),
        Action::DeleteProvider => Owner(Provider),
        // a Delta Sharing catalog's creator must also own the provider.
        Action::UseProviderForCatalog => Owner(Provider),
        // the registry is the account's.
        Action::ManagePartners => AccountAdmin,
        // connect, test, delete, account hooks, connectors: workspace admins (account admins count as
        // ones).
        Action::ConnectPartner => WorkspaceAdmin,
        // step 7: the catalog's owner (directly or through a group) or a metastore admin.
        Action::ConnectWithCatalog => Any(vec![Owner(Catalog), MetastoreAdmin]),
        // SCIM writes need a workspace admin or an account admin.
        Action::ManageIdentities => Any(vec![WorkspaceAdmin, AccountAdmin]),
        // Account APIs are for account admins; a workspace admin is not one.
        Action::ManageAccount => AccountAdmin,
        // A group's managers edit it through account SCIM, but never its roles.
        Action::ManageAccountGroup { manager, changes_roles } => Any(vec![
            AccountAdmin,
            All(vec![
                Condition(*manager, "the caller holds roles/group.manager on the group"),
                Condition(!changes_roles, "the request leaves `roles` unchanged"),
            ]),
        ]),
        Action::ManageRuleSet { manager } => {
            Any(vec![AccountAdmin, Condition(*manager, "the caller holds the manager role on the resource")])
        }
        // Secrets through the workspace proxy: account admins and workspace admins.
        Action::ManageSecretsInWorkspace => Any(vec![AccountAdmin, WorkspaceAdmin]),
        // Token creation needs CAN_USE on `authorization/tokens` (workspace admins hold
        // CAN_MANAGE).
        Action::CreateToken { can_use } => Any(vec![
            WorkspaceAdmin,
            AccountAdmin,
            Condition(*can_use, "the caller holds CAN_USE on authorization/tokens"),
        ]),
        Action::MigratePermissions => Any(vec![WorkspaceAdmin, AccountAdmin]),
        // The token endpoint builds the caller only after the client secret matched.
        Action::MintOAuthToken => {
            Condition(caller.is_service_principal(), "the client is a service principal that proved a secret")
        }
        // The explain endpoint: callers explain their own decisions; metastore admins anyone's.
        Action::ExplainForOthers => MetastoreAdmin,
        // Partner Connect sign-in opens the partner's site as a person: service principals may not.
        Action::PartnerSignIn => Condition(!caller.is_service_principal(), "the caller is not a service principal"),
        // Proofs minted only by `with_fixture_proof` / `with_server_proof`, never for a caller.
        Action::LoadFixtures => Condition(false, "fixtures are loaded by the server alone"),
        Action::ServerTask => Condition(false, "server tasks run without a caller"),
        Action::RetrieveRecipientCredential => {
            Condition(false, "a credential is retrieved through its activation link alone")
        }
    }
}
