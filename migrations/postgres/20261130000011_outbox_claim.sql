-- The sender's claim walks queued rows in id order: an index over queued
-- rows only keeps its cost independent of how many sent rows the outbox
-- holds (the old index made every claim sort every due row). The claim
-- names the status as a literal so that both databases can use it.
CREATE INDEX outbox_queued ON outbox(id) WHERE status = 'queued';
