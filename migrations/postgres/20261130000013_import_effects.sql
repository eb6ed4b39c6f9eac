-- Undo and sync (#19). An import records what it did as it runs (its
-- effects, written in the transaction of the batch that did them), so that
-- an undo reverses exactly that and nothing else. Invitations already name
-- their import (`invitations.import_id`).
CREATE TABLE import_effects (
    id BIGSERIAL PRIMARY KEY,
    import_id BIGINT NOT NULL REFERENCES imports(id),
    -- 'membership': memberships.id of a person the import added to the
    -- organization; 'group_membership': group_memberships.id of a person it
    -- put in a group.
    effect TEXT NOT NULL CHECK (effect IN ('membership', 'group_membership')),
    target_id BIGINT NOT NULL,
    UNIQUE (import_id, effect, target_id)
);

-- One undo per import: its own durable job, claimed with a lease like an
-- import and moved forward by a checkpoint committed with each batch.
CREATE TABLE import_undos (
    import_id BIGINT PRIMARY KEY REFERENCES imports(id),
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    requested_by BIGINT NOT NULL REFERENCES users(id),
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    -- Work still to do: pending invitations, then the group memberships it
    -- added, then the people it added; within a phase, effects with id > checkpoint.
    phase TEXT NOT NULL DEFAULT 'invitations' CHECK (phase IN ('invitations', 'group_memberships', 'memberships')),
    checkpoint BIGINT NOT NULL DEFAULT 0,
    -- What the dry run counted when the admin confirmed (the progress bar's total).
    planned BIGINT NOT NULL DEFAULT 0,
    invitations_cancelled BIGINT NOT NULL DEFAULT 0,
    group_memberships_ended BIGINT NOT NULL DEFAULT 0,
    accounts_deactivated BIGINT NOT NULL DEFAULT 0,
    kept BIGINT NOT NULL DEFAULT 0,
    failures BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    locked_until BIGINT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX import_undos_claim ON import_undos(status, locked_until);

-- Sync imports: "this file is the whole group". The mass-change guard
-- stops one that would remove more than the organization's threshold as
-- 'needs_approval'; `leaving` is how many people it would remove.
ALTER TABLE imports DROP CONSTRAINT imports_status_check;
ALTER TABLE imports ADD CONSTRAINT imports_status_check CHECK (status IN ('draft', 'queued', 'running', 'completed', 'completed_with_errors', 'failed', 'cancelled', 'needs_approval'));
ALTER TABLE imports ADD COLUMN sync BIGINT NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN leaving BIGINT NOT NULL DEFAULT 0;

-- The share of a group (in percent) a sync may remove without an admin's
-- typed approval.
ALTER TABLE organizations ADD COLUMN sync_guard_percent BIGINT NOT NULL DEFAULT 10;
