//! Sign-in with OpenID Connect: `GET /auth/oidc/start` sends the browser to the provider
//! (the state also goes into a cookie that binds the flow to this browser), `GET
//! /auth/oidc/callback` finishes it (`crm_core::accounts::sso`) and opens a session exactly
//! as a password sign-in does (half-open when the user has 2FA). Every failure is logged
//! and ends on the sign-in page with `?error=<code>` (`message`).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use crm_core::accounts::sso::{Identity, SsoError};
use crm_core::accounts::{User, history, sessions};
use serde::Deserialize;

use super::{ip_of, safe_next, session_cookie, user_agent};
use crate::AppState;
use crate::http::session::{MaybeSession, cookie, urlencode};

/// The cookie carrying the state of this browser's pending sign-in.
pub const STATE_COOKIE: &str = "crm_oidc";

/// The sentence shown for `/auth/signin?error=<code>` (fixed: the URL cannot inject words).
pub fn message(code: &str) -> Option<&'static str> {
    Some(match code {
        "sso-state" => "The single sign-on could not be matched to this browser. Please start again.",
        "sso-expired" => "The single sign-on took too long or was already used. Please start again.",
        "sso-provider" => "The identity provider refused the sign-in.",
        "sso-unavailable" => "The identity provider cannot be reached right now. Please try again later.",
        "sso-token" => "The identity provider's answer could not be verified.",
        "sso-audience" => "The identity provider's token was not issued for this CRM.",
        "sso-token-expired" => "The identity provider's token has expired. Please sign in again.",
        "sso-nonce" => "The identity provider's token does not belong to this sign-in. Please start again.",
        "sso-unverified" => "Your email address is not verified by the identity provider.",
        "sso-domain" => "There is no account for this email address. Ask an administrator for an invitation.",
        "sso-inactive" => "Account is inactive. Please contact your administrator.",
        "sso-internal" => "Single sign-on failed. Please try again.",
        "sso-off" => "Single sign-on is not configured.",
        "sso-limited" => "Too many sign-in attempts. Please try again later.",
        "github-off" => "Sign-in with GitHub is not configured.",
        _ => return None,
    })
}

