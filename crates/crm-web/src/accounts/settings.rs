//! The signed-in user's own account over HTTP: profile, password, sessions and API tokens,
//! as JSON endpoints and as the `/settings` page.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use crm_core::CoreError;
use crm_core::accounts::api_tokens::{self, TokenView};
use crm_core::accounts::{profile, twofactor, users};
use crm_core::input::Mode;

use crate::AppState;
use crate::http::body::{FormPairs, JsonObject};
use crate::http::error::{ApiResult, PageResult, envelope};
use crate::http::resource::parse_id;
use crate::http::session::{ApiActor, MaybeSession};
use crate::web::{Chrome, FormState, PageCtx, html, short_date};

fn profile_json(u: &crm_core::accounts::User) -> super::views::Profile {
    super::views::Profile::from(u)
}

/// `PUT /api/auth/profile {"name","bio","avatar"}`.
pub async fn api_profile(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: JsonObject,
) -> ApiResult<Response> {
    let u = profile::update_profile(&state.db, &actor, body.input(Mode::Update)).await?;
    Ok(envelope(StatusCode::OK, profile_json(&u)))
}

/// `POST /api/auth/password {"currentPassword","newPassword"}`: other sessions end.
pub async fn api_password(
    State(state): State<AppState>,
    MaybeSession(s): MaybeSession,
    ApiActor(actor): ApiActor,
    body: JsonObject,
) -> ApiResult<Response> {
    let get = |k: &str| body.0.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    let keep = s.filter(|s| !s.bearer).map(|s| s.session_id);
    profile::change_password(
        &state.db,
        &state.mailer,
        &actor,
        &get("currentPassword"),
        &get("newPassword"),
        keep,
    )
    .await?;
    Ok(envelope(
        StatusCode::OK,
        super::views::Message::new("Password changed. Your other sessions were signed out."),
    ))
}

fn session_json(s: &crm_core::accounts::Session, current: Option<uuid::Uuid>) -> super::views::SessionRow {
    super::views::SessionRow {
        id: s.id,
        ip: s.ip.clone(),
        user_agent: s.user_agent.clone(),
        created_at: crm_core::clock::fmt(&s.created_at),
        last_seen_at: crm_core::clock::fmt(&s.last_seen_at),
        current: Some(s.id) == current,
    }
}

pub async fn api_sessions(
    State(state): State<AppState>,
    MaybeSession(s): MaybeSession,
    ApiActor(actor): ApiActor,
) -> ApiResult<Response> {
    let current = s.filter(|s| !s.bearer).map(|s| s.session_id);
    let list: Vec<_> = profile::sessions(&state.db, &actor)
        .await?
        .iter()
        .map(|x| session_json(x, current))
        .collect();
    Ok(envelope(StatusCode::OK, list))
}

pub async fn api_end_session(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    profile::end_session(&state.db, &actor, parse_id(&id, "session")?).await?;
    Ok(envelope(StatusCode::OK, serde_json::Value::Null))
}

pub async fn api_tokens_list(State(state): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Response> {
    Ok(envelope(StatusCode::OK, api_tokens::list(&state.db, &actor).await?))
}

/// `POST /api/auth/tokens {"name","expiresInDays"?}` → the secret, shown this once.
pub async fn api_tokens_create(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: JsonObject,
) -> ApiResult<Response> {
    Ok(envelope(
        StatusCode::CREATED,
        api_tokens::create(&state.db, &actor, body.input(Mode::Create)).await?,
    ))
}

pub async fn api_tokens_delete(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    api_tokens::revoke(&state.db, &actor, parse_id(&id, "token")?).await?;
    Ok(envelope(StatusCode::OK, serde_json::Value::Null))
}

// ---- the page ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "accounts/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    email: String,
    role_label: &'static str,
    verified: bool,
    profile: FormState,
    password: FormState,
    sessions: Vec<crm_core::accounts::Session>,
    /// The user's own recent sign-in attempts.
    history: Vec<crm_core::accounts::history::PastAttempt>,
    current: uuid::Uuid,
    tokens: Vec<TokenView>,
    token_form: FormState,
    new_token: Option<String>,
    two_factor_on: bool,
    remaining_codes: u64,
    low_codes: bool,
    enrollment: Option<twofactor::Enrollment>,
    backup_codes: Option<Vec<String>>,
    tfa: FormState,
    /// The calendar feed's address, right after it was made (only its hash is kept).
    calendar_url: Option<String>,
    /// When the feed was made, if there is one.
    calendar_since: Option<chrono::DateTime<chrono::Utc>>,
}

impl SettingsPage {
    /// The backup codes as a downloadable text file (a data: URL, no script needed).
    fn codes_href(&self) -> String {
        let text = self.backup_codes.as_ref().map(|c| c.join("\n")).unwrap_or_default();
        format!(
            "data:text/plain;charset=utf-8,{}",
            crate::http::session::urlencode(&format!("CRM Contact Manager backup codes\n{text}\n"))
        )
    }
}

impl SettingsPage {
    fn when(&self, s: &str) -> String {
        crate::activities::pages::when(s)
    }
    fn date(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        short_date(&crm_core::clock::fmt(t))
    }
    fn sdate(&self, s: &str) -> String {
        short_date(s)
    }
}

#[derive(Default)]
pub(crate) struct Forms {
    pub profile: Option<FormState>,
    pub password: FormState,
    pub token_form: FormState,
    pub new_token: Option<String>,
    pub notice: Option<String>,
    /// 2FA setup in progress: the QR code and secret to show.
    pub enrollment: Option<twofactor::Enrollment>,
    /// Fresh backup codes, shown once.
    pub backup_codes: Option<Vec<String>>,
    pub tfa: FormState,
    /// A calendar feed address just made, shown this once.
    pub calendar_url: Option<String>,
}

