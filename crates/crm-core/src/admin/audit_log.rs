//! Reading the audit log (admins only): filter by actor, entity, action and dates.

use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use uuid::Uuid;

use crate::actor::{Actor, Role};
use crate::clock;
use crate::db::Db;
use crate::entities::{audit_log, user};
use crate::error::{CoreError, CoreResult};
use crate::page::{Page, PageReq, Pagination};
use crate::query::QueryParams;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: Uuid,
    pub actor_id: Option<Uuid>,
    pub actor_name: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub changes: Option<serde_json::Value>,
    pub created_at: String,
}

pub struct Params {
    pub actor_id: Option<Uuid>,
    pub entity_type: Option<String>,
    pub action: Option<String>,
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    pub page: PageReq,
}

impl Params {
    pub fn parse(q: &QueryParams) -> CoreResult<Params> {
        let mut errs = q.errors();
        let actor_id = q.opt_uuid("actorId", "Invalid user ID", &mut errs);
        let date = |key: &str, errs: &mut crate::error::FieldErrors| {
            q.get(key).and_then(|v| match crate::input::parse_datetime(v) {
                Some(t) => Some(t),
                None => {
                    errs.add(key, "Invalid date format (use YYYY-MM-DD)");
                    None
                }
            })
        };
        let from = date("from", &mut errs);
        let to = date("to", &mut errs).map(|t| t + chrono::Duration::days(1));
        let page = q.page(50, &mut errs);
        errs.finish()?;
        Ok(Params {
            actor_id,
            entity_type: q.get("entityType").map(str::to_string),
            action: q.get("action").map(str::to_string),
            from,
            to,
            page,
        })
    }
}

pub async fn list(db: &Db, actor: &Actor, p: &Params) -> CoreResult<Page<Entry>> {
    if actor.role != Role::Admin {
        return Err(CoreError::Forbidden(
            "Only administrators can read the audit log".into(),
        ));
    }
    let mut c = Condition::all();
    if let Some(a) = p.actor_id {
        c = c.add(audit_log::Column::ActorId.eq(a));
    }
    if let Some(t) = &p.entity_type {
        c = c.add(audit_log::Column::EntityType.eq(t.as_str()));
    }
    if let Some(a) = &p.action {
        c = c.add(audit_log::Column::Action.eq(a.as_str()));
    }
    if let Some(f) = p.from {
        c = c.add(audit_log::Column::CreatedAt.gte(f));
    }
    if let Some(t) = p.to {
        c = c.add(audit_log::Column::CreatedAt.lt(t));
    }
    let base = audit_log::Entity::find().filter(c);
    let total = base.clone().count(&db.conn).await?;
    let rows = base
        .order_by_desc(audit_log::Column::CreatedAt)
        .order_by_desc(audit_log::Column::Id)
        .offset(p.page.offset())
        .limit(p.page.limit)
        .all(&db.conn)
        .await?;
    let ids: Vec<Uuid> = rows.iter().filter_map(|r| r.actor_id).collect();
    let names: std::collections::HashMap<Uuid, String> = if ids.is_empty() {
        Default::default()
    } else {
        user::Entity::find()
            .filter(user::Column::Id.is_in(ids))
            .all(&db.conn)
            .await?
            .into_iter()
            .map(|u| (u.id, u.name))
            .collect()
    };
    let items = rows
        .into_iter()
        .map(|r| Entry {
            id: r.id,
            actor_name: r.actor_id.and_then(|a| names.get(&a).cloned()),
            actor_id: r.actor_id,
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            changes: r.changes.and_then(|c| serde_json::from_str(&c).ok()),
            created_at: clock::fmt(&r.created_at),
        })
        .collect();
    Ok(Page {
        items,
        pagination: Pagination::new(p.page, total),
    })
}
