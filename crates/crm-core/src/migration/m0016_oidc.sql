-- Sign-in with OpenID Connect: each started sign-in is one short-lived row (state stored
-- as its SHA-256, the nonce and the PKCE verifier), so any instance can finish the flow;
-- the callback deletes it (single use), rows older than 10 minutes are refused and pruned.
CREATE TABLE oidc_states (
  id {uuid} PRIMARY KEY,
  state_hash TEXT NOT NULL,
  provider TEXT NOT NULL,
  nonce TEXT NOT NULL,
  verifier TEXT NOT NULL,
  next_path TEXT NOT NULL,
  created_at {ts} NOT NULL,
  expires_at {ts} NOT NULL
);
CREATE UNIQUE INDEX oidc_states_state_hash_key ON oidc_states (state_hash);
CREATE INDEX oidc_states_expires_at_idx ON oidc_states (expires_at);
-- how each sign-in attempt was made: password, oidc (or github)
ALTER TABLE sign_in_history ADD COLUMN method TEXT NOT NULL DEFAULT 'password';
-- and the method of the user's last successful sign-in (the admin's user list shows SSO)
ALTER TABLE users ADD COLUMN last_sign_in_method TEXT;
