//! Embedded migrations, run at start-up and by `crm migrate`. The schema SQL is written
//! once; column types that differ between SQLite and PostgreSQL are filled in here.

mod counts;

use counts::local_months;
pub use counts::{local_day, rebuild as rebuild_tallies, rebuild_in as rebuild_tallies_in};

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::{DbErr, MigrationName, MigrationTrait, MigratorTrait, SchemaManager};

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            // every table of the spec
            Box::new(Script("m0001_schema", include_str!("m0001_schema.sql"))),
            // contact search
            Box::new(PerBackend(
                "m0002_search",
                include_str!("m0002_sqlite_search.sql"),
                include_str!("m0002_postgres_search.sql"),
                Some("pg_trgm"),
            )),
            // activities, tasks and deals (global search)
            Box::new(PerBackend(
                "m0003_more_search",
                include_str!("m0003_sqlite_search.sql"),
                include_str!("m0003_postgres_search.sql"),
                Some("pg_trgm"),
            )),
            // covering indexes for the kanban board and type-filtered activity lists
            Box::new(Script("m0004_list_indexes", include_str!("m0004_indexes.sql"))),
            // CSV import jobs, their rejected rows and uploads awaiting confirmation
            Box::new(Script("m0005_imports", include_str!("m0005_imports.sql"))),
            Box::new(RecordCounts),
            // covering indexes for the reports' range reads
            Box::new(Script("m0007_report_indexes", include_str!("m0007_report_indexes.sql"))),
            // the durable outgoing mail queue
            Box::new(Script("m0008_mail_queue", include_str!("m0008_mail_queue.sql"))),
            // an activity's optional deal
            Box::new(Script("m0009_activity_deal", include_str!("m0009_activity_deal.sql"))),
            // pending team invitations
            Box::new(Script("m0010_invites", include_str!("m0010_invites.sql"))),
            Box::new(LocalDays),
            Box::new(PersonalTasks),
            // personal calendar feeds (the URL's secret stored hashed)
            Box::new(Script("m0013_calendar_feeds", include_str!("m0013_calendar_feeds.sql"))),
            // outbound webhooks: endpoints, events and their deliveries
            Box::new(Script("m0014_webhooks", include_str!("m0014_webhooks.sql"))),
            // list order with the tie-breaking id: deep pages walk an index alone
            Box::new(Script(
                "m0015_list_order_indexes",
                include_str!("m0015_list_order_indexes.sql"),
            )),
            // sign-in with OpenID Connect: pending sign-ins, and each attempt's method
            Box::new(Script("m0016_oidc", include_str!("m0016_oidc.sql"))),
            // an import's file, plan and lease: another instance takes over a dead one's job
            Box::new(Script("m0017_import_leases", include_str!("m0017_import_leases.sql"))),
            // deleted deals, tasks and activities kept an hour for Undo
            Box::new(Script(
                "m0018_deleted_records",
                include_str!("m0018_deleted_records.sql"),
            )),
            // all-time activity counts per contact and company: the reports' rankings probe them
            Box::new(PerBackend(
                "m0019_activity_reach",
                concat!(
                    include_str!("m0019_sqlite_activity_reach.sql"),
                    include_str!("m0019_activity_reach_backfill.sql")
                ),
                concat!(
                    include_str!("m0019_postgres_activity_reach.sql"),
                    include_str!("m0019_activity_reach_backfill.sql")
                ),
                None,
            )),
            // the same counts per month as well: a month's rankings probe that month's
            Box::new(PerBackend(
                "m0020_activity_reach_months",
                concat!(
                    include_str!("m0020_sqlite_activity_reach_months.sql"),
                    include_str!("m0020_activity_reach_backfill.sql")
                ),
                concat!(
                    include_str!("m0020_postgres_activity_reach_months.sql"),
                    include_str!("m0020_activity_reach_backfill.sql")
                ),
                None,
            )),
            // PostgreSQL tells every instance when contacts, companies or users change
            // (`changes`); SQLite's changes are the one process's own
            Box::new(PerBackend(
                "m0021_change_notices",
                "SELECT 1;",
                include_str!("m0021_postgres_change_notices.sql"),
                None,
            )),
            // PostgreSQL: a finer sample of the contacts' search text for the planner
            Box::new(PerBackend(
                "m0022_search_statistics",
                "SELECT 1;",
                include_str!("m0022_postgres_search_statistics.sql"),
                None,
            )),
        ]
    }
}

/// Fill the backend-specific column types into a schema script.
fn dialect(sql: &str, backend: DbBackend) -> String {
    let (uuid, ts, boolean, f, t, blob) = match backend {
        DbBackend::Postgres => ("UUID", "TIMESTAMPTZ", "BOOLEAN", "FALSE", "TRUE", "BYTEA"),
        _ => ("BLOB", "TEXT", "INTEGER", "0", "1", "BLOB"),
    };
    sql.replace("{uuid}", uuid)
        .replace("{ts}", ts)
        .replace("{bool}", boolean)
        .replace("{false}", f)
        .replace("{true}", t)
        .replace("{blob}", blob)
}

