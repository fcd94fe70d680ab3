//! Contacts over HTTP: the JSON API ([`api`]) and the pages ([`pages`]).

pub mod api;
pub mod pages;

use crm_core::CoreError;
use uuid::Uuid;

/// A path id; a malformed one is a 400 with the field's message.
pub fn parse_id(raw: &str, what: &str) -> Result<Uuid, CoreError> {
    Uuid::parse_str(raw).map_err(|_| CoreError::bad_request(format!("Invalid {what} ID")))
}

/// This domain's JSON API routes (mounted under `/api/v1` and its alias `/api`).
pub fn api_routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/contacts", get(api::index).post(api::create))
        .route("/contacts/bulk-delete", post(api::bulk_delete))
        .route("/contacts/bulk-assign", post(api::bulk_assign))
        .route("/contacts/{id}", get(api::show).put(api::update).delete(api::delete))
        .route("/contacts/{id}/vcard", get(api::vcard))
}

/// This domain's pages.
pub fn page_routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/contacts", get(pages::index))
        .route("/contacts/new", get(pages::new_form).post(pages::create))
        .route("/contacts/bulk-delete", post(pages::bulk_delete))
        .route("/contacts/bulk-assign", post(pages::bulk_assign))
        .route("/contacts/{id}", get(pages::show))
        .route("/contacts/{id}/edit", get(pages::edit_form).post(pages::update))
        .route("/contacts/{id}/delete", post(pages::delete))
}
