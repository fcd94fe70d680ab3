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
use crm_core::{Actor, CoreResult, Db, DealStage, DealStatus};
use uuid::Uuid;

use crate::AppState;
use crate::http::api::{BodyField, ORDER, Param, SEARCH, field, one_of, param, required};
use crate::http::body::JsonObject;
use crate::http::error::{ApiResult, envelope};
use crate::http::resource::{Resource, Restorable, parse_id, restorable_routes};
use crate::http::session::ApiActor;

pub struct Deals;

impl Restorable for Deals {
    async fn restore(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<DealDetail> {
        write::restore(db, actor, id).await?;
        core::get(db, actor, id).await
    }
}

impl Resource for Deals {
    const RESTORABLE: bool = true;
    const NAME: &'static str = "deal";
    const PATH: &'static str = "/deals";
    const TAG: &'static str = "Deals";
    const TITLE: &'static str = "Deal";
    const NAV: &'static str = "deals";
    const RECORD_PAGE: bool = true;
    async fn confirm_delete(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<String> {
        let d = core::get(db, actor, id).await?.deal;
        Ok(format!(
            "Delete {} worth {}? The notice that follows offers Undo.",
            d.name,
            crate::web::money(d.value)
        ))
    }
    fn list_params() -> Vec<Param> {
        vec![
            SEARCH,
            one_of("stage", &DealStage::NAMES, "Pipeline stage."),
            one_of("status", &DealStatus::NAMES, "Outcome (follows the stage)."),
            param("startDate", "date", "Expected to close on or after this day."),
            param("endDate", "date", "Expected to close before the end of this day."),
            param("minValue", "number", "At least this value (dollars)."),
            param("maxValue", "number", "At most this value (dollars)."),
            param("contactId", "uuid", "Deals of this contact."),
            param("companyId", "uuid", "Deals of this company."),
            one_of("sort", &core::SORTS, "Sort column (default createdAt)."),
            ORDER,
        ]
    }
    fn body() -> Vec<BodyField> {
        vec![
            required("name", "string", "At most 255 characters."),
            required("value", "number", "Dollars, at least 0, at most two decimals."),
            BodyField {
                values: &DealStage::NAMES,
                ..field("stage", "string", "Default lead; the status follows it.")
            },
            BodyField {
                values: &DealStatus::NAMES,
                ..field("status", "string", "won or lost move the deal to the closed stage.")
            },
            required("expectedCloseDate", "date-time", "When it is expected to close."),
            field(
                "actualCloseDate",
                "date-time",
                "When it closed (a closed deal's default: now).",
            ),
            field("probability", "integer", "0 to 100 (default by stage)."),
            field("description", "string", "At most 1000 characters."),
            required("contactId", "uuid", "The contact (one the caller can see)."),
            field("companyId", "uuid", "The contact's company (the default)."),
            field("userId", "uuid", "The owner (admins and managers may assign)."),
        ]
    }
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
pub fn api_routes() -> crate::http::api::Api {
    use crate::http::api::{Doc, body_field as f};
    restorable_routes::<Deals>()
        .get(
            "/deals/board",
            Doc::new(
                "Deals",
                "The pipeline board: per stage its count, value and first 50 deals",
            )
            .data::<Vec<core::Column>>()
            .query(&Deals::list_params()),
            board,
        )
        .patch(
            "/deals/{id}",
            Doc::new("Deals", "Move a deal to a stage (the board's drag and drop)")
                .body(&[f("stage", &DealStage::NAMES), f("status", &DealStatus::NAMES)])
                .data::<DealDetail>(),
            move_stage,
        )
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
        .route("/deals/{id}/delete", post(crate::http::resource::delete_page::<Deals>))
        .route(
            "/deals/{id}/restore",
            post(crate::http::resource::restore_page::<Deals>),
        )
}
