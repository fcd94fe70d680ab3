//! Two-factor authentication with TOTP (RFC 6238: SHA1, 6 digits, 30 s, ±1 step) and
//! single-use backup codes. The secret is generated and kept on the server (sealed at
//! rest); a code's time step is remembered so the same code cannot be replayed.

use qrcode::QrCode;
use qrcode::render::svg;
use rand::{Rng, RngCore};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set, TransactionTrait};
use totp_rs::{Algorithm, Secret, TOTP};
use uuid::Uuid;

use super::{password, users};
use crate::actor::Actor;
use crate::clock;
use crate::crypto::SecretBox;
use crate::db::Db;
use crate::entities::{backup_code, user};
use crate::error::{CoreError, CoreResult};
use crate::mail::Mailer;

pub const ISSUER: &str = "CRM Contact Manager";
pub const BACKUP_CODES: usize = 10;
/// Below this many unused backup codes the settings page warns.
pub const LOW_CODES: u64 = 3;

fn totp(secret_b32: &str, email: &str) -> CoreResult<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_string())
        .to_bytes()
        .map_err(|_| CoreError::Internal(anyhow::anyhow!("stored 2FA secret is not base32")))?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        0,
        30,
        bytes,
        Some(ISSUER.to_string()),
        email.to_string(),
    )
    .map_err(|e| CoreError::Internal(anyhow::anyhow!("TOTP setup failed: {e}")))
}

/// What the user scans: the base32 secret, the otpauth URI and a QR code as inline SVG.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Enrollment {
    pub secret: String,
    pub otpauth_url: String,
    pub qr_code_svg: String,
}

fn enrollment(secret: &str, email: &str) -> CoreResult<Enrollment> {
    let t = totp(secret, email)?;
    let url = t.get_url();
    let qr = QrCode::new(url.as_bytes()).map_err(|e| CoreError::Internal(anyhow::anyhow!("QR code failed: {e}")))?;
    let svg = qr
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    let svg = svg
        .split_once("?>")
        .map(|(_, rest)| rest.trim().to_string())
        .unwrap_or(svg);
    Ok(Enrollment {
        secret: secret.to_string(),
        otpauth_url: url,
        qr_code_svg: svg,
    })
}

async fn me(db: &Db, actor: &Actor) -> CoreResult<user::Model> {
    users::find(db, actor.id)
        .await?
        .ok_or_else(|| CoreError::Unauthenticated("Not authenticated".into()))
}

/// Start (or restart) setup: a new 160-bit secret, kept sealed on the server until a code
/// from the app confirms it.
pub async fn enable(db: &Db, keys: &SecretBox, actor: &Actor) -> CoreResult<Enrollment> {
    let u = me(db, actor).await?;
    if u.two_factor_enabled {
        return Err(CoreError::bad_request("Two-factor authentication is already enabled"));
    }
    let mut raw = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let secret = match Secret::Raw(raw.to_vec()).to_encoded() {
        Secret::Encoded(s) => s,
        Secret::Raw(_) => return Err(CoreError::Internal(anyhow::anyhow!("base32 encoding failed"))),
    };
    let mut am: user::ActiveModel = u.clone().into();
    am.two_factor_secret = Set(Some(keys.seal(&secret)?));
    am.two_factor_last_step = Set(None);
    am.updated_at = Set(clock::now());
    am.update(&db.conn).await?;
    enrollment(&secret, &u.email)
}

/// The pending or active enrollment (to show the QR code again).
pub async fn pending(db: &Db, keys: &SecretBox, actor: &Actor) -> CoreResult<Option<Enrollment>> {
    let u = me(db, actor).await?;
    match (&u.two_factor_secret, u.two_factor_enabled) {
        (Some(s), false) => Ok(Some(enrollment(&keys.open(s)?, &u.email)?)),
        _ => Ok(None),
    }
}

/// A code as typed: spaces and dashes dropped, upper-cased.
fn normalise(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_uppercase()
}

/// How a backup code is stored: the keyed hash of its normalised form. Ours are 10
/// characters; the original app's (brought in by `crm import original`) 8 hex characters.
pub fn backup_code_hash(keys: &SecretBox, code: &str) -> String {
    keys.mac(&normalise(code))
}

/// A TOTP secret from elsewhere (the original app) in the form we store: base32, upper
/// case, no padding, usable for codes. `None` when it cannot produce codes (the original
/// generated some secrets that are not base32 at all).
pub fn importable_secret(secret: &str) -> Option<String> {
    let s: String = normalise(secret).trim_end_matches('=').to_string();
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)) {
        return None;
    }
    totp(&s, "import@localhost").ok().map(|_| s)
}

