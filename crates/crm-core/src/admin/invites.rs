//! Team invitations. An admin (any role) or a manager (reps only) invites by e-mail; the
//! invitee gets a one-time link valid 7 days and chooses their own name and password. Until
//! then the invitee is a user row marked `invited_at`: inactive (it cannot sign in), with an
//! unusable password, listed as pending, resendable (a new link; the old one stops working)
//! and revocable (the row is deleted — it owns nothing).

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait};
use serde::Serialize;
use uuid::Uuid;

use super::UserAction;
use crate::accounts::tokens::{self, Purpose};
use crate::accounts::users::{self, NewUser};
use crate::accounts::{password, random_token};
use crate::actor::{Actor, Role};
use crate::audit;
use crate::clock;
use crate::db::Db;
use crate::entities::user;
use crate::error::{CoreError, CoreResult};
use crate::input::{Field, Input};
use crate::mail::{Mailer, templates};

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteView {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub invited_at: String,
    pub invited_by: Option<String>,
}

/// Managers invite reps only; admins anyone.
async fn may_invite(db: &Db, actor: &Actor, role: Role) -> CoreResult<()> {
    super::require(db, actor, UserAction::Create).await?;
    if actor.role == Role::Manager && role != Role::Rep {
        crate::audit::denied(db, actor, "admin", Some("users:invite".into())).await;
        return Err(CoreError::Forbidden(
            "Managers can only invite sales representatives".into(),
        ));
    }
    Ok(())
}

async fn send(db: &Db, mailer: &Mailer, actor: &Actor, u: &user::Model) -> CoreResult<()> {
    let token = tokens::issue(db, u.id, Purpose::Invite).await?;
    let role = match u.role {
        Role::Admin => "an administrator",
        Role::Manager => "a manager",
        Role::Rep => "a sales representative",
    };
    let link = mailer.link(&format!("/invite?token={token}"));
    mailer
        .send(templates::invitation(&u.email, &actor.name, role, &link))
        .await;
    Ok(())
}

/// `{"email", "role"}` → a pending user and an e-mailed link.
pub async fn invite(db: &Db, mailer: &Mailer, actor: &Actor, mut input: Input) -> CoreResult<InviteView> {
    super::require(db, actor, UserAction::Create).await?;
    let email = input.req_email("email", "Email");
    let role = match input.req_enum::<Role>("role", "Role") {
        Field::Value(r) => r,
        _ => Role::Rep,
    };
    input.finish()?;
    may_invite(db, actor, role).await?;
    let email = email.value().unwrap_or_default();
    if let Some(u) = users::find_by_email(db, &email).await? {
        return Err(CoreError::field(
            "email",
            if u.invited_at.is_some() {
                "This address is already invited: resend the invitation instead"
            } else {
                "Email already exists"
            },
        ));
    }
    let local = email.split('@').next().unwrap_or("Invited").to_string();
    let mut model = users::prepare(NewUser {
        email,
        name: local,
        role,
        // nobody knows it: the account is unusable until the invitee chooses their own
        password: format!("{}{}", random_token(), random_token()),
        verified: false,
        is_demo: false,
    })
    .await?;
    let now = clock::now();
    model.is_active = Set(false);
    model.invited_at = Set(Some(now));
    model.invited_by = Set(Some(actor.id));
    let txn = db.conn.begin().await?;
    let u = users::insert(&txn, model).await?;
    audit::record(
        &txn,
        Some(actor),
        "invite",
        "user",
        Some(u.id.to_string()),
        Some(serde_json::json!({"email": u.email, "role": u.role})),
    )
    .await?;
    txn.commit().await?;
    send(db, mailer, actor, &u).await?;
    Ok(view(&u, Some(actor.name.clone())))
}

fn view(u: &user::Model, by: Option<String>) -> InviteView {
    InviteView {
        id: u.id,
        email: u.email.clone(),
        role: u.role,
        invited_at: clock::fmt_opt(&u.invited_at).unwrap_or_default(),
        invited_by: by,
    }
}

