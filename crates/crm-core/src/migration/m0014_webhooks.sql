-- Outbound webhooks. An endpoint subscribes to event types; a change writes one event row
-- (the exact JSON body sent) and one delivery per matching endpoint, in the change's own
-- transaction. Deliveries are claimed by any instance's worker (conditional update on
-- next_attempt_at), retried with backoff for 24 hours, and keep their last response.
CREATE TABLE webhook_endpoints (
  id {uuid} PRIMARY KEY,
  url TEXT NOT NULL,
  description TEXT,
  events TEXT NOT NULL,
  secret TEXT NOT NULL,
  enabled {bool} NOT NULL DEFAULT {true},
  failing_since {ts},
  disabled_reason TEXT,
  created_by {uuid} REFERENCES users(id) ON DELETE SET NULL,
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL
);
CREATE TABLE webhook_events (
  id {uuid} PRIMARY KEY,
  event_type TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at {ts} NOT NULL
);
CREATE TABLE webhook_deliveries (
  id {uuid} PRIMARY KEY,
  endpoint_id {uuid} NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  event_id {uuid} NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
  event_type TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at {ts} NOT NULL,
  response_status INTEGER,
  duration_ms INTEGER,
  response_body TEXT,
  last_error TEXT,
  delivered_at {ts},
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);
