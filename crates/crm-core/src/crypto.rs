//! Secrets at rest: the server key (from `CRM_SECRET_KEY` or `<data dir>/secret.key`,
//! generated on first start) seals values with ChaCha20-Poly1305 and keys hashes of short
//! codes, so a copy of the database alone reveals neither 2FA secrets nor backup codes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{CoreError, CoreResult};

pub struct SecretBox {
    key: [u8; 32],
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    pub fn new(key: [u8; 32]) -> Self {
        SecretBox { key }
    }

    /// `CRM_SECRET_KEY` (base64 of 32 bytes) if given, else `<data_dir>/secret.key`, created
    /// with fresh random bytes (mode 0600) the first time.
    pub fn load(configured: Option<&str>, data_dir: &std::path::Path) -> anyhow::Result<SecretBox> {
        if let Some(k) = configured.filter(|k| !k.trim().is_empty()) {
            let bytes = STANDARD
                .decode(k.trim())
                .map_err(|_| anyhow::anyhow!("CRM_SECRET_KEY must be base64 of 32 bytes"))?;
            let key: [u8; 32] = bytes
                .try_into()
                .map_err(|_| anyhow::anyhow!("CRM_SECRET_KEY must be base64 of 32 bytes"))?;
            return Ok(SecretBox::new(key));
        }
        let path = data_dir.join("secret.key");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Self::load(Some(&text), data_dir);
        }
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        std::fs::write(&path, STANDARD.encode(key))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(SecretBox::new(key))
    }

    /// `v1:` + base64(nonce ‖ ciphertext).
    pub fn seal(&self, plain: &str) -> CoreResult<String> {
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.key));
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
            .map_err(|_| CoreError::Internal(anyhow::anyhow!("encryption failed")))?;
        let mut out = nonce.to_vec();
        out.extend(ct);
        Ok(format!("v1:{}", STANDARD.encode(out)))
    }

    pub fn open(&self, sealed: &str) -> CoreResult<String> {
        let fail = || {
            CoreError::Internal(anyhow::anyhow!(
                "a sealed secret could not be opened (was the server key changed?)"
            ))
        };
        let raw = STANDARD
            .decode(sealed.strip_prefix("v1:").ok_or_else(fail)?)
            .map_err(|_| fail())?;
        if raw.len() < 12 {
            return Err(fail());
        }
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.key));
        let plain = cipher
            .decrypt(Nonce::from_slice(&raw[..12]), &raw[12..])
            .map_err(|_| fail())?;
        String::from_utf8(plain).map_err(|_| fail())
    }

    /// A keyed hash (hex) for short codes: useless without the server key.
    pub fn mac(&self, value: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update(value.as_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn seal_open() {
        let b = SecretBox::new([7u8; 32]);
        let s = b.seal("JBSWY3DPEHPK3PXP").unwrap();
        assert_ne!(s, "JBSWY3DPEHPK3PXP");
        assert_eq!(b.open(&s).unwrap(), "JBSWY3DPEHPK3PXP");
        assert!(SecretBox::new([8u8; 32]).open(&s).is_err());
    }
}
