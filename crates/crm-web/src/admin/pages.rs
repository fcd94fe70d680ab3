//! `/admin/users` (list, new, profile with edit and actions, delete with a choice of what
//! happens to the records) and `/admin/audit`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use crm_core::accounts::users::{UserRef, list_active};
use crm_core::admin::{audit_log, users};
use crm_core::input::Mode;
use crm_core::query::QueryParams;
use crm_core::{CoreError, Role};

use crate::AppState;
use crate::http::body::FormPairs;
use crate::http::error::PageResult;
use crate::http::resource::parse_id;
use crate::web::{Chrome, FormState, PageCtx, Pager, html, notice, query_string, short_date};

#[derive(Template)]
#[template(path = "admin/users.html")]
struct ListPage {
    chrome: Chrome,
    items: Vec<users::UserView>,
    pager: Pager,
    search: String,
    role: String,
    status: String,
    can_create: bool,
    /// Pending invitations and the invite form (with its errors).
    invites: Vec<crm_core::admin::invites::InviteView>,
    invite: FormState,
    /// Managers invite reps only.
    invite_roles: &'static [(&'static str, &'static str)],
}

impl ListPage {
    fn date(&self, s: &str) -> String {
        short_date(s)
    }
}

pub async fn index(State(state): State<AppState>, ctx: PageCtx, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    list_page(&state, &ctx, QueryParams::new(q), FormState::default()).await
}

/// The page again with the invite form's errors (400).
pub async fn index_with(state: &AppState, ctx: &PageCtx, invite: FormState) -> PageResult {
    let res = list_page(state, ctx, QueryParams::default(), invite).await?;
    Ok((StatusCode::BAD_REQUEST, res).into_response())
}

async fn list_page(state: &AppState, ctx: &PageCtx, qp: QueryParams, invite: FormState) -> PageResult {
    let p = users::ListParams::parse(&qp)?;
    let page = users::list(&state.db, &ctx.session.actor, &p).await?;
    let search = p.search.clone().unwrap_or_default();
    let role = p.role.map(|r| r.to_string()).unwrap_or_default();
    let status = match p.active {
        Some(true) => "active",
        Some(false) => "inactive",
        None => "",
    }
    .to_string();
    let (s2, r2, st2) = (search.clone(), role.clone(), status.clone());
    let pager = Pager::new(&page.pagination, |n| {
        let page = if n > 1 { n.to_string() } else { String::new() };
        format!(
            "/admin/users{}",
            query_string(&[
                ("search", s2.clone()),
                ("role", r2.clone()),
                ("status", st2.clone()),
                ("page", page)
            ])
        )
    });
    let actor = &ctx.session.actor;
    Ok(html(&ListPage {
        chrome: Chrome::new(ctx, "User Management", "admin").with_notice(notice(qp.get("done"), None)),
        items: page.items,
        pager,
        search,
        role,
        status,
        can_create: actor.role != Role::Rep,
        invites: crm_core::admin::invites::pending(&state.db, actor).await?,
        invite,
        invite_roles: if actor.role == Role::Admin {
            &[
                ("rep", "Sales Representative"),
                ("manager", "Manager"),
                ("admin", "Administrator"),
            ]
        } else {
            &[("rep", "Sales Representative")]
        },
    }))
}

#[derive(Template)]
#[template(path = "admin/user_new.html")]
struct NewPage {
    chrome: Chrome,
    form: FormState,
    admin: bool,
}

pub async fn new_form(State(state): State<AppState>, ctx: PageCtx) -> PageResult {
    crm_core::admin::require(&state.db, &ctx.session.actor, crm_core::admin::UserAction::Create).await?;
    let admin = ctx.session.actor.role == Role::Admin;
    let form = FormState::from_pairs(&[("role".into(), "rep".into())]);
    Ok(html(&NewPage {
        chrome: Chrome::new(&ctx, "New User", "admin"),
        form,
        admin,
    }))
}

