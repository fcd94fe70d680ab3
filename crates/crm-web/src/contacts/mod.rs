//! Contacts over HTTP: the JSON API ([`api`]) and the pages ([`pages`]).

pub mod api;
pub mod pages;

/// This domain's JSON API routes (mounted under `/api/v1` and its alias `/api`).
pub fn api_routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    crate::http::resource::routes::<api::Contacts>()
        .route("/contacts/bulk-delete", post(api::bulk_delete))
        .route("/contacts/bulk-assign", post(api::bulk_assign))
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
