//! Sign-in history: every attempt with its IP, user agent and outcome (unknown e-mails too,
//! with no user attached).

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::clock;
use crate::db::Db;
use crate::entities::{sign_in_history as h, user};
use crate::error::CoreResult;

pub struct Attempt<'a> {
    pub user_id: Option<Uuid>,
    pub email: &'a str,
    pub ip: &'a str,
    pub user_agent: Option<&'a str>,
    pub failure: Option<&'a str>,
}

pub async fn record(db: &Db, a: Attempt<'_>) -> CoreResult<()> {
    let now = clock::now();
    h::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(a.user_id),
        email: Set(crate::text::email_key(a.email).chars().take(254).collect()),
        ip_address: Set(a.ip.to_string()),
        user_agent: Set(a.user_agent.map(|u| u.chars().take(300).collect())),
        success: Set(a.failure.is_none()),
        failure_reason: Set(a.failure.map(|f| f.to_string())),
        created_at: Set(now),
    }
    .insert(&db.conn)
    .await?;
    if a.failure.is_none()
        && let Some(id) = a.user_id
    {
        user::Entity::update_many()
            .col_expr(
                user::Column::LastSignInIp,
                sea_orm::sea_query::Expr::value(a.ip.to_string()),
            )
            .col_expr(
                user::Column::LastSignInAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(user::Column::Id.eq(id))
            .exec(&db.conn)
            .await?;
    }
    Ok(())
}
