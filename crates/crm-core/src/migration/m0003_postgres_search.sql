-- PostgreSQL: trigram indexes for the global search of activities, tasks and deals.
CREATE INDEX activities_subject_trgm_idx ON activities USING gin (lower(subject) gin_trgm_ops);
CREATE INDEX activities_description_trgm_idx ON activities USING gin (lower(description) gin_trgm_ops);
CREATE INDEX tasks_title_trgm_idx ON tasks USING gin (lower(title) gin_trgm_ops);
CREATE INDEX tasks_description_trgm_idx ON tasks USING gin (lower(description) gin_trgm_ops);
CREATE INDEX deals_name_trgm_idx ON deals USING gin (lower(name) gin_trgm_ops);
CREATE INDEX deals_description_trgm_idx ON deals USING gin (lower(description) gin_trgm_ops);
