-- Team invitations: an invited user exists (inactive, unverified, with an unusable password)
-- from the invitation until they accept it; `invited_at` marks them as pending.
ALTER TABLE users ADD COLUMN invited_at {ts};
ALTER TABLE users ADD COLUMN invited_by {uuid} REFERENCES users (id) ON DELETE SET NULL;
