//! The dashboard's first cut (scoped contact and company figures, recent contacts) and
//! the honest placeholder for sections that later releases fill in.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use crm_core::CoreError;
use crm_core::contacts::ContactView;
use crm_core::entities::{company, contact};
use crm_core::scope;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::AppState;
use crate::http::body::FormPairs;
use crate::http::error::PageResult;
use crate::web::{Chrome, ConfirmPage, PageCtx, html, notice, short_date, thousands};

#[derive(Template)]
#[template(path = "home/dashboard.html")]
struct Dashboard {
    chrome: Chrome,
    total: String,
    leads: String,
    customers: String,
    conversion: String,
    companies: String,
    recent: Vec<ContactView>,
    /// Demo data is loaded and the viewer is an admin: offer to remove it.
    offer_demo_removal: bool,
}

impl Dashboard {
    fn date(&self, s: &str) -> String {
        short_date(s)
    }
}

pub async fn dashboard(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let q = crm_core::query::QueryParams::new(q);
    let actor = &ctx.session.actor;
    let db = &state.db;
    let total = scope::visible::<contact::Entity>(actor).count(&db.conn).await?;
    let customers = scope::visible::<contact::Entity>(actor)
        .filter(contact::Column::Status.eq("customer"))
        .count(&db.conn)
        .await?;
    let companies = company::Entity::find().count(&db.conn).await?;
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
    let conversion = if total == 0 {
        0.0
    } else {
        customers as f64 * 100.0 / total as f64
    };
    Ok(html(&Dashboard {
        chrome: Chrome::new(&ctx, "Dashboard", "dashboard").with_notice(notice(q.get("done"), None)),
        total: thousands(total),
        leads: thousands(total - customers),
        customers: thousands(customers),
        conversion: format!("{conversion:.1}%"),
        companies: thousands(companies),
        recent,
        offer_demo_removal,
    }))
}

/// `POST /admin/demo/remove`: admins remove every demo record at once (asks first).
pub async fn remove_demo(State(state): State<AppState>, ctx: PageCtx, form: FormPairs) -> PageResult {
    if ctx.session.actor.role != crm_core::Role::Admin {
        return Err(CoreError::Forbidden("Only administrators can remove demo data".into()).into());
    }
    if form.get("confirm") == Some("yes") {
        crm_core::seed::remove_demo(&state.db)
            .await
            .map_err(CoreError::Internal)?;
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

#[derive(Template)]
#[template(path = "home/soon.html")]
struct Soon {
    chrome: Chrome,
    heading: &'static str,
}

/// Sections not built yet say so plainly instead of showing an empty shell.
pub async fn soon(ctx: PageCtx) -> PageResult {
    let (heading, nav) = match ctx.path.as_str() {
        "/deals" => ("Deals & Pipeline", "deals"),
        "/tasks" => ("Tasks", "tasks"),
        "/activities" => ("Activities", "activities"),
        "/reports" => ("Reports", "reports"),
        "/admin/users" => ("User Management", "admin"),
        _ => ("Settings", ""),
    };
    Ok(html(&Soon {
        chrome: Chrome::new(&ctx, heading, nav),
        heading,
    }))
}
