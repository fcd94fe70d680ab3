//! What the account endpoints answer, as typed views (serialized as they are documented).

use schemars::JsonSchema;
use serde::Serialize;
use uuid::Uuid;

/// The signed-in user, as the session endpoints show them.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionUser {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: crm_core::Role,
}

impl SessionUser {
    pub fn of(id: Uuid, email: &str, name: &str, role: crm_core::Role) -> Self {
        SessionUser {
            id,
            email: email.into(),
            name: name.into(),
            role,
        }
    }
}

/// `POST /auth/signin`: the user; with two-factor sign-in on, the session is half-open
/// until `POST /auth/2fa/verify`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedIn {
    pub user: SessionUser,
    pub two_factor_required: bool,
}

/// `GET /auth/session`: the user and the token to send as `X-CSRF-Token` with the cookie.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CurrentSession {
    pub user: SessionUser,
    pub csrf_token: String,
}

/// A sentence for a person.
#[derive(Serialize, JsonSchema)]
pub struct Message {
    pub message: String,
}

impl Message {
    pub fn new(m: &str) -> Self {
        Message { message: m.into() }
    }
}

/// `POST /auth/signup`.
#[derive(Serialize, JsonSchema)]
pub struct SignedUp {
    pub message: String,
    pub email: String,
}

/// One's profile.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub role: crm_core::Role,
    pub avatar: Option<String>,
    pub bio: Option<String>,
    pub email_verified: Option<String>,
    pub two_factor_enabled: bool,
    pub created_at: String,
}

impl From<&crm_core::accounts::User> for Profile {
    fn from(u: &crm_core::accounts::User) -> Self {
        Profile {
            id: u.id,
            name: u.name.clone(),
            email: u.email.clone(),
            role: u.role,
            avatar: u.avatar.clone(),
            bio: u.bio.clone(),
            email_verified: crm_core::clock::fmt_opt(&u.email_verified_at),
            two_factor_enabled: u.two_factor_enabled,
            created_at: crm_core::clock::fmt(&u.created_at),
        }
    }
}

/// One of one's signed-in sessions.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionRow {
    pub id: Uuid,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: String,
    pub last_seen_at: String,
    /// The session this request came with.
    pub current: bool,
}

/// New backup codes, shown this once.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupCodes {
    pub backup_codes: Vec<String>,
}

/// Done.
#[derive(Serialize, JsonSchema)]
pub struct Success {
    pub success: bool,
    /// How the second step was passed (`totp` or `backup`), after a sign-in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<crm_core::accounts::twofactor::Method>,
}
