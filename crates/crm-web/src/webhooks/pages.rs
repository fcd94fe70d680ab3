//! `/admin/webhooks`: the endpoints with a create form (the secret is shown once, on the
//! page that answers the form), an endpoint's page (edit, send test, delete with a
//! confirmation, deliveries with status, response code, duration and the start of the
//! response body, retry).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use crm_core::CoreError;
use crm_core::input::{Input, Mode};
use crm_core::query::QueryParams;
use crm_core::webhooks::{self as core, DeliveryView, EndpointView};

use crate::AppState;
use crate::http::body::FormPairs;
use crate::http::error::PageResult;
use crate::http::resource::parse_id;
use crate::web::{Chrome, ConfirmPage, FormState, PageCtx, Pager, html, notice, query_string, short_date};

#[derive(Template)]
#[template(path = "webhooks/list.html")]
struct ListPage {
    chrome: Chrome,
    items: Vec<EndpointView>,
    form: FormState,
    chosen: Vec<String>,
    events: &'static [&'static str],
    /// The endpoint just created, with its secret (shown this once).
    created: Option<EndpointView>,
}

#[derive(Template)]
#[template(path = "webhooks/show.html")]
struct ShowPage {
    chrome: Chrome,
    e: EndpointView,
    form: FormState,
    chosen: Vec<String>,
    events: &'static [&'static str],
    deliveries: Vec<DeliveryView>,
    pager: Pager,
}

impl ShowPage {
    fn date(&self, s: &str) -> String {
        short_date(s)
    }
    fn has(&self, ev: &str) -> bool {
        self.chosen.iter().any(|c| c == ev)
    }
}

impl ListPage {
    fn has(&self, ev: &str) -> bool {
        self.chosen.iter().any(|c| c == ev)
    }
}

/// The form as an `Input`: checked events become one comma-separated value; the enabled
/// box is explicit (an unchecked box sends nothing).
fn input(form: &FormPairs, mode: Mode, with_enabled: bool) -> Input {
    let mut pairs: Vec<(String, String)> = form
        .0
        .iter()
        .filter(|(k, _)| k != "events" && k != "enabled" && k != "csrf_token")
        .cloned()
        .collect();
    pairs.push(("events".into(), form.all("events").join(",")));
    if with_enabled {
        pairs.push(("enabled".into(), form.get("enabled").is_some().to_string()));
    }
    Input::form(&pairs, mode)
}

pub async fn index(State(state): State<AppState>, ctx: PageCtx, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    let done = QueryParams::new(q).get("done").map(str::to_string);
    list_page(
        &state,
        &ctx,
        FormState::default(),
        vec![],
        None,
        notice(done.as_deref(), None),
    )
    .await
}

async fn list_page(
    state: &AppState,
    ctx: &PageCtx,
    form: FormState,
    chosen: Vec<String>,
    created: Option<EndpointView>,
    note: Option<String>,
) -> PageResult {
    let items = core::list(&state.db, &ctx.session.actor).await?;
    Ok(html(&ListPage {
        chrome: Chrome::new(ctx, "Webhooks", "webhooks").with_notice(note),
        items,
        form,
        chosen,
        events: &core::EVENTS,
        created,
    }))
}

