//! Sign-in, session and sign-out: the JSON endpoints of contract.md and the pages.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use crm_core::CoreError;
use crm_core::accounts::{sessions, users};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::http::body::{FormPairs, JsonObject};
use crate::http::error::{ApiError, ApiResult, envelope};
use crate::http::session::{COOKIE, MaybeSession};
use crate::web::{html, theme_of};

pub fn session_cookie(state: &AppState, token: &str, max_age: i64) -> HeaderValue {
    let secure = if state.config.https() { "; Secure" } else { "" };
    let v = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.to_string())
}

/// Check the credentials, end any previous session of this browser, open a new one.
async fn sign_in(
    state: &AppState,
    old: &Option<crate::http::session::SessionInfo>,
    email: &str,
    password: &str,
    headers: &HeaderMap,
) -> Result<(crm_core::entities::user::Model, String), CoreError> {
    if email.trim().is_empty() || password.is_empty() {
        return Err(CoreError::bad_request("Email and password are required"));
    }
    let user = users::check_credentials(&state.db, email, password).await?;
    if let Some(old) = old {
        sessions::delete_by_token(&state.db, &old.token).await?;
    }
    let s = sessions::create(&state.db, user.id, None, user_agent(headers)).await?;
    Ok((user, s.token))
}

/// `POST /api/auth/signin {"email","password"}`.
pub async fn api_signin(
    State(state): State<AppState>,
    MaybeSession(old): MaybeSession,
    headers: HeaderMap,
    body: JsonObject,
) -> ApiResult<Response> {
    let email = body
        .0
        .get("email")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    let password = body
        .0
        .get("password")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    let (user, token) = sign_in(&state, &old, &email, &password, &headers).await?;
    let data = json!({
        "user": { "id": user.id, "email": user.email, "name": user.name, "role": user.role },
        "twoFactorRequired": false,
    });
    let mut res = envelope(StatusCode::OK, data);
    res.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&state, &token, sessions::LIFETIME_DAYS * 86400),
    );
    Ok(res)
}

/// `GET /api/auth/session`.
pub async fn api_session(MaybeSession(s): MaybeSession) -> ApiResult<Response> {
    let s = s.ok_or_else(|| ApiError(CoreError::Unauthenticated("Not authenticated".into())))?;
    let a = &s.actor;
    Ok(envelope(
        StatusCode::OK,
        json!({ "user": { "id": a.id, "email": a.email, "name": a.name, "role": a.role }, "csrfToken": s.csrf_token }),
    ))
}

/// `POST /api/auth/signout`.
pub async fn api_signout(
    State(state): State<AppState>,
    MaybeSession(s): MaybeSession,
) -> ApiResult<Response> {
    if let Some(s) = s {
        sessions::delete_by_token(&state.db, &s.token).await?;
    }
    let mut res = envelope(StatusCode::OK, serde_json::Value::Null);
    res.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, "", 0));
    Ok(res)
}

#[derive(Template)]
#[template(path = "accounts/signin.html")]
struct SignInPage {
    theme: &'static str,
    email: String,
    next: String,
    error: Option<String>,
    allow_signup: bool,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only local paths are followed after sign-in (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

pub async fn signin_page(
    State(state): State<AppState>,
    MaybeSession(s): MaybeSession,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    if s.is_some() {
        return Redirect::to(&next).into_response();
    }
    html(&SignInPage {
        theme: theme_of(&headers).unwrap_or(""),
        email: String::new(),
        next,
        error: None,
        allow_signup: state.config.allow_signup,
    })
}

pub async fn signin_submit(
    State(state): State<AppState>,
    MaybeSession(old): MaybeSession,
    headers: HeaderMap,
    form: FormPairs,
) -> Response {
    let email = form.get("email").unwrap_or("").to_string();
    let password = form.get("password").unwrap_or("").to_string();
    let next = safe_next(form.get("next"));
    match sign_in(&state, &old, &email, &password, &headers).await {
        Ok((_, token)) => {
            let mut res = Redirect::to(&next).into_response();
            res.headers_mut().insert(
                header::SET_COOKIE,
                session_cookie(&state, &token, sessions::LIFETIME_DAYS * 86400),
            );
            res
        }
        Err(e) => {
            let status = crate::http::error::status_of(&e);
            let page = SignInPage {
                theme: theme_of(&headers).unwrap_or(""),
                email,
                next,
                error: Some(crate::http::error::public_message(&e)),
                allow_signup: state.config.allow_signup,
            };
            (status, html(&page)).into_response()
        }
    }
}

pub async fn signout_submit(
    State(state): State<AppState>,
    MaybeSession(s): MaybeSession,
) -> Response {
    if let Some(s) = s
        && let Err(e) = sessions::delete_by_token(&state.db, &s.token).await
    {
        return crate::http::error::PageError(e).into_response();
    }
    let mut res = Redirect::to("/auth/signin").into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, "", 0));
    res
}

/// The no-JS theme toggle: flip the cookie and go back.
pub async fn theme_submit(headers: HeaderMap) -> Response {
    let next = match theme_of(&headers) {
        Some("dark") => "light",
        _ => "dark",
    };
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| {
            r.find("://")
                .and_then(|i| r[i + 3..].find('/').map(|j| r[i + 3 + j..].to_string()))
        })
        .unwrap_or_else(|| "/".into());
    let mut res = Redirect::to(&safe_next(Some(&back))).into_response();
    let cookie = format!("theme={next}; Path=/; Max-Age=31536000; SameSite=Lax");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}
