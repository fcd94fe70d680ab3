//! Outbound webhooks end to end: a receiver in the test process checks signatures and
//! records every request; events, retries, restarts, two instances, SSRF refusal, roles.
//! And `/metrics`: counters move, the allow-list and the token decide who reads it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crm_core::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both;
use crate::support::TestApp;

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Got {
    event: String,
    delivery: String,
    signature: String,
    body: String,
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Got>>>,
    /// Statuses to answer with, in order; then 200.
    answers: Arc<Mutex<Vec<u16>>>,
}

impl Receiver {
    /// Listen on `port` (0: any) and return the receiver and its URL.
    async fn start_on(port: u16, answers: Vec<u16>) -> (Receiver, String) {
        let r = Receiver {
            answers: Arc::new(Mutex::new(answers)),
            ..Default::default()
        };
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let state = r.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let state = state.clone();
                async move {
                    let h = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                    state.got.lock().unwrap().push(Got {
                        event: h("x-crm-event"),
                        delivery: h("x-crm-delivery"),
                        signature: h("x-crm-signature"),
                        body,
                    });
                    let mut a = state.answers.lock().unwrap();
                    let code = if a.is_empty() { 200 } else { a.remove(0) };
                    (axum::http::StatusCode::from_u16(code).unwrap(), "received")
                }
            }),
        );
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        (r, url)
    }

    async fn start(answers: Vec<u16>) -> (Receiver, String) {
        Self::start_on(0, answers).await
    }

    fn all(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    /// Wait (up to 15 s) until a request of `event` arrived; every one of them.
    async fn wait_for(&self, event: &str, n: usize) -> Vec<Got> {
        for _ in 0..300 {
            let got: Vec<Got> = self.all().into_iter().filter(|g| g.event == event).collect();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no {n}× {event} in {:?}",
            self.all().iter().map(|g| &g.event).collect::<Vec<_>>()
        );
    }
}

/// The body, after checking its signature with `secret`.
fn verified(g: &Got, secret: &str) -> Value {
    let (t, v1) = g.signature.split_once(",v1=").expect("t=…,v1=…");
    let t: i64 = t.strip_prefix("t=").expect("t=").parse().expect("unix seconds");
    assert!((chrono::Utc::now().timestamp() - t).abs() < 120, "a fresh timestamp");
    let expected = crm_core::webhooks::sign::header(secret, t, &g.body);
    assert_eq!(expected, g.signature, "signature of {}", g.body);
    assert_eq!(v1.len(), 64);
    serde_json::from_str(&g.body).expect("JSON body")
}

