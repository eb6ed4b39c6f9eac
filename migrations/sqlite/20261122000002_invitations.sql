-- Invitations, group memberships, trainings assigned, and the outbox every
-- email goes through (also the dev mailbox when no SMTP host is configured).
CREATE TABLE invitations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    group_id INTEGER NOT NULL REFERENCES learning_groups(id),
    contract_id INTEGER REFERENCES contracts(id),
    import_id INTEGER,
    -- Normalized (trimmed, lowercased).
    email TEXT NOT NULL,
    -- SHA-256 (hex) of the token in the link; the token itself is never stored.
    token_hash TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'cancelled', 'expired')),
    expires_at INTEGER NOT NULL,
    invited_by INTEGER REFERENCES users(id),
    accepted_user_id INTEGER REFERENCES users(id),
    accepted_at INTEGER,
    resend_count INTEGER NOT NULL DEFAULT 0,
    last_sent_at INTEGER,
    last_outbox_id INTEGER,
    created_at INTEGER NOT NULL
);
-- At most one live invitation per person and group.
CREATE UNIQUE INDEX invitations_one_pending ON invitations(group_id, email) WHERE status = 'pending';
CREATE INDEX invitations_org_status ON invitations(organization_id, status, id);
CREATE INDEX invitations_org_email ON invitations(organization_id, email);

CREATE TABLE group_memberships (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id INTEGER NOT NULL REFERENCES learning_groups(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    status TEXT NOT NULL CHECK (status IN ('active', 'removed')),
    invitation_id INTEGER REFERENCES invitations(id),
    created_at INTEGER NOT NULL,
    UNIQUE (group_id, user_id)
);
CREATE INDEX group_memberships_user ON group_memberships(user_id);

CREATE TABLE training_assignments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id),
    -- No foreign key: editing a group rewrites its trainings (see groups.rs).
    training_id INTEGER NOT NULL,
    group_id INTEGER NOT NULL REFERENCES learning_groups(id),
    assigned_at INTEGER NOT NULL,
    UNIQUE (user_id, training_id)
);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id INTEGER REFERENCES organizations(id),
    to_email TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    -- invitation, welcome, ...
    kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    message_id TEXT,
    -- A sender holds a claimed row until locked_until; lease_owner tells whose claim it is.
    locked_until INTEGER,
    lease_owner TEXT,
    -- 1 when delivered into the dev mailbox instead of over SMTP.
    delivered_to_dev_mailbox INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at, id);
CREATE INDEX outbox_org_to ON outbox(organization_id, to_email, kind, created_at);
