//! The dashboard: five tabs of figures, computed one tab at a time (the page shows one;
//! the API returns the tab asked for, or all five).

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use uuid::Uuid;

use super::{Point, Ranked, count_rows, day_start, dollars, pct, series, top_ten};
use crate::actor::Actor;
use crate::companies::CompanyView;
use crate::contacts::ContactView;
use crate::db::Db;
use crate::entities::{activity, company, contact, deal, task};
use crate::error::{CoreError, CoreResult};
use crate::tallies::Tallies;
use crate::vocab::{ActivityType, DealStage, TaskPriority};
use crate::{clock, scope};

pub const TABS: [&str; 5] = ["contacts", "companies", "deals", "tasks", "activities"];

/// Days shown by the "over time" charts, ending today.
pub const SERIES_DAYS: i64 = 30;

/// `tab` = one of [`TABS`]; unknown names are a validation error.
pub fn parse_tab(tab: &str) -> CoreResult<&'static str> {
    TABS.iter().find(|t| **t == tab).copied().ok_or_else(|| {
        CoreError::field(
            "tab",
            "Tab must be one of: contacts, companies, deals, tasks, activities",
        )
    })
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contacts: Option<ContactsTab>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub companies: Option<CompaniesTab>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deals: Option<DealsTab>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<TasksTab>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activities: Option<ActivitiesTab>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactsTab {
    pub total: i64,
    pub leads: i64,
    pub customers: i64,
    /// Customers ÷ all contacts, percent.
    pub conversion_rate: f64,
    /// Contacts in total at the end of each of the last 30 days (zero-filled days included).
    pub growth: Vec<Point>,
    pub recent: Vec<ContactView>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompaniesTab {
    /// Companies are shared by the team: these two counts cover all of them.
    pub total: i64,
    pub by_industry: Vec<Point>,
    /// Companies with at least one deal the actor can see.
    pub with_deals: i64,
    /// Value of the actor's deals on companies ÷ companies with deals.
    pub average_deal_value: f64,
    /// Value of every deal the actor can see (open, won and lost).
    pub total_deal_value: f64,
    /// Top five companies by the value of the actor's deals on them.
    pub top_companies: Vec<Ranked>,
    pub recent: Vec<CompanyView>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StageFigure {
    pub stage: DealStage,
    pub label: &'static str,
    pub count: i64,
    pub value: f64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DealsTab {
    pub pipeline_value: f64,
    pub won_value: f64,
    pub lost_value: f64,
    /// Won ÷ (won + lost), percent.
    pub win_rate: f64,
    pub open_count: i64,
    pub won_count: i64,
    pub lost_count: i64,
    /// Open deals per open stage, in pipeline order (stages without deals included).
    pub by_stage: Vec<StageFigure>,
    pub recent: Vec<crate::deals::DealView>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TasksTab {
    pub total: i64,
    pub completed: i64,
    /// Not completed and due before now.
    pub overdue: i64,
    /// Not completed and due today (the organisation's day).
    pub due_today: i64,
    pub completion_rate: f64,
    /// Tasks per priority: low, medium, high.
    pub by_priority: Vec<Point>,
    /// Per day of creation over the last 30 days: percent of that day's tasks completed now.
    pub completion_over_time: Vec<Point>,
    /// The five open tasks due soonest (overdue ones first).
    pub upcoming: Vec<crate::tasks::TaskView>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivitiesTab {
    pub total: i64,
    /// Since the week's first day, 00:00 in the organisation's zone.
    pub this_week: i64,
    /// Since the 1st of the month, 00:00 in the organisation's zone.
    pub this_month: i64,
    /// The most frequent type; `None` when there are no activities.
    pub most_common: Option<String>,
    pub by_type: Vec<Point>,
    /// Activities per day over the last 30 days.
    pub over_time: Vec<Point>,
    pub recent: Vec<crate::activities::ActivityView>,
}

/// The dashboard, one tab (`Some`) or all of them (computed side by side on pooled
/// connections). `week_start`: the first day of this week (organisation setting).
pub async fn dashboard(db: &Db, actor: &Actor, tab: Option<&str>, week_start: NaiveDate) -> CoreResult<Dashboard> {
    let want = |t: &str| tab.is_none_or(|x| x == t);
    let today = clock::today();
    let (contacts, companies, deals, tasks, activities) = tokio::try_join!(
        async {
            if want("contacts") {
                contacts_tab(db, actor, today).await.map(Some)
            } else {
                Ok(None)
            }
        },
        async {
            if want("companies") {
                companies_tab(db, actor).await.map(Some)
            } else {
                Ok(None)
            }
        },
        async {
            if want("deals") {
                deals_tab(db, actor).await.map(Some)
            } else {
                Ok(None)
            }
        },
        async {
            if want("tasks") {
                tasks_tab(db, actor, today).await.map(Some)
            } else {
                Ok(None)
            }
        },
        async {
            if want("activities") {
                activities_tab(db, actor, today, week_start).await.map(Some)
            } else {
                Ok(None)
            }
        },
    )?;
    Ok(Dashboard {
        contacts,
        companies,
        deals,
        tasks,
        activities,
    })
}

async fn contacts_tab(db: &Db, actor: &Actor, today: NaiveDate) -> CoreResult<ContactsTab> {
    let all = Tallies::read(db, actor, "contacts", None).await?;
    let total = all.total();
    let customers = all.count("customer");
    let since = today - Duration::days(SERIES_DAYS - 1);
    let per_day = all.per_day(|_| true);
    let mut running = per_day.iter().filter(|(d, _)| **d < since).map(|(_, n)| n).sum::<i64>();
    let growth = series(since, today, "day", true, |d| {
        running += per_day.get(&d).copied().unwrap_or(0);
        running as f64
    });
    let rows = scope::visible::<contact::Entity>(actor)
        .order_by_desc(contact::Column::CreatedAt)
        .order_by_desc(contact::Column::Id)
        .limit(5)
        .all(&db.conn)
        .await?;
    Ok(ContactsTab {
        total,
        leads: total - customers,
        customers,
        conversion_rate: pct(customers, total),
        growth,
        recent: crate::contacts::list::with_refs(db, rows).await?,
    })
}

async fn companies_tab(db: &Db, actor: &Actor) -> CoreResult<CompaniesTab> {
    // independent reads, side by side on pooled connections
    let total = async { Ok::<_, crate::CoreError>(company::Entity::find().count(&db.conn).await? as i64) };
    let industries = async {
        Ok::<Vec<(String, i64)>, crate::CoreError>(
            company::Entity::find()
                .filter(company::Column::Industry.is_not_null())
                .select_only()
                .column(company::Column::Industry)
                .column_as(count_rows(), "n")
                .group_by(company::Column::Industry)
                .into_tuple()
                .all(&db.conn)
                .await?,
        )
    };
    // the deals on companies: how many companies and their value, and the five largest, in
    // the database (not a row per company brought over)
    let on_companies = || scope::visible::<deal::Entity>(actor).filter(deal::Column::CompanyId.is_not_null());
    let per_company = async {
        let (n, cents): (i64, Option<i64>) = on_companies()
            .select_only()
            .column_as(Expr::cust("count(DISTINCT deals.company_id)"), "n")
            .column_as(crate::deals::value_sum(), "s")
            .into_tuple()
            .one(&db.conn)
            .await?
            .unwrap_or((0, None));
        Ok::<_, crate::CoreError>((n, cents.unwrap_or(0)))
    };
    let top = async {
        Ok::<Vec<(Uuid, i64)>, crate::CoreError>(
            top_ten(on_companies(), deal::Column::CompanyId, crate::deals::value_sum())
                .limit(5)
                .into_tuple()
                .all(&db.conn)
                .await?,
        )
    };
    let deals = Tallies::read(db, actor, "deals", None);
    let q = crate::query::QueryParams::new(vec![("limit".into(), "5".into())]);
    let params = crate::companies::list::ListParams::parse(&q, 5)?;
    let recent = crate::companies::list::list(db, actor, &params);
    let (total, industries, (with_deals, company_cents), top, deals, recent) =
        tokio::try_join!(total, industries, per_company, top, deals, recent)?;
    let recent = recent.items;
    let mut by_industry: Vec<Point> = industries.into_iter().map(|(i, n)| Point::new(i, n as f64)).collect();
    by_industry.sort_by(|a, b| b.value.total_cmp(&a.value).then(a.label.cmp(&b.label)));
    let top_companies = ranked(db, top, dollars).await?;
    let total_cents: i64 = deals.cells.iter().map(|c| c.3).sum();
    Ok(CompaniesTab {
        total,
        by_industry,
        with_deals,
        average_deal_value: if with_deals == 0 {
            0.0
        } else {
            (company_cents as f64 / with_deals as f64).round() / 100.0
        },
        total_deal_value: dollars(total_cents),
        top_companies,
        recent,
    })
}

/// Company ids with a figure → named, ranked rows (order kept).
pub(crate) async fn ranked(db: &Db, rows: Vec<(Uuid, i64)>, value: impl Fn(i64) -> f64) -> CoreResult<Vec<Ranked>> {
    let names: HashMap<Uuid, String> = company::Entity::find()
        .filter(company::Column::Id.is_in(rows.iter().map(|r| r.0).collect::<Vec<_>>()))
        .all(&db.conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    Ok(rows
        .into_iter()
        .map(|(id, n)| Ranked {
            id,
            name: names.get(&id).cloned().unwrap_or_else(|| "Unknown".into()),
            value: value(n),
        })
        .collect())
}

async fn deals_tab(db: &Db, actor: &Actor) -> CoreResult<DealsTab> {
    let by_stage = Tallies::read(db, actor, "deals", None).await?.by_key();
    let get = |s: DealStage| by_stage.get(s.as_str()).copied().unwrap_or_default();
    let (mut open_count, mut open_cents) = (0, 0);
    let stages: Vec<StageFigure> = DealStage::ALL
        .into_iter()
        .filter(|s| !s.is_closed())
        .map(|s| {
            let (n, c) = get(s);
            open_count += n;
            open_cents += c;
            StageFigure {
                stage: s,
                label: s.label(),
                count: n,
                value: dollars(c),
            }
        })
        .collect();
    let (won_count, won_cents) = get(DealStage::ClosedWon);
    let (lost_count, lost_cents) = get(DealStage::ClosedLost);
    let rows = scope::visible::<deal::Entity>(actor)
        .order_by_desc(deal::Column::CreatedAt)
        .order_by_desc(deal::Column::Id)
        .limit(5)
        .all(&db.conn)
        .await?;
    Ok(DealsTab {
        pipeline_value: dollars(open_cents),
        won_value: dollars(won_cents),
        lost_value: dollars(lost_cents),
        win_rate: pct(won_count, won_count + lost_count),
        open_count,
        won_count,
        lost_count,
        by_stage: stages,
        recent: crate::deals::views(db, actor, rows).await?,
    })
}

/// Task tally keys are `<priority>:open` or `<priority>:done`.
fn task_done(k: &str) -> bool {
    k.ends_with(":done")
}

async fn tasks_tab(db: &Db, actor: &Actor, today: NaiveDate) -> CoreResult<TasksTab> {
    let now = clock::now();
    let all = Tallies::read(db, actor, "tasks", None).await?;
    let total = all.total();
    let by_key = all.by_key();
    let completed: i64 = by_key.iter().filter(|(k, _)| task_done(k)).map(|(_, v)| v.0).sum();
    let by_priority = TaskPriority::NAMES
        .into_iter()
        .map(|p| {
            let n: i64 = by_key
                .iter()
                .filter(|(k, _)| k.split(':').next() == Some(p))
                .map(|(_, v)| v.0)
                .sum();
            Point::new(p, n as f64)
        })
        .collect();
    let since = today - Duration::days(SERIES_DAYS - 1);
    let created = all.per_day(|_| true);
    let done = all.per_day(task_done);
    let completion_over_time = series(since, today, "day", true, |d| {
        pct(
            done.get(&d).copied().unwrap_or(0),
            created.get(&d).copied().unwrap_or(0),
        )
    });
    let open = || scope::visible::<task::Entity>(actor).filter(task::Column::Completed.eq(false));
    let overdue = open().filter(task::Column::DueDate.lt(now)).count(&db.conn).await? as i64;
    let due_today = open()
        .filter(task::Column::DueDate.gte(day_start(today)))
        .filter(task::Column::DueDate.lt(day_start(today + Duration::days(1))))
        .count(&db.conn)
        .await? as i64;
    let rows = open()
        .order_by_asc(task::Column::DueDate)
        .order_by_asc(task::Column::Id)
        .limit(5)
        .all(&db.conn)
        .await?;
    Ok(TasksTab {
        total,
        completed,
        overdue,
        due_today,
        completion_rate: pct(completed, total),
        by_priority,
        completion_over_time,
        upcoming: crate::tasks::views(db, actor, rows).await?,
    })
}

async fn activities_tab(db: &Db, actor: &Actor, today: NaiveDate, week_start: NaiveDate) -> CoreResult<ActivitiesTab> {
    let all = Tallies::read(db, actor, "activities", None).await?;
    let by_key = all.by_key();
    let by_type: Vec<Point> = ActivityType::NAMES
        .into_iter()
        .map(|t| Point::new(t, by_key.get(t).map(|v| v.0).unwrap_or(0) as f64))
        .collect();
    // the first of the most frequent types, in the order call, email, meeting, note
    let most_common = by_type
        .iter()
        .filter(|p| p.value > 0.0)
        .fold(None::<&Point>, |best, p| match best {
            Some(b) if b.value >= p.value => Some(b),
            _ => Some(p),
        })
        .map(|p| p.label.clone());
    let per_day = all.per_day(|_| true);
    let since = |from: NaiveDate| per_day.iter().filter(|(d, _)| **d >= from).map(|(_, n)| n).sum::<i64>();
    let month_start = today.with_day(1).unwrap_or(today);
    let from = today - Duration::days(SERIES_DAYS - 1);
    let rows = scope::visible::<activity::Entity>(actor)
        .order_by_desc(activity::Column::CreatedAt)
        .order_by_desc(activity::Column::Id)
        .limit(5)
        .all(&db.conn)
        .await?;
    Ok(ActivitiesTab {
        total: all.total(),
        this_week: since(week_start),
        this_month: since(month_start),
        most_common,
        by_type,
        over_time: series(from, today, "day", true, |d| {
            per_day.get(&d).copied().unwrap_or(0) as f64
        }),
        recent: crate::activities::views(db, actor, rows).await?,
    })
}
