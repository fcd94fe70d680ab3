//! Reports over a date range (UTC days), every figure scoped to the actor: sales
//! performance, pipeline (average days in each stage from stage history), activity mix
//! and weekday × hour heatmap, task analytics, and top performers.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use uuid::Uuid;

use super::Point;
use crate::actor::Actor;
use crate::db::Db;
use crate::entities::{activity, contact, deal, deal_stage_history, task, user};
use crate::error::{CoreError, CoreResult, FieldErrors};
use crate::query::QueryParams;
use crate::{clock, scope};

#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub from: DateTime<Utc>,
    /// Exclusive end.
    pub to: DateTime<Utc>,
}

impl Range {
    /// `preset` = today | week | month | quarter | custom (with `from`, `to` as dates).
    pub fn parse(q: &QueryParams, today: NaiveDate) -> CoreResult<(Range, String)> {
        let start = |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default());
        let preset = q
            .get("preset")
            .unwrap_or(if q.get("from").is_some() { "custom" } else { "month" })
            .to_string();
        let (from, to) = match preset.as_str() {
            "today" => (today, today),
            "week" => (
                today - Duration::days(today.weekday().num_days_from_monday() as i64),
                today,
            ),
            "month" => (today.with_day(1).unwrap_or(today), today),
            "quarter" => {
                let m = (today.month0() / 3) * 3 + 1;
                (NaiveDate::from_ymd_opt(today.year(), m, 1).unwrap_or(today), today)
            }
            "custom" => {
                let mut errs = FieldErrors::default();
                let (f, t) = q.date_range("from", "to", &mut errs);
                errs.finish()?;
                let f = f.ok_or_else(|| CoreError::field("from", "Choose a start date"))?;
                let t = t.ok_or_else(|| CoreError::field("to", "Choose an end date"))?;
                return Ok((Range { from: f, to: t }, preset));
            }
            _ => {
                return Err(CoreError::field(
                    "preset",
                    "Range must be one of: today, week, month, quarter, custom",
                ));
            }
        };
        Ok((
            Range {
                from: start(from),
                to: start(to) + Duration::days(1),
            },
            preset,
        ))
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Performer {
    pub user_id: Uuid,
    pub name: String,
    pub won_value: f64,
    pub won_deals: u64,
    pub activities: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reports {
    pub from: String,
    pub to: String,
    pub won_deals: u64,
    pub won_value: f64,
    pub lost_deals: u64,
    pub lost_value: f64,
    pub average_deal_size: f64,
    pub win_rate: f64,
    pub revenue_by_day: Vec<Point>,
    pub average_days_in_stage: Vec<Point>,
    pub new_contacts: u64,
    pub new_customers: u64,
    pub new_deals: u64,
    pub activities_by_type: Vec<Point>,
    /// 7 rows (Monday first) × 24 hours.
    pub activity_heatmap: Vec<Vec<u64>>,
    pub tasks_created: u64,
    pub tasks_completed: u64,
    pub task_completion_rate: f64,
    pub average_days_to_complete: f64,
    pub overdue_now: u64,
    pub top_performers: Vec<Performer>,
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / whole as f64).round() / 10.0
    }
}

