//! `/api/deals`: list (stage, status, value and date ranges, search, contact, company,
//! sort, pagination), the kanban board, create, get (with stage history), partial update,
//! the stage move (PATCH), delete. Pages in [`pages`].

pub mod pages;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use crm_core::deals::{self as core, DealDetail, DealView, write};
use crm_core::input::{Input, Mode};
use crm_core::page::Page;
use crm_core::query::QueryParams;
use crm_core::{Actor, CoreResult, Db};
use uuid::Uuid;

use crate::AppState;
use crate::http::body::JsonObject;
use crate::http::error::{ApiResult, envelope};
use crate::http::resource::{Resource, parse_id, routes};
use crate::http::session::ApiActor;

pub struct Deals;

impl Resource for Deals {
    const NAME: &'static str = "deal";
    const PATH: &'static str = "/deals";
    type Item = DealView;
    type View = DealDetail;

    async fn list(db: &Db, actor: &Actor, q: &QueryParams) -> CoreResult<Page<DealView>> {
        core::list(db, actor, &core::ListParams::parse(q)?).await
    }
    async fn get(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<DealDetail> {
        core::get(db, actor, id).await
    }
    async fn create(db: &Db, actor: &Actor, input: Input) -> CoreResult<DealDetail> {
        let d = write::create(db, actor, input).await?;
        core::get(db, actor, d.id).await
    }
    async fn update(db: &Db, actor: &Actor, id: Uuid, input: Input) -> CoreResult<DealDetail> {
        write::update(db, actor, id, input).await?;
        core::get(db, actor, id).await
    }
    async fn delete(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<serde_json::Value> {
        write::delete(db, actor, id).await.map(|_| serde_json::Value::Null)
    }
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

/// `PATCH /api/deals/{id} {"stage"?, "status"?}` (the kanban move).
pub async fn move_stage(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: JsonObject,
) -> ApiResult<Response> {
    let id = parse_id(&id, Deals::NAME)?;
    write::move_stage(&state.db, &actor, id, body.input(Mode::Update)).await?;
    Ok(envelope(StatusCode::OK, core::get(&state.db, &actor, id).await?))
}

/// This domain's JSON API routes (mounted under `/api/v1` and its alias `/api`).
pub fn api_routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, patch};
    routes::<Deals>()
        .route("/deals/board", get(board))
        .route("/deals/{id}", patch(move_stage))
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
