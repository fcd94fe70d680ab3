//! Outbound webhooks over HTTP (admins only): `/api/webhooks…` ([`api`]) and the
//! `/admin/webhooks` pages ([`pages`]).

pub mod api;
pub mod pages;

/// This domain's JSON API routes (mounted under `/api/v1` and its alias `/api`).
pub fn api_routes() -> crate::http::api::Api {
    use crate::http::api::{Api, Doc, field, required};
    use crm_core::webhooks::{DeliveryView, EndpointView};
    const T: &str = "Webhooks";
    let body = [
        required("url", "string", "An https address outside private networks."),
        required("events", "array", "Event types, or \"*\" for all."),
        field("description", "string", "What it is for."),
    ];
    Api::new()
        .get(
            "/webhooks",
            Doc::new(T, "List endpoints").data::<Vec<EndpointView>>().admin(),
            api::index,
        )
        .post(
            "/webhooks",
            Doc::new(T, "Add an endpoint (its secret is shown once)")
                .body(&body)
                .data::<EndpointView>()
                .status(201)
                .admin(),
            api::create,
        )
        .get(
            "/webhooks/{id}",
            Doc::new(T, "Get an endpoint").data::<EndpointView>().admin(),
            api::show,
        )
        .put(
            "/webhooks/{id}",
            Doc::new(T, "Change an endpoint")
                .body(&[
                    field("url", "string", "An https address outside private networks."),
                    field("events", "array", "Event types, or \"*\" for all."),
                    field("description", "string", "What it is for."),
                    field("enabled", "boolean", "false pauses deliveries."),
                ])
                .data::<EndpointView>()
                .admin(),
            api::update,
        )
        .delete("/webhooks/{id}", Doc::new(T, "Remove an endpoint").admin(), api::delete)
        .post(
            "/webhooks/{id}/test",
            Doc::new(T, "Send a ping").data::<api::PingQueued>().status(202).admin(),
            api::test,
        )
        .get(
            "/webhooks/{id}/deliveries",
            Doc::new(T, "An endpoint's deliveries")
                .data::<Vec<DeliveryView>>()
                .admin(),
            api::deliveries,
        )
        .post(
            "/webhooks/{id}/deliveries/{delivery}/retry",
            Doc::new(T, "Send a delivery again").data::<DeliveryView>().admin(),
            api::retry,
        )
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
