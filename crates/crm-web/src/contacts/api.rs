//! `/api/contacts`: list (server-side search, filters, sort, pagination), create, get,
//! partial update, delete and bulk delete, a vCard download. Every call acts as the signed-in actor.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use crm_core::contacts::{list, write};
use crm_core::input::Mode;
use crm_core::query::QueryParams;
use serde_json::json;
use uuid::Uuid;

use super::parse_id;
use crate::AppState;
use crate::http::body::JsonObject;
use crate::http::error::{ApiResult, envelope, page_envelope};
use crate::http::session::ApiActor;

pub async fn index(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let params = list::ListParams::parse(&QueryParams::new(q))?;
    let page = list::list(&state.db, &actor, &params).await?;
    Ok(page_envelope(page))
}

async fn view(state: &AppState, actor: &crm_core::Actor, id: Uuid) -> ApiResult<serde_json::Value> {
    Ok(list::detail_json(list::get(&state.db, actor, id).await?)?)
}

pub async fn show(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id, "contact")?;
    Ok(envelope(StatusCode::OK, view(&state, &actor, id).await?))
}

/// `GET /api/contacts/{id}/vcard`: the contact as a vCard 4.0 file.
pub async fn vcard(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id, "contact")?;
    let (file, body) = crm_core::vcard::of_contact(&state.db, &actor, id).await?;
    Ok(crate::calendar::download("text/vcard; charset=utf-8", &file, body))
}

pub async fn create(State(state): State<AppState>, ApiActor(actor): ApiActor, body: JsonObject) -> ApiResult<Response> {
    let saved = write::create(&state.db, &actor, body.input(Mode::Create)).await?;
    Ok(envelope(StatusCode::CREATED, view(&state, &actor, saved.id).await?))
}

pub async fn update(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: JsonObject,
) -> ApiResult<Response> {
    let id = parse_id(&id, "contact")?;
    write::update(&state.db, &actor, id, body.input(Mode::Update)).await?;
    Ok(envelope(StatusCode::OK, view(&state, &actor, id).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id, "contact")?;
    write::delete(&state.db, &actor, id).await?;
    Ok(envelope(StatusCode::OK, serde_json::Value::Null))
}

fn ids_of(body: &JsonObject) -> Result<Vec<Uuid>, crm_core::CoreError> {
    let bad = || crm_core::CoreError::field("ids", "ids must be a list of contact IDs");
    match body.0.get("ids") {
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok()))
            .collect::<Option<Vec<Uuid>>>()
            .ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// `POST /api/contacts/bulk-delete {"ids": [...]}` → `{"data": {"deleted": n}}`.
pub async fn bulk_delete(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: JsonObject,
) -> ApiResult<Response> {
    let n = write::bulk_delete(&state.db, &actor, &ids_of(&body)?).await?;
    Ok(envelope(StatusCode::OK, json!({ "deleted": n })))
}

/// `POST /api/contacts/bulk-assign {"ids": [...], "userId"}` → `{"data": {"assigned": n}}`.
pub async fn bulk_assign(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: JsonObject,
) -> ApiResult<Response> {
    let ids = ids_of(&body)?;
    let owner = body
        .0
        .get("userId")
        .and_then(|v| v.as_str())
        .and_then(|s| Uuid::parse_str(s).ok());
    let owner = owner.ok_or_else(|| crm_core::CoreError::field("userId", "Invalid user ID"))?;
    let n = write::bulk_assign(&state.db, &actor, &ids, owner).await?;
    Ok(envelope(StatusCode::OK, json!({ "assigned": n })))
}
