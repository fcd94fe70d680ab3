-- The complete data model. Written once for both databases; {uuid} {ts} {bool} {false}
-- {true} are replaced per backend by migration/mod.rs.

CREATE TABLE users (
  id {uuid} PRIMARY KEY,
  email TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  name TEXT NOT NULL,
  role TEXT NOT NULL DEFAULT 'rep',
  avatar TEXT,
  bio TEXT,
  is_active {bool} NOT NULL DEFAULT {true},
  email_verified_at {ts},
  two_factor_enabled {bool} NOT NULL DEFAULT {false},
  two_factor_secret TEXT,
  two_factor_last_step BIGINT,
  last_sign_in_ip TEXT,
  last_sign_in_at {ts},
  failed_sign_ins INTEGER NOT NULL DEFAULT 0,
  locked_until {ts},
  is_demo {bool} NOT NULL DEFAULT {false},
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_role_idx ON users (role);
CREATE INDEX users_is_active_idx ON users (is_active);

CREATE TABLE sessions (
  id {uuid} PRIMARY KEY,
  token_hash TEXT NOT NULL,
  user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  two_factor_pending {bool} NOT NULL DEFAULT {false},
  ip TEXT,
  user_agent TEXT,
  created_at {ts} NOT NULL,
  last_seen_at {ts} NOT NULL,
  expires_at {ts} NOT NULL
);
CREATE UNIQUE INDEX sessions_token_hash_key ON sessions (token_hash);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE verification_tokens (
  id {uuid} PRIMARY KEY,
  user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  expires_at {ts} NOT NULL,
  used_at {ts},
  created_at {ts} NOT NULL
);
CREATE UNIQUE INDEX verification_tokens_token_hash_key ON verification_tokens (token_hash);
CREATE INDEX verification_tokens_user_id_idx ON verification_tokens (user_id, purpose);

CREATE TABLE sign_in_history (
  id {uuid} PRIMARY KEY,
  user_id {uuid} REFERENCES users (id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  ip_address TEXT NOT NULL,
  user_agent TEXT,
  success {bool} NOT NULL,
  failure_reason TEXT,
  created_at {ts} NOT NULL
);
CREATE INDEX sign_in_history_user_id_idx ON sign_in_history (user_id, created_at);
CREATE INDEX sign_in_history_ip_idx ON sign_in_history (ip_address);
CREATE INDEX sign_in_history_created_at_idx ON sign_in_history (created_at);

CREATE TABLE backup_codes (
  id {uuid} PRIMARY KEY,
  user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash TEXT NOT NULL,
  used_at {ts},
  created_at {ts} NOT NULL
);
CREATE INDEX backup_codes_user_id_idx ON backup_codes (user_id);

CREATE TABLE api_tokens (
  id {uuid} PRIMARY KEY,
  user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  token_prefix TEXT NOT NULL,
  last_used_at {ts},
  expires_at {ts},
  created_at {ts} NOT NULL
);
CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);
CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);

CREATE TABLE audit_log (
  id {uuid} PRIMARY KEY,
  actor_id {uuid} REFERENCES users (id) ON DELETE SET NULL,
  action TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity_id TEXT,
  changes TEXT,
  ip_address TEXT,
  created_at {ts} NOT NULL
);
CREATE INDEX audit_log_created_at_idx ON audit_log (created_at);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id);
CREATE INDEX audit_log_actor_id_idx ON audit_log (actor_id, created_at);

CREATE TABLE app_settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at {ts} NOT NULL
);

CREATE TABLE companies (
  id {uuid} PRIMARY KEY,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  industry TEXT,
  website TEXT,
  phone TEXT,
  address TEXT,
  employee_count BIGINT,
  revenue_cents BIGINT,
  is_demo {bool} NOT NULL DEFAULT {false},
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL
);
CREATE UNIQUE INDEX companies_name_key ON companies (name_key);
CREATE INDEX companies_industry_idx ON companies (industry, created_at);
CREATE INDEX companies_created_at_idx ON companies (created_at);

