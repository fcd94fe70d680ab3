//! Every error a client can meet, whichever layer raises it: the API's envelope under `/api`,
//! the error page elsewhere; control characters in input; bounded report ranges.

use crm_core::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both;
use crate::support::{TestApp, raw};

fn envelope(st: StatusCode, ct: &str, body: &str, what: &str) -> String {
    assert!(ct.starts_with("application/json"), "{what}: {st} {ct} {body}");
    let v: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{what}: not JSON: {body}"));
    assert_eq!(v["data"], Value::Null, "{what}: {body}");
    let e = v["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no error: {body}"));
    assert!(
        !e.is_empty() && !e.contains("Failed to") && !e.contains("length limit"),
        "{what}: {e}"
    );
    e.to_string()
}

async fn every_api_error_is_the_envelope(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let http = &admin.http;
    let base = &app.base;
    let csrf = admin.csrf.clone().unwrap_or_default();

    // over-size JSON body (2 MB limit), with a content length and chunked
    let big = format!("{{\"firstName\":\"{}\"}}", "x".repeat(3 * 1024 * 1024));
    let (st, ct, body) = raw(http
        .post(format!("{base}/api/contacts"))
        .header("content-type", "application/json")
        .header("x-csrf-token", &csrf)
        .body(big.clone()))
    .await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    envelope(st, &ct, &body, "413");

    // an unknown method on a known route
    let (st, ct, body) = raw(http.patch(format!("{base}/api/contacts")).header("x-csrf-token", &csrf)).await;
    assert_eq!(st, StatusCode::METHOD_NOT_ALLOWED);
    assert!(envelope(st, &ct, &body, "405").contains("PATCH"));

    // a query string the framework cannot read (a field twice)
    let (st, ct, body) = raw(http.get(format!("{base}/api/auth/verify-email?token=1&token=2"))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    envelope(st, &ct, &body, "duplicate query field");

    // an id that is not UTF-8
    let (st, ct, body) = raw(http.get(format!("{base}/api/contacts/%FF%FE"))).await;
    assert!(st.is_client_error(), "{st}");
    envelope(st, &ct, &body, "non-UTF-8 id");

    // trailing slash and unknown endpoints
    for path in ["/api/", "/api", "/api/nope", "/api/contacts/"] {
        let (st, ct, body) = raw(http.get(format!("{base}{path}"))).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
        envelope(st, &ct, &body, path);
    }

    // a body that is not JSON
    let (st, ct, body) = raw(http
        .post(format!("{base}/api/contacts"))
        .header("content-type", "text/plain")
        .header("x-csrf-token", &csrf)
        .body("firstName=A"))
    .await;
    assert!(st.is_client_error(), "{st}");
    envelope(st, &ct, &body, "text/plain body");

    // pages keep HTML for the same failures
    let (st, ct, body) = raw(http
        .get(format!("{base}/contacts/new?x=%FF"))
        .header("accept", "text/html"))
    .await;
    assert!(st.is_success() || st.is_client_error(), "{st}");
    assert!(ct.starts_with("text/html"), "{ct} {body}");
    let (st, ct, _) = raw(http.put(format!("{base}/contacts")).header("x-csrf-token", &csrf)).await;
    assert_eq!(st, StatusCode::METHOD_NOT_ALLOWED);
    assert!(ct.starts_with("text/html"), "a page's 405 is a page: {ct}");
}
both!(every_api_error_is_the_envelope);

async fn control_characters_never_cause_a_server_error(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let id = rep.contact("Nul", "Tester", json!({})).await;
    for path in [
        "/api/contacts?search=a%00b",
        "/api/contacts?search=%00",
        "/api/search?q=a%00b",
        "/api/companies?search=a%00b",
        "/api/deals?search=a%00b",
        "/api/tasks?search=a%00b",
        "/api/activities?search=a%00b",
        "/contacts?search=a%00b",
        "/search?q=a%00b",
    ] {
        let (st, body) = rep.get(path).await;
        assert!(st.is_success(), "{path}: {st} {body}");
    }
    let (st, v) = rep.get("/api/search?q=%01%02%03").await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Type something to search for"))
    );
    // a streamed export either answers an error up front or sends a whole file
    let (st, _) = rep.get("/api/contacts/export?search=a%00b").await;
    assert_eq!(st, StatusCode::OK);
    let (st, body) = rep.get("/api/contacts/export?search=Nul%00").await;
    assert_eq!(st, StatusCode::OK);
    assert!(body.as_str().is_some_and(|b| b.starts_with('\u{feff}')), "{body}");

    // stored text: a clear 400 naming the field, nothing written
    let (st, v) = rep
        .post(
            "/api/contacts",
            json!({"firstName": "A\u{0}B", "lastName": "C", "email": "nul@example.com"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["fieldErrors"]["firstName"], "First name contains a control character");
    let (st, v) = rep
        .put(&format!("/api/contacts/{id}"), json!({"jobTitle": "\u{7}"}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    // a multi-line note keeps its newlines and tabs
    let (st, v) = rep
        .post(
            "/api/activities",
            json!({"subject": "Call", "description": "line one\n\tline two", "contactId": id}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"]["description"], "line one\n\tline two");
    // sign-in and the account flows with a NUL in the e-mail
    let anon = app.anonymous();
    for (path, body) in [
        (
            "/api/auth/signin",
            json!({"email": "a\u{0}@example.com", "password": "x"}),
        ),
        ("/api/auth/forgot-password", json!({"email": "a\u{0}@example.com"})),
        ("/api/auth/resend-verification", json!({"email": "a\u{0}@example.com"})),
        (
            "/api/auth/signup",
            json!({"name": "N\u{0}", "email": "a\u{0}@example.com", "password": "correct horse battery"}),
        ),
        (
            "/api/auth/reset-password",
            json!({"token": "a\u{0}", "password": "correct horse battery"}),
        ),
    ] {
        let (st, v) = anon.post(path, body).await;
        assert!(!st.is_server_error(), "{path}: {st} {v}");
    }
    let (st, v) = anon.get("/api/auth/verify-email?token=a%00").await;
    assert!(!st.is_server_error(), "{st} {v}");
}
both!(control_characters_never_cause_a_server_error);

async fn report_ranges_are_bounded(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let (st, v) = rep
        .get("/api/reports?preset=custom&from=1970-01-01&to=9999-12-31&groupBy=day")
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["error"].as_str().unwrap().contains("at most 10 years"), "{v}");
    let (st, v) = rep
        .get("/api/reports?preset=custom&from=0001-01-01&to=9999-12-31&groupBy=quarter")
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, v) = rep
        .get("/api/reports?preset=custom&from=2024-01-01&to=2025-12-31&groupBy=day")
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(
        v["fieldErrors"]["groupBy"],
        "This range has 731 days, more than a chart can show (400): group by week, month or quarter, or choose a shorter range"
    );
    let (st, _) = rep
        .get("/api/reports/export?preset=custom&from=1970-01-01&to=9999-12-31&section=revenue")
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // the longest allowed ranges answer
    let (st, v) = rep
        .get("/api/reports?preset=custom&from=2016-01-01&to=2025-12-31&groupBy=month")
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = rep
        .get("/api/reports?preset=custom&from=2025-01-01&to=2025-12-31&groupBy=day")
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // the page shows the message, not an error page
    let (st, html) = rep
        .page("/reports?preset=custom&from=1970-01-01&to=9999-12-31&groupBy=day")
        .await;
    assert!(html.contains("at most 10 years"), "{st} {html}");
}
both!(report_ranges_are_bounded);

async fn setup_and_familiar_addresses_lead_somewhere(app: &TestApp) {
    let _admin = app.user(Role::Admin).await;
    let anon = app.anonymous();
    for (path, to) in [
        ("/login", "/auth/signin"),
        ("/signin", "/auth/signin"),
        ("/signup", "/auth/signup"),
        ("/register", "/auth/signup"),
    ] {
        let res = anon.http.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert!(res.status().is_redirection(), "{path}: {}", res.status());
        assert_eq!(res.headers()["location"], to);
    }
    // setup is done once a user exists
    let res = anon.http.get(format!("{}/setup", app.base)).send().await.unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    let to = res.headers()["location"].to_str().unwrap().to_string();
    let (st, html) = anon.page(&to).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("already set up"), "{html}");
}
both!(setup_and_familiar_addresses_lead_somewhere);

/// A signed-in user's error pages keep the app around them (navigation, search, menu).
async fn error_pages_sit_inside_the_app(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let (st, html) = rep.page(&format!("/contacts/{}", uuid::Uuid::new_v4())).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(
        html.contains("Contact not found") && html.contains("class=\"sidebar\""),
        "{html}"
    );
    let (st, html) = rep.page("/no/such/page").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(html.contains("There is no page at this address.") && html.contains("class=\"sidebar\""));
    let (st, html) = rep.page("/reports?preset=custom&from=2020-01-01&to=2025-12-31").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("more than a chart can show") && html.contains("class=\"sidebar\""));
    // without a session: the plain page, nothing of the app
    let (st, html) = app.anonymous().page("/no/such/page").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(!html.contains("class=\"sidebar\""));
}
both!(error_pages_sit_inside_the_app);
