//! Sign-up, e-mail verification, resend, forgot and reset password: the JSON endpoints of
//! spec/api.md §10 and their pages. Every answer is the same whether or not an account
//! exists; every endpoint is rate limited.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use crm_core::CoreError;
use crm_core::accounts::flows;
use crm_core::accounts::tokens::{self, Purpose};
use serde::Deserialize;

use super::ip_of;
use crate::AppState;
use crate::http::body::{FormPairs, JsonObject};
use crate::http::error::{ApiError, envelope};
use crate::http::ratelimit::{self, Decision, Rule, TOO_MANY};
use crate::web::{FormState, html, theme_of};

pub const SIGNED_UP: &str = "Account created successfully. Please check your email to verify your account.";
pub const RESENT: &str = "If an account with this email needs verification, a new link has been sent.";
pub const FORGOT_SENT: &str = "If an account exists, you will receive a password reset email";

fn text(body: &JsonObject, key: &str) -> String {
    body.0.get(key).and_then(|v| v.as_str()).unwrap_or("").to_string()
}

/// Count a request against `rule`; the 429 response when over.
async fn limit(state: &AppState, rule: Rule, key: &str) -> Result<(), Decision> {
    let d = state.limiter.hit(rule, key).await;
    if d.allowed { Ok(()) } else { Err(d) }
}

fn signup_closed() -> ApiError {
    ApiError(CoreError::Forbidden(
        "Sign-up is closed on this server. Ask your administrator for an account.".into(),
    ))
}

