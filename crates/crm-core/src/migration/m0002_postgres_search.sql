-- PostgreSQL: trigram indexes (pg_trgm) for substring search. When the extension cannot
-- be created (no privilege), the migration logs a warning and search falls back to scans.
CREATE INDEX contacts_search_trgm_idx ON contacts USING gin (search_text gin_trgm_ops);
CREATE INDEX companies_name_trgm_idx ON companies USING gin (name_key gin_trgm_ops);
