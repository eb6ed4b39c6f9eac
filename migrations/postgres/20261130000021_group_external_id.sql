-- The identity provider's own id for a group it provisions through SCIM
-- (`externalId`, RFC 7643 §3.1), so it can find the group again by it.
ALTER TABLE learning_groups ADD COLUMN external_id TEXT;
