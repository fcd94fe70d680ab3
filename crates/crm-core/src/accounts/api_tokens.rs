//! Personal API tokens: `Authorization: Bearer crm_…`, acting with the owner's permissions.
//! The secret is shown once at creation and stored only as its hash.

use chrono::Duration;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Serialize;
use uuid::Uuid;

use super::{hash_token, random_token, users};
use crate::actor::Actor;
use crate::clock;
use crate::db::Db;
use crate::entities::{api_token as t, user};
use crate::error::{CoreError, CoreResult, FieldErrors};
use crate::input::Input;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    pub id: Uuid,
    pub name: String,
    /// The first characters, to recognise a token in a list.
    pub prefix: String,
    pub last_used_at: Option<String>,
    pub expires_at: Option<String>,
    pub created_at: String,
    /// Only in the answer to the creation, never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl From<t::Model> for TokenView {
    fn from(m: t::Model) -> Self {
        TokenView {
            id: m.id,
            name: m.name,
            prefix: m.token_prefix,
            last_used_at: clock::fmt_opt(&m.last_used_at),
            expires_at: clock::fmt_opt(&m.expires_at),
            created_at: clock::fmt(&m.created_at),
            token: None,
        }
    }
}

pub async fn create(db: &Db, actor: &Actor, mut input: Input) -> CoreResult<TokenView> {
    let name = input.req_text("name", "Name", 100).value();
    let days = input.opt_count(
        "expiresInDays",
        "Expiry must be a whole number of days",
        "Expiry must be positive",
    );
    input.finish()?;
    let days = days.value();
    if let Some(d) = days
        && !(1..=3650).contains(&d)
    {
        let mut errs = FieldErrors::default();
        errs.add("expiresInDays", "Expiry must be between 1 and 3650 days");
        errs.finish()?;
    }
    let secret = format!("crm_{}", random_token());
    let now = clock::now();
    let saved = t::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(actor.id),
        name: Set(name.unwrap_or_default()),
        token_hash: Set(hash_token(&secret)),
        token_prefix: Set(secret.chars().take(10).collect()),
        last_used_at: Set(None),
        expires_at: Set(days.map(|d| now + Duration::days(d))),
        created_at: Set(now),
    }
    .insert(&db.conn)
    .await?;
    let mut view = TokenView::from(saved);
    view.token = Some(secret);
    Ok(view)
}

pub async fn list(db: &Db, actor: &Actor) -> CoreResult<Vec<TokenView>> {
    let rows = t::Entity::find()
        .filter(t::Column::UserId.eq(actor.id))
        .order_by_desc(t::Column::CreatedAt)
        .all(&db.conn)
        .await?;
    Ok(rows.into_iter().map(TokenView::from).collect())
}

/// Revoke one of the actor's own tokens (someone else's is simply not found).
pub async fn revoke(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<()> {
    let res = t::Entity::delete_many()
        .filter(t::Column::Id.eq(id))
        .filter(t::Column::UserId.eq(actor.id))
        .exec(&db.conn)
        .await?;
    if res.rows_affected == 0 {
        return Err(CoreError::not_found("Token"));
    }
    Ok(())
}

/// The actor a bearer token acts as; expired tokens and inactive owners give `None`.
pub async fn lookup(db: &Db, secret: &str) -> CoreResult<Option<(Uuid, Actor)>> {
    let Some(tok) = t::Entity::find()
        .filter(t::Column::TokenHash.eq(hash_token(secret)))
        .one(&db.conn)
        .await?
    else {
        return Ok(None);
    };
    let now = clock::now();
    if tok.expires_at.is_some_and(|e| e <= now) {
        return Ok(None);
    }
    let Some(u) = user::Entity::find_by_id(tok.user_id).one(&db.conn).await? else {
        return Ok(None);
    };
    if !u.is_active {
        return Ok(None);
    }
    if tok.last_used_at.is_none_or(|t| now - t > Duration::seconds(60)) {
        t::Entity::update_many()
            .col_expr(t::Column::LastUsedAt, sea_orm::sea_query::Expr::value(now))
            .filter(t::Column::Id.eq(tok.id))
            .exec(&db.conn)
            .await?;
    }
    Ok(Some((tok.id, users::actor_of(&u))))
}
