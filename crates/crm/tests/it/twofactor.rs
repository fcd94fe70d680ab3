//! Two-factor authentication with real RFC 6238 codes computed here: setup, sign-in,
//! replay refused, backup codes once only, regeneration, disable.

use crm_core::Role;
use reqwest::StatusCode;
use serde_json::json;
use totp_rs::{Algorithm, Secret, TOTP};

use crate::both;
use crate::support::{Client, PASSWORD, TestApp};

/// The code of `secret` for a 30-second step.
fn code(secret: &str, step: i64) -> String {
    let bytes = Secret::Encoded(secret.to_string()).to_bytes().expect("a base32 secret");
    let t = TOTP::new_unchecked(Algorithm::SHA1, 6, 0, 30, bytes, None, String::new());
    t.generate((step * 30) as u64)
}

fn step_now() -> i64 {
    chrono::Utc::now().timestamp() / 30
}

async fn enable(rep: &Client) -> (String, Vec<String>, i64) {
    let (st, v) = rep.post("/api/auth/2fa/enable", json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let secret = v["data"]["secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 32, "160 bits in base32");
    let url = v["data"]["otpauthUrl"].as_str().unwrap();
    assert!(
        url.starts_with("otpauth://totp/")
            && url.contains("issuer=CRM%20Contact%20Manager")
            && url.contains(&format!("secret={secret}")),
        "{url}"
    );
    assert!(v["data"]["qrCodeSvg"].as_str().unwrap().starts_with("<svg"));
    let step = step_now();
    let (st, v) = rep
        .post(
            "/api/auth/2fa/verify-setup",
            json!({"code": code(&secret, step), "secret": secret}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let codes: Vec<String> = v["data"]["backupCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes, step)
}

async fn signed_in_half_way(app: &TestApp, email: &str) -> Client {
    let c = app.anonymous();
    let (st, v) = c
        .post("/api/auth/signin", json!({"email": email, "password": PASSWORD}))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["data"]["twoFactorRequired"], true);
    c
}

async fn setup_rejects_bad_codes(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let (_, v) = rep.post("/api/auth/2fa/enable", json!({})).await;
    let secret = v["data"]["secret"].as_str().unwrap().to_string();
    for (bad, message) in [
        ("12a456", "Enter the 6-digit code from your authenticator app"),
        ("12345", "Enter the 6-digit code from your authenticator app"),
        ("1234567", "Enter the 6-digit code from your authenticator app"),
    ] {
        let (st, v) = rep.post("/api/auth/2fa/verify-setup", json!({"code": bad})).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_eq!(v["error"], message);
    }
    let wrong = if code(&secret, step_now()) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (st, v) = rep.post("/api/auth/2fa/verify-setup", json!({"code": wrong})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "Invalid verification code");
    let (st, v) = rep
        .post(
            "/api/auth/2fa/verify-setup",
            json!({"code": code(&secret, step_now()), "secret": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}),
        )
        .await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "a secret the server did not issue is refused: {v}"
    );
    // spaces are tolerated
    let c = code(&secret, step_now());
    let (st, _) = rep
        .post(
            "/api/auth/2fa/verify-setup",
            json!({"code": format!("{} {}", &c[..3], &c[3..])}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = rep.post("/api/auth/2fa/enable", json!({})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "Two-factor authentication is already enabled");
}
both!(setup_rejects_bad_codes);

async fn sign_in_needs_the_second_factor(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let (secret, backup, step) = enable(&rep).await;
    app.mail(&rep.email, "Two-factor authentication is on").await;

    let wrong_pw = app
        .anonymous()
        .post(
            "/api/auth/signin",
            json!({"email": rep.email, "password": "not the password"}),
        )
        .await;
    let unknown = app
        .anonymous()
        .post(
            "/api/auth/signin",
            json!({"email": "ghost@example.com", "password": "not the password"}),
        )
        .await;
    assert_eq!(wrong_pw, unknown, "nothing reveals 2FA before the password is right");

    let c = signed_in_half_way(app, &rep.email).await;
    let (st, v) = c.get("/api/contacts").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "a half-open session reaches no data");
    assert_eq!(v["error"], "Two-factor verification required");
    let (st, _) = c.get("/api/auth/session").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, v) = c
        .post("/api/auth/2fa/verify", json!({"code": code(&secret, step)}))
        .await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "the code used for setup cannot be replayed: {v}"
    );
    assert!(v["error"].as_str().unwrap().contains("already used"));
    let (st, v) = c
        .post("/api/auth/2fa/verify", json!({"code": code(&secret, step + 1)}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["method"], "totp");
    let (st, _) = c.get("/api/contacts").await;
    assert_eq!(st, StatusCode::OK, "now fully signed in");
    let (st, _) = signed_in_half_way(app, &rep.email)
        .await
        .post("/api/auth/2fa/verify", json!({"code": code(&secret, step + 1)}))
        .await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "the same code from another browser is a replay"
    );

    // a backup code works once, typed in lower case with spaces
    let b = signed_in_half_way(app, &rep.email).await;
    let typed = backup[0].to_lowercase().replace('-', " ");
    let (st, v) = b.post("/api/auth/2fa/verify", json!({"code": typed})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["method"], "backup");
    let (st, v) = signed_in_half_way(app, &rep.email)
        .await
        .post("/api/auth/2fa/verify", json!({"code": backup[0]}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "Invalid or already used backup code");
}
both!(sign_in_needs_the_second_factor);

async fn regenerate_and_disable(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let (_, backup, _) = enable(&rep).await;
    let (st, v) = rep
        .post("/api/auth/2fa/regenerate-codes", json!({"code": backup[1]}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let fresh: Vec<String> = v["data"]["backupCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let (st, _) = rep
        .post("/api/auth/2fa/regenerate-codes", json!({"code": backup[2]}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "old codes stop working");
    app.mail(&rep.email, "New backup codes").await;

    let (st, v) = rep
        .post(
            "/api/auth/2fa/disable",
            json!({"password": "wrong password!", "code": fresh[0]}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["fieldErrors"]["password"], "Password is incorrect");
    let (st, v) = rep
        .post("/api/auth/2fa/disable", json!({"password": PASSWORD, "code": fresh[0]}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    app.mail(&rep.email, "Two-factor authentication is off").await;
    let (_, v) = app
        .anonymous()
        .post("/api/auth/signin", json!({"email": rep.email, "password": PASSWORD}))
        .await;
    assert_eq!(v["data"]["twoFactorRequired"], false);
}
both!(regenerate_and_disable);

async fn wrong_codes_are_limited(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let (secret, _, step) = enable(&rep).await;
    let c = signed_in_half_way(app, &rep.email).await;
    let good = code(&secret, step + 1);
    let wrong = if good == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let (st, _) = c.post("/api/auth/2fa/verify", json!({"code": wrong})).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
    }
    let (st, _) = c.post("/api/auth/2fa/verify", json!({"code": good})).await;
    assert_eq!(
        st,
        StatusCode::TOO_MANY_REQUESTS,
        "after 5 wrong codes the account waits"
    );
}
both!(wrong_codes_are_limited);
