//! Self-service accounts over HTTP, reading the mails from the outbox: sign-up and
//! verification, forgot/reset, enumeration resistance and rate limits.

use crm_core::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::{PASSWORD, TestApp};

async fn sign_up_verify_then_sign_in(app: &TestApp) {
    let anon = app.anonymous();
    let (st, v) = anon
        .post(
            "/api/auth/signup",
            json!({"name": "New Rep", "email": "New.Rep@Example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"]["email"], "new.rep@example.com");
    let (st, v) = anon
        .post(
            "/api/auth/signin",
            json!({"email": "new.rep@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "unverified is refused after the right password: {v}"
    );
    assert_eq!(v["requiresEmailVerification"], true);
    let (st, v) = anon
        .post(
            "/api/auth/signin",
            json!({"email": "new.rep@example.com", "password": "wrong password 1"}),
        )
        .await;
    assert_eq!(
        st,
        StatusCode::UNAUTHORIZED,
        "a wrong password never says 'unverified': {v}"
    );

    let mail = app.mail("new.rep@example.com", "Verify your email address").await;
    assert!(
        mail.contains("Content-Type: text/html") && mail.contains("Content-Type: text/plain"),
        "both bodies"
    );
    let token = TestApp::token_in(&mail, "/auth/verify-email");
    let (st, v) = anon
        .post(
            "/api/auth/reset-password",
            json!({"token": token, "password": "another password 9"}),
        )
        .await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "a verification token is not a reset token: {v}"
    );
    let (st, v) = anon.get(&format!("/api/auth/verify-email?token={token}")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = anon.get(&format!("/api/auth/verify-email?token={token}")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "single use");
    assert!(v["error"].as_str().unwrap().contains("already used"));
    let (st, _) = anon.get("/api/auth/verify-email?token=made-up").await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "an unknown token is an error, not a success"
    );

    let (st, v) = anon
        .post(
            "/api/auth/signin",
            json!({"email": "new.rep@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["user"]["role"], "rep");

    let (st, v) = anon
        .post(
            "/api/auth/signup",
            json!({"name": "", "email": "bad", "password": "short"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["fieldErrors"]["name"], "Name is required");
    assert_eq!(v["fieldErrors"]["email"], "Invalid email format");
    assert_eq!(v["fieldErrors"]["password"], "Password must be at least 10 characters");
}
both!(sign_up_verify_then_sign_in);

async fn answers_never_reveal_whether_an_account_exists(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let anon = app.anonymous();
    let a = anon
        .post(
            "/api/auth/signup",
            json!({"name": "X", "email": rep.email, "password": PASSWORD}),
        )
        .await;
    let b = anon
        .post(
            "/api/auth/signup",
            json!({"name": "X", "email": "fresh@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(a.0, b.0);
    assert_eq!(a.1["data"]["message"], b.1["data"]["message"]);
    let a = anon
        .post("/api/auth/forgot-password", json!({"email": rep.email}))
        .await;
    let b = anon
        .post("/api/auth/forgot-password", json!({"email": "nobody@example.com"}))
        .await;
    assert_eq!(a, b, "forgot-password: identical status and body");
    let a = anon
        .post(
            "/api/auth/signin",
            json!({"email": rep.email, "password": "not it at all"}),
        )
        .await;
    let b = anon
        .post(
            "/api/auth/signin",
            json!({"email": "nobody@example.com", "password": "not it at all"}),
        )
        .await;
    assert_eq!(a, b, "sign-in: identical status and body");
    let a = anon
        .post("/api/auth/resend-verification", json!({"email": rep.email}))
        .await;
    let b = anon
        .post("/api/auth/resend-verification", json!({"email": "nobody@example.com"}))
        .await;
    assert_eq!(a, b, "resend: identical");
    app.mail(&rep.email, "Reset your password").await;
    assert!(
        app.mails("nobody@example.com").is_empty(),
        "nothing is sent to unknown addresses"
    );
    assert_eq!(
        app.mails(&rep.email).len(),
        1,
        "the taken address got no sign-up mail, only the reset"
    );
}
both!(answers_never_reveal_whether_an_account_exists);

async fn reset_password_ends_every_session(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let (st, _) = rep.get("/api/contacts").await;
    assert_eq!(st, StatusCode::OK);
    let anon = app.anonymous();
    anon.post("/api/auth/forgot-password", json!({"email": rep.email}))
        .await;
    let token = TestApp::token_in(
        &app.mail(&rep.email, "Reset your password").await,
        "/auth/reset-password",
    );
    let (st, v) = anon
        .post("/api/auth/reset-password", json!({"token": token, "password": "short"}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "Password must be at least 10 characters");
    let (st, v) = anon
        .post(
            "/api/auth/reset-password",
            json!({"token": token, "password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, _) = rep.get("/api/contacts").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "the old session is dead");
    let (st, _) = anon
        .post(
            "/api/auth/reset-password",
            json!({"token": token, "password": "yet another passphrase"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "single use");
    let (st, _) = anon
        .post("/api/auth/signin", json!({"email": rep.email, "password": PASSWORD}))
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = anon
        .post(
            "/api/auth/signin",
            json!({"email": rep.email, "password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    app.mail(&rep.email, "Your password was changed").await;
}
both!(reset_password_ends_every_session);

async fn failed_sign_ins_are_limited_but_successes_are_not(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let anon = app.anonymous();
    for _ in 0..15 {
        let (st, _) = anon
            .post("/api/auth/signin", json!({"email": rep.email, "password": PASSWORD}))
            .await;
        assert_eq!(st, StatusCode::OK, "successful sign-ins never count");
    }
    // per account: 5 failures lock the account for a while, whatever the IP
    for _ in 0..5 {
        let (st, _) = anon
            .post(
                "/api/auth/signin",
                json!({"email": rep.email, "password": "wrong password!"}),
            )
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    let res = anon
        .http
        .post(format!("{}/api/auth/signin", anon.base))
        .json(&json!({"email": rep.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the account waits even with the right password"
    );
    assert!(res.headers().get("retry-after").is_some());
    assert!(res.headers().get("ratelimit-limit").is_some());
    // per IP: 10 failures in the window; a forged X-Forwarded-For buys nothing
    for i in 0..5 {
        let (st, _) = anon
            .post(
                "/api/auth/signin",
                json!({"email": format!("x{i}@example.com"), "password": "wrong password!"}),
            )
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    let res = anon
        .http
        .post(format!("{}/api/auth/signin", anon.base))
        .header("X-Forwarded-For", "203.0.113.9")
        .json(&json!({"email": "other@example.com", "password": "wrong password!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "11th failure from this IP");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "Too many sign-in attempts. Please try again later.");
}
both!(failed_sign_ins_are_limited_but_successes_are_not);

async fn api_tokens_act_as_their_owner_until_revoked(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    let mine = rep.contact("Token", "Owned", json!({})).await;
    other.contact("Not", "Mine", json!({})).await;
    let (st, v) = rep
        .post("/api/auth/tokens", json!({"name": "script", "expiresInDays": 30}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let secret = v["data"]["token"].as_str().unwrap().to_string();
    let id = v["data"]["id"].as_str().unwrap().to_string();
    assert!(secret.starts_with("crm_"));
    let (_, list) = rep.get("/api/auth/tokens").await;
    assert!(!list.to_string().contains(&secret), "the secret is never listed");

    let bearer = app.anonymous();
    let get = |path: String| {
        bearer
            .http
            .get(format!("{}{path}", bearer.base))
            .bearer_auth(&secret)
            .send()
    };
    let res = get("/api/contacts".into()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["pagination"]["total"], 1, "acts with the owner's scope");
    assert_eq!(body["data"][0]["id"], mine.as_str());
    let res = bearer
        .http
        .post(format!("{}/api/contacts", bearer.base))
        .bearer_auth(&secret)
        .json(&json!({"firstName": "Via", "lastName": "Token", "email": "via.token@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "no CSRF token needed with a bearer token"
    );

    let (st, _) = other.delete(&format!("/api/auth/tokens/{id}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "someone else's token cannot be revoked");
    let (st, _) = rep.delete(&format!("/api/auth/tokens/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    let res = get("/api/contacts".into()).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "revoked: 401 at once");
    let res = bearer
        .http
        .get(format!("{}/api/contacts", bearer.base))
        .bearer_auth("crm_made_up")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let (st, v) = rep
        .post("/api/auth/tokens", json!({"name": "", "expiresInDays": 0}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
}
both!(api_tokens_act_as_their_owner_until_revoked);

async fn password_change_and_sessions(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let second = app.anonymous();
    let (st, _) = second
        .post("/api/auth/signin", json!({"email": rep.email, "password": PASSWORD}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, v) = rep.get("/api/auth/sessions").await;
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["current"] == true)
            .count(),
        1
    );

    let (st, v) = rep
        .post(
            "/api/auth/password",
            json!({"currentPassword": "wrong one here", "newPassword": "another good passphrase"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["fieldErrors"]["currentPassword"], "Current password is incorrect");
    let (st, _) = rep
        .post(
            "/api/auth/password",
            json!({"currentPassword": PASSWORD, "newPassword": "another good passphrase"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = second.get("/api/contacts").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "other sessions end");
    let (st, _) = rep.get("/api/contacts").await;
    assert_eq!(st, StatusCode::OK, "this one stays");
    app.mail(&rep.email, "Your password was changed").await;

    let (st, v) = rep
        .put(
            "/api/auth/profile",
            json!({"name": "Renamed Rep", "bio": "Sells things", "role": "admin", "email": "x@y.z"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["name"], "Renamed Rep");
    assert_eq!(v["data"]["role"], "rep", "role in the body is ignored");
    assert_eq!(v["data"]["email"], rep.email.as_str(), "email in the body is ignored");

    let (_, html) = rep.page("/settings").await;
    assert!(html.contains("Active sessions") && html.contains("Renamed Rep") && html.contains("This browser"));
}
both!(password_change_and_sessions);

async fn alerts_after_failed_attempts_and_cross_site_posts_refused(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let anon = app.anonymous();
    for _ in 0..3 {
        anon.post(
            "/api/auth/signin",
            json!({"email": rep.email, "password": "guessing wrong"}),
        )
        .await;
    }
    let (st, _) = anon
        .post("/api/auth/signin", json!({"email": rep.email, "password": PASSWORD}))
        .await;
    assert_eq!(st, StatusCode::OK, "an alert never blocks the sign-in");
    let mail = app.mail(&rep.email, "Security alert for your account").await;
    assert!(
        mail.contains("Multiple failed sign-in attempts") && mail.contains("127.0.0.1"),
        "{mail}"
    );

    let evil = |path: &str| {
        anon.http
            .post(format!("{}{path}", anon.base))
            .header("Origin", "https://evil.example")
            .json(&json!({"email": rep.email, "password": PASSWORD}))
            .send()
    };
    assert_eq!(evil("/api/auth/signin").await.unwrap().status(), StatusCode::FORBIDDEN);
    let res = anon
        .http
        .post(format!("{}/auth/signin", anon.base))
        .header("Origin", "https://evil.example")
        .form(&[("email", rep.email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "login CSRF from another site is refused"
    );
    let same = anon
        .http
        .post(format!("{}/api/auth/signin", anon.base))
        .header("Origin", anon.base.clone())
        .json(&json!({"email": rep.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), StatusCode::OK, "same origin is fine");
}
both!(alerts_after_failed_attempts_and_cross_site_posts_refused);

#[tokio::test]
#[ignore = "Redis: run with `cargo test -- --ignored` and TEST_REDIS_URL set"]
async fn two_instances_share_the_sign_in_limit_through_redis() {
    let (a, b) = TestApp::redis_pair().await;
    let rep = a.user(Role::Rep).await;
    let (ca, cb) = (a.anonymous(), b.anonymous());
    for i in 0..10 {
        let c = if i % 2 == 0 { &ca } else { &cb };
        let (st, _) = c
            .post(
                "/api/auth/signin",
                json!({"email": format!("n{i}@example.com"), "password": "wrong password!"}),
            )
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    for c in [&ca, &cb] {
        let (st, v) = c
            .post("/api/auth/signin", json!({"email": rep.email, "password": PASSWORD}))
            .await;
        assert_eq!(
            st,
            StatusCode::TOO_MANY_REQUESTS,
            "the 11th attempt is refused on both instances: {v}"
        );
    }
    a.finish().await;
    b.finish().await;
}

/// Mail is stored before it is sent: a message left in the queue by an earlier run (or
/// queued by another instance) is delivered, and one that cannot be sent keeps its error.
async fn queued_mail_is_delivered_and_failures_are_kept(app: &TestApp) {
    use crm_core::unscoped::mail_queue;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let now = crm_core::clock::now();
    let row = |to: &str| mail_queue::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        to_addr: Set(to.into()),
        subject: Set("Left in the queue".into()),
        text_body: Set("hello".into()),
        html_body: Set("<p>hello</p>".into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        sent_at: Set(None),
        failed_at: Set(None),
        last_error: Set(None),
        created_at: Set(now),
    };
    let ok = row("queued@example.com").insert(app.db.unscoped()).await.unwrap();
    let bad = row("not an address").insert(app.db.unscoped()).await.unwrap();
    let get = |id| async move {
        mail_queue::Entity::find_by_id(id)
            .one(app.db.unscoped())
            .await
            .unwrap()
            .unwrap()
    };
    // the worker looks at the queue at least every 5 s
    for _ in 0..200 {
        if get(ok.id).await.sent_at.is_some() && get(bad.id).await.attempts >= 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        app.mails("queued@example.com")
            .iter()
            .any(|m| m.contains("Subject: Left in the queue")),
        "delivered to the outbox"
    );
    let sent = get(ok.id).await;
    assert_eq!((sent.attempts, sent.sent_at.is_some()), (1, true));
    let failed = get(bad.id).await;
    assert_eq!(failed.attempts, 1);
    assert!(failed.sent_at.is_none());
    assert!(
        failed
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("could not be built")),
        "{:?}",
        failed.last_error
    );
}
both!(queued_mail_is_delivered_and_failures_are_kept);

/// Settings name each session's browser and OS and list the user's own recent sign-ins.
async fn settings_show_devices_and_own_sign_ins(app: &TestApp) {
    let me = app.user(Role::Rep).await;
    let c = app.anonymous();
    let firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
    let res = c
        .http
        .post(format!("{}/api/auth/signin", app.base))
        .header("user-agent", firefox)
        .json(&serde_json::json!({"email": me.email, "password": "wrong password here"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = c
        .http
        .post(format!("{}/api/auth/signin", app.base))
        .header("user-agent", firefox)
        .json(&serde_json::json!({"email": me.email, "password": crate::support::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (_, html) = me.page("/settings").await;
    assert!(html.contains("Recent sign-ins"), "{html}");
    assert!(
        html.contains(">Firefox on Windows</span>"),
        "sessions and history name the device: {html}"
    );
    assert!(
        html.contains("Signed in") && html.contains("badge-danger"),
        "the failed attempt shows too"
    );
    assert!(!html.contains(">Mozilla/5.0"), "no raw user agent in the text");
}
both!(settings_show_devices_and_own_sign_ins);
