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
    /// How: `password` (the form or the API), `oidc` or `github`.
    pub method: &'a str,
}

/// A past sign-in attempt, as its owner (settings) and admins (the user's page) see it.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PastAttempt {
    pub ip_address: String,
    pub user_agent: Option<String>,
    pub success: bool,
    pub failure_reason: Option<String>,
    /// `password`, `oidc` or `github`.
    pub method: String,
    pub created_at: String,
}

impl PastAttempt {
    /// Was this a single sign-on (OpenID Connect or GitHub)?
    pub fn by_sso(&self) -> bool {
        self.method != "password"
    }
}

/// The newest `limit` sign-in attempts on one account.
pub async fn recent(db: &Db, user_id: Uuid, limit: u64) -> CoreResult<Vec<PastAttempt>> {
    use sea_orm::{QueryOrder, QuerySelect};
    Ok(h::Entity::find()
        .filter(h::Column::UserId.eq(user_id))
        .order_by_desc(h::Column::CreatedAt)
        .limit(limit)
        .all(&db.conn)
        .await?
        .into_iter()
        .map(|h| PastAttempt {
            ip_address: h.ip_address,
            user_agent: h.user_agent,
            success: h.success,
            failure_reason: h.failure_reason,
            method: h.method,
            created_at: clock::fmt(&h.created_at),
        })
        .collect())
}

/// Failed sign-in attempts since start (for `/metrics`).
pub static FAILURES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub async fn record(db: &Db, a: Attempt<'_>) -> CoreResult<()> {
    let now = clock::now();
    if a.failure.is_some() {
        FAILURES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    h::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(a.user_id),
        email: Set(crate::text::email_key(a.email).chars().take(254).collect()),
        ip_address: Set(a.ip.to_string()),
        user_agent: Set(a.user_agent.map(|u| u.chars().take(300).collect())),
        success: Set(a.failure.is_none()),
        failure_reason: Set(a.failure.map(|f| f.to_string())),
        method: Set(a.method.to_string()),
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
            .col_expr(user::Column::LastSignInAt, sea_orm::sea_query::Expr::value(now))
            .col_expr(
                user::Column::LastSignInMethod,
                sea_orm::sea_query::Expr::value(a.method.to_string()),
            )
            .filter(user::Column::Id.eq(id))
            .exec(&db.conn)
            .await?;
    }
    Ok(())
}

/// After a correct password, before the attempt is recorded: is this sign-in worth an
/// alert to the account owner? The first matching reason, or `None`.
pub async fn suspicious(db: &Db, user_id: Uuid, ip: &str) -> CoreResult<Option<&'static str>> {
    use sea_orm::QueryOrder;
    let now = clock::now();
    let rows = h::Entity::find()
        .filter(h::Column::UserId.eq(user_id))
        .filter(h::Column::CreatedAt.gt(now - chrono::Duration::hours(24)))
        .order_by_desc(h::Column::CreatedAt)
        .all(&db.conn)
        .await?;
    if rows.iter().filter(|r| !r.success && r.ip_address == ip).count() >= 3 {
        return Ok(Some(
            "Multiple failed sign-in attempts from the same IP address before this sign-in",
        ));
    }
    let recent: std::collections::HashSet<&str> = rows
        .iter()
        .filter(|r| r.created_at > now - chrono::Duration::minutes(10))
        .map(|r| r.ip_address.as_str())
        .chain([ip])
        .collect();
    if recent.len() >= 3 {
        return Ok(Some("Sign-in attempts from several IP addresses in a short time"));
    }
    let ever_succeeded = h::Entity::find()
        .filter(h::Column::UserId.eq(user_id))
        .filter(h::Column::Success.eq(true))
        .one(&db.conn)
        .await?
        .is_some();
    let known_ip = h::Entity::find()
        .filter(h::Column::UserId.eq(user_id))
        .filter(h::Column::Success.eq(true))
        .filter(h::Column::IpAddress.eq(ip))
        .one(&db.conn)
        .await?
        .is_some();
    if ever_succeeded && !known_ip {
        return Ok(Some("Sign-in from a new IP address"));
    }
    Ok(None)
}
