//! Delivering queued webhook events. A worker runs in every instance; each attempt is
//! claimed with `queue::claim`, so one instance sends it. A 2xx answer within the timeout
//! (10 s) delivers; anything else is retried after `retry_base × 2^(attempts-1)` (at most
//! an hour) until the delivery is `give_up_after` (24 h) old. An endpoint whose deliveries
//! have all failed for `give_up_after` is disabled and its admins are e-mailed.

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use tokio::sync::Notify;

use super::{guard, sign};
use crate::crypto::SecretBox;
use crate::db::Db;
use crate::entities::{user, webhook_delivery, webhook_endpoint, webhook_event};
use crate::{clock, mail, queue};

static WAKE: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Events (with their deliveries) are kept this long, then pruned unless still pending.
pub const RETENTION_DAYS: i64 = 30;

/// Look for due deliveries now (after a ping or a manual retry).
pub fn wake() {
    WAKE.notify_one();
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// `CRM_WEBHOOK_ALLOW_PRIVATE`: allow loopback/private/link-local targets.
    pub allow_private: bool,
    /// The first retry's delay; each next one doubles (at most an hour).
    pub retry_base: Duration,
    /// How long a delivery is retried, and how long an endpoint may fail before it is disabled.
    pub give_up_after: chrono::Duration,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Absolute link to the webhooks page, for the e-mail.
    pub page_link: String,
}

impl Settings {
    pub fn new(allow_private: bool, retry_base: Duration, base_url: &str) -> Self {
        Settings {
            allow_private,
            retry_base,
            give_up_after: chrono::Duration::hours(24),
            timeout: Duration::from_secs(10),
            page_link: format!("{}/admin/webhooks", base_url.trim_end_matches('/')),
        }
    }

    fn backoff(&self, attempts: i32) -> chrono::Duration {
        let factor = 1u32 << (attempts.clamp(1, 20) - 1) as u32;
        let d = self.retry_base.saturating_mul(factor).min(Duration::from_secs(3600));
        chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(1))
    }
}

/// Start the worker; it stops when `stop` turns true, after the attempts in flight have
/// been recorded (each is bounded by the timeout), so a graceful stop leaves no claim behind.
pub fn start(
    db: Db,
    keys: Arc<SecretBox>,
    settings: Settings,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = match guard::client(settings.allow_private, settings.timeout) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("webhooks: no HTTP client: {e}");
                return;
            }
        };
        let poll = settings
            .retry_base
            .clamp(Duration::from_millis(100), Duration::from_secs(1));
        let mut pruned: Option<Instant> = None;
        loop {
            if *stop.borrow() {
                return;
            }
            if pruned.is_none_or(|t| t.elapsed() > Duration::from_secs(3600)) {
                pruned = Some(Instant::now());
                if let Err(e) = prune(&db).await {
                    tracing::error!("webhook history: {e:#}");
                }
            }
            if let Err(e) = deliver_due(&db, &keys, &client, &settings).await {
                tracing::error!("webhook queue: {e:#}");
            }
            tokio::select! {
                _ = WAKE.notified() => {}
                _ = tokio::time::sleep(poll) => {}
                _ = stop.changed() => return,
            }
        }
    })
}

/// Delete events older than [`RETENTION_DAYS`] (their deliveries go with them) unless a
/// delivery of theirs is still pending.
async fn prune(db: &Db) -> anyhow::Result<()> {
    use sea_orm::QueryTrait;
    let cutoff = clock::now() - chrono::Duration::days(RETENTION_DAYS);
    let pending = webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::EventId)
        .filter(webhook_delivery::Column::Status.eq("pending"))
        .into_query();
    let res = webhook_event::Entity::delete_many()
        .filter(webhook_event::Column::CreatedAt.lt(cutoff))
        .filter(webhook_event::Column::Id.not_in_subquery(pending))
        .exec(&db.conn)
        .await?;
    if res.rows_affected > 0 {
        tracing::info!(
            "webhooks: pruned {} events older than {RETENTION_DAYS} days",
            res.rows_affected
        );
    }
    Ok(())
}

async fn deliver_due(db: &Db, keys: &Arc<SecretBox>, client: &reqwest::Client, s: &Settings) -> anyhow::Result<()> {
    let due = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Status.eq("pending"))
        .filter(webhook_delivery::Column::NextAttemptAt.lte(clock::now()))
        .order_by_asc(webhook_delivery::Column::NextAttemptAt)
        .limit(20)
        .all(&db.conn)
        .await?;
    let mut jobs = tokio::task::JoinSet::new();
    for row in due {
        let lease = chrono::Duration::from_std(s.timeout).unwrap_or_default() + chrono::Duration::seconds(30);
        let pending = Condition::all().add(webhook_delivery::Column::Status.eq("pending"));
        let claimed = queue::claim::<webhook_delivery::Entity>(
            &db.conn,
            webhook_delivery::Column::Id,
            webhook_delivery::Column::NextAttemptAt,
            row.id,
            row.next_attempt_at,
            lease,
            pending,
        )
        .await?;
        if claimed {
            let (db, keys, client, s) = (db.clone(), keys.clone(), client.clone(), s.clone());
            jobs.spawn(async move {
                if let Err(e) = attempt(&db, &keys, &client, &s, row).await {
                    tracing::error!("webhook delivery: {e:#}");
                }
            });
        }
    }
    while jobs.join_next().await.is_some() {}
    Ok(())
}

/// What one attempt got.
struct Outcome {
    status: Option<i32>,
    body: Option<String>,
    error: Option<String>,
    duration_ms: i32,
}

