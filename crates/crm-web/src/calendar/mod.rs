//! Calendar feeds over HTTP: `POST|DELETE /api/calendar/feed` (make or replace, revoke), the
//! feed itself at `GET /calendar/<secret>.ics` (no cookie: the secret is the credential), and
//! the settings page's forms (`/settings/calendar`, `/settings/calendar/revoke`). Files for
//! download (a meeting's `.ics`, a contact's `.vcf`) go out through [`download`].

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use crm_core::CoreError;
use crm_core::calendar;

use crate::AppState;
use crate::accounts::settings::{Forms, render};
use crate::http::body::FormPairs;
use crate::http::error::{ApiResult, PageError, PageResult, envelope};
use crate::http::session::ApiActor;
use crate::web::{Chrome, ConfirmPage, PageCtx, html};

/// A text file to save: its type and `Content-Disposition: attachment; filename="…"`.
pub fn download(content_type: &'static str, file_name: &str, body: String) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// The address of one's calendar feed (its secret is the credential).
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct FeedUrl {
    pub url: String,
}

/// `POST /api/calendar/feed` → 201 `{"url"}` (a new secret; the old URL stops working).
pub async fn api_create(State(state): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Response> {
    let secret = calendar::create(&state.db, &actor).await?;
    let url = calendar::url(&state.config.base_url, &secret);
    Ok(envelope(StatusCode::CREATED, FeedUrl { url }))
}

/// `DELETE /api/calendar/feed`: the URL answers 404 from now on.
pub async fn api_delete(State(state): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Response> {
    calendar::revoke(&state.db, &actor).await?;
    Ok(envelope(StatusCode::OK, serde_json::Value::Null))
}

/// `GET /calendar/<secret>.ics`: read fresh at every poll.
pub async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> Result<Response, PageError> {
    let gone = || PageError(CoreError::NotFound("There is no calendar at this address.".into()));
    let secret = file.strip_suffix(".ics").ok_or_else(gone)?;
    let body = calendar::feed(&state.db, secret, &state.config.base_url)
        .await?
        .ok_or_else(gone)?;
    let mut res = body.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    Ok(res)
}

/// The settings form: make the feed, or (asked first) reset its address.
pub async fn create_submit(State(state): State<AppState>, ctx: PageCtx, form: FormPairs) -> PageResult {
    let actor = &ctx.session.actor;
    if calendar::since(&state.db, actor).await?.is_some() && form.get("confirm") != Some("yes") {
        return Ok(html(&ConfirmPage {
            chrome: Chrome::new(&ctx, "Reset calendar address", "settings"),
            heading: "Reset the calendar address?".into(),
            text: "Calendars subscribed to the current address stop updating; you subscribe again with the new one."
                .into(),
            action: "/settings/calendar".into(),
            button: "Reset address".into(),
            cancel: "/settings#calendar".into(),
            hidden: vec![],
        }));
    }
    let secret = calendar::create(&state.db, actor).await?;
    let f = Forms {
        calendar_url: Some(calendar::url(&state.config.base_url, &secret)),
        notice: Some("Calendar address made. Copy it now: it is not shown again.".into()),
        ..Default::default()
    };
    render(&state, &ctx, f, StatusCode::OK).await
}

/// The settings form: turn the feed off (asked first).
pub async fn revoke_submit(State(state): State<AppState>, ctx: PageCtx, form: FormPairs) -> PageResult {
    if form.get("confirm") != Some("yes") {
        return Ok(html(&ConfirmPage {
            chrome: Chrome::new(&ctx, "Turn off calendar feed", "settings"),
            heading: "Turn off the calendar feed?".into(),
            text: "Its address stops working at once; subscribed calendars stop updating.".into(),
            action: "/settings/calendar/revoke".into(),
            button: "Turn off".into(),
            cancel: "/settings#calendar".into(),
            hidden: vec![],
        }));
    }
    match calendar::revoke(&state.db, &ctx.session.actor).await {
        Ok(()) | Err(CoreError::NotFound(_)) => {
            Ok(Redirect::to("/settings?done=calendar-off#calendar").into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// This domain's JSON API routes (mounted under `/api/v1` and its alias `/api`).
pub fn api_routes() -> crate::http::api::Api {
    use crate::http::api::{Api, Doc};
    Api::new()
        .post(
            "/calendar/feed",
            Doc::new("Calendar", "Create (or replace) one's calendar feed URL")
                .data::<FeedUrl>()
                .status(201),
            api_create,
        )
        .delete(
            "/calendar/feed",
            Doc::new("Calendar", "Revoke one's calendar feed"),
            api_delete,
        )
}

/// This domain's pages (the feed is one: it needs no session).
pub fn page_routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/calendar/{file}", get(feed))
        .route("/settings/calendar", post(create_submit))
        .route("/settings/calendar/revoke", post(revoke_submit))
}
