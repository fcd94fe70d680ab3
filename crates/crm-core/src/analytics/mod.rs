//! The dashboard's figures, every one scoped to the actor (a rep's dashboard counts only
//! their records). Time buckets are UTC days; "overdue" is not completed and due before now.

pub mod reports;

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use serde::Serialize;

use crate::actor::Actor;
use crate::db::Db;
use crate::entities::{activity, company, contact, deal, task};
use crate::error::CoreResult;
use crate::{clock, scope};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Point {
    pub label: String,
    pub value: f64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub total_contacts: u64,
    pub total_leads: u64,
    pub total_customers: u64,
    pub conversion_rate: f64,
    /// Cumulative contacts per day over the last 30 days.
    pub growth: Vec<Point>,
    pub pipeline_value: f64,
    pub won_value: f64,
    pub lost_value: f64,
    pub win_rate: f64,
    pub open_deals: u64,
    pub won_deals: u64,
    pub lost_deals: u64,
    /// Open deals per stage: count and value.
    pub deals_by_stage: Vec<(String, u64, f64)>,
    pub total_tasks: u64,
    pub completed_tasks: u64,
    pub overdue_tasks: u64,
    pub tasks_due_today: u64,
    pub task_completion_rate: f64,
    pub upcoming_tasks: Vec<crate::tasks::TaskView>,
    pub total_activities: u64,
    pub activities_this_week: u64,
    pub activities_this_month: u64,
    pub activities_by_type: Vec<Point>,
    pub total_companies: u64,
    pub companies_with_deals: u64,
    pub companies_by_industry: Vec<Point>,
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / whole as f64).round() / 10.0
    }
}

