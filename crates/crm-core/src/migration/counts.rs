//! `record_counts`: per owner, per day (of the organisation's zone), per key tallies of the owned tables, kept
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
    day: String,
    hour: String,
}

/// The offset of the organisation's zone (minutes) in force at the instant `col`, from
/// `tz_offsets` (written with the setting, see `org`).
fn offset_at(col: &str) -> String {
    format!("(SELECT minutes FROM tz_offsets WHERE starts <= {col} ORDER BY starts DESC LIMIT 1)")
}

/// The wall-clock time of the timestamp `col` in the organisation's zone, as text
/// `YYYY-MM-DD HH…`, per backend.
fn local_text(backend: DbBackend, col: &str) -> String {
    let off = offset_at(col);
    match backend {
        DbBackend::Postgres => {
            format!("to_char(({col} AT TIME ZONE 'UTC') + make_interval(mins => {off}), 'YYYY-MM-DD HH24')")
        }
        _ => format!("datetime({col}, {off} || ' minutes')"),
    }
}

/// `YYYY-MM-DD` of the timestamp `col` in the organisation's zone.
pub fn local_day(backend: DbBackend, col: &str) -> String {
    format!("substr({}, 1, 10)", local_text(backend, col))
}

/// `{month:R}` in `sql` replaced with `YYYY-MM` of `R.created_at` in the organisation's zone
/// (the month of the tallies' day), for `R` = NEW, OLD or activities.
pub(super) fn local_months(sql: &str, backend: DbBackend) -> String {
    ["NEW", "OLD", "activities"].iter().fold(sql.to_string(), |sql, r| {
        let month = format!("substr({}, 1, 7)", local_day(backend, &format!("{r}.created_at")));
        sql.replace(&format!("{{month:{r}}}"), &month)
    })
}

/// `HH` (00–23) of the timestamp `col` in the organisation's zone.
fn local_hour(backend: DbBackend, col: &str) -> String {
    format!("substr({}, 12, 2)", local_text(backend, col))
}

/// `local`: days of the organisation's zone (from m0011 on); otherwise UTC days, as the
/// first version of the tallies (m0006) defined them.
fn dialect(backend: DbBackend, local: bool) -> Dialect {
    let nil = match backend {
        DbBackend::Postgres => "'00000000-0000-0000-0000-000000000000'::uuid",
        _ => "zeroblob(16)",
    };
    if local {
        return Dialect {
            nil,
            day: local_day(backend, "{r}.created_at"),
            hour: local_hour(backend, "{r}.created_at"),
        };
    }
    match backend {
        DbBackend::Postgres => Dialect {
            nil,
            day: "to_char({r}.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')".into(),
            hour: "to_char({r}.created_at AT TIME ZONE 'UTC', 'HH24')".into(),
        },
        _ => Dialect {
            nil,
            day: "substr({r}.created_at, 1, 10)".into(),
            hour: "substr({r}.created_at, 12, 2)".into(),
        },
    }
}

impl Tally {
    fn exprs(&self, d: &Dialect, r: &str) -> (String, String, String, String) {
        let owner = format!("coalesce({r}.user_id, {})", d.nil);
        let day = d.day.replace("{r}", r);
        let key = self.key.replace("{hour}", &d.hour).replace("{r}", r);
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
    fn triggers(&self, backend: DbBackend, local: bool) -> String {
        let d = dialect(backend, local);
        let name = format!("{}_tally", self.kind);
        match backend {
            DbBackend::Postgres => format!(
                "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n\
                 BEGIN\n\
                   IF TG_OP IN ('UPDATE', 'DELETE') THEN {remove} END IF;\n\
                   IF TG_OP IN ('UPDATE', 'INSERT') THEN {add} END IF;\n\
                   RETURN NULL;\n\
                 END $$;\n\
                 DROP TRIGGER IF EXISTS {name} ON {table};\n\
                 CREATE TRIGGER {name} AFTER INSERT OR DELETE OR UPDATE OF {watch} ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION {name}();\n",
                remove = self.remove(&d, "OLD"),
                add = self.add(&d, "NEW"),
                watch = self.watch,
                table = self.table,
            ),
            _ => format!(
                "DROP TRIGGER IF EXISTS {name}_ai; DROP TRIGGER IF EXISTS {name}_ad; DROP TRIGGER IF EXISTS {name}_au;\n\
                 CREATE TRIGGER {name}_ai AFTER INSERT ON {table} BEGIN {add_new} END;\n\
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

/// The first migration (m0006): table, backfill from existing rows, triggers, by UTC days.
pub fn migration_sql(backend: DbBackend) -> String {
    let d = dialect(backend, false);
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
        sql.push_str(&t.triggers(backend, false));
    }
    sql
}

/// m0011: the organisation's zone (`tz_offsets`, UTC until an admin sets one) and triggers
/// that tally by its days. The tallies written so far are UTC days, which is what they
/// stay while the zone is UTC; changing the zone rebuilds them ([`rebuild`]).
pub fn local_days_sql(backend: DbBackend) -> String {
    let ts = if backend == DbBackend::Postgres {
        "TIMESTAMPTZ"
    } else {
        "TEXT"
    };
    let mut sql = format!(
        "CREATE TABLE tz_offsets (starts {ts} PRIMARY KEY, minutes INTEGER NOT NULL);\n\
         INSERT INTO tz_offsets (starts, minutes) VALUES ('0001-01-01T00:00:00Z', 0);\n"
    );
    for t in TALLIES {
        sql.push_str(&t.triggers(backend, true));
    }
    sql
}

/// Rebuild every tally from the tables (one transaction). The triggers keep them exact; this
/// is for a database whose rows were loaded with triggers off or twice (e.g. a data-only
/// restore). Returns the number of tally rows written.
pub async fn rebuild(db: &crate::Db) -> crate::CoreResult<u64> {
    use sea_orm::TransactionTrait;
    let txn = db.conn.begin().await?;
    let n = rebuild_in(&txn).await?;
    txn.commit().await?;
    Ok(n)
}

/// [`rebuild`] inside a transaction (the zone's change writes `tz_offsets` in the same one).
pub async fn rebuild_in(txn: &sea_orm::DatabaseTransaction) -> crate::CoreResult<u64> {
    use sea_orm::ConnectionTrait;
    let backend = txn.get_database_backend();
    let d = dialect(backend, true);
    txn.execute_unprepared("DELETE FROM record_counts").await?;
    for t in TALLIES {
        txn.execute_unprepared(&t.backfill(&d)).await?;
    }
    // the activity counts per contact and company (m0020), exact again and in the zone's months
    txn.execute_unprepared("DELETE FROM activity_reach").await?;
    txn.execute_unprepared(&local_months(
        include_str!("m0020_activity_reach_backfill.sql"),
        backend,
    ))
    .await?;
    let n = txn
        .query_one_raw(sea_orm::Statement::from_string(
            backend,
            "SELECT count(*) AS n FROM record_counts",
        ))
        .await?
        .and_then(|r| r.try_get::<i64>("", "n").ok())
        .unwrap_or(0);
    Ok(n as u64)
}
