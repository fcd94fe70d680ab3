//! Sign-in with GitHub (OAuth 2, not OpenID Connect): the same pending-sign-in rows as
//! OIDC (provider `github`, PKCE), the code exchanged at `<web>/login/oauth/access_token`,
//! then the account's primary e-mail from `GET <api>/user/emails` — used only when GitHub
//! has verified it — and its name from `GET <api>/user`.

use std::time::Duration;

use serde_json::Value;

use super::{Identity, Pending, SsoError, Started, put_state, take_state};
use crate::actor::Role;
use crate::db::Db;
use crate::entities::user;

/// `CRM_GITHUB_*`, read once at start-up.
#[derive(Debug, Clone)]
pub struct GitHubSettings {
    pub client_id: String,
    pub client_secret: String,
    /// `https://github.com` (tests point it elsewhere).
    pub web_url: String,
    /// `https://api.github.com`.
    pub api_url: String,
    /// `<CRM_BASE_URL>/auth/github/callback`.
    pub redirect_uri: String,
    /// As for OIDC (`CRM_OIDC_ALLOWED_DOMAINS`): unknown users of these domains are created.
    pub allowed_domains: Vec<String>,
    /// `CRM_OIDC_DEFAULT_ROLE`.
    pub default_role: Role,
}

pub struct GitHub {
    pub settings: GitHubSettings,
    http: reqwest::Client,
}

impl std::fmt::Debug for GitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHub")
            .field("web_url", &self.settings.web_url)
            .finish()
    }
}

impl GitHub {
    pub fn new(settings: GitHubSettings) -> anyhow::Result<GitHub> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .user_agent("CRM-OIDC/1")
            .build()?;
        Ok(GitHub { settings, http })
    }

    pub async fn start(&self, db: &Db, next: &str) -> Result<Started, SsoError> {
        let Pending { state, challenge, .. } = put_state(db, "github", next).await?;
        let mut url = url::Url::parse(&format!("{}/login/oauth/authorize", self.settings.web_url))
            .map_err(|_| SsoError::Unavailable("CRM_GITHUB_URL is not a URL".into()))?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", &self.settings.redirect_uri)
            .append_pair("scope", "read:user user:email")
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(Started {
            url: url.to_string(),
            state,
        })
    }

    pub async fn finish(&self, db: &Db, bound: Option<&str>, state: &str, code: &str) -> Result<Identity, SsoError> {
        let row = take_state(db, "github", bound, state).await?;
        let s = &self.settings;
        let res = self
            .http
            .post(format!("{}/login/oauth/access_token", s.web_url))
            .header("accept", "application/json")
            .form(&[
                ("client_id", s.client_id.as_str()),
                ("client_secret", s.client_secret.as_str()),
                ("code", code),
                ("redirect_uri", s.redirect_uri.as_str()),
                ("code_verifier", row.verifier.as_str()),
            ])
            .send()
            .await
            .map_err(|e| SsoError::Unavailable(format!("GitHub token endpoint: {e}")))?;
        let body: Value = serde_json::from_str(&res.text().await.unwrap_or_default()).unwrap_or(Value::Null);
        let Some(token) = body["access_token"].as_str() else {
            let why = body["error"].as_str().unwrap_or("no access token");
            return Err(SsoError::Provider(format!("GitHub token endpoint: {why}")));
        };
        let emails = self.api(token, "/user/emails").await?;
        let primary = emails
            .as_array()
            .and_then(|a| a.iter().find(|e| e["primary"] == true))
            .ok_or_else(|| SsoError::Token("GitHub answered no primary e-mail".into()))?;
        let email = primary["email"]
            .as_str()
            .map(crate::text::email_key)
            .filter(|e| crate::input::is_email(e))
            .ok_or_else(|| SsoError::Token("GitHub's primary e-mail is not an address".into()))?;
        if primary["verified"] != true {
            return Err(SsoError::Unverified(email));
        }
        let profile = self.api(token, "/user").await.unwrap_or(Value::Null);
        let claims = serde_json::json!({ "name": profile["name"].as_str().or(profile["login"].as_str()) });
        Ok(Identity {
            name: super::display_name(&claims, &email),
            email,
            next: row.next_path,
        })
    }

    async fn api(&self, token: &str, path: &str) -> Result<Value, SsoError> {
        let url = format!("{}{path}", self.settings.api_url);
        let res = self
            .http
            .get(&url)
            .bearer_auth(token)
            .header("accept", "application/vnd.github+json")
            .send()
            .await
            .map_err(|e| SsoError::Unavailable(format!("{url}: {e}")))?;
        if !res.status().is_success() {
            return Err(SsoError::Provider(format!("{url} answered {}", res.status())));
        }
        serde_json::from_str(&res.text().await.unwrap_or_default())
            .map_err(|_| SsoError::Provider(format!("{url} did not answer JSON")))
    }

    pub async fn user_for(&self, db: &Db, id: &Identity) -> Result<user::Model, SsoError> {
        super::user_for(db, &self.settings.allowed_domains, self.settings.default_role, id).await
    }
}

impl super::Provider for GitHub {
    async fn finish(&self, db: &Db, bound: Option<&str>, state: &str, code: &str) -> Result<Identity, SsoError> {
        GitHub::finish(self, db, bound, state, code).await
    }
    async fn user_for(&self, db: &Db, id: &Identity) -> Result<user::Model, SsoError> {
        GitHub::user_for(self, db, id).await
    }
}
