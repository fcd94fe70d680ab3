//! The first-run page `/setup`: while no user exists every page leads here; the one-time
//! token from the server log is required, so whoever reaches a fresh instance first over
//! the network cannot make themselves its admin.

use std::sync::atomic::Ordering;

use askama::Template;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use crm_core::CoreError;
use crm_core::accounts::{sessions, setup};
use serde::Deserialize;

use crate::AppState;
use crate::http::body::FormPairs;
use crate::http::error::PageError;
use crate::web::{FormState, html, theme_of};

/// While setup is pending, every page request goes to `/setup`.
pub async fn gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if state.needs_setup.load(Ordering::Relaxed) {
        let path = req.uri().path();
        let exempt = path == "/setup"
            || path == "/docs"
            || path.starts_with("/docs/")
            || path.starts_with("/static/")
            || path.starts_with("/api/")
            || path == "/healthz"
            || path == "/readyz";
        if !exempt {
            match setup::needed(&state.db).await {
                Ok(true) => return Redirect::to("/setup").into_response(),
                Ok(false) => state.needs_setup.store(false, Ordering::Relaxed),
                Err(e) => return PageError(e).into_response(),
            }
        }
    }
    next.run(req).await
}

#[derive(Template)]
#[template(path = "setup/setup.html")]
struct SetupPage {
    theme: &'static str,
    token: String,
    /// The token was given and is valid: show the admin form.
    valid: bool,
    form: FormState,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// `Err(redirect)` once an admin exists: the setup link has done its job, and whoever
/// follows it again lands on the sign-in page (or their dashboard) with a word why.
async fn pending(state: &AppState) -> Result<Result<(), Response>, PageError> {
    if setup::needed(&state.db).await? {
        Ok(Ok(()))
    } else {
        state.needs_setup.store(false, Ordering::Relaxed);
        Ok(Err(Redirect::to("/auth/signin?notice=setup-done").into_response()))
    }
}

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Result<Response, PageError> {
    if let Err(done) = pending(&state).await? {
        return Ok(done);
    }
    let token = q.token.unwrap_or_default().trim().to_string();
    let valid = !token.is_empty() && setup::token_valid(&state.db, &token).await?;
    let mut form = FormState::default();
    if !token.is_empty() && !valid {
        form.message =
            Some("This setup link is invalid or was already used. Run `crm setup-link` for a new one.".into());
    }
    let status = if form.message.is_some() {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        html(&SetupPage {
            theme: theme_of(&headers).unwrap_or(""),
            token,
            valid,
            form,
        }),
    )
        .into_response())
}

pub async fn submit(State(state): State<AppState>, headers: HeaderMap, form: FormPairs) -> Result<Response, PageError> {
    if let Err(done) = pending(&state).await? {
        return Ok(done);
    }
    let token = form.get("token").unwrap_or("").trim().to_string();
    let name = form.get("name").unwrap_or("");
    let email = form.get("email").unwrap_or("");
    let password = form.get("password").unwrap_or("");
    let confirm = form.get("confirmPassword").unwrap_or("");
    let result = if password != confirm {
        Err(CoreError::field("confirmPassword", "Passwords do not match"))
    } else {
        setup::complete(&state.db, &token, name, email, password).await
    };
    let theme = theme_of(&headers).unwrap_or("");
    match result {
        Ok(admin) => {
            state.needs_setup.store(false, Ordering::Relaxed);
            if form.get("demo") == Some("on") {
                crm_core::seed::demo(&state.db).await.map_err(CoreError::Internal)?;
            }
            let s = sessions::create(&state.db, admin.id, None, None).await?;
            let mut res = Redirect::to("/").into_response();
            res.headers_mut().insert(
                header::SET_COOKIE,
                crate::accounts::session_cookie(&state, &s.token, sessions::LIFETIME_DAYS * 86400),
            );
            Ok(res)
        }
        Err(e @ CoreError::Forbidden(_)) => {
            let page = SetupPage {
                theme,
                token,
                valid: false,
                form: FormState::default().with_error(e),
            };
            Ok((StatusCode::FORBIDDEN, html(&page)).into_response())
        }
        Err(e) => {
            let mut f = FormState::from_pairs(&form.0).with_error(e);
            f.values.remove("password");
            f.values.remove("confirmPassword");
            Ok((
                StatusCode::BAD_REQUEST,
                html(&SetupPage {
                    theme,
                    token,
                    valid: true,
                    form: f,
                }),
            )
                .into_response())
        }
    }
}

/// This domain's pages.
pub fn page_routes() -> axum::Router<crate::AppState> {
    use axum::routing::get;
    axum::Router::new().route("/setup", get(page).post(submit))
}
