-- Covering indexes for the kanban (per-stage count, sum and top cards by value) and for
-- activity lists filtered by type (filter + newest-first order in one index).
CREATE INDEX deals_stage_value_idx ON deals (stage, value_cents);
CREATE INDEX deals_user_stage_value_idx ON deals (user_id, stage, value_cents);
CREATE INDEX activities_type_created_idx ON activities (type, created_at);
CREATE INDEX activities_user_type_created_idx ON activities (user_id, type, created_at);
