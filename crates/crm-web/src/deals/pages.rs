//! Deal pages: the kanban board (drag and drop with JS, a stage select without), the list
//! view, new/edit forms, the profile with stage history, delete.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use crm_core::DealStage;
use crm_core::accounts::users::{self, UserRef};
use crm_core::deals::{self as core, Column, DealDetail, DealView, write};
use crm_core::input::Mode;
use crm_core::query::{QueryParams, SortDir};
use uuid::Uuid;

use crate::AppState;
use crate::http::body::FormPairs;
use crate::http::error::{PageError, PageResult};
use crate::http::resource::parse_id;
use crate::web::after_save;
use crate::web::{Chrome, FormState, PageCtx, Pager, html, money, notice, query_string, short_date};

/// Shared helpers for deal templates.
pub struct Fmt;
impl Fmt {
    pub fn money(&self, v: &f64) -> String {
        money(*v)
    }
    pub fn date(&self, s: &str) -> String {
        short_date(s)
    }
    pub fn stages(&self) -> &'static [DealStage] {
        &DealStage::ALL
    }
    /// Whole dollars (`$184,500`): cards and column totals show no cents.
    pub fn whole(&self, v: &f64) -> String {
        crate::web::money_whole(*v)
    }
    /// An open deal whose expected close date has passed.
    pub fn overdue(&self, d: &DealView) -> bool {
        d.status == crm_core::DealStatus::Open
            && crate::web::local(&d.expected_close_date).is_some_and(|t| t.date_naive() < crm_core::clock::today())
    }
}

#[derive(Template)]
#[template(path = "deals/index.html")]
struct IndexPage {
    chrome: Chrome,
    f: Fmt,
    board: bool,
    columns: Vec<Column>,
    items: Vec<DealView>,
    pager: Pager,
    q: Vec<(String, String)>,
    search: String,
    status: String,
    stage: String,
}

impl IndexPage {
    fn export_url(&self) -> String {
        self.url(&[]).replacen("/deals", "/api/deals/export", 1)
    }
    fn url(&self, overrides: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for key in [
            "view", "search", "status", "stage", "minValue", "maxValue", "sort", "order",
        ] {
            let v = overrides.iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_string());
            let v = v
                .or_else(|| self.q.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
                .unwrap_or_default();
            pairs.push((key, v));
        }
        if let Some((_, p)) = overrides.iter().find(|(k, _)| *k == "page") {
            pairs.push(("page", p.to_string()));
        }
        format!("/deals{}", query_string(&pairs))
    }
    fn v(&self, key: &str) -> String {
        self.q
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

pub async fn index(State(state): State<AppState>, ctx: PageCtx, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    let qp = QueryParams::new(q.clone());
    let p = core::ListParams::parse(&qp)?;
    let board = qp.get("view") != Some("list");
    let actor = &ctx.session.actor;
    let (columns, items, pagination) = if board {
        (core::board(&state.db, actor, &p).await?, vec![], None)
    } else {
        let page = core::list(&state.db, actor, &p).await?;
        (vec![], page.items, Some(page.pagination))
    };
    let mut page = IndexPage {
        chrome: Chrome::new(&ctx, "Deals & Pipeline", "deals")
            .with_notice(notice(qp.get("done"), None))
            .with_undo("/deals", qp.get("undo")),
        f: Fmt,
        board,
        columns,
        items,
        pager: Pager {
            range: String::new(),
            prev: None,
            next: None,
            page: 1,
            pages: 1,
        },
        search: p.search.clone().unwrap_or_default(),
        status: p.status.map(|s| s.to_string()).unwrap_or_default(),
        stage: p.stage.map(|s| s.to_string()).unwrap_or_default(),
        q,
    };
    if let Some(pg) = pagination {
        page.pager = Pager::new(&pg, |n| page.url(&[("page", &n.to_string())]));
    }
    Ok(html(&page))
}

/// The no-JS kanban move: a stage select on each card.
pub async fn move_submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    form: FormPairs,
) -> PageResult {
    let id = parse_id(&id, "deal")?;
    write::move_stage(&state.db, &ctx.session.actor, id, form.input(Mode::Update)).await?;
    let back = form.get("back").filter(|b| b.starts_with("/deals")).unwrap_or("/deals");
    Ok(Redirect::to(back).into_response())
}

#[derive(Template)]
#[template(path = "deals/show.html")]
struct ShowPage {
    chrome: Chrome,
    f: Fmt,
    d: DealDetail,
    tl: crate::web::Timeline,
    cp: crate::web::Composer,
}

pub async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let qp = QueryParams::new(q);
    let actor = &ctx.session.actor;
    let id = parse_id(&id, "deal")?;
    let d = core::get(&state.db, actor, id).await?;
    let subject = crm_core::contacts::timeline::Subject::Deal(id);
    let empty = "Nothing here yet. Log a call about this deal above.";
    let tl = crate::web::Timeline::load(&state.db, actor, subject, &qp, format!("/deals/{id}"), empty).await?;
    let mut cp = crate::web::Composer::new(d.deal.contact_id, format!("/deals/{id}"));
    cp.deal_id = Some(id);
    Ok(html(&ShowPage {
        chrome: Chrome::new(&ctx, d.deal.name.clone(), "deals").with_notice(notice(qp.get("done"), None)),
        f: Fmt,
        d,
        tl,
        cp,
    }))
}

