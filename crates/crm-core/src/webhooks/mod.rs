//! Outbound webhooks (admins only): endpoints subscribe to record events and receive each
//! as a signed POST.
//!
//! - [`emit`] queues deliveries in the transaction of the change (one event row with the
//!   exact body, one delivery per subscribed endpoint);
//! - [`worker`] delivers them from every instance, claiming each delivery with
//!   `queue::claim` (exactly one instance sends an attempt), retrying non-2xx answers and
//!   timeouts with exponential backoff for 24 hours, and disabling an endpoint that has
//!   failed for 24 hours (its admins are e-mailed);
//! - [`guard`] keeps targets off internal addresses; [`sign`] signs bodies.

pub mod emit;
pub mod guard;
pub mod sign;
pub mod worker;

pub use emit::{Record, changed, created, deleted, updated};

use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::actor::Actor;
use crate::admin::{UserAction, require};
use crate::crypto::SecretBox;
use crate::db::Db;
use crate::entities::{webhook_delivery, webhook_endpoint};
use crate::error::{CoreError, CoreResult};
use crate::input::{Field, Input, Mode};
use crate::page::{Page, Pagination};
use crate::query::QueryParams;
use crate::{audit, clock};

/// Every event an endpoint may subscribe to (`"*"`: all of them).
pub const EVENTS: [&str; 17] = [
    "contact.created",
    "contact.updated",
    "contact.deleted",
    "company.created",
    "company.updated",
    "company.deleted",
    "deal.created",
    "deal.updated",
    "deal.deleted",
    "deal.stage_changed",
    "task.created",
    "task.updated",
    "task.deleted",
    "task.completed",
    "activity.created",
    "activity.updated",
    "activity.deleted",
];

/// An endpoint as the API shows it (never its secret, except once at creation).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointView {
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<String>,
    pub enabled: bool,
    pub failing_since: Option<String>,
    pub disabled_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<&webhook_endpoint::Model> for EndpointView {
    fn from(e: &webhook_endpoint::Model) -> Self {
        EndpointView {
            id: e.id,
            url: e.url.clone(),
            description: e.description.clone(),
            events: serde_json::from_str(&e.events).unwrap_or_default(),
            enabled: e.enabled,
            failing_since: clock::fmt_opt(&e.failing_since),
            disabled_reason: e.disabled_reason.clone(),
            created_at: clock::fmt(&e.created_at),
            updated_at: clock::fmt(&e.updated_at),
            secret: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    pub id: Uuid,
    pub event_id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<String>,
    pub response_status: Option<i32>,
    pub duration_ms: Option<i32>,
    pub response_body: Option<String>,
    pub last_error: Option<String>,
    pub delivered_at: Option<String>,
    pub created_at: String,
}

impl From<webhook_delivery::Model> for DeliveryView {
    fn from(d: webhook_delivery::Model) -> Self {
        DeliveryView {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            next_attempt_at: (d.status == "pending").then(|| clock::fmt(&d.next_attempt_at)),
            status: d.status,
            attempts: d.attempts,
            response_status: d.response_status,
            duration_ms: d.duration_ms,
            response_body: d.response_body,
            last_error: d.last_error,
            delivered_at: clock::fmt_opt(&d.delivered_at),
            created_at: clock::fmt(&d.created_at),
        }
    }
}

/// Validated endpoint fields.
struct Fields {
    url: Field<String>,
    events: Field<Vec<String>>,
    description: Field<String>,
    enabled: Option<bool>,
}

/// Read an endpoint body; the URL's host is resolved and refused when internal.
async fn read(mut input: Input, allow_private: bool) -> CoreResult<Fields> {
    let url = input.req_text("url", "URL", 2000);
    if let Field::Value(u) = &url {
        match reqwest::Url::parse(u) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host_str().is_some() => {
                if let Err(e) = guard::check_url(&parsed, allow_private).await {
                    input.error("url", format!("URL is not allowed: {e}"));
                }
            }
            _ => input.error("url", "URL must be an http:// or https:// address"),
        }
    }
    let events = match input.str_list("events") {
        Some(list) if list.is_empty() => {
            input.error("events", "Choose at least one event");
            Field::Absent
        }
        Some(list) => {
            if let Some(bad) = list.iter().find(|e| *e != "*" && !EVENTS.contains(&e.as_str())) {
                input.error("events", format!("Unknown event: {bad}"));
            }
            Field::Value(list)
        }
        None if input.has("events") => {
            input.error("events", "events must be a list of event names");
            Field::Absent
        }
        None if input.mode() == Mode::Create => {
            input.error("events", "Choose at least one event");
            Field::Absent
        }
        None => Field::Absent,
    };
    let description = input.opt_text("description", "Description", 500);
    let enabled = input.bool_value("enabled");
    input.finish()?;
    Ok(Fields {
        url,
        events,
        description,
        enabled,
    })
}

/// A new signing secret: `whsec_` + 48 hex characters.
fn new_secret() -> String {
    let mut b = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut b);
    format!("whsec_{}", sign::hex(&b))
}