/// `POST /api/auth/signup {"name","email","password"}` → 201, the same for a taken address.
pub async fn api_signup(
    State(state): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: JsonObject,
) -> Response {
    if !state.config.allow_signup {
        return signup_closed().into_response();
    }
    if let Err(d) = limit(&state, ratelimit::SIGNUP, &ip_of(&state, &headers, &peer)).await {
        return d.too_many(TOO_MANY);
    }
    match flows::sign_up(
        &state.db,
        &state.mailer,
        &text(&body, "name"),
        &text(&body, "email"),
        &text(&body, "password"),
    )
    .await
    {
        Ok(email) => envelope(
            StatusCode::CREATED,
            super::views::SignedUp {
                message: SIGNED_UP.into(),
                email,
            },
        ),
        Err(e) => ApiError(e).into_response(),
    }
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// `GET /api/auth/verify-email?token=`.
pub async fn api_verify(State(state): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    let token = q.token.unwrap_or_default();
    if token.trim().is_empty() {
        return ApiError(CoreError::bad_request("Invalid verification link")).into_response();
    }
    if let Err(d) = limit(&state, ratelimit::VERIFY, &token).await {
        return d.too_many(TOO_MANY);
    }
    match flows::verify_email(&state.db, &token).await {
        Ok(()) => envelope(
            StatusCode::OK,
            super::views::Message::new("Email verified successfully. You can now sign in."),
        ),
        Err(e) => ApiError(e).into_response(),
    }
}

/// `POST /api/auth/resend-verification {"email"}`.
pub async fn api_resend(State(state): State<AppState>, body: JsonObject) -> Response {
    let email = crm_core::text::email_key(&text(&body, "email"));
    if email.is_empty() {
        return ApiError(CoreError::field("email", "Email is required")).into_response();
    }
    if let Err(d) = limit(&state, ratelimit::RESEND, &email).await {
        return d.too_many(TOO_MANY);
    }
    match flows::resend_verification(&state.db, &state.mailer, &email).await {
        Ok(()) => envelope(StatusCode::OK, super::views::Message::new(RESENT)),
        Err(e) => ApiError(e).into_response(),
    }
}

/// `POST /api/auth/forgot-password {"email"}`: the same answer for every address.
pub async fn api_forgot(
    State(state): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: JsonObject,
) -> Response {
    if let Err(d) = limit(&state, ratelimit::FORGOT, &ip_of(&state, &headers, &peer)).await {
        return d.too_many(TOO_MANY);
    }
    let email = text(&body, "email");
    if email.trim().is_empty() {
        return ApiError(CoreError::field("email", "Email is required")).into_response();
    }
    if !crm_core::input::is_email(email.trim()) {
        return ApiError(CoreError::field("email", "Invalid email format")).into_response();
    }
    match flows::forgot_password(&state.db, &state.mailer, &email).await {
        Ok(()) => envelope(StatusCode::OK, super::views::Message::new(FORGOT_SENT)),
        Err(e) => ApiError(e).into_response(),
    }
}

/// `POST /api/auth/reset-password {"token","password"}`.
pub async fn api_reset(
    State(state): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: JsonObject,
) -> Response {
    if let Err(d) = limit(&state, ratelimit::RESET, &ip_of(&state, &headers, &peer)).await {
        return d.too_many(TOO_MANY);
    }
    let (token, password) = (text(&body, "token"), text(&body, "password"));
    if token.is_empty() || password.is_empty() {
        return ApiError(CoreError::bad_request("Token and password are required")).into_response();
    }
    match flows::reset_password(&state.db, &state.mailer, &token, &password).await {
        Ok(()) => envelope(StatusCode::OK, super::views::Message::new("Password reset successful")),
        Err(e) => ApiError(e).into_response(),
    }
}

// ---- pages -----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "accounts/flow.html")]
struct FlowPage {
    theme: &'static str,
    /// Which card: signup, forgot, forgot-sent, reset, reset-invalid, verified, verify-failed.
    kind: &'static str,
    form: FormState,
    token: String,
}

fn page(headers: &HeaderMap, kind: &'static str, form: FormState, token: String, status: StatusCode) -> Response {
    (
        status,
        html(&FlowPage {
            theme: theme_of(headers).unwrap_or(""),
            kind,
            form,
            token,
        }),
    )
        .into_response()
}

fn limited_page(headers: &HeaderMap, kind: &'static str, d: Decision) -> Response {
    let message = format!(
        "Too many attempts. Try again in {} minutes.",
        d.reset.as_secs().div_ceil(60)
    );
    let form = FormState {
        message: Some(message),
        ..Default::default()
    };
    let mut res = page(headers, kind, form, String::new(), StatusCode::TOO_MANY_REQUESTS);
    d.headers(res.headers_mut());
    res
}

pub async fn signup_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !state.config.allow_signup {
        return crate::http::error::PageError(signup_closed().0).into_response();
    }
    page(&headers, "signup", FormState::default(), String::new(), StatusCode::OK)
}

pub async fn signup_submit(
    State(state): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: FormPairs,
) -> Response {
    if !state.config.allow_signup {
        return crate::http::error::PageError(signup_closed().0).into_response();
    }
    let field = |k: &str| form.get(k).unwrap_or("").to_string();
    let mut f = FormState::from_pairs(&form.0);
    f.values.remove("password");
    f.values.remove("confirmPassword");
    if field("password") != field("confirmPassword") {
        return page(
            &headers,
            "signup",
            f.with_error(CoreError::field("confirmPassword", "Passwords do not match")),
            String::new(),
            StatusCode::BAD_REQUEST,
        );
    }
    if let Err(d) = limit(&state, ratelimit::SIGNUP, &ip_of(&state, &headers, &peer)).await {
        return limited_page(&headers, "signup", d);
    }
    match flows::sign_up(
        &state.db,
        &state.mailer,
        &field("name"),
        &field("email"),
        &field("password"),
    )
    .await
    {
        Ok(_) => Redirect::to("/auth/signin?notice=check-email").into_response(),
        Err(e) => page(
            &headers,
            "signup",
            f.with_error(e),
            String::new(),
            StatusCode::BAD_REQUEST,
        ),
    }
}

