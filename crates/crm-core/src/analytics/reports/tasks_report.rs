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
    let tasks = || scope::visible::<task::Entity>(actor);
    let completed = tasks().filter(task::Column::Completed.eq(true));
    let average = async {
        let avg: Option<Option<f64>> = completed
            .clone()
            .filter(task::Column::CompletedAt.gte(r.from))
            .filter(task::Column::CompletedAt.lt(r.to))
            .select_only()
            .column_as(
                days_between(db, "tasks.created_at", "tasks.completed_at")
                    .avg()
                    .cast_as("DOUBLE PRECISION"),
                "d",
            )
            .into_tuple()
            .one(&db.conn)
            .await?;
        Ok::<_, CoreError>(avg.flatten())
    };
    let overdue_now = async {
        let n = tasks()
            .filter(task::Column::Completed.eq(false))
            .filter(task::Column::DueDate.lt(now))
            .count(&db.conn)
            .await?;
        Ok::<_, CoreError>(n as i64)
    };

    // Overdue at the end of each day: those overdue when the range starts, plus tasks
    // falling due (and not done in time), minus overdue tasks completed — up to now.
    let end = Ord::min(r.to, now);
    let trend_days = (first, Ord::min(last, clock::local(&end).date_naive()));
    let base = async {
        let n = tasks()
            .filter(task::Column::DueDate.lt(r.from))
            .filter(
                sea_orm::Condition::any()
                    .add(task::Column::Completed.eq(false))
                    .add(task::Column::CompletedAt.gte(r.from)),
            )
            .count(&db.conn)
            .await?;
        Ok::<_, CoreError>(n as i64)
    };
    let late = sea_orm::Condition::any()
        .add(task::Column::Completed.eq(false))
        .add(Expr::col(task::Column::CompletedAt).gt(Expr::col(task::Column::DueDate)));
    let falling_due = tasks().filter(late);
    let resolving = tasks()
        .filter(task::Column::Completed.eq(true))
        .filter(Expr::col(task::Column::CompletedAt).gt(Expr::col(task::Column::DueDate)));
    // independent reads, side by side on pooled connections
    let (t, avg, completed_days, overdue_now, base, fell_due, resolved) = tokio::try_join!(
        Tallies::read(db, actor, "tasks", Some((first, last))),
        average,
        per_bucket(db, completed.clone(), task::Column::CompletedAt, (first, last), g, r.to),
        overdue_now,
        base,
        per_bucket(db, falling_due, task::Column::DueDate, trend_days, g, end),
        per_bucket(db, resolving, task::Column::CompletedAt, trend_days, g, end),
    )?;
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
    let mut level: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    let mut running = base;
    for d in days(trend_days.0, trend_days.1) {
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

// one SELECT per bucket: a report has at most MAX_POINTS of them, and SQLite's compound
// SELECT at most 500 terms (SQLITE_MAX_COMPOUND_SELECT)
const _: () = assert!(super::MAX_POINTS <= 500);
const PG_UNION_MAX: usize = 60;

/// Tasks of `select` per bucket (`g`) of the days `first..=last`, by `col`, before `until`,
/// each bucket's count placed on a day of it (a sum over the bucket, and a running level at
/// its last day, come out the same), with no row converted to a local day. SQLite counts
/// each bucket between its bounds (the start of its first local day, the next bucket's) on
/// the column's index, all in one statement; `select` holds no other bound on `col`, or
/// SQLite would walk the widest pair of bounds for every bucket. PostgreSQL plans each of the
/// SELECTs (0.25 ms each: a 400-day range by day, 100 ms), so beyond [`PG_UNION_MAX`]
/// buckets it counts per quarter hour and places each quarter hour in its local day (offsets
/// are whole quarter hours, so a quarter hour never straddles local midnight): 21 ms for the
/// same range, 15–20 ms for a month, whose 30 SELECTs take 8.
async fn per_bucket(
    db: &Db,
    select: sea_orm::Select<task::Entity>,
    col: task::Column,
    (first, last): (NaiveDate, NaiveDate),
    g: &str,
    until: DateTime<Utc>,
) -> CoreResult<HashMap<NaiveDate, i64>> {
    use sea_orm::sea_query::UnionType;
    use sea_orm::{ConnectionTrait, DbBackend, IdenStatic, QueryTrait, Statement};
    let mut starts: Vec<NaiveDate> = Vec::new();
    for d in days(first, last) {
        if starts
            .last()
            .is_none_or(|s| super::bucket(*s, g) != super::bucket(d, g))
        {
            starts.push(d);
        }
    }
    if db.is_postgres() && starts.len() > PG_UNION_MAX {
        let end = Ord::min(day_start(last + Duration::days(1)), until);
        let bucket = format!(
            "to_timestamp(floor(extract(epoch from tasks.{}) / 900) * 900)",
            col.as_str()
        );
        let inner = select
            .filter(col.gte(day_start(first)))
            .filter(col.lt(end))
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
        let rows = db
            .conn
            .query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values))
            .await?;
        let mut out = HashMap::new();
        for r in rows {
            let (d, n): (String, i64) = (r.try_get("", "d")?, r.try_get("", "n")?);
            if let Ok(d) = NaiveDate::parse_from_str(&d, "%Y-%m-%d") {
                out.insert(d, n);
            }
        }
        return Ok(out);
    }
    let ends = starts.iter().skip(1).copied().chain([last + Duration::days(1)]);
    let mut counts = starts.iter().zip(ends).enumerate().map(|(i, (s, e))| {
        select
            .clone()
            .filter(col.gte(day_start(*s)))
            .filter(col.lt(Ord::min(day_start(e), until)))
            .select_only()
            .column_as(Expr::val(i as i64), "i")
            .column_as(count_rows(), "n")
            .into_query()
    });
    let Some(mut union) = counts.next() else {
        return Ok(HashMap::new());
    };
    for c in counts {
        union.union(UnionType::All, c);
    }
    let rows = db.conn.query_all(&union).await?;
    let mut out = HashMap::new();
    for r in rows {
        let (i, n): (i64, i64) = (r.try_get("", "i")?, r.try_get("", "n")?);
        if let Some(d) = starts.get(i as usize) {
            out.insert(*d, n);
        }
    }
    Ok(out)
}
