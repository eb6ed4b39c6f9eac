-- A row only needs an index entry by status once it has something to say
-- (an error, a skip, a message): until then it is pending, and whether it
-- is still to run or already succeeded is read against the import's
-- checkpoint, by primary key. Indexing every pending row cost the confirm of
-- a 100,000-row import an index entry per row that nothing looked up.
-- Queries that want this index repeat its condition (`row_status_is`), as
-- SQLite uses a partial index only for a WHERE that names its terms.
DROP INDEX import_rows_status;
CREATE INDEX import_rows_noted ON import_rows(import_id, status, position) WHERE status <> 'pending';