pub async fn verify_page(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<TokenQuery>) -> Response {
    let token = q.token.unwrap_or_default();
    if let Err(d) = limit(&state, ratelimit::VERIFY, &token).await {
        return limited_page(&headers, "verify-failed", d);
    }
    let result = if token.trim().is_empty() {
        Err(CoreError::bad_request("Invalid verification link"))
    } else {
        flows::verify_email(&state.db, &token).await
    };
    match result {
        Ok(()) => Redirect::to("/auth/signin?notice=verified").into_response(),
        Err(e) => page(
            &headers,
            "verify-failed",
            FormState::default().with_error(e),
            String::new(),
            StatusCode::BAD_REQUEST,
        ),
    }
}

pub async fn resend_submit(State(state): State<AppState>, headers: HeaderMap, form: FormPairs) -> Response {
    let email = crm_core::text::email_key(form.get("email").unwrap_or(""));
    if let Err(d) = limit(&state, ratelimit::RESEND, &email).await {
        return limited_page(&headers, "verify-failed", d);
    }
    if let Err(e) = flows::resend_verification(&state.db, &state.mailer, &email).await {
        return crate::http::error::PageError(e).into_response();
    }
    Redirect::to("/auth/signin?notice=resent").into_response()
}

pub async fn forgot_page(headers: HeaderMap) -> Response {
    page(&headers, "forgot", FormState::default(), String::new(), StatusCode::OK)
}

pub async fn forgot_submit(
    State(state): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: FormPairs,
) -> Response {
    let email = form.get("email").unwrap_or("").trim().to_string();
    let f = FormState::from_pairs(&form.0);
    if !crm_core::input::is_email(&email) {
        return page(
            &headers,
            "forgot",
            f.with_error(CoreError::field("email", "Invalid email format")),
            String::new(),
            StatusCode::BAD_REQUEST,
        );
    }
    if let Err(d) = limit(&state, ratelimit::FORGOT, &ip_of(&state, &headers, &peer)).await {
        return limited_page(&headers, "forgot", d);
    }
    match flows::forgot_password(&state.db, &state.mailer, &email).await {
        Ok(()) => page(&headers, "forgot-sent", f, String::new(), StatusCode::OK),
        Err(e) => crate::http::error::PageError(e).into_response(),
    }
}

pub async fn reset_page(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<TokenQuery>) -> Response {
    let token = q.token.unwrap_or_default();
    match tokens::peek(&state.db, &token, Purpose::ResetPassword).await {
        Ok(_) => page(&headers, "reset", FormState::default(), token, StatusCode::OK),
        Err(e) => page(
            &headers,
            "reset-invalid",
            FormState::default().with_error(e),
            String::new(),
            StatusCode::BAD_REQUEST,
        ),
    }
}

pub async fn reset_submit(
    State(state): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: FormPairs,
) -> Response {
    let token = form.get("token").unwrap_or("").to_string();
    let (password, confirm) = (
        form.get("password").unwrap_or(""),
        form.get("confirmPassword").unwrap_or(""),
    );
    if password != confirm {
        return page(
            &headers,
            "reset",
            FormState::default().with_error(CoreError::field("confirmPassword", "Passwords do not match")),
            token,
            StatusCode::BAD_REQUEST,
        );
    }
    if let Err(d) = limit(&state, ratelimit::RESET, &ip_of(&state, &headers, &peer)).await {
        return limited_page(&headers, "reset", d);
    }
    match flows::reset_password(&state.db, &state.mailer, &token, password).await {
        Ok(()) => Redirect::to("/auth/signin?notice=reset").into_response(),
        Err(e @ CoreError::Validation { .. }) if e.to_string().starts_with("This ") => page(
            &headers,
            "reset-invalid",
            FormState::default().with_error(e),
            String::new(),
            StatusCode::BAD_REQUEST,
        ),
        Err(e) => page(
            &headers,
            "reset",
            FormState::default().with_error(e),
            token,
            StatusCode::BAD_REQUEST,
        ),
    }
}
