//! The connection pool and the few places where SQLite and PostgreSQL differ.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, TransactionTrait};
use sea_orm_migration::MigratorTrait;

use crate::migration::Migrator;

/// The database. Its connection is private to crm-core: every query on owned records starts
/// from the actor's scope (`scope`). The CLI, seeding, benchmarks and tests reach the raw
/// connection through the one deliberately named escape hatch, [`Db::unscoped`].
#[derive(Clone, Debug)]
pub struct Db {
    pub(crate) conn: DatabaseConnection,
    /// The read replica (`DATABASE_READ_URL`), when there is one.
    replica: Option<Arc<Replica>>,
    /// This handle reads the replica (made by [`Db::reading`]).
    on_replica: bool,
    /// When contacts, companies and users last changed, for cached answers (`changes`).
    changes: Arc<crate::changes::Changes>,
}

/// A streaming replica that dashboards, reports, global search and exports read from,
/// unless the reader has just written (`Db::reading`) or it is down or far behind.
#[derive(Debug)]
struct Replica {
    conn: DatabaseConnection,
    /// The last check: when, and the replay lag in seconds (None: unreachable or unusable).
    checked: tokio::sync::Mutex<Option<(Instant, Option<f64>)>>,
    /// Reads sent to the replica, and reads kept on the primary (fresh writes, replica down).
    reads: AtomicU64,
    kept: AtomicU64,
}

/// A replica further behind than this is not read from.
const MAX_LAG_SECS: f64 = 30.0;
/// After a write, the writer reads from the primary for the replica's lag plus this margin
/// (a commit on its way to the replica that the lag does not show yet).
const FRESH_MARGIN_SECS: f64 = 2.0;