pub async fn create(State(state): State<AppState>, ctx: PageCtx, form: FormPairs) -> PageResult {
    let allow = state.config.webhook_allow_private;
    let chosen: Vec<String> = form.all("events").iter().map(|s| s.to_string()).collect();
    match core::create(
        &state.db,
        &state.keys,
        &ctx.session.actor,
        input(&form, Mode::Create, false),
        allow,
    )
    .await
    {
        Ok(v) => list_page(&state, &ctx, FormState::default(), vec![], Some(v), None).await,
        Err(e @ CoreError::Validation { .. }) => {
            let f = FormState::from_pairs(&form.0).with_error(e);
            let res = list_page(&state, &ctx, f, chosen, None, None).await?;
            Ok((StatusCode::BAD_REQUEST, res).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let id = parse_id(&id, "webhook")?;
    let qp = QueryParams::new(q);
    let notice = match qp.get("done") {
        Some("updated") => Some("Changes saved.".to_string()),
        Some("test") => Some("A test ping was queued; it appears below in a moment.".to_string()),
        Some("retry") => Some("The delivery is queued again.".to_string()),
        _ => None,
    };
    show_page(&state, &ctx, id, &qp, FormState::default(), None, notice).await
}

async fn show_page(
    state: &AppState,
    ctx: &PageCtx,
    id: uuid::Uuid,
    qp: &QueryParams,
    form: FormState,
    chosen: Option<Vec<String>>,
    notice: Option<String>,
) -> PageResult {
    let actor = &ctx.session.actor;
    let e = core::get(&state.db, actor, id).await?;
    let page = core::deliveries(&state.db, actor, id, qp).await?;
    let pager = Pager::new(&page.pagination, |n| {
        format!("/admin/webhooks/{id}{}", query_string(&[("page", n.to_string())]))
    });
    let mut form = form;
    if form.values.is_empty() {
        form.values.insert("url".into(), e.url.clone());
        form.values
            .insert("description".into(), e.description.clone().unwrap_or_default());
    }
    Ok(html(&ShowPage {
        chrome: Chrome::new(ctx, "Webhook", "webhooks").with_notice(notice),
        chosen: chosen.unwrap_or_else(|| e.events.clone()),
        e,
        form,
        events: &core::EVENTS,
        deliveries: page.items,
        pager,
    }))
}

pub async fn update(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    form: FormPairs,
) -> PageResult {
    let id = parse_id(&id, "webhook")?;
    let allow = state.config.webhook_allow_private;
    match core::update(
        &state.db,
        &ctx.session.actor,
        id,
        input(&form, Mode::Update, true),
        allow,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/admin/webhooks/{id}?done=updated")).into_response()),
        Err(e @ CoreError::Validation { .. }) => {
            let chosen = form.all("events").iter().map(|s| s.to_string()).collect();
            let f = FormState::from_pairs(&form.0).with_error(e);
            let res = show_page(&state, &ctx, id, &QueryParams::default(), f, Some(chosen), None).await?;
            Ok((StatusCode::BAD_REQUEST, res).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Deletes with `confirm=yes` (added by the JS dialog or the confirmation page);
/// otherwise answers the confirmation page.
pub async fn delete(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    form: FormPairs,
) -> PageResult {
    let id = parse_id(&id, "webhook")?;
    if form.get("confirm") == Some("yes") {
        core::delete(&state.db, &ctx.session.actor, id).await?;
        return Ok(Redirect::to("/admin/webhooks?done=deleted").into_response());
    }
    let e = core::get(&state.db, &ctx.session.actor, id).await?;
    Ok(html(&ConfirmPage {
        chrome: Chrome::new(&ctx, "Delete webhook", "webhooks"),
        heading: "Delete webhook".into(),
        text: format!(
            "Delete the endpoint {}? Its queued and past deliveries are deleted with it and it receives no more events.",
            e.url
        ),
        action: format!("/admin/webhooks/{id}/delete"),
        button: "Delete".into(),
        cancel: format!("/admin/webhooks/{id}"),
        hidden: vec![],
    }))
}

pub async fn test(State(state): State<AppState>, ctx: PageCtx, Path(id): Path<String>) -> PageResult {
    let id = parse_id(&id, "webhook")?;
    core::ping(&state.db, &ctx.session.actor, id).await?;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}?done=test")).into_response())
}

pub async fn retry(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((id, delivery)): Path<(String, String)>,
) -> PageResult {
    let (id, delivery) = (parse_id(&id, "webhook")?, parse_id(&delivery, "delivery")?);
    core::retry(&state.db, &ctx.session.actor, id, delivery).await?;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}?done=retry")).into_response())
}
