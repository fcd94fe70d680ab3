//! First run: while no user exists, a one-time setup token (kept only as its hash) lets
//! whoever holds the link printed by `crm serve` (or `crm setup-link`) create the first
//! admin. Using the token deletes it in the same transaction that creates the admin, so
//! two concurrent submissions cannot both succeed.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set, TransactionTrait};

use super::users::{self, NewUser};
use super::{hash_token, random_token};
use crate::actor::Role;
use crate::clock;
use crate::db::Db;
use crate::entities::{app_setting, user};
use crate::error::{CoreError, CoreResult};

const KEY: &str = "setup_token_hash";

pub async fn needed(db: &Db) -> CoreResult<bool> {
    Ok(user::Entity::find().count(&db.conn).await? == 0)
}

/// A fresh setup token (any earlier one stops working). Refused once a user exists.
pub async fn new_token(db: &Db) -> CoreResult<String> {
    if !needed(db).await? {
        return Err(CoreError::Conflict("Setup is already done: users exist.".into()));
    }
    let token = random_token();
    let txn = db.conn.begin().await?;
    app_setting::Entity::delete_by_id(KEY.to_string()).exec(&txn).await?;
    app_setting::ActiveModel {
        key: Set(KEY.into()),
        value: Set(hash_token(&token)),
        updated_at: Set(clock::now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(token)
}

pub async fn token_valid(db: &Db, token: &str) -> CoreResult<bool> {
    let row = app_setting::Entity::find_by_id(KEY.to_string()).one(&db.conn).await?;
    Ok(row.is_some_and(|r| r.value == hash_token(token)) && needed(db).await?)
}

/// Create the first admin (active, verified) with the token; the token dies with it.
pub async fn complete(db: &Db, token: &str, name: &str, email: &str, password: &str) -> CoreResult<user::Model> {
    if !token_valid(db, token).await? {
        return Err(CoreError::Forbidden(
            "This setup link is invalid or was already used.".into(),
        ));
    }
    let model = users::prepare(NewUser {
        email: email.into(),
        name: name.into(),
        role: Role::Admin,
        password: password.into(),
        verified: true,
        is_demo: false,
    })
    .await?;
    let txn = db.conn.begin().await?;
    let used = app_setting::Entity::delete_many()
        .filter(app_setting::Column::Key.eq(KEY))
        .filter(app_setting::Column::Value.eq(hash_token(token)))
        .exec(&txn)
        .await?;
    if used.rows_affected != 1 {
        return Err(CoreError::Forbidden(
            "This setup link is invalid or was already used.".into(),
        ));
    }
    let admin = users::insert(&txn, model).await?;
    crate::audit::record(
        &txn,
        Some(&users::actor_of(&admin)),
        "setup",
        "user",
        Some(admin.id.to_string()),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(admin)
}