impl Db {
    /// Connect to `sqlite://…` or `postgres://…`. SQLite gets WAL, foreign keys and a
    /// busy timeout; the file is created when missing.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        let mut opts = ConnectOptions::new(url.to_string());
        // a database that cannot be reached answers 503 within seconds, not a minute later
        opts.sqlx_logging(false)
            .acquire_timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(3));
        if url.starts_with("sqlite:") {
            // WAL: readers never wait for the writer; one connection per core and two more
            // (a writer and a long read, such as an export) is what the machine can use
            let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2) as u32;
            opts.max_connections(cores + 2).min_connections(1);
            opts.map_sqlx_sqlite_opts(|o: SqliteConnectOptions| {
                o.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    // 8 MB of page cache per connection (the OS caches the file too):
                    // the server's memory stays bounded whatever the database's size
                    .pragma("cache_size", "-8192")
                    // sorts and groupings too big for the cache spill to temporary files
                    // (kept by the OS's cache) rather than grow the process
                    .pragma("temp_store", "file")
            });
        } else {
            opts.max_connections(20).min_connections(1);
        }
        let conn = Database::connect(opts)
            .await
            .with_context(|| format!("cannot connect to the database {}", redact(url)))?;
        // SQLite's changes are this process's own; PostgreSQL's arrive once the listener
        // is connected (`changes::watch`)
        let changes = Arc::new(crate::changes::Changes::new(url.starts_with("sqlite:")));
        Ok(Db {
            conn,
            replica: None,
            on_replica: false,
            changes,
        })
    }

    /// Read dashboards, reports, global search and exports from a PostgreSQL streaming
    /// replica as well (`DATABASE_READ_URL`). It is connected lazily: a replica that is
    /// down at start, or later, only means reading from the primary (logged).
    pub async fn with_replica(mut self, url: &str) -> anyhow::Result<Db> {
        anyhow::ensure!(
            url.starts_with("postgres:") || url.starts_with("postgresql:"),
            "DATABASE_READ_URL must be a postgres:// URL (a streaming replica of DATABASE_URL)"
        );
        anyhow::ensure!(self.is_postgres(), "DATABASE_READ_URL needs DATABASE_URL on PostgreSQL");
        let mut opts = ConnectOptions::new(url.to_string());
        opts.sqlx_logging(false)
            .acquire_timeout(Duration::from_secs(2))
            .connect_timeout(Duration::from_secs(2))
            .max_connections(20)
            .min_connections(0)
            .connect_lazy(true);
        let conn = Database::connect(opts)
            .await
            .with_context(|| format!("DATABASE_READ_URL {}", redact(url)))?;
        self.replica = Some(Arc::new(Replica {
            conn,
            checked: tokio::sync::Mutex::new(None),
            reads: AtomicU64::new(0),
            kept: AtomicU64::new(0),
        }));
        Ok(self)
    }

    /// Run the read `f` where `actor`'s heavy reads go: the replica when there is one, it
    /// answers, it is less than 30 s behind, and the actor's last write (their newest audit
    /// entry) is older than its lag plus a margin — so a writer's next request sees their
    /// write; otherwise the primary. When the replica fails under the read (unreachable),
    /// the read runs again on the primary. `f` must only read.
    pub async fn reading<T, F, Fut>(&self, actor: &crate::Actor, f: F) -> crate::CoreResult<T>
    where
        F: Fn(Db) -> Fut,
        Fut: std::future::Future<Output = crate::CoreResult<T>>,
    {
        let db = self.for_reading(actor).await;
        if !db.on_replica {
            return f(db).await;
        }
        match f(db).await {
            Err(crate::CoreError::Unavailable(e)) => {
                if let Some(r) = &self.replica {
                    r.down(&e).await;
                }
                f(self.clone()).await
            }
            other => other,
        }
    }

    async fn for_reading(&self, actor: &crate::Actor) -> Db {
        let Some(r) = self.replica.as_ref().filter(|_| !self.on_replica) else {
            return self.clone();
        };
        let lag = r.lag().await;
        let fresh = match lag {
            None => false,
            Some(lag) => match self.last_write(actor.id).await {
                Ok(None) => true,
                Ok(Some(at)) => (crate::clock::now() - at).num_milliseconds() as f64 / 1000.0 > lag + FRESH_MARGIN_SECS,
                Err(_) => false,
            },
        };
        if fresh {
            r.reads.fetch_add(1, Ordering::Relaxed);
            Db {
                conn: r.conn.clone(),
                replica: None,
                on_replica: true,
                changes: self.changes.clone(),
            }
        } else {
            r.kept.fetch_add(1, Ordering::Relaxed);
            self.clone()
        }
    }

    /// (reads sent to the replica, reads kept on the primary), for `/metrics`.
    pub fn replica_reads(&self) -> Option<(u64, u64)> {
        self.replica
            .as_ref()
            .map(|r| (r.reads.load(Ordering::Relaxed), r.kept.load(Ordering::Relaxed)))
    }

    async fn last_write(&self, actor: uuid::Uuid) -> Result<Option<chrono::DateTime<chrono::Utc>>, sea_orm::DbErr> {
        use crate::entities::audit_log;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
        audit_log::Entity::find()
            .select_only()
            .column(audit_log::Column::CreatedAt)
            .filter(audit_log::Column::ActorId.eq(actor))
            .order_by_desc(audit_log::Column::CreatedAt)
            .into_tuple::<chrono::DateTime<chrono::Utc>>()
            .one(&self.conn)
            .await
    }

    /// The raw connection, outside every scope: for the CLI (backups, imports acting for a
    /// named owner), seeding, benchmarks and tests — never for serving a request.
    pub fn unscoped(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Contacts, companies or users changed (a write this instance made has committed).
    pub fn changed(&self) {
        self.changes.bump();
    }

    /// The change epoch (`changes`): an answer read under it is current while it stays
    /// the same. `None` while changes could go unseen (PostgreSQL's listener is down).
    pub fn change_epoch(&self) -> Option<u64> {
        self.changes.epoch()
    }

    pub(crate) fn changes(&self) -> &crate::changes::Changes {
        &self.changes
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    pub fn is_postgres(&self) -> bool {
        self.backend() == DbBackend::Postgres
    }

    /// Run pending migrations (creates pg_trgm first when allowed).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        if self.is_postgres()
            && let Err(e) = self
                .conn
                .execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                .await
        {
            tracing::warn!("could not create the pg_trgm extension: {e}");
        }
        // several instances may start at once: on PostgreSQL one migrates at a time (a
        // transaction-scoped advisory lock held on a connection of its own while the
        // migrations run on the others); the next finds nothing pending
        let lock = if self.is_postgres() {
            let txn = self.conn.begin().await?;
            txn.execute_unprepared("SELECT pg_advisory_xact_lock(7262011)").await?;
            Some(txn)
        } else {
            None
        };
        Migrator::up(&self.conn, None)
            .await
            .context("database migration failed")?;
        if let Some(txn) = lock {
            txn.commit().await?;
        }
        // SQLite: fold what the migrations wrote (every step's copy of the schema pages) into
        // the file and empty the log, rather than carry megabytes of it until the first
        // automatic checkpoint (a reader still busy just leaves the rest to that one)
        if !self.is_postgres()
            && let Err(e) = self.conn.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await
        {
            tracing::warn!("checkpoint after migrating: {e}");
        }
        Ok(())
    }

    /// `SELECT 1`, for readiness.
    pub async fn ping(&self) -> bool {
        self.conn.ping().await.is_ok()
    }
}

