-- Imports: one uploaded roster, its rows as confirmed, and its run. A worker
-- holds a lease on a running import and checkpoints after each batch, so a
-- crashed run resumes where it stopped.
CREATE TABLE imports (
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
    -- Minted by the preview; a resubmitted confirmation finds the same import.
    idempotency_key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'queued', 'running', 'completed', 'completed_with_errors', 'failed', 'cancelled')),
    summary TEXT NOT NULL DEFAULT '',
    total_rows INTEGER NOT NULL,
    -- Rows with position < checkpoint are finished.
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
    UNIQUE (organization_id, idempotency_key)
);
CREATE INDEX imports_org ON imports(organization_id, id);
CREATE INDEX imports_claim ON imports(status, locked_until);

CREATE TABLE import_rows (
    import_id INTEGER NOT NULL REFERENCES imports(id),
    -- Order of execution, from 0.
    position INTEGER NOT NULL,
    -- The row as the admin sees it in the file.
    row_number INTEGER NOT NULL,
    sheet TEXT NOT NULL DEFAULT '',
    email TEXT,
    username TEXT,
    first_name TEXT,
    last_name TEXT,
    external_id TEXT,
    role TEXT,
    expiry_days INTEGER,
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
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    student_id INTEGER NOT NULL REFERENCES users(id),
    related_id INTEGER NOT NULL REFERENCES users(id),
    relation TEXT NOT NULL CHECK (relation IN ('parent', 'instructor')),
    created_at INTEGER NOT NULL,
    UNIQUE (organization_id, student_id, related_id, relation)
);

