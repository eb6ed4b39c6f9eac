-- Organization API tokens: what /api/v1 and /scim/v2 callers present as
-- "Authorization: Bearer …". Only the SHA-256 of a token is stored; the
-- token itself is shown once, when it is created.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    -- What the admin called it ("SIS nightly sync").
    name TEXT NOT NULL,
    -- read, imports, invitations, people, full or scim (app::api_tokens::Scope).
    scope TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    -- The token's first characters, so a list can tell tokens apart.
    hint TEXT NOT NULL,
    -- The admin it acts as: a token stops working when they stop being an
    -- admin of the organization.
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    -- Updated at most once a minute.
    last_used_at INTEGER,
    revoked_at INTEGER,
    revoked_by INTEGER REFERENCES users(id)
);
CREATE INDEX api_tokens_by_organization ON api_tokens (organization_id, created_at);
