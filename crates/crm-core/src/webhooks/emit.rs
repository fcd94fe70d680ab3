//! Turning a change into queued deliveries, inside the change's own transaction.
//!
//! Each write path calls one of [`created`], [`updated`], [`deleted`] (or [`emit`] for
//! `deal.stage_changed` / `task.completed`) next to its `audit::record`. When no enabled
//! endpoint subscribes to the event, nothing else happens (the record's view is not even
//! built). Otherwise one `webhook_events` row holds the exact body every endpoint receives
//! and one `webhook_deliveries` row per subscribed endpoint waits for the worker — all
//! committed, or rolled back, with the change itself.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::actor::Actor;
use crate::db::Conn;
use crate::entities::{activity, company, contact, deal, task, webhook_delivery, webhook_endpoint, webhook_event};
use crate::error::CoreResult;
use crate::{clock, companies, contacts};
use sea_orm::DatabaseTransaction;

/// A record as the API shows it, built when an event needs it.
#[derive(Clone)]
pub enum Record {
    Contact(contact::Model),
    Company(company::Model),
    Deal(deal::Model),
    Task(task::Model),
    Activity(activity::Model),
}

macro_rules! record_from {
    ($($m:ident => $v:ident),*) => {$(
        impl From<$m::Model> for Record {
            fn from(m: $m::Model) -> Self { Record::$v(m) }
        }
    )*};
}
record_from!(contact => Contact, company => Company, deal => Deal, task => Task, activity => Activity);

impl Record {
    pub fn kind(&self) -> &'static str {
        match self {
            Record::Contact(_) => "contact",
            Record::Company(_) => "company",
            Record::Deal(_) => "deal",
            Record::Task(_) => "task",
            Record::Activity(_) => "activity",
        }
    }

    pub fn id(&self) -> Uuid {
        match self {
            Record::Contact(m) => m.id,
            Record::Company(m) => m.id,
            Record::Deal(m) => m.id,
            Record::Task(m) => m.id,
            Record::Activity(m) => m.id,
        }
    }

    /// The record as the API returns it to `actor` (the same view functions).
    pub async fn json(&self, db: &impl Conn, actor: &Actor) -> CoreResult<Value> {
        let one = |mut v: Vec<Value>| v.pop().unwrap_or(Value::Null);
        Ok(match self.clone() {
            Record::Contact(m) => contacts::list::json_of(db, m).await?,
            Record::Company(m) => {
                let counts = companies::list::counts(db, actor, &[m.id]).await?;
                let n = counts.get(&m.id).copied().unwrap_or_default();
                to_value(companies::CompanyView::new(m, n))?
            }
            Record::Deal(m) => one(to_values(crate::deals::views(db, actor, vec![m]).await?)?),
            Record::Task(m) => one(to_values(crate::tasks::views(db, actor, vec![m]).await?)?),
            Record::Activity(m) => one(to_values(crate::activities::views(db, actor, vec![m]).await?)?),
        })
    }
}

fn to_value(v: impl serde::Serialize) -> CoreResult<Value> {
    Ok(serde_json::to_value(v).map_err(anyhow::Error::from)?)
}
fn to_values<T: serde::Serialize>(v: Vec<T>) -> CoreResult<Vec<Value>> {
    v.into_iter().map(to_value).collect()
}

/// What an event carries: the record and, for changes, the old values of changed fields.
pub struct Change {
    pub data: Value,
    pub previous: Option<Value>,
}

/// The old values of the fields that differ (`updatedAt` aside).
pub fn previous(before: &Value, after: &Value) -> Value {
    let mut out = serde_json::Map::new();
    if let (Value::Object(b), Value::Object(a)) = (before, after) {
        for (k, av) in a {
            let bv = b.get(k).unwrap_or(&Value::Null);
            if bv != av && k != "updatedAt" {
                out.insert(k.clone(), bv.clone());
            }
        }
    }
    Value::Object(out)
}

/// Whether a subscription list (JSON array) covers `event`.
pub fn subscribes(events: &str, event: &str) -> bool {
    serde_json::from_str::<Vec<String>>(events)
        .unwrap_or_default()
        .iter()
        .any(|e| e == "*" || e == event)
}

/// Queue `event` for every enabled endpoint subscribed to it; `change` is awaited only
/// when there is one.
pub async fn emit<F>(conn: &impl ConnectionTrait, event: &str, change: F) -> CoreResult<()>
where
    F: Future<Output = CoreResult<Change>>,
{
    let targets: Vec<Uuid> = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .all(conn)
        .await?
        .into_iter()
        .filter(|e| subscribes(&e.events, event))
        .map(|e| e.id)
        .collect();
    if targets.is_empty() {
        return Ok(());
    }
    let change = change.await?;
    queue(conn, event, change, &targets).await?;
    Ok(())
}

/// Write the event and one delivery per endpoint; the deliveries' ids.
pub(crate) async fn queue(
    conn: &impl ConnectionTrait,
    event: &str,
    change: Change,
    targets: &[Uuid],
) -> CoreResult<Vec<Uuid>> {
    let now = clock::now();
    let id = Uuid::now_v7();
    let mut body = json!({"id": id, "type": event, "createdAt": clock::fmt(&now), "data": change.data});
    if let Some(p) = change.previous {
        body["previous"] = p;
    }
    webhook_event::ActiveModel {
        id: Set(id),
        event_type: Set(event.to_string()),
        body: Set(body.to_string()),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    let mut deliveries = vec![];
    for endpoint in targets {
        let delivery = Uuid::now_v7();
        deliveries.push(delivery);
        webhook_delivery::ActiveModel {
            id: Set(delivery),
            endpoint_id: Set(*endpoint),
            event_id: Set(id),
            event_type: Set(event.to_string()),
            status: Set("pending".into()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            response_status: Set(None),
            duration_ms: Set(None),
            response_body: Set(None),
            last_error: Set(None),
            delivered_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(conn)
        .await?;
    }
    Ok(deliveries)
}

/// `<kind>.created`.
pub async fn created(txn: &DatabaseTransaction, actor: &Actor, r: impl Into<Record>) -> CoreResult<()> {
    let r = r.into();
    emit(txn, &format!("{}.created", r.kind()), async {
        Ok(Change {
            data: r.json(txn, actor).await?,
            previous: None,
        })
    })
    .await
}

/// `<kind>.updated`, with the old values of what changed.
pub async fn updated(
    txn: &DatabaseTransaction,
    actor: &Actor,
    before: impl Into<Record>,
    after: impl Into<Record>,
) -> CoreResult<()> {
    let (before, after) = (before.into(), after.into());
    changed(txn, actor, &format!("{}.updated", after.kind()), before, after).await
}

/// An event about a change from `before` to `after` (e.g. `deal.stage_changed`).
pub async fn changed(
    txn: &DatabaseTransaction,
    actor: &Actor,
    event: &str,
    before: Record,
    after: Record,
) -> CoreResult<()> {
    emit(txn, event, async {
        let (b, a) = (before.json(txn, actor).await?, after.json(txn, actor).await?);
        Ok(Change {
            previous: Some(previous(&b, &a)),
            data: a,
        })
    })
    .await
}

/// `<kind>.deleted`, with the record's last state.
pub async fn deleted(txn: &DatabaseTransaction, actor: &Actor, r: impl Into<Record>) -> CoreResult<()> {
    let r = r.into();
    emit(txn, &format!("{}.deleted", r.kind()), async {
        Ok(Change {
            data: r.json(txn, actor).await?,
            previous: None,
        })
    })
    .await
}
