-- What an identity provider states through SCIM beyond Muster's own fields,
-- kept so that it reads back as stated: its id of a group (`externalId`,
-- RFC 7643 §3.1), and the `type` and `primary` it gave a person's address.
ALTER TABLE learning_groups ADD COLUMN external_id TEXT;
ALTER TABLE memberships ADD COLUMN email_type TEXT;
ALTER TABLE memberships ADD COLUMN email_primary BIGINT;
