//! `record_counts`: per owner, per UTC day, per key tallies of the owned tables, kept
//! exact by database triggers (so every write path — API, pages, seeding, imports, cascades,
//! reassignment — maintains them without code of its own). The dashboard and reports read
//! these few thousand rows instead of counting millions.
//!
//! One definition per tally; the trigger SQL for both backends is generated from it.

use sea_orm::DbBackend;

/// A tally over one table: `key` and `cents` are SQL over the row (`{r}` = OLD or NEW),
/// `watch` the columns whose change moves a row between tallies.
pub struct Tally {
    pub table: &'static str,
    pub kind: &'static str,
    pub key: &'static str,
    pub cents: &'static str,
    pub watch: &'static str,
}

/// The hour-of-day expression is per backend; `{hour}` in `key` is replaced with it.
pub const TALLIES: &[Tally] = &[
    Tally {
        table: "contacts",
        kind: "contacts",
        key: "{r}.status",
        cents: "0",
        watch: "status, user_id, created_at",
    },
    Tally {
        table: "activities",
        kind: "activities",
        key: "{r}.type",
        cents: "0",
        watch: "type, user_id, created_at",
    },
    Tally {
        table: "activities",
        kind: "activity_hours",
        key: "{hour}",
        cents: "0",
        watch: "user_id, created_at",
    },
    Tally {
        table: "tasks",
        kind: "tasks",
        key: "{r}.priority || CASE WHEN {r}.completed THEN ':done' ELSE ':open' END",
        cents: "0",
        watch: "priority, completed, user_id, created_at",
    },
    Tally {
        table: "deals",
        kind: "deals",
        key: "{r}.stage",
        cents: "{r}.value_cents",
        watch: "stage, value_cents, user_id, created_at",
    },
];

struct Dialect {
    nil: &'static str,
    day: &'static str,
    hour: &'static str,
}

fn dialect(backend: DbBackend) -> Dialect {
    match backend {
        DbBackend::Postgres => Dialect {
            nil: "'00000000-0000-0000-0000-000000000000'::uuid",
            day: "to_char({r}.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
            hour: "to_char({r}.created_at AT TIME ZONE 'UTC', 'HH24')",
        },
        _ => Dialect {
            nil: "zeroblob(16)",
            day: "substr({r}.created_at, 1, 10)",
            hour: "substr({r}.created_at, 12, 2)",
        },
    }
}

impl Tally {
    fn exprs(&self, d: &Dialect, r: &str) -> (String, String, String, String) {
        let owner = format!("coalesce({r}.user_id, {})", d.nil);
        let day = d.day.replace("{r}", r);
        let key = self.key.replace("{hour}", d.hour).replace("{r}", r);
        let cents = self.cents.replace("{r}", r);
        (owner, day, key, cents)
    }

    fn add(&self, d: &Dialect, r: &str) -> String {
        let (owner, day, key, cents) = self.exprs(d, r);
        format!(
            "INSERT INTO record_counts (kind, owner, day, k, n, cents) VALUES ('{kind}', {owner}, {day}, {key}, 1, {cents}) \
             ON CONFLICT (kind, owner, day, k) DO UPDATE SET n = record_counts.n + 1, cents = record_counts.cents + excluded.cents;",
            kind = self.kind
        )
    }

    fn remove(&self, d: &Dialect, r: &str) -> String {
        let (owner, day, key, cents) = self.exprs(d, r);
        format!(
            "UPDATE record_counts SET n = n - 1, cents = cents - {cents} \
             WHERE kind = '{kind}' AND owner = {owner} AND day = {day} AND k = {key};",
            kind = self.kind
        )
    }

    fn backfill(&self, d: &Dialect) -> String {
        let (owner, day, key, cents) = self.exprs(d, self.table);
        format!(
            "INSERT INTO record_counts (kind, owner, day, k, n, cents) \
             SELECT '{kind}', {owner}, {day}, {key}, count(*), sum({cents}) FROM {table} GROUP BY 2, 3, 4;",
            kind = self.kind,
            table = self.table
        )
    }

    /// The triggers keeping this tally exact, for one backend.
    fn triggers(&self, backend: DbBackend) -> String {
        let d = dialect(backend);
        let name = format!("{}_tally", self.kind);
        match backend {
            DbBackend::Postgres => format!(
                "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n\
                 BEGIN\n\
                   IF TG_OP IN ('UPDATE', 'DELETE') THEN {remove} END IF;\n\
                   IF TG_OP IN ('UPDATE', 'INSERT') THEN {add} END IF;\n\
                   RETURN NULL;\n\
                 END $$;\n\
                 CREATE TRIGGER {name} AFTER INSERT OR DELETE OR UPDATE OF {watch} ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION {name}();\n",
                remove = self.remove(&d, "OLD"),
                add = self.add(&d, "NEW"),
                watch = self.watch,
                table = self.table,
            ),
            _ => format!(
                "CREATE TRIGGER {name}_ai AFTER INSERT ON {table} BEGIN {add_new} END;\n\
                 CREATE TRIGGER {name}_ad AFTER DELETE ON {table} BEGIN {remove_old} END;\n\
                 CREATE TRIGGER {name}_au AFTER UPDATE OF {watch} ON {table} BEGIN {remove_old} {add_new} END;\n",
                add_new = self.add(&d, "NEW"),
                remove_old = self.remove(&d, "OLD"),
                watch = self.watch,
                table = self.table,
            ),
        }
    }
}

/// The whole migration: table, backfill from existing rows, triggers.
pub fn migration_sql(backend: DbBackend) -> String {
    let d = dialect(backend);
    let uuid = if backend == DbBackend::Postgres { "UUID" } else { "BLOB" };
    let mut sql = format!(
        "CREATE TABLE record_counts (\n\
           kind TEXT NOT NULL,\n\
           owner {uuid} NOT NULL,\n\
           day TEXT NOT NULL,\n\
           k TEXT NOT NULL,\n\
           n BIGINT NOT NULL,\n\
           cents BIGINT NOT NULL,\n\
           PRIMARY KEY (kind, owner, day, k)\n\
         );\n\
         CREATE INDEX record_counts_day_idx ON record_counts (kind, day);\n"
    );
    for t in TALLIES {
        sql.push_str(&t.backfill(&d));
        sql.push('\n');
        sql.push_str(&t.triggers(backend));
    }
    sql
}

/// Rebuild every tally from the tables (one transaction). The triggers keep them exact; this
/// is for a database whose rows were loaded with triggers off or twice (e.g. a data-only
/// restore). Returns the number of tally rows written.
pub async fn rebuild(db: &crate::Db) -> crate::CoreResult<u64> {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let d = dialect(db.backend());
    let txn = db.conn.begin().await?;
    txn.execute_unprepared("DELETE FROM record_counts").await?;
    for t in TALLIES {
        txn.execute_unprepared(&t.backfill(&d)).await?;
    }
    let n = txn
        .query_one_raw(sea_orm::Statement::from_string(
            db.backend(),
            "SELECT count(*) AS n FROM record_counts",
        ))
        .await?
        .and_then(|r| r.try_get::<i64>("", "n").ok())
        .unwrap_or(0);
    txn.commit().await?;
    Ok(n as u64)
}
