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

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: Uuid,
    pub actor_id: Option<Uuid>,
    pub actor_name: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    /// What the record is called now (or was, when it is gone and the entry kept a
    /// snapshot); `None` when neither tells.
    pub entity_name: Option<String>,
    /// The record's page, while it exists.
    pub entity_url: Option<String>,
    pub changes: Option<serde_json::Value>,
    pub ip_address: Option<String>,
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
    let names = crate::accounts::users::names(db, rows.iter().filter_map(|r| r.actor_id)).await?;
    let records = record_names(db, &rows).await?;
    let items = rows
        .into_iter()
        .map(|r| {
            let changes: Option<serde_json::Value> = r.changes.and_then(|c| serde_json::from_str(&c).ok());
            let live = r
                .entity_id
                .as_ref()
                .and_then(|id| records.get(&(r.entity_type.clone(), id.clone())));
            let (entity_name, entity_url) = match live {
                Some((name, url)) => (Some(name.clone()), url.clone()),
                None => (changes.as_ref().and_then(snapshot_name), None),
            };
            Entry {
                id: r.id,
                actor_name: r.actor_id.and_then(|a| names.get(&a).cloned()),
                actor_id: r.actor_id,
                action: r.action,
                entity_type: r.entity_type,
                entity_id: r.entity_id,
                entity_name,
                entity_url,
                changes,
                ip_address: r.ip_address,
                created_at: clock::fmt(&r.created_at),
            }
        })
        .collect();
    Ok(Page {
        items,
        pagination: Pagination::new(p.page, total),
    })
}

/// The name of a record from the snapshot a create or delete entry keeps.
fn snapshot_name(v: &serde_json::Value) -> Option<String> {
    let s = |k: &str| v.get(k).and_then(|x| x.as_str());
    match (s("firstName"), s("lastName")) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        _ => s("name")
            .or(s("subject"))
            .or(s("title"))
            .or(s("email"))
            .map(str::to_string),
    }
}

/// (name, page) of each record a page of entries names, read per kind in one query each
/// (the audit log is for admins, who see every record).
async fn record_names(
    db: &Db,
    rows: &[audit_log::Model],
) -> CoreResult<std::collections::HashMap<(String, String), (String, Option<String>)>> {
    use crate::entities::{activity, company, contact, deal, task};
    let ids = |kind: &str| -> Vec<Uuid> {
        rows.iter()
            .filter(|r| r.entity_type == kind)
            .filter_map(|r| r.entity_id.as_deref().and_then(|i| Uuid::parse_str(i).ok()))
            .collect()
    };
    let mut out = std::collections::HashMap::new();
    let mut put = |kind: &str, id: Uuid, name: String, url: Option<String>| {
        out.insert((kind.to_string(), id.to_string()), (name, url));
    };
    for c in contact::Entity::find()
        .filter(contact::Column::Id.is_in(ids("contact")))
        .all(&db.conn)
        .await?
    {
        put(
            "contact",
            c.id,
            format!("{} {}", c.first_name, c.last_name),
            Some(format!("/contacts/{}", c.id)),
        );
    }
    for c in company::Entity::find()
        .filter(company::Column::Id.is_in(ids("company")))
        .all(&db.conn)
        .await?
    {
        put("company", c.id, c.name, Some(format!("/companies/{}", c.id)));
    }
    for d in deal::Entity::find()
        .filter(deal::Column::Id.is_in(ids("deal")))
        .all(&db.conn)
        .await?
    {
        put("deal", d.id, d.name, Some(format!("/deals/{}", d.id)));
    }
    for t in task::Entity::find()
        .filter(task::Column::Id.is_in(ids("task")))
        .all(&db.conn)
        .await?
    {
        put("task", t.id, t.title, Some(format!("/tasks/{}/edit", t.id)));
    }
    for a in activity::Entity::find()
        .filter(activity::Column::Id.is_in(ids("activity")))
        .all(&db.conn)
        .await?
    {
        put("activity", a.id, a.subject, Some(format!("/activities/{}/edit", a.id)));
    }
    for u in user::Entity::find()
        .filter(user::Column::Id.is_in(ids("user")))
        .all(&db.conn)
        .await?
    {
        put("user", u.id, u.name, Some(format!("/admin/users/{}", u.id)));
    }
    Ok(out)
}
