-- The sender claims through the partial index `outbox_queued`; nothing reads
-- `outbox_due` any more, and every message paid for it twice (queued, then
-- sent).
DROP INDEX outbox_due;
