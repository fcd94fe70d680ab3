//! Single sign-on with OpenID Connect (authorization code flow with PKCE, S256).
//!
//! `start` stores the state (as its SHA-256), nonce and PKCE verifier in `oidc_states`
//! (m0016) for 10 minutes and answers the provider's authorization URL; `finish` takes that
//! row once (deleted on use), exchanges the code at the token endpoint, verifies the ID
//! token (signature, issuer, audience, expiry, nonce, verified e-mail) and finds or creates
//! the user. Opening the session is the web layer's, exactly as for a password sign-in.

pub mod github;
pub mod jwt;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::users::{self, NewUser};
use super::{hash_token, random_token};
use crate::actor::Role;
use crate::clock;
use crate::db::Db;
use crate::entities::{oidc_state, user};
use crate::error::CoreError;

/// A started sign-in is valid this long.
pub const STATE_MINUTES: i64 = 10;
/// Clock skew allowed on `exp`.
const LEEWAY_SECS: i64 = 60;

/// `CRM_OIDC_*`, read once at start-up.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The issuer URL without a trailing slash; discovery is at `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// The button's text.
    pub label: String,
    /// E-mail domains (lower case) whose unknown users are created; empty: nobody is.
    pub allowed_domains: Vec<String>,
    /// The role of created users.
    pub default_role: Role,
    /// Password sign-in only for admins.
    pub only: bool,
    /// `<CRM_BASE_URL>/auth/oidc/callback`.
    pub redirect_uri: String,
}

/// Why a single sign-on failed. `code()` goes into `/auth/signin?error=`; `Display` is
/// the detail for the log.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("the state does not match this browser's")]
    State,
    #[error("the sign-in is unknown, used or older than {STATE_MINUTES} minutes")]
    Expired,
    #[error("the provider refused: {0}")]
    Provider(String),
    #[error("the provider cannot be reached: {0}")]
    Unavailable(String),
    #[error("invalid ID token: {0}")]
    Token(String),
    #[error("the ID token's signature is invalid")]
    Signature,
    #[error("the ID token's issuer is not {0}")]
    Issuer(String),
    #[error("the ID token is not for this client")]
    Audience,
    #[error("the ID token has expired")]
    TokenExpired,
    #[error("the ID token's nonce does not match")]
    Nonce,
    #[error("the e-mail address {0} is not verified by the provider")]
    Unverified(String),
    #[error("no account for {0} and its domain is not allowed")]
    Domain(String),
    #[error("the account of {0} is inactive")]
    Inactive(String, Uuid),
    #[error(transparent)]
    Internal(#[from] CoreError),
}

impl From<sea_orm::DbErr> for SsoError {
    fn from(e: sea_orm::DbErr) -> Self {
        SsoError::Internal(e.into())
    }
}

impl SsoError {
    /// The short code of `/auth/signin?error=<code>`.
    pub fn code(&self) -> &'static str {
        match self {
            SsoError::State => "sso-state",
            SsoError::Expired => "sso-expired",
            SsoError::Provider(_) => "sso-provider",
            SsoError::Unavailable(_) => "sso-unavailable",
            SsoError::Token(_) | SsoError::Signature | SsoError::Issuer(_) => "sso-token",
            SsoError::Audience => "sso-audience",
            SsoError::TokenExpired => "sso-token-expired",
            SsoError::Nonce => "sso-nonce",
            SsoError::Unverified(_) => "sso-unverified",
            SsoError::Domain(_) => "sso-domain",
            SsoError::Inactive(..) => "sso-inactive",
            SsoError::Internal(_) => "sso-internal",
        }
    }

    /// The reason stored in the sign-in history (only failures that name an account).
    pub fn history_reason(&self) -> Option<(&str, &'static str)> {
        match self {
            SsoError::Unverified(e) => Some((e, "Email not verified by the identity provider")),
            SsoError::Domain(e) => Some((e, "Email domain not allowed")),
            SsoError::Inactive(e, _) => Some((e, "Account inactive")),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    #[serde(default)]
    jwks_uri: Option<String>,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Vec<String>,
}

/// The configured provider, its HTTP client, the discovery document and the JWKS (each
/// kept an hour; the keys are read again when none of the kept ones fits a token).
pub struct Oidc {
    pub settings: OidcSettings,
    http: reqwest::Client,
    discovery: tokio::sync::Mutex<Option<(Instant, Arc<Discovery>)>>,
    jwks: tokio::sync::Mutex<Option<(Instant, Arc<Value>)>>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc").field("issuer", &self.settings.issuer).finish()
    }
}

/// Who the provider says signed in, and where to go next.
pub struct Identity {
    pub email: String,
    pub name: String,
    pub next: String,
}

