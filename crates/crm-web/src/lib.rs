//! The web layer: one axum router serving the JSON API under `/api` and the
//! server-rendered pages. Handlers are thin: they parse, call `crm_core`, and render.

pub mod accounts;
pub mod activities;
pub mod admin;
pub mod calendar;
pub mod companies;
pub mod contacts;
pub mod deals;
pub mod docs;
pub mod export;
pub mod home;
pub mod http;
pub mod import;
pub mod reports;
pub mod search;
pub mod setup;
pub mod tasks;
pub mod web;
pub mod webhooks;

use std::sync::Arc;

use crm_core::Db;

/// Settings the web layer needs.
#[derive(Debug, Clone)]
pub struct WebConfig {
    pub base_url: String,
    pub allow_signup: bool,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<http::ratelimit::Cidr>,
    /// Largest CSV file accepted for import (`CRM_IMPORT_MAX_BYTES`).
    pub import_max_bytes: u64,
    /// `CRM_WEBHOOK_ALLOW_PRIVATE`: webhook URLs may point at internal addresses.
    pub webhook_allow_private: bool,
    /// Who may read `/metrics` without the token (`CRM_METRICS_ALLOW`).
    pub metrics_allow: Vec<http::ratelimit::Cidr>,
    /// `CRM_METRICS_TOKEN`: a bearer token that also opens `/metrics`.
    pub metrics_token: Option<String>,
    /// Sign-in with OpenID Connect (`CRM_OIDC_*`), when configured.
    pub oidc: Option<Arc<crm_core::accounts::sso::Oidc>>,
    /// Sign-in with GitHub (`CRM_GITHUB_*`), when configured.
    pub github: Option<Arc<crm_core::accounts::sso::github::GitHub>>,
}

impl WebConfig {
    /// Cookies get `Secure` and responses HSTS when served over https.
    pub fn https(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}

/// What every handler shares: one pointer, so the many per-request copies (each extractor
/// and layer takes its own) cost one reference count, not one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub db: Db,
    pub config: Arc<WebConfig>,
    /// True while no user exists (a cache; the database is asked again before acting).
    pub needs_setup: Arc<std::sync::atomic::AtomicBool>,
    pub mailer: crm_core::mail::Mailer,
    pub limiter: Arc<http::ratelimit::Limiter>,
    /// The server key: seals 2FA secrets, keys backup-code hashes.
    pub keys: Arc<crm_core::crypto::SecretBox>,
    /// The organisation settings, re-read every few seconds.
    pub org: web::org::OrgCache,
    /// Bearer tokens seen in the last seconds and whom they act as.
    pub tokens: http::session::TokenCache,
    /// Contact answers of the last moment (`http::answers`).
    pub answers: http::answers::Answers,
    /// Request counters and latencies for `/metrics`.
    pub metrics: Arc<http::metrics::Metrics>,
}

pub use http::router::router;
