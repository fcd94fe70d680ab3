//! Typed configuration from the environment and flags (contract.md, "Configuration").

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "CRM_LISTEN", default_value = "127.0.0.1:3000", global = true)]
    pub listen: String,
    /// Where the SQLite file, the mail outbox and generated secrets live.
    #[arg(long, env = "CRM_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…` (default: sqlite://<data dir>/crm.db).
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// A PostgreSQL streaming replica of DATABASE_URL: dashboards, reports, global search and
    /// exports read from it (a user's own fresh writes, and a replica that is down or over 30 s
    /// behind, read from the primary).
    #[arg(long, env = "DATABASE_READ_URL", global = true)]
    pub database_read_url: Option<String>,
    /// Public base URL, for links in emails; https:// turns on Secure cookies and HSTS
    /// (default: http://localhost:<the port of --listen>, i.e. http://localhost:3000).
    #[arg(long, env = "CRM_BASE_URL", global = true)]
    pub base_url: Option<String>,
    /// Public sign-up on or off.
    #[arg(long, env = "CRM_ALLOW_SIGNUP", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub allow_signup: bool,
    /// SMTP server, e.g. smtp://user:pass@host:587; unset: emails are written to <data dir>/outbox/.
    #[arg(long, env = "CRM_SMTP_URL", global = true)]
    pub smtp_url: Option<String>,
    /// Sender of every email.
    #[arg(
        long,
        env = "CRM_MAIL_FROM",
        default_value = "CRM <no-reply@localhost>",
        global = true
    )]
    pub mail_from: String,
    /// Comma-separated CIDRs of proxies whose X-Forwarded-For is believed (default: none).
    #[arg(long, env = "CRM_TRUSTED_PROXIES", default_value = "", global = true)]
    pub trusted_proxies: String,
    /// Redis for rate limits shared by every instance, e.g. redis://127.0.0.1:6379 (default: in memory).
    #[arg(long, env = "REDIS_URL", global = true)]
    pub redis_url: Option<String>,
    /// Prefix of this deployment's Redis keys.
    #[arg(long, env = "CRM_REDIS_PREFIX", default_value = "crm", global = true)]
    pub redis_prefix: String,
    /// Server key (base64 of 32 bytes) sealing 2FA secrets; default: <data dir>/secret.key, generated once.
    #[arg(long, env = "CRM_SECRET_KEY", global = true, hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Largest CSV file accepted for import, in bytes (default 50 MB).
    #[arg(long, env = "CRM_IMPORT_MAX_BYTES", default_value_t = crm_core::import::DEFAULT_MAX_BYTES, global = true)]
    pub import_max_bytes: u64,
    /// The organisation's time zone (IANA) until an admin sets one in the settings: what a
    /// day is for due dates, "today", dashboards and reports (default UTC).
    #[arg(long, env = "CRM_TIMEZONE", global = true)]
    pub timezone: Option<String>,
    /// Allow webhook URLs on loopback, private and link-local addresses.
    #[arg(long, env = "CRM_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub webhook_allow_private: bool,
    /// First webhook retry delay in milliseconds (doubling up to an hour); tests shorten it.
    #[arg(
        long,
        env = "CRM_WEBHOOK_RETRY_BASE_MS",
        default_value_t = 10_000,
        global = true,
        hide = true
    )]
    pub webhook_retry_base_ms: u64,
    /// How long a webhook delivery is retried and an endpoint may fail before it is disabled, in seconds; tests shorten it.
    #[arg(
        long,
        env = "CRM_WEBHOOK_GIVE_UP_SECS",
        default_value_t = 86_400,
        global = true,
        hide = true
    )]
    pub webhook_give_up_secs: u64,
    /// Comma-separated CIDRs that may read /metrics without the token.
    #[arg(
        long,
        env = "CRM_METRICS_ALLOW",
        default_value = "127.0.0.1/8,::1/128",
        global = true
    )]
    pub metrics_allow: String,
    /// Bearer token that opens /metrics from anywhere.
    #[arg(long, env = "CRM_METRICS_TOKEN", global = true, hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// OpenID Connect issuer URL (discovery at <issuer>/.well-known/openid-configuration); with the client id and secret it turns on single sign-on.
    #[arg(long, env = "CRM_OIDC_ISSUER", global = true)]
    pub oidc_issuer: Option<String>,
    /// OpenID Connect client id.
    #[arg(long, env = "CRM_OIDC_CLIENT_ID", global = true)]
    pub oidc_client_id: Option<String>,
    /// OpenID Connect client secret (also the HS256 key of ID tokens).
    #[arg(long, env = "CRM_OIDC_CLIENT_SECRET", global = true, hide_env_values = true)]
    pub oidc_client_secret: Option<String>,
    /// Text of the single sign-on button.
    #[arg(long, env = "CRM_OIDC_LABEL", default_value = "Sign in with SSO", global = true)]
    pub oidc_label: String,
    /// Comma-separated e-mail domains whose unknown users are created at their first single sign-on (empty: only existing users).
    #[arg(long, env = "CRM_OIDC_ALLOWED_DOMAINS", default_value = "", global = true)]
    pub oidc_allowed_domains: String,
    /// Role of users created by single sign-on.
    #[arg(long, env = "CRM_OIDC_DEFAULT_ROLE", default_value = "rep", value_parser = ["admin", "manager", "rep"], global = true)]
    pub oidc_default_role: String,
    /// Hide password sign-in for everyone but admins.
    #[arg(long, env = "CRM_OIDC_ONLY", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub oidc_only: bool,
    /// GitHub OAuth app client id; with the secret it turns on "Sign in with GitHub".
    #[arg(long, env = "CRM_GITHUB_CLIENT_ID", global = true)]
    pub github_client_id: Option<String>,
    /// GitHub OAuth app client secret.
    #[arg(long, env = "CRM_GITHUB_CLIENT_SECRET", global = true, hide_env_values = true)]
    pub github_client_secret: Option<String>,
    /// GitHub's web address (tests point it elsewhere).
    #[arg(
        long,
        env = "CRM_GITHUB_URL",
        default_value = "https://github.com",
        global = true,
        hide = true
    )]
    pub github_url: String,
    /// GitHub's API address (tests point it elsewhere).
    #[arg(
        long,
        env = "CRM_GITHUB_API_URL",
        default_value = "https://api.github.com",
        global = true,
        hide = true
    )]
    pub github_api_url: String,
    /// Log format: pretty or json.
    #[arg(long, env = "CRM_LOG_FORMAT", default_value = "pretty", value_parser = ["pretty", "json"], global = true)]
    pub log_format: String,
}

