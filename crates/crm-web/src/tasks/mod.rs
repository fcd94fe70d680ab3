//! `/api/tasks`: list (status incl. overdue, priority, due-date range, search, contact,
//! pagination), create, get, partial update, the completion toggle (PATCH), delete.
//! Pages in [`pages`].

pub mod pages;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use crm_core::input::Mode;
use crm_core::query::QueryParams;
use crm_core::tasks as core;

use crate::AppState;
use crate::contacts::parse_id;
use crate::http::body::JsonObject;
use crate::http::error::{ApiResult, envelope, page_envelope};
use crate::http::session::ApiActor;

pub async fn index(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let p = core::ListParams::parse(&QueryParams::new(q))?;
    let page = core::list(&state.db, &actor, &p).await?;
    Ok(page_envelope(page))
}

pub async fn show(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(envelope(
        StatusCode::OK,
        core::get(&state.db, &actor, parse_id(&id, "task")?).await?,
    ))
}

pub async fn create(State(state): State<AppState>, ApiActor(actor): ApiActor, body: JsonObject) -> ApiResult<Response> {
    let t = core::create(&state.db, &actor, body.input(Mode::Create)).await?;
    Ok(envelope(StatusCode::CREATED, core::get(&state.db, &actor, t.id).await?))
}

pub async fn update(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: JsonObject,
) -> ApiResult<Response> {
    let id = parse_id(&id, "task")?;
    core::update(&state.db, &actor, id, body.input(Mode::Update)).await?;
    Ok(envelope(StatusCode::OK, core::get(&state.db, &actor, id).await?))
}

/// `PATCH /api/tasks/{id} {"completed": true|false}`.
pub async fn toggle(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: JsonObject,
) -> ApiResult<Response> {
    let id = parse_id(&id, "task")?;
    core::set_completed(&state.db, &actor, id, body.0.get("completed").and_then(|v| v.as_bool())).await?;
    Ok(envelope(StatusCode::OK, core::get(&state.db, &actor, id).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    core::delete(&state.db, &actor, parse_id(&id, "task")?).await?;
    Ok(envelope(StatusCode::OK, serde_json::Value::Null))
}

/// This domain's JSON API routes (mounted under `/api/v1` and its alias `/api`).
pub fn api_routes() -> axum::Router<crate::AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/tasks", get(index).post(create))
        .route("/tasks/{id}", get(show).put(update).patch(toggle).delete(delete))
}

/// This domain's pages.
pub fn page_routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/tasks", get(pages::index))
        .route("/tasks/new", get(pages::new_form).post(pages::create))
        .route("/tasks/{id}/edit", get(pages::edit_form).post(pages::update))
        .route("/tasks/{id}/toggle", post(pages::toggle_submit))
        .route("/tasks/{id}/delete", post(pages::delete))
}
