-- How many activities each contact has, and each company through its contacts, of all time:
-- an upper bound of any range's count, kept by triggers. The reports rank the top contacts
-- and companies of a range by probing the highest bounds first (analytics::reports), so a
-- year of activities is not grouped per request. A company's figure may stay above the
-- truth when a contact is deleted with its activities (never below it), which the ranking
-- allows; `crm recount` makes both exact again.
CREATE TABLE activity_reach (
  kind TEXT NOT NULL,
  id BLOB NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (kind, id)
) WITHOUT ROWID;
CREATE INDEX activity_reach_rank_idx ON activity_reach (kind, n DESC, id);

CREATE TRIGGER activity_reach_ai AFTER INSERT ON activities BEGIN
  INSERT INTO activity_reach (kind, id, n) VALUES ('contact', NEW.contact_id, 1)
    ON CONFLICT (kind, id) DO UPDATE SET n = n + 1;
  INSERT INTO activity_reach (kind, id, n)
    SELECT 'company', company_id, 1 FROM contacts WHERE id = NEW.contact_id AND company_id IS NOT NULL
    ON CONFLICT (kind, id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER activity_reach_ad AFTER DELETE ON activities BEGIN
  UPDATE activity_reach SET n = n - 1 WHERE kind = 'contact' AND id = OLD.contact_id;
  UPDATE activity_reach SET n = n - 1
    WHERE kind = 'company' AND id = (SELECT company_id FROM contacts WHERE id = OLD.contact_id);
END;
CREATE TRIGGER activity_reach_au AFTER UPDATE OF contact_id ON activities
WHEN OLD.contact_id IS NOT NEW.contact_id BEGIN
  UPDATE activity_reach SET n = n - 1 WHERE kind = 'contact' AND id = OLD.contact_id;
  UPDATE activity_reach SET n = n - 1
    WHERE kind = 'company' AND id = (SELECT company_id FROM contacts WHERE id = OLD.contact_id);
  INSERT INTO activity_reach (kind, id, n) VALUES ('contact', NEW.contact_id, 1)
    ON CONFLICT (kind, id) DO UPDATE SET n = n + 1;
  INSERT INTO activity_reach (kind, id, n)
    SELECT 'company', company_id, 1 FROM contacts WHERE id = NEW.contact_id AND company_id IS NOT NULL
    ON CONFLICT (kind, id) DO UPDATE SET n = n + 1;
END;
-- a contact moving company takes its activities' count along
CREATE TRIGGER contact_reach_au AFTER UPDATE OF company_id ON contacts
WHEN OLD.company_id IS NOT NEW.company_id BEGIN
  INSERT INTO activity_reach (kind, id, n)
    SELECT 'company', NEW.company_id, 0 WHERE NEW.company_id IS NOT NULL
    ON CONFLICT (kind, id) DO NOTHING;
  UPDATE activity_reach
    SET n = n + CASE WHEN id = NEW.company_id THEN 1 ELSE -1 END
      * coalesce((SELECT r.n FROM activity_reach r WHERE r.kind = 'contact' AND r.id = NEW.id), 0)
    WHERE kind = 'company' AND id IN (OLD.company_id, NEW.company_id);
END;