impl Replica {
    /// A read failed on the replica: the primary is read until the next check (1 s).
    async fn down(&self, why: &str) {
        self.reads.fetch_sub(1, Ordering::Relaxed);
        self.kept.fetch_add(1, Ordering::Relaxed);
        let mut checked = self.checked.lock().await;
        if checked.is_some_and(|(_, lag)| lag.is_some()) {
            tracing::warn!("a read on the replica failed ({why}): reading from the primary");
        }
        *checked = Some((Instant::now(), None));
    }

    /// The replay lag in seconds, checked at most once a second; None when the replica
    /// cannot be reached or is too far behind (then the primary is read, and it is logged
    /// when that changes).
    async fn lag(&self) -> Option<f64> {
        let mut checked = self.checked.lock().await;
        if let Some((at, lag)) = *checked
            && at.elapsed() < Duration::from_secs(1)
        {
            return lag;
        }
        const SQL: &str = "SELECT (CASE WHEN NOT pg_is_in_recovery() THEN 0 \
            WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 \
            ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END)::float8 AS lag";
        let read = tokio::time::timeout(
            Duration::from_secs(2),
            self.conn
                .query_one_raw(sea_orm::Statement::from_string(DbBackend::Postgres, SQL)),
        )
        .await;
        let lag = match read {
            Ok(Ok(Some(row))) => row.try_get::<f64>("", "lag").ok(),
            Ok(Err(e)) => {
                tracing::debug!("read replica: {e}");
                None
            }
            _ => None,
        };
        let lag = lag.filter(|l| *l < MAX_LAG_SECS);
        let was = checked.map(|(_, l)| l.is_some());
        match (was, lag) {
            (Some(true) | None, None) => {
                tracing::warn!(
                    "the read replica cannot be reached or is over {MAX_LAG_SECS} s behind: reading from the primary"
                )
            }
            (Some(false), Some(_)) => tracing::info!("the read replica is back: reading from it again"),
            _ => {}
        }
        *checked = Some((Instant::now(), lag));
        lag
    }
}

/// What read helpers run on: the pool ([`Db`]) or a transaction, so a write can build the
/// API view of what it changed inside its own transaction (webhook payloads).
pub trait Conn: Sync {
    type C: ConnectionTrait + Sync;
    fn conn(&self) -> &Self::C;
}

impl Conn for Db {
    type C = DatabaseConnection;
    fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }
}

impl Conn for sea_orm::DatabaseTransaction {
    type C = sea_orm::DatabaseTransaction;
    fn conn(&self) -> &sea_orm::DatabaseTransaction {
        self
    }
}

/// A database URL without its password, for logs and errors.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
