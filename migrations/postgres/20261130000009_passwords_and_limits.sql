-- When the person proved they receive mail at their address (a password
-- reset link, which only that mailbox gets, proves it).
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;

-- "Forgot password?" links: only the SHA-256 of the emailed token is kept;
-- a link works once, for an hour. A newer link deletes the older ones.
CREATE TABLE password_resets (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX password_resets_user ON password_resets(user_id);
CREATE INDEX password_resets_expiry ON password_resets(expires_at);

-- Rate limits shared by every server process on this database: one token
-- bucket per key (a SHA-256 of what is limited), as the time in milliseconds
-- at which the bucket is full again (GCRA's theoretical arrival time). A row
-- whose bucket is full says nothing and is swept.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    full_at_ms BIGINT NOT NULL,
    -- Whether the last hit was let through: what the UPSERT that made it decided.
    allowed INTEGER NOT NULL
);
CREATE INDEX rate_limits_full_at ON rate_limits(full_at_ms);
