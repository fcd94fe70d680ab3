//! Outgoing e-mail. Every message has a plain-text and an HTML body. Delivery goes through
//! SMTP when `CRM_SMTP_URL` is set, otherwise each message is written as an RFC 5322 `.eml`
//! file under `<data dir>/outbox/`. Sending never blocks or fails the request that asked for
//! it: messages go to a queue whose worker retries with backoff and logs what it cannot send.

pub mod templates;

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::mpsc;

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
    tx: mpsc::Sender<Mail>,
    pub base_url: String,
}

impl Mailer {
    /// Start the delivery worker. `smtp_url` like `smtp://user:pass@host:587`.
    pub fn start(
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
        let (tx, rx) = mpsc::channel::<Mail>(1024);
        tokio::spawn(worker(rx, transport, from));
        Ok(Mailer {
            tx,
            base_url: base_url.trim_end_matches('/').to_string(),
        })
    }

    /// Queue a message; never waits and never fails the caller (a full queue is logged).
    pub fn send(&self, mail: Mail) {
        if let Err(e) = self.tx.try_send(mail) {
            tracing::error!("mail queue full or closed, message dropped: {e}");
        }
    }

    /// An absolute link into the app.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
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

async fn worker(mut rx: mpsc::Receiver<Mail>, transport: Transport, from: Mailbox) {
    while let Some(mail) = rx.recv().await {
        let msg = match build(&mail, &from) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(to = %mail.to, subject = %mail.subject, "mail could not be built: {e}");
                continue;
            }
        };
        let mut delay = Duration::from_secs(1);
        for attempt in 1..=5 {
            match deliver(&transport, &msg).await {
                Ok(how) => {
                    tracing::info!(to = %mail.to, subject = %mail.subject, "mail {how}");
                    break;
                }
                Err(e) if attempt < 5 => {
                    tracing::warn!(to = %mail.to, attempt, "mail delivery failed, retrying: {e}");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(e) => {
                    tracing::error!(to = %mail.to, subject = %mail.subject, "mail delivery failed for good: {e}")
                }
            }
        }
    }
}
