-- Which import a worker served most recently: workers take the organization
-- (and, within it, the import) served longest ago first, so a small import
-- starts within one batch of being confirmed whatever else is running.
ALTER TABLE imports ADD COLUMN last_batch_seq BIGINT NOT NULL DEFAULT 0;
