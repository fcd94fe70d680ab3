//! Password hashing with argon2id (OWASP parameters: 19 MiB, 2 iterations, 1 lane).
//! Hashing runs on the blocking pool so it never stalls the async workers.
//!
//! Hashes brought in from the original app are bcrypt (`$2a$`/`$2b$`/`$2y$`): they verify
//! here too, and [`needs_upgrade`] tells sign-in to replace them with argon2id.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{CoreError, CoreResult};

fn argon() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_blocking(password: &str) -> CoreResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CoreError::Internal(anyhow::anyhow!("password hashing failed: {e}")))
}

pub async fn hash(password: String) -> CoreResult<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| CoreError::Internal(e.into()))?
}

/// Verify; `None` hash verifies against a dummy so an unknown user costs the same time.
pub async fn verify(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let stored = hash.unwrap_or_else(|| dummy().to_string());
        if is_bcrypt(&stored) {
            return verify_bcrypt(&password, &stored);
        }
        match PasswordHash::new(&stored) {
            Ok(parsed) => argon().verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(_) => false,
        }
    })
    .await
    .unwrap_or(false)
}

fn is_bcrypt(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p))
}

/// bcrypt as the original app wrote it (cost 10). Costs outside 4–14 are refused rather
/// than computed, so a doctored hash cannot make a sign-in take minutes.
fn verify_bcrypt(password: &str, hash: &str) -> bool {
    let cost = hash.get(4..6).and_then(|c| c.parse::<u32>().ok());
    if !cost.is_some_and(|c| (4..=14).contains(&c)) {
        return false;
    }
    bcrypt::verify(password, hash).unwrap_or(false)
}

/// True for a stored hash that is not argon2id (a bcrypt hash from the original app):
/// the next successful sign-in stores an argon2id hash instead.
pub fn needs_upgrade(hash: &str) -> bool {
    !hash.starts_with("$argon2id$")
}

/// argon2id hash of a random string nobody knows, with the production parameters.
fn dummy() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking(&super::random_token()).unwrap_or_default())
}

/// Password policy shared by every place a password is chosen.
pub fn check_policy(password: &str, email: &str) -> Result<(), String> {
    if password.chars().count() < 10 {
        return Err("Password must be at least 10 characters".into());
    }
    if password.chars().count() > 128 {
        return Err("Password must be less than 128 characters".into());
    }
    let lower = password.to_lowercase();
    if !email.is_empty()
        && (lower == email.to_lowercase() || lower == email.split('@').next().unwrap_or("").to_lowercase())
    {
        return Err("Password must not be your email address".into());
    }
    if COMMON.contains(&lower.as_str()) {
        return Err("This password is too common; choose another".into());
    }
    Ok(())
}

const COMMON: &[&str] = &[
    "1234567890",
    "12345678910",
    "123456789a",
    "qwertyuiop",
    "password12",
    "password123",
    "password1!",
    "iloveyou12",
    "1q2w3e4r5t",
    "qwerty1234",
    "abc1234567",
    "0987654321",
    "1111111111",
    "0000000000",
    "letmein123",
    "welcome123",
    "admin12345",
    "administrator",
    "passw0rd12",
    "changeme12",
    "football12",
    "baseball12",
    "sunshine12",
    "princess12",
    "dragon1234",
    "monkey1234",
    "trustno1234",
    "superman12",
    "qazwsxedc1",
    "asdfghjkl1",
    "zxcvbnm123",
    "1qaz2wsx3edc",
    "password1234",
    "p@ssw0rd123",
];

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn policy() {
        assert!(check_policy("short", "a@b.c").is_err());
        assert!(check_policy("password123", "a@b.c").is_err());
        assert!(check_policy("alice@example.com", "alice@example.com").is_err());
        assert!(check_policy("correct horse battery", "a@b.c").is_ok());
    }
    #[tokio::test]
    async fn hash_and_verify() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(!needs_upgrade(&h));
        assert!(verify("correct horse battery".into(), Some(h.clone())).await);
        assert!(!verify("wrong".into(), Some(h)).await);
        assert!(!verify("wrong".into(), None).await);
    }
    #[tokio::test]
    async fn bcrypt_from_the_original_app() {
        let h = bcrypt::hash("old password", 4).unwrap();
        assert!(needs_upgrade(&h));
        assert!(verify("old password".into(), Some(h.clone())).await);
        assert!(!verify("wrong".into(), Some(h.clone())).await);
        // the original's `$2a$` / `$2y$` spellings of the same hash
        for prefix in ["$2a$", "$2y$"] {
            let other = format!("{prefix}{}", &h[4..]);
            assert!(verify("old password".into(), Some(other)).await, "{prefix}");
        }
        let too_slow = format!("$2b$31{}", &h[6..]);
        assert!(!verify("old password".into(), Some(too_slow)).await);
    }
}