pub async fn reports(db: &Db, actor: &Actor, r: Range) -> CoreResult<Reports> {
    let closed = |status: &'static str| {
        scope::visible::<deal::Entity>(actor)
            .filter(deal::Column::Status.eq(status))
            .filter(deal::Column::ActualCloseDate.gte(r.from))
            .filter(deal::Column::ActualCloseDate.lt(r.to))
    };
    let won = closed("won").all(&db.conn).await?;
    let lost = closed("lost").all(&db.conn).await?;
    let cents = |ds: &[deal::Model]| ds.iter().map(|d| d.value_cents).sum::<i64>() as f64 / 100.0;
    let mut by_day: std::collections::BTreeMap<String, f64> = Default::default();
    for d in &won {
        if let Some(t) = d.actual_close_date {
            *by_day.entry(t.format("%Y-%m-%d").to_string()).or_default() += d.value_cents as f64 / 100.0;
        }
    }

    // average days in each stage: between consecutive history rows of the same deal
    let visible_deals: Vec<Uuid> = scope::visible::<deal::Entity>(actor)
        .select_only()
        .column(deal::Column::Id)
        .into_tuple()
        .all(&db.conn)
        .await?;
    let mut spans: HashMap<String, (f64, u64)> = HashMap::new();
    for chunk in visible_deals.chunks(500) {
        let rows = deal_stage_history::Entity::find()
            .filter(deal_stage_history::Column::DealId.is_in(chunk.to_vec()))
            .order_by_asc(deal_stage_history::Column::DealId)
            .order_by_asc(deal_stage_history::Column::ChangedAt)
            .all(&db.conn)
            .await?;
        for pair in rows.windows(2) {
            if pair[0].deal_id == pair[1].deal_id && pair[1].changed_at >= r.from && pair[1].changed_at < r.to {
                let days = (pair[1].changed_at - pair[0].changed_at).num_seconds() as f64 / 86400.0;
                let e = spans.entry(pair[0].to_stage.clone()).or_default();
                e.0 += days;
                e.1 += 1;
            }
        }
    }
    let average_days_in_stage = ["lead", "qualified", "proposal", "negotiation"]
        .iter()
        .map(|s| {
            let (sum, n) = spans.get(*s).copied().unwrap_or_default();
            Point {
                label: crate::deals::stage_label(s).to_string(),
                value: if n == 0 {
                    0.0
                } else {
                    (sum / n as f64 * 10.0).round() / 10.0
                },
            }
        })
        .collect();

    let in_range_contacts = || {
        scope::visible::<contact::Entity>(actor)
            .filter(contact::Column::CreatedAt.gte(r.from))
            .filter(contact::Column::CreatedAt.lt(r.to))
    };
    let new_contacts = in_range_contacts().count(&db.conn).await?;
    let new_customers = in_range_contacts()
        .filter(contact::Column::Status.eq("customer"))
        .count(&db.conn)
        .await?;
    let new_deals = scope::visible::<deal::Entity>(actor)
        .filter(deal::Column::CreatedAt.gte(r.from))
        .filter(deal::Column::CreatedAt.lt(r.to))
        .count(&db.conn)
        .await?;

    let acts = || {
        scope::visible::<activity::Entity>(actor)
            .filter(activity::Column::CreatedAt.gte(r.from))
            .filter(activity::Column::CreatedAt.lt(r.to))
    };
    let mut activities_by_type = Vec::new();
    for kind in crate::activities::TYPES {
        activities_by_type.push(Point {
            label: kind.into(),
            value: acts().filter(activity::Column::Kind.eq(kind)).count(&db.conn).await? as f64,
        });
    }
    let (dow, hour) = match db.backend() {
        DbBackend::Postgres => (
            "CAST(EXTRACT(ISODOW FROM activities.created_at AT TIME ZONE 'UTC') AS BIGINT) - 1",
            "CAST(EXTRACT(HOUR FROM activities.created_at AT TIME ZONE 'UTC') AS BIGINT)",
        ),
        _ => (
            "(CAST(strftime('%w', activities.created_at) AS INTEGER) + 6) % 7",
            "CAST(strftime('%H', activities.created_at) AS INTEGER)",
        ),
    };
    let cells: Vec<(i64, i64, i64)> = acts()
        .select_only()
        .column_as(Expr::cust(dow), "d")
        .column_as(Expr::cust(hour), "h")
        .column_as(Expr::col(activity::Column::Id).count(), "n")
        .group_by(Expr::cust(dow))
        .group_by(Expr::cust(hour))
        .into_tuple()
        .all(&db.conn)
        .await?;
    let mut activity_heatmap = vec![vec![0u64; 24]; 7];
    for (d, h, n) in cells {
        if (0..7).contains(&d) && (0..24).contains(&h) {
            activity_heatmap[d as usize][h as usize] = n as u64;
        }
    }

    let tasks_created = scope::visible::<task::Entity>(actor)
        .filter(task::Column::CreatedAt.gte(r.from))
        .filter(task::Column::CreatedAt.lt(r.to))
        .count(&db.conn)
        .await?;
    let completed = scope::visible::<task::Entity>(actor)
        .filter(task::Column::Completed.eq(true))
        .filter(task::Column::CompletedAt.gte(r.from))
        .filter(task::Column::CompletedAt.lt(r.to))
        .all(&db.conn)
        .await?;
    let avg_complete = if completed.is_empty() {
        0.0
    } else {
        let total: f64 = completed
            .iter()
            .filter_map(|t| {
                t.completed_at
                    .map(|c| Ord::max((c - t.created_at).num_seconds(), 0) as f64 / 86400.0)
            })
            .sum();
        (total / completed.len() as f64 * 10.0).round() / 10.0
    };
    let overdue_now = scope::visible::<task::Entity>(actor)
        .filter(task::Column::Completed.eq(false))
        .filter(task::Column::DueDate.lt(clock::now()))
        .count(&db.conn)
        .await?;

    let mut perf: HashMap<Uuid, Performer> = HashMap::new();
    for d in &won {
        if let Some(u) = d.user_id {
            let p = perf.entry(u).or_insert_with(|| Performer {
                user_id: u,
                name: String::new(),
                won_value: 0.0,
                won_deals: 0,
                activities: 0,
            });
            p.won_value += d.value_cents as f64 / 100.0;
            p.won_deals += 1;
        }
    }
    let by_owner: Vec<(Option<Uuid>, i64)> = acts()
        .select_only()
        .column(activity::Column::UserId)
        .column_as(Expr::col(activity::Column::Id).count(), "n")
        .group_by(activity::Column::UserId)
        .into_tuple()
        .all(&db.conn)
        .await?;
    for (u, n) in by_owner {
        if let Some(u) = u {
            perf.entry(u)
                .or_insert_with(|| Performer {
                    user_id: u,
                    name: String::new(),
                    won_value: 0.0,
                    won_deals: 0,
                    activities: 0,
                })
                .activities = n as u64;
        }
    }
    let names: HashMap<Uuid, String> = if perf.is_empty() {
        HashMap::new()
    } else {
        user::Entity::find()
            .filter(user::Column::Id.is_in(perf.keys().copied().collect::<Vec<_>>()))
            .all(&db.conn)
            .await?
            .into_iter()
            .map(|u| (u.id, u.name))
            .collect()
    };
    let mut top_performers: Vec<Performer> = perf
        .into_values()
        .map(|mut p| {
            p.name = names.get(&p.user_id).cloned().unwrap_or_else(|| "Former user".into());
            p
        })
        .collect();
    top_performers.sort_by(|a, b| {
        b.won_value
            .total_cmp(&a.won_value)
            .then(b.activities.cmp(&a.activities))
    });
    top_performers.truncate(10);

    Ok(Reports {
        from: clock::fmt(&r.from),
        to: clock::fmt(&r.to),
        won_deals: won.len() as u64,
        won_value: cents(&won),
        lost_deals: lost.len() as u64,
        lost_value: cents(&lost),
        average_deal_size: if won.is_empty() {
            0.0
        } else {
            (cents(&won) / won.len() as f64 * 100.0).round() / 100.0
        },
        win_rate: pct(won.len() as u64, (won.len() + lost.len()) as u64),
        revenue_by_day: by_day
            .into_iter()
            .map(|(label, value)| Point { label, value })
            .collect(),
        average_days_in_stage,
        new_contacts,
        new_customers,
        new_deals,
        activities_by_type,
        activity_heatmap,
        tasks_created,
        tasks_completed: completed.len() as u64,
        task_completion_rate: pct(completed.len() as u64, tasks_created),
        average_days_to_complete: avg_complete,
        overdue_now,
        top_performers,
    })
}
