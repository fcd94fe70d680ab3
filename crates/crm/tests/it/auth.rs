//! Sign-in, session and sign-out over the API.

use crm_core::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::{PASSWORD, TestApp};

async fn sign_in_reveals_nothing_and_sign_out_ends_the_session(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let anon = app.anonymous();
    let (st1, v1) = anon
        .post(
            "/api/auth/signin",
            json!({"email": rep.email, "password": "wrong password!"}),
        )
        .await;
    let (st2, v2) = anon
        .post(
            "/api/auth/signin",
            json!({"email": "nobody@example.com", "password": "wrong password!"}),
        )
        .await;
    assert_eq!((st1, st2), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));
    assert_eq!(v1, v2, "the same answer for a wrong password and an unknown account");
    assert_eq!(v1["error"], "Invalid email or password");
    let (st, v) = anon
        .post("/api/auth/signin", json!({"email": "", "password": ""}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "Email and password are required");

    let (st, v) = rep.get("/api/auth/session").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["data"]["user"]["role"], "rep");
    let (st, _) = rep.post("/api/auth/signout", json!({})).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = rep.get("/api/contacts").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "the session is gone on the server");
}
both!(sign_in_reveals_nothing_and_sign_out_ends_the_session);

async fn deactivation_ends_sessions_at_once(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    crm_core::accounts::users::deactivate(&app.db, &rep.email)
        .await
        .unwrap();
    let (st, _) = rep.get("/api/contacts").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, v) = app
        .anonymous()
        .post("/api/auth/signin", json!({"email": rep.email, "password": PASSWORD}))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
}
both!(deactivation_ends_sessions_at_once);
