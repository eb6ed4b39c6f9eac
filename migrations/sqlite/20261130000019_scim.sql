-- SCIM provisioning (/scim/v2): an identity provider deactivates a person
-- in one organization ('deactivated': they cannot sign in to it, its
-- sessions and tokens stop, their account and other organizations are
-- untouched) and finds people by the external id it gave them.
-- Reactivating restores what the record was before: 'active', or
-- 'pending' when the person never accepted it.
-- SQLite cannot change a CHECK, so `memberships` is rebuilt (db.rs runs
-- SQLite's migrations with foreign keys off and checks every reference
-- afterwards); ids continue the old sequence (import effects name them).
CREATE TABLE memberships_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    role TEXT NOT NULL CHECK (role IN ('admin', 'instructor', 'learner', 'parent')),
    created_at INTEGER NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    external_id TEXT,
    username TEXT,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'pending', 'deactivated')),
    -- Set while deactivated: what reactivating makes the record again.
    reactivates_as TEXT CHECK (reactivates_as IN ('active', 'pending')),
    deactivated_at INTEGER,
    UNIQUE (organization_id, user_id)
);
INSERT INTO memberships_rebuilt (id, organization_id, user_id, role, created_at, first_name,
                                 last_name, external_id, username, status)
SELECT id, organization_id, user_id, role, created_at, first_name, last_name, external_id,
       username, status
FROM memberships;
DELETE FROM sqlite_sequence WHERE name = 'memberships_rebuilt';
INSERT INTO sqlite_sequence (name, seq) SELECT 'memberships_rebuilt', seq FROM sqlite_sequence WHERE name = 'memberships';
DROP TABLE memberships;
ALTER TABLE memberships_rebuilt RENAME TO memberships;
CREATE INDEX memberships_user ON memberships(user_id);
CREATE UNIQUE INDEX memberships_org_username ON memberships(organization_id, username);
CREATE INDEX memberships_org_external_id ON memberships(organization_id, external_id);
