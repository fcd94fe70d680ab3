//! The dashboard (five tabs of scoped figures and charts, one computed per request) and
//! the demo-data removal.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use crm_core::analytics::{self, Dashboard as Figures};
use crm_core::query::QueryParams;

use crate::AppState;
use crate::http::body::FormPairs;
use crate::http::error::{ApiResult, PageResult, envelope};
use crate::http::session::ApiActor;
use crate::web::charts::{BarChart, DonutChart, LineChart, capital, compact, compact_money, rows};
use crate::web::{Chrome, ConfirmPage, PageCtx, html, money_whole, notice, render, short_date, thousands};
use crm_core::companies::list::industry_label;

#[derive(Template)]
#[template(path = "home/dashboard.html")]
struct Dashboard {
    chrome: Chrome,
    tab: &'static str,
    d: Figures,
    /// Demo data is loaded and the viewer is an admin: offer to remove it.
    offer_demo_removal: bool,
    charts: Vec<String>,
    back: String,
}

impl Dashboard {
    fn week_start_day(&self) -> &'static str {
        if crate::web::org::current().week_start == "sunday" {
            "Sunday"
        } else {
            "Monday"
        }
    }
    fn date(&self, s: &str) -> String {
        short_date(s)
    }
    fn n(&self, v: &i64) -> String {
        thousands((*v).max(0) as u64)
    }
    /// The dashboard's soonest open tasks, overdue (`true`) or not: shown as two lists.
    fn split<'a>(&self, t: &'a analytics::TasksTab, overdue: bool) -> Vec<&'a crm_core::tasks::TaskView> {
        t.upcoming.iter().filter(|x| x.overdue == overdue).collect()
    }
    /// Money in cards: whole dollars.
    fn whole(&self, v: &f64) -> String {
        money_whole(*v)
    }
    fn industry(&self, v: &str) -> String {
        industry_label(v)
    }
}

/// `GET /api/dashboard[?tab=contacts|companies|deals|tasks|activities]`: the figures of one
/// tab, or of all five, scoped to the caller.
pub async fn api(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let q = QueryParams::new(q);
    let tab = q.get("tab").map(analytics::parse_tab).transpose()?;
    Ok(envelope(
        StatusCode::OK,
        state
            .db
            .reading(&actor, |db| {
                let actor = &actor;
                async move { analytics::dashboard(&db, actor, tab, crate::web::org::week_start()).await }
            })
            .await?,
    ))
}

/// `2026-11-05` → `Nov 5`.
fn day_label(iso: &str) -> String {
    chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(|d| d.format("%b %-d").to_string())
        .unwrap_or_else(|_| iso.to_string())
}

/// The two charts of a tab.
fn charts(d: &Figures) -> Vec<String> {
    let count = |v: f64| thousands(v as u64);
    if let Some(c) = &d.contacts {
        return vec![
            render(
                &DonutChart::new(
                    "Status distribution",
                    &[
                        ("Leads".into(), c.leads as f64),
                        ("Customers".into(), c.customers as f64),
                    ],
                    count,
                )
                .tones(&["lead", "customer"])
                .short(compact),
            ),
            render(&LineChart::new(
                "Contact growth (last 30 days)",
                &rows(&c.growth, day_label),
                count,
            )),
        ];
    }
    if let Some(c) = &d.companies {
        return vec![
            render(&BarChart::new(
                "Top companies by deal value",
                &c.top_companies
                    .iter()
                    .map(|r| (r.name.clone(), r.value))
                    .collect::<Vec<_>>(),
                money_whole,
            )),
            render(
                &DonutChart::new("Companies by industry", &rows(&c.by_industry, industry_label), count).short(compact),
            ),
        ];
    }
    if let Some(x) = &d.deals {
        let stage_tones: Vec<String> = x.by_stage.iter().map(|s| format!("stage-{}", s.stage)).collect();
        return vec![
            render(
                &DonutChart::new(
                    "Open pipeline by stage (value)",
                    &x.by_stage
                        .iter()
                        .map(|s| (format!("{} ({})", s.label, thousands(s.count as u64)), s.value))
                        .collect::<Vec<_>>(),
                    money_whole,
                )
                .tones(&stage_tones.iter().map(String::as_str).collect::<Vec<_>>())
                .short(compact_money),
            ),
            render(
                &DonutChart::new(
                    "Deals by status (value)",
                    &[
                        (format!("Open ({})", thousands(x.open_count as u64)), x.pipeline_value),
                        (format!("Won ({})", thousands(x.won_count as u64)), x.won_value),
                        (format!("Lost ({})", thousands(x.lost_count as u64)), x.lost_value),
                    ],
                    money_whole,
                )
                .tones(&["open", "won", "lost"])
                .short(compact_money),
            ),
        ];
    }
    if let Some(t) = &d.tasks {
        return vec![
            render(
                &DonutChart::new("Tasks by priority", &rows(&t.by_priority, capital), count)
                    .tones(&t.by_priority.iter().map(|p| p.label.as_str()).collect::<Vec<_>>())
                    .short(compact),
            ),
            render(&LineChart::new(
                "Completion rate by day created (last 30 days)",
                &rows(&t.completion_over_time, day_label),
                |v| format!("{v:.0}%"),
            )),
        ];
    }
    if let Some(a) = &d.activities {
        return vec![
            render(&DonutChart::new("Activity types", &rows(&a.by_type, capital), count).short(compact)),
            render(&LineChart::new(
                "Activities per day (last 30 days)",
                &rows(&a.over_time, day_label),
                count,
            )),
        ];
    }
    Vec::new()
}