/// A started sign-in: where to send the browser and the state to bind to it.
pub struct Started {
    pub url: String,
    pub state: String,
}

impl Oidc {
    pub fn new(settings: OidcSettings) -> anyhow::Result<Oidc> {
        // the issuer is the operator's choice: no address filter, but no redirects either
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .user_agent("CRM-OIDC/1")
            .build()?;
        Ok(Oidc {
            settings,
            http,
            discovery: tokio::sync::Mutex::new(None),
            jwks: tokio::sync::Mutex::new(None),
        })
    }

    async fn get_json(&self, url: &str) -> Result<Value, SsoError> {
        let res = self
            .http
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| SsoError::Unavailable(format!("{url}: {e}")))?;
        let status = res.status();
        let text = res
            .text()
            .await
            .map_err(|e| SsoError::Unavailable(format!("{url}: {e}")))?;
        if !status.is_success() {
            return Err(SsoError::Unavailable(format!("{url} answered {status}")));
        }
        serde_json::from_str(&text).map_err(|_| SsoError::Unavailable(format!("{url} did not answer JSON")))
    }

    async fn discovery(&self) -> Result<Arc<Discovery>, SsoError> {
        let mut cached = self.discovery.lock().await;
        if let Some((at, d)) = cached.as_ref()
            && at.elapsed() < Duration::from_secs(3600)
        {
            return Ok(d.clone());
        }
        let url = format!("{}/.well-known/openid-configuration", self.settings.issuer);
        let d: Discovery = serde_json::from_value(self.get_json(&url).await?)
            .map_err(|e| SsoError::Unavailable(format!("{url}: {e}")))?;
        if d.issuer.trim_end_matches('/') != self.settings.issuer {
            return Err(SsoError::Unavailable(format!(
                "the discovery document names the issuer {:?}, not {:?}",
                d.issuer, self.settings.issuer
            )));
        }
        let d = Arc::new(d);
        *cached = Some((Instant::now(), d.clone()));
        Ok(d)
    }

    /// The provider's JWKS, and whether it was just read.
    async fn keys(&self, uri: &str, reload: bool) -> Result<(Arc<Value>, bool), SsoError> {
        let mut cached = self.jwks.lock().await;
        if !reload
            && let Some((at, k)) = cached.as_ref()
            && at.elapsed() < Duration::from_secs(3600)
        {
            return Ok((k.clone(), false));
        }
        let k = Arc::new(self.get_json(uri).await?);
        *cached = Some((Instant::now(), k.clone()));
        Ok((k, true))
    }

    /// Remember a new sign-in and build the authorization URL.
    pub async fn start(&self, db: &Db, next: &str) -> Result<Started, SsoError> {
        let d = self.discovery().await?;
        let Pending {
            state,
            nonce,
            challenge,
        } = put_state(db, "oidc", next).await?;
        let mut url = url::Url::parse(&d.authorization_endpoint)
            .map_err(|_| SsoError::Unavailable("the authorization endpoint is not a URL".into()))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", &self.settings.redirect_uri)
            .append_pair("scope", "openid email profile")
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(Started {
            url: url.to_string(),
            state,
        })
    }

    /// Finish a sign-in: `bound` is the state this browser started with (its cookie).
    pub async fn finish(&self, db: &Db, bound: Option<&str>, state: &str, code: &str) -> Result<Identity, SsoError> {
        let row = take_state(db, "oidc", bound, state).await?;
        let d = self.discovery().await?;
        let id_token = self.exchange(&d, code, &row.verifier).await?;
        let jws = jwt::decode(&id_token)?;
        let secret = self.settings.client_secret.as_bytes();
        match (&d.jwks_uri, jws.needs_jwks()) {
            (Some(uri), true) => {
                let (keys, fresh) = self.keys(uri, false).await?;
                match jws.verify(secret, Some(&keys)) {
                    // rotated keys: read them again once
                    Err(SsoError::Signature) if !fresh => jws.verify(secret, Some(&self.keys(uri, true).await?.0))?,
                    r => r?,
                }
            }
            _ => jws.verify(secret, None)?,
        }
        let c = &jws.claims;
        check_claims(
            c,
            &d.issuer,
            &self.settings.client_id,
            &row.nonce,
            clock::now().timestamp(),
        )?;
        let email = c["email"]
            .as_str()
            .map(crate::text::email_key)
            .filter(|e| crate::input::is_email(e))
            .ok_or_else(|| SsoError::Token("the ID token has no e-mail address".into()))?;
        let verified = c["email_verified"] == Value::Bool(true) || c["email_verified"] == "true";
        if !verified {
            return Err(SsoError::Unverified(email));
        }
        Ok(Identity {
            name: display_name(c, &email),
            email,
            next: row.next_path,
        })
    }

    /// The authorization code for tokens; answers the ID token.
    async fn exchange(&self, d: &Discovery, code: &str, verifier: &str) -> Result<String, SsoError> {
        let s = &self.settings;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", s.redirect_uri.as_str()),
            ("code_verifier", verifier),
        ];
        // client_secret_basic is the default; post when that is all the provider takes
        let methods = &d.token_endpoint_auth_methods_supported;
        let post =
            methods.iter().any(|m| m == "client_secret_post") && !methods.iter().any(|m| m == "client_secret_basic");
        let mut req = self.http.post(&d.token_endpoint).header("accept", "application/json");
        if post {
            form.push(("client_id", s.client_id.as_str()));
            form.push(("client_secret", s.client_secret.as_str()));
        } else {
            let enc = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
            req = req.basic_auth(enc(&s.client_id), Some(enc(&s.client_secret)));
        }
        let res = req
            .form(&form)
            .send()
            .await
            .map_err(|e| SsoError::Unavailable(format!("token endpoint: {e}")))?;
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !status.is_success() {
            let why = body["error"].as_str().map(str::to_string).unwrap_or_else(|| {
                let t: String = text.chars().take(200).collect();
                format!("{status}: {t}")
            });
            return Err(SsoError::Provider(format!("token endpoint: {why}")));
        }
        body["id_token"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| SsoError::Token("the token endpoint answered no id_token".into()))
    }

    /// The user of a verified identity: the account with that e-mail, or a new one when
    /// its domain is allowed. Inactive accounts are refused.
    pub async fn user_for(&self, db: &Db, id: &Identity) -> Result<user::Model, SsoError> {
        user_for(db, &self.settings.allowed_domains, self.settings.default_role, id).await
    }
}

