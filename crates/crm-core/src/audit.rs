//! The audit log: who did what to which record, written in the same transaction as
//! the change it records.

use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde_json::Value;
use uuid::Uuid;

use crate::actor::Actor;
use crate::clock;
use crate::entities::audit_log;
use crate::error::CoreResult;

/// At most this many refusals per user and minute are written one by one; beyond, the
/// newest entry counts the rest (`"suppressed": n`), so one user cannot flood the log.
pub const DENIALS_PER_MINUTE: u64 = 30;
/// This many refusals of one user within five minutes e-mail the administrators (once).
pub const DENIALS_ALERT: u64 = 20;

pub async fn record(
    conn: &impl ConnectionTrait,
    actor: Option<&Actor>,
    action: &str,
    entity_type: &str,
    entity_id: Option<String>,
    changes: Option<Value>,
) -> CoreResult<()> {
    audit_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        actor_id: Set(actor.map(|a| a.id)),
        action: Set(action.to_string()),
        entity_type: Set(entity_type.to_string()),
        entity_id: Set(entity_id),
        changes: Set(changes.map(|c| c.to_string())),
        ip_address: Set(None),
        created_at: Set(clock::now()),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// `{field: [before, after]}` for the fields that changed.
pub fn diff(before: &Value, after: &Value) -> Value {
    let mut out = serde_json::Map::new();
    if let (Value::Object(b), Value::Object(a)) = (before, after) {
        for (k, av) in a {
            let bv = b.get(k).unwrap_or(&Value::Null);
            if bv != av && k != "updatedAt" {
                out.insert(k.clone(), Value::Array(vec![bv.clone(), av.clone()]));
            }
        }
    }
    Value::Object(out)
}

/// Record a request refused for scope or role (action `denied`): the actor, the kind and
/// id of the record or `admin` action, the client IP and route. Never fails the caller —
/// the refusal stands whatever happens here.
pub async fn denied(db: &crate::Db, actor: &Actor, kind: &str, id: Option<String>) {
    if let Err(e) = write_denial(db, actor, kind, id).await {
        tracing::error!(actor = %actor.id, "a refusal could not be audited: {e}");
    }
}

async fn write_denial(db: &crate::Db, actor: &Actor, kind: &str, id: Option<String>) -> CoreResult<()> {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
    let now = clock::now();
    let mine = || {
        audit_log::Entity::find()
            .filter(audit_log::Column::ActorId.eq(actor.id))
            .filter(audit_log::Column::Action.eq("denied"))
    };
    let last_minute = mine()
        .filter(audit_log::Column::CreatedAt.gte(now - chrono::Duration::minutes(1)))
        .count(&db.conn)
        .await?;
    let route = actor.origin.as_ref().map(|o| o.route.clone());
    if last_minute >= DENIALS_PER_MINUTE {
        if let Some(newest) = mine().order_by_desc(audit_log::Column::CreatedAt).one(&db.conn).await? {
            let mut changes: Value = newest
                .changes
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok())
                .unwrap_or_else(|| serde_json::json!({}));
            let n = changes.get("suppressed").and_then(Value::as_u64).unwrap_or(0) + 1;
            changes["suppressed"] = Value::from(n);
            let mut am: audit_log::ActiveModel = newest.into();
            am.changes = Set(Some(changes.to_string()));
            am.update(&db.conn).await?;
        }
        return Ok(());
    }
    audit_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        actor_id: Set(Some(actor.id)),
        action: Set("denied".into()),
        entity_type: Set(kind.to_string()),
        entity_id: Set(id),
        changes: Set(route.map(|r| serde_json::json!({ "route": r }).to_string())),
        ip_address: Set(actor.origin.as_ref().map(|o| o.ip.clone())),
        created_at: Set(now),
    }
    .insert(&db.conn)
    .await?;
    let recent = mine()
        .filter(audit_log::Column::CreatedAt.gte(now - chrono::Duration::minutes(5)))
        .count(&db.conn)
        .await?;
    if recent == DENIALS_ALERT {
        let admins = crate::entities::user::Entity::find()
            .filter(crate::entities::user::Column::Role.eq(crate::Role::Admin))
            .filter(crate::entities::user::Column::IsActive.eq(true))
            .all(&db.conn)
            .await?;
        for a in admins {
            let mail = crate::mail::templates::denials_alert(&a.email, &a.name, &actor.name, &actor.email, recent);
            crate::mail::queue(db, mail).await;
        }
    }
    Ok(())
}
