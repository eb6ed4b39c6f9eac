-- Delivery status per person: an import's page finds the invitations of its
-- rows (import and email) to show, filter and count where their emails
-- stand; an invitation's latest email is its last_outbox_id.
CREATE INDEX invitations_import ON invitations(import_id, email) WHERE import_id IS NOT NULL;
