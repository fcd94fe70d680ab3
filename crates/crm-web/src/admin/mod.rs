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

/// `POST /api/admin/users/{id}/verify-email`.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct Verified {
    pub message: String,
    pub user: users::UserView,
}

pub async fn verify_email(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let u = users::verify_email(&state.db, &state.mailer, &actor, parse_id(&id, "user")?).await?;
    Ok(envelope(
        StatusCode::OK,
        Verified {
            message: "Email verified successfully".into(),
            user: users::UserView::from(&u),
        },
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
pub fn api_routes() -> crate::http::api::Api {
    use crate::http::api::{Api, BodyField, Doc, PAGING, SEARCH, field, one_of, required};
    use crm_core::admin::users::UserView;
    const T: &str = "Admin";
    Api::new()
        .get(
            "/admin/users",
            Doc::new(T, "List users")
                .page::<UserView>()
                .query(&[
                    SEARCH,
                    one_of("role", &crm_core::Role::NAMES, "Role."),
                    one_of("status", &["active", "inactive"], "Active or deactivated."),
                ])
                .query(PAGING),
            list,
        )
        .post(
            "/admin/users",
            Doc::new(T, "Create a user")
                .body(&[
                    required("name", "string", "At most 100 characters."),
                    required("email", "string", "Unique."),
                    required("password", "string", "At least 10 characters."),
                    BodyField { values: &crm_core::Role::NAMES, ..field("role", "string", "Default rep; managers create reps only.") },
                    field("bio", "string", "At most 500 characters."),
                    field("isActive", "boolean", "Default true."),
                ])
                .data::<UserView>()
                .status(201),
            create,
        )
        .get(
            "/admin/users/{id}",
            Doc::new(T, "Get a user with their sign-in history").data::<crm_core::admin::users::UserDetail>(),
            show,
        )
        .put(
            "/admin/users/{id}",
            Doc::new(T, "Update a user")
                .describe("Only the fields present change. A role change, deactivation or new password ends the user's sessions and revokes their tokens.")
                .body(&[
                    field("name", "string", "At most 100 characters."),
                    field("email", "string", "Unique."),
                    field("password", "string", "A new password, at least 10 characters."),
                    BodyField { values: &crm_core::Role::NAMES, ..field("role", "string", "The last active admin cannot be demoted.") },
                    field("bio", "string", "At most 500 characters."),
                    field("isActive", "boolean", "false deactivates (not the last active admin)."),
                ])
                .data::<UserView>(),
            update,
        )
        .delete("/admin/users/{id}", Doc::new(T, "Delete a user").admin(), delete)
        .post(
            "/admin/users/{id}/verify-email",
            Doc::new(T, "Mark a user's e-mail verified").data::<Verified>(),
            verify_email,
        )
        .post(
            "/admin/users/{id}/reset-2fa",
            Doc::new(T, "Turn off a user's two-factor sign-in").admin(),
            reset_2fa,
        )
        .get(
            "/admin/audit",
            Doc::new(T, "The audit log")
                .page::<crm_core::admin::audit_log::Entry>()
                .query(PAGING)
                .admin(),
            audit,
        )
        .get(
            "/admin/invites",
            Doc::new(T, "Pending invitations").data::<Vec<crm_core::admin::invites::InviteView>>(),
            invites::api_list,
        )
        .post(
            "/admin/invites",
            Doc::new(T, "Invite someone by e-mail")
                .body(&[
                    required("email", "string", "Where the invitation goes."),
                    BodyField { values: &crm_core::Role::NAMES, ..field("role", "string", "Default rep; managers invite reps only.") },
                ])
                .data::<crm_core::admin::invites::InviteView>()
                .status(201),
            invites::api_create,
        )
        .get(
            "/settings",
            Doc::new("Organisation", "The organisation's settings").data::<crm_core::org::OrgSettings>(),
            settings,
        )
        .put(
            "/admin/settings",
            Doc::new("Organisation", "Change the organisation's settings")
                .data::<crm_core::org::OrgSettings>()
                .admin(),
            update_settings,
        )
        .delete(
            "/admin/invites/{id}",
            Doc::new(T, "Revoke an invitation"),
            invites::api_revoke,
        )
        .post(
            "/admin/invites/{id}/resend",
            Doc::new(T, "Send an invitation again"),
            invites::api_resend,
        )
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
