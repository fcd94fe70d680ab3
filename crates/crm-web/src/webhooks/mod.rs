//! Outbound webhooks over HTTP (admins only): `/api/webhooks…` ([`api`]) and the
//! `/admin/webhooks` pages ([`pages`]).

pub mod api;
pub mod pages;

/// This domain's JSON API routes (mounted under `/api/v1` and its alias `/api`).
pub fn api_routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/webhooks", get(api::index).post(api::create))
        .route("/webhooks/{id}", get(api::show).put(api::update).delete(api::delete))
        .route("/webhooks/{id}/test", post(api::test))
        .route("/webhooks/{id}/deliveries", get(api::deliveries))
        .route("/webhooks/{id}/deliveries/{delivery}/retry", post(api::retry))
}

/// This domain's pages.
pub fn page_routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/admin/webhooks", get(pages::index).post(pages::create))
        .route("/admin/webhooks/{id}", get(pages::show).post(pages::update))
        .route("/admin/webhooks/{id}/delete", post(pages::delete))
        .route("/admin/webhooks/{id}/test", post(pages::test))
        .route("/admin/webhooks/{id}/deliveries/{delivery}/retry", post(pages::retry))
}