/// Create an endpoint; the view carries the secret (shown this once).
pub async fn create(
    db: &Db,
    keys: &SecretBox,
    actor: &Actor,
    input: Input,
    allow_private: bool,
) -> CoreResult<EndpointView> {
    require(db, actor, UserAction::Webhooks).await?;
    let f = read(input, allow_private).await?;
    let secret = new_secret();
    let now = clock::now();
    let txn = db.conn.begin().await?;
    let saved = webhook_endpoint::ActiveModel {
        id: Set(Uuid::now_v7()),
        url: Set(f.url.value().unwrap_or_default()),
        description: Set(f.description.into_option()),
        events: Set(json!(f.events.value().unwrap_or_default()).to_string()),
        secret: Set(keys.seal(&secret)?),
        enabled: Set(f.enabled.unwrap_or(true)),
        failing_since: Set(None),
        disabled_reason: Set(None),
        created_by: Set(Some(actor.id)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let what = json!({"url": saved.url, "events": saved.events});
    audit::record(
        &txn,
        Some(actor),
        "create",
        "webhook",
        Some(saved.id.to_string()),
        Some(what),
    )
    .await?;
    txn.commit().await?;
    let mut v = EndpointView::from(&saved);
    v.secret = Some(secret);
    Ok(v)
}

pub async fn list(db: &Db, actor: &Actor) -> CoreResult<Vec<EndpointView>> {
    require(db, actor, UserAction::Webhooks).await?;
    Ok(webhook_endpoint::Entity::find()
        .order_by_asc(webhook_endpoint::Column::CreatedAt)
        .all(&db.conn)
        .await?
        .iter()
        .map(EndpointView::from)
        .collect())
}

async fn find(db: &Db, id: Uuid) -> CoreResult<webhook_endpoint::Model> {
    webhook_endpoint::Entity::find_by_id(id)
        .one(&db.conn)
        .await?
        .ok_or_else(|| CoreError::not_found("Webhook"))
}

pub async fn get(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<EndpointView> {
    require(db, actor, UserAction::Webhooks).await?;
    Ok(EndpointView::from(&find(db, id).await?))
}

/// Partial update; enabling an endpoint again clears its failure state.
pub async fn update(db: &Db, actor: &Actor, id: Uuid, input: Input, allow_private: bool) -> CoreResult<EndpointView> {
    require(db, actor, UserAction::Webhooks).await?;
    let current = find(db, id).await?;
    let f = read(input, allow_private).await?;
    let mut am: webhook_endpoint::ActiveModel = current.clone().into();
    if let Field::Value(u) = f.url {
        am.url = Set(u);
    }
    if let Field::Value(e) = f.events {
        am.events = Set(json!(e).to_string());
    }
    am.description = Set(f.description.apply(current.description.clone()));
    if let Some(on) = f.enabled {
        am.enabled = Set(on);
        if on && !current.enabled {
            am.failing_since = Set(None);
            am.disabled_reason = Set(None);
        }
    }
    am.updated_at = Set(clock::now());
    let txn = db.conn.begin().await?;
    let saved = am.update(&txn).await?;
    let what = json!({"url": saved.url, "events": saved.events, "enabled": saved.enabled});
    audit::record(&txn, Some(actor), "update", "webhook", Some(id.to_string()), Some(what)).await?;
    txn.commit().await?;
    Ok(EndpointView::from(&saved))
}

pub async fn delete(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<()> {
    require(db, actor, UserAction::Webhooks).await?;
    let current = find(db, id).await?;
    let txn = db.conn.begin().await?;
    webhook_endpoint::Entity::delete_by_id(id).exec(&txn).await?;
    let what = json!({"url": current.url});
    audit::record(&txn, Some(actor), "delete", "webhook", Some(id.to_string()), Some(what)).await?;
    txn.commit().await?;
    Ok(())
}

/// Queue a `ping` for this endpoint alone.
pub async fn ping(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<Uuid> {
    require(db, actor, UserAction::Webhooks).await?;
    let e = find(db, id).await?;
    let txn = db.conn.begin().await?;
    let change = emit::Change {
        data: json!({"webhookId": e.id, "url": e.url}),
        previous: None,
    };
    let delivery = emit::queue(&txn, "ping", change, &[e.id]).await?;
    txn.commit().await?;
    worker::wake();
    delivery
        .first()
        .copied()
        .ok_or_else(|| CoreError::not_found("Delivery"))
}

/// An endpoint's deliveries, newest first, paginated like other lists.
pub async fn deliveries(db: &Db, actor: &Actor, id: Uuid, q: &QueryParams) -> CoreResult<Page<DeliveryView>> {
    require(db, actor, UserAction::Webhooks).await?;
    let mut errs = q.errors();
    let req = q.page(50, &mut errs);
    errs.finish()?;
    find(db, id).await?;
    let base = webhook_delivery::Entity::find().filter(webhook_delivery::Column::EndpointId.eq(id));
    let total = base.clone().count(&db.conn).await?;
    let items = base
        .order_by_desc(webhook_delivery::Column::CreatedAt)
        .order_by_desc(webhook_delivery::Column::Id)
        .offset(req.offset())
        .limit(req.limit)
        .all(&db.conn)
        .await?
        .into_iter()
        .map(DeliveryView::from)
        .collect();
    Ok(Page {
        items,
        pagination: Pagination::new(req, total),
    })
}

/// Send a delivery again now (any status); the same delivery id goes out.
pub async fn retry(db: &Db, actor: &Actor, id: Uuid, delivery: Uuid) -> CoreResult<DeliveryView> {
    require(db, actor, UserAction::Webhooks).await?;
    let d = webhook_delivery::Entity::find_by_id(delivery)
        .filter(webhook_delivery::Column::EndpointId.eq(id))
        .one(&db.conn)
        .await?
        .ok_or_else(|| CoreError::not_found("Delivery"))?;
    let mut am: webhook_delivery::ActiveModel = d.into();
    am.status = Set("pending".into());
    am.next_attempt_at = Set(clock::now());
    am.updated_at = Set(clock::now());
    let saved = am.update(&db.conn).await?;
    worker::wake();
    Ok(saved.into())
}
