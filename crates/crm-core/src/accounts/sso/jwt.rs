//! ID tokens (JWS compact form): decoding and signature checks. HS256 is keyed by the
//! client secret (HMAC-SHA256 of `webhooks::sign`); RS256 (PKCS#1 v1.5) and ES256 are
//! checked with `ring` (already in the tree through rustls) against the provider's JWKS.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::Value;

use super::SsoError;
use crate::webhooks::sign::hmac_sha256;

/// A decoded, not yet verified token.
pub struct Jws {
    pub alg: String,
    pub kid: Option<String>,
    pub claims: Value,
    signing_input: String,
    signature: Vec<u8>,
}

fn b64(part: &str) -> Result<Vec<u8>, SsoError> {
    URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| SsoError::Token("a part of the ID token is not base64url".into()))
}

/// Split and decode `header.payload.signature`.
pub fn decode(token: &str) -> Result<Jws, SsoError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(SsoError::Token("the ID token is not a JWS in compact form".into()));
    };
    let header: Value =
        serde_json::from_slice(&b64(h)?).map_err(|_| SsoError::Token("the ID token's header is not JSON".into()))?;
    let claims: Value =
        serde_json::from_slice(&b64(p)?).map_err(|_| SsoError::Token("the ID token's claims are not JSON".into()))?;
    if !claims.is_object() {
        return Err(SsoError::Token("the ID token's claims are not an object".into()));
    }
    Ok(Jws {
        alg: header["alg"].as_str().unwrap_or("").to_string(),
        kid: header["kid"].as_str().map(str::to_string),
        claims,
        signing_input: format!("{h}.{p}"),
        signature: b64(s)?,
    })
}

impl Jws {
    /// Does the algorithm need the provider's public keys?
    pub fn needs_jwks(&self) -> bool {
        matches!(self.alg.as_str(), "RS256" | "ES256")
    }

    /// Check the signature: HS256 with `secret`, RS256/ES256 with a key of `jwks` (its
    /// `kid` when the token names one). `none` and every other algorithm are refused.
    pub fn verify(&self, secret: &[u8], jwks: Option<&Value>) -> Result<(), SsoError> {
        let msg = self.signing_input.as_bytes();
        match self.alg.as_str() {
            "HS256" => {
                let mac = hmac_sha256(secret, msg);
                if equal(&mac, &self.signature) {
                    Ok(())
                } else {
                    Err(SsoError::Signature)
                }
            }
            "RS256" | "ES256" => {
                let keys = jwks.and_then(|j| j["keys"].as_array()).cloned().unwrap_or_default();
                let ok = keys.iter().filter(|k| self.fits(k)).any(|k| self.verify_with(k, msg));
                if ok { Ok(()) } else { Err(SsoError::Signature) }
            }
            other => Err(SsoError::Token(format!("unsupported ID token algorithm {other:?}"))),
        }
    }

    /// A JWK that may have made this signature: its type, its `kid`, not an encryption key.
    fn fits(&self, k: &Value) -> bool {
        let kty = if self.alg == "RS256" { "RSA" } else { "EC" };
        k["kty"] == kty
            && k["use"].as_str().is_none_or(|u| u == "sig")
            && k["alg"].as_str().is_none_or(|a| a == self.alg)
            && match (&self.kid, k["kid"].as_str()) {
                (Some(want), Some(have)) => want == have,
                _ => true,
            }
    }

    fn verify_with(&self, k: &Value, msg: &[u8]) -> bool {
        let part = |name: &str| k[name].as_str().and_then(|v| URL_SAFE_NO_PAD.decode(v).ok());
        if self.alg == "RS256" {
            let (Some(n), Some(e)) = (part("n"), part("e")) else {
                return false;
            };
            RsaPublicKeyComponents { n: &n, e: &e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, msg, &self.signature)
                .is_ok()
        } else {
            let (Some(x), Some(y)) = (part("x"), part("y")) else {
                return false;
            };
            if k["crv"] != "P-256" || x.len() != 32 || y.len() != 32 {
                return false;
            }
            let mut point = vec![4u8];
            point.extend(x);
            point.extend(y);
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(msg, &self.signature)
                .is_ok()
        }
    }
}

/// Constant-time equality of two byte strings.
fn equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hs256(secret: &str, claims: &Value) -> String {
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let p = URL_SAFE_NO_PAD.encode(claims.to_string());
        let mac = hmac_sha256(secret.as_bytes(), format!("{h}.{p}").as_bytes());
        format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(mac))
    }

    #[test]
    fn hs256_signed_by_the_secret_only() {
        let t = hs256("s3cret", &serde_json::json!({"sub": "1"}));
        let jws = decode(&t).unwrap();
        assert!(jws.verify(b"s3cret", None).is_ok());
        assert!(matches!(jws.verify(b"other", None), Err(SsoError::Signature)));
    }

    #[test]
    fn none_and_garbage_refused() {
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let p = URL_SAFE_NO_PAD.encode(br#"{"sub":"1"}"#);
        let jws = decode(&format!("{h}.{p}.")).unwrap();
        assert!(matches!(jws.verify(b"x", None), Err(SsoError::Token(_))));
        assert!(decode("a.b").is_err());
        assert!(decode("!!.??.##").is_err());
    }
}
