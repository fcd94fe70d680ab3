//! Reports over a date range of whole days (of the organisation's zone), one tab at a time (or all for print and
//! the API), every figure scoped to the actor. Time series are zero-filled and grouped
//! by day, ISO week, month or quarter. Each tab also yields its tables ([`Section`]s), which
//! the page shows and the CSV export writes, so both always agree.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, JoinType, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use uuid::Uuid;

use super::dashboard::{StageFigure, ranked};
use super::{
    Point, Ranked, Tallies, count_rows, day_expr, day_start, days, days_between, dollars, pct, round1, series,
    tally_by_owner,
};
use crate::actor::Actor;
use crate::db::Db;
use crate::entities::{activity, contact, deal, deal_stage_history, task};
use crate::error::{CoreError, CoreResult, FieldErrors};
use crate::query::QueryParams;
use crate::{clock, scope};

pub const TABS: [&str; 6] = ["sales", "pipeline", "activity", "tasks", "funnel", "performers"];
pub const GROUPS: [&str; 4] = ["day", "week", "month", "quarter"];
pub const PRESETS: [&str; 5] = ["today", "week", "month", "quarter", "custom"];

#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub from: DateTime<Utc>,
    /// Exclusive end.
    pub to: DateTime<Utc>,
}

impl Range {
    /// `preset` = today | week | month | quarter (each ending today) | custom (with `from`,
    /// `to` as dates, inclusive).
    pub fn parse(q: &QueryParams, today: NaiveDate, week_start: NaiveDate) -> CoreResult<(Range, String)> {
        let preset = q
            .get("preset")
            .unwrap_or(if q.get("from").is_some() { "custom" } else { "month" })
            .to_string();
        let (from, to) = match preset.as_str() {
            "today" => (today, today),
            "week" => (week_start, today),
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
                from: day_start(from),
                to: day_start(to) + Duration::days(1),
            },
            preset,
        ))
    }

    /// First and last day (inclusive).
    pub fn days(&self) -> (NaiveDate, NaiveDate) {
        (
            clock::local(&self.from).date_naive(),
            clock::local(&(self.to - Duration::milliseconds(1))).date_naive(),
        )
    }
}

/// What to compute: the range, the grouping of time series and the tab (`None` = all).
#[derive(Debug, Clone)]
pub struct Request {
    pub range: Range,
    pub preset: String,
    pub group: String,
    pub tab: Option<String>,
}

impl Request {
    /// `preset`/`from`/`to` (see [`Range::parse`]), `groupBy` (day, week, month, quarter),
    /// `tab` (one of [`TABS`] or `all`; default all).
    /// `week_start`: the first day of the current week (organisation setting).
    pub fn parse(q: &QueryParams, today: NaiveDate, week_start: NaiveDate) -> CoreResult<Request> {
        let (range, preset) = Range::parse(q, today, week_start)?;
        let mut errs = FieldErrors::default();
        let group = q
            .opt_enum("groupBy", "Group", &GROUPS, &mut errs)
            .unwrap_or_else(|| "day".into());
        let tab = match q.get("tab") {
            None | Some("all") | Some("") => None,
            Some(t) if TABS.contains(&t) => Some(t.to_string()),
            Some(_) => {
                errs.add(
                    "tab",
                    "Report must be one of: sales, pipeline, activity, tasks, funnel, performers",
                );
                None
            }
        };
        errs.finish()?;
        bounded(&range, &group)?;
        Ok(Request {
            range,
            preset,
            group,
            tab,
        })
    }
}

/// The longest range a report covers (some figures are computed per day).
pub const MAX_RANGE_DAYS: i64 = 3660;
/// The most points a time series may have.
pub const MAX_POINTS: usize = 400;

/// A report's work and size are bounded: at most ten years, at most [`MAX_POINTS`] buckets.
fn bounded(range: &Range, group: &str) -> CoreResult<()> {
    let (first, last) = range.days();
    let days = (last - first).num_days() + 1;
    if days > MAX_RANGE_DAYS {
        return Err(CoreError::field(
            "from",
            "A report covers at most 10 years: choose a later start or an earlier end date",
        ));
    }
    let mut buckets = 0usize;
    let mut seen = String::new();
    let mut d = first;
    while d <= last {
        let b = bucket(d, group);
        if b != seen {
            buckets += 1;
            seen = b;
        }
        d += Duration::days(1);
    }
    if buckets > MAX_POINTS {
        let coarser = match group {
            "day" => "week, month or quarter",
            "week" => "month or quarter",
            _ => "quarter",
        };
        return Err(CoreError::field(
            "groupBy",
            format!(
                "This range has {buckets} {group}s, more than a chart can show ({MAX_POINTS}): group by {coarser}, or choose a shorter range"
            ),
        ));
    }
    Ok(())
}

