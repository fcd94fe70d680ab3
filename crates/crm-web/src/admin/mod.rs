//! User management and the audit log over HTTP: `/api/admin/*` and the `/admin/*` pages.

pub mod invites;
pub mod pages;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use crm_core::admin::{audit_log, users};
use crm_core::input::Mode;
use crm_core::query::QueryParams;
use serde_json::json;

use crate::AppState;
use crate::http::body::JsonObject;
use crate::http::error::{ApiResult, envelope, page_envelope};
use crate::http::resource::parse_id;
use crate::http::session::ApiActor;

pub async fn list(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let p = users::ListParams::parse(&QueryParams::new(q))?;
    let page = users::list(&state.db, &actor, &p).await?;
    Ok(page_envelope(page))
}

pub async fn create(State(state): State<AppState>, ApiActor(actor): ApiActor, body: JsonObject) -> ApiResult<Response> {
    let u = users::create(&state.db, &actor, body.input(Mode::Create)).await?;
    Ok(envelope(StatusCode::CREATED, users::UserView::from(&u)))
}

pub async fn show(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(envelope(
        StatusCode::OK,
        users::get(&state.db, &actor, parse_id(&id, "user")?).await?,
    ))
}

pub async fn update(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: JsonObject,
) -> ApiResult<Response> {
    let u = users::update(
        &state.db,
        &state.mailer,
        &actor,
        parse_id(&id, "user")?,
        body.input(Mode::Update),
    )
    .await?;
    Ok(envelope(StatusCode::OK, users::UserView::from(&u)))
}

/// `DELETE /api/admin/users/{id}?reassignTo=<user id>` (default: to the acting admin) or
/// `?deleteRecords=true`.
pub async fn delete(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let id = parse_id(&id, "user")?;
    let q = QueryParams::new(q);
    let disposal = if q.get("deleteRecords") == Some("true") {
        users::Disposal::Delete
    } else {
        let mut errs = q.errors();
        let to = q
            .opt_uuid("reassignTo", "Invalid user ID", &mut errs)
            .unwrap_or(actor.id);
        errs.finish()?;
        users::Disposal::ReassignTo(to)
    };
    let owned = users::delete(&state.db, &actor, id, disposal).await?;
    Ok(envelope(StatusCode::OK, json!({ "owned": owned })))
}

pub async fn verify_email(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let u = users::verify_email(&state.db, &state.mailer, &actor, parse_id(&id, "user")?).await?;
    Ok(envelope(
        StatusCode::OK,
        json!({ "message": "Email verified successfully", "user": users::UserView::from(&u) }),
    ))
}

pub async fn reset_2fa(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    users::reset_two_factor(&state.db, &state.mailer, &actor, parse_id(&id, "user")?).await?;
    Ok(envelope(
        StatusCode::OK,
        json!({ "message": "Two-factor authentication was reset" }),
    ))
}

pub async fn audit(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let p = audit_log::Params::parse(&QueryParams::new(q))?;
    let page = audit_log::list(&state.db, &actor, &p).await?;
    Ok(page_envelope(page))
}

/// `GET /api/settings`: the organisation's name, currency and date format (any signed-in user).
pub async fn settings(State(state): State<AppState>, ApiActor(_): ApiActor) -> ApiResult<Response> {
    Ok(envelope(StatusCode::OK, crm_core::org::get(&state.db).await?))
}

/// `PUT /api/admin/settings {"name"?, "currency"?, "dateFormat"?}` (admins).
pub async fn update_settings(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: JsonObject,
) -> ApiResult<Response> {
    let s = crm_core::org::update(&state.db, &actor, body.input(Mode::Update)).await?;
    state.org.get(&state.db, true).await;
    Ok(envelope(StatusCode::OK, s))
}

/// This domain's JSON API routes (mounted under `/api/v1` and its alias `/api`).
pub fn api_routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/admin/users", get(list).post(create))
        .route("/admin/users/{id}", get(show).put(update).delete(delete))
        .route("/admin/users/{id}/verify-email", post(verify_email))
        .route("/admin/users/{id}/reset-2fa", post(reset_2fa))
        .route("/admin/audit", get(audit))
        .route("/admin/invites", get(invites::api_list).post(invites::api_create))
        .route("/settings", get(settings))
        .route("/admin/settings", axum::routing::put(update_settings))
        .route("/admin/invites/{id}", axum::routing::delete(invites::api_revoke))
        .route("/admin/invites/{id}/resend", post(invites::api_resend))
}

/// This domain's pages.
pub fn page_routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/admin/users", get(pages::index))
        .route("/admin/users/new", get(pages::new_form).post(pages::create))
        .route("/admin/users/{id}", get(pages::show))
        .route("/admin/users/{id}/edit", post(pages::update))
        .route("/admin/users/{id}/verify-email", post(pages::verify_email))
        .route("/admin/users/{id}/reset-2fa", post(pages::reset_2fa))
        .route("/admin/users/{id}/delete", post(pages::delete))
        .route("/admin/audit", get(pages::audit))
        .route(
            "/admin/settings",
            get(pages::org_settings).post(pages::org_settings_submit),
        )
        .route("/admin/invites", post(invites::invite_submit))
        .route("/admin/invites/{id}/resend", post(invites::resend_submit))
        .route("/admin/invites/{id}/revoke", post(invites::revoke_submit))
        .route("/invite", get(invites::accept_page).post(invites::accept_submit))
}