/// Check a 6-digit TOTP code against `secret` at ±1 step, refusing steps at or before
/// `last_step`. Returns the matching step.
fn check_totp(secret: &str, email: &str, code: &str, last_step: Option<i64>) -> CoreResult<i64> {
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Err(CoreError::field(
            "code",
            "Enter the 6-digit code from your authenticator app",
        ));
    }
    let t = totp(secret, email)?;
    let now = chrono::Utc::now().timestamp() / 30;
    for step in [now - 1, now, now + 1] {
        if t.generate((step * 30) as u64) == code {
            if last_step.is_some_and(|l| step <= l) {
                return Err(CoreError::field(
                    "code",
                    "This code was already used. Wait for the next one.",
                ));
            }
            return Ok(step);
        }
    }
    Err(CoreError::field("code", "Invalid verification code"))
}

fn new_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..BACKUP_CODES)
        .map(|_| {
            let s: String = (0..10)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect();
            format!("{}-{}", &s[..5], &s[5..])
        })
        .collect()
}

async fn replace_codes(
    conn: &impl sea_orm::ConnectionTrait,
    keys: &SecretBox,
    user_id: Uuid,
) -> CoreResult<Vec<String>> {
    backup_code::Entity::delete_many()
        .filter(backup_code::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    let codes = new_codes();
    let now = clock::now();
    for c in &codes {
        backup_code::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            code_hash: Set(backup_code_hash(keys, c)),
            used_at: Set(None),
            created_at: Set(now),
        }
        .insert(conn)
        .await?;
    }
    Ok(codes)
}

/// Confirm setup with a code from the app: 2FA is on, and 10 backup codes are returned
/// (shown once). A `secret` sent back by an old client must match the one issued.
pub async fn verify_setup(
    db: &Db,
    keys: &SecretBox,
    mailer: &Mailer,
    actor: &Actor,
    code: &str,
    secret: Option<&str>,
) -> CoreResult<Vec<String>> {
    let u = me(db, actor).await?;
    if u.two_factor_enabled {
        return Err(CoreError::bad_request("Two-factor authentication is already enabled"));
    }
    let sealed = u
        .two_factor_secret
        .clone()
        .ok_or_else(|| CoreError::bad_request("Start two-factor setup first"))?;
    let issued = keys.open(&sealed)?;
    if let Some(s) = secret.filter(|s| !s.trim().is_empty())
        && normalise(s) != issued
    {
        return Err(CoreError::field(
            "secret",
            "This secret is not the one issued for your setup",
        ));
    }
    let step = check_totp(&issued, &u.email, &normalise(code), None)?;
    let txn = db.conn.begin().await?;
    let mut am: user::ActiveModel = u.clone().into();
    am.two_factor_enabled = Set(true);
    am.two_factor_last_step = Set(Some(step));
    am.updated_at = Set(clock::now());
    am.update(&txn).await?;
    let codes = replace_codes(&txn, keys, u.id).await?;
    crate::audit::record(&txn, Some(actor), "2fa_enable", "user", Some(u.id.to_string()), None).await?;
    txn.commit().await?;
    mailer
        .notify(
            (&u.email, &u.name),
            "Two-factor authentication is on",
            "Two-factor authentication was turned on for your account. Keep your backup codes somewhere safe.",
            "/settings#two-factor",
        )
        .await;
    Ok(codes)
}

/// How a second step was passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Totp,
    Backup,
}

/// Check a TOTP or an unused backup code for `user_id` (sign-in, disable, regenerate).
pub async fn check_code(db: &Db, keys: &SecretBox, user_id: Uuid, code: &str) -> CoreResult<Method> {
    let u = users::find(db, user_id)
        .await?
        .ok_or_else(|| CoreError::Unauthenticated("Not authenticated".into()))?;
    let (true, Some(sealed)) = (u.two_factor_enabled, &u.two_factor_secret) else {
        return Err(CoreError::bad_request("Two-factor authentication is not enabled"));
    };
    let code = normalise(code);
    if code.is_empty() {
        return Err(CoreError::field("code", "Code is required"));
    }
    // 8 characters: a backup code from the original app (hex, possibly all digits)
    if code.len() != 8 && code.chars().all(|c| c.is_ascii_digit()) {
        let step = check_totp(&keys.open(sealed)?, &u.email, &code, u.two_factor_last_step)?;
        // a concurrent use of the same code loses here
        let res = user::Entity::update_many()
            .col_expr(user::Column::TwoFactorLastStep, sea_orm::sea_query::Expr::value(step))
            .filter(user::Column::Id.eq(u.id))
            .filter(
                sea_orm::Condition::any()
                    .add(user::Column::TwoFactorLastStep.is_null())
                    .add(user::Column::TwoFactorLastStep.lt(step)),
            )
            .exec(&db.conn)
            .await?;
        if res.rows_affected != 1 {
            return Err(CoreError::field(
                "code",
                "This code was already used. Wait for the next one.",
            ));
        }
        return Ok(Method::Totp);
    }
    if code.len() != 10 && code.len() != 8 {
        return Err(CoreError::field(
            "code",
            "Enter the 6-digit code from your app or a backup code",
        ));
    }
    let res = backup_code::Entity::update_many()
        .col_expr(
            backup_code::Column::UsedAt,
            sea_orm::sea_query::Expr::value(clock::now()),
        )
        .filter(backup_code::Column::UserId.eq(u.id))
        .filter(backup_code::Column::CodeHash.eq(backup_code_hash(keys, &code)))
        .filter(backup_code::Column::UsedAt.is_null())
        .exec(&db.conn)
        .await?;
    if res.rows_affected == 1 {
        Ok(Method::Backup)
    } else {
        Err(CoreError::field("code", "Invalid or already used backup code"))
    }
}

