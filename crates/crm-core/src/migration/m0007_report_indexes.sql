-- Covering indexes for the reports' date-range reads, so they never visit table rows:
-- activities per contact in a range, deals per company, task completion and overdue trend.
CREATE INDEX activities_created_contact_idx ON activities (created_at, contact_id);
CREATE INDEX activities_user_created_contact_idx ON activities (user_id, created_at, contact_id);
CREATE INDEX contacts_id_company_idx ON contacts (id, company_id);
CREATE INDEX deals_company_value_idx ON deals (company_id, value_cents);
CREATE INDEX deals_user_company_value_idx ON deals (user_id, company_id, value_cents);
CREATE INDEX deals_created_cover_idx ON deals (created_at, company_id, contact_id, value_cents);
CREATE INDEX tasks_due_cover_idx ON tasks (due_date, completed, completed_at);
CREATE INDEX tasks_user_due_cover_idx ON tasks (user_id, due_date, completed, completed_at);
CREATE INDEX tasks_completed_cover_idx ON tasks (completed_at, completed, created_at, due_date);
CREATE INDEX tasks_user_completed_cover_idx ON tasks (user_id, completed_at, completed, created_at, due_date);
