//! Contact pages: list, profile, new/edit forms, delete and bulk delete (with a
//! confirmation page when JavaScript is off).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use crm_core::accounts::users::{self, UserRef};
use crm_core::companies::CompanyView;
use crm_core::contacts::timeline;
use crm_core::contacts::{ContactView, list, write};
use crm_core::input::Mode;
use crm_core::query::{QueryParams, SortDir};
use uuid::Uuid;

use crate::AppState;
use crate::http::body::FormPairs;
use crate::http::error::{PageError, PageResult};
use crate::http::resource::parse_id;
use crate::web::after_save;
use crate::web::{Chrome, ConfirmPage, FormState, PageCtx, Pager, html, next_dir, notice, short_date};

#[derive(Template)]
#[template(path = "contacts/list.html")]
struct ListPage {
    chrome: Chrome,
    items: Vec<ContactView>,
    pager: Pager,
    search: String,
    status: String,
    sort: String,
    dir: SortDir,
    filtered: bool,
    /// Admins and managers can hand contacts to someone else.
    assignees: Vec<UserRef>,
}

impl ListPage {
    fn export_url(&self) -> String {
        self.url(&self.sort, self.dir, 1, &self.status)
            .replacen("/contacts", "/api/contacts/export", 1)
    }
    fn url(&self, sort: &str, dir: SortDir, page: u64, status: &str) -> String {
        let pairs = vec![("search", self.search.clone()), ("status", status.to_string())];
        crate::web::list_url("/contacts", pairs, sort, dir, page)
    }
    /// Clicking a column sorts it ascending; clicking it again flips the direction.
    fn sort_url(&self, col: &str) -> String {
        self.url(col, next_dir(&self.sort, self.dir, col), 1, &self.status)
    }
    fn aria_sort(&self, col: &str) -> &'static str {
        crate::web::aria_sort(&self.sort, self.dir, col)
    }
    fn status_url(&self, status: &str) -> String {
        self.url(&self.sort, self.dir, 1, status)
    }
    fn date(&self, s: &str) -> String {
        short_date(s)
    }
}

pub async fn index(State(state): State<AppState>, ctx: PageCtx, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    let qp = QueryParams::new(q);
    let mut params = list::ListParams::parse(&qp)?;
    params.page.limit = params.page.limit.min(100);
    let page = list::list(&state.db, &ctx.session.actor, &params).await?;
    let search = params.search.clone().unwrap_or_default();
    let status = params.status.map(|s| s.to_string()).unwrap_or_default();
    let filtered = !search.is_empty() || !status.is_empty();
    let chrome = Chrome::new(&ctx, "Contacts", "contacts").with_notice(notice(qp.get("done"), qp.get("n")));
    let mut p = ListPage {
        chrome,
        items: page.items,
        pager: Pager {
            range: String::new(),
            prev: None,
            next: None,
            page: 1,
            pages: 1,
        },
        search,
        status,
        sort: params.sort.clone(),
        dir: params.dir,
        filtered,
        assignees: users::assignees(&state.db, &ctx.session.actor).await?,
    };
    p.pager = Pager::new(&page.pagination, |n| p.url(&params.sort, params.dir, n, &p.status));
    Ok(html(&p))
}

#[derive(Template)]
#[template(path = "contacts/show.html")]
struct ShowPage {
    chrome: Chrome,
    c: ContactView,
    company: Option<CompanyView>,
    tab: String,
    deps: list::Dependents,
    deals: Vec<crm_core::deals::DealView>,
    tasks: Vec<crm_core::tasks::TaskView>,
    activities: Vec<crm_core::activities::ActivityView>,
    back: String,
    /// The overview: the timeline and the side column.
    tl: crate::web::Timeline,
    people: Vec<ContactView>,
    cp: crate::web::Composer,
}

/// The contact's optional text fields (form, details, inline edit).
fn extras() -> &'static [crm_core::contacts::fields::Extra] {
    crm_core::contacts::fields::EXTRAS
}

impl ShowPage {
    fn extras(&self) -> &'static [crm_core::contacts::fields::Extra] {
        extras()
    }
    fn date(&self, s: &str) -> String {
        short_date(s)
    }
    fn money(&self, v: &f64) -> String {
        crate::web::money(*v)
    }
    fn whole(&self, v: &f64) -> String {
        crate::web::money_whole(*v)
    }
    fn open_deals(&self) -> Vec<&crm_core::deals::DealView> {
        self.deals
            .iter()
            .filter(|d| d.status == crm_core::DealStatus::Open)
            .collect()
    }
}

