-- Undo and sync (#19). An import records what it did as it runs (its
-- effects, written in the transaction of the batch that did them), so that
-- an undo reverses exactly that and nothing else. Invitations already name
-- their import (`invitations.import_id`).
CREATE TABLE import_effects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    import_id INTEGER NOT NULL REFERENCES imports(id),
    -- 'membership': memberships.id of a person the import added to the
    -- organization; 'group_membership': group_memberships.id of a person it
    -- put in a group.
    effect TEXT NOT NULL CHECK (effect IN ('membership', 'group_membership')),
    target_id INTEGER NOT NULL,
    UNIQUE (import_id, effect, target_id)
);

-- One undo per import: its own durable job, claimed with a lease like an
-- import and moved forward by a checkpoint committed with each batch.
CREATE TABLE import_undos (
    import_id INTEGER PRIMARY KEY REFERENCES imports(id),
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    requested_by INTEGER NOT NULL REFERENCES users(id),
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    -- Work still to do: pending invitations, then the group memberships it
    -- added, then the people it added; within a phase, effects with id > checkpoint.
    phase TEXT NOT NULL DEFAULT 'invitations' CHECK (phase IN ('invitations', 'group_memberships', 'memberships')),
    checkpoint INTEGER NOT NULL DEFAULT 0,
    -- What the dry run counted when the admin confirmed (the progress bar's total).
    planned INTEGER NOT NULL DEFAULT 0,
    invitations_cancelled INTEGER NOT NULL DEFAULT 0,
    group_memberships_ended INTEGER NOT NULL DEFAULT 0,
    accounts_deactivated INTEGER NOT NULL DEFAULT 0,
    kept INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    locked_until INTEGER,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX import_undos_claim ON import_undos(status, locked_until);

-- Sync imports: "this file is the whole group". The mass-change guard
-- stops one that would remove more than the organization's threshold as
-- 'needs_approval'; `leaving` is how many people it would remove.
-- SQLite cannot change a CHECK, so `imports` is rebuilt (db.rs runs
-- SQLite's migrations with foreign keys off and checks them afterwards).
CREATE TABLE imports_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    created_by INTEGER NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    group_id INTEGER REFERENCES learning_groups(id),
    contract_id INTEGER REFERENCES contracts(id),
    send_emails INTEGER NOT NULL,
    auto_invite INTEGER NOT NULL,
    expiry_days INTEGER NOT NULL,
    source_name TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'queued', 'running', 'completed', 'completed_with_errors', 'failed', 'cancelled', 'needs_approval')),
    summary TEXT NOT NULL DEFAULT '',
    total_rows INTEGER NOT NULL,
    checkpoint INTEGER NOT NULL DEFAULT 0,
    succeeded INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    locked_until INTEGER,
    error TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    failures INTEGER NOT NULL DEFAULT 0,
    last_batch_seq INTEGER NOT NULL DEFAULT 0,
    sync INTEGER NOT NULL DEFAULT 0,
    leaving INTEGER NOT NULL DEFAULT 0,
    UNIQUE (organization_id, idempotency_key)
);
INSERT INTO imports_rebuilt (id, organization_id, created_by, kind, group_id, contract_id, send_emails,
        auto_invite, expiry_days, source_name, idempotency_key, status, summary, total_rows, checkpoint,
        succeeded, skipped, failed, cancel_requested, lease_owner, locked_until, error, created_at,
        started_at, finished_at, failures, last_batch_seq)
    SELECT id, organization_id, created_by, kind, group_id, contract_id, send_emails,
        auto_invite, expiry_days, source_name, idempotency_key, status, summary, total_rows, checkpoint,
        succeeded, skipped, failed, cancel_requested, lease_owner, locked_until, error, created_at,
        started_at, finished_at, failures, last_batch_seq FROM imports;
DROP TABLE imports;
ALTER TABLE imports_rebuilt RENAME TO imports;
CREATE INDEX imports_org ON imports(organization_id, id);
CREATE INDEX imports_claim ON imports(status, locked_until);

-- The share of a group (in percent) a sync may remove without an admin's
-- typed approval.
ALTER TABLE organizations ADD COLUMN sync_guard_percent INTEGER NOT NULL DEFAULT 10;
