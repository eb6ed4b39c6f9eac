-- An outbox row is an intent: its kind, recipient, organization, what it is
-- about (`about_id`, in the table its kind names) and the few parameters
-- its template needs (`params`, JSON, a link's token sealed inside). The
-- sender renders the message as it delivers it. The message columns stay
-- for rows queued before this version (delivered as stored) and for what
-- the dev mailbox keeps, so they are nullable now.
ALTER TABLE outbox ADD COLUMN about_id BIGINT;
ALTER TABLE outbox ADD COLUMN params TEXT;
ALTER TABLE outbox ALTER COLUMN subject DROP NOT NULL;
ALTER TABLE outbox ALTER COLUMN text_body DROP NOT NULL;
ALTER TABLE outbox ALTER COLUMN html_body DROP NOT NULL;
-- Every row can be delivered: from its intent, or as stored.
ALTER TABLE outbox ADD CONSTRAINT outbox_deliverable
    CHECK (params IS NOT NULL OR (subject IS NOT NULL AND text_body IS NOT NULL AND html_body IS NOT NULL));
