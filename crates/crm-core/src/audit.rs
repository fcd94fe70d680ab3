//! The audit log: who did what to which record, written in the same transaction as
//! the change it records.

use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde_json::Value;
use uuid::Uuid;

use crate::actor::Actor;
use crate::clock;
use crate::entities::audit_log;
use crate::error::CoreResult;

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