#[derive(Template)]
#[template(path = "deals/form.html")]
struct FormPage {
    chrome: Chrome,
    f: Fmt,
    heading: String,
    action: String,
    cancel: String,
    form: FormState,
    contacts: Vec<(Uuid, String)>,
    companies: Vec<(Uuid, String)>,
    users: Vec<UserRef>,
}

impl FormPage {
    fn sel(&self, key: &str, id: &Uuid) -> bool {
        self.form.v(key) == id.to_string()
    }
}

/// Contacts offered by pickers: the actor's most recent visible ones (and the one given).
pub async fn contact_options(
    state: &AppState,
    actor: &crm_core::Actor,
    keep: Option<&str>,
) -> Result<Vec<(Uuid, String)>, PageError> {
    let mut params =
        crm_core::contacts::list::ListParams::parse(&QueryParams::new(vec![("limit".into(), "200".into())]))?;
    params.page.limit = 200;
    let page = crm_core::contacts::list::list(&state.db, actor, &params).await?;
    let mut out: Vec<(Uuid, String)> = page
        .items
        .iter()
        .map(|c| (c.id, format!("{} ({})", c.full_name(), c.email)))
        .collect();
    if let Some(id) = keep.and_then(|k| Uuid::parse_str(k).ok())
        && !out.iter().any(|(i, _)| *i == id)
        && let Ok(d) = crm_core::contacts::list::get(&state.db, actor, id).await
    {
        out.insert(0, (id, format!("{} ({})", d.contact.full_name(), d.contact.email)));
    }
    Ok(out)
}

async fn form_page(state: &AppState, ctx: &PageCtx, id: Option<Uuid>, form: FormState) -> Result<FormPage, PageError> {
    let actor = &ctx.session.actor;
    let (heading, action, cancel) = match id {
        None => (
            "Create New Deal".to_string(),
            "/deals/new".to_string(),
            "/deals".to_string(),
        ),
        Some(id) => (
            "Edit Deal".to_string(),
            format!("/deals/{id}/edit"),
            format!("/deals/{id}"),
        ),
    };
    Ok(FormPage {
        chrome: Chrome::new(ctx, heading.clone(), "deals"),
        f: Fmt,
        heading,
        action,
        cancel,
        contacts: contact_options(state, actor, Some(form.v("contactId"))).await?,
        companies: crm_core::companies::list::options(&state.db, 1000).await?,
        users: users::assignees(&state.db, actor).await?,
        form,
    })
}

pub async fn new_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let mut form = FormState::from_pairs(&q);
    form.values.entry("stage".into()).or_insert_with(|| "lead".into());
    Ok(html(&form_page(&state, &ctx, None, form).await?))
}

pub async fn create(State(state): State<AppState>, ctx: PageCtx, form: FormPairs) -> PageResult {
    let saved = write::create(&state.db, &ctx.session.actor, form.input(Mode::Create)).await;
    let to = |d: crm_core::deals::Deal| format!("/deals/{}?done=created", d.id);
    after_save(saved, &form, to, async |f| form_page(&state, &ctx, None, f).await).await
}

pub async fn edit_form(State(state): State<AppState>, ctx: PageCtx, Path(id): Path<String>) -> PageResult {
    let id = parse_id(&id, "deal")?;
    let d = core::get(&state.db, &ctx.session.actor, id).await?.deal;
    let keys = [
        "name",
        "probability",
        "stage",
        "description",
        "contactId",
        "companyId",
        "userId",
    ];
    let form = FormState::from_view(&d, keys)
        .with("value", FormState::dollars(d.value))
        .with("expectedCloseDate", crate::web::date_value(&d.expected_close_date));
    Ok(html(&form_page(&state, &ctx, Some(id), form).await?))
}

pub async fn update(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    form: FormPairs,
) -> PageResult {
    let id = parse_id(&id, "deal")?;
    let saved = write::update(&state.db, &ctx.session.actor, id, form.input(Mode::Update)).await;
    let to = |_| format!("/deals/{id}?done=updated");
    after_save(saved, &form, to, async |f| form_page(&state, &ctx, Some(id), f).await).await
}

impl IndexPage {
    fn sort_url(&self, col: &str) -> String {
        let cur = self.v("sort");
        let dir = if cur == col && self.v("order") != "desc" {
            SortDir::Desc
        } else {
            SortDir::Asc
        };
        self.url(&[("view", "list"), ("sort", col), ("order", dir.as_str()), ("page", "1")])
    }
}
