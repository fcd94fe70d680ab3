//! Companies over HTTP: the JSON API ([`api`]) and the pages ([`pages`]).

pub mod api;
pub mod pages;

/// This domain's JSON API routes (mounted under `/api/v1` and its alias `/api`).
pub fn api_routes() -> crate::http::api::Api {
    crate::http::resource::routes::<api::Companies>()
}

/// This domain's pages.
pub fn page_routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/companies", get(pages::index))
        .route("/companies/new", get(pages::new_form).post(pages::create))
        .route("/companies/{id}", get(pages::show))
        .route("/companies/{id}/edit", get(pages::edit_form).post(pages::update))
        .route(
            "/companies/{id}/delete",
            post(crate::http::resource::delete_page::<api::Companies>),
        )
}
