//! Company pages: list, profile (information + contacts + deals tabs), new/edit, delete.

use askama::Template;
use axum::extract::{Path, Query, State};
use crm_core::companies::list::{CompanyDetail, industry_label};
use crm_core::companies::{CompanyView, INDUSTRIES, list, write};
use crm_core::input::Mode;
use crm_core::query::{QueryParams, SortDir};
use uuid::Uuid;

use crate::AppState;
use crate::http::body::FormPairs;
use crate::http::error::PageResult;
use crate::http::resource::parse_id;
use crate::web::after_save;
use crate::web::{Chrome, FormState, PageCtx, Pager, html, money, notice, short_date, thousands};

#[derive(Template)]
#[template(path = "companies/list.html")]
struct ListPage {
    chrome: Chrome,
    items: Vec<CompanyView>,
    pager: Pager,
    total: String,
    search: String,
    industry: String,
    sort: String,
    dir: SortDir,
    filtered: bool,
    /// Only companies with the viewer's records (a rep's default).
    mine: bool,
    /// The viewer is a rep: the counts are of their own records.
    own_counts: bool,
}

impl ListPage {
    fn export_url(&self) -> String {
        self.url(&self.sort, self.dir, 1)
            .replacen("/companies", "/api/companies/export", 1)
    }
    fn url(&self, sort: &str, dir: SortDir, page: u64) -> String {
        let mine = match (self.mine, self.own_counts) {
            (true, false) => "true",
            (false, true) => "false",
            _ => "",
        };
        let pairs = vec![
            ("search", self.search.clone()),
            ("industry", self.industry.clone()),
            ("mine", mine.to_string()),
        ];
        crate::web::list_url("/companies", pairs, sort, dir, page)
    }
    fn sort_url(&self, col: &str) -> String {
        self.url(col, crate::web::next_dir(&self.sort, self.dir, col), 1)
    }
    fn aria_sort(&self, col: &str) -> &'static str {
        crate::web::aria_sort(&self.sort, self.dir, col)
    }
    fn industries(&self) -> &'static [&'static str] {
        &INDUSTRIES
    }
    fn ind(&self, v: &str) -> String {
        industry_label(v)
    }
    fn date(&self, s: &str) -> String {
        short_date(s)
    }
}

pub async fn index(State(state): State<AppState>, ctx: PageCtx, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    let mut qp = QueryParams::new(q);
    // a rep starts from the companies they work with; "All companies" is one choice away
    let own_counts = !ctx.session.actor.reads_all();
    if own_counts && qp.get("mine").is_none() {
        qp.set("mine", "true");
    }
    let params = list::ListParams::parse(&qp, 50)?;
    let page = list::list(&state.db, &ctx.session.actor, &params).await?;
    let n = page.pagination.total;
    let mut p = ListPage {
        chrome: Chrome::new(&ctx, "Companies", "companies").with_notice(notice(qp.get("done"), None)),
        items: page.items,
        pager: Pager {
            range: String::new(),
            prev: None,
            next: None,
            page: 1,
            pages: 1,
        },
        total: format!("{} compan{}", thousands(n), if n == 1 { "y" } else { "ies" }),
        search: params.search.clone().unwrap_or_default(),
        industry: params.industry.clone().unwrap_or_default(),
        sort: params.sort.clone(),
        dir: params.dir,
        filtered: params.search.is_some() || params.industry.is_some(),
        mine: params.mine,
        own_counts,
    };
    p.pager = Pager::new(&page.pagination, |n| p.url(&params.sort, params.dir, n));
    Ok(html(&p))
}

#[derive(Template)]
#[template(path = "companies/show.html")]
struct ShowPage {
    chrome: Chrome,
    d: CompanyDetail,
    tab: String,
    tasks: Vec<crm_core::tasks::TaskView>,
    activities: Vec<crm_core::activities::ActivityView>,
    back: String,
    /// Everything on the company's contacts and deals the viewer can see.
    tl: crate::web::Timeline,
}

impl ShowPage {
    fn date(&self, s: &str) -> String {
        short_date(s)
    }
    fn money(&self, v: &f64) -> String {
        money(*v)
    }
    fn ind(&self, v: &str) -> String {
        industry_label(v)
    }
}

