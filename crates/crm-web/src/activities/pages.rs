//! Activity pages: the timeline with filters, new/edit forms, delete.

use askama::Template;
use axum::extract::{Path, Query, State};
use crm_core::ActivityType;
use crm_core::activities::{self as core, ActivityView};
use crm_core::input::Mode;
use crm_core::query::QueryParams;
use uuid::Uuid;

use crate::AppState;
use crate::deals::pages::contact_options;
use crate::http::body::FormPairs;
use crate::http::error::{PageError, PageResult};
use crate::http::resource::parse_id;
use crate::web::after_save;
use crate::web::{Chrome, FormState, PageCtx, Pager, html, notice, query_string};

pub fn when(s: &str) -> String {
    crate::web::date_time(s, false)
}

/// The drawn icon of an activity type (no emoji: a machine without an emoji font shows boxes).
pub fn icon(kind: &ActivityType) -> &'static str {
    crate::web::icons::get(match kind {
        ActivityType::Call => "phone",
        ActivityType::Email => "mail",
        ActivityType::Meeting => "calendar",
        ActivityType::Note => "note",
    })
}

#[derive(Template)]
#[template(path = "activities/index.html")]
struct IndexPage {
    chrome: Chrome,
    items: Vec<ActivityView>,
    pager: Pager,
    kind: String,
    search: String,
}

impl IndexPage {
    fn export_url(&self) -> String {
        format!(
            "/api/activities/export{}",
            query_string(&[("type", self.kind.clone()), ("search", self.search.clone())])
        )
    }
    fn types(&self) -> &'static [&'static str] {
        &ActivityType::NAMES
    }
}

pub async fn index(State(state): State<AppState>, ctx: PageCtx, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    let qp = QueryParams::new(q);
    let p = core::ListParams::parse(&qp)?;
    let page = core::list(&state.db, &ctx.session.actor, &p).await?;
    let kind = p.kind.map(|k| k.to_string()).unwrap_or_default();
    let search = p.search.clone().unwrap_or_default();
    let (k2, s2) = (kind.clone(), search.clone());
    Ok(html(&IndexPage {
        chrome: Chrome::new(&ctx, "Activities", "activities")
            .with_notice(notice(qp.get("done"), None))
            .with_undo("/activities", qp.get("undo")),
        pager: Pager::new(&page.pagination, |n| {
            format!(
                "/activities{}",
                query_string(&[("type", k2.clone()), ("search", s2.clone()), ("page", n.to_string())])
            )
        }),
        items: page.items,
        kind,
        search,
    }))
}

#[derive(Template)]
#[template(path = "activities/form.html")]
struct FormPage {
    chrome: Chrome,
    heading: String,
    action: String,
    form: FormState,
    contacts: Vec<(Uuid, String)>,
}

impl FormPage {
    fn sel(&self, id: &Uuid) -> bool {
        self.form.v("contactId") == id.to_string()
    }
    fn types(&self) -> &'static [&'static str] {
        &ActivityType::NAMES
    }
}

async fn form_page(state: &AppState, ctx: &PageCtx, id: Option<Uuid>, form: FormState) -> Result<FormPage, PageError> {
    let (heading, action) = match id {
        None => ("New Activity".to_string(), "/activities/new".to_string()),
        Some(id) => ("Edit Activity".to_string(), format!("/activities/{id}/edit")),
    };
    Ok(FormPage {
        chrome: Chrome::new(ctx, heading.clone(), "activities"),
        heading,
        action,
        contacts: contact_options(state, &ctx.session.actor, Some(form.v("contactId"))).await?,
        form,
    })
}

pub async fn new_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let mut form = FormState::from_pairs(&q);
    form.values.entry("type".into()).or_insert_with(|| "note".into());
    Ok(html(&form_page(&state, &ctx, None, form).await?))
}

pub async fn create(State(state): State<AppState>, ctx: PageCtx, form: FormPairs) -> PageResult {
    let saved = core::create(&state.db, &ctx.session.actor, form.input(Mode::Create)).await;
    let to = |a: crm_core::activities::Activity| {
        form.back_or(&format!("/contacts/{}?tab=activities", a.contact_id), "logged")
    };
    after_save(saved, &form, to, async |f| form_page(&state, &ctx, None, f).await).await
}

pub async fn edit_form(State(state): State<AppState>, ctx: PageCtx, Path(id): Path<String>) -> PageResult {
    let id = parse_id(&id, "activity")?;
    let a = core::get(&state.db, &ctx.session.actor, id).await?;
    let form = FormState::from_view(&a, ["type", "subject", "description", "contactId"]);
    Ok(html(&form_page(&state, &ctx, Some(id), form).await?))
}

pub async fn update(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    form: FormPairs,
) -> PageResult {
    let id = parse_id(&id, "activity")?;
    let saved = core::update(&state.db, &ctx.session.actor, id, form.input(Mode::Update)).await;
    let to = |_| "/activities?done=updated".to_string();
    after_save(saved, &form, to, async |f| form_page(&state, &ctx, Some(id), f).await).await
}
