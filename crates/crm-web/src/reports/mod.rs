//! Reports: `GET /api/reports?tab=&preset=today|week|month|quarter|custom&from=&to=&groupBy=`,
//! the `/reports` page (one tab at a time, or `tab=all` for a full printed report) and a CSV
//! of any of its tables (`/api/reports/export?section=…`, same query).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use crm_core::analytics::reports::{self, Reports, Request, Section};
use crm_core::export::line;
use crm_core::query::QueryParams;
use crm_core::{CoreError, clock};

use crate::AppState;
use crate::http::error::{ApiResult, PageResult, envelope};
use crate::http::session::ApiActor;
use crate::web::charts::{
    BarChart, DonutChart, FunnelChart, LineChart, StackedChart, capital, compact, compact_money, rows,
};
use crate::web::{Chrome, PageCtx, html, money_whole, query_string, render, thousands};

async fn load(state: &AppState, actor: &crm_core::Actor, q: &QueryParams) -> Result<(Reports, Request), CoreError> {
    let req = Request::parse(q, clock::now().date_naive(), crate::web::org::week_start())?;
    let r = state
        .db
        .reading(actor, |db| {
            let req = &req;
            async move { reports::reports(&db, actor, req).await }
        })
        .await?;
    Ok((r, req))
}

/// `GET /api/reports`: the figures of one tab (`tab=sales|pipeline|activity|tasks|funnel|
/// performers`) or of all, over the range, scoped to the caller.
pub async fn api(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    Ok(envelope(
        StatusCode::OK,
        load(&state, &actor, &QueryParams::new(q)).await?.0,
    ))
}

/// `GET /api/reports/export?section=<key>&…`: one table of the report as CSV.
pub async fn export(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let mut q = QueryParams::new(q);
    let key = q.get("section").unwrap_or("").to_string();
    // compute only the tab that holds the section
    let tab = SECTION_TABS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            CoreError::field(
                "section",
                format!(
                    "Section must be one of: {}",
                    SECTION_TABS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
    q.set("tab", tab);
    let (r, _) = load(&state, &actor, &q).await?;
    let Some(section) = r.sections().into_iter().find(|s| s.key == key) else {
        return Err(CoreError::field("section", "Unknown section").into());
    };
    let mut body = String::from("\u{feff}");
    body.push_str(&line(
        &section.columns.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
    ));
    for row in &section.rows {
        body.push_str(&line(row));
    }
    let mut res = body.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"report-{key}-{}-{}.csv\"",
        r.from, r.to
    )) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// Which tab computes each exportable section.
const SECTION_TABS: [(&str, &str); 16] = [
    ("revenue", "sales"),
    ("won-lost", "sales"),
    ("deals-by-stage", "pipeline"),
    ("time-in-stage", "pipeline"),
    ("activity-types", "activity"),
    ("activity-over-time", "activity"),
    ("activity-heatmap", "activity"),
    ("top-contacts-by-activity", "activity"),
    ("top-companies-by-activity", "activity"),
    ("tasks-completed", "tasks"),
    ("overdue-trend", "tasks"),
    ("funnel", "funnel"),
    ("top-performers", "performers"),
    ("top-companies-by-deal-value", "performers"),
    ("top-contacts-by-deal-value", "performers"),
    ("biggest-deals-won", "performers"),
];

const TAB_LABELS: [(&str, &str); 6] = [
    ("sales", "Sales Performance"),
    ("pipeline", "Pipeline Analytics"),
    ("activity", "Activity Metrics"),
    ("tasks", "Task Analytics"),
    ("funnel", "Conversion Funnel"),
    ("performers", "Top Performers"),
];

/// A stat card: label, figure, caption.
struct Stat(String, String, String);

/// One tab as shown: its cards, charts and tables.
struct Panel {
    key: &'static str,
    title: &'static str,
    stats: Vec<Stat>,
    charts: Vec<String>,
    tables: Vec<Section>,
}

impl Panel {
    /// The CSV of each chart's data (tables carry their own link).
    fn chart_csv(&self) -> &'static [&'static str] {
        match self.key {
            "sales" => &["revenue"],
            "pipeline" => &["deals-by-stage", "time-in-stage"],
            "activity" => &["activity-types", "activity-over-time"],
            "tasks" => &["tasks-completed", "overdue-trend"],
            _ => &[],
        }
    }
}

