//! A record's timeline (a contact, a deal or a company): everything that happened to it,
//! newest first — activities (when they happened), tasks created and completed, deals created
//! and moved between stages, and edits of the record from the audit log. Every kind is read through the actor's
//! scope: a record the actor may not see leaves no trace here, not even a count.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::actor::Actor;
use crate::db::Db;
use crate::entities::{activity, audit_log, contact, deal, deal_stage_history, task};
use crate::error::{CoreError, CoreResult};
use crate::{clock, scope};

/// The kinds a timeline can be filtered to.
pub const FILTERS: [&str; 4] = ["activities", "tasks", "deals", "changes"];

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub at: String,
    /// `activities`, `tasks`, `deals` or `changes` (the filter it belongs to).
    pub kind: &'static str,
    /// What icon fits: an activity type (`call`, `email`, `meeting`, `note`), `task`,
    /// `done`, `deal`, `stage` or `edit`.
    pub icon: String,
    pub title: String,
    pub detail: Option<String>,
    pub href: Option<String>,
    /// Who did it (or owns it), when known.
    pub by: Option<String>,
}

struct Raw {
    at: DateTime<Utc>,
    event: Event,
    by: Option<Uuid>,
}

fn raw(at: DateTime<Utc>, kind: &'static str, icon: &str, title: String, by: Option<Uuid>) -> Raw {
    Raw {
        at,
        by,
        event: Event {
            at: clock::fmt(&at),
            kind,
            icon: icon.to_string(),
            title,
            detail: None,
            href: None,
            by: None,
        },
    }
}

/// Whose timeline: a contact, a deal (its stage moves and the activities about it) or a
/// company (everything on its contacts and deals).
#[derive(Debug, Clone, Copy)]
pub enum Subject {
    Contact(Uuid),
    Deal(Uuid),
    Company(Uuid),
}

