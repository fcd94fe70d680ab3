//! The JSON CRUD endpoints of a record kind, written once. A domain implements [`Resource`]
//! with its `crm_core` calls and mounts [`routes`]; what is particular to it (the deal's
//! stage move, the task's completion toggle, the contact's bulk actions) it adds beside.
//!
//! `GET <path>` lists (the page envelope), `POST <path>` creates (201), `GET|PUT|DELETE
//! <path>/{id}` read, change and delete; an id that is not a UUID is a 400 naming the kind.

use std::future::Future;

use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use crm_core::input::{Input, Mode};
use crm_core::page::Page;
use crm_core::query::QueryParams;
use crm_core::{Actor, CoreResult, Db};
use serde::Serialize;
use uuid::Uuid;

use crate::AppState;
use crate::http::answers::{Kept, Key};
use crate::http::api::{Api, BodyField, Doc, Param};
use crate::http::body::JsonObject;
use crate::http::error::{ApiResult, envelope, envelope_json, page_envelope, page_json};
use crate::http::session::ApiActor;

pub trait Resource: 'static {
    /// The kind in messages: "Invalid task ID".
    const NAME: &'static str;
    /// Where it is mounted: `/tasks`.
    const PATH: &'static str;
    /// Its section of the API reference: `Tasks`.
    const TAG: &'static str;
    /// The list's filters and sorts (`GET <path>`; paging is added).
    fn list_params() -> Vec<Param>;
    /// The body of a create (`required` fields) and of an update (every field optional).
    fn body() -> Vec<BodyField>;
    /// Its list and record answers are kept for a moment (`http::answers`): they are made
    /// of contacts, companies and users only, and a record's view names its owner `userId`.
    const CACHED: bool = false;
    /// A list row.
    type Item: Serialize + schemars::JsonSchema + Send;
    /// One record as read, created or updated.
    type View: Serialize + schemars::JsonSchema + Send;

    fn list(db: &Db, actor: &Actor, q: &QueryParams) -> impl Future<Output = CoreResult<Page<Self::Item>>> + Send;
    fn get(db: &Db, actor: &Actor, id: Uuid) -> impl Future<Output = CoreResult<Self::View>> + Send;
    fn create(db: &Db, actor: &Actor, input: Input) -> impl Future<Output = CoreResult<Self::View>> + Send;
    fn update(db: &Db, actor: &Actor, id: Uuid, input: Input) -> impl Future<Output = CoreResult<Self::View>> + Send;
    /// Deletes; the `data` of the answer (`null` unless a kind says more).
    fn delete(db: &Db, actor: &Actor, id: Uuid) -> impl Future<Output = CoreResult<serde_json::Value>> + Send;

    /// The kind in page headings: "Task".
    const TITLE: &'static str;
    /// Its section of the navigation: "tasks".
    const NAV: &'static str;
    /// "Cancel" on the delete confirmation leads to the record's page (else to the list).
    const RECORD_PAGE: bool = false;
    /// A delete can be undone ([`Restorable`]): the list after a delete offers Undo.
    const RESTORABLE: bool = false;
    /// What the delete confirmation asks ("Delete the task …? This cannot be undone.").
    fn confirm_delete(db: &Db, actor: &Actor, id: Uuid) -> impl Future<Output = CoreResult<String>> + Send;
}

/// `POST <path>/{id}/delete`, the pages' delete: without `confirm=yes` the confirmation page
/// (for browsers without JavaScript; with it a dialog asks first), with it the deletion and
/// the list with a notice.
pub async fn delete_page<R: Resource>(
    State(state): State<AppState>,
    ctx: crate::web::PageCtx,
    Path(id): Path<String>,
    form: crate::http::body::FormPairs,
) -> crate::http::error::PageResult {
    use axum::response::{IntoResponse, Redirect};
    let id = parse_id(&id, R::NAME)?;
    let actor = &ctx.session.actor;
    if form.get("confirm") == Some("yes") {
        R::delete(&state.db, actor, id).await?;
        let undo = if R::RESTORABLE {
            format!("&undo={id}")
        } else {
            String::new()
        };
        return Ok(Redirect::to(&format!("{}?done=deleted{undo}", R::PATH)).into_response());
    }
    let text = R::confirm_delete(&state.db, actor, id).await?;
    let cancel = if R::RECORD_PAGE {
        format!("{}/{id}", R::PATH)
    } else {
        R::PATH.to_string()
    };
    let action = format!("{}/{id}/delete", R::PATH);
    Ok(crate::web::ConfirmPage::delete(
        &ctx,
        R::TITLE,
        R::NAV,
        text,
        action,
        cancel,
    ))
}

/// The id in the path, or a 400 that names the kind.
pub fn parse_id(raw: &str, what: &str) -> Result<Uuid, crm_core::CoreError> {
    Uuid::parse_str(raw).map_err(|_| crm_core::CoreError::bad_request(format!("Invalid {what} ID")))
}

