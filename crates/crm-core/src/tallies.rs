//! Reading the tallies: per-day counts (and cents) of records by kind, key and owner,
//! kept by triggers on the record tables in the organisation's local days (migrations
//! m0007/m0011; `migration::rebuild_tallies` recounts). Lists take their exact totals from
//! here and the dashboard and reports their figures; every read starts from the actor's
//! scope (a tally row has an owner like the records it counts).

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::actor::Actor;
use crate::db::Db;
use crate::entities::record_count;
use crate::error::CoreResult;
use crate::scope;

/// The tally rows of one kind the actor may see, on the days `from..=to` (all when `None`).
fn of_kind(actor: &Actor, kind: &str, days: Option<(NaiveDate, NaiveDate)>) -> sea_orm::Select<record_count::Entity> {
    let q = scope::visible::<record_count::Entity>(actor).filter(record_count::Column::Kind.eq(kind));
    match days {
        Some((from, to)) => q
            .filter(record_count::Column::Day.gte(from.format("%Y-%m-%d").to_string()))
            .filter(record_count::Column::Day.lte(to.format("%Y-%m-%d").to_string())),
        None => q,
    }
}

/// The rows' summed count.
fn sum_n() -> sea_orm::sea_query::SimpleExpr {
    Expr::col(record_count::Column::N).sum().cast_as("BIGINT")
}

/// Tallies of one kind (`contacts`, `activities`, `activity_hours`, `tasks`, `deals`) that
/// the actor may see, per day and key, over the days `from..=to` (all days when `None`).
pub struct Tallies {
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
        let rows: Vec<(String, String, i64, i64)> = of_kind(actor, kind, range)
            .select_only()
            .column(record_count::Column::Day)
            .column(record_count::Column::K)
            .column_as(sum_n(), "n")
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
pub async fn count(db: &Db, actor: &Actor, kind: &str, key: Option<&str>, owner: Option<Uuid>) -> CoreResult<u64> {
    let mut q = of_kind(actor, kind, None);
    if let Some(k) = key {
        q = q.filter(record_count::Column::K.eq(k));
    }
    if let Some(o) = owner {
        q = q.filter(record_count::Column::Owner.eq(o));
    }
    Ok(Ord::max(summed(db, q).await?, 0) as u64)
}

/// How many records of a kind the actor may see were created on the days `from..=to` (of
/// all time when `None`).
pub async fn total(db: &Db, actor: &Actor, kind: &str, days: Option<(NaiveDate, NaiveDate)>) -> CoreResult<i64> {
    summed(db, of_kind(actor, kind, days)).await
}

/// The summed count of tally rows (0 for none).
async fn summed(db: &Db, q: sea_orm::Select<record_count::Entity>) -> CoreResult<i64> {
    let n: Option<i64> = q
        .select_only()
        .column_as(sum_n(), "n")
        .into_tuple()
        .one(&db.conn)
        .await?
        .flatten();
    Ok(n.unwrap_or(0))
}

/// Tallies of one kind over a day range, per owner (for top performers).
pub async fn by_owner(
    db: &Db,
    actor: &Actor,
    kind: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> CoreResult<HashMap<Uuid, i64>> {
    let rows: Vec<(Uuid, i64)> = of_kind(actor, kind, Some((from, to)))
        .select_only()
        .column(record_count::Column::Owner)
        .column_as(sum_n(), "n")
        .group_by(record_count::Column::Owner)
        .into_tuple()
        .all(&db.conn)
        .await?;
    Ok(rows.into_iter().filter(|(u, _)| !u.is_nil()).collect())
}