/// The bucket a day falls in.
pub fn bucket(d: NaiveDate, group: &str) -> String {
    match group {
        "week" => {
            let w = d.iso_week();
            format!("{}-W{:02}", w.year(), w.week())
        }
        "month" => d.format("%Y-%m").to_string(),
        "quarter" => format!("{}-Q{}", d.year(), d.month0() / 3 + 1),
        _ => d.format("%Y-%m-%d").to_string(),
    }
}

/// One table of a report: shown on the page and exported as `<key>.csv`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Section {
    pub key: &'static str,
    pub title: &'static str,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

fn points_section(key: &'static str, title: &'static str, cols: [&'static str; 2], pts: &[Point]) -> Section {
    Section {
        key,
        title,
        columns: cols.to_vec(),
        rows: pts.iter().map(|p| vec![p.label.clone(), p.value.to_string()]).collect(),
    }
}

fn ranked_section(key: &'static str, title: &'static str, value: &'static str, r: &[Ranked]) -> Section {
    Section {
        key,
        title,
        columns: vec!["rank", "id", "name", value],
        rows: r
            .iter()
            .enumerate()
            .map(|(i, x)| {
                vec![
                    (i + 1).to_string(),
                    x.id.to_string(),
                    x.name.clone(),
                    x.value.to_string(),
                ]
            })
            .collect(),
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sales {
    pub won_count: i64,
    pub won_value: f64,
    pub lost_count: i64,
    pub lost_value: f64,
    pub average_deal_size: f64,
    pub win_rate: f64,
    /// Value of deals won per bucket of their close date.
    pub revenue: Vec<Point>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pipeline {
    /// Deals created in the range, per stage (every stage, in pipeline order).
    pub by_stage: Vec<StageFigure>,
    /// Average days a deal spent in each stage, over the stage changes made in the range
    /// (from entering the stage to leaving it, from stage history).
    pub average_days_in_stage: Vec<Point>,
    /// Average days from creation to won, over the deals won in the range.
    pub pipeline_velocity: f64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityMetrics {
    pub total: i64,
    pub by_type: Vec<Point>,
    pub over_time: Vec<Point>,
    /// 7 rows (Monday first) × 24 hours, in the organisation's zone.
    pub heatmap: Vec<Vec<i64>>,
    /// Top ten by number of activities in the range.
    pub top_contacts: Vec<Ranked>,
    pub top_companies: Vec<Ranked>,
}

#[derive(Debug, Clone, Serialize)]
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

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PriorityFigure {
    pub priority: &'static str,
    pub open: i64,
    pub completed: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunnelStage {
    pub stage: &'static str,
    pub count: i64,
    /// This stage ÷ the previous one, percent (the first is 100).
    pub conversion_rate: f64,
    pub drop_off_rate: f64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Performer {
    pub user_id: Uuid,
    pub name: String,
    pub won_value: f64,
    pub won_deals: i64,
    pub activities: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Performers {
    pub people: Vec<Performer>,
    /// Deals created in the range, per company / contact.
    pub top_companies_by_deal_value: Vec<Ranked>,
    pub top_contacts_by_deal_value: Vec<Ranked>,
    pub top_contacts_by_activity: Vec<Ranked>,
    /// The ten biggest deals won in the range.
    pub biggest_deals_won: Vec<crate::deals::DealView>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reports {
    pub from: String,
    pub to: String,
    pub preset: String,
    pub group_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sales: Option<Sales>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<Pipeline>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity: Option<ActivityMetrics>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<TaskAnalytics>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub funnel: Option<Vec<FunnelStage>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performers: Option<Performers>,
}

pub async fn reports(db: &Db, actor: &Actor, req: &Request) -> CoreResult<Reports> {
    let want = |t: &str| req.tab.as_deref().is_none_or(|x| x == t);
    let r = req.range;
    let (first, last) = r.days();
    let g = req.group.as_str();
    let won = if want("sales") || want("pipeline") || want("funnel") || want("performers") {
        won_in(db, actor, r).await?
    } else {
        Vec::new()
    };
    let mut out = Reports {
        from: first.format("%Y-%m-%d").to_string(),
        to: last.format("%Y-%m-%d").to_string(),
        preset: req.preset.clone(),
        group_by: req.group.clone(),
        sales: None,
        pipeline: None,
        activity: None,
        tasks: None,
        funnel: None,
        performers: None,
    };
    if want("sales") {
        out.sales = Some(sales(db, actor, r, g, &won).await?);
    }
    if want("pipeline") {
        out.pipeline = Some(pipeline(db, actor, r, &won).await?);
    }
    if want("activity") {
        out.activity = Some(activity(db, actor, r, g).await?);
    }
    if want("tasks") {
        out.tasks = Some(tasks(db, actor, r, g).await?);
    }
    if want("funnel") {
        out.funnel = Some(funnel(db, actor, r, &won).await?);
    }
    if want("performers") {
        // the activity tab, when computed too, already ranked the contacts by activity
        let ranked = out.activity.as_ref().map(|a| a.top_contacts.clone());
        out.performers = Some(performers(db, actor, r, &won, ranked).await?);
    }
    Ok(out)
}

/// A won deal closed in the range: (closed at, created at, cents, owner).
type Won = (DateTime<Utc>, DateTime<Utc>, i64, Option<Uuid>);

fn closed_in(actor: &Actor, status: &str, r: Range) -> sea_orm::Select<deal::Entity> {
    scope::visible::<deal::Entity>(actor)
        .filter(deal::Column::Status.eq(status))
        .filter(deal::Column::ActualCloseDate.gte(r.from))
        .filter(deal::Column::ActualCloseDate.lt(r.to))
}

async fn won_in(db: &Db, actor: &Actor, r: Range) -> CoreResult<Vec<Won>> {
    Ok(closed_in(actor, "won", r)
        .select_only()
        .column(deal::Column::ActualCloseDate)
        .column(deal::Column::CreatedAt)
        .column(deal::Column::ValueCents)
        .column(deal::Column::UserId)
        .into_tuple()
        .all(&db.conn)
        .await?)
}

async fn sales(db: &Db, actor: &Actor, r: Range, g: &str, won: &[Won]) -> CoreResult<Sales> {
    let (lost_count, lost_cents): (i64, Option<i64>) = closed_in(actor, "lost", r)
        .select_only()
        .column_as(count_rows(), "n")
        .column_as(Expr::col(deal::Column::ValueCents).sum().cast_as("BIGINT"), "s")
        .into_tuple()
        .one(&db.conn)
        .await?
        .unwrap_or((0, None));
    let won_cents: i64 = won.iter().map(|w| w.2).sum();
    let won_count = won.len() as i64;
    let mut per_day: HashMap<NaiveDate, i64> = HashMap::new();
    for w in won {
        *per_day.entry(clock::local(&w.0).date_naive()).or_default() += w.2;
    }
    let (first, last) = r.days();
    Ok(Sales {
        won_count,
        won_value: dollars(won_cents),
        lost_count,
        lost_value: dollars(lost_cents.unwrap_or(0)),
        average_deal_size: if won_count == 0 {
            0.0
        } else {
            (won_cents as f64 / won_count as f64).round() / 100.0
        },
        win_rate: pct(won_count, won_count + lost_count),
        revenue: series(first, last, g, true, |d| dollars(per_day.get(&d).copied().unwrap_or(0))),
    })
}

async fn pipeline(db: &Db, actor: &Actor, r: Range, won: &[Won]) -> CoreResult<Pipeline> {
    let (first, last) = r.days();
    let created = Tallies::read(db, actor, "deals", Some((first, last))).await?.by_key();
    let by_stage = crate::deals::STAGES
        .iter()
        .map(|s| {
            let (n, c) = created.get(*s).copied().unwrap_or_default();
            StageFigure {
                stage: s.to_string(),
                label: crate::deals::stage_label(s).to_string(),
                count: n,
                value: dollars(c),
            }
        })
        .collect();
    // time in a stage = this change's time − the deal's previous change's time
    let entered = "(SELECT max(p.changed_at) FROM deal_stage_history p \
                   WHERE p.deal_id = deal_stage_history.deal_id AND p.changed_at < deal_stage_history.changed_at)";
    let span = days_between(db, entered, "deal_stage_history.changed_at");
    let spans: Vec<(String, Option<f64>)> = deal_stage_history::Entity::find()
        .filter(scope::child_of_visible::<deal::Entity, _>(
            actor,
            deal::Column::Id,
            deal_stage_history::Column::DealId,
        ))
        .filter(deal_stage_history::Column::FromStage.is_not_null())
        .filter(deal_stage_history::Column::ChangedAt.gte(r.from))
        .filter(deal_stage_history::Column::ChangedAt.lt(r.to))
        .select_only()
        .column(deal_stage_history::Column::FromStage)
        .column_as(span.avg().cast_as("DOUBLE PRECISION"), "d")
        .group_by(deal_stage_history::Column::FromStage)
        .into_tuple()
        .all(&db.conn)
        .await?;
    let spans: HashMap<String, f64> = spans.into_iter().map(|(s, d)| (s, d.unwrap_or(0.0))).collect();
    let average_days_in_stage = crate::deals::STAGES
        .iter()
        .filter(|s| crate::deals::status_of(s) == "open")
        .map(|s| {
            Point::new(
                crate::deals::stage_label(s),
                round1(spans.get(*s).copied().unwrap_or(0.0)),
            )
        })
        .collect();
    let velocity = if won.is_empty() {
        0.0
    } else {
        won.iter()
            .map(|w| Ord::max((w.0 - w.1).num_milliseconds(), 0) as f64 / 86_400_000.0)
            .sum::<f64>()
            / won.len() as f64
    };
    Ok(Pipeline {
        by_stage,
        average_days_in_stage,
        pipeline_velocity: round1(velocity),
    })
}

/// The ten largest groups of a query by an aggregate (`n`), biggest first, ties by key.
fn top_ten<E: EntityTrait, C: ColumnTrait>(q: sea_orm::Select<E>, key: C, aggregate: Expr) -> sea_orm::Select<E> {
    q.select_only()
        .column(key)
        .column_as(aggregate, "n")
        .group_by(key)
        .order_by(Expr::col("n"), Order::Desc)
        .order_by(key, Order::Asc)
        .limit(10)
}

/// Activities the actor may see, created in the range.
fn activities_in(actor: &Actor, r: Range) -> sea_orm::Select<activity::Entity> {
    scope::visible::<activity::Entity>(actor)
        .filter(activity::Column::CreatedAt.gte(r.from))
        .filter(activity::Column::CreatedAt.lt(r.to))
}

/// Top ten contacts by activities created in the range.
async fn top_contacts_by_activity(db: &Db, actor: &Actor, r: Range) -> CoreResult<Vec<Ranked>> {
    let rows: Vec<(Uuid, i64)> = top_ten(activities_in(actor, r), activity::Column::ContactId, count_rows())
        .into_tuple()
        .all(&db.conn)
        .await?;
    contacts_ranked(db, actor, rows, |n| n as f64).await
}

async fn contacts_ranked(
    db: &Db,
    actor: &Actor,
    rows: Vec<(Uuid, i64)>,
    value: impl Fn(i64) -> f64,
) -> CoreResult<Vec<Ranked>> {
    let names = crate::activities::contact_names(db, actor, rows.iter().map(|r| r.0).collect()).await?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| Ranked {
            id,
            name: names
                .get(&id)
                .map(|c| format!("{} {}", c.first_name, c.last_name))
                .unwrap_or_else(|| "Unknown".into()),
            value: value(n),
        })
        .collect())
}

/// Top ten companies (through the contacts' current company) by activities in the range.
async fn top_companies_by_activity(db: &Db, actor: &Actor, r: Range) -> CoreResult<Vec<Ranked>> {
    let with_company = activities_in(actor, r)
        .join(
            JoinType::InnerJoin,
            activity::Entity::belongs_to(contact::Entity)
                .from(activity::Column::ContactId)
                .to(contact::Column::Id)
                .into(),
        )
        .filter(contact::Column::CompanyId.is_not_null());
    let rows: Vec<(Uuid, i64)> = top_ten(with_company, contact::Column::CompanyId, count_rows())
        .into_tuple()
        .all(&db.conn)
        .await?;
    ranked(db, rows, |n| n as f64).await
}

async fn activity(db: &Db, actor: &Actor, r: Range, g: &str) -> CoreResult<ActivityMetrics> {
    let (first, last) = r.days();
    // independent reads: run them side by side on pooled connections
    let (t, hours, top_contacts, top_companies) = tokio::try_join!(
        Tallies::read(db, actor, "activities", Some((first, last))),
        Tallies::read(db, actor, "activity_hours", Some((first, last))),
        top_contacts_by_activity(db, actor, r),
        top_companies_by_activity(db, actor, r),
    )?;
    let by_key = t.by_key();
    let by_type = crate::activities::TYPES
        .iter()
        .map(|k| Point::new(*k, by_key.get(*k).map(|v| v.0).unwrap_or(0) as f64))
        .collect();
    let per_day = t.per_day(|_| true);
    let mut heatmap = vec![vec![0i64; 24]; 7];
    for (d, k, n, _) in &hours.cells {
        if let Ok(h) = k.parse::<usize>()
            && h < 24
        {
            heatmap[d.weekday().num_days_from_monday() as usize][h] += n;
        }
    }
    Ok(ActivityMetrics {
        total: t.total(),
        by_type,
        over_time: series(first, last, g, true, |d| per_day.get(&d).copied().unwrap_or(0) as f64),
        heatmap,
        top_contacts,
        top_companies,
    })
}

async fn tasks(db: &Db, actor: &Actor, r: Range, g: &str) -> CoreResult<TaskAnalytics> {
    let (first, last) = r.days();
    let now = clock::now();
    let t = Tallies::read(db, actor, "tasks", Some((first, last))).await?;
    let created = t.total();
    let created_completed: i64 = t.per_day(|k| k.ends_with(":done")).values().sum();
    let created_by_priority = crate::tasks::PRIORITIES
        .iter()
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
    let per_day = |rows: Vec<(String, i64)>| -> HashMap<NaiveDate, i64> {
        rows.into_iter()
            .filter_map(|(d, n)| Some((NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()?, n)))
            .collect()
    };
    let completed_days = per_day(
        completed_in()
            .select_only()
            .column_as(day_expr(db, "tasks.completed_at"), "d")
            .column_as(count_rows(), "n")
            .group_by(day_expr(db, "tasks.completed_at"))
            .into_tuple()
            .all(&db.conn)
            .await?,
    );
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
        tasks()
            .filter(task::Column::DueDate.gte(r.from))
            .filter(task::Column::DueDate.lt(end))
            .filter(late())
            .select_only()
            .column_as(day_expr(db, "tasks.due_date"), "d")
            .column_as(count_rows(), "n")
            .group_by(day_expr(db, "tasks.due_date"))
            .into_tuple()
            .all(&db.conn)
            .await?,
    );
    let resolved = per_day(
        tasks()
            .filter(task::Column::Completed.eq(true))
            .filter(task::Column::CompletedAt.gte(r.from))
            .filter(task::Column::CompletedAt.lt(end))
            .filter(Expr::col(task::Column::CompletedAt).gt(Expr::col(task::Column::DueDate)))
            .select_only()
            .column_as(day_expr(db, "tasks.completed_at"), "d")
            .column_as(count_rows(), "n")
            .group_by(day_expr(db, "tasks.completed_at"))
            .into_tuple()
            .all(&db.conn)
            .await?,
    );
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

async fn funnel(db: &Db, actor: &Actor, r: Range, won: &[Won]) -> CoreResult<Vec<FunnelStage>> {
    let (first, last) = r.days();
    let contacts = Tallies::read(db, actor, "contacts", Some((first, last))).await?;
    let deals = Tallies::read(db, actor, "deals", Some((first, last))).await?;
    let counts = [
        ("New contacts", contacts.total()),
        ("Became customers", contacts.count("customer")),
        ("New deals", deals.total()),
        ("Deals won", won.len() as i64),
    ];
    Ok(counts
        .iter()
        .enumerate()
        .map(|(i, (stage, n))| {
            let prev = if i == 0 { *n } else { counts[i - 1].1 };
            FunnelStage {
                stage,
                count: *n,
                conversion_rate: if i == 0 { 100.0 } else { pct(*n, prev) },
                drop_off_rate: if i == 0 { 0.0 } else { pct(Ord::max(prev - n, 0), prev) },
            }
        })
        .collect())
}

async fn performers(
    db: &Db,
    actor: &Actor,
    r: Range,
    won: &[Won],
    by_activity: Option<Vec<Ranked>>,
) -> CoreResult<Performers> {
    let (first, last) = r.days();
    let mut people: HashMap<Uuid, Performer> = HashMap::new();
    let entry = |people: &mut HashMap<Uuid, Performer>, u: Uuid| {
        people.entry(u).or_insert_with(|| Performer {
            user_id: u,
            name: String::new(),
            won_value: 0.0,
            won_deals: 0,
            activities: 0,
        });
    };
    for (_, _, cents, owner) in won {
        if let Some(u) = owner {
            entry(&mut people, *u);
            if let Some(p) = people.get_mut(u) {
                p.won_value += dollars(*cents);
                p.won_deals += 1;
            }
        }
    }
    for (u, n) in tally_by_owner(db, actor, "activities", first, last).await? {
        entry(&mut people, u);
        if let Some(p) = people.get_mut(&u) {
            p.activities = n;
        }
    }
    let names = crate::accounts::users::names(db, people.keys().copied()).await?;
    let mut people: Vec<Performer> = people
        .into_values()
        .map(|mut p| {
            p.name = names.get(&p.user_id).cloned().unwrap_or_else(|| "Former user".into());
            p.won_value = (p.won_value * 100.0).round() / 100.0;
            p
        })
        .collect();
    people.sort_by(|a, b| {
        b.won_value
            .total_cmp(&a.won_value)
            .then(b.activities.cmp(&a.activities))
            .then(a.name.cmp(&b.name))
    });
    people.truncate(10);

    let created = || {
        scope::visible::<deal::Entity>(actor)
            .filter(deal::Column::CreatedAt.gte(r.from))
            .filter(deal::Column::CreatedAt.lt(r.to))
    };
    let value = || Expr::col(deal::Column::ValueCents).sum().cast_as("BIGINT");
    let top_by = |col: deal::Column| top_ten(created().filter(col.is_not_null()), col, value());
    let biggest = closed_in(actor, "won", r)
        .order_by_desc(deal::Column::ValueCents)
        .order_by_asc(deal::Column::Id)
        .limit(10);
    let (companies, contacts, by_activity, biggest) = tokio::try_join!(
        async { Ok::<Vec<(Uuid, i64)>, CoreError>(top_by(deal::Column::CompanyId).into_tuple().all(&db.conn).await?) },
        async { Ok::<Vec<(Uuid, i64)>, CoreError>(top_by(deal::Column::ContactId).into_tuple().all(&db.conn).await?) },
        async {
            match by_activity {
                Some(ranked) => Ok(ranked),
                None => top_contacts_by_activity(db, actor, r).await,
            }
        },
        async { Ok::<_, CoreError>(biggest.all(&db.conn).await?) },
    )?;
    Ok(Performers {
        people,
        top_companies_by_deal_value: ranked(db, companies, dollars).await?,
        top_contacts_by_deal_value: contacts_ranked(db, actor, contacts, dollars).await?,
        top_contacts_by_activity: by_activity,
        biggest_deals_won: crate::deals::views(db, actor, biggest).await?,
    })
}

pub const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

impl Reports {
    /// Every table of the computed tabs, in page order.
    pub fn sections(&self) -> Vec<Section> {
        let mut out = Vec::new();
        if let Some(s) = &self.sales {
            out.push(points_section(
                "revenue",
                "Revenue over time",
                ["period", "revenue"],
                &s.revenue,
            ));
            out.push(Section {
                key: "won-lost",
                title: "Deals won vs lost",
                columns: vec!["status", "count", "value"],
                rows: vec![
                    vec!["won".into(), s.won_count.to_string(), s.won_value.to_string()],
                    vec!["lost".into(), s.lost_count.to_string(), s.lost_value.to_string()],
                ],
            });
        }
        if let Some(p) = &self.pipeline {
            out.push(Section {
                key: "deals-by-stage",
                title: "Deals created, by stage",
                columns: vec!["stage", "count", "value"],
                rows: p
                    .by_stage
                    .iter()
                    .map(|s| vec![s.stage.clone(), s.count.to_string(), s.value.to_string()])
                    .collect(),
            });
            out.push(points_section(
                "time-in-stage",
                "Average days in stage",
                ["stage", "days"],
                &p.average_days_in_stage,
            ));
        }
        if let Some(a) = &self.activity {
            out.push(points_section(
                "activity-types",
                "Activities by type",
                ["type", "count"],
                &a.by_type,
            ));
            out.push(points_section(
                "activity-over-time",
                "Activities over time",
                ["period", "count"],
                &a.over_time,
            ));
            let mut columns = vec!["weekday"];
            columns.extend(HOURS);
            out.push(Section {
                key: "activity-heatmap",
                title: "Activities by weekday and hour",
                columns,
                rows: a
                    .heatmap
                    .iter()
                    .enumerate()
                    .map(|(d, row)| {
                        let mut cells = vec![WEEKDAYS[d].to_string()];
                        cells.extend(row.iter().map(|n| n.to_string()));
                        cells
                    })
                    .collect(),
            });
            out.push(ranked_section(
                "top-contacts-by-activity",
                "Top contacts by activity",
                "activities",
                &a.top_contacts,
            ));
            out.push(ranked_section(
                "top-companies-by-activity",
                "Top companies by activity",
                "activities",
                &a.top_companies,
            ));
        }
        if let Some(t) = &self.tasks {
            out.push(points_section(
                "tasks-completed",
                "Tasks completed over time",
                ["period", "count"],
                &t.completed_over_time,
            ));
            out.push(points_section(
                "overdue-trend",
                "Overdue tasks (end of period)",
                ["period", "count"],
                &t.overdue_trend,
            ));
        }
        if let Some(f) = &self.funnel {
            out.push(Section {
                key: "funnel",
                title: "Conversion funnel",
                columns: vec!["stage", "count", "conversionRate", "dropOffRate"],
                rows: f
                    .iter()
                    .map(|s| {
                        vec![
                            s.stage.to_string(),
                            s.count.to_string(),
                            s.conversion_rate.to_string(),
                            s.drop_off_rate.to_string(),
                        ]
                    })
                    .collect(),
            });
        }
        if let Some(p) = &self.performers {
            out.push(Section {
                key: "top-performers",
                title: "Top performers",
                columns: vec!["rank", "userId", "name", "wonValue", "wonDeals", "activities"],
                rows: p
                    .people
                    .iter()
                    .enumerate()
                    .map(|(i, x)| {
                        vec![
                            (i + 1).to_string(),
                            x.user_id.to_string(),
                            x.name.clone(),
                            x.won_value.to_string(),
                            x.won_deals.to_string(),
                            x.activities.to_string(),
                        ]
                    })
                    .collect(),
            });
            out.push(ranked_section(
                "top-companies-by-deal-value",
                "Top companies by deal value",
                "totalValue",
                &p.top_companies_by_deal_value,
            ));
            out.push(ranked_section(
                "top-contacts-by-deal-value",
                "Top contacts by deal value",
                "totalValue",
                &p.top_contacts_by_deal_value,
            ));
            out.push(ranked_section(
                "top-contacts-by-activity",
                "Top contacts by activity",
                "activities",
                &p.top_contacts_by_activity,
            ));
            out.push(Section {
                key: "biggest-deals-won",
                title: "Biggest deals won",
                columns: vec!["id", "name", "value", "contact", "closedAt"],
                rows: p
                    .biggest_deals_won
                    .iter()
                    .map(|d| {
                        vec![
                            d.id.to_string(),
                            d.name.clone(),
                            d.value.to_string(),
                            d.contact
                                .as_ref()
                                .map(|c| format!("{} {}", c.first_name, c.last_name))
                                .unwrap_or_default(),
                            d.actual_close_date.clone().unwrap_or_default(),
                        ]
                    })
                    .collect(),
            });
        }
        out
    }
}

const HOURS: [&str; 24] = [
    "00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17", "18",
    "19", "20", "21", "22", "23",
];