async fn endpoint(admin: &crate::support::Client, url: &str, events: Value) -> (String, String) {
    let (st, v) = admin
        .post(
            "/api/webhooks",
            json!({"url": url, "events": events, "description": "test"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let secret = v["data"]["secret"].as_str().expect("the secret, once").to_string();
    (v["data"]["id"].as_str().expect("id").to_string(), secret)
}

async fn webhook_events_are_signed(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let (rx, url) = Receiver::start(vec![]).await;
    let (id, secret) = endpoint(&admin, &url, json!(["*"])).await;
    let (_, v) = admin.get(&format!("/api/webhooks/{id}")).await;
    assert!(
        v["data"].get("secret").is_none(),
        "the secret is never shown again: {v}"
    );
    let (_, v) = admin.get("/api/webhooks").await;
    assert!(v["data"][0].get("secret").is_none());

    // contact created, updated, deleted
    let c = admin.contact("Ada", "Lovelace", json!({})).await;
    let (st, _) = admin
        .put(&format!("/api/contacts/{c}"), json!({"firstName": "Augusta"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let created = verified(&rx.wait_for("contact.created", 1).await[0], &secret);
    assert_eq!(created["type"], "contact.created");
    assert_eq!(created["data"]["id"], c.as_str());
    assert_eq!(created["data"]["firstName"], "Ada");
    assert!(created.get("previous").is_none());
    let updated = verified(&rx.wait_for("contact.updated", 1).await[0], &secret);
    assert_eq!(updated["data"]["firstName"], "Augusta");
    assert_eq!(updated["previous"], json!({"firstName": "Ada"}));

    // deal: created, moved (updated + stage_changed)
    let (st, d) = admin
        .post("/api/deals", json!({"name": "Big one", "value": 1000, "stage": "lead", "contactId": c, "expectedCloseDate": "2030-01-01"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    let deal = d["data"]["id"].as_str().unwrap().to_string();
    let (st, _) = admin
        .patch(&format!("/api/deals/{deal}"), json!({"stage": "proposal"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let moved = verified(&rx.wait_for("deal.stage_changed", 1).await[0], &secret);
    assert_eq!(moved["data"]["stage"], "proposal");
    assert_eq!(moved["previous"]["stage"], "lead");
    rx.wait_for("deal.created", 1).await;
    rx.wait_for("deal.updated", 1).await;

    // task: created, completed
    let (st, t) = admin
        .post(
            "/api/tasks",
            json!({"title": "Call back", "dueDate": "2030-01-01", "contactId": c}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    let task = t["data"]["id"].as_str().unwrap().to_string();
    let (st, _) = admin
        .patch(&format!("/api/tasks/{task}"), json!({"completed": true}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let done = verified(&rx.wait_for("task.completed", 1).await[0], &secret);
    assert_eq!(done["data"]["completed"], true);
    assert_eq!(done["previous"]["completed"], false);

    // deletes carry the last state
    let (st, _) = admin.delete(&format!("/api/tasks/{task}")).await;
    assert_eq!(st, StatusCode::OK);
    let gone = verified(&rx.wait_for("task.deleted", 1).await[0], &secret);
    assert_eq!(gone["data"]["title"], "Call back");
    let (st, _) = admin.delete(&format!("/api/deals/{deal}")).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = admin.delete(&format!("/api/contacts/{c}")).await;
    assert_eq!(st, StatusCode::OK);
    let gone = verified(&rx.wait_for("contact.deleted", 1).await[0], &secret);
    assert_eq!(gone["data"]["firstName"], "Augusta");

    // only subscribed events go out
    let (_, other_url) = Receiver::start(vec![]).await;
    let (only, _) = endpoint(&admin, &other_url, json!(["company.created"])).await;
    admin.post("/api/companies", json!({"name": "Acme Webhooks"})).await;
    rx.wait_for("company.created", 1).await;
    let (_, v) = admin.get(&format!("/api/webhooks/{only}/deliveries")).await;
    assert_eq!(v["pagination"]["total"], 1, "{v}");
    assert_eq!(v["data"][0]["type"], "company.created");

    // the payload is built inside the write's transaction: a company created with the
    // contact is already there
    admin
        .contact("Linked", "Person", json!({"companyName": "Fresh Webhook Co"}))
        .await;
    let all = rx.wait_for("contact.created", 2).await;
    let linked = all
        .iter()
        .map(|g| verified(g, &secret))
        .find(|b| b["data"]["firstName"] == "Linked")
        .unwrap();
    assert_eq!(linked["data"]["company"]["name"], "Fresh Webhook Co", "{linked}");

    let fresh = rx.wait_for("company.created", 2).await;
    assert!(
        fresh
            .iter()
            .any(|g| verified(g, &secret)["data"]["name"] == "Fresh Webhook Co")
    );

    // a bulk assignment tells about each contact it moved
    let manager = app.user(Role::Manager).await;
    let linked_id = linked["data"]["id"].as_str().unwrap();
    let (st, v) = admin
        .post(
            "/api/contacts/bulk-assign",
            json!({"ids": [linked_id], "userId": manager.id()}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let moved = rx.wait_for("contact.updated", 2).await;
    let moved = verified(&moved[1], &secret);
    assert_eq!(moved["data"]["id"], linked_id);
    assert_eq!(moved["data"]["userId"], manager.id().to_string());
    assert_eq!(moved["previous"]["userId"], admin.id().to_string());

    // validation in the API envelope
    let (st, v) = admin
        .post("/api/webhooks", json!({"url": "ftp://x", "events": ["nope"]}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v["fieldErrors"]["url"].is_string(), "{v}");
    assert_eq!(v["fieldErrors"]["events"], "Unknown event: nope");
}
both!(webhook_events_are_signed);

async fn webhook_retry_keeps_delivery_id(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let (rx, url) = Receiver::start(vec![500]).await;
    let (id, secret) = endpoint(&admin, &url, json!(["contact.created"])).await;
    let (st, v) = admin.post(&format!("/api/webhooks/{id}/test"), json!({})).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{v}");
    let pings = rx.wait_for("ping", 2).await;
    assert_eq!(v["data"]["deliveryId"], pings[0].delivery.as_str());
    assert_eq!(pings[0].delivery, pings[1].delivery, "one delivery id on every attempt");
    assert_eq!(pings[0].body, pings[1].body);
    verified(&pings[1], &secret);
    // the list shows it delivered after two attempts
    let mut last = Value::Null;
    for _ in 0..100 {
        let (_, v) = admin.get(&format!("/api/webhooks/{id}/deliveries?limit=10")).await;
        last = v["data"][0].clone();
        if last["status"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(last["status"], "delivered", "{last}");
    assert_eq!(last["attempts"], 2);
    assert_eq!(last["responseStatus"], 200);
    assert_eq!(last["responseBody"], "received");
    assert_eq!(last["id"], pings[0].delivery.as_str());

    // a manual retry sends the same delivery again
    let d = pings[0].delivery.clone();
    let (st, _) = admin
        .post(&format!("/api/webhooks/{id}/deliveries/{d}/retry"), json!({}))
        .await;
    assert_eq!(st, StatusCode::ACCEPTED);
    let pings = rx.wait_for("ping", 3).await;
    assert_eq!(pings[2].delivery, d);
}
both!(webhook_retry_keeps_delivery_id);

async fn webhook_private_urls_refused(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/",
        "http://[::1]/",
    ] {
        let (st, v) = admin.post("/api/webhooks", json!({"url": url, "events": ["*"]})).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{url}: {v}");
        assert!(
            v["fieldErrors"]["url"].as_str().unwrap_or("").contains("not allowed"),
            "{v}"
        );
    }
}
both!(webhook_private_urls_refused, |c| c.webhook_allow_private = false);

async fn webhook_admins_only(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    for role in [Role::Rep, Role::Manager] {
        let u = app.user(role).await;
        let (st, v) = u.get("/api/webhooks").await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
        let (st, _) = u
            .post("/api/webhooks", json!({"url": "https://example.com/", "events": ["*"]}))
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, _) = u.page("/admin/webhooks").await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (_, v) = admin
            .get(&format!("/api/admin/audit?action=denied&actorId={}", u.id()))
            .await;
        assert!(
            v["pagination"]["total"].as_u64().unwrap_or(0) >= 2,
            "refusals audited: {v}"
        );
    }
    let (st, page) = admin.page("/admin/webhooks").await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("Add an endpoint"));
}
both!(webhook_admins_only);

/// A delivery queued while the receiver is down is sent by the next instance.
async fn webhook_restart_loses_nothing(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    // a port nobody listens on yet
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/hook");
    let (id, secret) = endpoint(&admin, &url, json!(["contact.created"])).await;
    let c = admin.contact("Grace", "Hopper", json!({})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let app = app.restart().await;
    let (rx, _) = Receiver::start_on(port, vec![]).await;
    let got = verified(&rx.wait_for("contact.created", 1).await[0], &secret);
    assert_eq!(got["data"]["id"], c.as_str());
    let admin = app.user(Role::Admin).await;
    let (_, v) = admin.get(&format!("/api/webhooks/{id}/deliveries")).await;
    assert!(v["data"][0]["attempts"].as_i64().unwrap() >= 2, "{v}");
    app.finish().await;
}

#[tokio::test]
async fn webhook_restart_sqlite() {
    webhook_restart_loses_nothing(TestApp::sqlite().await).await;
}

#[tokio::test]
#[ignore = "PostgreSQL: run with `cargo test -- --ignored` and TEST_DATABASE_URL set"]
async fn webhook_restart_postgres() {
    webhook_restart_loses_nothing(TestApp::postgres().await).await;
}

/// Two instances on one database: each event goes out once.
async fn webhook_two_instances_deliver_once(a: TestApp) {
    let b = a.sibling().await;
    let admin_a = a.user(Role::Admin).await;
    let (rx, url) = Receiver::start(vec![]).await;
    endpoint(&admin_a, &url, json!(["contact.created"])).await;
    let admin_b = b.user(Role::Admin).await;
    for i in 0..10 {
        let who = if i % 2 == 0 { &admin_a } else { &admin_b };
        who.contact("Twin", &format!("N{i}"), json!({})).await;
    }
    let got = rx.wait_for("contact.created", 10).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got_later = rx.wait_for("contact.created", 10).await;
    assert_eq!(got.len(), 10);
    assert_eq!(got_later.len(), 10, "no event sent twice");
    let mut ids: Vec<String> = got_later.iter().map(|g| g.delivery.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10);
    b.finish().await;
    a.finish().await;
}

#[tokio::test]
async fn webhook_two_instances_sqlite() {
    webhook_two_instances_deliver_once(TestApp::sqlite().await).await;
}

#[tokio::test]
#[ignore = "PostgreSQL: run with `cargo test -- --ignored` and TEST_DATABASE_URL set"]
async fn webhook_two_instances_postgres() {
    webhook_two_instances_deliver_once(TestApp::postgres().await).await;
}

async fn metric(app: &TestApp, name_and_labels: &str) -> f64 {
    let text = reqwest::get(format!("{}/metrics", app.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with(name_and_labels))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

async fn metrics_count_requests(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let series = r#"crm_http_requests_total{route="/api/contacts",method="GET",status="200"}"#;
    let before = metric(app, series).await;
    admin.get("/api/contacts").await;
    admin.get("/api/contacts").await;
    assert_eq!(metric(app, series).await, before + 2.0);
    let res = reqwest::get(format!("{}/metrics", app.base)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    for needle in [
        "crm_http_request_duration_seconds_bucket{route=\"/api/contacts\",method=\"GET\",le=\"+Inf\"}",
        "crm_db_pool_connections_in_use",
        "crm_queue_depth{queue=\"webhooks\"}",
        "crm_queue_oldest_age_seconds{queue=\"mail\"}",
        "crm_rate_limit_rejections_total",
        "crm_sign_in_failures_total",
    ] {
        assert!(text.contains(needle), "{needle} in\n{text}");
    }
    // a failed sign-in moves its counter
    let before = metric(app, "crm_sign_in_failures_total").await;
    app.anonymous()
        .post(
            "/api/auth/signin",
            json!({"email": admin.email, "password": "wrong password"}),
        )
        .await;
    assert_eq!(metric(app, "crm_sign_in_failures_total").await, before + 1.0);
}
both!(metrics_count_requests);

async fn metrics_need_allowed_address_or_token(app: &TestApp) {
    let url = format!("{}/metrics", app.base);
    let http = reqwest::Client::new();
    let res = http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = http.get(&url).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = http.get(&url).bearer_auth("scrape-token").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("crm_http_requests_total"));
}
both!(metrics_need_allowed_address_or_token, |c| {
    c.metrics_allow = "10.0.0.0/8".into();
    c.metrics_token = Some("scrape-token".into());
});

/// An endpoint that keeps failing is given up: its deliveries fail for good, it is
/// disabled and the admins are e-mailed (the 24 hours shortened to 2 s here).
async fn webhook_failing_endpoint_disabled(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let (rx, url) = Receiver::start(vec![500; 1000]).await;
    let (id, _) = endpoint(&admin, &url, json!(["*"])).await;
    admin.post(&format!("/api/webhooks/{id}/test"), json!({})).await;
    rx.wait_for("ping", 2).await;
    let mut v = Value::Null;
    for _ in 0..200 {
        v = admin.get(&format!("/api/webhooks/{id}")).await.1;
        if v["data"]["enabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(v["data"]["enabled"], false, "{v}");
    assert!(v["data"]["disabledReason"].is_string());
    let mail = app.mail(&admin.email, "A webhook endpoint was disabled").await;
    assert!(mail.contains(&url), "{mail}");
    // a disabled endpoint gets no new events; enabling it again clears the failure
    admin.contact("After", "Disable", json!({})).await;
    let (_, d) = admin.get(&format!("/api/webhooks/{id}/deliveries")).await;
    assert!(d["data"].as_array().unwrap().iter().all(|x| x["type"] == "ping"), "{d}");
    let (st, v) = admin
        .put(&format!("/api/webhooks/{id}"), json!({"enabled": true}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["enabled"], true);
    assert!(v["data"]["disabledReason"].is_null());
}
both!(webhook_failing_endpoint_disabled, |c| c.webhook_give_up_secs = 2);

/// The admin page: create (the secret once), edit, send test, deliveries, delete after a confirmation.
async fn webhook_admin_page(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let (rx, url) = Receiver::start(vec![]).await;
    let (st, page, _) = admin
        .form(
            "/admin/webhooks",
            &[
                ("url", &url),
                ("description", "Billing"),
                ("events", "contact.created"),
                ("events", "deal.stage_changed"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{page}");
    assert!(page.contains("whsec_"), "the secret is shown once");
    let (_, v) = admin.get("/api/webhooks").await;
    let id = v["data"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(v["data"][0]["events"], json!(["contact.created", "deal.stage_changed"]));
    let (_, show) = admin.page(&format!("/admin/webhooks/{id}")).await;
    assert!(!show.contains("whsec_"), "never again");
    // errors come back on the form
    let (st, page, _) = admin
        .form(
            &format!("/admin/webhooks/{id}"),
            &[("url", "not a url"), ("enabled", "true")],
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(page.contains("Choose at least one event"), "{page}");
    let (st, _, loc) = admin
        .form(
            &format!("/admin/webhooks/{id}"),
            &[("url", &url), ("events", "*"), ("enabled", "true")],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(
        loc.as_deref(),
        Some(format!("/admin/webhooks/{id}?done=updated").as_str())
    );
    let (st, _, _) = admin.form(&format!("/admin/webhooks/{id}/test"), &[]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    rx.wait_for("ping", 1).await;
    let mut show = String::new();
    for _ in 0..100 {
        show = admin.page(&format!("/admin/webhooks/{id}")).await.1;
        if show.contains("delivered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        show.contains("delivered") && show.contains("received") && show.contains(" ms"),
        "{show}"
    );
    // without JavaScript the delete asks first
    let (st, confirm, _) = admin.form(&format!("/admin/webhooks/{id}/delete"), &[]).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        confirm.contains("Delete webhook") && confirm.contains(&url),
        "{confirm}"
    );
    let (_, v) = admin.get("/api/webhooks").await;
    assert_eq!(v["data"].as_array().unwrap().len(), 1, "nothing deleted yet");
    let (st, _, loc) = admin
        .form(&format!("/admin/webhooks/{id}/delete"), &[("confirm", "yes")])
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(loc.as_deref(), Some("/admin/webhooks?done=deleted"));
    let (_, v) = admin.get("/api/webhooks").await;
    assert_eq!(v["data"], json!([]));
}
both!(webhook_admin_page);
