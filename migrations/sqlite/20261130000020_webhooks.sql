-- Webhooks: HTTPS endpoints an admin registers per event, and one delivery
-- row per event and endpoint, sent by the webhook sender under a lease
-- (the outbox's machinery) and signed the Standard Webhooks way.
CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    url TEXT NOT NULL,
    -- The subscribed event types as a JSON array of strings
    -- (app::webhooks::EventType), matched with LIKE '%"type"%'.
    events TEXT NOT NULL,
    -- `whsec_…`, sealed with MUSTER_SECRET_KEY (app::mail::seal): a backup
    -- or a replica cannot sign deliveries.
    secret TEXT NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    disabled_at INTEGER
);
CREATE INDEX webhook_endpoints_by_organization ON webhook_endpoints (organization_id);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints(id),
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    event_type TEXT NOT NULL,
    -- `msg_…`, the `webhook-id` header: the same for every endpoint of one
    -- event and for a "send again", so receivers can tell repeats.
    message_id TEXT NOT NULL,
    -- The exact body sent and signed.
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    locked_until INTEGER,
    lease_owner TEXT,
    last_status_code INTEGER,
    -- Every attempt's HTTP status, or '-' where none came, space-separated
    -- ("500 200"): the log shows how a delivery went, not only its end.
    answers TEXT NOT NULL DEFAULT '',
    last_error TEXT,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER
);
CREATE INDEX webhook_deliveries_queued ON webhook_deliveries (id) WHERE status = 'queued';
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, id);
