//! `/api/webhooks`: endpoints (the secret is returned once, at creation), a test ping,
//! the deliveries of an endpoint and a manual retry.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use crm_core::input::Mode;
use crm_core::query::QueryParams;
use crm_core::webhooks as core;

use crate::AppState;
use crate::http::body::JsonObject;
use crate::http::error::{ApiResult, envelope, page_envelope};
use crate::http::resource::parse_id;
use crate::http::session::ApiActor;

pub async fn index(State(state): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Response> {
    Ok(envelope(StatusCode::OK, core::list(&state.db, &actor).await?))
}

pub async fn create(State(state): State<AppState>, ApiActor(actor): ApiActor, body: JsonObject) -> ApiResult<Response> {
    let allow = state.config.webhook_allow_private;
    let v = core::create(&state.db, &state.keys, &actor, body.input(Mode::Create), allow).await?;
    Ok(envelope(StatusCode::CREATED, v))
}

pub async fn show(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id, "webhook")?;
    Ok(envelope(StatusCode::OK, core::get(&state.db, &actor, id).await?))
}

pub async fn update(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: JsonObject,
) -> ApiResult<Response> {
    let id = parse_id(&id, "webhook")?;
    let allow = state.config.webhook_allow_private;
    let v = core::update(&state.db, &actor, id, body.input(Mode::Update), allow).await?;
    Ok(envelope(StatusCode::OK, v))
}

pub async fn delete(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    core::delete(&state.db, &actor, parse_id(&id, "webhook")?).await?;
    Ok(envelope(StatusCode::OK, serde_json::Value::Null))
}

/// `POST /api/webhooks/{id}/test` → 202 `{"data":{"deliveryId"}}`: a `ping` is queued.
/// A ping waiting for the worker: its delivery, to follow under deliveries.
#[derive(serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PingQueued {
    pub delivery_id: uuid::Uuid,
}

pub async fn test(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let d = core::ping(&state.db, &actor, parse_id(&id, "webhook")?).await?;
    Ok(envelope(StatusCode::ACCEPTED, PingQueued { delivery_id: d }))
}

pub async fn deliveries(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let id = parse_id(&id, "webhook")?;
    let page = core::deliveries(&state.db, &actor, id, &QueryParams::new(q)).await?;
    Ok(page_envelope(page))
}

pub async fn retry(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, delivery)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (id, delivery) = (parse_id(&id, "webhook")?, parse_id(&delivery, "delivery")?);
    Ok(envelope(
        StatusCode::ACCEPTED,
        core::retry(&state.db, &actor, id, delivery).await?,
    ))
}
