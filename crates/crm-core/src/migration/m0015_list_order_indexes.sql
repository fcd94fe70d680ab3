-- Contacts in list order with the id that breaks ties: a deep page walks the index alone
-- (the rows it skips are never read), then reads its 50 rows by id.
CREATE INDEX contacts_created_id_idx ON contacts (created_at, id);
DROP INDEX contacts_created_at_idx;
CREATE INDEX contacts_name_id_idx ON contacts (first_name, last_name, id);
DROP INDEX contacts_name_idx;
