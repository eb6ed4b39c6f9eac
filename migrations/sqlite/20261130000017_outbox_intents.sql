-- An outbox row is an intent: its kind, recipient, organization, what it is
-- about (`about_id`, in the table its kind names) and the few parameters
-- its template needs (`params`, JSON, a link's token sealed inside). The
-- sender renders the message as it delivers it. The message columns stay
-- for rows queued before this version (delivered as stored) and for what
-- the dev mailbox keeps, so they are nullable now: SQLite rebuilds the
-- table for that (no table refers to outbox by a foreign key).
CREATE TABLE outbox_intents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id INTEGER REFERENCES organizations(id),
    to_email TEXT NOT NULL,
    kind TEXT NOT NULL,
    about_id INTEGER,
    params TEXT,
    subject TEXT,
    text_body TEXT,
    html_body TEXT,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    message_id TEXT,
    locked_until INTEGER,
    lease_owner TEXT,
    delivered_to_dev_mailbox INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    -- Every row can be delivered: from its intent, or as stored.
    CHECK (params IS NOT NULL OR (subject IS NOT NULL AND text_body IS NOT NULL AND html_body IS NOT NULL))
);
INSERT INTO outbox_intents (id, organization_id, to_email, kind, subject, text_body, html_body,
                            status, attempts, next_attempt_at, last_error, message_id,
                            locked_until, lease_owner, delivered_to_dev_mailbox, created_at, sent_at)
SELECT id, organization_id, to_email, kind, subject, text_body, html_body,
       status, attempts, next_attempt_at, last_error, message_id,
       locked_until, lease_owner, delivered_to_dev_mailbox, created_at, sent_at
FROM outbox;
-- Ids never repeat (an invitation points at its latest message by id): the
-- new table continues the old one's sequence, past rows already deleted.
DELETE FROM sqlite_sequence WHERE name = 'outbox_intents';
INSERT INTO sqlite_sequence (name, seq) SELECT 'outbox_intents', seq FROM sqlite_sequence WHERE name = 'outbox';
DROP TABLE outbox;
ALTER TABLE outbox_intents RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, next_attempt_at, id);
CREATE INDEX outbox_org_to ON outbox(organization_id, to_email, kind, created_at);
CREATE INDEX outbox_queued ON outbox(id) WHERE status = 'queued';
