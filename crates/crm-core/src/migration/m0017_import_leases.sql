-- An import's file and plan live in the database while the job runs (a table of their
-- own, so reading a job's progress never loads its file), and the job is claimed with a
-- lease renewed with each committed batch: when its instance dies, another takes the job
-- over from the last committed batch. Additive: an older instance keeps working beside a
-- newer one.
CREATE TABLE import_files (
  import_id {uuid} PRIMARY KEY REFERENCES imports (id) ON DELETE CASCADE,
  content {blob} NOT NULL,
  -- {"encoding": "utf-8", "mapping": ["firstName", null, …]}: how the file is read
  plan TEXT NOT NULL
);
-- the claim: a token of the claiming worker, and until when it holds the job
ALTER TABLE imports ADD COLUMN claimed_by {uuid};
ALTER TABLE imports ADD COLUMN lease_until {ts};
CREATE INDEX imports_lease_idx ON imports (status, lease_until);