pub async fn create(State(state): State<AppState>, ctx: PageCtx, form: FormPairs) -> PageResult {
    match users::create(&state.db, &ctx.session.actor, form.input(Mode::Create)).await {
        Ok(u) => Ok(Redirect::to(&format!("/admin/users/{}?done=created", u.id)).into_response()),
        Err(e @ CoreError::Forbidden(_)) => Err(e.into()),
        Err(e) => {
            let mut f = FormState::from_pairs(&form.0).with_error(e);
            f.values.remove("password");
            let admin = ctx.session.actor.role == Role::Admin;
            Ok((
                StatusCode::BAD_REQUEST,
                html(&NewPage {
                    chrome: Chrome::new(&ctx, "New User", "admin"),
                    form: f,
                    admin,
                }),
            )
                .into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "admin/user_show.html")]
struct ShowPage {
    chrome: Chrome,
    d: users::UserDetail,
    form: FormState,
    admin: bool,
    others: Vec<UserRef>,
    confirm_delete: bool,
    me: uuid::Uuid,
}

impl ShowPage {
    fn date(&self, s: &str) -> String {
        short_date(s)
    }
    fn chrome_user_id(&self) -> uuid::Uuid {
        self.me
    }
}

async fn show_page(
    state: &AppState,
    ctx: &PageCtx,
    id: uuid::Uuid,
    form: Option<FormState>,
    confirm_delete: bool,
    done: Option<&str>,
) -> Result<ShowPage, crate::http::error::PageError> {
    let d = users::get(&state.db, &ctx.session.actor, id).await?;
    let form = form.unwrap_or_else(|| {
        FormState::from_pairs(&[
            ("name".into(), d.user.name.clone()),
            ("email".into(), d.user.email.clone()),
            ("role".into(), d.user.role.to_string()),
            ("isActive".into(), d.user.is_active.to_string()),
            ("bio".into(), d.user.bio.clone().unwrap_or_default()),
        ])
    });
    let others = list_active(&state.db)
        .await?
        .into_iter()
        .filter(|u| u.id != id)
        .collect();
    let done_text = match done {
        Some("verified") => Some("Email verified.".to_string()),
        Some("2fa-reset") => Some("Two-factor authentication was reset.".to_string()),
        other => notice(other, None),
    };
    Ok(ShowPage {
        chrome: Chrome::new(ctx, d.user.name.clone(), "admin").with_notice(done_text),
        d,
        form,
        admin: ctx.session.actor.role == Role::Admin,
        others,
        confirm_delete,
        me: ctx.session.actor.id,
    })
}

pub async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let qp = QueryParams::new(q);
    let id = parse_id(&id, "user")?;
    Ok(html(
        &show_page(
            &state,
            &ctx,
            id,
            None,
            qp.get("confirm") == Some("delete"),
            qp.get("done"),
        )
        .await?,
    ))
}

pub async fn update(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    form: FormPairs,
) -> PageResult {
    let id = parse_id(&id, "user")?;
    let mut input: Vec<(String, String)> = form
        .0
        .iter()
        .filter(|(k, v)| k != "password" || !v.is_empty())
        .cloned()
        .collect();
    input.retain(|(k, _)| k != "csrf_token");
    match users::update(
        &state.db,
        &state.mailer,
        &ctx.session.actor,
        id,
        crm_core::input::Input::form(&input, Mode::Update),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/admin/users/{id}?done=updated")).into_response()),
        Err(e @ (CoreError::Forbidden(_) | CoreError::NotFound(_))) => Err(e.into()),
        Err(e) => {
            let mut f = FormState::from_pairs(&form.0).with_error(e);
            f.values.remove("password");
            Ok((
                StatusCode::BAD_REQUEST,
                html(&show_page(&state, &ctx, id, Some(f), false, None).await?),
            )
                .into_response())
        }
    }
}

pub async fn verify_email(State(state): State<AppState>, ctx: PageCtx, Path(id): Path<String>) -> PageResult {
    let id = parse_id(&id, "user")?;
    users::verify_email(&state.db, &state.mailer, &ctx.session.actor, id).await?;
    Ok(Redirect::to(&format!("/admin/users/{id}?done=verified")).into_response())
}

pub async fn reset_2fa(State(state): State<AppState>, ctx: PageCtx, Path(id): Path<String>) -> PageResult {
    let id = parse_id(&id, "user")?;
    users::reset_two_factor(&state.db, &state.mailer, &ctx.session.actor, id).await?;
    Ok(Redirect::to(&format!("/admin/users/{id}?done=2fa-reset")).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    form: FormPairs,
) -> PageResult {
    let id = parse_id(&id, "user")?;
    let disposal = match form.get("disposal") {
        Some("delete") => users::Disposal::Delete,
        _ => {
            let to = form
                .get("reassignTo")
                .and_then(|s| uuid::Uuid::parse_str(s).ok())
                .unwrap_or(ctx.session.actor.id);
            users::Disposal::ReassignTo(to)
        }
    };
    match users::delete(&state.db, &ctx.session.actor, id, disposal).await {
        Ok(_) => Ok(Redirect::to("/admin/users?done=deleted").into_response()),
        Err(e @ CoreError::Validation { .. }) => {
            let mut page = show_page(&state, &ctx, id, None, true, None).await?;
            page.form = page.form.with_error(e);
            Ok((StatusCode::BAD_REQUEST, html(&page)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    chrome: Chrome,
    items: Vec<audit_log::Entry>,
    pager: Pager,
    entity_type: String,
    action: String,
}

impl AuditPage {
    fn when(&self, s: &str) -> String {
        crate::web::date_time(s, true)
    }
    fn changes(&self, e: &audit_log::Entry) -> String {
        e.changes.as_ref().map(|c| c.to_string()).unwrap_or_default()
    }
}

pub async fn audit(State(state): State<AppState>, ctx: PageCtx, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    let qp = QueryParams::new(q);
    let p = audit_log::Params::parse(&qp)?;
    let page = audit_log::list(&state.db, &ctx.session.actor, &p).await?;
    let entity_type = p.entity_type.clone().unwrap_or_default();
    let action = p.action.clone().unwrap_or_default();
    let (e2, a2) = (entity_type.clone(), action.clone());
    let pager = Pager::new(&page.pagination, |n| {
        format!(
            "/admin/audit{}",
            query_string(&[
                ("entityType", e2.clone()),
                ("action", a2.clone()),
                ("page", n.to_string())
            ])
        )
    });
    Ok(html(&AuditPage {
        chrome: Chrome::new(&ctx, "Audit log", "audit"),
        items: page.items,
        pager,
        entity_type,
        action,
    }))
}

#[derive(Template)]
#[template(path = "admin/org.html")]
struct OrgPage {
    chrome: Chrome,
    form: FormState,
    currencies: &'static [(&'static str, &'static str, u32)],
    /// Every IANA zone name, for the time zone field's suggestions.
    zones: Vec<&'static str>,
}

fn org_page(ctx: &PageCtx, form: FormState, notice_code: Option<&str>) -> OrgPage {
    OrgPage {
        chrome: Chrome::new(ctx, "Organisation", "org").with_notice(notice(notice_code, None)),
        form,
        currencies: &crm_core::org::CURRENCIES,
        zones: crm_core::clock::zone_names(),
    }
}

/// `/admin/settings`: the organisation's name, currency, time zone, date format and week start (admins).
pub async fn org_settings(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    crm_core::admin::require(&state.db, &ctx.session.actor, crm_core::admin::UserAction::Update).await?;
    let s = crm_core::org::get(&state.db).await?;
    let form = FormState::from_pairs(&[
        ("name".into(), s.name),
        ("currency".into(), s.currency),
        ("timeZone".into(), s.time_zone),
        ("dateFormat".into(), s.date_format),
        ("weekStart".into(), s.week_start),
    ]);
    let qp = QueryParams::new(q);
    Ok(html(&org_page(&ctx, form, qp.get("done"))))
}

pub async fn org_settings_submit(State(state): State<AppState>, ctx: PageCtx, form: FormPairs) -> PageResult {
    match crm_core::org::update(&state.db, &ctx.session.actor, form.input(Mode::Update)).await {
        Ok(_) => {
            state.org.get(&state.db, true).await;
            Ok(Redirect::to("/admin/settings?done=updated").into_response())
        }
        Err(e @ CoreError::Validation { .. }) => Ok((
            StatusCode::BAD_REQUEST,
            html(&org_page(&ctx, FormState::from_pairs(&form.0).with_error(e), None)),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}