async fn send(
    client: &reqwest::Client,
    s: &Settings,
    url: &str,
    secret: &str,
    event: &webhook_event::Model,
    delivery: uuid::Uuid,
) -> Outcome {
    let started = Instant::now();
    let fail = |e: String| Outcome {
        status: None,
        body: None,
        error: Some(e),
        duration_ms: started.elapsed().as_millis().min(i32::MAX as u128) as i32,
    };
    let parsed = match reqwest::Url::parse(url) {
        Ok(u) => u,
        Err(e) => return fail(format!("invalid URL: {e}")),
    };
    // names are checked by the client's resolver at connect time; literal IPs here
    let literal = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
        _ => None,
    };
    if let Some(ip) = literal
        && !s.allow_private
        && guard::is_internal(ip)
    {
        return fail(format!("{ip} is a private, loopback or link-local address"));
    }
    let t = clock::now().timestamp();
    let res = client
        .post(parsed)
        .header("content-type", "application/json")
        .header("x-crm-event", &event.event_type)
        .header("x-crm-delivery", delivery.to_string())
        .header("x-crm-signature", sign::header(secret, t, &event.body))
        .body(event.body.clone())
        .send()
        .await;
    let mut res = match res {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return fail("timed out".into()),
        Err(e) => return fail(format!("{e:#}")),
    };
    let status = res.status();
    let mut body = Vec::new();
    while body.len() < 500 {
        match res.chunk().await {
            Ok(Some(c)) => body.extend_from_slice(&c),
            _ => break,
        }
    }
    body.truncate(500);
    let text = String::from_utf8_lossy(&body).into_owned();
    Outcome {
        status: Some(i32::from(status.as_u16())),
        body: Some(text),
        error: (!status.is_success()).then(|| format!("HTTP {}", status.as_u16())),
        duration_ms: started.elapsed().as_millis().min(i32::MAX as u128) as i32,
    }
}

async fn attempt(
    db: &Db,
    keys: &SecretBox,
    client: &reqwest::Client,
    s: &Settings,
    row: webhook_delivery::Model,
) -> anyhow::Result<()> {
    let now = clock::now();
    let Some(endpoint) = webhook_endpoint::Entity::find_by_id(row.endpoint_id)
        .one(&db.conn)
        .await?
    else {
        return Ok(()); // deleted meanwhile: its deliveries go with it
    };
    let mut am: webhook_delivery::ActiveModel = row.clone().into();
    am.updated_at = Set(now);
    if !endpoint.enabled {
        am.status = Set("failed".into());
        am.last_error = Set(Some("the endpoint is disabled".into()));
        am.update(&db.conn).await?;
        return Ok(());
    }
    let Some(event) = webhook_event::Entity::find_by_id(row.event_id).one(&db.conn).await? else {
        return Ok(());
    };
    let secret = keys.open(&endpoint.secret)?;
    let out = send(client, s, &endpoint.url, &secret, &event, row.id).await;
    let attempts = row.attempts + 1;
    am.attempts = Set(attempts);
    am.response_status = Set(out.status);
    am.response_body = Set(out.body);
    am.duration_ms = Set(Some(out.duration_ms));
    am.last_error = Set(out.error.clone());
    let done = clock::now();
    match out.error {
        None => {
            am.status = Set("delivered".into());
            am.delivered_at = Set(Some(done));
            am.update(&db.conn).await?;
            if endpoint.failing_since.is_some() {
                webhook_endpoint::Entity::update_many()
                    .col_expr(
                        webhook_endpoint::Column::FailingSince,
                        Expr::value(None::<chrono::DateTime<chrono::Utc>>),
                    )
                    .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
                    .exec(&db.conn)
                    .await?;
            }
        }
        Some(e) => {
            tracing::warn!(url = %endpoint.url, delivery = %row.id, attempts, "webhook delivery failed: {e}");
            if done - row.created_at >= s.give_up_after {
                am.status = Set("failed".into());
            } else {
                am.next_attempt_at = Set(done + s.backoff(attempts));
            }
            am.update(&db.conn).await?;
            failing(db, s, &endpoint, done).await?;
        }
    }
    Ok(())
}

/// Record that an endpoint fails; disable it (once, across instances) after `give_up_after`.
async fn failing(
    db: &Db,
    s: &Settings,
    endpoint: &webhook_endpoint::Model,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let Some(since) = endpoint.failing_since else {
        webhook_endpoint::Entity::update_many()
            .col_expr(webhook_endpoint::Column::FailingSince, Expr::value(now))
            .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
            .filter(webhook_endpoint::Column::FailingSince.is_null())
            .exec(&db.conn)
            .await?;
        return Ok(());
    };
    if now - since < s.give_up_after {
        return Ok(());
    }
    let reason = "Every delivery failed for 24 hours".to_string();
    let disabled = webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
        .col_expr(webhook_endpoint::Column::DisabledReason, Expr::value(reason))
        .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .exec(&db.conn)
        .await?
        .rows_affected
        == 1;
    if disabled {
        tracing::warn!(url = %endpoint.url, "webhook endpoint disabled after failing for 24 hours");
        let admins = user::Entity::find()
            .filter(user::Column::Role.eq(crate::Role::Admin))
            .filter(user::Column::IsActive.eq(true))
            .all(&db.conn)
            .await?;
        for a in admins {
            let m = mail::templates::webhook_disabled(&a.email, &a.name, &endpoint.url, &s.page_link);
            mail::queue(db, m).await;
        }
    }
    Ok(())
}
