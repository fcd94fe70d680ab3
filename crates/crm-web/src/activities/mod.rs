//! `/api/activities`: list (type, date range, search, contact, pagination), create, get,
//! partial update, delete; a meeting as an `.ics` file. Pages in [`pages`].

pub mod pages;

use axum::extract::{Path, State};
use axum::response::Response;
use crm_core::activities::{self as core, ActivityView};
use crm_core::input::Input;
use crm_core::page::Page;
use crm_core::query::QueryParams;
use crm_core::{ActivityType, Actor, CoreResult, Db};
use uuid::Uuid;

use crate::AppState;
use crate::http::api::{BodyField, Param, SEARCH, field, one_of, param, required};
use crate::http::error::ApiResult;
use crate::http::resource::{Resource, Restorable, parse_id, restorable_routes};
use crate::http::session::ApiActor;

pub struct Activities;

impl Restorable for Activities {
    async fn restore(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<ActivityView> {
        core::restore(db, actor, id).await
    }
}

impl Resource for Activities {
    const RESTORABLE: bool = true;
    const NAME: &'static str = "activity";
    const PATH: &'static str = "/activities";
    const TAG: &'static str = "Activities";
    const TITLE: &'static str = "Activity";
    const NAV: &'static str = "activities";
    async fn confirm_delete(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<String> {
        let a = core::get(db, actor, id).await?;
        Ok(format!(
            "Delete the activity {}? The notice that follows offers Undo.",
            a.subject
        ))
    }
    fn list_params() -> Vec<Param> {
        vec![
            SEARCH,
            one_of("type", &ActivityType::NAMES, "Activity type."),
            param("fromDate", "date", "Happened on or after this day."),
            param("toDate", "date", "Happened before the end of this day."),
            param("contactId", "uuid", "Activities with this contact."),
            param("companyId", "uuid", "Activities with this company's contacts."),
        ]
    }
    fn body() -> Vec<BodyField> {
        vec![
            BodyField {
                values: &ActivityType::NAMES,
                ..field("type", "string", "Default note.")
            },
            required("subject", "string", "At most 200 characters."),
            field("description", "string", "At most 1000 characters."),
            required("contactId", "uuid", "The contact (one the caller can see)."),
            field("dealId", "uuid", "One of the contact's deals it is about."),
            field(
                "createdAt",
                "date-time",
                "When it happened (default now; at most a day ahead).",
            ),
            field("userId", "uuid", "The owner (admins and managers may assign)."),
        ]
    }
    type Item = ActivityView;
    type View = ActivityView;

    async fn list(db: &Db, actor: &Actor, q: &QueryParams) -> CoreResult<Page<ActivityView>> {
        core::list(db, actor, &core::ListParams::parse(q)?).await
    }
    async fn get(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<ActivityView> {
        core::get(db, actor, id).await
    }
    async fn create(db: &Db, actor: &Actor, input: Input) -> CoreResult<ActivityView> {
        let a = core::create(db, actor, input).await?;
        core::get(db, actor, a.id).await
    }
    async fn update(db: &Db, actor: &Actor, id: Uuid, input: Input) -> CoreResult<ActivityView> {
        core::update(db, actor, id, input).await?;
        core::get(db, actor, id).await
    }
    async fn delete(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<serde_json::Value> {
        core::delete(db, actor, id).await.map(|_| serde_json::Value::Null)
    }
}

/// `GET /api/activities/{id}/ics`: a meeting as an invitation to add to a calendar.
pub async fn ics(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id, Activities::NAME)?;
    let (file, body) = crm_core::calendar::meeting(&state.db, &actor, id, &state.config.base_url).await?;
    Ok(crate::calendar::download("text/calendar; charset=utf-8", &file, body))
}

/// This domain's JSON API routes (mounted under `/api/v1` and its alias `/api`).
pub fn api_routes() -> crate::http::api::Api {
    use crate::http::api::Doc;
    restorable_routes::<Activities>().get(
        "/activities/{id}/ics",
        Doc::new("Activities", "A meeting as a calendar invitation").file("text/calendar"),
        ics,
    )
}

/// This domain's pages.
pub fn page_routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/activities", get(pages::index))
        .route("/activities/new", get(pages::new_form).post(pages::create))
        .route("/activities/{id}/edit", get(pages::edit_form).post(pages::update))
        .route(
            "/activities/{id}/delete",
            post(crate::http::resource::delete_page::<Activities>),
        )
        .route(
            "/activities/{id}/restore",
            post(crate::http::resource::restore_page::<Activities>),
        )
}
