//! `/api/deals`: list (stage, status, value and date ranges, search, contact, company,
//! sort, pagination), the kanban board, create, get (with stage history), partial update,
//! the stage move (PATCH), delete. Pages in [`pages`].

pub mod pages;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use crm_core::deals::{self as core, write};
use crm_core::input::Mode;
use crm_core::query::QueryParams;

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

/// `GET /api/deals/board`: one column per stage with totals and the first cards.
pub async fn board(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let p = core::ListParams::parse(&QueryParams::new(q))?;
    Ok(envelope(StatusCode::OK, core::board(&state.db, &actor, &p).await?))
}

pub async fn show(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(envelope(
        StatusCode::OK,
        core::get(&state.db, &actor, parse_id(&id, "deal")?).await?,
    ))
}

pub async fn create(State(state): State<AppState>, ApiActor(actor): ApiActor, body: JsonObject) -> ApiResult<Response> {
    let d = write::create(&state.db, &actor, body.input(Mode::Create)).await?;
    Ok(envelope(StatusCode::CREATED, core::get(&state.db, &actor, d.id).await?))
}

pub async fn update(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: JsonObject,
) -> ApiResult<Response> {
    let id = parse_id(&id, "deal")?;
    write::update(&state.db, &actor, id, body.input(Mode::Update)).await?;
    Ok(envelope(StatusCode::OK, core::get(&state.db, &actor, id).await?))
}

/// `PATCH /api/deals/{id} {"stage"?, "status"?}` (the kanban move).
pub async fn move_stage(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: JsonObject,
) -> ApiResult<Response> {
    let id = parse_id(&id, "deal")?;
    write::move_stage(&state.db, &actor, id, body.input(Mode::Update)).await?;
    Ok(envelope(StatusCode::OK, core::get(&state.db, &actor, id).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    write::delete(&state.db, &actor, parse_id(&id, "deal")?).await?;
    Ok(envelope(StatusCode::OK, serde_json::Value::Null))
}

/// This domain's JSON API routes (mounted under `/api/v1` and its alias `/api`).
pub fn api_routes() -> axum::Router<crate::AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/deals", get(index).post(create))
        .route("/deals/board", get(board))
        .route("/deals/{id}", get(show).put(update).patch(move_stage).delete(delete))
}

/// This domain's pages.
pub fn page_routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/deals", get(pages::index))
        .route("/deals/new", get(pages::new_form).post(pages::create))
        .route("/deals/{id}", get(pages::show))
        .route("/deals/{id}/edit", get(pages::edit_form).post(pages::update))
        .route("/deals/{id}/move", post(pages::move_submit))
        .route("/deals/{id}/delete", post(pages::delete))
}
