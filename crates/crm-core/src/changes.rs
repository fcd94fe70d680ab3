//! When the records that cached answers are made of change (contacts, companies, users).
//!
//! A counter, the *epoch*, goes up after every such change this instance learns of: after
//! each unsafe HTTP request it serves (the web layer), after each import batch, and on
//! PostgreSQL after each notice on `crm_changes` — statement triggers on the three tables
//! (migration m0021) notify every instance once the change has committed. An answer read
//! under epoch `e` is good while the epoch is still `e`: a change is counted only after it
//! committed, so a read that began after the count sees it, and a read that began before
//! is dropped by the count.
//!
//! On PostgreSQL the epoch is only usable while the listener is connected (a notice sent
//! while it is not is lost): [`Db::change_epoch`] is `None` then, and nothing is cached.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::db::Db;

/// The channel of the change notices (the migration's trigger function names it too).
pub const CHANNEL: &str = "crm_changes";

#[derive(Debug, Default)]
pub struct Changes {
    epoch: AtomicU64,
    /// PostgreSQL: the listener is connected (SQLite: always true, see [`Db::connect`]).
    live: AtomicBool,
}

impl Changes {
    pub(crate) fn new(live: bool) -> Changes {
        Changes {
            epoch: AtomicU64::new(0),
            live: AtomicBool::new(live),
        }
    }
    pub(crate) fn bump(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
    }
    pub(crate) fn epoch(&self) -> Option<u64> {
        self.live
            .load(Ordering::SeqCst)
            .then(|| self.epoch.load(Ordering::SeqCst))
    }
    fn set_live(&self, live: bool) {
        self.live.store(live, Ordering::SeqCst);
        self.bump();
    }
}

/// On PostgreSQL, listen for change notices until `stop` turns true, reconnecting after a
/// lost connection (the epoch is unusable until the listener is back). Nothing on SQLite.
pub fn watch(db: Db, mut stop: tokio::sync::watch::Receiver<bool>) {
    if !db.is_postgres() {
        return;
    }
    tokio::spawn(async move {
        loop {
            let run = listen(&db);
            tokio::select! {
                r = run => {
                    db.changes().set_live(false);
                    if let Err(e) = r {
                        tracing::warn!("change notices: {e}; cached answers are off until the listener is back");
                    }
                }
                _ = stop.changed() => {
                    db.changes().set_live(false);
                    return;
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

/// One connection's worth of listening: returns when the connection is lost.
async fn listen(db: &Db) -> Result<(), sea_orm::sqlx::Error> {
    let pool = db.unscoped().get_postgres_connection_pool();
    let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(pool).await?;
    // a lost connection ends this call: the caller marks the epoch unusable first
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    db.changes().set_live(true);
    while listener.try_recv().await?.is_some() {
        db.changes().bump();
    }
    Ok(())
}
