//! Admin user management: list, view, create, edit (role, name, active), verify e-mail,
//! reset 2FA, and delete with the user's records reassigned (default) or deleted. The last
//! active admin can be neither demoted, deactivated nor deleted. A role change or a
//! deactivation ends the user's sessions and API tokens at once.

use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;
use uuid::Uuid;

use super::UserAction;
use crate::accounts::password;
use crate::accounts::users::{self, NewUser};
use crate::actor::{Actor, Role};
use crate::audit;
use crate::clock;
use crate::db::Db;
use crate::entities::{activity, api_token, contact, deal, session, task, user};
use crate::error::{CoreError, CoreResult};
use crate::input::{Field, Input};
use crate::mail::Mailer;
use crate::page::{Page, PageReq, Pagination};
use crate::query::QueryParams;
use crate::text::like_escape;

/// What admins see of a user: never the hash or the 2FA secret.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub avatar: Option<String>,
    pub bio: Option<String>,
    pub is_active: bool,
    pub email_verified: Option<String>,
    pub two_factor_enabled: bool,
    pub last_sign_in_at: Option<String>,
    pub last_sign_in_ip: Option<String>,
    /// `password`, `oidc` or `github`.
    pub last_sign_in_method: Option<String>,
    pub is_demo: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl UserView {
    /// Was the last sign-in a single sign-on (OpenID Connect or GitHub)?
    pub fn last_by_sso(&self) -> bool {
        self.last_sign_in_method.as_deref().is_some_and(|m| m != "password")
    }
}

impl From<&user::Model> for UserView {
    fn from(u: &user::Model) -> Self {
        UserView {
            id: u.id,
            name: u.name.clone(),
            email: u.email.clone(),
            role: u.role,
            avatar: u.avatar.clone(),
            bio: u.bio.clone(),
            is_active: u.is_active,
            email_verified: clock::fmt_opt(&u.email_verified_at),
            two_factor_enabled: u.two_factor_enabled,
            last_sign_in_at: clock::fmt_opt(&u.last_sign_in_at),
            last_sign_in_ip: u.last_sign_in_ip.clone(),
            last_sign_in_method: u.last_sign_in_method.clone(),
            is_demo: u.is_demo,
            created_at: clock::fmt(&u.created_at),
            updated_at: clock::fmt(&u.updated_at),
        }
    }
}

pub struct ListParams {
    pub search: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub page: PageReq,
}

impl ListParams {
    pub fn parse(q: &QueryParams) -> CoreResult<Self> {
        let mut errs = q.errors();
        let role = q.opt_enum::<Role>("role", "Role", &mut errs);
        let active = q
            .opt_one_of("status", "Status", &["active", "inactive"], &mut errs)
            .map(|s| s == "active");
        let page = q.page(50, &mut errs);
        errs.finish()?;
        Ok(ListParams {
            search: q.search(),
            role,
            active,
            page,
        })
    }
}

pub async fn list(db: &Db, actor: &Actor, p: &ListParams) -> CoreResult<Page<UserView>> {
    super::require(db, actor, UserAction::Read).await?;
    // pending invitations are listed apart (`invites::pending`)
    let mut c = Condition::all().add(user::Column::InvitedAt.is_null());
    if let Some(s) = &p.search {
        let pattern = format!("%{}%", like_escape(&s.to_lowercase()));
        c = c.add(
            Condition::any()
                .add(Expr::col(user::Column::Email).like(LikeExpr::new(pattern.clone()).escape('\\')))
                .add(
                    Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(user::Column::Name)))
                        .like(LikeExpr::new(pattern).escape('\\')),
                ),
        );
    }
    if let Some(r) = p.role {
        c = c.add(user::Column::Role.eq(r));
    }
    if let Some(a) = p.active {
        c = c.add(user::Column::IsActive.eq(a));
    }
    let base = user::Entity::find().filter(c);
    let total = base.clone().count(&db.conn).await?;
    let rows = base
        .order_by_asc(user::Column::Name)
        .order_by_asc(user::Column::Id)
        .offset(p.page.offset())
        .limit(p.page.limit)
        .all(&db.conn)
        .await?;
    Ok(Page {
        items: rows.iter().map(UserView::from).collect(),
        pagination: Pagination::new(p.page, total),
    })
}

