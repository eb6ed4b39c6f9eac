-- Join pages: an organization's public link (/join/{slug}) for learners to
-- join a group without an invitation, and the pending sign-ups waiting for
-- their email to be confirmed.
CREATE TABLE join_pages (
    organization_id BIGINT PRIMARY KEY REFERENCES organizations(id),
    enabled BIGINT NOT NULL DEFAULT 0,
    -- Lowercase letters, digits and hyphens; NULL until the admin picks one.
    slug TEXT UNIQUE,
    group_id BIGINT REFERENCES learning_groups(id),
    welcome_text TEXT NOT NULL DEFAULT '',
    -- Normalized domains, one per line; empty means any domain.
    allowed_domains TEXT NOT NULL DEFAULT '',
    allow_subdomains BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);

-- A sign-up through a join page. No account exists until the link in the
-- email is followed: the names and the password hash wait here. Only the
-- SHA-256 of the token is stored; a link works once, until it expires, and a
-- newer sign-up for the same organization and email replaces it.
CREATE TABLE join_requests (
    id BIGSERIAL PRIMARY KEY,
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    group_id BIGINT NOT NULL REFERENCES learning_groups(id),
    -- Normalized (trimmed, lowercased).
    email TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'replaced')),
    expires_at BIGINT NOT NULL,
    user_id BIGINT REFERENCES users(id),
    verified_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX join_requests_org_email ON join_requests(organization_id, email, status);
