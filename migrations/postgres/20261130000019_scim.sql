-- SCIM provisioning (/scim/v2): an identity provider deactivates a person
-- in one organization ('deactivated': they cannot sign in to it, its
-- sessions and tokens stop, their account and other organizations are
-- untouched) and finds people by the external id it gave them.
-- Reactivating restores what the record was before: 'active', or
-- 'pending' when the person never accepted it.
ALTER TABLE memberships DROP CONSTRAINT memberships_status_check;
ALTER TABLE memberships ADD CONSTRAINT memberships_status_check
    CHECK (status IN ('active', 'pending', 'deactivated'));
-- Set while deactivated: what reactivating makes the record again.
ALTER TABLE memberships ADD COLUMN reactivates_as TEXT CHECK (reactivates_as IN ('active', 'pending'));
ALTER TABLE memberships ADD COLUMN deactivated_at BIGINT;
CREATE INDEX memberships_org_external_id ON memberships(organization_id, external_id);
