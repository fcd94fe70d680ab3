-- See m0020_sqlite_activity_reach_months.sql: activity_reach per period ('' all time, or a
-- month of the organisation's zone), kept by triggers.
DROP TRIGGER activity_reach ON activities;
DROP TRIGGER contact_reach ON contacts;
DROP FUNCTION activity_reach();
DROP FUNCTION contact_reach();
DROP TABLE activity_reach;
CREATE TABLE activity_reach (
  kind TEXT NOT NULL,
  id UUID NOT NULL,
  period TEXT NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (kind, id, period)
);
CREATE INDEX activity_reach_rank_idx ON activity_reach (kind, period, n DESC, id);

CREATE FUNCTION activity_reach() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.contact_id = NEW.contact_id AND OLD.created_at = NEW.created_at THEN
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE activity_reach SET n = n - 1
      WHERE kind = 'contact' AND id = OLD.contact_id AND period IN ('', {month:OLD});
    UPDATE activity_reach SET n = n - 1
      WHERE kind = 'company' AND id = (SELECT company_id FROM contacts WHERE id = OLD.contact_id)
        AND period IN ('', {month:OLD});
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    -- periods in one order ('' first) in every transaction: two writers lock rows alike
    INSERT INTO activity_reach AS t (kind, id, period, n)
      SELECT 'contact', NEW.contact_id, p.period, 1 FROM (VALUES (''), ({month:NEW})) p (period)
      ON CONFLICT (kind, id, period) DO UPDATE SET n = t.n + 1;
    INSERT INTO activity_reach AS t (kind, id, period, n)
      SELECT 'company', c.company_id, p.period, 1 FROM contacts c, (VALUES (''), ({month:NEW})) p (period)
      WHERE c.id = NEW.contact_id AND c.company_id IS NOT NULL
      ON CONFLICT (kind, id, period) DO UPDATE SET n = t.n + 1;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER activity_reach AFTER INSERT OR DELETE OR UPDATE OF contact_id, created_at ON activities
  FOR EACH ROW EXECUTE FUNCTION activity_reach();

-- a contact moving company takes each period of its activities' count along (both
-- companies' rows in one statement, so two opposite moves lock them in the same order)
CREATE FUNCTION contact_reach() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.company_id IS NOT DISTINCT FROM NEW.company_id THEN RETURN NULL; END IF;
  IF NEW.company_id IS NOT NULL THEN
    INSERT INTO activity_reach (kind, id, period, n)
      SELECT 'company', NEW.company_id, period, 0 FROM activity_reach WHERE kind = 'contact' AND id = NEW.id
      ON CONFLICT (kind, id, period) DO NOTHING;
  END IF;
  UPDATE activity_reach t
    SET n = t.n + CASE WHEN t.id = NEW.company_id THEN 1 ELSE -1 END
      * coalesce((SELECT r.n FROM activity_reach r
                  WHERE r.kind = 'contact' AND r.id = NEW.id AND r.period = t.period), 0)
    WHERE t.kind = 'company' AND t.id IN (OLD.company_id, NEW.company_id)
      AND t.period IN (SELECT period FROM activity_reach WHERE kind = 'contact' AND id = NEW.id);
  RETURN NULL;
END $$;
CREATE TRIGGER contact_reach AFTER UPDATE OF company_id ON contacts
  FOR EACH ROW EXECUTE FUNCTION contact_reach();
