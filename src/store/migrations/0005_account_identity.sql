-- Version 4 -> 5: the account half of identity (workspace assignments, OAuth secrets and tokens
-- of service principals, account access-control rule sets, the token-usage ACL default).

-- A principal (user, service principal or group) assigned to a workspace with USER or ADMIN.
-- A rowid table: assignments change who a cached caller is (the update hook).
CREATE TABLE IF NOT EXISTS workspace_assignments (
    workspace_id INTEGER NOT NULL REFERENCES workspaces(workspace_id) ON DELETE CASCADE,
    principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
    permission   TEXT NOT NULL CHECK (permission IN ('USER', 'ADMIN')),
    PRIMARY KEY (workspace_id, principal_id)
);
CREATE INDEX IF NOT EXISTS workspace_assignments_by_principal ON workspace_assignments(principal_id);

-- OAuth secrets of service principals: only a SHA-256 hash of the value is kept.
CREATE TABLE IF NOT EXISTS sp_secrets (
    id           TEXT PRIMARY KEY,                 -- 32 lower-case hex digits
    principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
    secret_hash  TEXT NOT NULL UNIQUE,
    create_time  INTEGER NOT NULL,                 -- epoch seconds
    expire_time  INTEGER NOT NULL,
    scopes       TEXT                              -- JSON array, or NULL
);
CREATE INDEX IF NOT EXISTS sp_secrets_by_principal ON sp_secrets(principal_id);

-- OAuth access tokens minted by the token endpoints: hashed, short-lived.
CREATE TABLE IF NOT EXISTS oauth_tokens (
    token_hash   TEXT PRIMARY KEY,
    principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
    scope        TEXT NOT NULL,
    expires_at   INTEGER NOT NULL                  -- epoch milliseconds
);
CREATE INDEX IF NOT EXISTS oauth_tokens_by_principal ON oauth_tokens(principal_id);

-- Account access-control rule sets: `resource` is 'account', 'groups/<id>' or
-- 'servicePrincipals/<id>' (numeric ids). A rule set that was never written has no row.
CREATE TABLE IF NOT EXISTS rule_sets (
    resource TEXT PRIMARY KEY,
    version  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rule_set_grants (
    resource     TEXT NOT NULL,
    role         TEXT NOT NULL,
    principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
    PRIMARY KEY (resource, role, principal_id)
);
CREATE INDEX IF NOT EXISTS rule_set_grants_by_principal ON rule_set_grants(principal_id);

-- Existing principals keep what they could do: each is assigned to every existing workspace,
-- ADMIN for `admins` and account admins, USER for everyone else.
INSERT OR IGNORE INTO workspace_assignments (workspace_id, principal_id, permission)
SELECT w.workspace_id, p.id,
       CASE WHEN p.account_admin = 1 OR (p.kind = 'group' AND p.name = 'admins') THEN 'ADMIN' ELSE 'USER' END
FROM workspaces w CROSS JOIN principals p;

-- The token-usage ACL starts with `account users` -> CAN_USE in every workspace.
INSERT OR IGNORE INTO workspace_acls (workspace_id, object_type, object_id, principal, permission_level)
SELECT workspace_id, 'tokens', 'tokens', 'account users', 'CAN_USE' FROM workspaces;