async fn index<R: Resource>(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    RawQuery(raw): RawQuery,
    Query(q): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let q = QueryParams::new(q);
    let read = R::list(&state.db, &actor, &q);
    if !R::CACHED {
        return Ok(page_envelope(read.await?));
    }
    let key = Key::List(R::PATH, crm_core::scope::reach(&actor), raw.unwrap_or_default());
    let read = async { Kept::list(&page_json(read.await?)) };
    state.answers.answer(&state.db, &actor, key, read).await
}

async fn show<R: Resource>(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id, R::NAME)?;
    let read = R::get(&state.db, &actor, id);
    if !R::CACHED {
        return Ok(envelope(StatusCode::OK, read.await?));
    }
    let read = async { Kept::record(&envelope_json(read.await?)) };
    state
        .answers
        .answer(&state.db, &actor, Key::Record(R::PATH, id), read)
        .await
}

async fn create<R: Resource>(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: JsonObject,
) -> ApiResult<Response> {
    let view = R::create(&state.db, &actor, body.input(Mode::Create)).await?;
    Ok(envelope(StatusCode::CREATED, view))
}

async fn update<R: Resource>(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: JsonObject,
) -> ApiResult<Response> {
    let id = parse_id(&id, R::NAME)?;
    let view = R::update(&state.db, &actor, id, body.input(Mode::Update)).await?;
    Ok(envelope(StatusCode::OK, view))
}

async fn delete<R: Resource>(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id, R::NAME)?;
    Ok(envelope(StatusCode::OK, R::delete(&state.db, &actor, id).await?))
}

/// `R::PATH` and `R::PATH/{id}` with the five endpoints, documented; add a kind's own
/// methods on the same paths (axum merges the methods of one path).
pub fn routes<R: Resource>() -> Api {
    let one = format!("{}/{{id}}", R::PATH);
    let body = R::body();
    let partial: Vec<BodyField> = body.iter().map(|f| BodyField { required: false, ..*f }).collect();
    Api::new()
        .get(
            R::PATH,
            Doc::new(R::TAG, format!("List {}s", R::NAME))
                .page::<R::Item>()
                .query(&R::list_params())
                .query(crate::http::api::PAGING),
            index::<R>,
        )
        .post(
            R::PATH,
            Doc::new(R::TAG, format!("Create a {}", R::NAME))
                .body(&body)
                .data::<R::View>()
                .status(201),
            create::<R>,
        )
        .get(
            &one,
            Doc::new(R::TAG, format!("Get a {}", R::NAME)).data::<R::View>(),
            show::<R>,
        )
        .put(
            &one,
            Doc::new(R::TAG, format!("Update a {}", R::NAME))
                .describe("Only the fields present change; `null` clears an optional field.")
                .body(&partial)
                .data::<R::View>(),
            update::<R>,
        )
        .delete(&one, Doc::new(R::TAG, format!("Delete a {}", R::NAME)), delete::<R>)
}

/// A kind whose delete can be undone for a while (`crm_core::scope::restore`).
pub trait Restorable: Resource {
    fn restore(db: &Db, actor: &Actor, id: Uuid) -> impl Future<Output = CoreResult<Self::View>> + Send;
}

async fn restore<R: Restorable>(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id, R::NAME)?;
    Ok(envelope(StatusCode::CREATED, R::restore(&state.db, &actor, id).await?))
}

/// `POST <path>/{id}/restore`, the pages' Undo of a delete: the record is back, and so is
/// the page that shows it (the record's own, or the list).
pub async fn restore_page<R: Restorable>(
    State(state): State<AppState>,
    ctx: crate::web::PageCtx,
    Path(id): Path<String>,
) -> crate::http::error::PageResult {
    use axum::response::{IntoResponse, Redirect};
    let id = parse_id(&id, R::NAME)?;
    R::restore(&state.db, &ctx.session.actor, id).await?;
    let to = if R::RECORD_PAGE {
        format!("{}/{id}?done=restored", R::PATH)
    } else {
        format!("{}?done=restored", R::PATH)
    };
    Ok(Redirect::to(&to).into_response())
}

/// [`routes`] and `POST R::PATH/{id}/restore`: Undo of the caller's own delete within the
/// hour (the record comes back as it was, same id).
pub fn restorable_routes<R: Restorable>() -> Api {
    routes::<R>().post(
        &format!("{}/{{id}}/restore", R::PATH),
        Doc::new(R::TAG, format!("Restore a deleted {}", R::NAME))
            .describe(
                "Undo of the caller's own delete, within an hour: the record comes back as it was (same id, dates and owner). 404 when there is nothing of the caller's to restore; 409 when its contact was deleted meanwhile.",
            )
            .data::<R::View>()
            .status(201),
        restore::<R>,
    )
}