/// The newest `limit` events of a record the actor can see (404 otherwise), of one kind
/// (`filter`, one of [`FILTERS`]) or all.
pub async fn timeline(
    db: &Db,
    actor: &Actor,
    subject: Subject,
    filter: Option<&str>,
    limit: u64,
) -> CoreResult<Vec<Event>> {
    // the record itself: seen by the actor, and when it was added
    let (entity, entity_id, added, added_at) = match subject {
        Subject::Contact(id) => {
            let c = scope::get_visible::<contact::Entity>(db, actor, id, "Contact").await?;
            ("contact", id, "Contact added", c.created_at)
        }
        Subject::Deal(id) => {
            let d = scope::get_visible::<deal::Entity>(db, actor, id, "Deal").await?;
            ("deal", id, "Deal added", d.created_at)
        }
        Subject::Company(id) => {
            let c = crate::entities::company::Entity::find_by_id(id)
                .one(&db.conn)
                .await?
                .ok_or_else(|| CoreError::not_found("Company"))?;
            ("company", id, "Company added", c.created_at)
        }
    };
    let activities_of = match subject {
        Subject::Contact(id) => activity::Column::ContactId.eq(id),
        Subject::Deal(id) => activity::Column::DealId.eq(id),
        Subject::Company(id) => crate::contacts::of_company(activity::Column::ContactId, id),
    };
    let tasks_of = match subject {
        Subject::Contact(id) => Some(task::Column::ContactId.eq(id)),
        Subject::Deal(_) => None,
        Subject::Company(id) => Some(crate::contacts::of_company(task::Column::ContactId, id)),
    };
    let deals_of = match subject {
        Subject::Contact(id) => deal::Column::ContactId.eq(id),
        Subject::Deal(id) => deal::Column::Id.eq(id),
        Subject::Company(id) => deal::Column::CompanyId.eq(id),
    };
    if let Some(f) = filter
        && !FILTERS.contains(&f)
    {
        return Err(CoreError::field(
            "kind",
            "Show must be one of: activities, tasks, deals, changes",
        ));
    }
    let wants = |k: &str| filter.is_none_or(|f| f == k);
    let mut out: Vec<Raw> = Vec::new();
    if wants("activities") {
        let rows = scope::visible::<activity::Entity>(actor)
            .filter(activities_of)
            .order_by_desc(activity::Column::CreatedAt)
            .limit(limit)
            .all(&db.conn)
            .await?;
        for a in rows {
            let mut r = raw(a.created_at, "activities", a.kind.as_str(), a.subject, a.user_id);
            r.event.detail = a.description;
            r.event.href = Some(format!("/activities/{}/edit", a.id));
            out.push(r);
        }
    }
    if let (true, Some(tasks_of)) = (wants("tasks"), tasks_of) {
        let rows = scope::visible::<task::Entity>(actor)
            .filter(tasks_of)
            .order_by_desc(task::Column::CreatedAt)
            .limit(limit)
            .all(&db.conn)
            .await?;
        for t in rows {
            let href = Some(format!("/tasks/{}/edit", t.id));
            if let (true, Some(done)) = (t.completed, t.completed_at) {
                let mut r = raw(done, "tasks", "done", format!("Completed task: {}", t.title), t.user_id);
                r.event.href = href.clone();
                out.push(r);
            }
            let mut r = raw(
                t.created_at,
                "tasks",
                "task",
                format!("Task added: {}", t.title),
                t.user_id,
            );
            r.event.detail = Some(format!("Due {}", t.due_date.format("%b %-d, %Y")));
            r.event.href = href;
            out.push(r);
        }
    }
    if wants("deals") {
        let deals = scope::visible::<deal::Entity>(actor)
            .filter(deals_of)
            .order_by_desc(deal::Column::CreatedAt)
            .limit(limit)
            .all(&db.conn)
            .await?;
        let names: HashMap<Uuid, String> = deals.iter().map(|d| (d.id, d.name.clone())).collect();
        for d in &deals {
            let mut r = raw(
                d.created_at,
                "deals",
                "deal",
                format!("Deal added: {}", d.name),
                d.user_id,
            );
            r.event.detail = Some(d.stage.label().to_string());
            r.event.href = Some(format!("/deals/{}", d.id));
            out.push(r);
        }
        let moves = deal_stage_history::Entity::find()
            .filter(deal_stage_history::Column::DealId.is_in(names.keys().copied().collect::<Vec<_>>()))
            .filter(deal_stage_history::Column::FromStage.is_not_null())
            .order_by_desc(deal_stage_history::Column::ChangedAt)
            .limit(limit)
            .all(&db.conn)
            .await?;
        for m in moves {
            let name = names.get(&m.deal_id).cloned().unwrap_or_default();
            let to = m.to_stage.label();
            let mut r = raw(
                m.changed_at,
                "deals",
                "stage",
                format!("{name} moved to {to}"),
                m.changed_by,
            );
            r.event.detail = m.from_stage.map(|f| format!("From {}", f.label()));
            r.event.href = Some(format!("/deals/{}", m.deal_id));
            out.push(r);
        }
    }
    if wants("changes") {
        if !matches!(subject, Subject::Deal(_)) {
            // a deal's own "added" is already among the deal events
            out.push(raw(added_at, "changes", "edit", added.into(), None));
        }
        let edits = audit_log::Entity::find()
            .filter(audit_log::Column::EntityType.eq(entity))
            .filter(audit_log::Column::EntityId.eq(entity_id.to_string()))
            .filter(audit_log::Column::Action.is_in(["update", "assign"]))
            .order_by_desc(audit_log::Column::CreatedAt)
            .limit(limit)
            .all(&db.conn)
            .await?;
        for e in edits {
            let fields = changed_fields(e.changes.as_deref());
            let title = if e.action == "assign" {
                "Reassigned".to_string()
            } else {
                "Details edited".to_string()
            };
            let mut r = raw(e.created_at, "changes", "edit", title, e.actor_id);
            r.event.detail = (!fields.is_empty()).then(|| fields.join(" · "));
            out.push(r);
        }
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.at));
    out.truncate(limit as usize);
    let names = crate::accounts::users::names(db, out.iter().filter_map(|r| r.by)).await?;
    Ok(out
        .into_iter()
        .map(|r| Event {
            by: r.by.and_then(|id| names.get(&id).cloned()),
            ..r.event
        })
        .collect())
}

/// `{"status": ["lead", "customer"], …}` → `["Status: lead → customer", …]` (ids and
/// owner changes are named by field only).
fn changed_fields(changes: Option<&str>) -> Vec<String> {
    let Some(Value::Object(map)) = changes.and_then(|c| serde_json::from_str::<Value>(c).ok()) else {
        return vec![];
    };
    map.iter()
        .map(|(k, v)| {
            let label = field_label(k);
            match v.as_array().map(|a| a.as_slice()) {
                Some([before, after]) if !k.ends_with("Id") => {
                    format!("{label}: {} → {}", shown(before), shown(after))
                }
                _ => label.to_string(),
            }
        })
        .collect()
}

fn field_label(k: &str) -> &str {
    match k {
        "firstName" => "First name",
        "lastName" => "Last name",
        "email" => "Email",
        "phoneNumber" => "Phone",
        "status" => "Status",
        "companyId" => "Company",
        "userId" => "Owner",
        other => crate::contacts::fields::by_key(other).map_or(other, |e| e.label),
    }
}

fn shown(v: &Value) -> String {
    match v {
        Value::Null => "none".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
