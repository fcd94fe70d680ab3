//! Every route of the app, and the middleware stack around them.

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use crm_core::CoreError;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use super::error::{ApiError, PageError};
use crate::{
    AppState, accounts, activities, admin, calendar, companies, contacts, deals, export, home, import, reports, search,
    setup, tasks, web, webhooks,
};

/// The largest request body outside uploads.
const BODY_LIMIT: usize = 2 * 1024 * 1024;

const CSP: &str = "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

pub fn router(state: AppState) -> Router {
    let (api, mut ops) = crate::http::api::Api::new()
        .merge(accounts::api_routes())
        .merge(admin::api_routes())
        .merge(search::api_routes())
        .merge(home::api_routes())
        .merge(reports::api_routes())
        .merge(export::api_routes())
        .merge(contacts::api_routes())
        .merge(activities::api_routes())
        .merge(tasks::api_routes())
        .merge(deals::api_routes())
        .merge(companies::api_routes())
        .merge(import::api_routes())
        .merge(calendar::api_routes())
        .merge(webhooks::api_routes())
        .merge(crate::docs::api_routes())
        .into_parts();
    let api = api
        .fallback(|| async { ApiError(CoreError::NotFound("No such API endpoint".into())) })
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(from_fn_with_state(ROUTE_TIMEOUT, timeout));
    // Uploads: the import limit (CRM_IMPORT_MAX_BYTES) instead of the 2 MB of other bodies;
    // the handler answers a file over the limit with a 400 and a message.
    let upload_limit = DefaultBodyLimit::max(
        usize::try_from(state.config.import_max_bytes.saturating_add(1024 * 1024)).unwrap_or(usize::MAX),
    );
    let (uploads, upload_ops) = import::api_upload_routes().into_parts();
    ops.extend(upload_ops);
    crate::http::api::publish(ops);
    let api = api.merge(
        uploads
            .layer(upload_limit)
            .layer(from_fn_with_state(UPLOAD_TIMEOUT, timeout)),
    );

    let pages = Router::new()
        .merge(accounts::page_routes())
        .merge(admin::page_routes())
        .merge(search::page_routes())
        .merge(home::page_routes())
        .merge(reports::page_routes())
        .merge(contacts::page_routes())
        .merge(activities::page_routes())
        .merge(tasks::page_routes())
        .merge(deals::page_routes())
        .merge(companies::page_routes())
        .merge(import::page_routes())
        .merge(webhooks::page_routes())
        .merge(setup::page_routes())
        .merge(calendar::page_routes())
        .merge(crate::docs::page_routes())
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
        import::page_upload_routes()
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
        .layer(from_fn_with_state(state.clone(), super::metrics::track))
        .route("/metrics", get(super::metrics::scrape))
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
    let ping = tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await;
    if ping.unwrap_or(false) {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
    }
}
