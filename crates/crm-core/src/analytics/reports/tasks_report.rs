//! Tasks: created and completed in the range, by priority, completion time, the overdue trend.

use super::*;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskAnalytics {
    /// Tasks created in the range, and how many of them are completed now.
    pub created: i64,
    pub created_completed: i64,
    pub completion_rate: f64,
    /// Tasks created in the range per priority (low, medium, high): still open, completed.
    pub created_by_priority: Vec<PriorityFigure>,
    /// Over the tasks completed in the range: average days from creation to completion.
    pub average_days_to_complete: f64,
    pub completed_over_time: Vec<Point>,
    /// Open tasks due before now.
    pub overdue_now: i64,
    /// Tasks overdue at the end of each bucket (up to now).
    pub overdue_trend: Vec<Point>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PriorityFigure {
    pub priority: &'static str,
    pub open: i64,
    pub completed: i64,
}

pub(super) async fn tasks(db: &Db, actor: &Actor, r: Range, g: &str) -> CoreResult<TaskAnalytics> {
    let (first, last) = r.days();
    let now = clock::now();
    let t = Tallies::read(db, actor, "tasks", Some((first, last))).await?;
    let created = t.total();
    let created_completed: i64 = t.per_day(|k| k.ends_with(":done")).values().sum();
    let created_by_priority = crate::TaskPriority::NAMES
        .into_iter()
        .map(|p| PriorityFigure {
            priority: p,
            open: t.count(&format!("{p}:open")),
            completed: t.count(&format!("{p}:done")),
        })
        .collect();
    let tasks = || scope::visible::<task::Entity>(actor);
    let completed_in = || {
        tasks()
            .filter(task::Column::Completed.eq(true))
            .filter(task::Column::CompletedAt.gte(r.from))
            .filter(task::Column::CompletedAt.lt(r.to))
    };
    let avg: Option<f64> = completed_in()
        .select_only()
        .column_as(
            days_between(db, "tasks.created_at", "tasks.completed_at")
                .avg()
                .cast_as("DOUBLE PRECISION"),
            "d",
        )
        .into_tuple()
        .one(&db.conn)
        .await?
        .flatten();
    let completed_days = per_day(db, completed_in(), "tasks.completed_at").await?;
    let overdue_now = tasks()
        .filter(task::Column::Completed.eq(false))
        .filter(task::Column::DueDate.lt(now))
        .count(&db.conn)
        .await? as i64;

    // Overdue at the end of each day: those overdue when the range starts, plus tasks
    // falling due (and not done in time), minus overdue tasks completed — up to now.
    let end = Ord::min(r.to, now);
    let base = tasks()
        .filter(task::Column::DueDate.lt(r.from))
        .filter(
            sea_orm::Condition::any()
                .add(task::Column::Completed.eq(false))
                .add(task::Column::CompletedAt.gte(r.from)),
        )
        .count(&db.conn)
        .await? as i64;
    let late = || {
        sea_orm::Condition::any()
            .add(task::Column::Completed.eq(false))
            .add(Expr::col(task::Column::CompletedAt).gt(Expr::col(task::Column::DueDate)))
    };
    let fell_due = per_day(
        db,
        tasks()
            .filter(task::Column::DueDate.gte(r.from))
            .filter(task::Column::DueDate.lt(end))
            .filter(late()),
        "tasks.due_date",
    )
    .await?;
    let resolved = per_day(
        db,
        tasks()
            .filter(task::Column::Completed.eq(true))
            .filter(task::Column::CompletedAt.gte(r.from))
            .filter(task::Column::CompletedAt.lt(end))
            .filter(Expr::col(task::Column::CompletedAt).gt(Expr::col(task::Column::DueDate))),
        "tasks.completed_at",
    )
    .await?;
    let mut level: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    let mut running = base;
    for d in days(first, Ord::min(last, clock::local(&end).date_naive())) {
        running += fell_due.get(&d).copied().unwrap_or(0) - resolved.get(&d).copied().unwrap_or(0);
        level.insert(d, running);
    }
    let trend_last = level.keys().next_back().copied().unwrap_or(first);
    let overdue_trend = if level.is_empty() {
        Vec::new()
    } else {
        series(first, trend_last, g, false, |d| {
            level.get(&d).copied().unwrap_or(0) as f64
        })
    };
    Ok(TaskAnalytics {
        created,
        created_completed,
        completion_rate: pct(created_completed, created),
        created_by_priority,
        average_days_to_complete: round1(avg.unwrap_or(0.0)),
        completed_over_time: series(first, last, g, true, |d| {
            completed_days.get(&d).copied().unwrap_or(0) as f64
        }),
        overdue_now,
        overdue_trend,
    })
}

/// Tasks of `select` per day of `col` (the organisation's days).
async fn per_day(db: &Db, select: sea_orm::Select<task::Entity>, col: &str) -> CoreResult<HashMap<NaiveDate, i64>> {
    let rows: Vec<(String, i64)> = if db.is_postgres() {
        // counted per quarter hour first, then each quarter hour placed in its local day: the
        // zone's offset is looked up once per quarter hour with tasks, not once per task (zone
        // offsets are whole quarter hours, so a quarter hour never straddles local midnight)
        use sea_orm::{ConnectionTrait, DbBackend, QueryTrait, Statement};
        let bucket = format!("to_timestamp(floor(extract(epoch from {col}) / 900) * 900)");
        let inner = select
            .select_only()
            .column_as(Expr::cust(bucket.clone()), "b")
            .column_as(count_rows(), "n")
            .group_by(Expr::cust(bucket))
            .into_query();
        let built = DbBackend::Postgres.build(&inner);
        let sql = format!(
            "SELECT {} AS d, SUM(s.n)::bigint AS n FROM ({}) s GROUP BY 1",
            crate::migration::local_day(DbBackend::Postgres, "s.b"),
            built.sql
        );
        let values = built.values.map(|v| v.0).unwrap_or_default();
        db.conn
            .query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values))
            .await?
            .iter()
            .map(|r| Ok((r.try_get::<String>("", "d")?, r.try_get::<i64>("", "n")?)))
            .collect::<Result<_, sea_orm::DbErr>>()?
    } else {
        select
            .select_only()
            .column_as(day_expr(db, col), "d")
            .column_as(count_rows(), "n")
            .group_by(day_expr(db, col))
            .into_tuple()
            .all(&db.conn)
            .await?
    };
    Ok(rows
        .into_iter()
        .filter_map(|(d, n)| Some((NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()?, n)))
        .collect())
}