pub(crate) async fn render(state: &AppState, ctx: &PageCtx, f: Forms, status: StatusCode) -> PageResult {
    let actor = &ctx.session.actor;
    let u = users::find(&state.db, actor.id)
        .await?
        .ok_or_else(|| CoreError::Unauthenticated("Not authenticated".into()))?;
    let profile = f.profile.unwrap_or_else(|| {
        FormState::from_pairs(&[
            ("name".into(), u.name.clone()),
            ("bio".into(), u.bio.clone().unwrap_or_default()),
            ("avatar".into(), u.avatar.clone().unwrap_or_default()),
        ])
    });
    let remaining = twofactor::remaining_codes(&state.db, u.id).await?;
    let page = SettingsPage {
        chrome: Chrome::new(ctx, "Settings", "settings").with_notice(f.notice),
        email: u.email.clone(),
        role_label: actor.role.label(),
        verified: u.email_verified_at.is_some(),
        profile,
        password: f.password,
        sessions: profile::sessions(&state.db, actor).await?,
        history: crm_core::accounts::history::recent(&state.db, actor.id, 10).await?,
        current: ctx.session.session_id,
        tokens: api_tokens::list(&state.db, actor).await?,
        token_form: f.token_form,
        new_token: f.new_token,
        two_factor_on: u.two_factor_enabled,
        remaining_codes: remaining,
        low_codes: u.two_factor_enabled && remaining <= twofactor::LOW_CODES,
        enrollment: f.enrollment,
        backup_codes: f.backup_codes,
        tfa: f.tfa,
        calendar_url: f.calendar_url,
        calendar_since: crm_core::calendar::since(&state.db, actor).await?,
    };
    Ok((status, html(&page)).into_response())
}

pub async fn page(
    State(state): State<AppState>,
    ctx: PageCtx,
    axum::extract::Query(q): axum::extract::Query<Vec<(String, String)>>,
) -> PageResult {
    let done = q.iter().find(|(k, _)| k == "done").map(|(_, v)| v.as_str());
    let notice = match done {
        Some("profile") => Some("Profile saved.".to_string()),
        Some("password") => Some("Password changed. Your other sessions were signed out.".to_string()),
        Some("session") => Some("Session signed out.".to_string()),
        Some("sessions") => Some("Signed out everywhere else.".to_string()),
        Some("token-revoked") => Some("Token revoked.".to_string()),
        Some("2fa-off") => Some("Two-factor authentication is off.".to_string()),
        Some("calendar-off") => Some("Calendar feed turned off: its address no longer works.".to_string()),
        _ => None,
    };
    render(
        &state,
        &ctx,
        Forms {
            notice,
            ..Default::default()
        },
        StatusCode::OK,
    )
    .await
}

pub async fn profile_submit(State(state): State<AppState>, ctx: PageCtx, form: FormPairs) -> PageResult {
    match profile::update_profile(&state.db, &ctx.session.actor, form.input(Mode::Update)).await {
        Ok(_) => Ok(Redirect::to("/settings?done=profile").into_response()),
        Err(e) => {
            let f = Forms {
                profile: Some(FormState::from_pairs(&form.0).with_error(e)),
                ..Default::default()
            };
            render(&state, &ctx, f, StatusCode::BAD_REQUEST).await
        }
    }
}

pub async fn password_submit(State(state): State<AppState>, ctx: PageCtx, form: FormPairs) -> PageResult {
    let get = |k: &str| form.get(k).unwrap_or("").to_string();
    let result = if get("newPassword") != get("confirmPassword") {
        Err(CoreError::field("confirmPassword", "Passwords do not match"))
    } else {
        let keep = Some(ctx.session.session_id);
        profile::change_password(
            &state.db,
            &state.mailer,
            &ctx.session.actor,
            &get("currentPassword"),
            &get("newPassword"),
            keep,
        )
        .await
    };
    match result {
        Ok(()) => Ok(Redirect::to("/settings?done=password").into_response()),
        Err(e) => {
            render(
                &state,
                &ctx,
                Forms {
                    password: FormState::default().with_error(e),
                    ..Default::default()
                },
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    }
}

pub async fn end_session_submit(State(state): State<AppState>, ctx: PageCtx, Path(id): Path<String>) -> PageResult {
    profile::end_session(&state.db, &ctx.session.actor, parse_id(&id, "session")?).await?;
    Ok(Redirect::to("/settings?done=session").into_response())
}

pub async fn end_others_submit(State(state): State<AppState>, ctx: PageCtx) -> PageResult {
    profile::end_other_sessions(&state.db, &ctx.session.actor, ctx.session.session_id).await?;
    Ok(Redirect::to("/settings?done=sessions").into_response())
}

pub async fn token_submit(State(state): State<AppState>, ctx: PageCtx, form: FormPairs) -> PageResult {
    match api_tokens::create(&state.db, &ctx.session.actor, form.input(Mode::Create)).await {
        Ok(t) => {
            let f = Forms {
                new_token: t.token,
                notice: Some("Token created. Copy it now: it is not shown again.".into()),
                ..Default::default()
            };
            render(&state, &ctx, f, StatusCode::OK).await
        }
        Err(e) => {
            let f = Forms {
                token_form: FormState::from_pairs(&form.0).with_error(e),
                ..Default::default()
            };
            render(&state, &ctx, f, StatusCode::BAD_REQUEST).await
        }
    }
}

pub async fn token_revoke_submit(State(state): State<AppState>, ctx: PageCtx, Path(id): Path<String>) -> PageResult {
    api_tokens::revoke(&state.db, &ctx.session.actor, parse_id(&id, "token")?).await?;
    Ok(Redirect::to("/settings?done=token-revoked").into_response())
}
