//! Accounts: users, password hashing, sessions and secrets.

pub mod api_tokens;
pub mod flows;
pub mod history;
pub mod password;
pub mod profile;
pub mod sessions;
pub mod setup;
pub mod sso;
pub mod tokens;
pub mod twofactor;
pub mod users;

/// A user account as stored (the web layer reads, never queries, these).
pub type User = crate::entities::user::Model;
/// A signed-in session as stored.
pub type Session = crate::entities::session::Model;

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A fresh random secret, 32 bytes, URL-safe base64 (43 chars).
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// How secrets are stored: SHA-256, hex. A stolen database holds no usable token.
pub fn hash_token(token: &str) -> String {
    let d = Sha256::digest(token.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}