pub async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let id = parse_id(&id, "contact")?;
    let qp = QueryParams::new(q);
    let actor = &ctx.session.actor;
    let d = list::get(&state.db, actor, id).await?;
    let deps = list::dependents(&state.db, actor, &[id]).await?;
    let tab = match qp.get("tab") {
        Some(t @ ("company" | "deals" | "tasks" | "activities")) => t.to_string(),
        _ => "info".to_string(),
    };
    let chrome = Chrome::new(&ctx, d.contact.full_name(), "contacts").with_notice(notice(qp.get("done"), None));
    let company = d.company.map(|c| CompanyView::new(c, Default::default()));
    let related = |extra: &[(&str, &str)]| {
        let mut p = vec![
            ("contactId".to_string(), id.to_string()),
            ("limit".into(), "100".into()),
        ];
        p.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        QueryParams::new(p)
    };
    let (mut deals, mut tasks, mut activities, mut people) = (vec![], vec![], vec![], vec![]);
    let empty = "Nothing here yet. Log a call or add a task above.";
    let mut tl = crate::web::Timeline::none(format!("/contacts/{id}"), empty);
    match tab.as_str() {
        "deals" => {
            deals = crm_core::deals::list(&state.db, actor, &crm_core::deals::ListParams::parse(&related(&[]))?)
                .await?
                .items
        }
        "tasks" => {
            tasks = crm_core::tasks::list(&state.db, actor, &crm_core::tasks::ListParams::parse(&related(&[]))?)
                .await?
                .items
        }
        "activities" => {
            let p = crm_core::activities::ListParams::parse(&related(&[]))?;
            activities = crm_core::activities::list(&state.db, actor, &p).await?.items
        }
        "info" => {
            let subject = timeline::Subject::Contact(id);
            tl = crate::web::Timeline::load(&state.db, actor, subject, &qp, tl.base, empty).await?;
            deals = crm_core::deals::list(&state.db, actor, &crm_core::deals::ListParams::parse(&related(&[]))?)
                .await?
                .items;
            let open = crm_core::tasks::ListParams::parse(&related(&[("status", "open")]))?;
            tasks = crm_core::tasks::list(&state.db, actor, &open).await?.items;
            if let Some(co) = d.contact.company_id {
                let mut p = list::ListParams::parse(&QueryParams::new(vec![
                    ("companyId".into(), co.to_string()),
                    ("limit".into(), "7".into()),
                ]))?;
                p.page.limit = 7;
                people = list::list(&state.db, actor, &p)
                    .await?
                    .items
                    .into_iter()
                    .filter(|p| p.id != id)
                    .take(6)
                    .collect();
            }
        }
        _ => {}
    }
    let back = format!("/contacts/{id}?tab={tab}");
    let mut cp = crate::web::Composer::new(id, format!("/contacts/{id}"));
    cp.deals = deals
        .iter()
        .filter(|d| d.status == crm_core::DealStatus::Open)
        .map(|d| (d.id, d.name.clone()))
        .collect();
    Ok(html(&ShowPage {
        chrome,
        c: d.contact,
        company,
        tab,
        deps,
        deals,
        tasks,
        activities,
        back,
        tl,
        people,
        cp,
    }))
}

#[derive(Template)]
#[template(path = "contacts/form.html")]
struct FormPage {
    chrome: Chrome,
    heading: String,
    action: String,
    submit: &'static str,
    cancel: String,
    form: FormState,
    companies: Vec<(Uuid, String)>,
    users: Vec<UserRef>,
    can_assign: bool,
}

impl FormPage {
    fn extras(&self) -> &'static [crm_core::contacts::fields::Extra] {
        extras()
    }
    fn is_company(&self, id: &Uuid) -> bool {
        self.form.v("companyId") == id.to_string()
    }
    fn is_user(&self, id: &Uuid) -> bool {
        self.form.v("userId") == id.to_string()
    }
}