#[derive(Template)]
#[template(path = "reports/page.html")]
struct ReportsPage {
    chrome: Chrome,
    r: Reports,
    tab: String,
    tabs: Vec<(&'static str, &'static str, String)>,
    presets: Vec<(&'static str, &'static str, String)>,
    from: String,
    to: String,
    group: String,
    panels: Vec<Panel>,
    heat_max: i64,
    query: String,
    /// Every tab on one page, for printing.
    full: String,
}

impl ReportsPage {
    /// Ids are in the CSV, not on screen.
    fn shown(&self, column: &str) -> bool {
        column != "id" && column != "userId"
    }
    /// A person's heading for a CSV column key.
    fn heading(&self, column: &str) -> &'static str {
        match column {
            "rank" => "#",
            "name" => "Name",
            "wonValue" => "Won",
            "wonDeals" => "Deals won",
            "activities" => "Activities",
            "totalValue" => "Total deal value",
            "value" => "Value",
            "count" => "Count",
            "stage" => "Stage",
            "status" => "Status",
            "conversionRate" => "Conversion",
            "dropOffRate" => "Drop-off",
            "contact" => "Contact",
            "closedAt" => "Closed",
            "period" => "Period",
            "revenue" => "Revenue",
            "days" => "Days",
            "type" => "Type",
            _ => "",
        }
    }
    /// A cell as shown on the page (the CSV keeps the plain value).
    fn cell(&self, column: &str, value: &str) -> String {
        let number = || value.parse::<f64>().unwrap_or(0.0);
        match column {
            "wonValue" | "totalValue" | "value" | "revenue" => money_whole(number()),
            "conversionRate" | "dropOffRate" => format!("{value}%"),
            "count" | "activities" | "wonDeals" => thousands(number().max(0.0) as u64),
            "closedAt" => crate::web::short_date(value),
            "stage" => crm_core::DealStage::parse(value)
                .map_or(value, |s| s.label())
                .to_string(),
            _ => value.to_string(),
        }
    }
    fn export(&self, section: &str) -> String {
        format!("/api/reports/export{}&section={section}", self.query)
    }
    fn day(&self, i: &usize) -> &'static str {
        &reports::WEEKDAYS[*i][..3]
    }
    /// Heat level 0–4 for a cell.
    fn level(&self, n: &i64) -> i64 {
        if *n <= 0 || self.heat_max == 0 {
            0
        } else {
            1 + (*n * 3) / self.heat_max
        }
    }
}

fn pts(points: &[crm_core::analytics::Point]) -> Vec<(String, f64)> {
    rows(points, str::to_string)
}

/// A time series: a line when it has several points, else bars; `tone` names what it
/// counts for its colour (`won`), or is empty.
fn trend(title: &str, points: &[crm_core::analytics::Point], fmt: fn(f64) -> String, tone: &str) -> String {
    if points.len() > 1 {
        render(&LineChart::new(title, &pts(points), fmt).tone(tone))
    } else {
        render(&BarChart::new(title, &pts(points), fmt).tone(tone))
    }
}

/// "1 deal", "2 deals".
fn deals(n: i64) -> String {
    format!("{} deal{}", thousands(n.max(0) as u64), if n == 1 { "" } else { "s" })
}

fn count(v: f64) -> String {
    thousands(v.max(0.0) as u64)
}