/// The end of a provider's code flow (OpenID Connect, GitHub): the identity from the
/// callback's code, then its account.
pub trait Provider: Send + Sync {
    fn finish(
        &self,
        db: &Db,
        bound: Option<&str>,
        state: &str,
        code: &str,
    ) -> impl Future<Output = Result<Identity, SsoError>> + Send;
    fn user_for(&self, db: &Db, id: &Identity) -> impl Future<Output = Result<user::Model, SsoError>> + Send;
}

impl Provider for Oidc {
    async fn finish(&self, db: &Db, bound: Option<&str>, state: &str, code: &str) -> Result<Identity, SsoError> {
        Oidc::finish(self, db, bound, state, code).await
    }
    async fn user_for(&self, db: &Db, id: &Identity) -> Result<user::Model, SsoError> {
        Oidc::user_for(self, db, id).await
    }
}

/// The user of a verified identity: the account with that e-mail, or a new one of `role`
/// when its domain is in `allowed_domains`. Inactive accounts are refused.
pub async fn user_for(db: &Db, allowed_domains: &[String], role: Role, id: &Identity) -> Result<user::Model, SsoError> {
    if let Some(u) = users::find_by_email(db, &id.email).await? {
        return existing(db, u).await;
    }
    let domain = id.email.rsplit('@').next().unwrap_or("");
    if !allowed_domains.iter().any(|d| d == domain) {
        return Err(SsoError::Domain(id.email.clone()));
    }
    let model = users::prepare(NewUser {
        email: id.email.clone(),
        name: id.name.clone(),
        role,
        // nobody knows it: this account signs in through the provider (or resets it)
        password: format!("{}{}", random_token(), random_token()),
        verified: true,
        is_demo: false,
    })
    .await?;
    match users::insert(&db.conn, model).await {
        Ok(u) => {
            tracing::info!("single sign-on created the account {} ({})", u.email, u.role);
            Ok(u)
        }
        // created by a concurrent sign-in meanwhile
        Err(CoreError::Validation { .. }) => match users::find_by_email(db, &id.email).await? {
            Some(u) => existing(db, u).await,
            None => Err(SsoError::Internal(CoreError::Internal(anyhow::anyhow!(
                "the new account of {} is neither created nor found",
                id.email
            )))),
        },
        Err(e) => Err(e.into()),
    }
}

async fn existing(db: &Db, u: user::Model) -> Result<user::Model, SsoError> {
    if !u.is_active {
        return Err(SsoError::Inactive(u.email, u.id));
    }
    if u.email_verified_at.is_some() {
        return Ok(u);
    }
    // the provider has verified the address
    let mut am: user::ActiveModel = u.into();
    am.email_verified_at = Set(Some(clock::now()));
    Ok(am.update(&db.conn).await?)
}

