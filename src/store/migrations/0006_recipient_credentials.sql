-- Version 5 -> 6: Delta Sharing activation (recipient credentials).

-- Each TOKEN-recipient token's activation link and, once retrieved, its bearer credential
-- (stored only as a SHA-256 hash). Deleting the token (or its recipient) deletes it.
CREATE TABLE IF NOT EXISTS recipient_credentials (
    token_id         TEXT PRIMARY KEY REFERENCES recipient_tokens(id) ON DELETE CASCADE,
    activation_token TEXT NOT NULL UNIQUE,
    bearer_hash      TEXT UNIQUE,
    retrieved_at     INTEGER
) WITHOUT ROWID;
INSERT OR IGNORE INTO recipient_credentials (token_id, activation_token)
    SELECT id, lower(hex(randomblob(16))) FROM recipient_tokens;