fn panels(r: &Reports) -> Vec<Panel> {
    let sections = r.sections();
    let tables =
        |keys: &[&str]| -> Vec<Section> { sections.iter().filter(|s| keys.contains(&s.key)).cloned().collect() };
    let n = |v: i64| thousands(v.max(0) as u64);
    let mut out = Vec::new();
    if let Some(s) = &r.sales {
        out.push(Panel {
            key: "sales",
            title: "Sales Performance",
            stats: vec![
                Stat(
                    "Won value".into(),
                    money_whole(s.won_value),
                    format!("{} closed won in this range", deals(s.won_count)),
                ),
                Stat(
                    "Lost value".into(),
                    money_whole(s.lost_value),
                    format!("{} closed lost in this range", deals(s.lost_count)),
                ),
                Stat(
                    "Average value per won deal".into(),
                    money_whole(s.average_deal_size),
                    "Won value ÷ deals won".into(),
                ),
                Stat(
                    "Win rate".into(),
                    format!("{}%", s.win_rate),
                    "Deals won of deals closed (by count)".into(),
                ),
            ],
            charts: vec![
                trend("Revenue (won value) over time", &s.revenue, money_whole, "won"),
                render(
                    &DonutChart::new(
                        "Deals won vs lost (value)",
                        &[
                            (format!("Won ({})", n(s.won_count)), s.won_value),
                            (format!("Lost ({})", n(s.lost_count)), s.lost_value),
                        ],
                        money_whole,
                    )
                    .tones(&["won", "lost"])
                    .short(compact_money),
                ),
            ],
            tables: tables(&["won-lost"]),
        });
    }
    if let Some(p) = &r.pipeline {
        out.push(Panel {
            key: "pipeline",
            title: "Pipeline Analytics",
            stats: vec![
                Stat(
                    "Deals created".into(),
                    n(p.by_stage.iter().map(|s| s.count).sum()),
                    "In this range".into(),
                ),
                Stat(
                    "Pipeline velocity".into(),
                    format!("{} days", p.pipeline_velocity),
                    "Average days from creation to won, deals won in this range".into(),
                ),
            ],
            charts: vec![
                render(&BarChart::new(
                    "Deals created, by stage",
                    &p.by_stage
                        .iter()
                        .map(|s| (s.label.to_string(), s.count as f64))
                        .collect::<Vec<_>>(),
                    count,
                )),
                render(&BarChart::new(
                    "Average days in stage",
                    &pts(&p.average_days_in_stage),
                    |v| format!("{v:.1} d"),
                )),
            ],
            tables: tables(&["deals-by-stage"]),
        });
    }
    if let Some(a) = &r.activity {
        out.push(Panel {
            key: "activity",
            title: "Activity Metrics",
            stats: vec![Stat("Activities".into(), n(a.total), "Logged in this range".into())],
            charts: vec![
                render(&DonutChart::new("Activities by type", &pts(&a.by_type), count).short(compact)),
                trend("Activities over time", &a.over_time, count, ""),
            ],
            tables: tables(&["top-contacts-by-activity", "top-companies-by-activity"]),
        });
    }
    if let Some(t) = &r.tasks {
        out.push(Panel {
            key: "tasks",
            title: "Task Analytics",
            stats: vec![
                Stat(
                    "Completion rate".into(),
                    format!("{}%", t.completion_rate),
                    format!("{} of {} created", n(t.created_completed), n(t.created)),
                ),
                Stat(
                    "Average time to complete".into(),
                    format!("{} days", t.average_days_to_complete),
                    "Tasks completed in range".into(),
                ),
                Stat("Overdue now".into(), n(t.overdue_now), "Open and due before now".into()),
            ],
            charts: vec![
                trend("Tasks completed over time", &t.completed_over_time, count, "done"),
                trend("Overdue tasks (end of each period)", &t.overdue_trend, count, "overdue"),
                render(
                    &StackedChart::new(
                        "Tasks created, by priority",
                        &["Open", "Completed"],
                        &t.created_by_priority
                            .iter()
                            .map(|p| (capital(p.priority), vec![p.open as f64, p.completed as f64]))
                            .collect::<Vec<_>>(),
                        count,
                    )
                    .tones(&["open", "done"]),
                ),
            ],
            tables: Vec::new(),
        });
    }
    if let Some(f) = &r.funnel {
        out.push(Panel {
            key: "funnel",
            title: "Conversion Funnel",
            stats: Vec::new(),
            charts: vec![render(&FunnelChart::new(
                "Conversion funnel",
                &f.iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let note = if i == 0 {
                            String::new()
                        } else {
                            format!("{}%", s.conversion_rate)
                        };
                        (s.stage.to_string(), s.count as f64, note)
                    })
                    .collect::<Vec<_>>(),
                count,
            ))],
            tables: tables(&["funnel"]),
        });
    }
    if r.performers.is_some() {
        out.push(Panel {
            key: "performers",
            title: "Top Performers",
            stats: Vec::new(),
            charts: Vec::new(),
            tables: tables(&[
                "top-performers",
                "top-companies-by-deal-value",
                "top-contacts-by-deal-value",
                "top-contacts-by-activity",
                "biggest-deals-won",
            ]),
        });
    }
    out
}

