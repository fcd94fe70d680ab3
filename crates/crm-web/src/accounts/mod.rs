//! Sign-in, session and sign-out: the JSON endpoints of contract.md and the pages.

use askama::Template;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use crm_core::CoreError;
use crm_core::accounts::{history, sessions, users};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::http::body::{FormPairs, JsonObject};
use crate::http::error::{ApiError, ApiResult, envelope};

pub mod flows;
pub mod settings;
pub mod sso;
pub mod twofactor;
pub mod views;
use crate::http::ratelimit::{self, Decision};
use crate::http::session::{COOKIE, MaybeSession};
use crate::web::{html, theme_of};

pub fn session_cookie(state: &AppState, token: &str, max_age: i64) -> HeaderValue {
    let secure = if state.config.https() { "; Secure" } else { "" };
    let v = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub(crate) fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.to_string())
}

/// Why a sign-in did not open a session.
pub enum SignInFail {
    Limited(Decision),
    Refused(CoreError),
}

impl From<CoreError> for SignInFail {
    fn from(e: CoreError) -> Self {
        SignInFail::Refused(e)
    }
}

impl SignInFail {
    fn into_api(self) -> Response {
        match self {
            SignInFail::Limited(d) => d.too_many("Too many sign-in attempts. Please try again later."),
            SignInFail::Refused(e) => {
                let unverified = matches!(&e, CoreError::Forbidden(m) if m.starts_with("Please verify"));
                let mut res = ApiError(e).into_response();
                if unverified {
                    let body = json!({ "data": null, "error": UNVERIFIED, "requiresEmailVerification": true });
                    res = (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
                }
                res
            }
        }
    }
}

const UNVERIFIED: &str = "Please verify your email address before signing in. Check your inbox for verification link.";

/// Check the credentials under the rate limits, record the attempt, end any previous
/// session of this browser and open a new one. Only failed attempts count against the
/// limits (per client IP, and per account whatever the IP).
pub async fn sign_in(
    state: &AppState,
    old: &Option<crate::http::session::SessionInfo>,
    email: &str,
    password: &str,
    headers: &HeaderMap,
    ip: &str,
) -> Result<(crm_core::accounts::User, String, bool), SignInFail> {
    if email.trim().is_empty() || password.is_empty() {
        return Err(CoreError::bad_request("Email and password are required").into());
    }
    let account = crm_core::text::email_key(email);
    for (rule, key) in [
        (ratelimit::SIGNIN_IP, ip),
        (ratelimit::SIGNIN_ACCOUNT, account.as_str()),
    ] {
        let d = state.limiter.peek(rule, key).await;
        if !d.allowed {
            return Err(SignInFail::Limited(d));
        }
    }
    let ua = user_agent(headers);
    let result = users::check_credentials(&state.db, email, password).await;
    // CRM_OIDC_ONLY: the password is for admins only
    let result = match result {
        Ok(u) if password_off_for(state, &u) => Err(CoreError::Forbidden(PASSWORD_OFF.into())),
        r => r,
    };
    if let Ok(u) = &result {
        alert_if_suspicious(state, u, ip).await?;
    }
    let (user_id, failure) = match &result {
        Ok(u) => (Some(u.id), None),
        Err(CoreError::Forbidden(m)) if m == PASSWORD_OFF => (
            users::find_by_email(&state.db, email).await?.map(|u| u.id),
            Some("Password sign-in turned off"),
        ),
        Err(CoreError::Forbidden(m)) => {
            let known = users::find_by_email(&state.db, email).await?.map(|u| u.id);
            (
                known,
                Some(if m.starts_with("Please verify") {
                    "Email not verified"
                } else {
                    "Account inactive"
                }),
            )
        }
        Err(_) => (
            users::find_by_email(&state.db, email).await?.map(|u| u.id),
            Some("Invalid email or password"),
        ),
    };
    let attempt = history::Attempt {
        user_id,
        email,
        ip,
        user_agent: ua.as_deref(),
        failure,
        method: "password",
    };
    history::record(&state.db, attempt).await?;
    let user = match result {
        Ok(u) => u,
        Err(e @ CoreError::Unauthenticated(_)) => {
            state.limiter.hit(ratelimit::SIGNIN_IP, ip).await;
            state.limiter.hit(ratelimit::SIGNIN_ACCOUNT, &account).await;
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(old) = old {
        sessions::delete_by_token(&state.db, &old.token).await?;
    }
    let pending = user.two_factor_enabled;
    let s = sessions::create_with(&state.db, user.id, Some(ip.to_string()), ua, pending).await?;
    Ok((user, s.token, pending))
}

const PASSWORD_OFF: &str = "Password sign-in is turned off for your account. Use single sign-on.";

/// With `CRM_OIDC_ONLY`, only admins may sign in with a password.
fn password_off_for(state: &AppState, u: &crm_core::accounts::User) -> bool {
    state.config.oidc.as_ref().is_some_and(|o| o.settings.only) && u.role != "admin"
}

/// Before a successful sign-in is recorded: mail the owner when it looks suspicious.
pub(crate) async fn alert_if_suspicious(
    state: &AppState,
    u: &crm_core::accounts::User,
    ip: &str,
) -> Result<(), CoreError> {
    if let Some(reason) = history::suspicious(&state.db, u.id, ip).await? {
        let when = crm_core::clock::fmt(&crm_core::clock::now());
        let m = &state.mailer;
        m.send(crm_core::mail::templates::security_alert(
            &u.email,
            &u.name,
            reason,
            ip,
            &when,
            &m.link("/settings#sessions"),
        ))
        .await;
    }
    Ok(())
}

/// The client IP of a request (socket peer unless it is a trusted proxy).
pub fn ip_of(state: &AppState, headers: &HeaderMap, peer: &ConnectInfo<SocketAddr>) -> String {
    ratelimit::client_ip(headers, Some(peer.0.ip()), &state.config.trusted_proxies)
}

/// `POST /api/auth/signin {"email","password"}`.
pub async fn api_signin(
    State(state): State<AppState>,
    MaybeSession(old): MaybeSession,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: JsonObject,
) -> Response {
    let email = body.0.get("email").and_then(|v| v.as_str()).unwrap_or("").to_string();
    let password = body
        .0
        .get("password")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    let ip = ip_of(&state, &headers, &peer);
    let (user, token, pending) = match sign_in(&state, &old, &email, &password, &headers, &ip).await {
        Ok(x) => x,
        Err(f) => return f.into_api(),
    };
    let data = views::SignedIn {
        user: views::SessionUser::of(user.id, &user.email, &user.name, user.role),
        two_factor_required: pending,
    };
    let mut res = envelope(StatusCode::OK, data);
    res.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&state, &token, sessions::LIFETIME_DAYS * 86400),
    );
    res
}

/// `GET /api/auth/session`.
pub async fn api_session(MaybeSession(s): MaybeSession) -> ApiResult<Response> {
    let s = s.ok_or_else(|| ApiError(CoreError::Unauthenticated("Not authenticated".into())))?;
    if s.pending_2fa {
        return Err(ApiError(CoreError::Unauthenticated(
            "Two-factor verification required".into(),
        )));
    }
    let a = &s.actor;
    Ok(envelope(
        StatusCode::OK,
        views::CurrentSession {
            user: views::SessionUser::of(a.id, &a.email, &a.name, a.role),
            csrf_token: s.csrf_token.clone(),
        },
    ))
}

/// `POST /api/auth/signout`.
pub async fn api_signout(State(state): State<AppState>, MaybeSession(s): MaybeSession) -> ApiResult<Response> {
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
    notice: Option<&'static str>,
    /// The password was right but the address is not verified: offer a new link.
    unverified: bool,
    allow_signup: bool,
    /// The single sign-on button's text, when configured.
    sso_label: Option<String>,
    /// Offer "Sign in with GitHub".
    github: bool,
    /// Show the password form (hidden behind a link with `CRM_OIDC_ONLY`).
    password_form: bool,
}

impl SignInPage {
    /// `next`, URL-encoded for the SSO and password links.
    fn next_q(&self) -> String {
        crate::http::session::urlencode(&self.next)
    }
}

/// The SSO button and whether the password form shows (`?password=1` shows it with `CRM_OIDC_ONLY`).
fn sso_parts(state: &AppState, asked_password: bool) -> (Option<String>, bool) {
    match &state.config.oidc {
        Some(o) => (Some(o.settings.label.clone()), !o.settings.only || asked_password),
        None => (None, true),
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    notice: Option<String>,
    /// A failed single sign-on's code.
    error: Option<String>,
    /// `1`: the admins' password form with `CRM_OIDC_ONLY`.
    password: Option<String>,
}

/// Fixed banners for `?notice=` (the URL cannot inject words).
fn signin_notice(code: Option<&str>) -> Option<&'static str> {
    match code? {
        "check-email" => Some("Account created. Check your email for the verification link, then sign in."),
        "verified" => Some("Your email address is verified. You can sign in now."),
        "reset" => Some("Your password was changed. Sign in with the new one."),
        "resent" => Some("If the account needs it, a new verification link is on its way."),
        "setup-done" => Some("This CRM is already set up. Sign in, or ask an administrator for an invitation."),
        _ => None,
    }
}

/// Only local paths are followed after sign-in (no open redirect).
pub(crate) fn safe_next(next: Option<&str>) -> String {
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
    let (sso_label, password_form) = sso_parts(&state, q.password.as_deref() == Some("1"));
    html(&SignInPage {
        theme: theme_of(&headers).unwrap_or(""),
        email: String::new(),
        next,
        error: q.error.as_deref().and_then(sso::message).map(str::to_string),
        notice: signin_notice(q.notice.as_deref()),
        unverified: false,
        allow_signup: state.config.allow_signup,
        sso_label,
        password_form,
        github: state.config.github.is_some(),
    })
}

pub async fn signin_submit(
    State(state): State<AppState>,
    MaybeSession(old): MaybeSession,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: FormPairs,
) -> Response {
    let ip = ip_of(&state, &headers, &peer);
    let email = form.get("email").unwrap_or("").to_string();
    let password = form.get("password").unwrap_or("").to_string();
    let next = safe_next(form.get("next"));
    match sign_in(&state, &old, &email, &password, &headers, &ip).await {
        Ok((_, token, pending)) => {
            let target = if pending {
                format!("/auth/verify-2fa?next={}", crate::http::session::urlencode(&next))
            } else {
                next
            };
            let mut res = Redirect::to(&target).into_response();
            res.headers_mut().insert(
                header::SET_COOKIE,
                session_cookie(&state, &token, sessions::LIFETIME_DAYS * 86400),
            );
            res
        }
        Err(fail) => {
            let (status, error, unverified) = match fail {
                SignInFail::Limited(d) => (
                    StatusCode::TOO_MANY_REQUESTS,
                    format!(
                        "Too many sign-in attempts. Try again in {} minutes.",
                        d.reset.as_secs().div_ceil(60)
                    ),
                    false,
                ),
                SignInFail::Refused(e) => {
                    let unverified = matches!(&e, CoreError::Forbidden(m) if m.starts_with("Please verify"));
                    (
                        crate::http::error::status_of(&e),
                        crate::http::error::public_message(&e),
                        unverified,
                    )
                }
            };
            let (sso_label, _) = sso_parts(&state, true);
            let page = SignInPage {
                theme: theme_of(&headers).unwrap_or(""),
                email,
                next,
                error: Some(error),
                notice: None,
                unverified,
                allow_signup: state.config.allow_signup,
                sso_label,
                password_form: true,
                github: state.config.github.is_some(),
            };
            (status, html(&page)).into_response()
        }
    }
}

pub async fn signout_submit(State(state): State<AppState>, MaybeSession(s): MaybeSession) -> Response {
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

/// This domain's JSON API routes (mounted under `/api/v1` and its alias `/api`).
pub fn api_routes() -> crate::http::api::Api {
    use crate::http::api::{Api, Doc, field, required};
    use crm_core::accounts::api_tokens::TokenView;
    use views::{BackupCodes, CurrentSession, Message, Profile, SessionRow, SignedIn, SignedUp, Success};
    const T: &str = "Authentication";
    const A: &str = "Account";
    let code = [required(
        "code",
        "string",
        "A code from the authenticator app (or a backup code).",
    )];
    Api::new()
        .post(
            "/auth/signin",
            Doc::new(T, "Sign in (sets the session cookie)")
                .public()
                .body(&[
                    required("email", "string", "E-mail."),
                    required("password", "string", "Password."),
                ])
                .data::<SignedIn>(),
            api_signin,
        )
        .get(
            "/auth/session",
            Doc::new(T, "The signed-in user and the CSRF token").data::<CurrentSession>(),
            api_session,
        )
        .post("/auth/signout", Doc::new(T, "Sign out").public(), api_signout)
        .post(
            "/auth/signup",
            Doc::new(T, "Create an account (an e-mail confirms it)")
                .public()
                .status(201)
                .body(&[
                    required("name", "string", "Name."),
                    required("email", "string", "E-mail."),
                    required("password", "string", "At least 10 characters."),
                ])
                .data::<SignedUp>(),
            flows::api_signup,
        )
        .put(
            "/auth/profile",
            Doc::new(A, "Change one's name, bio or avatar")
                .body(&[
                    field("name", "string", "Name."),
                    field("bio", "string", "About oneself."),
                    field("avatar", "string", "An image address."),
                ])
                .data::<Profile>(),
            settings::api_profile,
        )
        .post(
            "/auth/2fa/enable",
            Doc::new(A, "Start setting up two-factor sign-in").data::<crm_core::accounts::twofactor::Enrollment>(),
            twofactor::api_enable,
        )
        .post(
            "/auth/2fa/verify-setup",
            Doc::new(A, "Finish the two-factor setup with a code")
                .body(&code)
                .data::<BackupCodes>(),
            twofactor::api_verify_setup,
        )
        .post(
            "/auth/2fa/verify",
            Doc::new(T, "Finish a sign-in with a two-factor or backup code")
                .public()
                .body(&code)
                .data::<Success>(),
            twofactor::api_verify,
        )
        .post(
            "/auth/2fa/disable",
            Doc::new(A, "Turn two-factor sign-in off")
                .body(&[required("password", "string", "One's password."), code[0]])
                .data::<Success>(),
            twofactor::api_disable,
        )
        .post(
            "/auth/2fa/regenerate-codes",
            Doc::new(A, "New backup codes").body(&code).data::<BackupCodes>(),
            twofactor::api_regenerate,
        )
        .post(
            "/auth/password",
            Doc::new(A, "Change one's password")
                .body(&[
                    required("currentPassword", "string", "The password now."),
                    required("newPassword", "string", "At least 10 characters."),
                ])
                .data::<Message>(),
            settings::api_password,
        )
        .get(
            "/auth/sessions",
            Doc::new(A, "One's signed-in sessions").data::<Vec<SessionRow>>(),
            settings::api_sessions,
        )
        .delete(
            "/auth/sessions/{id}",
            Doc::new(A, "End a session"),
            settings::api_end_session,
        )
        .get(
            "/auth/tokens",
            Doc::new(A, "One's API tokens").data::<Vec<TokenView>>(),
            settings::api_tokens_list,
        )
        .post(
            "/auth/tokens",
            Doc::new(A, "Create an API token (its secret is shown once)")
                .status(201)
                .body(&[
                    required("name", "string", "What it is for."),
                    field("expiresInDays", "integer", "Days until it expires."),
                ])
                .data::<TokenView>(),
            settings::api_tokens_create,
        )
        .delete(
            "/auth/tokens/{id}",
            Doc::new(A, "Revoke an API token"),
            settings::api_tokens_delete,
        )
        .get(
            "/auth/verify-email",
            Doc::new(T, "Confirm an e-mail address with the mailed token")
                .public()
                .query(&[crate::http::api::param("token", "string", "The token from the mail.")])
                .data::<Message>(),
            flows::api_verify,
        )
        .post(
            "/auth/resend-verification",
            Doc::new(T, "Send the confirmation mail again")
                .public()
                .body(&[required("email", "string", "E-mail.")])
                .data::<Message>(),
            flows::api_resend,
        )
        .post(
            "/auth/forgot-password",
            Doc::new(T, "Mail a password reset link")
                .public()
                .body(&[required("email", "string", "E-mail.")])
                .data::<Message>(),
            flows::api_forgot,
        )
        .post(
            "/auth/reset-password",
            Doc::new(T, "Set a new password with the mailed token")
                .public()
                .body(&[
                    required("token", "string", "The token from the mail."),
                    required("password", "string", "At least 10 characters."),
                ])
                .data::<Message>(),
            flows::api_reset,
        )
}

/// This domain's pages.
pub fn page_routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/auth/signin", get(signin_page).post(signin_submit))
        .route("/auth/signout", post(signout_submit))
        .route("/auth/oidc/start", get(sso::start))
        .route("/auth/oidc/callback", get(sso::callback))
        .route("/auth/github/start", get(sso::github_start))
        .route("/auth/github/callback", get(sso::github_callback))
        .route("/auth/signup", get(flows::signup_page).post(flows::signup_submit))
        .route("/auth/verify-email", get(flows::verify_page))
        .route("/auth/resend-verification", post(flows::resend_submit))
        .route(
            "/auth/forgot-password",
            get(flows::forgot_page).post(flows::forgot_submit),
        )
        .route("/auth/reset-password", get(flows::reset_page).post(flows::reset_submit))
        .route("/theme", post(theme_submit))
        .route("/settings", get(settings::page))
        .route("/settings/2fa/enable", post(twofactor::enable_submit))
        .route("/settings/2fa/verify", post(twofactor::verify_setup_submit))
        .route("/settings/2fa/regenerate", post(twofactor::regenerate_submit))
        .route("/settings/2fa/disable", post(twofactor::disable_submit))
        .route(
            "/auth/verify-2fa",
            get(twofactor::verify_page).post(twofactor::verify_submit),
        )
        .route("/settings/profile", post(settings::profile_submit))
        .route("/settings/password", post(settings::password_submit))
        .route("/settings/sessions/end-others", post(settings::end_others_submit))
        .route("/settings/sessions/{id}/end", post(settings::end_session_submit))
        .route("/settings/tokens", post(settings::token_submit))
        .route("/settings/tokens/{id}/revoke", post(settings::token_revoke_submit))
}
