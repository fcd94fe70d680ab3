-- The all-time activity counts from the records (both backends): by m0019 after its table
-- and triggers, and by `crm recount` after emptying the table.
INSERT INTO activity_reach (kind, id, n)
  SELECT 'contact', contact_id, count(*) FROM activities GROUP BY contact_id;
INSERT INTO activity_reach (kind, id, n)
  SELECT 'company', c.company_id, sum(r.n) FROM activity_reach r JOIN contacts c ON c.id = r.id
  WHERE r.kind = 'contact' AND c.company_id IS NOT NULL GROUP BY c.company_id;