pub async fn page(State(state): State<AppState>, ctx: PageCtx, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    let mut qp = QueryParams::new(q);
    let tab = match qp.get("tab") {
        Some(t) if t == "all" || reports::TABS.contains(&t) => t.to_string(),
        _ => "sales".to_string(),
    };
    qp.set("tab", &tab);
    let (r, req) = load(&state, &ctx.session.actor, &qp).await?;
    let heat_max = r
        .activity
        .as_ref()
        .and_then(|a| a.heatmap.iter().flatten().copied().max())
        .unwrap_or(0);
    let custom = req.preset == "custom";
    let (from, to) = (r.from.clone(), r.to.clone());
    let range = |t: &str| {
        let mut p = vec![("tab", t.to_string()), ("preset", req.preset.clone())];
        if custom {
            p.push(("from", from.clone()));
            p.push(("to", to.clone()));
        }
        if req.group != "day" {
            p.push(("groupBy", req.group.clone()));
        }
        query_string(&p)
    };
    let tabs = TAB_LABELS
        .iter()
        .map(|(k, l)| (*k, *l, format!("/reports{}", range(k))))
        .collect();
    let presets = [
        ("today", "Today"),
        ("week", "This week"),
        ("month", "This month"),
        ("quarter", "This quarter"),
    ]
    .iter()
    .map(|(k, l)| {
        let mut p = vec![("tab", tab.clone()), ("preset", k.to_string())];
        if req.group != "day" {
            p.push(("groupBy", req.group.clone()));
        }
        (*k, *l, format!("/reports{}", query_string(&p)))
    })
    .collect();
    Ok(html(&ReportsPage {
        chrome: Chrome::new(&ctx, "Reports", "reports"),
        panels: panels(&r),
        query: range(&tab),
        full: format!("/reports{}", range("all")),
        tab,
        tabs,
        presets,
        from,
        to,
        group: req.group.clone(),
        heat_max,
        r,
    })
    .into_response())
}

/// This domain's JSON API routes (mounted under `/api/v1` and its alias `/api`).
pub fn api_routes() -> crate::http::api::Api {
    use crate::http::api::{Api, Doc, one_of, param};
    const T: &str = "Reports";
    let params = [
        one_of(
            "preset",
            &[
                "today",
                "yesterday",
                "last7",
                "last30",
                "thisMonth",
                "lastMonth",
                "thisQuarter",
                "thisYear",
                "custom",
            ],
            "The range (default last30).",
        ),
        param("from", "date", "Start of a custom range."),
        param("to", "date", "End of a custom range."),
        one_of("groupBy", &["day", "week", "month"], "Time buckets."),
        param(
            "tab",
            "string",
            "One tab (sales, pipeline, activity, tasks, funnel, performers) or all.",
        ),
    ];
    Api::new()
        .get(
            "/reports",
            Doc::new(T, "The reports for a date range")
                .query(&params)
                .data::<crm_core::analytics::reports::Reports>(),
            api,
        )
        .get(
            "/reports/export",
            Doc::new(T, "The reports as CSV").query(&params).file("text/csv"),
            export,
        )
}

/// This domain's pages.
pub fn page_routes() -> axum::Router<crate::AppState> {
    use axum::routing::get;
    axum::Router::new().route("/reports", get(page))
}
