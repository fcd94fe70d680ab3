//! Reports: `GET /api/reports?preset=today|week|month|quarter|custom&from=&to=`, the
//! `/reports` page (date presets, charts, heatmap, print-friendly) and a CSV per section
//! (`/api/reports/export?section=…`).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use crm_core::analytics::reports::{self, Range, Reports};
use crm_core::export::line;
use crm_core::query::QueryParams;
use crm_core::{CoreError, clock};

use crate::AppState;
use crate::http::error::{ApiResult, PageResult, envelope};
use crate::http::session::ApiActor;
use crate::web::charts::{BarChart, LineChart};
use crate::web::{Chrome, PageCtx, html, money, query_string, render, thousands};

async fn load(
    state: &AppState,
    actor: &crm_core::Actor,
    q: Vec<(String, String)>,
) -> Result<(Reports, String, QueryParams), CoreError> {
    let qp = QueryParams::new(q);
    let (range, preset) = Range::parse(&qp, clock::now().date_naive())?;
    Ok((reports::reports(&state.db, actor, range).await?, preset, qp))
}

pub async fn api(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    Ok(envelope(StatusCode::OK, load(&state, &actor, q).await?.0))
}

/// One section as CSV: `sales`, `pipeline`, `activities`, `heatmap`, `tasks`, `performers`.
pub async fn export(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let (r, _, qp) = load(&state, &actor, q).await?;
    let section = qp.get("section").unwrap_or("").to_string();
    let s = |v: &str| v.to_string();
    let mut rows: Vec<Vec<String>> = match section.as_str() {
        "sales" => {
            let mut v = vec![vec![s("date"), s("revenue")]];
            v.extend(
                r.revenue_by_day
                    .iter()
                    .map(|p| vec![p.label.clone(), format!("{:.2}", p.value)]),
            );
            v
        }
        "pipeline" => {
            let mut v = vec![vec![s("stage"), s("averageDays")]];
            v.extend(
                r.average_days_in_stage
                    .iter()
                    .map(|p| vec![p.label.clone(), p.value.to_string()]),
            );
            v
        }
        "activities" => {
            let mut v = vec![vec![s("type"), s("count")]];
            v.extend(
                r.activities_by_type
                    .iter()
                    .map(|p| vec![p.label.clone(), p.value.to_string()]),
            );
            v
        }
        "heatmap" => {
            let mut head = vec![s("weekday")];
            head.extend((0..24).map(|h| format!("{h:02}")));
            let mut v = vec![head];
            for (d, row) in r.activity_heatmap.iter().enumerate() {
                let mut cells = vec![DAYS[d].to_string()];
                cells.extend(row.iter().map(|n| n.to_string()));
                v.push(cells);
            }
            v
        }
        "tasks" => vec![
            vec![
                s("created"),
                s("completed"),
                s("completionRate"),
                s("averageDaysToComplete"),
                s("overdueNow"),
            ],
            vec![
                r.tasks_created.to_string(),
                r.tasks_completed.to_string(),
                r.task_completion_rate.to_string(),
                r.average_days_to_complete.to_string(),
                r.overdue_now.to_string(),
            ],
        ],
        "performers" => {
            let mut v = vec![vec![s("name"), s("wonValue"), s("wonDeals"), s("activities")]];
            v.extend(r.top_performers.iter().map(|p| {
                vec![
                    p.name.clone(),
                    format!("{:.2}", p.won_value),
                    p.won_deals.to_string(),
                    p.activities.to_string(),
                ]
            }));
            v
        }
        _ => {
            return Err(CoreError::field(
                "section",
                "Section must be one of: sales, pipeline, activities, heatmap, tasks, performers",
            )
            .into());
        }
    };
    let mut body = String::from("\u{feff}");
    for row in rows.drain(..) {
        body.push_str(&line(&row));
    }
    let mut res = body.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"report-{section}.csv\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

#[derive(Template)]
#[template(path = "reports/page.html")]
struct ReportsPage {
    chrome: Chrome,
    r: Reports,
    preset: String,
    from: String,
    to: String,
    charts: Vec<String>,
    heat_max: u64,
    query: String,
}

impl ReportsPage {
    fn money(&self, v: &f64) -> String {
        money(*v)
    }
    fn n(&self, v: &u64) -> String {
        thousands(*v)
    }
    fn day(&self, i: &usize) -> &'static str {
        DAYS[*i]
    }
    /// Heat level 0–4 for a cell.
    fn level(&self, n: &u64) -> u64 {
        if *n == 0 || self.heat_max == 0 {
            0
        } else {
            1 + (*n * 3) / self.heat_max
        }
    }
    fn export(&self, section: &str) -> String {
        format!("/api/reports/export{}&section={section}", self.query)
    }
}

pub async fn page(State(state): State<AppState>, ctx: PageCtx, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    let (r, preset, qp) = load(&state, &ctx.session.actor, q).await?;
    let rows = |ps: &[crm_core::analytics::Point]| ps.iter().map(|p| (p.label.clone(), p.value)).collect::<Vec<_>>();
    let count = |v: f64| thousands(v as u64);
    let mut charts = vec![];
    if r.revenue_by_day.len() > 1 {
        charts.push(render(&LineChart::new(
            "Revenue won per day",
            &rows(&r.revenue_by_day),
            money,
        )));
    } else {
        charts.push(render(&BarChart::new(
            "Revenue won per day",
            &rows(&r.revenue_by_day),
            money,
        )));
    }
    charts.push(render(&BarChart::new(
        "Average days in stage",
        &rows(&r.average_days_in_stage),
        |v| format!("{v:.1} d"),
    )));
    charts.push(render(&BarChart::new(
        "Activities by type",
        &rows(&r.activities_by_type),
        count,
    )));
    charts.push(render(&BarChart::new(
        "Conversion funnel",
        &[
            ("New contacts".into(), r.new_contacts as f64),
            ("New customers".into(), r.new_customers as f64),
            ("New deals".into(), r.new_deals as f64),
            ("Deals won".into(), r.won_deals as f64),
        ],
        count,
    )));
    let heat_max = r.activity_heatmap.iter().flatten().copied().max().unwrap_or(0);
    let (from, to) = (
        qp.get("from").unwrap_or("").to_string(),
        qp.get("to").unwrap_or("").to_string(),
    );
    let query = query_string(&[("preset", preset.clone()), ("from", from.clone()), ("to", to.clone())]);
    Ok(html(&ReportsPage {
        chrome: Chrome::new(&ctx, "Reports", "reports"),
        r,
        preset,
        from,
        to,
        charts,
        heat_max,
        query,
    })
    .into_response())
}
