-- Version 2 -> 3: volumes and functions, and the triggers that drop their grants.

-- Volumes and functions (Unity Catalog volumes, the Files API, functions). Each has its own
-- namespace inside a schema: a table, a volume and a function may share a name.
CREATE TABLE IF NOT EXISTS volumes (
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
CREATE INDEX IF NOT EXISTS volumes_by_location ON volumes(storage_location);
CREATE INDEX IF NOT EXISTS volumes_by_owner ON volumes(owner);

-- `info` is the validated CreateFunction (parameters, return type, body, properties) as JSON.
CREATE TABLE IF NOT EXISTS functions (
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
CREATE INDEX IF NOT EXISTS functions_by_owner ON functions(owner);
CREATE TRIGGER IF NOT EXISTS volumes_drop_grants AFTER DELETE ON volumes
BEGIN DELETE FROM grants WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS functions_drop_grants AFTER DELETE ON functions
BEGIN DELETE FROM grants WHERE securable_id = old.id; END;
