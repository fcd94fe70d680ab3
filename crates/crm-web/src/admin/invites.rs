//! Team invitations over HTTP: `GET|POST /api/admin/invites`, `POST
//! /api/admin/invites/{id}/resend`, `DELETE /api/admin/invites/{id}`; the same from the
//! user management page (`/admin/invites…` forms); and `/invite?token=` where the invitee
//! chooses a name and password and is signed in.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use crm_core::CoreError;
use crm_core::accounts::sessions;
use crm_core::admin::invites;
use crm_core::input::Mode;
use serde::Deserialize;

use crate::AppState;
use crate::http::body::{FormPairs, JsonObject};
use crate::http::error::{ApiResult, PageResult, envelope};
use crate::http::resource::parse_id;
use crate::http::session::ApiActor;
use crate::web::{FormState, PageCtx, html, theme_of};

pub async fn api_list(State(state): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Response> {
    Ok(envelope(StatusCode::OK, invites::pending(&state.db, &actor).await?))
}

pub async fn api_create(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: JsonObject,
) -> ApiResult<Response> {
    let v = invites::invite(&state.db, &state.mailer, &actor, body.input(Mode::Create)).await?;
    Ok(envelope(StatusCode::CREATED, v))
}

pub async fn api_resend(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let v = invites::resend(&state.db, &state.mailer, &actor, parse_id(&id, "invitation")?).await?;
    Ok(envelope(StatusCode::OK, v))
}

pub async fn api_revoke(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    invites::revoke(&state.db, &actor, parse_id(&id, "invitation")?).await?;
    Ok(envelope(StatusCode::OK, serde_json::json!({"revoked": true})))
}

/// `POST /admin/invites` from the user management page; errors come back on that page.
pub async fn invite_submit(State(state): State<AppState>, ctx: PageCtx, form: FormPairs) -> PageResult {
    match invites::invite(&state.db, &state.mailer, &ctx.session.actor, form.input(Mode::Create)).await {
        Ok(_) => Ok(Redirect::to("/admin/users?done=invited").into_response()),
        Err(e @ CoreError::Validation { .. }) => {
            super::pages::index_with(&state, &ctx, FormState::from_pairs(&form.0).with_error(e)).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn resend_submit(State(state): State<AppState>, ctx: PageCtx, Path(id): Path<String>) -> PageResult {
    invites::resend(
        &state.db,
        &state.mailer,
        &ctx.session.actor,
        parse_id(&id, "invitation")?,
    )
    .await?;
    Ok(Redirect::to("/admin/users?done=invite-resent").into_response())
}

pub async fn revoke_submit(State(state): State<AppState>, ctx: PageCtx, Path(id): Path<String>) -> PageResult {
    invites::revoke(&state.db, &ctx.session.actor, parse_id(&id, "invitation")?).await?;
    Ok(Redirect::to("/admin/users?done=invite-revoked").into_response())
}

#[derive(Template)]
#[template(path = "admin/accept.html")]
struct AcceptPage {
    theme: &'static str,
    token: String,
    /// The invitee's address while the link is valid.
    email: Option<String>,
    form: FormState,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

pub async fn accept_page(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<TokenQuery>) -> Response {
    let token = q.token.unwrap_or_default().trim().to_string();
    let (email, form, status) = match invites::invitee(&state.db, &token).await {
        Ok(u) => (Some(u.email), FormState::default(), StatusCode::OK),
        Err(e) => (None, FormState::default().with_error(e), StatusCode::BAD_REQUEST),
    };
    let page = AcceptPage {
        theme: theme_of(&headers).unwrap_or(""),
        token,
        email,
        form,
    };
    (status, html(&page)).into_response()
}

pub async fn accept_submit(State(state): State<AppState>, headers: HeaderMap, form: FormPairs) -> PageResult {
    let token = form.get("token").unwrap_or("").trim().to_string();
    let (name, password) = (form.get("name").unwrap_or(""), form.get("password").unwrap_or(""));
    let result = if password != form.get("confirmPassword").unwrap_or("") {
        Err(CoreError::field("confirmPassword", "Passwords do not match"))
    } else {
        invites::accept(&state.db, &token, name, password).await
    };
    match result {
        Ok(u) => {
            let s = sessions::create(&state.db, u.id, None, None).await?;
            let mut res = Redirect::to("/?done=welcome").into_response();
            res.headers_mut().insert(
                header::SET_COOKIE,
                crate::accounts::session_cookie(&state, &s.token, sessions::LIFETIME_DAYS * 86400),
            );
            Ok(res)
        }
        Err(e) => {
            let email = invites::invitee(&state.db, &token).await.ok().map(|u| u.email);
            let mut f = FormState::from_pairs(&form.0).with_error(e);
            f.values.remove("password");
            f.values.remove("confirmPassword");
            let page = AcceptPage {
                theme: theme_of(&headers).unwrap_or(""),
                token,
                email,
                form: f,
            };
            Ok((StatusCode::BAD_REQUEST, html(&page)).into_response())
        }
    }
}
