-- uc-emulator database schema: the one source of truth, applied to every new database.
-- Bump the version in `PRAGMA user_version` below (and store::SCHEMA_VERSION) on any change, and
-- add the step from the previous version to src/store/migrations/.
-- Every column a write filters on has an index (owners, credentials, principals, foreign keys):
-- a unit test in src/store/mod.rs checks it.
--
-- Conventions: object names are stored lower-cased (the API lower-cases them at the edge);
-- UC ids are UUID text; timestamps are epoch milliseconds; owners and grant principals are
-- principal names (user_name, group display_name or application_id), as the API carries them.

-- Server-wide secrets and settings (the page-token key lives here so tokens survive restarts).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

-- Identity ----------------------------------------------------------------------------------

CREATE TABLE workspaces (
    workspace_id INTEGER PRIMARY KEY,
    name         TEXT
);

-- Users, groups and service principals share one id space and one name space:
-- an owner or grant principal names exactly one of them.
CREATE TABLE principals (
    id            INTEGER PRIMARY KEY,             -- SCIM id, positive, random
    kind          TEXT NOT NULL CHECK (kind IN ('user', 'group', 'service_principal')),
    name          TEXT NOT NULL UNIQUE,            -- userName / group displayName / applicationId
    display_name  TEXT NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1,
    account_admin INTEGER NOT NULL DEFAULT 0,
    external_id   TEXT,
    extra         TEXT NOT NULL DEFAULT '{}'       -- other SCIM attributes (emails, name, ...)
);

-- A rowid table on purpose: SQLite's update hook, which invalidates cached callers, does not
-- fire for WITHOUT ROWID tables.
CREATE TABLE group_members (
    group_id  INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, member_id)
);
CREATE INDEX group_members_by_member ON group_members(member_id);

-- Personal access tokens: only a SHA-256 hash of the value is kept.
CREATE TABLE tokens (
    token_id      TEXT PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,
    principal_id  INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces(workspace_id) ON DELETE CASCADE,
    comment       TEXT,
    creation_time INTEGER NOT NULL,
    expiry_time   INTEGER NOT NULL DEFAULT -1,     -- -1: never
    from_api      INTEGER NOT NULL DEFAULT 0,      -- 0: fixture token (not listed by the token API)
    created_by_id INTEGER
);
CREATE INDEX tokens_by_principal ON tokens(principal_id);
CREATE INDEX tokens_by_workspace ON tokens(workspace_id);

-- Workspace object permissions (/api/2.0/permissions): one row per principal and level.
-- `principal` is a principal name, as in UC grants.
CREATE TABLE workspace_acls (
    workspace_id     INTEGER NOT NULL REFERENCES workspaces(workspace_id) ON DELETE CASCADE,
    object_type      TEXT NOT NULL,                -- 'tokens', 'passwords', 'warehouses'
    object_id        TEXT NOT NULL,                -- 'tokens', 'passwords', a warehouse id
    principal        TEXT NOT NULL,
    permission_level TEXT NOT NULL,
    PRIMARY KEY (workspace_id, object_type, object_id, principal, permission_level)
) WITHOUT ROWID;
CREATE INDEX workspace_acls_by_principal ON workspace_acls(principal);

