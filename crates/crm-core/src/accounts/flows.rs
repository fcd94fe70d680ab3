//! Self-service account flows: sign-up, e-mail verification, resend, forgot and reset
//! password. Answers never tell whether an e-mail address has an account.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};

use super::tokens::{self, Purpose};
use super::{password, users};
use crate::actor::Role;
use crate::clock;
use crate::db::Db;
use crate::entities::user;
use crate::error::{CoreError, CoreResult, FieldErrors};
use crate::mail::{Mailer, templates};

/// Sign-up: creates an unverified rep and e-mails a verification link. An address that
/// already has an account gets the same answer (and nothing is created or sent).
pub async fn sign_up(db: &Db, mailer: &Mailer, name: &str, email: &str, password_plain: &str) -> CoreResult<String> {
    let mut errs = FieldErrors::default();
    let name = name.trim();
    if let Err(m) = users::check_name(name) {
        errs.add("name", m);
    }
    let email_key = crate::text::email_key(email);
    if email_key.is_empty() {
        errs.add("email", "Email is required");
    } else if !crate::input::is_email(&email_key) {
        errs.add("email", "Invalid email format");
    }
    if let Err(m) = password::check_policy(password_plain, &email_key) {
        errs.add("password", m);
    }
    errs.finish()?;
    if users::find_by_email(db, &email_key).await?.is_some() {
        // Spend the same time as a real sign-up so timing tells nothing either.
        let _ = password::hash(password_plain.to_string()).await;
        return Ok(email_key);
    }
    let new = users::NewUser {
        email: email_key.clone(),
        name: name.to_string(),
        role: Role::Rep,
        password: password_plain.to_string(),
        verified: false,
        is_demo: false,
    };
    let u = match users::create(db, new).await {
        Ok(u) => u,
        // lost a race with a concurrent sign-up of the same address: same answer
        Err(CoreError::Validation { fields, .. })
            if fields.get("email").is_some_and(|m| m == "Email already exists") =>
        {
            return Ok(email_key);
        }
        Err(e) => return Err(e),
    };
    send_verification(db, mailer, &u).await?;
    Ok(email_key)
}

async fn send_verification(db: &Db, mailer: &Mailer, u: &user::Model) -> CoreResult<()> {
    let token = tokens::issue(db, u.id, Purpose::VerifyEmail).await?;
    mailer
        .send(templates::verify_email(
            &u.email,
            &u.name,
            &mailer.link(&format!("/auth/verify-email?token={token}")),
        ))
        .await;
    Ok(())
}

pub async fn verify_email(db: &Db, token: &str) -> CoreResult<()> {
    let txn = db.conn.begin().await?;
    let user_id = tokens::consume(db, &txn, token, Purpose::VerifyEmail).await?;
    user::Entity::update_many()
        .col_expr(
            user::Column::EmailVerifiedAt,
            sea_orm::sea_query::Expr::value(clock::now()),
        )
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::EmailVerifiedAt.is_null())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// A new verification link, if the address has an unverified account. Same answer always.
pub async fn resend_verification(db: &Db, mailer: &Mailer, email: &str) -> CoreResult<()> {
    if let Some(u) = users::find_by_email(db, email).await?
        && u.email_verified_at.is_none()
        && u.is_active
    {
        send_verification(db, mailer, &u).await?;
    }
    Ok(())
}

/// A reset link, if the address has an active account. Same answer always.
pub async fn forgot_password(db: &Db, mailer: &Mailer, email: &str) -> CoreResult<()> {
    if let Some(u) = users::find_by_email(db, email).await?
        && u.is_active
    {
        let token = tokens::issue(db, u.id, Purpose::ResetPassword).await?;
        mailer
            .send(templates::reset_password(
                &u.email,
                &u.name,
                &mailer.link(&format!("/auth/reset-password?token={token}")),
            ))
            .await;
    }
    Ok(())
}

/// Set a new password with a reset token: every session of the user ends, a notice is sent.
/// Following the link proves the address, so an unverified account becomes verified.
pub async fn reset_password(db: &Db, mailer: &Mailer, token: &str, new_password: &str) -> CoreResult<()> {
    let user_id = tokens::peek(db, token, Purpose::ResetPassword).await?;
    let u = users::find(db, user_id)
        .await?
        .ok_or_else(|| CoreError::bad_request("This password reset link is invalid."))?;
    password::check_policy(new_password, &u.email).map_err(|m| CoreError::field("password", m))?;
    let hash = password::hash(new_password.to_string()).await?;
    let txn = db.conn.begin().await?;
    tokens::consume(db, &txn, token, Purpose::ResetPassword).await?;
    let mut am: user::ActiveModel = u.clone().into();
    am.password_hash = Set(hash);
    am.failed_sign_ins = Set(0);
    am.locked_until = Set(None);
    if u.email_verified_at.is_none() {
        am.email_verified_at = Set(Some(clock::now()));
    }
    am.updated_at = Set(clock::now());
    super::profile::save_new_password(txn, mailer, &users::actor_of(&u), &u, am, None, "password_reset").await
}
