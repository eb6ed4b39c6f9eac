-- Invitations, group memberships, trainings assigned, and the outbox every
-- email goes through (also the dev mailbox when no SMTP host is configured).
CREATE TABLE invitations (
    id BIGSERIAL PRIMARY KEY,
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    group_id BIGINT NOT NULL REFERENCES learning_groups(id),
    contract_id BIGINT REFERENCES contracts(id),
    import_id BIGINT,
    -- Normalized (trimmed, lowercased).
    email TEXT NOT NULL,
    -- SHA-256 (hex) of the token in the link; the token itself is never stored.
    token_hash TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'cancelled', 'expired')),
    expires_at BIGINT NOT NULL,
    invited_by BIGINT REFERENCES users(id),
    accepted_user_id BIGINT REFERENCES users(id),
    accepted_at BIGINT,
    resend_count BIGINT NOT NULL DEFAULT 0,
    last_sent_at BIGINT,
    last_outbox_id BIGINT,
    created_at BIGINT NOT NULL
);
-- At most one live invitation per person and group.
CREATE UNIQUE INDEX invitations_one_pending ON invitations(group_id, email) WHERE status = 'pending';
CREATE INDEX invitations_org_status ON invitations(organization_id, status, id);
CREATE INDEX invitations_org_email ON invitations(organization_id, email);

CREATE TABLE group_memberships (
    id BIGSERIAL PRIMARY KEY,
    group_id BIGINT NOT NULL REFERENCES learning_groups(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    status TEXT NOT NULL CHECK (status IN ('active', 'removed')),
    invitation_id BIGINT REFERENCES invitations(id),
    created_at BIGINT NOT NULL,
    UNIQUE (group_id, user_id)
);
CREATE INDEX group_memberships_user ON group_memberships(user_id);

CREATE TABLE training_assignments (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    -- No foreign key: editing a group rewrites its trainings (see groups.rs).
    training_id BIGINT NOT NULL,
    group_id BIGINT NOT NULL REFERENCES learning_groups(id),
    assigned_at BIGINT NOT NULL,
    UNIQUE (user_id, training_id)
);

CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    organization_id BIGINT REFERENCES organizations(id),
    to_email TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    -- invitation, welcome, ...
    kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    message_id TEXT,
    -- A sender holds a claimed row until locked_until; lease_owner tells whose claim it is.
    locked_until BIGINT,
    lease_owner TEXT,
    -- 1 when delivered into the dev mailbox instead of over SMTP.
    delivered_to_dev_mailbox BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at, id);
CREATE INDEX outbox_org_to ON outbox(organization_id, to_email, kind, created_at);