CREATE TABLE contacts (
  id {uuid} PRIMARY KEY,
  first_name TEXT NOT NULL,
  last_name TEXT NOT NULL,
  email TEXT NOT NULL,
  phone_number TEXT,
  phone_key TEXT,
  status TEXT NOT NULL DEFAULT 'lead',
  job_title TEXT,
  company_id {uuid} REFERENCES companies (id) ON DELETE SET NULL,
  user_id {uuid} REFERENCES users (id) ON DELETE SET NULL,
  search_text TEXT NOT NULL,
  is_demo {bool} NOT NULL DEFAULT {false},
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL
);
CREATE UNIQUE INDEX contacts_email_key ON contacts (email);
CREATE UNIQUE INDEX contacts_phone_key ON contacts (phone_key);
CREATE INDEX contacts_created_at_idx ON contacts (created_at);
CREATE INDEX contacts_status_idx ON contacts (status, created_at);
CREATE INDEX contacts_company_id_idx ON contacts (company_id);
CREATE INDEX contacts_user_id_idx ON contacts (user_id, created_at);
CREATE INDEX contacts_name_idx ON contacts (first_name, last_name);

CREATE TABLE activities (
  id {uuid} PRIMARY KEY,
  type TEXT NOT NULL,
  subject TEXT NOT NULL,
  description TEXT,
  contact_id {uuid} NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
  user_id {uuid} REFERENCES users (id) ON DELETE SET NULL,
  is_demo {bool} NOT NULL DEFAULT {false},
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL
);
CREATE INDEX activities_contact_id_idx ON activities (contact_id, created_at);
CREATE INDEX activities_created_at_idx ON activities (created_at);
CREATE INDEX activities_type_idx ON activities (type);
CREATE INDEX activities_user_id_idx ON activities (user_id, created_at);

CREATE TABLE tasks (
  id {uuid} PRIMARY KEY,
  title TEXT NOT NULL,
  description TEXT,
  due_date {ts} NOT NULL,
  priority TEXT NOT NULL DEFAULT 'medium',
  completed {bool} NOT NULL DEFAULT {false},
  completed_at {ts},
  contact_id {uuid} NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
  user_id {uuid} REFERENCES users (id) ON DELETE SET NULL,
  is_demo {bool} NOT NULL DEFAULT {false},
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL
);
CREATE INDEX tasks_contact_id_idx ON tasks (contact_id);
CREATE INDEX tasks_due_date_idx ON tasks (completed, due_date);
CREATE INDEX tasks_priority_idx ON tasks (priority);
CREATE INDEX tasks_user_id_idx ON tasks (user_id, completed, due_date);

CREATE TABLE deals (
  id {uuid} PRIMARY KEY,
  name TEXT NOT NULL,
  value_cents BIGINT NOT NULL,
  stage TEXT NOT NULL DEFAULT 'lead',
  status TEXT NOT NULL DEFAULT 'open',
  expected_close_date {ts} NOT NULL,
  actual_close_date {ts},
  probability INTEGER NOT NULL DEFAULT 0,
  description TEXT,
  contact_id {uuid} NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
  company_id {uuid} REFERENCES companies (id) ON DELETE SET NULL,
  user_id {uuid} REFERENCES users (id) ON DELETE SET NULL,
  is_demo {bool} NOT NULL DEFAULT {false},
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL
);
CREATE INDEX deals_contact_id_idx ON deals (contact_id);
CREATE INDEX deals_stage_idx ON deals (stage);
CREATE INDEX deals_status_idx ON deals (status);
CREATE INDEX deals_expected_close_date_idx ON deals (expected_close_date);
CREATE INDEX deals_actual_close_date_idx ON deals (actual_close_date);
CREATE INDEX deals_company_id_idx ON deals (company_id);
CREATE INDEX deals_user_id_idx ON deals (user_id, created_at);
CREATE INDEX deals_created_at_idx ON deals (created_at);

CREATE TABLE deal_stage_history (
  id {uuid} PRIMARY KEY,
  deal_id {uuid} NOT NULL REFERENCES deals (id) ON DELETE CASCADE,
  from_stage TEXT,
  to_stage TEXT NOT NULL,
  changed_by {uuid} REFERENCES users (id) ON DELETE SET NULL,
  changed_at {ts} NOT NULL
);
CREATE INDEX deal_stage_history_deal_id_idx ON deal_stage_history (deal_id, changed_at);
CREATE INDEX deal_stage_history_changed_at_idx ON deal_stage_history (changed_at);
CREATE INDEX deal_stage_history_to_stage_idx ON deal_stage_history (to_stage);
