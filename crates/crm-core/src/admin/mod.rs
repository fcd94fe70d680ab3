//! User administration and the audit log. Who may do what to users is decided here and
//! only here ([`can`]): admins everything; managers list and view users and create reps;
//! reps nothing.

pub mod audit_log;
pub mod invites;
pub mod users;

use crate::actor::{Actor, Role};
use crate::error::{CoreError, CoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAction {
    Read,
    Create,
    Update,
    Delete,
    /// Webhook endpoints and their deliveries (admins only).
    Webhooks,
}

pub fn can(actor: &Actor, action: UserAction) -> CoreResult<()> {
    let ok = match actor.role {
        Role::Admin => true,
        Role::Manager => matches!(action, UserAction::Read | UserAction::Create),
        Role::Rep => false,
    };
    if ok {
        return Ok(());
    }
    if action == UserAction::Webhooks {
        return Err(CoreError::Forbidden("Only administrators can manage webhooks".into()));
    }
    let verb = match action {
        UserAction::Read => "read",
        UserAction::Create => "create",
        UserAction::Update => "update",
        UserAction::Delete | UserAction::Webhooks => "delete",
    };
    Err(CoreError::Forbidden(format!(
        "You don't have permission to {verb} users"
    )))
}

/// [`can`], and a refusal audited (`denied`, kind `admin`, the action) — what every admin
/// operation calls first.
pub async fn require(db: &crate::Db, actor: &Actor, action: UserAction) -> CoreResult<()> {
    let r = can(actor, action);
    if r.is_err() {
        let what = match action {
            UserAction::Webhooks => "webhooks".to_string(),
            other => format!("users:{}", format!("{other:?}").to_lowercase()),
        };
        crate::audit::denied(db, actor, "admin", Some(what)).await;
    }
    r
}

/// Remove every demo record and the demo users (administrators only).
pub async fn remove_demo_data(db: &crate::Db, actor: &Actor) -> CoreResult<u64> {
    if actor.role != Role::Admin {
        return Err(CoreError::Forbidden("Only administrators can remove demo data".into()));
    }
    crate::seed::remove_demo(db).await.map_err(CoreError::Internal)
}
