//! Task pages: the list with one-click completion, new/edit forms, delete.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use crm_core::accounts::users::{self, UserRef};
use crm_core::input::Mode;
use crm_core::query::QueryParams;
use crm_core::tasks::{self as core, TaskView};
use uuid::Uuid;

use crate::AppState;
use crate::deals::pages::contact_options;
use crate::http::body::FormPairs;
use crate::http::error::{PageError, PageResult};
use crate::http::resource::parse_id;
use crate::web::after_save;
use crate::web::{Chrome, FormState, PageCtx, Pager, html, notice, query_string, short_date};

#[derive(Template)]
#[template(path = "tasks/index.html")]
struct IndexPage {
    chrome: Chrome,
    items: Vec<TaskView>,
    pager: Pager,
    status: String,
    priority: String,
    search: String,
    back: String,
    /// The owner filter (admins and managers choose among the team; reps see their own).
    owner: String,
    owners: Vec<crm_core::accounts::users::UserRef>,
    me: uuid::Uuid,
}

impl IndexPage {
    fn export_url(&self) -> String {
        self.status_url(&self.status).replacen("/tasks", "/api/tasks/export", 1)
    }
    fn date(&self, s: &str) -> String {
        short_date(s)
    }
    fn status_url(&self, s: &str) -> String {
        format!(
            "/tasks{}",
            query_string(&[
                ("status", s.to_string()),
                ("priority", self.priority.clone()),
                ("search", self.search.clone()),
                ("userId", self.owner.clone())
            ])
        )
    }
}

pub async fn index(State(state): State<AppState>, ctx: PageCtx, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    let mut q = q;
    if !q.iter().any(|(k, _)| k == "status") {
        q.push(("status".into(), "open".into()));
    }
    let qp = QueryParams::new(q);
    let p = core::ListParams::parse(&qp)?;
    let page = core::list(&state.db, &ctx.session.actor, &p).await?;
    let status = qp.get("status").unwrap_or("all").to_string();
    let priority = p.priority.map(|s| s.to_string()).unwrap_or_default();
    let search = p.search.clone().unwrap_or_default();
    let owner = p.owner.map(|o| o.to_string()).unwrap_or_default();
    let (s2, p2, q2, o2) = (status.clone(), priority.clone(), search.clone(), owner.clone());
    let url = move |n: u64| {
        format!(
            "/tasks{}",
            query_string(&[
                ("status", s2.clone()),
                ("priority", p2.clone()),
                ("search", q2.clone()),
                ("userId", o2.clone()),
                ("page", n.to_string())
            ])
        )
    };
    let actor = &ctx.session.actor;
    // the team for those who may see it (admins and managers); nobody to pick for a rep
    let owners = crm_core::accounts::users::assignees(&state.db, actor).await?;
    let back = url(p.page.page);
    Ok(html(&IndexPage {
        chrome: Chrome::new(&ctx, "Tasks", "tasks")
            .with_notice(notice(qp.get("done"), None))
            .with_undo("/tasks", qp.get("undo")),
        pager: Pager::new(&page.pagination, &url),
        items: page.items,
        status,
        priority,
        search,
        back,
        owner,
        owners,
        me: actor.id,
    }))
}

/// One-click completion: a form per task (works without JS), back to where it was.
pub async fn toggle_submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    form: FormPairs,
) -> PageResult {
    let id = parse_id(&id, "task")?;
    let completed = form.get("completed") == Some("true");
    core::set_completed(&state.db, &ctx.session.actor, id, Some(completed)).await?;
    let back = form
        .get("back")
        .filter(|b| b.starts_with('/') && !b.starts_with("//"))
        .unwrap_or("/tasks");
    Ok(Redirect::to(back).into_response())
}

#[derive(Template)]
#[template(path = "tasks/form.html")]
struct FormPage {
    chrome: Chrome,
    heading: String,
    action: String,
    cancel: String,
    form: FormState,
    contacts: Vec<(Uuid, String)>,
    users: Vec<UserRef>,
}

impl FormPage {
    fn sel(&self, key: &str, id: &Uuid) -> bool {
        self.form.v(key) == id.to_string()
    }
}

async fn form_page(state: &AppState, ctx: &PageCtx, id: Option<Uuid>, form: FormState) -> Result<FormPage, PageError> {
    let actor = &ctx.session.actor;
    let (heading, action, cancel) = match id {
        None => ("New Task".to_string(), "/tasks/new".to_string(), "/tasks".to_string()),
        Some(id) => (
            "Edit Task".to_string(),
            format!("/tasks/{id}/edit"),
            "/tasks".to_string(),
        ),
    };
    Ok(FormPage {
        chrome: Chrome::new(ctx, heading.clone(), "tasks"),
        heading,
        action,
        cancel,
        contacts: contact_options(state, actor, Some(form.v("contactId"))).await?,
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
    form.values.entry("priority".into()).or_insert_with(|| "medium".into());
    Ok(html(&form_page(&state, &ctx, None, form).await?))
}

pub async fn create(State(state): State<AppState>, ctx: PageCtx, form: FormPairs) -> PageResult {
    let saved = core::create(&state.db, &ctx.session.actor, form.input(Mode::Create)).await;
    let to = |t: crm_core::tasks::Task| {
        let home = match t.contact_id {
            Some(c) => format!("/contacts/{c}?tab=tasks"),
            None => "/tasks".to_string(),
        };
        form.back_or(&home, "task-added")
    };
    after_save(saved, &form, to, async |f| form_page(&state, &ctx, None, f).await).await
}

pub async fn edit_form(State(state): State<AppState>, ctx: PageCtx, Path(id): Path<String>) -> PageResult {
    let id = parse_id(&id, "task")?;
    let t = core::get(&state.db, &ctx.session.actor, id).await?;
    let form = FormState::from_view(&t, ["title", "description", "priority", "contactId", "userId"])
        .with("dueDate", crate::web::date_value(&t.due_date));
    Ok(html(&form_page(&state, &ctx, Some(id), form).await?))
}

pub async fn update(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    form: FormPairs,
) -> PageResult {
    let id = parse_id(&id, "task")?;
    let saved = core::update(&state.db, &ctx.session.actor, id, form.input(Mode::Update)).await;
    let to = |_| "/tasks?done=updated".to_string();
    after_save(saved, &form, to, async |f| form_page(&state, &ctx, Some(id), f).await).await
}
