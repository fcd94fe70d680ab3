//! The connection pool and the few places where SQLite and PostgreSQL differ.

use std::time::Duration;

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
}

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
        Ok(Db { conn })
    }

    /// The raw connection, outside every scope: for the CLI (backups, imports acting for a
    /// named owner), seeding, benchmarks and tests — never for serving a request.
    pub fn unscoped(&self) -> &DatabaseConnection {
        &self.conn
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
        Ok(())
    }

    /// `SELECT 1`, for readiness.
    pub async fn ping(&self) -> bool {
        self.conn.ping().await.is_ok()
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