fn state_cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.config.https() { "; Secure" } else { "" };
    let v = format!("{STATE_COOKIE}={value}; Path=/auth/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Back to the sign-in page with the failure's message; the state cookie is cleared.
fn fail(state: &AppState, e: &SsoError) -> Response {
    tracing::warn!("single sign-on failed ({}): {e}", e.code());
    let mut res = Redirect::to(&format!("/auth/signin?error={}", e.code())).into_response();
    res.headers_mut().append(header::SET_COOKIE, state_cookie(state, "", 0));
    res
}

#[derive(Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

/// Over `SSO_START` for this client IP?
async fn over_limit(state: &AppState, headers: &HeaderMap, peer: &ConnectInfo<SocketAddr>) -> Option<Response> {
    let ip = ip_of(state, headers, peer);
    let d = state.limiter.hit(crate::http::ratelimit::SSO_START, &ip).await;
    if d.allowed {
        return None;
    }
    tracing::warn!("single sign-on starts from {ip} over the limit");
    Some(Redirect::to("/auth/signin?error=sso-limited").into_response())
}

/// `GET /auth/oidc/start?next=` → 302 to the provider.
pub async fn start(
    State(state): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<StartQuery>,
) -> Response {
    let Some(oidc) = state.config.oidc.clone() else {
        return Redirect::to("/auth/signin?error=sso-off").into_response();
    };
    if let Some(res) = over_limit(&state, &headers, &peer).await {
        return res;
    }
    let next = safe_next(q.next.as_deref());
    let started = oidc.start(&state.db, &next).await;
    redirect_out(&state, started)
}

/// `GET /auth/github/start?next=` → 302 to GitHub.
pub async fn github_start(
    State(state): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<StartQuery>,
) -> Response {
    let Some(gh) = state.config.github.clone() else {
        return Redirect::to("/auth/signin?error=github-off").into_response();
    };
    if let Some(res) = over_limit(&state, &headers, &peer).await {
        return res;
    }
    let next = safe_next(q.next.as_deref());
    let started = gh.start(&state.db, &next).await;
    redirect_out(&state, started)
}

fn redirect_out(state: &AppState, started: Result<crm_core::accounts::sso::Started, SsoError>) -> Response {
    match started {
        Ok(s) => {
            let mut res = StatusCode::FOUND.into_response();
            if let Ok(v) = HeaderValue::from_str(&s.url) {
                res.headers_mut().insert(header::LOCATION, v);
            }
            res.headers_mut().append(
                header::SET_COOKIE,
                state_cookie(state, &s.state, crm_core::accounts::sso::STATE_MINUTES * 60),
            );
            res
        }
        Err(e) => fail(state, &e),
    }
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The provider sent the user back with an error instead of a code.
fn provider_refusal(state: &AppState, q: &CallbackQuery) -> Option<Response> {
    let err = q.error.as_deref()?;
    let why = format!("{err}: {}", q.error_description.as_deref().unwrap_or(""));
    Some(fail(state, &SsoError::Provider(why)))
}

/// `GET /auth/oidc/callback?code=&state=`.
pub async fn callback(
    State(state): State<AppState>,
    MaybeSession(old): MaybeSession,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let provider = state.config.oidc.clone();
    finish(&state, provider.as_deref(), "sso-off", "oidc", &old, &peer, &headers, q).await
}

/// `GET /auth/github/callback?code=&state=`.
pub async fn github_callback(
    State(state): State<AppState>,
    MaybeSession(old): MaybeSession,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let provider = state.config.github.clone();
    finish(
        &state,
        provider.as_deref(),
        "github-off",
        "github",
        &old,
        &peer,
        &headers,
        q,
    )
    .await
}

/// Either callback: the provider's refusal, or its code turned into an identity and an
/// account (`off`: the sign-in page's error when the provider is not configured).
#[allow(clippy::too_many_arguments)]
async fn finish<P: crm_core::accounts::sso::Provider>(
    state: &AppState,
    provider: Option<&P>,
    off: &str,
    method: &str,
    old: &Option<crate::http::session::SessionInfo>,
    peer: &ConnectInfo<SocketAddr>,
    headers: &HeaderMap,
    q: CallbackQuery,
) -> Response {
    let Some(provider) = provider else {
        return Redirect::to(&format!("/auth/signin?error={off}")).into_response();
    };
    if let Some(refused) = provider_refusal(state, &q) {
        return refused;
    }
    let bound = cookie(headers, STATE_COOKIE);
    let code = q.code.unwrap_or_default();
    let result: Result<(Identity, User), SsoError> = async {
        let id = provider
            .finish(&state.db, bound.as_deref(), q.state.as_deref().unwrap_or(""), &code)
            .await?;
        let user = provider.user_for(&state.db, &id).await?;
        Ok((id, user))
    }
    .await;
    complete(state, old, peer, headers, result, method).await
}

/// The end of either flow: the refusal (recorded when it names an account) or the session.
async fn complete(
    state: &AppState,
    old: &Option<crate::http::session::SessionInfo>,
    peer: &ConnectInfo<SocketAddr>,
    headers: &HeaderMap,
    result: Result<(Identity, User), SsoError>,
    method: &str,
) -> Response {
    let ip = ip_of(state, headers, peer);
    let ua = user_agent(headers);
    let (id, user) = match result {
        Ok(x) => x,
        Err(e) => {
            if let Some((email, reason)) = e.history_reason() {
                let user_id = match &e {
                    SsoError::Inactive(_, id) => Some(*id),
                    _ => None,
                };
                let attempt = history::Attempt {
                    user_id,
                    email,
                    ip: &ip,
                    user_agent: ua.as_deref(),
                    failure: Some(reason),
                    method,
                };
                if let Err(e) = history::record(&state.db, attempt).await {
                    tracing::warn!("sign-in history: {e}");
                }
            }
            return fail(state, &e);
        }
    };
    match open_session(state, old, &user, &ip, ua, method).await {
        Ok((token, pending)) => {
            let next = safe_next(Some(&id.next));
            let target = if pending {
                format!("/auth/verify-2fa?next={}", urlencode(&next))
            } else {
                next
            };
            let mut res = Redirect::to(&target).into_response();
            res.headers_mut().append(
                header::SET_COOKIE,
                session_cookie(state, &token, sessions::LIFETIME_DAYS * 86400),
            );
            res.headers_mut().append(header::SET_COOKIE, state_cookie(state, "", 0));
            res
        }
        Err(e) => fail(state, &SsoError::Internal(e)),
    }
}

/// After a verified identity: the suspicious-sign-in alert, the history entry, the end of
/// this browser's previous session and a new one (half-open with 2FA) — what a password
/// sign-in does after the password.
async fn open_session(
    state: &AppState,
    old: &Option<crate::http::session::SessionInfo>,
    user: &User,
    ip: &str,
    ua: Option<String>,
    method: &str,
) -> Result<(String, bool), crm_core::CoreError> {
    super::alert_if_suspicious(state, user, ip).await?;
    history::record(
        &state.db,
        history::Attempt {
            user_id: Some(user.id),
            email: &user.email,
            ip,
            user_agent: ua.as_deref(),
            failure: None,
            method,
        },
    )
    .await?;
    if let Some(old) = old {
        sessions::delete_by_token(&state.db, &old.token).await?;
    }
    let pending = user.two_factor_enabled;
    let s = sessions::create_with(&state.db, user.id, Some(ip.to_string()), ua, pending).await?;
    Ok((s.token, pending))
}
