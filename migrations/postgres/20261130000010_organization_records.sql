-- How an organization knows a person (names, external id, username, role)
-- moves from the global account to the organization's membership, so one
-- organization's import can never rename or re-identify another's people.
-- The account keeps only what is the person's own: login email, password,
-- and when the email was verified.
ALTER TABLE memberships ADD COLUMN first_name TEXT NOT NULL DEFAULT '';
ALTER TABLE memberships ADD COLUMN last_name TEXT NOT NULL DEFAULT '';
ALTER TABLE memberships ADD COLUMN external_id TEXT;
-- For people without email (young students); unique within the organization only.
ALTER TABLE memberships ADD COLUMN username TEXT;
-- 'pending': an organization added someone whose account it does not own;
-- it becomes 'active' when the person accepts.
ALTER TABLE memberships ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'pending'));
UPDATE memberships m SET first_name = u.first_name, last_name = u.last_name,
                         external_id = u.external_id, username = u.username
FROM users u WHERE u.id = m.user_id;
CREATE UNIQUE INDEX memberships_org_username ON memberships(organization_id, username);

ALTER TABLE users DROP COLUMN first_name, DROP COLUMN last_name, DROP COLUMN external_id,
                  DROP COLUMN username;

-- Addresses already proven by a link (a password reset, since migration 9, set it already): an accepted invitation, a used
-- activation link, a confirmed join request.
UPDATE users SET email_verified_at = created_at
WHERE email_verified_at IS NULL
  AND (id IN (SELECT accepted_user_id FROM invitations WHERE accepted_user_id IS NOT NULL)
       OR id IN (SELECT user_id FROM activation_tokens WHERE status = 'used')
       OR id IN (SELECT user_id FROM join_requests WHERE status = 'verified' AND user_id IS NOT NULL));

-- Confirmation links for addresses nobody has proven yet (a new
-- organization's first admin). Only the SHA-256 of the token is stored.
CREATE TABLE email_confirmations (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX email_confirmations_user ON email_confirmations(user_id);

-- Join sign-ups no longer carry a password: it is chosen after the link is opened.
ALTER TABLE join_requests DROP COLUMN password_hash;