/// Pending invitations, newest first.
pub async fn pending(db: &Db, actor: &Actor) -> CoreResult<Vec<InviteView>> {
    super::require(db, actor, UserAction::Read).await?;
    let rows = user::Entity::find()
        .filter(user::Column::InvitedAt.is_not_null())
        .order_by_desc(user::Column::InvitedAt)
        .all(&db.conn)
        .await?;
    let names = users::names(db, rows.iter().filter_map(|u| u.invited_by)).await?;
    Ok(rows
        .iter()
        .map(|u| view(u, u.invited_by.and_then(|b| names.get(&b).cloned())))
        .collect())
}

async fn pending_one(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<user::Model> {
    let u = user::Entity::find_by_id(id)
        .filter(user::Column::InvitedAt.is_not_null())
        .one(&db.conn)
        .await?
        .ok_or_else(|| CoreError::not_found("Invitation"))?;
    may_invite(db, actor, u.role).await?;
    Ok(u)
}

/// A new link (the earlier one stops working), and the 7 days start again.
pub async fn resend(db: &Db, mailer: &Mailer, actor: &Actor, id: Uuid) -> CoreResult<InviteView> {
    let u = pending_one(db, actor, id).await?;
    let mut am: user::ActiveModel = u.into();
    am.invited_at = Set(Some(clock::now()));
    let u = am.update(&db.conn).await?;
    send(db, mailer, actor, &u).await?;
    audit::record(
        &db.conn,
        Some(actor),
        "invite_resend",
        "user",
        Some(id.to_string()),
        None,
    )
    .await?;
    Ok(view(&u, Some(actor.name.clone())))
}

/// Withdraw an invitation: its link stops working and the address may be invited again.
pub async fn revoke(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<()> {
    let u = pending_one(db, actor, id).await?;
    let txn = db.conn.begin().await?;
    user::Entity::delete_by_id(u.id).exec(&txn).await?;
    audit::record(
        &txn,
        Some(actor),
        "invite_revoke",
        "user",
        Some(id.to_string()),
        Some(serde_json::json!({"email": u.email})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The invitee of a link still valid (for the accept page).
pub async fn invitee(db: &Db, token: &str) -> CoreResult<user::Model> {
    let id = tokens::peek(db, token, Purpose::Invite).await?;
    user::Entity::find_by_id(id)
        .filter(user::Column::InvitedAt.is_not_null())
        .one(&db.conn)
        .await?
        .ok_or_else(|| CoreError::bad_request("This invitation link is invalid. Ask for a new one."))
}

/// Accept: the invitee's own name and password; the account becomes active and verified
/// (the link proved the address). Returns the user, ready to be signed in.
pub async fn accept(db: &Db, token: &str, name: &str, password_plain: &str) -> CoreResult<user::Model> {
    let u = invitee(db, token).await?;
    let name = name.trim();
    let mut errs = crate::error::FieldErrors::default();
    if let Err(m) = users::check_name(name) {
        errs.add("name", m);
    }
    if let Err(m) = password::check_policy(password_plain, &u.email) {
        errs.add("password", m);
    }
    errs.finish()?;
    let hash = password::hash(password_plain.to_string()).await?;
    let txn = db.conn.begin().await?;
    tokens::consume(db, &txn, token, Purpose::Invite).await?;
    let now = clock::now();
    let mut am: user::ActiveModel = u.into();
    am.name = Set(name.to_string());
    am.password_hash = Set(hash);
    am.is_active = Set(true);
    am.email_verified_at = Set(Some(now));
    am.invited_at = Set(None);
    am.updated_at = Set(now);
    let u = am.update(&txn).await?;
    audit::record(&txn, None, "invite_accept", "user", Some(u.id.to_string()), None).await?;
    txn.commit().await?;
    Ok(u)
}
