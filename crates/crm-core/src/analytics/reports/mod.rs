//! Reports over a date range of whole days (of the organisation's zone), one tab at a time (or all for print and
//! the API), every figure scoped to the actor. Time series are zero-filled and grouped
//! by day, ISO week, month or quarter. Each tab also yields its tables ([`Section`]s), which
//! the page shows and the CSV export writes, so both always agree.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use uuid::Uuid;

use super::dashboard::{StageFigure, ranked};
use super::{Point, Ranked, count_rows, day_start, days, days_between, dollars, pct, round1, series, top_ten};
use crate::actor::Actor;
use crate::db::Db;
use crate::entities::{activity, contact, deal, deal_stage_history, task};
use crate::error::{CoreError, CoreResult, FieldErrors};
use crate::query::QueryParams;
use crate::tallies::{Tallies, by_owner as tally_by_owner};
use crate::vocab::{DealStage, DealStatus};
use crate::{clock, scope};

mod activity_report;
mod funnel;
mod performers;
mod pipeline;
mod sales;
mod tasks_report;

pub use activity_report::ActivityMetrics;
use activity_report::activity;
use activity_report::{probe_range, top_contacts_by_activity};
pub use funnel::FunnelStage;
use funnel::funnel;
use performers::performers;
pub use performers::{Performer, Performers};
pub use pipeline::Pipeline;
use pipeline::pipeline;
pub use sales::Sales;
use sales::sales;
use tasks_report::tasks;
pub use tasks_report::{PriorityFigure, TaskAnalytics};

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
            .opt_one_of("groupBy", "Group", &GROUPS, &mut errs)
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
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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
    // the tabs read side by side on pooled connections; performers after the activity tab,
    // whose ranking of contacts by activity it shares
    let (sales, pipeline, tasks, funnel, (activity, performers)) = tokio::try_join!(
        maybe(want("sales"), || sales(db, actor, r, g, &won)),
        maybe(want("pipeline"), || pipeline(db, actor, r, &won)),
        maybe(want("tasks"), || tasks(db, actor, r, g)),
        maybe(want("funnel"), || funnel(db, actor, r, &won)),
        async {
            let activity = maybe(want("activity"), || activity(db, actor, r, g)).await?;
            let ranked = activity.as_ref().map(|a| a.top_contacts.clone());
            let performers = maybe(want("performers"), || performers(db, actor, r, &won, ranked)).await?;
            Ok((activity, performers))
        },
    )?;
    Ok(Reports {
        from: first.format("%Y-%m-%d").to_string(),
        to: last.format("%Y-%m-%d").to_string(),
        preset: req.preset.clone(),
        group_by: req.group.clone(),
        sales,
        pipeline,
        activity,
        tasks,
        funnel,
        performers,
    })
}

/// A tab's figures when it is wanted.
async fn maybe<T, F: Future<Output = CoreResult<T>>>(wanted: bool, tab: impl FnOnce() -> F) -> CoreResult<Option<T>> {
    Ok(if wanted { Some(tab().await?) } else { None })
}

/// A won deal closed in the range: (closed at, created at, cents, owner).
type Won = (DateTime<Utc>, DateTime<Utc>, i64, Option<Uuid>);

fn closed_in(actor: &Actor, status: DealStatus, r: Range) -> sea_orm::Select<deal::Entity> {
    scope::visible::<deal::Entity>(actor)
        .filter(deal::Column::Status.eq(status))
        .filter(deal::Column::ActualCloseDate.gte(r.from))
        .filter(deal::Column::ActualCloseDate.lt(r.to))
}

async fn won_in(db: &Db, actor: &Actor, r: Range) -> CoreResult<Vec<Won>> {
    Ok(closed_in(actor, DealStatus::Won, r)
        .select_only()
        .column(deal::Column::ActualCloseDate)
        .column(deal::Column::CreatedAt)
        .column(deal::Column::ValueCents)
        .column(deal::Column::UserId)
        .into_tuple()
        .all(&db.conn)
        .await?)
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
                    .map(|s| vec![s.stage.to_string(), s.count.to_string(), s.value.to_string()])
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
