-- See m0019_sqlite_activity_reach.sql: all-time activity counts per contact and per
-- company (an upper bound of any range's), kept by triggers, for ranking by probing.
CREATE TABLE activity_reach (
  kind TEXT NOT NULL,
  id UUID NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (kind, id)
);
CREATE INDEX activity_reach_rank_idx ON activity_reach (kind, n DESC, id);

CREATE FUNCTION activity_reach() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.contact_id = NEW.contact_id THEN RETURN NULL; END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE activity_reach SET n = n - 1 WHERE kind = 'contact' AND id = OLD.contact_id;
    UPDATE activity_reach SET n = n - 1
      WHERE kind = 'company' AND id = (SELECT company_id FROM contacts WHERE id = OLD.contact_id);
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    INSERT INTO activity_reach AS t (kind, id, n) VALUES ('contact', NEW.contact_id, 1)
      ON CONFLICT (kind, id) DO UPDATE SET n = t.n + 1;
    INSERT INTO activity_reach AS t (kind, id, n)
      SELECT 'company', company_id, 1 FROM contacts WHERE id = NEW.contact_id AND company_id IS NOT NULL
      ON CONFLICT (kind, id) DO UPDATE SET n = t.n + 1;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER activity_reach AFTER INSERT OR DELETE OR UPDATE OF contact_id ON activities
  FOR EACH ROW EXECUTE FUNCTION activity_reach();

-- a contact moving company takes its activities' count along (both rows in one statement,
-- so two opposite moves lock them in the same order)
CREATE FUNCTION contact_reach() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.company_id IS NOT DISTINCT FROM NEW.company_id THEN RETURN NULL; END IF;
  IF NEW.company_id IS NOT NULL THEN
    INSERT INTO activity_reach (kind, id, n) VALUES ('company', NEW.company_id, 0)
      ON CONFLICT (kind, id) DO NOTHING;
  END IF;
  UPDATE activity_reach
    SET n = n + CASE WHEN id = NEW.company_id THEN 1 ELSE -1 END
      * coalesce((SELECT r.n FROM activity_reach r WHERE r.kind = 'contact' AND r.id = NEW.id), 0)
    WHERE kind = 'company' AND id IN (OLD.company_id, NEW.company_id);
  RETURN NULL;
END $$;
CREATE TRIGGER contact_reach AFTER UPDATE OF company_id ON contacts
  FOR EACH ROW EXECUTE FUNCTION contact_reach();
