//! Two-factor authentication over HTTP: setup, disable and backup codes (JSON and the
//! settings page), and the second sign-in step that turns a half-open session into a
//! full one (a new session token: the session is rotated).

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use crm_core::CoreError;
use crm_core::accounts::{sessions, twofactor};

use super::{ip_of, session_cookie};
use crate::AppState;
use crate::http::body::{FormPairs, JsonObject};
use crate::http::error::{ApiError, ApiResult, PageError, PageResult, envelope};
use crate::http::ratelimit::{self, TOO_MANY};
use crate::http::session::{ApiActor, MaybeSession, SessionInfo};
use crate::web::{FormState, html, theme_of};

fn text(body: &JsonObject, key: &str) -> String {
    body.0.get(key).and_then(|v| v.as_str()).unwrap_or("").to_string()
}

async fn setup_limit(state: &AppState, actor: &crm_core::Actor) -> Result<(), ApiError> {
    let d = state.limiter.hit(ratelimit::TWO_FA_SETUP, &actor.id.to_string()).await;
    if d.allowed {
        Ok(())
    } else {
        Err(ApiError(CoreError::TooMany(TOO_MANY.into())))
    }
}

/// `POST /api/auth/2fa/enable` → `{secret, otpauthUrl, qrCodeSvg}`; the secret stays on the server.
pub async fn api_enable(State(state): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Response> {
    setup_limit(&state, &actor).await?;
    Ok(envelope(
        StatusCode::OK,
        twofactor::enable(&state.db, &state.keys, &actor).await?,
    ))
}

/// `POST /api/auth/2fa/verify-setup {"code"}` → `{backupCodes: [10]}`.
pub async fn api_verify_setup(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: JsonObject,
) -> ApiResult<Response> {
    setup_limit(&state, &actor).await?;
    let secret = text(&body, "secret");
    let codes = twofactor::verify_setup(
        &state.db,
        &state.keys,
        &state.mailer,
        &actor,
        &text(&body, "code"),
        Some(&secret),
    )
    .await?;
    Ok(envelope(
        StatusCode::OK,
        super::views::BackupCodes { backup_codes: codes },
    ))
}

/// `POST /api/auth/2fa/disable {"password","code"}`.
pub async fn api_disable(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: JsonObject,
) -> ApiResult<Response> {
    setup_limit(&state, &actor).await?;
    twofactor::disable(
        &state.db,
        &state.keys,
        &state.mailer,
        &actor,
        &text(&body, "password"),
        &text(&body, "code"),
    )
    .await?;
    Ok(envelope(
        StatusCode::OK,
        super::views::Success {
            success: true,
            method: None,
        },
    ))
}

/// `POST /api/auth/2fa/regenerate-codes {"code"}` → `{backupCodes: [10]}`.
pub async fn api_regenerate(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: JsonObject,
) -> ApiResult<Response> {
    setup_limit(&state, &actor).await?;
    let codes = twofactor::regenerate(&state.db, &state.keys, &state.mailer, &actor, &text(&body, "code")).await?;
    Ok(envelope(
        StatusCode::OK,
        super::views::BackupCodes { backup_codes: codes },
    ))
}

/// Why the second step did not complete.
enum StepFail {
    NotPending,
    Limited(ratelimit::Decision),
    Wrong(CoreError),
}

/// Check the code of a half-open session under the limits; on success replace it with a
/// full session and return the new token.
async fn second_step(
    state: &AppState,
    s: Option<SessionInfo>,
    code: &str,
    ip: &str,
    headers: &HeaderMap,
) -> Result<(twofactor::Method, String), StepFail> {
    let Some(s) = s.filter(|s| s.pending_2fa) else {
        return Err(StepFail::NotPending);
    };
    let user_key = s.actor.id.to_string();
    for (rule, key) in [
        (ratelimit::TWO_FA_IP, ip),
        (ratelimit::TWO_FA_ACCOUNT, user_key.as_str()),
    ] {
        let d = state.limiter.peek(rule, key).await;
        if !d.allowed {
            return Err(StepFail::Limited(d));
        }
    }
    match twofactor::check_code(&state.db, &state.keys, s.actor.id, code).await {
        Ok(method) => {
            let ua = headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let rotate = async {
                sessions::delete_by_token(&state.db, &s.token).await?;
                sessions::create(&state.db, s.actor.id, Some(ip.to_string()), ua).await
            };
            let fresh = rotate.await.map_err(StepFail::Wrong)?;
            Ok((method, fresh.token))
        }
        Err(e) => {
            state.limiter.hit(ratelimit::TWO_FA_IP, ip).await;
            state.limiter.hit(ratelimit::TWO_FA_ACCOUNT, &user_key).await;
            Err(StepFail::Wrong(e))
        }
    }
}

/// `POST /api/auth/2fa/verify {"code"}` on a half-open session (a TOTP or a backup code).
pub async fn api_verify(
    State(state): State<AppState>,
    MaybeSession(s): MaybeSession,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: JsonObject,
) -> Response {
    let ip = ip_of(&state, &headers, &peer);
    match second_step(&state, s, &text(&body, "code"), &ip, &headers).await {
        Ok((method, token)) => {
            let mut res = envelope(
                StatusCode::OK,
                super::views::Success {
                    success: true,
                    method: Some(method),
                },
            );
            res.headers_mut().insert(
                header::SET_COOKIE,
                session_cookie(&state, &token, sessions::LIFETIME_DAYS * 86400),
            );
            res
        }
        Err(StepFail::NotPending) => {
            ApiError(CoreError::Unauthenticated("Sign in with your password first".into())).into_response()
        }
        Err(StepFail::Limited(d)) => d.too_many(TOO_MANY),
        Err(StepFail::Wrong(e)) => ApiError(e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "accounts/verify_2fa.html")]
struct VerifyPage {
    theme: &'static str,
    next: String,
    form: FormState,
}

fn safe_next(n: Option<&str>) -> String {
    n.filter(|n| n.starts_with('/') && !n.starts_with("//"))
        .unwrap_or("/")
        .to_string()
}

pub async fn verify_page(
    MaybeSession(s): MaybeSession,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<Vec<(String, String)>>,
) -> Response {
    if !s.as_ref().is_some_and(|s| s.pending_2fa) {
        return Redirect::to("/auth/signin").into_response();
    }
    let next = safe_next(q.iter().find(|(k, _)| k == "next").map(|(_, v)| v.as_str()));
    html(&VerifyPage {
        theme: theme_of(&headers).unwrap_or(""),
        next,
        form: FormState::default(),
    })
}

pub async fn verify_submit(
    State(state): State<AppState>,
    MaybeSession(s): MaybeSession,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: FormPairs,
) -> Response {
    let ip = ip_of(&state, &headers, &peer);
    let next = safe_next(form.get("next"));
    let theme = theme_of(&headers).unwrap_or("");
    match second_step(&state, s, form.get("code").unwrap_or(""), &ip, &headers).await {
        Ok((_, token)) => {
            let mut res = Redirect::to(&next).into_response();
            res.headers_mut().insert(
                header::SET_COOKIE,
                session_cookie(&state, &token, sessions::LIFETIME_DAYS * 86400),
            );
            res
        }
        Err(StepFail::NotPending) => Redirect::to("/auth/signin").into_response(),
        Err(StepFail::Limited(d)) => {
            let message = format!(
                "Too many wrong codes. Try again in {} minutes.",
                d.reset.as_secs().div_ceil(60)
            );
            let form = FormState {
                message: Some(message),
                ..Default::default()
            };
            (StatusCode::TOO_MANY_REQUESTS, html(&VerifyPage { theme, next, form })).into_response()
        }
        Err(StepFail::Wrong(e)) => (
            StatusCode::BAD_REQUEST,
            html(&VerifyPage {
                theme,
                next,
                form: FormState::default().with_error(e),
            }),
        )
            .into_response(),
    }
}

// ---- settings page actions ---------------------------------------------------------

use super::settings::{Forms, render};
use crate::web::PageCtx;

async fn page_limit(state: &AppState, ctx: &PageCtx) -> Result<(), PageError> {
    setup_limit(state, &ctx.session.actor).await.map_err(|e| PageError(e.0))
}

pub async fn enable_submit(State(state): State<AppState>, ctx: PageCtx) -> PageResult {
    page_limit(&state, &ctx).await?;
    let enrollment = twofactor::enable(&state.db, &state.keys, &ctx.session.actor).await?;
    render(
        &state,
        &ctx,
        Forms {
            enrollment: Some(enrollment),
            ..Default::default()
        },
        StatusCode::OK,
    )
    .await
}

/// The settings page after a 2FA step that gives backup codes: the codes, shown once, or
/// `refused` with the error on the two-factor form.
async fn codes_or_error(
    state: &AppState,
    ctx: &PageCtx,
    done: crm_core::CoreResult<Vec<String>>,
    refused: Forms,
) -> PageResult {
    match done {
        Ok(codes) => {
            let f = Forms {
                backup_codes: Some(codes),
                ..Default::default()
            };
            render(state, ctx, f, StatusCode::OK).await
        }
        Err(e) => tfa_error(state, ctx, e, refused).await,
    }
}

/// The settings page with `e` on the two-factor form.
async fn tfa_error(state: &AppState, ctx: &PageCtx, e: crm_core::CoreError, mut f: Forms) -> PageResult {
    f.tfa = FormState::default().with_error(e);
    render(state, ctx, f, StatusCode::BAD_REQUEST).await
}

pub async fn verify_setup_submit(State(state): State<AppState>, ctx: PageCtx, form: FormPairs) -> PageResult {
    page_limit(&state, &ctx).await?;
    let (db, actor) = (&state.db, &ctx.session.actor);
    let code = form.get("code").unwrap_or("");
    let done = twofactor::verify_setup(db, &state.keys, &state.mailer, actor, code, None).await;
    // a wrong code keeps the enrollment (QR code and secret) on the page
    let enrollment = match done {
        Err(_) => twofactor::pending(db, &state.keys, actor).await?,
        Ok(_) => None,
    };
    let refused = Forms {
        enrollment,
        ..Default::default()
    };
    codes_or_error(&state, &ctx, done, refused).await
}

pub async fn regenerate_submit(State(state): State<AppState>, ctx: PageCtx, form: FormPairs) -> PageResult {
    page_limit(&state, &ctx).await?;
    let code = form.get("code").unwrap_or("");
    let done = twofactor::regenerate(&state.db, &state.keys, &state.mailer, &ctx.session.actor, code).await;
    codes_or_error(&state, &ctx, done, Forms::default()).await
}

pub async fn disable_submit(State(state): State<AppState>, ctx: PageCtx, form: FormPairs) -> PageResult {
    page_limit(&state, &ctx).await?;
    let (password, code) = (form.get("password").unwrap_or(""), form.get("code").unwrap_or(""));
    let actor = &ctx.session.actor;
    match twofactor::disable(&state.db, &state.keys, &state.mailer, actor, password, code).await {
        Ok(()) => Ok(Redirect::to("/settings?done=2fa-off").into_response()),
        Err(e) => tfa_error(&state, &ctx, e, Forms::default()).await,
    }
}
