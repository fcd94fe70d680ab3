//! Users: creation (CLI, admin), lookup, password changes, deactivation.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};
use serde::Serialize;
use uuid::Uuid;

use crate::accounts::password;
use crate::actor::{Actor, Role};
use crate::clock;
use crate::db::Db;
use crate::entities::user;
use crate::error::{CoreError, CoreResult, is_unique_violation};
use crate::input::is_email;
use crate::text::email_key;

/// The public face of a user: never the hash, the 2FA secret or sign-in IPs.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserRef {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub role: Role,
}

impl From<&user::Model> for UserRef {
    fn from(u: &user::Model) -> Self {
        UserRef {
            id: u.id,
            name: u.name.clone(),
            email: u.email.clone(),
            role: u.role,
        }
    }
}

pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
    pub verified: bool,
    pub is_demo: bool,
}

pub async fn create(db: &Db, new: NewUser) -> CoreResult<user::Model> {
    let model = prepare(new).await?;
    insert(&db.conn, model).await
}

/// A user's name (trimmed): required, at most 100 characters, no control characters — the
/// rule of sign-up, setup, admin-created users and accepted invitations.
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        Err("Name is required")
    } else if name.chars().count() > 100 {
        Err("Name must be less than 100 characters")
    } else if name.chars().any(char::is_control) {
        Err("Name contains a control character")
    } else {
        Ok(())
    }
}

/// Validate a new user and hash the password (slow: done before any transaction).
pub async fn prepare(new: NewUser) -> CoreResult<user::ActiveModel> {
    let email = email_key(&new.email);
    if !is_email(&email) {
        return Err(CoreError::field("email", "Invalid email format"));
    }
    let name = new.name.trim().to_string();
    if let Err(m) = check_name(&name) {
        return Err(CoreError::field("name", m));
    }
    password::check_policy(&new.password, &email).map_err(|m| CoreError::field("password", m))?;
    let hash = password::hash(new.password).await?;
    let now = clock::now();
    let model = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email),
        password_hash: Set(hash),
        name: Set(name),
        role: Set(new.role),
        avatar: Set(None),
        bio: Set(None),
        is_active: Set(true),
        email_verified_at: Set(new.verified.then_some(now)),
        two_factor_enabled: Set(false),
        two_factor_secret: Set(None),
        two_factor_last_step: Set(None),
        last_sign_in_ip: Set(None),
        last_sign_in_at: Set(None),
        last_sign_in_method: Set(None),
        failed_sign_ins: Set(0),
        locked_until: Set(None),
        is_demo: Set(new.is_demo),
        invited_at: Set(None),
        invited_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    Ok(model)
}

pub async fn insert(conn: &impl sea_orm::ConnectionTrait, model: user::ActiveModel) -> CoreResult<user::Model> {
    model.insert(conn).await.map_err(|e| {
        if is_unique_violation(&e) {
            CoreError::field("email", "Email already exists")
        } else {
            e.into()
        }
    })
}

pub async fn find_by_email(db: &Db, email: &str) -> CoreResult<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email_key(email)))
        .one(&db.conn)
        .await?)
}

/// The names of users by id (one query; none for an empty list). User names are not
/// scoped: every member of the team sees who owns or did what.
pub async fn names(
    db: &impl crate::db::Conn,
    ids: impl IntoIterator<Item = Uuid>,
) -> CoreResult<std::collections::HashMap<Uuid, String>> {
    let mut ids: Vec<Uuid> = ids.into_iter().collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db.conn())
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect())
}

pub async fn find(db: &Db, id: Uuid) -> CoreResult<Option<user::Model>> {
    Ok(user::Entity::find_by_id(id).one(&db.conn).await?)
}

pub async fn count(db: &Db) -> CoreResult<u64> {
    Ok(user::Entity::find().count(&db.conn).await?)
}

pub async fn list(db: &Db) -> CoreResult<Vec<user::Model>> {
    Ok(user::Entity::find()
        .order_by_asc(user::Column::Email)
        .all(&db.conn)
        .await?)
}