async fn find(db: &Db, id: Uuid) -> CoreResult<user::Model> {
    users::find(db, id).await?.ok_or_else(|| CoreError::not_found("User"))
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserDetail {
    #[serde(flatten)]
    pub user: UserView,
    pub active_sessions: u64,
    pub sign_in_history: Vec<crate::accounts::history::PastAttempt>,
    pub owned: Owned,
}

pub async fn get(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<UserDetail> {
    super::require(db, actor, UserAction::Read).await?;
    let u = find(db, id).await?;
    let history = crate::accounts::history::recent(db, id, 20).await?;
    let active_sessions = session::Entity::find()
        .filter(session::Column::UserId.eq(id))
        .filter(session::Column::ExpiresAt.gt(clock::now()))
        .count(&db.conn)
        .await?;
    Ok(UserDetail {
        user: UserView::from(&u),
        active_sessions,
        sign_in_history: history,
        owned: owned(db, id).await?,
    })
}

/// How many records a user owns (shown before deleting them).
#[derive(Debug, Clone, Copy, Default, Serialize, schemars::JsonSchema)]
pub struct Owned {
    pub contacts: u64,
    pub activities: u64,
    pub tasks: u64,
    pub deals: u64,
}

pub async fn owned(db: &Db, id: Uuid) -> CoreResult<Owned> {
    Ok(Owned {
        contacts: contact::Entity::find()
            .filter(contact::Column::UserId.eq(id))
            .count(&db.conn)
            .await?,
        activities: activity::Entity::find()
            .filter(activity::Column::UserId.eq(id))
            .count(&db.conn)
            .await?,
        tasks: task::Entity::find()
            .filter(task::Column::UserId.eq(id))
            .count(&db.conn)
            .await?,
        deals: deal::Entity::find()
            .filter(deal::Column::UserId.eq(id))
            .count(&db.conn)
            .await?,
    })
}

/// `isActive`: `None` when absent; a value that is not a boolean is an error (create and
/// update read it alike).
fn active_field(input: &mut Input) -> Option<bool> {
    if !input.has("isActive") {
        return None;
    }
    let b = input.bool_value("isActive");
    if b.is_none() {
        input.error("isActive", "isActive must be true or false");
    }
    b
}

fn parse_role(input: &mut Input) -> Field<Role> {
    match input.req_enum::<Role>("role", "Role") {
        Field::Null => Field::Absent,
        other => other,
    }
}

/// Create a user (admins: any role; managers: reps only). Admin-created accounts are
/// active and verified: the admin vouches for the address.
pub async fn create(db: &Db, actor: &Actor, mut input: Input) -> CoreResult<user::Model> {
    super::require(db, actor, UserAction::Create).await?;
    let name = input.req_text("name", "Name", 100);
    let email = input.req_email("email", "Email");
    let password_field = input.req_text("password", "Password", 128);
    let role = parse_role(&mut input);
    let bio = input.opt_text("bio", "Bio", 500);
    let active = active_field(&mut input).unwrap_or(true);
    input.finish()?;
    let role = role.value().unwrap_or(Role::Rep);
    if actor.role == Role::Manager && role != Role::Rep {
        return Err(CoreError::Forbidden(
            "Managers can only create sales representatives".into(),
        ));
    }
    let email = email.value().unwrap_or_default();
    if users::find_by_email(db, &email).await?.is_some() {
        return Err(CoreError::field("email", "Email already exists"));
    }
    let mut model = users::prepare(NewUser {
        email,
        name: name.value().unwrap_or_default(),
        role,
        password: password_field.value().unwrap_or_default(),
        verified: true,
        is_demo: false,
    })
    .await?;
    model.bio = Set(bio.into_option());
    model.is_active = Set(active);
    let txn = db.conn.begin().await?;
    let u = users::insert(&txn, model).await?;
    audit::record(
        &txn,
        Some(actor),
        "create",
        "user",
        Some(u.id.to_string()),
        Some(serde_json::json!({"email": u.email, "role": u.role})),
    )
    .await?;
    txn.commit().await?;
    Ok(u)
}

async fn other_active_admins(conn: &impl ConnectionTrait, except: Uuid) -> CoreResult<u64> {
    Ok(user::Entity::find()
        .filter(user::Column::Role.eq(Role::Admin))
        .filter(user::Column::IsActive.eq(true))
        .filter(user::Column::Id.ne(except))
        .count(conn)
        .await?)
}

const LAST_ADMIN: &str = "There must be at least one active administrator";

/// End every session, API token and calendar feed of a user (privilege change,
/// deactivation): each is a credential, and none survives a reactivation.
async fn cut_access(conn: &impl ConnectionTrait, id: Uuid) -> CoreResult<()> {
    crate::entities::calendar_feed::Entity::delete_many()
        .filter(crate::entities::calendar_feed::Column::UserId.eq(id))
        .exec(conn)
        .await?;
    crate::accounts::sessions::end_all(conn, id, None).await?;
    api_token::Entity::delete_many()
        .filter(api_token::Column::UserId.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Edit name, e-mail, role, bio, active and (optionally) password.
pub async fn update(db: &Db, mailer: &Mailer, actor: &Actor, id: Uuid, mut input: Input) -> CoreResult<user::Model> {
    super::require(db, actor, UserAction::Update).await?;
    let name = input.req_text("name", "Name", 100);
    let email = input.req_email("email", "Email");
    let role = if input.has("role") {
        parse_role(&mut input)
    } else {
        Field::Absent
    };
    let bio = input.opt_text("bio", "Bio", 500);
    let active = active_field(&mut input);
    let new_password = input.opt_text("password", "Password", 128);
    input.finish()?;
    let u = find(db, id).await?;
    let hash = match &new_password {
        Field::Value(p) => {
            password::check_policy(p, &u.email).map_err(|m| CoreError::field("password", m))?;
            Some(password::hash(p.clone()).await?)
        }
        _ => None,
    };
    let new_role = role.value();
    let txn = db.conn.begin().await?;
    let demoting = u.role == Role::Admin && new_role.is_some_and(|r| r != Role::Admin);
    let deactivating = u.is_active && active == Some(false);
    if (demoting || deactivating) && u.role == Role::Admin && other_active_admins(&txn, id).await? == 0 {
        return Err(CoreError::bad_request(LAST_ADMIN));
    }
    if let Field::Value(e) = &email
        && *e != u.email
        && users::find_by_email(db, e).await?.is_some()
    {
        return Err(CoreError::field("email", "Email already exists"));
    }
    let before = serde_json::json!({"name": u.name, "email": u.email, "role": u.role, "isActive": u.is_active});
    let mut am: user::ActiveModel = u.clone().into();
    if let Field::Value(n) = name {
        am.name = Set(n);
    }
    if let Field::Value(e) = email {
        am.email = Set(e);
    }
    if let Some(r) = new_role {
        am.role = Set(r);
    }
    am.bio = Set(bio.apply(u.bio.clone()));
    if let Some(a) = active {
        am.is_active = Set(a);
    }
    if let Some(h) = hash {
        am.password_hash = Set(h);
    }
    am.updated_at = Set(clock::now());
    let saved = am.update(&txn).await?;
    let role_changed = saved.role != u.role;
    if role_changed || deactivating || new_password.value().is_some() {
        cut_access(&txn, id).await?;
    }
    let after =
        serde_json::json!({"name": saved.name, "email": saved.email, "role": saved.role, "isActive": saved.is_active});
    let action = if role_changed { "role_change" } else { "update" };
    audit::record(
        &txn,
        Some(actor),
        action,
        "user",
        Some(id.to_string()),
        Some(audit::diff(&before, &after)),
    )
    .await?;
    txn.commit().await?;
    if saved.is_active != u.is_active {
        let (subject, text) = if saved.is_active {
            (
                "Your account has been activated",
                "An administrator activated your account. You can sign in now.",
            )
        } else {
            (
                "Your account has been deactivated",
                "An administrator deactivated your account. You can no longer sign in; contact your administrator.",
            )
        };
        mailer
            .notify((&saved.email, &saved.name), subject, text, "/auth/signin")
            .await;
    }
    Ok(saved)
}

/// Mark a user's e-mail as verified and tell them.
pub async fn verify_email(db: &Db, mailer: &Mailer, actor: &Actor, id: Uuid) -> CoreResult<user::Model> {
    super::require(db, actor, UserAction::Update).await?;
    let u = find(db, id).await?;
    let mut am: user::ActiveModel = u.clone().into();
    am.email_verified_at = Set(Some(u.email_verified_at.unwrap_or_else(clock::now)));
    am.updated_at = Set(clock::now());
    let txn = db.conn.begin().await?;
    let saved = am.update(&txn).await?;
    audit::record(&txn, Some(actor), "verify_email", "user", Some(id.to_string()), None).await?;
    txn.commit().await?;
    if u.email_verified_at.is_none() {
        mailer
            .notify(
                (&saved.email, &saved.name),
                "Your account has been activated",
                "An administrator verified your email address. You can sign in now.",
                "/auth/signin",
            )
            .await;
    }
    Ok(saved)
}

/// Turn off a user's 2FA (lost device): audited, the user is told, sessions end.
pub async fn reset_two_factor(db: &Db, mailer: &Mailer, actor: &Actor, id: Uuid) -> CoreResult<()> {
    super::require(db, actor, UserAction::Update).await?;
    let u = find(db, id).await?;
    let txn = db.conn.begin().await?;
    crate::accounts::twofactor::turn_off(&txn, actor, &u, "2fa_reset").await?;
    cut_access(&txn, id).await?;
    txn.commit().await?;
    mailer
        .notify(
            (&u.email, &u.name),
            "Two-factor authentication was reset",
            "An administrator turned off two-factor authentication on your account. Sign in and set it up again.",
            "/settings#two-factor",
        )
        .await;
    Ok(())
}

/// What happens to a deleted user's records.
#[derive(Debug, Clone, Copy)]
pub enum Disposal {
    /// Give every record to another active user (the default).
    ReassignTo(Uuid),
    /// Delete the user's own records. Contacts that carry other users' activities, tasks
    /// or deals are given to the acting admin instead, so no one else's work is lost.
    Delete,
}

pub async fn delete(db: &Db, actor: &Actor, id: Uuid, disposal: Disposal) -> CoreResult<Owned> {
    super::require(db, actor, UserAction::Delete).await?;
    let u = find(db, id).await?;
    let counts = owned(db, id).await?;
    let txn = db.conn.begin().await?;
    if u.role == Role::Admin && u.is_active && other_active_admins(&txn, id).await? == 0 {
        return Err(CoreError::bad_request(LAST_ADMIN));
    }
    match disposal {
        Disposal::ReassignTo(to) => {
            if to == id {
                return Err(CoreError::field(
                    "reassignTo",
                    "Choose another user to receive the records",
                ));
            }
            let target = users::find(db, to).await?.filter(|t| t.is_active);
            if target.is_none() {
                return Err(CoreError::field(
                    "reassignTo",
                    "The user to receive the records was not found or is inactive",
                ));
            }
            contact::Entity::update_many()
                .col_expr(contact::Column::UserId, Expr::value(to))
                .filter(contact::Column::UserId.eq(id))
                .exec(&txn)
                .await?;
            activity::Entity::update_many()
                .col_expr(activity::Column::UserId, Expr::value(to))
                .filter(activity::Column::UserId.eq(id))
                .exec(&txn)
                .await?;
            task::Entity::update_many()
                .col_expr(task::Column::UserId, Expr::value(to))
                .filter(task::Column::UserId.eq(id))
                .exec(&txn)
                .await?;
            deal::Entity::update_many()
                .col_expr(deal::Column::UserId, Expr::value(to))
                .filter(deal::Column::UserId.eq(id))
                .exec(&txn)
                .await?;
        }
        Disposal::Delete => {
            activity::Entity::delete_many()
                .filter(activity::Column::UserId.eq(id))
                .exec(&txn)
                .await?;
            task::Entity::delete_many()
                .filter(task::Column::UserId.eq(id))
                .exec(&txn)
                .await?;
            deal::Entity::delete_many()
                .filter(deal::Column::UserId.eq(id))
                .exec(&txn)
                .await?;
            // contacts still carrying someone else's records go to the acting admin
            let others = Condition::any()
                .add(
                    Expr::col((contact::Entity, contact::Column::Id)).in_subquery(
                        sea_orm::sea_query::Query::select()
                            .column(activity::Column::ContactId)
                            .from(activity::Entity)
                            .to_owned(),
                    ),
                )
                .add(
                    Expr::col((contact::Entity, contact::Column::Id)).in_subquery(
                        sea_orm::sea_query::Query::select()
                            .column(task::Column::ContactId)
                            .from(task::Entity)
                            .to_owned(),
                    ),
                )
                .add(
                    Expr::col((contact::Entity, contact::Column::Id)).in_subquery(
                        sea_orm::sea_query::Query::select()
                            .column(deal::Column::ContactId)
                            .from(deal::Entity)
                            .to_owned(),
                    ),
                );
            contact::Entity::update_many()
                .col_expr(contact::Column::UserId, Expr::value(actor.id))
                .filter(contact::Column::UserId.eq(id))
                .filter(others)
                .exec(&txn)
                .await?;
            contact::Entity::delete_many()
                .filter(contact::Column::UserId.eq(id))
                .exec(&txn)
                .await?;
        }
    }
    user::Entity::delete_by_id(id).exec(&txn).await?;
    let how = match disposal {
        Disposal::ReassignTo(to) => serde_json::json!({"reassignedTo": to}),
        Disposal::Delete => serde_json::json!({"deletedRecords": true}),
    };
    audit::record(
        &txn,
        Some(actor),
        "delete",
        "user",
        Some(id.to_string()),
        Some(serde_json::json!({"email": u.email, "owned": counts, "disposal": how})),
    )
    .await?;
    txn.commit().await?;
    Ok(counts)
}
