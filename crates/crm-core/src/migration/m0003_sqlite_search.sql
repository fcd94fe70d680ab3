-- SQLite: trigram full-text indexes for the global search of activities, tasks and deals.
CREATE VIRTUAL TABLE activities_fts USING fts5(subject, description, content='activities', content_rowid='rowid', tokenize='trigram');
INSERT INTO activities_fts (activities_fts) VALUES ('rebuild');
CREATE TRIGGER activities_fts_ai AFTER INSERT ON activities BEGIN
  INSERT INTO activities_fts (rowid, subject, description) VALUES (new.rowid, new.subject, new.description);
END;
CREATE TRIGGER activities_fts_ad AFTER DELETE ON activities BEGIN
  INSERT INTO activities_fts (activities_fts, rowid, subject, description) VALUES ('delete', old.rowid, old.subject, old.description);
END;
CREATE TRIGGER activities_fts_au AFTER UPDATE OF subject, description ON activities BEGIN
  INSERT INTO activities_fts (activities_fts, rowid, subject, description) VALUES ('delete', old.rowid, old.subject, old.description);
  INSERT INTO activities_fts (rowid, subject, description) VALUES (new.rowid, new.subject, new.description);
END;
CREATE VIRTUAL TABLE tasks_fts USING fts5(title, description, content='tasks', content_rowid='rowid', tokenize='trigram');
INSERT INTO tasks_fts (tasks_fts) VALUES ('rebuild');
CREATE TRIGGER tasks_fts_ai AFTER INSERT ON tasks BEGIN
  INSERT INTO tasks_fts (rowid, title, description) VALUES (new.rowid, new.title, new.description);
END;
CREATE TRIGGER tasks_fts_ad AFTER DELETE ON tasks BEGIN
  INSERT INTO tasks_fts (tasks_fts, rowid, title, description) VALUES ('delete', old.rowid, old.title, old.description);
END;
CREATE TRIGGER tasks_fts_au AFTER UPDATE OF title, description ON tasks BEGIN
  INSERT INTO tasks_fts (tasks_fts, rowid, title, description) VALUES ('delete', old.rowid, old.title, old.description);
  INSERT INTO tasks_fts (rowid, title, description) VALUES (new.rowid, new.title, new.description);
END;
CREATE VIRTUAL TABLE deals_fts USING fts5(name, description, content='deals', content_rowid='rowid', tokenize='trigram');
INSERT INTO deals_fts (deals_fts) VALUES ('rebuild');
CREATE TRIGGER deals_fts_ai AFTER INSERT ON deals BEGIN
  INSERT INTO deals_fts (rowid, name, description) VALUES (new.rowid, new.name, new.description);
END;
CREATE TRIGGER deals_fts_ad AFTER DELETE ON deals BEGIN
  INSERT INTO deals_fts (deals_fts, rowid, name, description) VALUES ('delete', old.rowid, old.name, old.description);
END;
CREATE TRIGGER deals_fts_au AFTER UPDATE OF name, description ON deals BEGIN
  INSERT INTO deals_fts (deals_fts, rowid, name, description) VALUES ('delete', old.rowid, old.name, old.description);
  INSERT INTO deals_fts (rowid, name, description) VALUES (new.rowid, new.name, new.description);
END;