pub async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let id = parse_id(&id, "company")?;
    let qp = QueryParams::new(q);
    let d = list::get(&state.db, &ctx.session.actor, id).await?;
    let tab = match qp.get("tab") {
        Some(t @ ("contacts" | "deals" | "tasks" | "activities")) => t.to_string(),
        _ => "info".to_string(),
    };
    let related = QueryParams::new(vec![
        ("companyId".into(), id.to_string()),
        ("limit".into(), "100".into()),
    ]);
    let actor = &ctx.session.actor;
    let (mut tasks, mut activities) = (vec![], vec![]);
    if tab == "tasks" {
        tasks = crm_core::tasks::list(&state.db, actor, &crm_core::tasks::ListParams::parse(&related)?)
            .await?
            .items;
    } else if tab == "activities" {
        activities = crm_core::activities::list(&state.db, actor, &crm_core::activities::ListParams::parse(&related)?)
            .await?
            .items;
    }
    let subject = crm_core::contacts::timeline::Subject::Company(id);
    let empty = "Nothing has happened with this company's contacts and deals yet.";
    let base = format!("/companies/{id}");
    let tl = if tab == "info" {
        crate::web::Timeline::load(&state.db, actor, subject, &qp, base, empty).await?
    } else {
        crate::web::Timeline::none(base, empty)
    };
    let back = format!("/companies/{id}?tab={tab}");
    let chrome = Chrome::new(&ctx, d.company.name.clone(), "companies").with_notice(notice(qp.get("done"), None));
    Ok(html(&ShowPage {
        chrome,
        d,
        tab,
        tasks,
        activities,
        back,
        tl,
    }))
}

#[derive(Template)]
#[template(path = "companies/form.html")]
struct FormPage {
    chrome: Chrome,
    heading: String,
    action: String,
    submit: &'static str,
    cancel: String,
    form: FormState,
}

impl FormPage {
    fn industries(&self) -> &'static [&'static str] {
        &INDUSTRIES
    }
    fn ind(&self, v: &str) -> String {
        industry_label(v)
    }
}

fn form_page(ctx: &PageCtx, id: Option<Uuid>, form: FormState) -> FormPage {
    let (heading, action, submit, cancel) = match id {
        None => (
            "New Company".to_string(),
            "/companies/new".to_string(),
            "Create Company",
            "/companies".to_string(),
        ),
        Some(id) => (
            "Edit Company".to_string(),
            format!("/companies/{id}/edit"),
            "Update Company",
            format!("/companies/{id}"),
        ),
    };
    FormPage {
        chrome: Chrome::new(ctx, heading.clone(), "companies"),
        heading,
        action,
        submit,
        cancel,
        form,
    }
}

pub async fn new_form(ctx: PageCtx) -> PageResult {
    Ok(html(&form_page(&ctx, None, FormState::default())))
}

pub async fn create(State(state): State<AppState>, ctx: PageCtx, form: FormPairs) -> PageResult {
    let saved = write::create(&state.db, &ctx.session.actor, form.input(Mode::Create)).await;
    let to = |c: crm_core::companies::Company| format!("/companies/{}?done=created", c.id);
    after_save(saved, &form, to, async |f| Ok(form_page(&ctx, None, f))).await
}

pub async fn edit_form(State(state): State<AppState>, ctx: PageCtx, Path(id): Path<String>) -> PageResult {
    let id = parse_id(&id, "company")?;
    let c = list::get(&state.db, &ctx.session.actor, id).await?.company;
    let keys = ["name", "industry", "website", "phone", "address", "employeeCount"];
    let revenue = c.revenue.map(FormState::dollars);
    let form = FormState::from_view(&c, keys).with("revenue", revenue.unwrap_or_default());
    Ok(html(&form_page(&ctx, Some(id), form)))
}

pub async fn update(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    form: FormPairs,
) -> PageResult {
    let id = parse_id(&id, "company")?;
    let saved = write::update(&state.db, &ctx.session.actor, id, form.input(Mode::Update)).await;
    let to = |_| format!("/companies/{id}?done=updated");
    after_save(saved, &form, to, async |f| Ok(form_page(&ctx, Some(id), f))).await
}