#[derive(Template)]
#[template(path = "home/my_day.html")]
struct MyDayPage {
    chrome: Chrome,
    tab: &'static str,
    m: analytics::MyDay,
    greeting: &'static str,
    first_name: String,
    offer_demo_removal: bool,
    back: String,
}

impl MyDayPage {
    fn date(&self, s: &str) -> String {
        short_date(s)
    }
    fn money(&self, v: &f64) -> String {
        crate::web::money_whole(*v)
    }
    fn when(&self, s: &str) -> String {
        crate::activities::pages::when(s)
    }
}

/// `/`: "My day" (the default), or one of the analytics tabs with `?tab=`.
pub async fn dashboard(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let q = QueryParams::new(q);
    let actor = &ctx.session.actor;
    let db = &state.db;
    let offer_demo_removal = actor.role == crm_core::Role::Admin && crm_core::seed::has_demo_data(db).await?;
    let tab = q.get("tab").and_then(|t| analytics::parse_tab(t).ok());
    let Some(tab) = tab else {
        let hour = crm_core::clock::local(&crm_core::clock::now())
            .format("%H")
            .to_string()
            .parse::<u32>()
            .unwrap_or(9);
        return Ok(html(&MyDayPage {
            chrome: Chrome::new(&ctx, "My day", "dashboard").with_notice(notice(q.get("done"), None)),
            tab: "today",
            m: analytics::my_day(db, actor).await?,
            greeting: match hour {
                5..=11 => "morning",
                12..=17 => "afternoon",
                _ => "evening",
            },
            first_name: actor.name.split_whitespace().next().unwrap_or("").to_string(),
            offer_demo_removal,
            back: "/".into(),
        }));
    };
    let d = db
        .reading(actor, |db| async move {
            analytics::dashboard(&db, actor, Some(tab), crate::web::org::week_start()).await
        })
        .await?;
    Ok(html(&Dashboard {
        chrome: Chrome::new(&ctx, "Dashboard", "dashboard").with_notice(notice(q.get("done"), None)),
        back: format!("/?tab={tab}"),
        charts: charts(&d),
        tab,
        d,
        offer_demo_removal,
    }))
}

/// `POST /admin/demo/remove`: admins remove every demo record at once (asks first).
pub async fn remove_demo(State(state): State<AppState>, ctx: PageCtx, form: FormPairs) -> PageResult {
    if form.get("confirm") == Some("yes") {
        crm_core::admin::remove_demo_data(&state.db, &ctx.session.actor).await?;
        return Ok(Redirect::to("/?done=demo-removed").into_response());
    }
    Ok(html(&ConfirmPage {
        chrome: Chrome::new(&ctx, "Remove demo data", "dashboard"),
        heading: "Remove demo data?".into(),
        text: "Every demo company, contact, deal, task and activity and the demo users are deleted. Your own data is kept.".into(),
        action: "/admin/demo/remove".into(),
        button: "Remove demo data".into(),
        cancel: "/".into(),
        hidden: vec![],
    }))
}

/// This domain's JSON API routes (mounted under `/api/v1` and its alias `/api`).
pub fn api_routes() -> crate::http::api::Api {
    use crate::http::api::{Api, Doc, one_of};
    Api::new().get(
        "/dashboard",
        Doc::new("Dashboard", "The dashboard's figures (all tabs, or one)")
            .query(&[one_of(
                "tab",
                &["contacts", "companies", "deals", "tasks", "activities"],
                "One tab only.",
            )])
            .data::<crm_core::analytics::Dashboard>(),
        api,
    )
}

/// This domain's pages.
pub fn page_routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/", get(dashboard))
        .route("/admin/demo/remove", post(remove_demo))
}
