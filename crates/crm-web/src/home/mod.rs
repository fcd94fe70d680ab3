//! The dashboard (five tabs of scoped figures and charts) and the demo-data removal.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use crm_core::contacts::ContactView;
use crm_core::entities::contact;
use crm_core::scope;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::AppState;
use crate::http::body::FormPairs;
use crate::http::error::PageResult;
use crate::http::error::{ApiResult, envelope};
use crate::http::session::ApiActor;
use crate::web::charts::{BarChart, LineChart};
use crate::web::{Chrome, ConfirmPage, PageCtx, html, notice, render, short_date, thousands};
use axum::http::StatusCode;
use axum::response::Response;
use crm_core::companies::list::industry_label;

#[derive(Template)]
#[template(path = "home/dashboard.html")]
struct Dashboard {
    chrome: Chrome,
    tab: String,
    d: crm_core::analytics::Dashboard,
    recent: Vec<ContactView>,
    /// Demo data is loaded and the viewer is an admin: offer to remove it.
    offer_demo_removal: bool,
    charts: Vec<String>,
    back: String,
}

impl Dashboard {
    fn date(&self, s: &str) -> String {
        short_date(s)
    }
    fn n(&self, v: &u64) -> String {
        thousands(*v)
    }
    fn money(&self, v: &f64) -> String {
        crate::web::money(*v)
    }
}

/// `GET /api/dashboard`: every figure of the dashboard, scoped to the caller.
pub async fn api(State(state): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Response> {
    Ok(envelope(
        StatusCode::OK,
        crm_core::analytics::dashboard(&state.db, &actor).await?,
    ))
}

pub async fn dashboard(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let q = crm_core::query::QueryParams::new(q);
    let actor = &ctx.session.actor;
    let db = &state.db;
    let d = crm_core::analytics::dashboard(db, actor).await?;
    let tab = match q.get("tab") {
        Some(t @ ("deals" | "tasks" | "activities" | "companies")) => t.to_string(),
        _ => "contacts".to_string(),
    };
    let count = |v: f64| thousands(v as u64);
    let charts: Vec<String> = match tab.as_str() {
        "contacts" => vec![
            render(&BarChart::new(
                "Status distribution",
                &[
                    ("Leads".into(), d.total_leads as f64),
                    ("Customers".into(), d.total_customers as f64),
                ],
                count,
            )),
            render(&LineChart::new(
                "Contact growth (last 30 days)",
                &d.growth.iter().map(|p| (p.label.clone(), p.value)).collect::<Vec<_>>(),
                count,
            )),
        ],
        "deals" => vec![
            render(&BarChart::new(
                "Open pipeline by stage (value)",
                &d.deals_by_stage
                    .iter()
                    .map(|(s, _, v)| (crm_core::deals::stage_label(s).to_string(), *v))
                    .collect::<Vec<_>>(),
                crate::web::money,
            )),
            render(&BarChart::new(
                "Deals by status",
                &[
                    ("Open".into(), d.open_deals as f64),
                    ("Won".into(), d.won_deals as f64),
                    ("Lost".into(), d.lost_deals as f64),
                ],
                count,
            )),
        ],
        "tasks" => vec![render(&BarChart::new(
            "Tasks",
            &[
                ("Open".into(), (d.total_tasks - d.completed_tasks) as f64),
                ("Completed".into(), d.completed_tasks as f64),
                ("Overdue".into(), d.overdue_tasks as f64),
            ],
            count,
        ))],
        "activities" => vec![render(&BarChart::new(
            "Activity types",
            &d.activities_by_type
                .iter()
                .map(|p| (p.label.clone(), p.value))
                .collect::<Vec<_>>(),
            count,
        ))],
        _ => vec![render(&BarChart::new(
            "Companies by industry",
            &d.companies_by_industry
                .iter()
                .map(|p| (industry_label(&p.label), p.value))
                .collect::<Vec<_>>(),
            count,
        ))],
    };
    let rows = scope::visible::<contact::Entity>(actor)
        .order_by_desc(contact::Column::CreatedAt)
        .limit(5)
        .all(&db.conn)
        .await?;
    let recent = crm_core::contacts::list::with_refs(db, rows).await?;
    let offer_demo_removal = actor.role == crm_core::Role::Admin
        && contact::Entity::find()
            .filter(contact::Column::IsDemo.eq(true))
            .one(&db.conn)
            .await?
            .is_some();
    Ok(html(&Dashboard {
        chrome: Chrome::new(&ctx, "Dashboard", "dashboard").with_notice(notice(q.get("done"), None)),
        back: format!("/?tab={tab}"),
        tab,
        d,
        recent,
        offer_demo_removal,
        charts,
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
