//! `/api/companies`: list (search, industry, sort, pagination), create, get (with the
//! actor's visible contacts and deals), partial update, delete (unlinks, never cascades).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use crm_core::companies::{CompanyView, list, write};
use crm_core::input::Mode;
use crm_core::query::QueryParams;
use serde_json::json;

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
    let params = list::ListParams::parse(&QueryParams::new(q), 10)?;
    let page = list::list(&state.db, &actor, &params).await?;
    Ok(page_envelope(page))
}

pub async fn show(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id, "company")?;
    Ok(envelope(StatusCode::OK, list::get(&state.db, &actor, id).await?))
}

async fn view(state: &AppState, actor: &crm_core::Actor, m: crm_core::companies::Company) -> ApiResult<CompanyView> {
    let counts = list::counts(&state.db, actor, &[m.id]).await?;
    let n = counts.get(&m.id).copied().unwrap_or_default();
    Ok(CompanyView::new(m, n))
}

pub async fn create(State(state): State<AppState>, ApiActor(actor): ApiActor, body: JsonObject) -> ApiResult<Response> {
    let saved = write::create(&state.db, &actor, body.input(Mode::Create)).await?;
    Ok(envelope(StatusCode::CREATED, view(&state, &actor, saved).await?))
}

pub async fn update(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: JsonObject,
) -> ApiResult<Response> {
    let id = parse_id(&id, "company")?;
    let saved = write::update(&state.db, &actor, id, body.input(Mode::Update)).await?;
    Ok(envelope(StatusCode::OK, view(&state, &actor, saved).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id, "company")?;
    write::delete(&state.db, &actor, id).await?;
    Ok(envelope(
        StatusCode::OK,
        json!({ "message": "Company deleted successfully" }),
    ))
}
