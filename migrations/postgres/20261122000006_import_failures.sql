-- Consecutive failed batches of a running import; after five it is marked failed.
ALTER TABLE imports ADD COLUMN failures BIGINT NOT NULL DEFAULT 0;
