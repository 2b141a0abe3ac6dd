-- uc-emulator database schema: the one source of truth, applied to every new database.
-- Bump the version in `PRAGMA user_version` below (and store::SCHEMA_VERSION) on any change.
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

-- Users, groups and service principals share one id space and one name space (interface.md):
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

CREATE TABLE group_members (
    group_id  INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, member_id)
) WITHOUT ROWID;
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

CREATE TABLE metastore_assignments (
    workspace_id         INTEGER PRIMARY KEY REFERENCES workspaces(workspace_id) ON DELETE CASCADE,
    metastore_id         TEXT NOT NULL REFERENCES metastores(id) ON DELETE CASCADE,
    default_catalog_name TEXT
);

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

PRAGMA user_version = 1;
