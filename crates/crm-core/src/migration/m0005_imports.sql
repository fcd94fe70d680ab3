-- CSV import: the jobs (one row per import, counters updated in the same transaction as
-- each batch of rows), the rejected rows of each job (errors.csv), and uploads waiting on
-- the preview page for the user to confirm the column mapping.
CREATE TABLE imports (
  id {uuid} PRIMARY KEY,
  kind TEXT NOT NULL,
  user_id {uuid} REFERENCES users (id) ON DELETE CASCADE,
  owner_id {uuid} REFERENCES users (id) ON DELETE SET NULL,
  file_name TEXT NOT NULL,
  header TEXT NOT NULL,
  on_duplicate TEXT NOT NULL,
  status TEXT NOT NULL,
  total BIGINT NOT NULL DEFAULT 0,
  processed BIGINT NOT NULL DEFAULT 0,
  created BIGINT NOT NULL DEFAULT 0,
  updated BIGINT NOT NULL DEFAULT 0,
  skipped BIGINT NOT NULL DEFAULT 0,
  failed BIGINT NOT NULL DEFAULT 0,
  companies_created BIGINT NOT NULL DEFAULT 0,
  last_line BIGINT NOT NULL DEFAULT 0,
  message TEXT,
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  finished_at {ts}
);
CREATE INDEX imports_user_idx ON imports (user_id, created_at);
CREATE INDEX imports_status_idx ON imports (status);

CREATE TABLE import_errors (
  id {uuid} PRIMARY KEY,
  import_id {uuid} NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
  line BIGINT NOT NULL,
  message TEXT NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX import_errors_import_idx ON import_errors (import_id, line);

CREATE TABLE import_uploads (
  id {uuid} PRIMARY KEY,
  user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  file_name TEXT NOT NULL,
  content {blob} NOT NULL,
  created_at {ts} NOT NULL
);
CREATE INDEX import_uploads_user_idx ON import_uploads (user_id, created_at);
