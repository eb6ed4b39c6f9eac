-- Imports: one uploaded roster, its rows as confirmed, and its run. A worker
-- holds a lease on a running import and checkpoints after each batch, so a
-- crashed run resumes where it stopped.
CREATE TABLE imports (
    id BIGSERIAL PRIMARY KEY,
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    created_by BIGINT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    group_id BIGINT REFERENCES learning_groups(id),
    contract_id BIGINT REFERENCES contracts(id),
    send_emails BIGINT NOT NULL,
    auto_invite BIGINT NOT NULL,
    expiry_days BIGINT NOT NULL,
    source_name TEXT NOT NULL,
    -- Minted by the preview; a resubmitted confirmation finds the same import.
    idempotency_key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'queued', 'running', 'completed', 'completed_with_errors', 'failed', 'cancelled')),
    summary TEXT NOT NULL DEFAULT '',
    total_rows BIGINT NOT NULL,
    -- Rows with position < checkpoint are finished.
    checkpoint BIGINT NOT NULL DEFAULT 0,
    succeeded BIGINT NOT NULL DEFAULT 0,
    skipped BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    cancel_requested BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    locked_until BIGINT,
    error TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    UNIQUE (organization_id, idempotency_key)
);
CREATE INDEX imports_org ON imports(organization_id, id);
CREATE INDEX imports_claim ON imports(status, locked_until);

CREATE TABLE import_rows (
    import_id BIGINT NOT NULL REFERENCES imports(id),
    -- Order of execution, from 0.
    position BIGINT NOT NULL,
    -- The row as the admin sees it in the file.
    row_number BIGINT NOT NULL,
    sheet TEXT NOT NULL DEFAULT '',
    email TEXT,
    username TEXT,
    first_name TEXT,
    last_name TEXT,
    external_id TEXT,
    role TEXT,
    expiry_days BIGINT,
    -- Group names, ';'-separated (Group members); associations as JSON (People).
    groups TEXT,
    links TEXT,
    -- The cells as confirmed (JSON object header → text), for the failed-rows file.
    input TEXT NOT NULL,
    planned_action TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'success', 'skipped', 'error')),
    message TEXT,
    PRIMARY KEY (import_id, position)
);
CREATE INDEX import_rows_status ON import_rows(import_id, status, position);

-- Student ↔ parent and student ↔ instructor links created by People imports.
CREATE TABLE associations (
    id BIGSERIAL PRIMARY KEY,
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    student_id BIGINT NOT NULL REFERENCES users(id),
    related_id BIGINT NOT NULL REFERENCES users(id),
    relation TEXT NOT NULL CHECK (relation IN ('parent', 'instructor')),
    created_at BIGINT NOT NULL,
    UNIQUE (organization_id, student_id, related_id, relation)
);

