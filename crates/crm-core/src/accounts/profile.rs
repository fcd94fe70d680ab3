//! A user's own account: profile, password change, and their active sessions.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait};
use uuid::Uuid;

use super::{password, users};
use crate::actor::Actor;
use crate::clock;
use crate::db::Db;
use crate::entities::{session, user};
use crate::error::{CoreError, CoreResult};
use crate::input::{Field, Input};
use crate::mail::{Mailer, templates};

async fn me(db: &Db, actor: &Actor) -> CoreResult<user::Model> {
    users::find(db, actor.id)
        .await?
        .ok_or_else(|| CoreError::Unauthenticated("Not authenticated".into()))
}

/// Name, bio and avatar URL; only these fields, whatever else the body holds.
pub async fn update_profile(db: &Db, actor: &Actor, mut input: Input) -> CoreResult<user::Model> {
    let name = input.req_text("name", "Name", 100);
    let bio = input.opt_text("bio", "Bio", 500);
    let avatar = input.opt_url("avatar", "Invalid avatar URL");
    input.finish()?;
    let u = me(db, actor).await?;
    let mut am: user::ActiveModel = u.clone().into();
    if let Field::Value(n) = name {
        am.name = Set(n);
    }
    am.bio = Set(bio.apply(u.bio.clone()));
    am.avatar = Set(avatar.apply(u.avatar.clone()));
    am.updated_at = Set(clock::now());
    Ok(am.update(&db.conn).await?)
}

/// Change the password (the current one is required); every other session ends.
pub async fn change_password(
    db: &Db,
    mailer: &Mailer,
    actor: &Actor,
    current: &str,
    new: &str,
    keep: Option<Uuid>,
) -> CoreResult<()> {
    let u = me(db, actor).await?;
    if !password::verify(current.to_string(), Some(u.password_hash.clone())).await {
        return Err(CoreError::field("currentPassword", "Current password is incorrect"));
    }
    password::check_policy(new, &u.email).map_err(|m| CoreError::field("newPassword", m))?;
    let hash = password::hash(new.to_string()).await?;
    let txn = db.conn.begin().await?;
    let mut am: user::ActiveModel = u.clone().into();
    am.password_hash = Set(hash);
    am.updated_at = Set(clock::now());
    save_new_password(txn, mailer, actor, &u, am, keep, "password_change").await
}

/// Save a user whose password changed (`am`), end their sessions but `keep`, audit
/// `action`, commit, and tell them by mail.
pub(super) async fn save_new_password(
    txn: sea_orm::DatabaseTransaction,
    mailer: &Mailer,
    actor: &Actor,
    u: &user::Model,
    am: user::ActiveModel,
    keep: Option<Uuid>,
    action: &str,
) -> CoreResult<()> {
    am.update(&txn).await?;
    super::sessions::end_all(&txn, u.id, keep).await?;
    crate::audit::record(&txn, Some(actor), action, "user", Some(u.id.to_string()), None).await?;
    txn.commit().await?;
    let link = mailer.link("/auth/forgot-password");
    mailer.send(templates::password_changed(&u.email, &u.name, &link)).await;
    Ok(())
}

pub async fn sessions(db: &Db, actor: &Actor) -> CoreResult<Vec<session::Model>> {
    Ok(session::Entity::find()
        .filter(session::Column::UserId.eq(actor.id))
        .filter(session::Column::ExpiresAt.gt(clock::now()))
        .order_by_desc(session::Column::LastSeenAt)
        .all(&db.conn)
        .await?)
}

/// End one of the actor's sessions (someone else's is not found).
pub async fn end_session(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<()> {
    let res = session::Entity::delete_many()
        .filter(session::Column::Id.eq(id))
        .filter(session::Column::UserId.eq(actor.id))
        .exec(&db.conn)
        .await?;
    if res.rows_affected == 0 {
        return Err(CoreError::not_found("Session"));
    }
    Ok(())
}

/// End every session of the actor but `keep`; returns how many ended.
pub async fn end_other_sessions(db: &Db, actor: &Actor, keep: Uuid) -> CoreResult<u64> {
    super::sessions::end_all(&db.conn, actor.id, Some(keep)).await
}