/// `YYYY-MM-DD` of a timestamp column, per backend (SQLite stores RFC 3339 text).
fn day_expr(db: &Db, col: &str) -> Expr {
    match db.backend() {
        DbBackend::Postgres => Expr::cust(format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD')")),
        _ => Expr::cust(format!("substr({col}, 1, 10)")),
    }
}

async fn sum_cents(db: &Db, actor: &Actor, status: &str) -> CoreResult<(u64, f64)> {
    let base = scope::visible::<deal::Entity>(actor).filter(deal::Column::Status.eq(status));
    let n = base.clone().count(&db.conn).await?;
    let s: Option<i64> = base
        .select_only()
        .column_as(Expr::col(deal::Column::ValueCents).sum().cast_as("BIGINT"), "s")
        .into_tuple()
        .one(&db.conn)
        .await?
        .flatten();
    Ok((n, s.unwrap_or(0) as f64 / 100.0))
}

pub async fn dashboard(db: &Db, actor: &Actor) -> CoreResult<Dashboard> {
    let now = clock::now();
    let today = now.date_naive();
    let day_start = |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default());

    let contacts = || scope::visible::<contact::Entity>(actor);
    let total_contacts = contacts().count(&db.conn).await?;
    let total_customers = contacts()
        .filter(contact::Column::Status.eq("customer"))
        .count(&db.conn)
        .await?;
    let since = today - Duration::days(29);
    let before = contacts()
        .filter(contact::Column::CreatedAt.lt(day_start(since)))
        .count(&db.conn)
        .await?;
    let per_day: Vec<(String, i64)> = contacts()
        .filter(contact::Column::CreatedAt.gte(day_start(since)))
        .select_only()
        .column_as(day_expr(db, "contacts.created_at"), "d")
        .column_as(Expr::col(contact::Column::Id).count(), "n")
        .group_by(day_expr(db, "contacts.created_at"))
        .into_tuple()
        .all(&db.conn)
        .await?;
    let per_day: std::collections::HashMap<String, i64> = per_day.into_iter().collect();
    let mut running = before as f64;
    let growth = (0..30)
        .map(|i| {
            let d = since + Duration::days(i);
            running += *per_day.get(&d.format("%Y-%m-%d").to_string()).unwrap_or(&0) as f64;
            Point {
                label: d.format("%b %-d").to_string(),
                value: running,
            }
        })
        .collect();

    let (open_deals, pipeline_value) = sum_cents(db, actor, "open").await?;
    let (won_deals, won_value) = sum_cents(db, actor, "won").await?;
    let (lost_deals, lost_value) = sum_cents(db, actor, "lost").await?;
    let mut deals_by_stage = Vec::new();
    for stage in ["lead", "qualified", "proposal", "negotiation"] {
        let base = scope::visible::<deal::Entity>(actor).filter(deal::Column::Stage.eq(stage));
        let n = base.clone().count(&db.conn).await?;
        let s: Option<i64> = base
            .select_only()
            .column_as(Expr::col(deal::Column::ValueCents).sum().cast_as("BIGINT"), "s")
            .into_tuple()
            .one(&db.conn)
            .await?
            .flatten();
        deals_by_stage.push((stage.to_string(), n, s.unwrap_or(0) as f64 / 100.0));
    }

    let tasks = || scope::visible::<task::Entity>(actor);
    let total_tasks = tasks().count(&db.conn).await?;
    let completed_tasks = tasks().filter(task::Column::Completed.eq(true)).count(&db.conn).await?;
    let overdue_tasks = tasks()
        .filter(task::Column::Completed.eq(false))
        .filter(task::Column::DueDate.lt(now))
        .count(&db.conn)
        .await?;
    let tasks_due_today = tasks()
        .filter(task::Column::Completed.eq(false))
        .filter(task::Column::DueDate.gte(day_start(today)))
        .filter(task::Column::DueDate.lt(day_start(today + Duration::days(1))))
        .count(&db.conn)
        .await?;
    // the task list's own query (open first, by due date), five rows
    let open = crate::query::QueryParams::new(vec![("status".into(), "open".into()), ("limit".into(), "5".into())]);
    let upcoming_tasks = crate::tasks::list(db, actor, &crate::tasks::ListParams::parse(&open)?)
        .await?
        .items;

    let acts = || scope::visible::<activity::Entity>(actor);
    let total_activities = acts().count(&db.conn).await?;
    let activities_this_week = acts()
        .filter(activity::Column::CreatedAt.gte(now - Duration::days(7)))
        .count(&db.conn)
        .await?;
    let month_start = day_start(today.with_day(1).unwrap_or(today));
    let activities_this_month = acts()
        .filter(activity::Column::CreatedAt.gte(month_start))
        .count(&db.conn)
        .await?;
    let mut activities_by_type = Vec::new();
    for kind in crate::activities::TYPES {
        let n = acts().filter(activity::Column::Kind.eq(kind)).count(&db.conn).await?;
        activities_by_type.push(Point {
            label: kind.to_string(),
            value: n as f64,
        });
    }

    let total_companies = company::Entity::find().count(&db.conn).await?;
    let with_deals: Vec<Option<uuid::Uuid>> = scope::visible::<deal::Entity>(actor)
        .select_only()
        .column(deal::Column::CompanyId)
        .filter(deal::Column::CompanyId.is_not_null())
        .distinct()
        .into_tuple()
        .all(&db.conn)
        .await?;
    let by_industry: Vec<(Option<String>, i64)> = company::Entity::find()
        .select_only()
        .column(company::Column::Industry)
        .column_as(Expr::col(company::Column::Id).count(), "n")
        .group_by(company::Column::Industry)
        .into_tuple()
        .all(&db.conn)
        .await?;
    let mut companies_by_industry: Vec<Point> = by_industry
        .into_iter()
        .map(|(i, n)| Point {
            label: i.unwrap_or_else(|| "none".into()),
            value: n as f64,
        })
        .collect();
    companies_by_industry.sort_by(|a, b| b.value.total_cmp(&a.value));

    Ok(Dashboard {
        total_contacts,
        total_leads: total_contacts - total_customers,
        total_customers,
        conversion_rate: pct(total_customers, total_contacts),
        growth,
        pipeline_value,
        won_value,
        lost_value,
        win_rate: pct(won_deals, won_deals + lost_deals),
        open_deals,
        won_deals,
        lost_deals,
        deals_by_stage,
        total_tasks,
        completed_tasks,
        overdue_tasks,
        tasks_due_today,
        task_completion_rate: pct(completed_tasks, total_tasks),
        upcoming_tasks,
        total_activities,
        activities_this_week,
        activities_this_month,
        activities_by_type,
        total_companies,
        companies_with_deals: with_deals.len() as u64,
        companies_by_industry,
    })
}