impl Config {
    /// The public base URL without a trailing slash: `CRM_BASE_URL`, else localhost on the
    /// port the server listens on (so the first-run link works whatever `CRM_LISTEN` says).
    pub fn base_url(&self) -> String {
        match &self.base_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => {
                let port = self.listen.rsplit(':').next().unwrap_or("3000");
                format!("http://localhost:{port}")
            }
        }
    }

    /// Single sign-on settings: `None` when no issuer is set; an error when only part of
    /// issuer, client id and secret is.
    pub fn oidc(&self) -> anyhow::Result<Option<crm_core::accounts::sso::OidcSettings>> {
        let set = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let (issuer, id, secret) = match (
            set(&self.oidc_issuer),
            set(&self.oidc_client_id),
            set(&self.oidc_client_secret),
        ) {
            (None, None, None) => return Ok(None),
            (Some(i), Some(c), Some(s)) => (i, c, s),
            _ => anyhow::bail!("CRM_OIDC_ISSUER, CRM_OIDC_CLIENT_ID and CRM_OIDC_CLIENT_SECRET are needed together"),
        };
        if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
            anyhow::bail!("CRM_OIDC_ISSUER must be an http(s) URL");
        }
        Ok(Some(crm_core::accounts::sso::OidcSettings {
            issuer: issuer.trim_end_matches('/').to_string(),
            client_id: id,
            client_secret: secret,
            label: match self.oidc_label.trim() {
                "" => "Sign in with SSO".to_string(),
                l => l.to_string(),
            },
            allowed_domains: self.sso_domains(),
            default_role: self.sso_role()?,
            only: self.oidc_only,
            redirect_uri: format!("{}/auth/oidc/callback", self.base_url()),
        }))
    }

    /// Sign-in with GitHub: `None` unless both client id and secret are set. New accounts
    /// follow `CRM_OIDC_ALLOWED_DOMAINS` and `CRM_OIDC_DEFAULT_ROLE`.
    pub fn github(&self) -> anyhow::Result<Option<crm_core::accounts::sso::github::GitHubSettings>> {
        let set = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let (id, secret) = match (set(&self.github_client_id), set(&self.github_client_secret)) {
            (None, None) => return Ok(None),
            (Some(i), Some(s)) => (i, s),
            _ => anyhow::bail!("CRM_GITHUB_CLIENT_ID and CRM_GITHUB_CLIENT_SECRET are needed together"),
        };
        Ok(Some(crm_core::accounts::sso::github::GitHubSettings {
            client_id: id,
            client_secret: secret,
            web_url: self.github_url.trim_end_matches('/').to_string(),
            api_url: self.github_api_url.trim_end_matches('/').to_string(),
            redirect_uri: format!("{}/auth/github/callback", self.base_url()),
            allowed_domains: self.sso_domains(),
            default_role: self.sso_role()?,
        }))
    }

    fn sso_domains(&self) -> Vec<String> {
        self.oidc_allowed_domains
            .split(',')
            .map(|d| d.trim().trim_start_matches('@').to_lowercase())
            .filter(|d| !d.is_empty())
            .collect()
    }

    fn sso_role(&self) -> anyhow::Result<crm_core::Role> {
        crm_core::Role::parse(&self.oidc_default_role)
            .ok_or_else(|| anyhow::anyhow!("CRM_OIDC_DEFAULT_ROLE must be admin, manager or rep"))
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) if !u.is_empty() => u.clone(),
            _ => format!("sqlite://{}/crm.db", self.data_dir.display()),
        }
    }

    /// A configuration for tests and benchmarks: a data dir, a database, port 0.
    pub fn for_tests(data_dir: PathBuf, database_url: Option<String>) -> Self {
        Config {
            listen: "127.0.0.1:0".into(),
            data_dir,
            database_url,
            database_read_url: None,
            base_url: Some("http://localhost".into()),
            allow_signup: true,
            smtp_url: None,
            mail_from: "CRM <no-reply@localhost>".into(),
            trusted_proxies: String::new(),
            redis_url: None,
            secret_key: None,
            redis_prefix: "crm".into(),
            log_format: "pretty".into(),
            timezone: None,
            import_max_bytes: crm_core::import::DEFAULT_MAX_BYTES,
            webhook_allow_private: true,
            webhook_retry_base_ms: 200,
            webhook_give_up_secs: 86_400,
            metrics_allow: "127.0.0.1/8,::1/128".into(),
            metrics_token: None,
            oidc_issuer: None,
            oidc_client_id: None,
            oidc_client_secret: None,
            oidc_label: "Sign in with SSO".into(),
            oidc_allowed_domains: String::new(),
            oidc_default_role: "rep".into(),
            oidc_only: false,
            github_client_id: None,
            github_client_secret: None,
            github_url: "https://github.com".into(),
            github_api_url: "https://api.github.com".into(),
        }
    }
}
