//! `/api/tasks`: list (status incl. overdue, priority, due-date range, search, contact,
//! pagination), create, get, partial update, the completion toggle (PATCH), delete.
//! Pages in [`pages`].

pub mod pages;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use crm_core::input::Input;
use crm_core::page::Page;
use crm_core::query::QueryParams;
use crm_core::tasks::{self as core, TaskView};
use crm_core::{Actor, CoreResult, Db, TaskPriority};
use uuid::Uuid;

use crate::AppState;
use crate::http::api::{BodyField, Param, SEARCH, field, one_of, param, required};
use crate::http::body::JsonObject;
use crate::http::error::{ApiResult, envelope};
use crate::http::resource::{Resource, Restorable, parse_id, restorable_routes};
use crate::http::session::ApiActor;

pub struct Tasks;

impl Restorable for Tasks {
    async fn restore(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<TaskView> {
        core::restore(db, actor, id).await
    }
}

impl Resource for Tasks {
    const RESTORABLE: bool = true;
    const NAME: &'static str = "task";
    const PATH: &'static str = "/tasks";
    const TAG: &'static str = "Tasks";
    const TITLE: &'static str = "Task";
    const NAV: &'static str = "tasks";
    async fn confirm_delete(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<String> {
        let t = core::get(db, actor, id).await?;
        Ok(format!(
            "Delete the task {}? The notice that follows offers Undo.",
            t.title
        ))
    }
    fn list_params() -> Vec<Param> {
        vec![
            SEARCH,
            one_of(
                "status",
                &crm_core::tasks::STATUSES,
                "Open, completed, or overdue (open and due before now).",
            ),
            one_of("priority", &TaskPriority::NAMES, "Priority."),
            param("startDate", "date", "Due on or after this day."),
            param("endDate", "date", "Due before the end of this day."),
            param("contactId", "uuid", "Tasks about this contact."),
            param("companyId", "uuid", "Tasks about this company's contacts."),
            param("userId", "uuid", "Tasks of this owner."),
        ]
    }
    fn body() -> Vec<BodyField> {
        vec![
            required("title", "string", "At most 200 characters."),
            field("description", "string", "At most 1000 characters."),
            required(
                "dueDate",
                "date-time",
                "When it is due (a date is the end of that day in the organisation's zone).",
            ),
            BodyField {
                values: &TaskPriority::NAMES,
                ..field("priority", "string", "Default medium.")
            },
            field("contactId", "uuid", "The contact it is about; none: a personal to-do."),
            field("userId", "uuid", "The owner (admins and managers may assign)."),
        ]
    }
    type Item = TaskView;
    type View = TaskView;

    async fn list(db: &Db, actor: &Actor, q: &QueryParams) -> CoreResult<Page<TaskView>> {
        core::list(db, actor, &core::ListParams::parse(q)?).await
    }
    async fn get(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<TaskView> {
        core::get(db, actor, id).await
    }
    async fn create(db: &Db, actor: &Actor, input: Input) -> CoreResult<TaskView> {
        let t = core::create(db, actor, input).await?;
        core::get(db, actor, t.id).await
    }
    async fn update(db: &Db, actor: &Actor, id: Uuid, input: Input) -> CoreResult<TaskView> {
        core::update(db, actor, id, input).await?;
        core::get(db, actor, id).await
    }
    async fn delete(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<serde_json::Value> {
        core::delete(db, actor, id).await.map(|_| serde_json::Value::Null)
    }
}

/// `PATCH /api/tasks/{id} {"completed": true|false}`.
pub async fn toggle(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: JsonObject,
) -> ApiResult<Response> {
    let id = parse_id(&id, Tasks::NAME)?;
    core::set_completed(&state.db, &actor, id, body.0.get("completed").and_then(|v| v.as_bool())).await?;
    Ok(envelope(StatusCode::OK, core::get(&state.db, &actor, id).await?))
}

/// This domain's JSON API routes (mounted under `/api/v1` and its alias `/api`).
pub fn api_routes() -> crate::http::api::Api {
    use crate::http::api::{BodyField, Doc, required};
    restorable_routes::<Tasks>().patch(
        "/tasks/{id}",
        Doc::new("Tasks", "Complete or reopen a task")
            .body(&[BodyField {
                kind: "boolean",
                ..required("completed", "boolean", "true completes, false reopens.")
            }])
            .data::<TaskView>(),
        toggle,
    )
}

/// This domain's pages.
pub fn page_routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/tasks", get(pages::index))
        .route("/tasks/new", get(pages::new_form).post(pages::create))
        .route("/tasks/{id}/edit", get(pages::edit_form).post(pages::update))
        .route("/tasks/{id}/toggle", post(pages::toggle_submit))
        .route("/tasks/{id}/delete", post(crate::http::resource::delete_page::<Tasks>))
        .route(
            "/tasks/{id}/restore",
            post(crate::http::resource::restore_page::<Tasks>),
        )
}
