-- Activity counts per contact and company, all time ('') and per month of the organisation's
-- zone, from the records (both backends): by m0020 after its table and triggers, and by
-- `crm recount` and a change of zone after emptying the table.
INSERT INTO activity_reach (kind, id, period, n)
  SELECT 'contact', contact_id, '', count(*) FROM activities GROUP BY contact_id;
INSERT INTO activity_reach (kind, id, period, n)
  SELECT 'contact', contact_id, {month:activities}, count(*) FROM activities GROUP BY 2, 3;
INSERT INTO activity_reach (kind, id, period, n)
  SELECT 'company', c.company_id, r.period, sum(r.n) FROM activity_reach r JOIN contacts c ON c.id = r.id
  WHERE r.kind = 'contact' AND c.company_id IS NOT NULL GROUP BY c.company_id, r.period;