-- Emulated SQL warehouses: made only by Partner Connect, read through
-- /api/2.0/sql/warehouses, permissions in workspace_acls (object_type 'warehouses').
CREATE TABLE warehouses (
    id           TEXT PRIMARY KEY,                 -- 16 lowercase hexadecimal characters
    workspace_id INTEGER NOT NULL REFERENCES workspaces(workspace_id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    creator_name TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    deleted_at   INTEGER                           -- a deleted warehouse answers 404
);
CREATE INDEX warehouses_by_workspace ON warehouses(workspace_id);

-- Partner Connect ---------------------------------------------------------

-- Registered partners. The basic-auth password is kept to call the partner and never returned.
CREATE TABLE pc_partners (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    name_key       TEXT NOT NULL UNIQUE,           -- <PARTNER-NAME>: names conflict on it
    config         TEXT NOT NULL,                  -- the PartnerConfig as registered
    basic_user     TEXT,
    basic_password TEXT,
    options        TEXT NOT NULL,                  -- effective call options
    created_at     INTEGER NOT NULL,
    created_by     TEXT NOT NULL
);

-- At most one connection per partner and workspace, pending or active.
CREATE TABLE pc_connections (
    id                   TEXT PRIMARY KEY,
    partner_id           TEXT NOT NULL REFERENCES pc_partners(id),
    workspace_id         INTEGER NOT NULL,
    state                TEXT NOT NULL CHECK (state IN ('pending', 'active')),
    record               TEXT NOT NULL,            -- ConnectionInfo fields as JSON
    created_at           INTEGER NOT NULL,
    UNIQUE (partner_id, workspace_id)
);
CREATE INDEX pc_connections_by_workspace ON pc_connections(workspace_id);

-- Unity Catalog -----------------------------------------------------------------------------

CREATE TABLE metastores (
    id                         TEXT PRIMARY KEY,
    name                       TEXT NOT NULL UNIQUE,
    storage_root               TEXT NOT NULL,
    storage_root_credential_id TEXT,
    owner                      TEXT NOT NULL,
    cloud                      TEXT NOT NULL,
    region                     TEXT NOT NULL,
    delta_sharing_scope        TEXT NOT NULL DEFAULT 'INTERNAL',
    delta_sharing_recipient_token_lifetime_in_seconds INTEGER,
    delta_sharing_organization_name TEXT,
    privilege_model_version    TEXT NOT NULL DEFAULT '1.0',
    external_access_enabled    INTEGER NOT NULL DEFAULT 0,
    created_at                 INTEGER NOT NULL,
    created_by                 TEXT NOT NULL,
    updated_at                 INTEGER NOT NULL,
    updated_by                 TEXT NOT NULL
);
CREATE INDEX metastores_by_owner ON metastores(owner);
CREATE INDEX metastores_by_credential ON metastores(storage_root_credential_id);

CREATE TABLE metastore_assignments (
    workspace_id         INTEGER PRIMARY KEY REFERENCES workspaces(workspace_id) ON DELETE CASCADE,
    metastore_id         TEXT NOT NULL REFERENCES metastores(id) ON DELETE CASCADE,
    default_catalog_name TEXT
);
CREATE INDEX metastore_assignments_by_metastore ON metastore_assignments(metastore_id);

CREATE TABLE catalogs (
    id             TEXT PRIMARY KEY,
    metastore_id   TEXT NOT NULL REFERENCES metastores(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    comment        TEXT,
    owner          TEXT NOT NULL,
    properties     TEXT,                          -- JSON object, or NULL
    storage_root   TEXT,
    provider_name  TEXT,
    share_name     TEXT,
    isolation_mode TEXT NOT NULL DEFAULT 'OPEN',
    created_at     INTEGER NOT NULL,
    created_by     TEXT NOT NULL,
    updated_at     INTEGER NOT NULL,
    updated_by     TEXT NOT NULL,
    UNIQUE (metastore_id, name)
);
CREATE INDEX catalogs_by_owner ON catalogs(owner);

CREATE TABLE schemas (
    id           TEXT PRIMARY KEY,
    catalog_id   TEXT NOT NULL REFERENCES catalogs(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    comment      TEXT,
    owner        TEXT NOT NULL,
    properties   TEXT,
    storage_root TEXT,
    created_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    updated_at   INTEGER NOT NULL,
    updated_by   TEXT NOT NULL,
    UNIQUE (catalog_id, name)
);
CREATE INDEX schemas_by_owner ON schemas(owner);

CREATE TABLE tables (
    id                      TEXT PRIMARY KEY,
    schema_id               TEXT NOT NULL REFERENCES schemas(id) ON DELETE CASCADE,
    name                    TEXT NOT NULL,
    table_type              TEXT NOT NULL,
    data_source_format      TEXT,
    columns                 TEXT NOT NULL DEFAULT '[]',  -- JSON array of ColumnInfo, by position
    storage_location        TEXT,
    storage_credential_name TEXT,
    view_definition         TEXT,
    sql_path                TEXT,
    comment                 TEXT,
    owner                   TEXT NOT NULL,
    properties              TEXT,
    created_at              INTEGER NOT NULL,
    created_by              TEXT NOT NULL,
    updated_at              INTEGER NOT NULL,
    updated_by              TEXT NOT NULL,
    UNIQUE (schema_id, name)
);
CREATE INDEX tables_by_location ON tables(storage_location);
CREATE INDEX tables_by_owner ON tables(owner);
-- Few tables name a credential: the index holds only those (a lookup by name still uses it).
CREATE INDEX tables_by_credential ON tables(storage_credential_name) WHERE storage_credential_name IS NOT NULL;

-- Volumes and functions (Unity Catalog volumes, the Files API, functions). Each has its own
-- namespace inside a schema: a table, a volume and a function may share a name.
CREATE TABLE volumes (
    id               TEXT PRIMARY KEY,
    schema_id        TEXT NOT NULL REFERENCES schemas(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    volume_type      TEXT NOT NULL CHECK (volume_type IN ('MANAGED', 'EXTERNAL')),
    storage_location TEXT NOT NULL,                -- normalised storage URL, no trailing '/'
    comment          TEXT,
    owner            TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    created_by       TEXT NOT NULL,
    updated_at       INTEGER NOT NULL,
    updated_by       TEXT NOT NULL,
    UNIQUE (schema_id, name)
);
CREATE INDEX volumes_by_location ON volumes(storage_location);
CREATE INDEX volumes_by_owner ON volumes(owner);

-- `info` is the validated CreateFunction (parameters, return type, body, properties) as JSON.
CREATE TABLE functions (
    id         TEXT PRIMARY KEY,
    schema_id  TEXT NOT NULL REFERENCES schemas(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    info       TEXT NOT NULL,
    owner      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    UNIQUE (schema_id, name)
);
CREATE INDEX functions_by_owner ON functions(owner);

-- Storage credentials: one credential kind per row; `details` is the kind's JSON object,
-- secrets included (they are never returned).
CREATE TABLE storage_credentials (
    id             TEXT PRIMARY KEY,
    metastore_id   TEXT NOT NULL REFERENCES metastores(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    comment        TEXT,
    owner          TEXT NOT NULL,
    kind           TEXT NOT NULL,                 -- aws_iam_role, azure_service_principal, ...
    details        TEXT NOT NULL,                 -- JSON object of that kind
    read_only      INTEGER NOT NULL DEFAULT 0,
    isolation_mode TEXT NOT NULL DEFAULT 'ISOLATION_MODE_OPEN',
    created_at     INTEGER NOT NULL,
    created_by     TEXT NOT NULL,
    updated_at     INTEGER NOT NULL,
    updated_by     TEXT NOT NULL,
    UNIQUE (metastore_id, name)
);
CREATE INDEX storage_credentials_by_owner ON storage_credentials(owner);

-- External locations. `credential_id` is not a foreign key: a forced delete of the
-- credential leaves its locations in place, naming it still.
CREATE TABLE external_locations (
    id              TEXT PRIMARY KEY,
    metastore_id    TEXT NOT NULL REFERENCES metastores(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    comment         TEXT,
    owner           TEXT NOT NULL,
    url             TEXT NOT NULL,                -- normalised storage URL (domain::storage_url)
    credential_id   TEXT NOT NULL,
    credential_name TEXT NOT NULL,
    read_only       INTEGER NOT NULL DEFAULT 0,
    isolation_mode  TEXT NOT NULL DEFAULT 'ISOLATION_MODE_OPEN',
    fallback        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    created_by      TEXT NOT NULL,
    updated_at      INTEGER NOT NULL,
    updated_by      TEXT NOT NULL,
    UNIQUE (metastore_id, name)
);
CREATE INDEX external_locations_by_url ON external_locations(url);
CREATE INDEX external_locations_by_credential ON external_locations(credential_id);
CREATE INDEX external_locations_by_credential_name ON external_locations(credential_name);
CREATE INDEX external_locations_by_owner ON external_locations(owner);

-- Direct grants on any securable. `securable_id` is the metastore, catalog, schema or table id
-- (UUIDs never collide); triggers below drop the grants of a deleted securable.
CREATE TABLE grants (
    securable_id TEXT NOT NULL,
    principal    TEXT NOT NULL,
    privilege    TEXT NOT NULL,
    PRIMARY KEY (securable_id, principal, privilege)
) WITHOUT ROWID;
CREATE INDEX grants_by_principal ON grants(principal);

CREATE TRIGGER metastores_drop_grants AFTER DELETE ON metastores
BEGIN DELETE FROM grants WHERE securable_id = old.id; END;
CREATE TRIGGER catalogs_drop_grants AFTER DELETE ON catalogs
BEGIN DELETE FROM grants WHERE securable_id = old.id; END;
CREATE TRIGGER schemas_drop_grants AFTER DELETE ON schemas
BEGIN DELETE FROM grants WHERE securable_id = old.id; END;
CREATE TRIGGER tables_drop_grants AFTER DELETE ON tables
BEGIN DELETE FROM grants WHERE securable_id = old.id; END;
CREATE TRIGGER volumes_drop_grants AFTER DELETE ON volumes
BEGIN DELETE FROM grants WHERE securable_id = old.id; END;
CREATE TRIGGER functions_drop_grants AFTER DELETE ON functions
BEGIN DELETE FROM grants WHERE securable_id = old.id; END;
CREATE TRIGGER storage_credentials_drop_grants AFTER DELETE ON storage_credentials
BEGIN DELETE FROM grants WHERE securable_id = old.id; END;
CREATE TRIGGER external_locations_drop_grants AFTER DELETE ON external_locations
BEGIN DELETE FROM grants WHERE securable_id = old.id; END;

-- Delta Sharing ---------------------------------------------------------------

CREATE TABLE shares (
    id           TEXT PRIMARY KEY,
    metastore_id TEXT NOT NULL REFERENCES metastores(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    comment      TEXT,
    owner        TEXT NOT NULL,
    storage_root TEXT,
    created_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    updated_at   INTEGER NOT NULL,
    updated_by   TEXT NOT NULL,
    UNIQUE (metastore_id, name)
);
CREATE INDEX shares_by_owner ON shares(owner);

-- A table in a share. Dropping the table drops it from every share.
CREATE TABLE share_objects (
    share_id                    TEXT NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
    table_id                    TEXT NOT NULL REFERENCES tables(id) ON DELETE CASCADE,
    shared_as                   TEXT NOT NULL,        -- '<schema>.<table>', lower-cased
    comment                     TEXT,
    cdf_enabled                 INTEGER,
    start_version               INTEGER,
    history_data_sharing_status TEXT,
    partitions                  TEXT,                 -- JSON array of Partition, or NULL
    added_at                    INTEGER NOT NULL,
    added_by                    TEXT NOT NULL,
    added_version               INTEGER,              -- the table's Delta version when added
    PRIMARY KEY (share_id, table_id),
    UNIQUE (share_id, shared_as)
) WITHOUT ROWID;
CREATE INDEX share_objects_by_table ON share_objects(table_id);

CREATE TABLE recipients (
    id                                 TEXT PRIMARY KEY,
    metastore_id                       TEXT NOT NULL REFERENCES metastores(id) ON DELETE CASCADE,
    name                               TEXT NOT NULL,
    authentication_type                TEXT NOT NULL,
    comment                            TEXT,
    owner                              TEXT NOT NULL,
    data_recipient_global_metastore_id TEXT,
    ip_access_list                     TEXT,          -- JSON array of addresses, or NULL
    properties_kvpairs                 TEXT,          -- JSON object, or NULL
    created_at                         INTEGER NOT NULL,
    created_by                         TEXT NOT NULL,
    updated_at                         INTEGER NOT NULL,
    updated_by                         TEXT NOT NULL,
    UNIQUE (metastore_id, name)
);
CREATE INDEX recipients_by_owner ON recipients(owner);

CREATE TABLE recipient_tokens (
    id              TEXT PRIMARY KEY,
    recipient_id    TEXT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    activation_url  TEXT NOT NULL,
    expiration_time INTEGER,                          -- NULL: never
    created_at      INTEGER NOT NULL,
    created_by      TEXT NOT NULL,
    updated_at      INTEGER NOT NULL,
    updated_by      TEXT NOT NULL
);
CREATE INDEX recipient_tokens_by_recipient ON recipient_tokens(recipient_id);

CREATE TABLE providers (
    id                                TEXT PRIMARY KEY,
    metastore_id                      TEXT NOT NULL REFERENCES metastores(id) ON DELETE CASCADE,
    name                              TEXT NOT NULL,
    authentication_type               TEXT NOT NULL,
    comment                           TEXT,
    owner                             TEXT NOT NULL,
    recipient_profile_str             TEXT,           -- kept for the record, never returned
    data_provider_global_metastore_id TEXT,
    shares                            TEXT NOT NULL DEFAULT '[]',  -- JSON array of share names (fixtures)
    created_at                        INTEGER NOT NULL,
    created_by                        TEXT NOT NULL,
    updated_at                        INTEGER NOT NULL,
    updated_by                        TEXT NOT NULL,
    UNIQUE (metastore_id, name)
);
CREATE INDEX providers_by_owner ON providers(owner);

CREATE TRIGGER shares_drop_grants AFTER DELETE ON shares
BEGIN DELETE FROM grants WHERE securable_id = old.id; END;
-- A deleted recipient loses its share grants; a renamed one keeps them.
CREATE TRIGGER recipients_drop_grants AFTER DELETE ON recipients
BEGIN
    DELETE FROM grants WHERE principal = old.name
        AND securable_id IN (SELECT id FROM shares WHERE metastore_id = old.metastore_id);
END;
CREATE TRIGGER recipients_rename_grants AFTER UPDATE OF name ON recipients WHEN old.name <> new.name
BEGIN
    UPDATE OR REPLACE grants SET principal = new.name WHERE principal = old.name
        AND securable_id IN (SELECT id FROM shares WHERE metastore_id = old.metastore_id);
END;

-- Objects whose owner was deleted (README "Security": deleting a principal): the object keeps
-- showing the deleted principal's name as `owner`, and no principal acts as that owner, not even
-- one created later under the same name. A row holds while the owner is unchanged; handing the
-- object on (any change of `owner`) or deleting it drops the row.
CREATE TABLE IF NOT EXISTS orphaned_owners (
    securable_id  TEXT NOT NULL,
    deleted_owner TEXT NOT NULL,
    PRIMARY KEY (securable_id, deleted_owner)
);
CREATE INDEX IF NOT EXISTS orphaned_owners_by_deleted_owner ON orphaned_owners(deleted_owner);
CREATE TRIGGER IF NOT EXISTS metastores_owner_handed_on AFTER UPDATE OF owner ON metastores WHEN old.owner IS NOT new.owner
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS metastores_drop_orphan AFTER DELETE ON metastores
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS catalogs_owner_handed_on AFTER UPDATE OF owner ON catalogs WHEN old.owner IS NOT new.owner
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS catalogs_drop_orphan AFTER DELETE ON catalogs
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS schemas_owner_handed_on AFTER UPDATE OF owner ON schemas WHEN old.owner IS NOT new.owner
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS schemas_drop_orphan AFTER DELETE ON schemas
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS tables_owner_handed_on AFTER UPDATE OF owner ON tables WHEN old.owner IS NOT new.owner
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS tables_drop_orphan AFTER DELETE ON tables
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS volumes_owner_handed_on AFTER UPDATE OF owner ON volumes WHEN old.owner IS NOT new.owner
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS volumes_drop_orphan AFTER DELETE ON volumes
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS functions_owner_handed_on AFTER UPDATE OF owner ON functions WHEN old.owner IS NOT new.owner
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS functions_drop_orphan AFTER DELETE ON functions
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS storage_credentials_owner_handed_on AFTER UPDATE OF owner ON storage_credentials WHEN old.owner IS NOT new.owner
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS storage_credentials_drop_orphan AFTER DELETE ON storage_credentials
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS external_locations_owner_handed_on AFTER UPDATE OF owner ON external_locations WHEN old.owner IS NOT new.owner
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS external_locations_drop_orphan AFTER DELETE ON external_locations
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS shares_owner_handed_on AFTER UPDATE OF owner ON shares WHEN old.owner IS NOT new.owner
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS shares_drop_orphan AFTER DELETE ON shares
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS recipients_owner_handed_on AFTER UPDATE OF owner ON recipients WHEN old.owner IS NOT new.owner
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS recipients_drop_orphan AFTER DELETE ON recipients
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS providers_owner_handed_on AFTER UPDATE OF owner ON providers WHEN old.owner IS NOT new.owner
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS providers_drop_orphan AFTER DELETE ON providers
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;

-- Account identity ----------------------------------------------------------------------


-- A principal (user, service principal or group) assigned to a workspace with USER or ADMIN.
-- A rowid table: assignments change who a cached caller is (the update hook).
CREATE TABLE workspace_assignments (
    workspace_id INTEGER NOT NULL REFERENCES workspaces(workspace_id) ON DELETE CASCADE,
    principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
    permission   TEXT NOT NULL CHECK (permission IN ('USER', 'ADMIN')),
    PRIMARY KEY (workspace_id, principal_id)
);
CREATE INDEX workspace_assignments_by_principal ON workspace_assignments(principal_id);

-- OAuth secrets of service principals: only a SHA-256 hash of the value is kept.
CREATE TABLE sp_secrets (
    id           TEXT PRIMARY KEY,                 -- 32 lower-case hex digits
    principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
    secret_hash  TEXT NOT NULL UNIQUE,
    create_time  INTEGER NOT NULL,                 -- epoch seconds
    expire_time  INTEGER NOT NULL,
    scopes       TEXT                              -- JSON array, or NULL
);
CREATE INDEX sp_secrets_by_principal ON sp_secrets(principal_id);

-- OAuth access tokens minted by the token endpoints: hashed, short-lived.
CREATE TABLE oauth_tokens (
    token_hash   TEXT PRIMARY KEY,
    principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
    scope        TEXT NOT NULL,
    expires_at   INTEGER NOT NULL                  -- epoch milliseconds
);
CREATE INDEX oauth_tokens_by_principal ON oauth_tokens(principal_id);

-- Account access-control rule sets: `resource` is 'account', 'groups/<id>' or
-- 'servicePrincipals/<id>' (numeric ids). A rule set that was never written has no row.
CREATE TABLE rule_sets (
    resource TEXT PRIMARY KEY,
    version  INTEGER NOT NULL
);
CREATE TABLE rule_set_grants (
    resource     TEXT NOT NULL,
    role         TEXT NOT NULL,
    principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
    PRIMARY KEY (resource, role, principal_id)
);
CREATE INDEX rule_set_grants_by_principal ON rule_set_grants(principal_id);

-- Each TOKEN-recipient token's activation link and, once retrieved, its bearer credential
-- (stored only as a SHA-256 hash). Deleting the token (or its recipient) deletes it.
CREATE TABLE IF NOT EXISTS recipient_credentials (
    token_id         TEXT PRIMARY KEY REFERENCES recipient_tokens(id) ON DELETE CASCADE,
    activation_token TEXT NOT NULL UNIQUE,
    bearer_hash      TEXT UNIQUE,
    retrieved_at     INTEGER
) WITHOUT ROWID;

PRAGMA user_version = 7;