/// Active users, for "Assigned to" pickers.
pub async fn list_active(db: &Db) -> CoreResult<Vec<UserRef>> {
    let users = user::Entity::find()
        .filter(user::Column::IsActive.eq(true))
        .order_by_asc(user::Column::Name)
        .all(&db.conn)
        .await?;
    Ok(users.iter().map(UserRef::from).collect())
}

/// The users `actor` may give records to: every active user for admins and managers,
/// nobody for reps (they always own what they create).
pub async fn assignees(db: &Db, actor: &Actor) -> CoreResult<Vec<UserRef>> {
    if actor.may_assign() {
        list_active(db).await
    } else {
        Ok(vec![])
    }
}

pub async fn set_password(db: &Db, email: &str, new_password: String) -> CoreResult<()> {
    let u = find_by_email(db, email)
        .await?
        .ok_or_else(|| CoreError::not_found("User"))?;
    password::check_policy(&new_password, &u.email).map_err(|m| CoreError::field("password", m))?;
    let hash = password::hash(new_password).await?;
    let id = u.id;
    let mut am: user::ActiveModel = u.into();
    am.password_hash = Set(hash);
    am.failed_sign_ins = Set(0);
    am.locked_until = Set(None);
    am.updated_at = Set(clock::now());
    am.update(&db.conn).await?;
    // A new password ends every session of that user.
    super::sessions::end_all(&db.conn, id, None).await?;
    Ok(())
}

pub async fn deactivate(db: &Db, email: &str) -> CoreResult<()> {
    let u = find_by_email(db, email)
        .await?
        .ok_or_else(|| CoreError::not_found("User"))?;
    let id = u.id;
    let mut am: user::ActiveModel = u.into();
    am.is_active = Set(false);
    am.updated_at = Set(clock::now());
    am.update(&db.conn).await?;
    super::sessions::end_all(&db.conn, id, None).await?;
    Ok(())
}

/// The actor a user acts as.
pub fn actor_of(u: &user::Model) -> Actor {
    Actor {
        id: u.id,
        role: u.role,
        name: u.name.clone(),
        email: u.email.clone(),
        origin: None,
    }
}

/// Check e-mail + password. The same answer for an unknown e-mail and a wrong password,
/// and the same time spent (a dummy hash is verified for unknown e-mails).
pub async fn check_credentials(db: &Db, email: &str, password_plain: &str) -> CoreResult<user::Model> {
    let found = find_by_email(db, email).await?;
    let ok = password::verify(
        password_plain.to_string(),
        found.as_ref().map(|u| u.password_hash.clone()),
    )
    .await;
    match found {
        Some(u) if ok => {
            if !u.is_active {
                return Err(CoreError::Forbidden(
                    "Account is inactive. Please contact your administrator.".into(),
                ));
            }
            if u.email_verified_at.is_none() {
                return Err(CoreError::Forbidden(
                    "Please verify your email address before signing in. Check your inbox for verification link."
                        .into(),
                ));
            }
            if password::needs_upgrade(&u.password_hash) {
                return upgrade_hash(db, u, password_plain).await;
            }
            Ok(u)
        }
        _ => Err(CoreError::Unauthenticated("Invalid email or password".into())),
    }
}

/// A password just verified against an old (bcrypt) hash is stored again as argon2id.
/// Only if the hash is still the one verified (a concurrent password change wins); a
/// failure here is logged and does not fail the sign-in.
async fn upgrade_hash(db: &Db, mut u: user::Model, password_plain: &str) -> CoreResult<user::Model> {
    let new_hash = match password::hash(password_plain.to_string()).await {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!("password hash upgrade for {} failed: {e}", u.id);
            return Ok(u);
        }
    };
    let res = user::Entity::update_many()
        .col_expr(
            user::Column::PasswordHash,
            sea_orm::sea_query::Expr::value(new_hash.clone()),
        )
        .filter(user::Column::Id.eq(u.id))
        .filter(user::Column::PasswordHash.eq(u.password_hash.as_str()))
        .exec(&db.conn)
        .await;
    match res {
        Ok(r) if r.rows_affected == 1 => u.password_hash = new_hash,
        Ok(_) => {}
        Err(e) => tracing::warn!("password hash upgrade for {} failed: {e}", u.id),
    }
    Ok(u)
}
