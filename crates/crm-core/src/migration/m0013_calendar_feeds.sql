-- Personal calendar feeds: one per user; the secret in the feed's URL is its credential
-- and is stored only as its SHA-256 (hex), like sessions and API tokens.
CREATE TABLE calendar_feeds (
  user_id {uuid} PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  token_hash TEXT NOT NULL,
  created_at {ts} NOT NULL
);
CREATE UNIQUE INDEX calendar_feeds_token_hash_key ON calendar_feeds (token_hash);
