//! Contacts over HTTP: the JSON API ([`api`]) and the pages ([`pages`]).

pub mod api;
pub mod pages;

/// This domain's JSON API routes (mounted under `/api/v1` and its alias `/api`).
pub fn api_routes() -> crate::http::api::Api {
    use crate::http::api::{Doc, required};
    const T: &str = "Contacts";
    crate::http::resource::routes::<api::Contacts>()
        .post(
            "/contacts/bulk-delete",
            Doc::new(T, "Delete several contacts (those the caller may delete)")
                .body(&[required("ids", "array", "Contact ids, at most 1000.")])
                .data::<api::Deleted>(),
            api::bulk_delete,
        )
        .post(
            "/contacts/bulk-assign",
            Doc::new(T, "Give several contacts to an owner")
                .body(&[
                    required("ids", "array", "Contact ids."),
                    required("userId", "uuid", "The new owner."),
                ])
                .data::<api::Assigned>(),
            api::bulk_assign,
        )
        .get(
            "/contacts/{id}/vcard",
            Doc::new(T, "The contact as a vCard 4.0 file").file("text/vcard"),
            api::vcard,
        )
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
        .route(
            "/contacts/{id}/delete",
            post(crate::http::resource::delete_page::<api::Contacts>),
        )
}
