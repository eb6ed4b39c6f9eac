-- Activation links for provisioned accounts (created by an import, no password
-- yet): the person sets a password at /activate/{token}. Only the SHA-256 of
-- the token is stored; a link works once, until it expires, and a new link for
-- the same person marks the old one 'replaced'.
CREATE TABLE activation_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'used', 'replaced')),
    expires_at INTEGER NOT NULL,
    -- Who sent it, as named in the email (an admin, or the import's owner).
    sent_by_name TEXT NOT NULL DEFAULT '',
    outbox_id INTEGER,
    created_at INTEGER NOT NULL,
    used_at INTEGER
);
-- At most one live link per person.
CREATE UNIQUE INDEX activation_tokens_one_pending ON activation_tokens(user_id) WHERE status = 'pending';
CREATE INDEX activation_tokens_org_user ON activation_tokens(organization_id, user_id);
