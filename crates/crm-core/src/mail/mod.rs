//! Outgoing e-mail. Every message has a plain-text and an HTML body. Delivery goes through
//! SMTP when `CRM_SMTP_URL` is set, otherwise each message is written as an RFC 5322 `.eml`
//! file under `<data dir>/outbox/`. Sending never blocks on delivery or fails the request
//! that asked for it: the message is stored in `mail_queue` first (so a crash or restart
//! loses nothing), and a worker in every instance delivers what is due, claiming each row
//! so that no two instances send it, retrying with backoff (6 attempts) and logging what it
//! cannot send.

pub mod templates;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use tokio::sync::Notify;

use crate::clock;
use crate::db::Db;
use crate::entities::mail_queue;

/// Delivery attempts before a message is given up (logged, kept with its last error).
const ATTEMPTS: i32 = 6;

/// One message to send.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

enum Transport {
    Outbox(PathBuf),
    Smtp(Box<AsyncSmtpTransport<Tokio1Executor>>),
}

#[derive(Clone)]
pub struct Mailer {
    db: Db,
    wake: Arc<Notify>,
    pub base_url: String,
}

impl Mailer {
    /// Start the delivery worker. `smtp_url` like `smtp://user:pass@host:587`.
    pub fn start(
        db: &Db,
        data_dir: &std::path::Path,
        smtp_url: Option<&str>,
        from: &str,
        base_url: &str,
    ) -> anyhow::Result<Mailer> {
        let transport = match smtp_url.filter(|u| !u.is_empty()) {
            Some(url) => Transport::Smtp(Box::new(AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?.build())),
            None => {
                let dir = data_dir.join("outbox");
                std::fs::create_dir_all(&dir)?;
                Transport::Outbox(dir)
            }
        };
        let from: Mailbox = from
            .parse()
            .map_err(|e| anyhow::anyhow!("CRM_MAIL_FROM is not a valid address: {e}"))?;
        let wake = Arc::new(Notify::new());
        tokio::spawn(worker(db.clone(), wake.clone(), transport, from));
        Ok(Mailer {
            db: db.clone(),
            wake,
            base_url: base_url.trim_end_matches('/').to_string(),
        })
    }

    /// Queue a message: stored, then delivered by the worker. Never fails the caller (a
    /// message that cannot even be stored is logged).
    pub async fn send(&self, mail: Mail) {
        queue(&self.db, mail).await;
        self.wake.notify_one();
    }

    /// An absolute link into the app.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Tell `to` (e-mail, name) of a change to their account, with a link to `path`.
    pub async fn notify(&self, to: (&str, &str), subject: &str, text: &str, path: &str) {
        self.send(templates::notice(to.0, to.1, subject, text, &self.link(path)))
            .await;
    }
}

/// Store a message for the workers (they look every few seconds); for code that has the
/// database but no [`Mailer`]. Never fails the caller.
pub async fn queue(db: &Db, mail: Mail) {
    {
        let now = clock::now();
        let row = mail_queue::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            to_addr: Set(mail.to.clone()),
            subject: Set(mail.subject.clone()),
            text_body: Set(mail.text),
            html_body: Set(mail.html),
            attempts: Set(0),
            next_attempt_at: Set(now),
            sent_at: Set(None),
            failed_at: Set(None),
            last_error: Set(None),
            created_at: Set(now),
        };
        if let Err(e) = row.insert(&db.conn).await {
            tracing::error!(to = %mail.to, subject = %mail.subject, "mail could not be queued: {e}");
        }
    }
}

fn build(mail: &Mail, from: &Mailbox) -> anyhow::Result<Message> {
    let to: Mailbox = mail.to.parse()?;
    Ok(Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))?)
}

async fn deliver(transport: &Transport, msg: &Message) -> anyhow::Result<String> {
    match transport {
        Transport::Outbox(dir) => {
            let name = format!(
                "{}-{}.eml",
                chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
                uuid::Uuid::now_v7().simple()
            );
            let path = dir.join(name);
            let tmp = path.with_extension("tmp");
            tokio::fs::write(&tmp, msg.formatted()).await?;
            tokio::fs::rename(&tmp, &path).await?;
            Ok(format!("written to {}", path.display()))
        }
        Transport::Smtp(smtp) => {
            smtp.send(msg.clone()).await?;
            Ok("sent by SMTP".to_string())
        }
    }
}

/// Deliver what is due, then wait for a new message (or 5 s, for retries and for rows
/// another instance queued).
async fn worker(db: Db, wake: Arc<Notify>, transport: Transport, from: Mailbox) {
    loop {
        if let Err(e) = deliver_due(&db, &transport, &from).await {
            tracing::error!("mail queue: {e}");
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
    }
}

async fn deliver_due(db: &Db, transport: &Transport, from: &Mailbox) -> anyhow::Result<()> {
    let due = mail_queue::Entity::find()
        .filter(mail_queue::Column::SentAt.is_null())
        .filter(mail_queue::Column::FailedAt.is_null())
        .filter(mail_queue::Column::NextAttemptAt.lte(clock::now()))
        .order_by_asc(mail_queue::Column::NextAttemptAt)
        .limit(50)
        .all(&db.conn)
        .await?;
    for row in due {
        // claim it: only the instance whose update lands sends it
        let claimed = crate::queue::claim::<mail_queue::Entity>(
            &db.conn,
            mail_queue::Column::Id,
            mail_queue::Column::NextAttemptAt,
            row.id,
            row.next_attempt_at,
            chrono::Duration::minutes(5),
            sea_orm::Condition::all().add(mail_queue::Column::SentAt.is_null()),
        )
        .await?;
        if !claimed {
            continue;
        }
        let mail = Mail {
            to: row.to_addr.clone(),
            subject: row.subject.clone(),
            text: row.text_body.clone(),
            html: row.html_body.clone(),
        };
        let result = match build(&mail, from) {
            Ok(msg) => deliver(transport, &msg).await,
            Err(e) => Err(e.context("the message could not be built")),
        };
        let mut am: mail_queue::ActiveModel = row.clone().into();
        let attempts = row.attempts + 1;
        am.attempts = Set(attempts);
        match result {
            Ok(how) => {
                tracing::info!(to = %mail.to, subject = %mail.subject, "mail {how}");
                am.sent_at = Set(Some(clock::now()));
                am.last_error = Set(None);
            }
            Err(e) if attempts < ATTEMPTS => {
                tracing::warn!(to = %mail.to, attempts, "mail delivery failed, will retry: {e:#}");
                am.next_attempt_at = Set(clock::now() + chrono::Duration::seconds(1 << attempts));
                am.last_error = Set(Some(format!("{e:#}")));
            }
            Err(e) => {
                tracing::error!(to = %mail.to, subject = %mail.subject, "mail delivery failed for good: {e:#}");
                am.failed_at = Set(Some(clock::now()));
                am.last_error = Set(Some(format!("{e:#}")));
            }
        }
        am.update(&db.conn).await?;
    }
    Ok(())
}
