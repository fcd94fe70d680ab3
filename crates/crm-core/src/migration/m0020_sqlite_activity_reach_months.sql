-- activity_reach (m0019) gains a period: '' is all time, as before; 'YYYY-MM' a month of the
-- organisation's zone ({month:…} is filled in from the tallies' local day). A range inside
-- one month is ranked by probing that month's counts — exact for the month so far, so the
-- walk ends after a batch or two — instead of grouping the month's activities per contact
-- and per company. Triggers keep both periods; a contact moving company takes every period
-- of its count along.
DROP TRIGGER activity_reach_ai;
DROP TRIGGER activity_reach_ad;
DROP TRIGGER activity_reach_au;
DROP TRIGGER contact_reach_au;
DROP TABLE activity_reach;
CREATE TABLE activity_reach (
  kind TEXT NOT NULL,
  id BLOB NOT NULL,
  period TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (kind, id, period)
) WITHOUT ROWID;
CREATE INDEX activity_reach_rank_idx ON activity_reach (kind, period, n DESC, id);

CREATE TRIGGER activity_reach_ai AFTER INSERT ON activities BEGIN
  INSERT INTO activity_reach (kind, id, period, n)
    SELECT 'contact', NEW.contact_id, p.period, 1 FROM (SELECT '' AS period UNION ALL SELECT {month:NEW}) p WHERE true
    ON CONFLICT (kind, id, period) DO UPDATE SET n = n + 1;
  INSERT INTO activity_reach (kind, id, period, n)
    SELECT 'company', c.company_id, p.period, 1 FROM contacts c, (SELECT '' AS period UNION ALL SELECT {month:NEW}) p
    WHERE c.id = NEW.contact_id AND c.company_id IS NOT NULL
    ON CONFLICT (kind, id, period) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER activity_reach_ad AFTER DELETE ON activities BEGIN
  UPDATE activity_reach SET n = n - 1
    WHERE kind = 'contact' AND id = OLD.contact_id AND period IN ('', {month:OLD});
  UPDATE activity_reach SET n = n - 1
    WHERE kind = 'company' AND id = (SELECT company_id FROM contacts WHERE id = OLD.contact_id)
      AND period IN ('', {month:OLD});
END;
CREATE TRIGGER activity_reach_au AFTER UPDATE OF contact_id, created_at ON activities
WHEN OLD.contact_id IS NOT NEW.contact_id OR OLD.created_at IS NOT NEW.created_at BEGIN
  UPDATE activity_reach SET n = n - 1
    WHERE kind = 'contact' AND id = OLD.contact_id AND period IN ('', {month:OLD});
  UPDATE activity_reach SET n = n - 1
    WHERE kind = 'company' AND id = (SELECT company_id FROM contacts WHERE id = OLD.contact_id)
      AND period IN ('', {month:OLD});
  INSERT INTO activity_reach (kind, id, period, n)
    SELECT 'contact', NEW.contact_id, p.period, 1 FROM (SELECT '' AS period UNION ALL SELECT {month:NEW}) p WHERE true
    ON CONFLICT (kind, id, period) DO UPDATE SET n = n + 1;
  INSERT INTO activity_reach (kind, id, period, n)
    SELECT 'company', c.company_id, p.period, 1 FROM contacts c, (SELECT '' AS period UNION ALL SELECT {month:NEW}) p
    WHERE c.id = NEW.contact_id AND c.company_id IS NOT NULL
    ON CONFLICT (kind, id, period) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER contact_reach_au AFTER UPDATE OF company_id ON contacts
WHEN OLD.company_id IS NOT NEW.company_id BEGIN
  INSERT INTO activity_reach (kind, id, period, n)
    SELECT 'company', NEW.company_id, period, 0 FROM activity_reach
    WHERE kind = 'contact' AND id = NEW.id AND NEW.company_id IS NOT NULL
    ON CONFLICT (kind, id, period) DO NOTHING;
  UPDATE activity_reach
    SET n = n + CASE WHEN id = NEW.company_id THEN 1 ELSE -1 END
      * coalesce((SELECT r.n FROM activity_reach r
                  WHERE r.kind = 'contact' AND r.id = NEW.id AND r.period = activity_reach.period), 0)
    WHERE kind = 'company' AND id IN (OLD.company_id, NEW.company_id)
      AND period IN (SELECT period FROM activity_reach WHERE kind = 'contact' AND id = NEW.id);
END;
