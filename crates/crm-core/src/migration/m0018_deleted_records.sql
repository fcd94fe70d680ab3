-- Deleted deals, tasks and activities, kept for an hour so the one who deleted one can undo
-- it (the toast's Undo): the row as it was (JSON) and what went with it (a deal's stage
-- history). Pruned on each delete.
CREATE TABLE deleted_records (
  id {uuid} PRIMARY KEY,
  kind TEXT NOT NULL,
  owner_id {uuid},
  data TEXT NOT NULL,
  deleted_by {uuid} REFERENCES users (id) ON DELETE CASCADE,
  deleted_at {ts} NOT NULL
);
CREATE INDEX deleted_records_deleted_at_idx ON deleted_records (deleted_at);
