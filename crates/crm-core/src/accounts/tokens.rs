//! Single-use e-mailed tokens, stored only as hashes, one kind per purpose: an e-mail
//! verification token never resets a password and vice versa.

use chrono::Duration;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::{hash_token, random_token};
use crate::clock;
use crate::db::Db;
use crate::entities::verification_token as vt;
use crate::error::{CoreError, CoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
    /// A team invitation: sets the invitee's name and password, valid 7 days.
    Invite,
}

impl Purpose {
    fn as_str(&self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
            Purpose::Invite => "invite",
        }
    }
    fn ttl(&self) -> Duration {
        match self {
            Purpose::VerifyEmail => Duration::hours(24),
            Purpose::ResetPassword => Duration::hours(1),
            Purpose::Invite => Duration::days(7),
        }
    }
    fn what(&self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verification",
            Purpose::ResetPassword => "password reset",
            Purpose::Invite => "invitation",
        }
    }
}

/// A new token for `user_id`; earlier unused tokens of the same purpose stop working.
pub async fn issue(db: &Db, user_id: Uuid, purpose: Purpose) -> CoreResult<String> {
    vt::Entity::delete_many()
        .filter(vt::Column::UserId.eq(user_id))
        .filter(vt::Column::Purpose.eq(purpose.as_str()))
        .filter(vt::Column::UsedAt.is_null())
        .exec(&db.conn)
        .await?;
    let token = random_token();
    let now = clock::now();
    vt::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        purpose: Set(purpose.as_str().into()),
        token_hash: Set(hash_token(&token)),
        expires_at: Set(now + purpose.ttl()),
        used_at: Set(None),
        created_at: Set(now),
    }
    .insert(&db.conn)
    .await?;
    Ok(token)
}

/// Check a token without using it up (for showing the reset form).
pub async fn peek(db: &Db, token: &str, purpose: Purpose) -> CoreResult<Uuid> {
    let row = vt::Entity::find()
        .filter(vt::Column::TokenHash.eq(hash_token(token.trim())))
        .filter(vt::Column::Purpose.eq(purpose.as_str()))
        .one(&db.conn)
        .await?;
    let what = purpose.what();
    match row {
        None => Err(CoreError::bad_request(format!(
            "This {what} link is invalid. Ask for a new one."
        ))),
        Some(r) if r.used_at.is_some() => Err(CoreError::bad_request(format!(
            "This {what} link was already used. Ask for a new one."
        ))),
        Some(r) if r.expires_at <= clock::now() => Err(CoreError::bad_request(format!(
            "This {what} link has expired. Ask for a new one."
        ))),
        Some(r) => Ok(r.user_id),
    }
}

/// Use a token up inside `conn` (the caller's transaction); returns its user.
pub async fn consume(db: &Db, conn: &impl ConnectionTrait, token: &str, purpose: Purpose) -> CoreResult<Uuid> {
    let user_id = peek(db, token, purpose).await?;
    let res = vt::Entity::update_many()
        .col_expr(vt::Column::UsedAt, sea_orm::sea_query::Expr::value(clock::now()))
        .filter(vt::Column::TokenHash.eq(hash_token(token.trim())))
        .filter(vt::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    if res.rows_affected != 1 {
        return Err(CoreError::bad_request(format!(
            "This {} link was already used. Ask for a new one.",
            purpose.what()
        )));
    }
    Ok(user_id)
}
