//! Database-backed browser sessions: a random token in an HttpOnly cookie, stored only as
//! its SHA-256 hash, with an idle timeout and an absolute lifetime.

use chrono::Duration;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::{hash_token, random_token};
use crate::actor::Actor;
use crate::clock;
use crate::db::Db;
use crate::entities::{session, user};
use crate::error::CoreResult;

/// Absolute lifetime of a session.
pub const LIFETIME_DAYS: i64 = 30;
/// A session unused this long expires.
pub const IDLE_DAYS: i64 = 7;

pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
}

/// How long a half-open session (password right, second factor pending) lives.
pub const PENDING_MINUTES: i64 = 10;

/// A full session.
pub async fn create(db: &Db, user_id: Uuid, ip: Option<String>, user_agent: Option<String>) -> CoreResult<NewSession> {
    create_with(db, user_id, ip, user_agent, false).await
}

/// A full session, or with `pending` a half-open one that only the 2FA step accepts.
pub async fn create_with(
    db: &Db,
    user_id: Uuid,
    ip: Option<String>,
    user_agent: Option<String>,
    pending: bool,
) -> CoreResult<NewSession> {
    let token = random_token();
    let csrf_token = random_token();
    let now = clock::now();
    session::ActiveModel {
        id: Set(Uuid::now_v7()),
        token_hash: Set(hash_token(&token)),
        user_id: Set(user_id),
        csrf_token: Set(csrf_token.clone()),
        two_factor_pending: Set(pending),
        ip: Set(ip),
        user_agent: Set(user_agent.map(|u| u.chars().take(300).collect())),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(if pending {
            now + Duration::minutes(PENDING_MINUTES)
        } else {
            now + Duration::days(LIFETIME_DAYS)
        }),
    }
    .insert(&db.conn)
    .await?;
    Ok(NewSession { token, csrf_token })
}

/// A live session and its user.
pub struct Current {
    pub session: session::Model,
    pub actor: Actor,
}

/// Look a cookie token up. Expired, idle or deactivated → `None`. Touches `last_seen_at`
/// at most once a minute.
pub async fn lookup(db: &Db, token: &str) -> CoreResult<Option<Current>> {
    let found = session::Entity::find()
        .filter(session::Column::TokenHash.eq(hash_token(token)))
        .one(&db.conn)
        .await?;
    let Some(s) = found else { return Ok(None) };
    let Some(u) = user::Entity::find_by_id(s.user_id).one(&db.conn).await? else {
        return Ok(None);
    };
    let now = clock::now();
    if s.expires_at <= now || s.last_seen_at + Duration::days(IDLE_DAYS) <= now || !u.is_active {
        session::Entity::delete_by_id(s.id).exec(&db.conn).await?;
        return Ok(None);
    }
    if now - s.last_seen_at > Duration::seconds(60) {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, sea_orm::sea_query::Expr::value(now))
            .filter(session::Column::Id.eq(s.id))
            .exec(&db.conn)
            .await?;
    }
    let actor = super::users::actor_of(&u);
    Ok(Some(Current { session: s, actor }))
}

pub async fn delete_by_token(db: &Db, token: &str) -> CoreResult<()> {
    session::Entity::delete_many()
        .filter(session::Column::TokenHash.eq(hash_token(token)))
        .exec(&db.conn)
        .await?;
    Ok(())
}

/// End every session of `user` but `keep`; returns how many ended.
pub async fn end_all(conn: &impl sea_orm::ConnectionTrait, user: Uuid, keep: Option<Uuid>) -> CoreResult<u64> {
    let mut q = session::Entity::delete_many().filter(session::Column::UserId.eq(user));
    if let Some(id) = keep {
        q = q.filter(session::Column::Id.ne(id));
    }
    Ok(q.exec(conn).await?.rows_affected)
}