/// A migration that is one SQL script (name, text), with the backend's types filled in.
struct Script(&'static str, &'static str);
impl MigrationName for Script {
    fn name(&self) -> &str {
        self.0
    }
}
#[async_trait]
impl MigrationTrait for Script {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = dialect(self.1, manager.get_database_backend());
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }
}

/// A migration written once per backend (name, SQLite script, PostgreSQL script, and the
/// PostgreSQL extension it needs, if any: without it the step is skipped with a warning);
/// `{month:R}` in a script is the local month of `R.created_at` ([`local_months`]).
struct PerBackend(&'static str, &'static str, &'static str, Option<&'static str>);
impl MigrationName for PerBackend {
    fn name(&self) -> &str {
        self.0
    }
}
#[async_trait]
impl MigrationTrait for PerBackend {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        if backend != DbBackend::Postgres {
            db.execute_unprepared(&local_months(self.1, backend)).await?;
            return Ok(());
        }
        if let Some(ext) = self.3 {
            let installed = db
                .query_one_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT 1 AS one FROM pg_extension WHERE extname = $1",
                    [ext.into()],
                ))
                .await?
                .is_some();
            if !installed {
                tracing::warn!(
                    "{ext} is not installed: {}: searches will scan instead of using an index",
                    self.0
                );
                return Ok(());
            }
        }
        db.execute_unprepared(&local_months(self.2, backend)).await?;
        Ok(())
    }
}

/// Per owner, day and key tallies kept by triggers (`counts.rs`), plus indexes for the
/// reports' date-range reads.
struct RecordCounts;
impl MigrationName for RecordCounts {
    fn name(&self) -> &str {
        "m0006_record_counts"
    }
}
#[async_trait]
impl MigrationTrait for RecordCounts {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(&counts::migration_sql(manager.get_database_backend()))
            .await?;
        db.execute_unprepared(
            "CREATE INDEX tasks_completed_at_idx ON tasks (completed_at);\n\
             CREATE INDEX tasks_user_completed_at_idx ON tasks (user_id, completed_at);",
        )
        .await?;
        Ok(())
    }
}

/// The organisation's time zone: `tz_offsets` and tallies by its days (`counts.rs`).
struct LocalDays;
impl MigrationName for LocalDays {
    fn name(&self) -> &str {
        "m0011_local_days"
    }
}
#[async_trait]
impl MigrationTrait for LocalDays {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = counts::local_days_sql(manager.get_database_backend());
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }
}

/// Tasks without a contact (personal to-dos): `tasks.contact_id` may be null. PostgreSQL
/// drops the constraint; SQLite, which cannot, rebuilds the table keeping every row's
/// `rowid` (the full-text index points at it) and then recreates the table's own indexes
/// and triggers exactly as they were.
struct PersonalTasks;
impl MigrationName for PersonalTasks {
    fn name(&self) -> &str {
        "m0012_personal_tasks"
    }
}
#[async_trait]
impl MigrationTrait for PersonalTasks {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("ALTER TABLE tasks ALTER COLUMN contact_id DROP NOT NULL")
                .await?;
            return Ok(());
        }
        let sql_of = |kind: &str| {
            Statement::from_string(
                DbBackend::Sqlite,
                format!(
                    "SELECT sql FROM sqlite_master WHERE tbl_name = 'tasks' AND type = '{kind}' AND sql IS NOT NULL"
                ),
            )
        };
        let read = |rows: Vec<sea_orm::QueryResult>| -> Vec<String> {
            rows.iter()
                .filter_map(|r| r.try_get::<String>("", "sql").ok())
                .collect()
        };
        let table = read(db.query_all_raw(sql_of("table")).await?);
        let table = table
            .first()
            .ok_or_else(|| DbErr::Migration("the tasks table is missing".into()))?;
        let nullable = table.replace("contact_id BLOB NOT NULL REFERENCES", "contact_id BLOB REFERENCES");
        if &nullable == table {
            return Err(DbErr::Migration(format!("unexpected tasks table: {table}")));
        }
        let indexes = read(db.query_all_raw(sql_of("index")).await?);
        let triggers = read(db.query_all_raw(sql_of("trigger")).await?);
        let columns = "rowid, id, title, description, due_date, priority, completed, completed_at, contact_id, \
                       user_id, is_demo, created_at, updated_at";
        let mut script = format!(
            "{};\nINSERT INTO tasks_new ({columns}) SELECT {columns} FROM tasks;\nDROP TABLE tasks;\n\
             ALTER TABLE tasks_new RENAME TO tasks;\n",
            nullable.replacen("CREATE TABLE tasks", "CREATE TABLE tasks_new", 1)
        );
        for s in indexes.iter().chain(triggers.iter()) {
            script.push_str(s);
            script.push_str(";\n");
        }
        db.execute_unprepared(&script).await?;
        Ok(())
    }
}
