-- Every statement that changes contacts, companies or users tells every instance, once it
-- commits, that answers made of them are old (`changes`: LISTEN crm_changes). One notice
-- per statement (PostgreSQL folds equal notices of one transaction), so a bulk load sends
-- one per table and transaction, not one per row.
CREATE FUNCTION crm_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('crm_changes', TG_TABLE_NAME);
  RETURN NULL;
END
$$;
CREATE TRIGGER contacts_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON contacts
  FOR EACH STATEMENT EXECUTE FUNCTION crm_notify_change();
CREATE TRIGGER companies_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON companies
  FOR EACH STATEMENT EXECUTE FUNCTION crm_notify_change();
CREATE TRIGGER users_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION crm_notify_change();