/// Turn 2FA off: needs the password and a current code.
pub async fn disable(
    db: &Db,
    keys: &SecretBox,
    mailer: &Mailer,
    actor: &Actor,
    password_plain: &str,
    code: &str,
) -> CoreResult<()> {
    let u = me(db, actor).await?;
    if !u.two_factor_enabled {
        return Err(CoreError::bad_request("Two-factor authentication is not enabled"));
    }
    if !password::verify(password_plain.to_string(), Some(u.password_hash.clone())).await {
        return Err(CoreError::field("password", "Password is incorrect"));
    }
    check_code(db, keys, u.id, code).await?;
    let txn = db.conn.begin().await?;
    turn_off(&txn, actor, &u, "2fa_disable").await?;
    txn.commit().await?;
    mailer
        .notify(
            (&u.email, &u.name),
            "Two-factor authentication is off",
            "Two-factor authentication was turned off for your account. If this was not you, reset your password now.",
            "/settings#two-factor",
        )
        .await;
    Ok(())
}

/// Turn off `u`'s 2FA and delete their backup codes, audited as `action` (in `txn`).
pub(crate) async fn turn_off(
    txn: &sea_orm::DatabaseTransaction,
    actor: &Actor,
    u: &user::Model,
    action: &str,
) -> CoreResult<()> {
    let mut am: user::ActiveModel = u.clone().into();
    am.two_factor_enabled = Set(false);
    am.two_factor_secret = Set(None);
    am.two_factor_last_step = Set(None);
    am.updated_at = Set(clock::now());
    am.update(txn).await?;
    backup_code::Entity::delete_many()
        .filter(backup_code::Column::UserId.eq(u.id))
        .exec(txn)
        .await?;
    crate::audit::record(txn, Some(actor), action, "user", Some(u.id.to_string()), None).await?;
    Ok(())
}

/// New backup codes (needs a current code); the old ones stop working.
pub async fn regenerate(
    db: &Db,
    keys: &SecretBox,
    mailer: &Mailer,
    actor: &Actor,
    code: &str,
) -> CoreResult<Vec<String>> {
    let u = me(db, actor).await?;
    check_code(db, keys, u.id, code).await?;
    let txn = db.conn.begin().await?;
    let codes = replace_codes(&txn, keys, u.id).await?;
    crate::audit::record(
        &txn,
        Some(actor),
        "2fa_regenerate_codes",
        "user",
        Some(u.id.to_string()),
        None,
    )
    .await?;
    txn.commit().await?;
    mailer
        .notify(
            (&u.email, &u.name),
            "New backup codes",
            "New two-factor backup codes were generated for your account; the old ones no longer work.",
            "/settings#two-factor",
        )
        .await;
    Ok(codes)
}

pub async fn remaining_codes(db: &Db, user_id: Uuid) -> CoreResult<u64> {
    Ok(backup_code::Entity::find()
        .filter(backup_code::Column::UserId.eq(user_id))
        .filter(backup_code::Column::UsedAt.is_null())
        .count(&db.conn)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn secrets_from_the_original_app() {
        assert_eq!(
            importable_secret("jbswy3dpehpk3pxpjbswy3dpehpk3pxp").as_deref(),
            Some("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        );
        // base64-derived (digits 0, 1, 8, 9): the original could never use it
        assert_eq!(importable_secret("aB3dE0fG1hI8jK9lMnOpQrStUvWxYz12"), None);
        // too short for a TOTP key (under 128 bits)
        assert_eq!(importable_secret("JBSWY3DP"), None);
        assert_eq!(importable_secret(""), None);
    }
    #[test]
    fn backup_codes_hash_as_typed() {
        let keys = SecretBox::new([3u8; 32]);
        assert_eq!(
            backup_code_hash(&keys, "9f3a 0c7b"),
            backup_code_hash(&keys, "9F3A0C7B")
        );
        assert_ne!(backup_code_hash(&keys, "9F3A0C7B"), backup_code_hash(&keys, "9F3A0C7C"));
    }
}