async fn form_page(state: &AppState, ctx: &PageCtx, id: Option<Uuid>, form: FormState) -> Result<FormPage, PageError> {
    let actor = &ctx.session.actor;
    let companies = crm_core::companies::list::options(&state.db, 1000).await?;
    let users = users::assignees(&state.db, actor).await?;
    let (heading, action, submit, cancel) = match id {
        None => (
            "New Contact".to_string(),
            "/contacts/new".to_string(),
            "Create Contact",
            "/contacts".to_string(),
        ),
        Some(id) => (
            "Edit Contact".to_string(),
            format!("/contacts/{id}/edit"),
            "Update Contact",
            format!("/contacts/{id}"),
        ),
    };
    Ok(FormPage {
        chrome: Chrome::new(ctx, heading.clone(), "contacts"),
        heading,
        action,
        submit,
        cancel,
        form,
        companies,
        users,
        can_assign: actor.may_assign(),
    })
}

pub async fn new_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let mut form = FormState::from_pairs(&q);
    form.values.entry("status".into()).or_insert_with(|| "lead".into());
    Ok(html(&form_page(&state, &ctx, None, form).await?))
}

pub async fn create(State(state): State<AppState>, ctx: PageCtx, form: FormPairs) -> PageResult {
    let saved = write::create(&state.db, &ctx.session.actor, form.input(Mode::Create)).await;
    let to = |c: crm_core::contacts::Contact| format!("/contacts/{}?done=created", c.id);
    after_save(saved, &form, to, async |f| form_page(&state, &ctx, None, f).await).await
}

pub async fn edit_form(State(state): State<AppState>, ctx: PageCtx, Path(id): Path<String>) -> PageResult {
    let id = parse_id(&id, "contact")?;
    let c = list::get(&state.db, &ctx.session.actor, id).await?.contact;
    let keys = [
        "firstName",
        "lastName",
        "email",
        "phoneNumber",
        "status",
        "companyId",
        "userId",
    ];
    let extras = crm_core::contacts::fields::EXTRAS.iter().map(|e| e.key);
    let form = FormState::from_view(&c, keys.into_iter().chain(extras));
    Ok(html(&form_page(&state, &ctx, Some(id), form).await?))
}

pub async fn update(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    form: FormPairs,
) -> PageResult {
    let id = parse_id(&id, "contact")?;
    let saved = write::update(&state.db, &ctx.session.actor, id, form.input(Mode::Update)).await;
    let to = |_| form.back_or(&format!("/contacts/{id}"), "updated");
    after_save(saved, &form, to, async |f| form_page(&state, &ctx, Some(id), f).await).await
}

fn plural(n: u64, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// The bulk bar's "Assign to" (admins and managers).
pub async fn bulk_assign(State(state): State<AppState>, ctx: PageCtx, form: FormPairs) -> PageResult {
    let ids: Vec<Uuid> = form.all("ids").iter().filter_map(|s| Uuid::parse_str(s).ok()).collect();
    let owner = form.get("assignTo").and_then(|s| Uuid::parse_str(s).ok());
    let Some(owner) = owner else {
        return Err(crm_core::CoreError::field("assignTo", "Choose who gets the contacts").into());
    };
    if ids.is_empty() {
        return Ok(Redirect::to("/contacts").into_response());
    }
    write::bulk_assign(&state.db, &ctx.session.actor, &ids, owner).await?;
    Ok(Redirect::to("/contacts?done=updated").into_response())
}

pub async fn bulk_delete(State(state): State<AppState>, ctx: PageCtx, form: FormPairs) -> PageResult {
    let ids: Vec<Uuid> = form.all("ids").iter().filter_map(|s| Uuid::parse_str(s).ok()).collect();
    if ids.is_empty() {
        return Ok(Redirect::to("/contacts").into_response());
    }
    let actor = &ctx.session.actor;
    if form.get("confirm") == Some("yes") {
        let n = write::bulk_delete(&state.db, actor, &ids).await?;
        return Ok(Redirect::to(&format!("/contacts?done=bulk-deleted&n={n}")).into_response());
    }
    let d = list::dependents(&state.db, &ctx.session.actor, &ids).await?;
    let page = ConfirmPage {
        chrome: Chrome::new(&ctx, "Delete contacts", "contacts"),
        heading: format!("Delete {}?", plural(ids.len() as u64, "contact")),
        text: format!(
            "Their {}, {} and {} are deleted with them. This cannot be undone.",
            plural(d.activities, "activity").replace("activitys", "activities"),
            plural(d.tasks, "task"),
            plural(d.deals, "deal")
        ),
        action: "/contacts/bulk-delete".into(),
        button: "Delete".into(),
        cancel: "/contacts".into(),
        hidden: ids.iter().map(|i| ("ids".to_string(), i.to_string())).collect(),
    };
    Ok(html(&page))
}
