//! `/api/activities`: list (type, date range, search, contact, pagination), create, get,
//! partial update, delete; a meeting as an `.ics` file. Pages in [`pages`].

pub mod pages;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use crm_core::activities as core;
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

pub async fn show(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(envelope(
        StatusCode::OK,
        core::get(&state.db, &actor, parse_id(&id, "activity")?).await?,
    ))
}

pub async fn create(State(state): State<AppState>, ApiActor(actor): ApiActor, body: JsonObject) -> ApiResult<Response> {
    let a = core::create(&state.db, &actor, body.input(Mode::Create)).await?;
    Ok(envelope(StatusCode::CREATED, core::get(&state.db, &actor, a.id).await?))
}

pub async fn update(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: JsonObject,
) -> ApiResult<Response> {
    let id = parse_id(&id, "activity")?;
    core::update(&state.db, &actor, id, body.input(Mode::Update)).await?;
    Ok(envelope(StatusCode::OK, core::get(&state.db, &actor, id).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    core::delete(&state.db, &actor, parse_id(&id, "activity")?).await?;
    Ok(envelope(StatusCode::OK, serde_json::Value::Null))
}

/// `GET /api/activities/{id}/ics`: a meeting as an invitation to add to a calendar.
pub async fn ics(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id, "activity")?;
    let (file, body) = crm_core::calendar::meeting(&state.db, &actor, id, &state.config.base_url).await?;
    Ok(crate::calendar::download("text/calendar; charset=utf-8", &file, body))
}

/// This domain's JSON API routes (mounted under `/api/v1` and its alias `/api`).
pub fn api_routes() -> axum::Router<crate::AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/activities", get(index).post(create))
        .route("/activities/{id}", get(show).put(update).delete(delete))
        .route("/activities/{id}/ics", get(ics))
}

/// This domain's pages.
pub fn page_routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/activities", get(pages::index))
        .route("/activities/new", get(pages::new_form).post(pages::create))
        .route("/activities/{id}/edit", get(pages::edit_form).post(pages::update))
        .route("/activities/{id}/delete", post(pages::delete))
}
