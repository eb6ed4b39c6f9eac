-- The audit log: one row per admin action that changed data, written in the
-- transaction of the change. The actor's name and email are copied as they
-- were, so a record still says who acted after they are renamed.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    -- NULL when Muster itself acted (a scheduled job), not a person.
    actor_user_id INTEGER REFERENCES users(id),
    actor_name TEXT NOT NULL,
    actor_email TEXT NOT NULL,
    -- An AuditAction word, deliberately unconstrained: a feature adds its
    -- actions in the code alone, and a word this version does not know
    -- reads as a fault.
    action TEXT NOT NULL,
    subject_kind TEXT,
    subject_id INTEGER,
    subject_label TEXT NOT NULL DEFAULT '',
    -- How many rows, people or invitations it affected; NULL when that is
    -- not a count (a settings change).
    item_count INTEGER,
    details TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX audit_events_org ON audit_events(organization_id, id);
CREATE INDEX audit_events_org_action ON audit_events(organization_id, action, id);
CREATE INDEX audit_events_org_actor ON audit_events(organization_id, actor_user_id, id);

-- Records are never changed or removed: not by the app (its store only
-- inserts and reads) and not by a stray statement either.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events are append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events are append-only');
END;
