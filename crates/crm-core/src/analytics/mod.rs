//! The dashboard and reports. Every figure is scoped to the actor (a rep's numbers count
//! only their records) and every time bucket is a day of the organisation's time zone (or
//! a week/month/quarter of such days). Totals and per-day series come from `record_counts` (read through `crate::tallies`) — tallies per owner, day and
//! key that database triggers keep exact — so they cost the same at a million rows as at
//! ten; the rest are range reads on indexed columns.

mod dashboard;
mod my_day;
pub mod reports;

use chrono::{Duration, NaiveDate};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbBackend, EntityTrait, Order, QueryOrder, QuerySelect};
use serde::Serialize;
use uuid::Uuid;

pub use dashboard::*;
pub use my_day::{MyDay, my_day};

use crate::db::Db;

/// One value of a chart series or distribution. Time series use ISO day keys
/// (`2026-11-05`), or `2026-W45`, `2026-11`, `2026-Q4` when grouped.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Point {
    pub label: String,
    pub value: f64,
}

impl Point {
    pub fn new(label: impl Into<String>, value: f64) -> Self {
        Point {
            label: label.into(),
            value,
        }
    }
}

/// A record ranked by a figure (top companies, contacts, deals).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Ranked {
    pub id: Uuid,
    pub name: String,
    pub value: f64,
}

/// `part / whole` in percent with one decimal; 0 when `whole` is 0.
pub fn pct(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        round1(part as f64 * 100.0 / whole as f64)
    }
}

pub(crate) fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

pub(crate) fn dollars(cents: i64) -> f64 {
    cents as f64 / 100.0
}

pub(crate) use crate::clock::day_start;

/// The days `from..=to`.
pub(crate) fn days(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    (0..=(to - from).num_days()).map(move |i| from + Duration::days(i))
}

/// A zero-filled series over the range's days: per-day values summed per bucket (`sum`),
/// or the bucket's last day's value (a level, like "overdue at the end of the day").
pub(crate) fn series(
    from: NaiveDate,
    to: NaiveDate,
    group: &str,
    sum: bool,
    mut value: impl FnMut(NaiveDate) -> f64,
) -> Vec<Point> {
    let mut out: Vec<Point> = Vec::new();
    for d in days(from, to) {
        let key = reports::bucket(d, group);
        let v = value(d);
        match out.last_mut() {
            Some(p) if p.label == key => p.value = if sum { p.value + v } else { v },
            _ => out.push(Point::new(key, v)),
        }
    }
    for p in &mut out {
        p.value = (p.value * 100.0).round() / 100.0;
    }
    out
}

/// The ten largest groups of a query by an aggregate (`n`), biggest first, ties by key.
pub(crate) fn top_ten<E: EntityTrait, C: ColumnTrait>(
    q: sea_orm::Select<E>,
    key: C,
    aggregate: Expr,
) -> sea_orm::Select<E> {
    q.select_only()
        .column(key)
        .column_as(aggregate, "n")
        .group_by(key)
        .order_by(Expr::col("n"), Order::Desc)
        .order_by(key, Order::Asc)
        .limit(10)
}

/// `count(*)`: counts rows from an index alone (`count(id)` would read every table row).
pub(crate) fn count_rows() -> Expr {
    Expr::cust("count(*)")
}

/// Days between two timestamp columns, as a float, per backend.
pub(crate) fn days_between(db: &Db, from: &str, to: &str) -> Expr {
    match db.backend() {
        DbBackend::Postgres => Expr::cust(format!("EXTRACT(EPOCH FROM ({to} - {from})) / 86400.0")),
        _ => Expr::cust(format!("julianday({to}) - julianday({from})")),
    }
}
