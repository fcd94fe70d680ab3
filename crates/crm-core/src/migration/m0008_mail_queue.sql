-- Outgoing e-mail, stored before it is sent: a crash or restart loses no message, and the
-- worker of any instance delivers what is due (claimed row by row).
CREATE TABLE mail_queue (
  id {uuid} PRIMARY KEY,
  to_addr TEXT NOT NULL,
  subject TEXT NOT NULL,
  text_body TEXT NOT NULL,
  html_body TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at {ts} NOT NULL,
  sent_at {ts},
  failed_at {ts},
  last_error TEXT,
  created_at {ts} NOT NULL
);
CREATE INDEX mail_queue_due_idx ON mail_queue (sent_at, failed_at, next_attempt_at);