/// Take a started sign-in by its state, once — only when it is the state this browser
/// started with (`bound`, its cookie) and one of `provider`'s: the row is deleted, and only
/// the request that deleted it goes on.
pub(crate) async fn take_state(
    db: &Db,
    provider: &str,
    bound: Option<&str>,
    state: &str,
) -> Result<oidc_state::Model, SsoError> {
    if state.is_empty() || bound != Some(state) {
        return Err(SsoError::State);
    }
    let row = oidc_state::Entity::find()
        .filter(oidc_state::Column::StateHash.eq(hash_token(state)))
        .one(&db.conn)
        .await?
        .ok_or(SsoError::Expired)?;
    let gone = oidc_state::Entity::delete_by_id(row.id).exec(&db.conn).await?;
    if gone.rows_affected != 1 || row.expires_at <= clock::now() || row.provider != provider {
        return Err(SsoError::Expired);
    }
    Ok(row)
}

/// A new pending sign-in of `provider`: its state, nonce and PKCE verifier, stored; the
/// verifier's S256 challenge. Expired rows are pruned on the way.
pub(crate) async fn put_state(db: &Db, provider: &str, next: &str) -> Result<Pending, SsoError> {
    let now = clock::now();
    oidc_state::Entity::delete_many()
        .filter(oidc_state::Column::ExpiresAt.lte(now))
        .exec(&db.conn)
        .await?;
    let (state, nonce, verifier) = (random_token(), random_token(), random_token());
    oidc_state::ActiveModel {
        id: Set(Uuid::now_v7()),
        state_hash: Set(hash_token(&state)),
        provider: Set(provider.into()),
        nonce: Set(nonce.clone()),
        verifier: Set(verifier.clone()),
        next_path: Set(next.chars().take(2000).collect()),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::minutes(STATE_MINUTES)),
    }
    .insert(&db.conn)
    .await?;
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    Ok(Pending {
        state,
        nonce,
        challenge,
    })
}

pub(crate) struct Pending {
    state: String,
    nonce: String,
    challenge: String,
}

/// Issuer, audience (and `azp` with several audiences), expiry and nonce.
pub fn check_claims(c: &Value, issuer: &str, client_id: &str, nonce: &str, now: i64) -> Result<(), SsoError> {
    if c["iss"].as_str() != Some(issuer) {
        return Err(SsoError::Issuer(issuer.to_string()));
    }
    let aud: Vec<&str> = match &c["aud"] {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !aud.contains(&client_id) || (aud.len() > 1 && c["azp"].as_str().is_some_and(|a| a != client_id)) {
        return Err(SsoError::Audience);
    }
    let exp = c["exp"]
        .as_i64()
        .or_else(|| c["exp"].as_f64().map(|f| f as i64))
        .ok_or_else(|| SsoError::Token("the ID token has no exp".into()))?;
    if exp + LEEWAY_SECS <= now {
        return Err(SsoError::TokenExpired);
    }
    if c["nonce"].as_str() != Some(nonce) {
        return Err(SsoError::Nonce);
    }
    Ok(())
}

/// The provider's name for the user, made acceptable to `users::check_name`.
pub(crate) fn display_name(c: &Value, email: &str) -> String {
    let given = [c["given_name"].as_str(), c["family_name"].as_str()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let raw = c["name"]
        .as_str()
        .map(str::to_string)
        .filter(|n| !n.trim().is_empty())
        .or(Some(given).filter(|g| !g.trim().is_empty()))
        .unwrap_or_else(|| email.split('@').next().unwrap_or("User").to_string());
    let clean: String = raw.chars().filter(|c| !c.is_control()).take(100).collect();
    let clean = clean.trim().to_string();
    if clean.is_empty() { "User".into() } else { clean }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claims_checked_in_order() {
        let ok = json!({"iss": "https://idp", "aud": ["crm", "x"], "azp": "crm", "exp": 1000, "nonce": "n"});
        assert!(check_claims(&ok, "https://idp", "crm", "n", 900).is_ok());
        assert!(matches!(
            check_claims(&ok, "https://other", "crm", "n", 900),
            Err(SsoError::Issuer(_))
        ));
        assert!(matches!(
            check_claims(&ok, "https://idp", "other", "n", 900),
            Err(SsoError::Audience)
        ));
        assert!(matches!(
            check_claims(&ok, "https://idp", "crm", "n", 2000),
            Err(SsoError::TokenExpired)
        ));
        assert!(matches!(
            check_claims(&ok, "https://idp", "crm", "m", 900),
            Err(SsoError::Nonce)
        ));
    }

    #[test]
    fn names() {
        assert_eq!(display_name(&json!({"name": " Ada\u{0}L "}), "a@x"), "AdaL");
        assert_eq!(
            display_name(&json!({"given_name": "Ada", "family_name": "L"}), "a@x"),
            "Ada L"
        );
        assert_eq!(display_name(&json!({}), "ada@x"), "ada");
    }
}
