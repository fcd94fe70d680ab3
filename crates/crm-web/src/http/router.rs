//! Every route of the app, and the middleware stack around them.

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use crm_core::CoreError;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use super::error::{ApiError, PageError};
use crate::{
    AppState, accounts, activities, admin, companies, contacts, deals, export, home, import, reports, search, setup,
    tasks, web,
};

/// The largest request body outside uploads.
const BODY_LIMIT: usize = 2 * 1024 * 1024;

const CSP: &str = "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/auth/signin", post(accounts::api_signin))
        .route("/auth/session", get(accounts::api_session))
        .route("/auth/signout", post(accounts::api_signout))
        .route("/auth/signup", post(accounts::flows::api_signup))
        .route("/auth/profile", axum::routing::put(accounts::settings::api_profile))
        .route("/auth/2fa/enable", post(accounts::twofactor::api_enable))
        .route("/auth/2fa/verify-setup", post(accounts::twofactor::api_verify_setup))
        .route("/auth/2fa/verify", post(accounts::twofactor::api_verify))
        .route("/auth/2fa/disable", post(accounts::twofactor::api_disable))
        .route("/auth/2fa/regenerate-codes", post(accounts::twofactor::api_regenerate))
        .route("/auth/password", post(accounts::settings::api_password))
        .route("/auth/sessions", get(accounts::settings::api_sessions))
        .route(
            "/auth/sessions/{id}",
            axum::routing::delete(accounts::settings::api_end_session),
        )
        .route(
            "/auth/tokens",
            get(accounts::settings::api_tokens_list).post(accounts::settings::api_tokens_create),
        )
        .route(
            "/auth/tokens/{id}",
            axum::routing::delete(accounts::settings::api_tokens_delete),
        )
        .route("/auth/verify-email", get(accounts::flows::api_verify))
        .route("/auth/resend-verification", post(accounts::flows::api_resend))
        .route("/auth/forgot-password", post(accounts::flows::api_forgot))
        .route("/auth/reset-password", post(accounts::flows::api_reset))
        .route("/admin/users", get(admin::list).post(admin::create))
        .route(
            "/admin/users/{id}",
            get(admin::show).put(admin::update).delete(admin::delete),
        )
        .route("/admin/users/{id}/verify-email", post(admin::verify_email))
        .route("/admin/users/{id}/reset-2fa", post(admin::reset_2fa))
        .route("/admin/audit", get(admin::audit))
        .route(
            "/admin/invites",
            get(admin::invites::api_list).post(admin::invites::api_create),
        )
        .route("/settings", get(admin::settings))
        .route("/admin/settings", axum::routing::put(admin::update_settings))
        .route("/admin/invites/{id}", axum::routing::delete(admin::invites::api_revoke))
        .route("/admin/invites/{id}/resend", post(admin::invites::api_resend))
        .route("/search", get(search::api))
        .route("/dashboard", get(home::api))
        .route("/reports", get(reports::api))
        .route("/reports/export", get(reports::export))
        .route("/contacts/export", get(export::contacts))
        .route("/companies/export", get(export::companies))
        .route("/deals/export", get(export::deals))
        .route("/tasks/export", get(export::tasks))
        .route("/activities/export", get(export::activities))
        .route("/contacts", get(contacts::api::index).post(contacts::api::create))
        .route("/contacts/bulk-delete", post(contacts::api::bulk_delete))
        .route("/contacts/bulk-assign", post(contacts::api::bulk_assign))
        .route(
            "/contacts/{id}",
            get(contacts::api::show)
                .put(contacts::api::update)
                .delete(contacts::api::delete),
        )
        .route("/activities", get(activities::index).post(activities::create))
        .route(
            "/activities/{id}",
            get(activities::show).put(activities::update).delete(activities::delete),
        )
        .route("/tasks", get(tasks::index).post(tasks::create))
        .route(
            "/tasks/{id}",
            get(tasks::show)
                .put(tasks::update)
                .patch(tasks::toggle)
                .delete(tasks::delete),
        )
        .route("/deals", get(deals::index).post(deals::create))
        .route("/deals/board", get(deals::board))
        .route(
            "/deals/{id}",
            get(deals::show)
                .put(deals::update)
                .patch(deals::move_stage)
                .delete(deals::delete),
        )
        .route("/companies", get(companies::api::index).post(companies::api::create))
        .route(
            "/companies/{id}",
            get(companies::api::show)
                .put(companies::api::update)
                .delete(companies::api::delete),
        )
        .route("/imports/{id}", get(import::api::show))
        .route("/imports/{id}/errors.csv", get(import::api::errors))
        .fallback(|| async { ApiError(CoreError::NotFound("No such API endpoint".into())) })
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(from_fn_with_state(ROUTE_TIMEOUT, timeout));
    // Uploads: the import limit (CRM_IMPORT_MAX_BYTES) instead of the 2 MB of other bodies;
    // the handler answers a file over the limit with a 400 and a message.
    let upload_limit = DefaultBodyLimit::max(
        usize::try_from(state.config.import_max_bytes.saturating_add(1024 * 1024)).unwrap_or(usize::MAX),
    );
    let api = api.merge(
        Router::new()
            .route("/contacts/import", post(import::api::contacts))
            .route("/companies/import", post(import::api::companies))
            .route("/contacts/import/preview", post(import::api::contacts_preview))
            .route("/companies/import/preview", post(import::api::companies_preview))
            .layer(upload_limit)
            .layer(from_fn_with_state(UPLOAD_TIMEOUT, timeout)),
    );

    let pages = Router::new()
        .route("/", get(home::dashboard))
        .route("/auth/signin", get(accounts::signin_page).post(accounts::signin_submit))
        .route("/auth/signout", post(accounts::signout_submit))
        .route(
            "/auth/signup",
            get(accounts::flows::signup_page).post(accounts::flows::signup_submit),
        )
        .route("/auth/verify-email", get(accounts::flows::verify_page))
        .route("/auth/resend-verification", post(accounts::flows::resend_submit))
        .route(
            "/auth/forgot-password",
            get(accounts::flows::forgot_page).post(accounts::flows::forgot_submit),
        )
        .route(
            "/auth/reset-password",
            get(accounts::flows::reset_page).post(accounts::flows::reset_submit),
        )
        .route("/theme", post(accounts::theme_submit))
        .route("/setup", get(setup::page).post(setup::submit))
        .route("/contacts", get(contacts::pages::index))
        .route(
            "/contacts/new",
            get(contacts::pages::new_form).post(contacts::pages::create),
        )
        .route("/contacts/bulk-delete", post(contacts::pages::bulk_delete))
        .route("/contacts/bulk-assign", post(contacts::pages::bulk_assign))
        .route("/contacts/{id}", get(contacts::pages::show))
        .route(
            "/contacts/{id}/edit",
            get(contacts::pages::edit_form).post(contacts::pages::update),
        )
        .route("/contacts/{id}/delete", post(contacts::pages::delete))
        .route("/companies", get(companies::pages::index))
        .route(
            "/companies/new",
            get(companies::pages::new_form).post(companies::pages::create),
        )
        .route("/companies/{id}", get(companies::pages::show))
        .route(
            "/companies/{id}/edit",
            get(companies::pages::edit_form).post(companies::pages::update),
        )
        .route("/companies/{id}/delete", post(companies::pages::delete))
        .route("/deals", get(deals::pages::index))
        .route("/deals/new", get(deals::pages::new_form).post(deals::pages::create))
        .route("/deals/{id}", get(deals::pages::show))
        .route(
            "/deals/{id}/edit",
            get(deals::pages::edit_form).post(deals::pages::update),
        )
        .route("/deals/{id}/move", post(deals::pages::move_submit))
        .route("/deals/{id}/delete", post(deals::pages::delete))
        .route("/tasks", get(tasks::pages::index))
        .route("/tasks/new", get(tasks::pages::new_form).post(tasks::pages::create))
        .route(
            "/tasks/{id}/edit",
            get(tasks::pages::edit_form).post(tasks::pages::update),
        )
        .route("/tasks/{id}/toggle", post(tasks::pages::toggle_submit))
        .route("/tasks/{id}/delete", post(tasks::pages::delete))
        .route("/activities", get(activities::pages::index))
        .route(
            "/activities/new",
            get(activities::pages::new_form).post(activities::pages::create),
        )
        .route(
            "/activities/{id}/edit",
            get(activities::pages::edit_form).post(activities::pages::update),
        )
        .route("/activities/{id}/delete", post(activities::pages::delete))
        .route("/reports", get(reports::page))
        .route("/search", get(search::page))
        .route("/settings", get(accounts::settings::page))
        .route("/settings/2fa/enable", post(accounts::twofactor::enable_submit))
        .route("/settings/2fa/verify", post(accounts::twofactor::verify_setup_submit))
        .route("/settings/2fa/regenerate", post(accounts::twofactor::regenerate_submit))
        .route("/settings/2fa/disable", post(accounts::twofactor::disable_submit))
        .route(
            "/auth/verify-2fa",
            get(accounts::twofactor::verify_page).post(accounts::twofactor::verify_submit),
        )
        .route("/settings/profile", post(accounts::settings::profile_submit))
        .route("/settings/password", post(accounts::settings::password_submit))
        .route(
            "/settings/sessions/end-others",
            post(accounts::settings::end_others_submit),
        )
        .route(
            "/settings/sessions/{id}/end",
            post(accounts::settings::end_session_submit),
        )
        .route("/settings/tokens", post(accounts::settings::token_submit))
        .route(
            "/settings/tokens/{id}/revoke",
            post(accounts::settings::token_revoke_submit),
        )
        .route("/admin/users", get(admin::pages::index))
        .route(
            "/admin/users/new",
            get(admin::pages::new_form).post(admin::pages::create),
        )
        .route("/admin/users/{id}", get(admin::pages::show))
        .route("/admin/users/{id}/edit", post(admin::pages::update))
        .route("/admin/users/{id}/verify-email", post(admin::pages::verify_email))
        .route("/admin/users/{id}/reset-2fa", post(admin::pages::reset_2fa))
        .route("/admin/users/{id}/delete", post(admin::pages::delete))
        .route("/admin/audit", get(admin::pages::audit))
        .route(
            "/admin/settings",
            get(admin::pages::org_settings).post(admin::pages::org_settings_submit),
        )
        .route("/admin/invites", post(admin::invites::invite_submit))
        .route("/admin/invites/{id}/resend", post(admin::invites::resend_submit))
        .route("/admin/invites/{id}/revoke", post(admin::invites::revoke_submit))
        .route(
            "/invite",
            get(admin::invites::accept_page).post(admin::invites::accept_submit),
        )
        .route("/admin/demo/remove", post(home::remove_demo))
        .route(
            "/contacts/import/{upload}",
            get(import::pages::contacts_preview).post(import::pages::contacts_confirm),
        )
        .route(
            "/companies/import/{upload}",
            get(import::pages::companies_preview).post(import::pages::companies_confirm),
        )
        .route("/imports/{id}", get(import::pages::progress))
        .fallback(|| async { PageError(CoreError::NotFound("There is no page at this address.".into())) })
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(from_fn_with_state(ROUTE_TIMEOUT, timeout));
    // addresses people type from habit: they lead to the real pages
    let mut pages = pages;
    for (from, to) in [
        ("/login", "/auth/signin"),
        ("/signin", "/auth/signin"),
        ("/signup", "/auth/signup"),
        ("/register", "/auth/signup"),
    ] {
        pages = pages.route(from, get(move || async move { axum::response::Redirect::to(to) }));
    }
    let pages = pages.merge(
        Router::new()
            .route(
                "/contacts/import",
                get(import::pages::contacts_form).post(import::pages::contacts_upload),
            )
            .route(
                "/companies/import",
                get(import::pages::companies_form).post(import::pages::companies_upload),
            )
            .layer(upload_limit)
            .layer(from_fn_with_state(UPLOAD_TIMEOUT, timeout)),
    );

    let mut app = Router::new()
        // `/api/v1` is the stable prefix; `/api` stays its alias for existing clients
        .nest("/api/v1", api.clone())
        .nest("/api", api)
        .merge(pages)
        .layer(from_fn_with_state(state.clone(), super::session::layer))
        .layer(from_fn_with_state(state.clone(), crate::web::org::layer))
        .layer(from_fn_with_state(state.clone(), setup::gate))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/static/{file}", get(web::assets::serve))
        .with_state(state.clone())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ));
    if state.config.https() {
        app = app.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ));
    }
    app.layer(SetResponseHeaderLayer::if_not_present(
        HeaderName::from_static("cache-control"),
        HeaderValue::from_static("no-store"),
    ))
    // a panic answers a bare 500, the timeout a bare 408: `envelope` outside both gives
    // them (and the body limit's 413, the router's 405) the API's or the pages' format
    .layer(CatchPanicLayer::custom(|_| {
        tracing::error!("a request handler panicked");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }))
    .layer(from_fn_with_state(UPLOAD_TIMEOUT, timeout))
    .layer(axum::middleware::from_fn(super::envelope::layer))
    .layer(CompressionLayer::new())
    .layer(TraceLayer::new_for_http())
}

/// Routes answer within 30 s; the CSV upload routes (up to `CRM_IMPORT_MAX_BYTES`) within
/// 10 minutes, so a large file over a slow link is not cut off while it arrives. Each
/// sub-router carries its own limit; the whole app carries the longer one as a bound on
/// the layers around the routes (session lookup, setup gate).
const ROUTE_TIMEOUT: Duration = Duration::from_secs(30);
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(600);

async fn timeout(State(limit): State<Duration>, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

async fn readyz(State(state): State<AppState>) -> Response {
    if state.db.ping().await {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
    }
}
