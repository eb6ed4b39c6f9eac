-- Times are unix seconds and flags are integers so that the same queries run
-- unchanged on SQLite and PostgreSQL through sqlx::Any.
CREATE TABLE organizations (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    -- Normalized (trimmed, lowercased) so uniqueness is case-insensitive.
    email TEXT UNIQUE,
    username TEXT UNIQUE,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    external_id TEXT,
    password_hash TEXT,
    status TEXT NOT NULL CHECK (status IN ('invited', 'provisioned', 'active')),
    created_at BIGINT NOT NULL
);

CREATE TABLE memberships (
    id BIGSERIAL PRIMARY KEY,
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL CHECK (role IN ('admin', 'instructor', 'learner', 'parent')),
    created_at BIGINT NOT NULL,
    UNIQUE (organization_id, user_id)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE learning_groups (
    id BIGSERIAL PRIMARY KEY,
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    default_expiry_days BIGINT NOT NULL DEFAULT 30,
    created_at BIGINT NOT NULL,
    UNIQUE (organization_id, name_key)
);

CREATE TABLE trainings (
    id BIGSERIAL PRIMARY KEY,
    group_id BIGINT NOT NULL REFERENCES learning_groups(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    position BIGINT NOT NULL
);

CREATE TABLE contracts (
    id BIGSERIAL PRIMARY KEY,
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    seat_limit BIGINT NOT NULL,
    -- ISO date (YYYY-MM-DD); NULL means open-ended.
    ends_on TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (organization_id, name_key)
);

CREATE INDEX memberships_user ON memberships(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);
CREATE INDEX trainings_group ON trainings(group_id, position);
