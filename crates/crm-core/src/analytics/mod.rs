//! The dashboard and reports. Every figure is scoped to the actor (a rep's numbers count
//! only their records) and every time bucket is a day of the organisation's time zone (or
//! a week/month/quarter of such days). Totals and per-day series come from `record_counts` — tallies per owner, day and
//! key that database triggers keep exact — so they cost the same at a million rows as at
//! ten; the rest are range reads on indexed columns.

mod dashboard;
mod my_day;
pub mod reports;

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DbBackend, QueryFilter, QuerySelect};
use serde::Serialize;
use uuid::Uuid;

pub use dashboard::*;
pub use my_day::{MyDay, my_day};

use crate::actor::Actor;
use crate::db::Db;
use crate::entities::record_count;
use crate::error::CoreResult;
use crate::scope;

/// One value of a chart series or distribution. Time series use ISO day keys
/// (`2026-11-05`), or `2026-W45`, `2026-11`, `2026-Q4` when grouped.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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

/// `YYYY-MM-DD` of a timestamp column in the organisation's zone (the tallies' days).
pub(crate) fn day_expr(db: &Db, col: &str) -> Expr {
    Expr::cust(crate::migration::local_day(db.backend(), col))
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

/// Tallies of one kind (`contacts`, `activities`, `activity_hours`, `tasks`, `deals`) that
/// the actor may see, per day and key, over the days `from..=to` (all days when `None`).
pub(crate) struct Tallies {
    /// (day, key) → (count, cents)
    pub cells: Vec<(NaiveDate, String, i64, i64)>,
}

impl Tallies {
    pub async fn read(
        db: &Db,
        actor: &Actor,
        kind: &str,
        range: Option<(NaiveDate, NaiveDate)>,
    ) -> CoreResult<Tallies> {
        let mut q = scope::visible::<record_count::Entity>(actor).filter(record_count::Column::Kind.eq(kind));
        if let Some((from, to)) = range {
            q = q
                .filter(record_count::Column::Day.gte(from.format("%Y-%m-%d").to_string()))
                .filter(record_count::Column::Day.lte(to.format("%Y-%m-%d").to_string()));
        }
        let rows: Vec<(String, String, i64, i64)> = q
            .select_only()
            .column(record_count::Column::Day)
            .column(record_count::Column::K)
            .column_as(Expr::col(record_count::Column::N).sum().cast_as("BIGINT"), "n")
            .column_as(Expr::col(record_count::Column::Cents).sum().cast_as("BIGINT"), "cents")
            .group_by(record_count::Column::Day)
            .group_by(record_count::Column::K)
            .into_tuple()
            .all(&db.conn)
            .await?;
        Ok(Tallies {
            cells: rows
                .into_iter()
                .filter_map(|(d, k, n, c)| Some((NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()?, k, n, c)))
                .collect(),
        })
    }

    /// Count and cents per key.
    pub fn by_key(&self) -> HashMap<String, (i64, i64)> {
        let mut out: HashMap<String, (i64, i64)> = HashMap::new();
        for (_, k, n, c) in &self.cells {
            let e = out.entry(k.clone()).or_default();
            e.0 += n;
            e.1 += c;
        }
        out
    }

    /// Count of one key (0 if absent).
    pub fn count(&self, key: &str) -> i64 {
        self.cells.iter().filter(|c| c.1 == key).map(|c| c.2).sum()
    }

    pub fn total(&self) -> i64 {
        self.cells.iter().map(|c| c.2).sum()
    }

    /// Count per day of the rows whose key passes `keep`.
    pub fn per_day(&self, keep: impl Fn(&str) -> bool) -> HashMap<NaiveDate, i64> {
        let mut out: HashMap<NaiveDate, i64> = HashMap::new();
        for (d, k, n, _) in &self.cells {
            if keep(k) {
                *out.entry(*d).or_default() += n;
            }
        }
        out
    }
}

/// How many records of a kind the actor may see — all of them, or those with one key
/// and/or one owner — from the tallies: an exact count that costs the same at any size
/// (lists without a search use it for their total).
pub async fn tally_count(
    db: &Db,
    actor: &Actor,
    kind: &str,
    key: Option<&str>,
    owner: Option<Uuid>,
) -> CoreResult<u64> {
    let mut q = scope::visible::<record_count::Entity>(actor).filter(record_count::Column::Kind.eq(kind));
    if let Some(k) = key {
        q = q.filter(record_count::Column::K.eq(k));
    }
    if let Some(o) = owner {
        q = q.filter(record_count::Column::Owner.eq(o));
    }
    let n: Option<i64> = q
        .select_only()
        .column_as(Expr::col(record_count::Column::N).sum().cast_as("BIGINT"), "n")
        .into_tuple()
        .one(&db.conn)
        .await?
        .flatten();
    Ok(Ord::max(n.unwrap_or(0), 0) as u64)
}

/// Tallies of one kind over a day range, per owner (for top performers).
pub(crate) async fn tally_by_owner(
    db: &Db,
    actor: &Actor,
    kind: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> CoreResult<HashMap<Uuid, i64>> {
    let rows: Vec<(Uuid, i64)> = scope::visible::<record_count::Entity>(actor)
        .filter(record_count::Column::Kind.eq(kind))
        .filter(record_count::Column::Day.gte(from.format("%Y-%m-%d").to_string()))
        .filter(record_count::Column::Day.lte(to.format("%Y-%m-%d").to_string()))
        .select_only()
        .column(record_count::Column::Owner)
        .column_as(Expr::col(record_count::Column::N).sum().cast_as("BIGINT"), "n")
        .group_by(record_count::Column::Owner)
        .into_tuple()
        .all(&db.conn)
        .await?;
    Ok(rows.into_iter().filter(|(u, _)| !u.is_nil()).collect())
}
