//! The `crm` binary's library half: configuration, start-up wiring, seeding and the
//! benchmark, so integration tests and benches start exactly what `crm serve` starts.

pub mod bench;
pub mod config;
pub mod import;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use crm_core::Db;
use crm_web::{AppState, WebConfig};
use tokio::net::TcpListener;

use crate::config::Config;

/// Connect, migrate and return the database of a configuration.
pub async fn open_db(config: &Config) -> anyhow::Result<Db> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create the data directory {}", config.data_dir.display()))?;
    let mut db = Db::connect(&config.database_url()).await?;
    db.migrate().await?;
    if let Some(url) = config.database_read_url.as_deref().filter(|u| !u.trim().is_empty()) {
        db = db.with_replica(url).await?;
    }
    crm_core::org::adopt_initial_zone(&db, config.timezone.as_deref()).await?;
    Ok(db)
}

/// A running server: its address and a handle that finishes when it stops.
pub struct Running {
    pub addr: SocketAddr,
    pub db: Db,
    pub task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Bind, then serve until `shutdown` resolves; in-flight requests finish first.
pub async fn start(
    config: &Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Running> {
    let db = open_db(config).await?;
    let needs_setup = crm_core::accounts::setup::needed(&db).await?;
    let trusted_proxies = crm_web::http::ratelimit::parse_cidrs(&config.trusted_proxies)
        .map_err(|e| anyhow::anyhow!("CRM_TRUSTED_PROXIES: {e}"))?;
    let mailer = crm_core::mail::Mailer::start(
        &db,
        &config.data_dir,
        config.smtp_url.as_deref(),
        &config.mail_from,
        &config.base_url(),
    )?;
    let oidc = match config.oidc()? {
        Some(s) => Some(Arc::new(crm_core::accounts::sso::Oidc::new(s)?)),
        None => None,
    };
    let github = match config.github()? {
        Some(s) => Some(Arc::new(crm_core::accounts::sso::github::GitHub::new(s)?)),
        None => None,
    };
    let metrics_allow = crm_web::http::ratelimit::parse_cidrs(&config.metrics_allow)
        .map_err(|e| anyhow::anyhow!("CRM_METRICS_ALLOW: {e}"))?;
    let keys = Arc::new(crm_core::crypto::SecretBox::load(
        config.secret_key.as_deref(),
        &config.data_dir,
    )?);
    // the webhook worker stops with the server, after recording the attempts in flight
    // (a restart picks up what is left)
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = crm_core::webhooks::worker::start(
        db.clone(),
        keys.clone(),
        crm_core::webhooks::worker::Settings {
            give_up_after: chrono::Duration::seconds(i64::try_from(config.webhook_give_up_secs).unwrap_or(86_400)),
            ..crm_core::webhooks::worker::Settings::new(
                config.webhook_allow_private,
                std::time::Duration::from_millis(config.webhook_retry_base_ms),
                &config.base_url(),
            )
        },
        stop_rx.clone(),
    );
    // imports whose instance died are taken over here once their lease has run out (a job
    // in flight at a stop is simply left to its lease)
    crm_core::import::job::start_worker(db.clone(), stop_rx.clone());
    // PostgreSQL: every instance's changes end this one's cached answers
    crm_core::changes::watch(db.clone(), stop_rx);
    let shutdown = async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    };
    let state = AppState::new(crm_web::Shared {
        metrics: Default::default(),
        org: Default::default(),
        tokens: Default::default(),
        answers: Default::default(),
        db: db.clone(),
        config: Arc::new(WebConfig {
            base_url: config.base_url(),
            allow_signup: config.allow_signup,
            trusted_proxies,
            import_max_bytes: config.import_max_bytes,
            webhook_allow_private: config.webhook_allow_private,
            metrics_allow,
            metrics_token: config.metrics_token.clone(),
            oidc,
            github,
        }),
        mailer,
        keys,
        limiter: Arc::new(
            crm_web::http::ratelimit::Limiter::new(config.redis_url.as_deref(), &config.redis_prefix)
                .await
                .map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?,
        ),
        needs_setup: Arc::new(std::sync::atomic::AtomicBool::new(needs_setup)),
    });
    let listener = TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let app = crm_web::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .context("server error");
        // a stop must end within seconds (SIGTERM): an attempt still in flight after 5 s is
        // left to its lease and retried by the next instance that runs
        if tokio::time::timeout(std::time::Duration::from_secs(5), worker)
            .await
            .is_err()
        {
            tracing::warn!("webhooks: an attempt was still in flight at exit; it is retried after its lease");
        }
        served
    });
    Ok(Running { addr, db, task })
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing in-flight requests");
}
