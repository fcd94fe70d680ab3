//! The claim shared by the durable queues (`mail_queue`, `webhook_deliveries`): a worker
//! of any instance reads the rows that are due, then claims each one with a conditional
//! update that moves its `next_attempt_at` forward by a lease. Only the instance whose
//! update lands (the row still has the `next_attempt_at` it read) works on it; if that
//! instance dies mid-way, the row is due again when the lease runs out.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

/// Claim row `id` whose due time was read as `due`, for `lease`; `extra` must still hold
/// (e.g. "not sent yet"). True when this caller owns the row now.
pub async fn claim<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    id_col: E::Column,
    due_col: E::Column,
    id: uuid::Uuid,
    due: chrono::DateTime<chrono::Utc>,
    lease: chrono::Duration,
    extra: Condition,
) -> Result<bool, DbErr> {
    let res = E::update_many()
        .col_expr(due_col, Expr::value(crate::clock::now() + lease))
        .filter(id_col.eq(id))
        .filter(due_col.eq(due))
        .filter(extra)
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Depth and age (seconds) of the oldest waiting item of each queue, for `/metrics`.
pub async fn depths(db: &crate::Db) -> Vec<(&'static str, i64, f64)> {
    use sea_orm::Statement;
    let now = crate::clock::now();
    let sql = [
        (
            "mail",
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM mail_queue WHERE sent_at IS NULL AND failed_at IS NULL",
        ),
        (
            "webhooks",
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM webhook_deliveries WHERE status = 'pending'",
        ),
        (
            "imports",
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM imports WHERE status IN ('queued', 'running')",
        ),
    ];
    let mut out = vec![];
    for (name, q) in sql {
        let row = db
            .conn
            .query_one_raw(Statement::from_string(db.backend(), q))
            .await
            .ok()
            .flatten();
        let n: i64 = row.as_ref().and_then(|r| r.try_get("", "n").ok()).unwrap_or(0);
        let oldest = row.as_ref().and_then(|r| {
            r.try_get::<Option<chrono::DateTime<chrono::Utc>>>("", "oldest")
                .ok()
                .flatten()
                .or_else(|| {
                    // SQLite hands an aggregate of a TEXT column back as text
                    let s = r.try_get::<Option<String>>("", "oldest").ok().flatten()?;
                    chrono::DateTime::parse_from_rfc3339(&s)
                        .or_else(|_| chrono::DateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S%.f%:z"))
                        .ok()
                        .map(|d| d.with_timezone(&chrono::Utc))
                })
        });
        let age = oldest
            .map(|o| (now - o).num_milliseconds() as f64 / 1000.0)
            .unwrap_or(0.0);
        out.push((name, n, age));
    }
    out
}

/// (connections open, idle) of the pool, for `/metrics`.
pub fn pool(db: &crate::Db) -> (u32, u32) {
    if db.is_postgres() {
        let p = db.conn.get_postgres_connection_pool();
        (p.size(), p.num_idle() as u32)
    } else {
        let p = db.conn.get_sqlite_connection_pool();
        (p.size(), p.num_idle() as u32)
    }
}
