//! The API's documentation: `/api/openapi.json` lists every route the router serves and
//! nothing else, matches the committed snapshot (`docs/openapi.json`), and `/docs` draws it
//! for people without signing in.

use crm_core::Role;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::TestApp;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

async fn document(app: &TestApp) -> Value {
    let (st, v) = app.anonymous().get("/api/openapi.json").await;
    assert_eq!(st, StatusCode::OK, "public");
    v
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let app = TestApp::sqlite().await;
    let admin = app.user(Role::Admin).await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    let mut n = 0;
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            n += 1;
            let url = format!(
                "{}/api/v1{}",
                admin.base,
                path.replace("{id}", "0193a1b2-0000-7000-8000-000000000000")
                    .replace("{delivery}", "0193a1b2-0000-7000-8000-000000000001")
            );
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            // an empty body: the answer may be a 400, never "no such endpoint" or a 405
            let res = admin
                .http
                .request(m, &url)
                .header("content-type", "application/json")
                .header("x-csrf-token", "none")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body = res.text().await.unwrap_or_default();
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}: {body}");
            assert!(
                !body.contains("No such API endpoint"),
                "{method} {path} is documented but not served"
            );
            assert!(op["operationId"].is_string() && op["summary"].is_string() && op["tags"][0].is_string());
            assert_eq!(op["responses"]["400"]["$ref"], "#/components/responses/400");
        }
    }
    assert!(n > 80, "{n} operations");
    // both auth schemes, the envelope's error, pagination
    let c = &doc["components"];
    assert_eq!(c["securitySchemes"]["bearerToken"]["scheme"], "bearer");
    assert_eq!(c["securitySchemes"]["csrfToken"]["name"], "X-CSRF-Token");
    assert!(c["schemas"]["Error"]["properties"]["fieldErrors"].is_object());
    assert!(c["schemas"]["Pagination"]["properties"]["totalIsEstimate"].is_object());
    let list = &doc["paths"]["/contacts"]["get"];
    assert_eq!(
        list["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["data"]["items"]["$ref"],
        "#/components/schemas/ContactView"
    );
    assert!(
        c["schemas"]["ContactView"].to_string().contains("jobTitle"),
        "the contact's optional fields are in its schema"
    );
    app.finish().await;
}

/// The committed document is the generated one: a change to the API shows in review as a
/// change to `docs/openapi.json` (`UPDATE_OPENAPI=1 cargo test docs::` rewrites it).
#[tokio::test]
async fn the_document_matches_its_snapshot() {
    let app = TestApp::sqlite().await;
    let doc = document(&app).await;
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(SNAPSHOT, &text).unwrap();
    }
    let committed = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    assert!(
        committed == text,
        "docs/openapi.json differs from the generated document: run `UPDATE_OPENAPI=1 cargo test docs::` and commit it"
    );
    app.finish().await;
}

#[tokio::test]
async fn docs_pages_are_public_and_linked_from_the_app() {
    let app = TestApp::sqlite().await;
    let anon = app.anonymous();
    let (st, index) = anon.page("/docs").await;
    assert_eq!(st, StatusCode::OK);
    assert!(index.contains("/api/openapi.json") && index.contains("Getting started"));
    let (st, page) = anon.page("/docs/contacts").await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("/api/v1/contacts/{id}"), "every operation of the section");
    assert!(page.contains("Authorization: Bearer $CRM_TOKEN"), "a curl line");
    assert!(
        page.contains("firstName") && page.contains("jobTitle"),
        "the body's fields"
    );
    for guide in [
        "getting-started",
        "authentication",
        "pagination",
        "errors",
        "rate-limits",
        "webhooks",
        "versioning",
    ] {
        let (st, _) = anon.page(&format!("/docs/{guide}")).await;
        assert_eq!(st, StatusCode::OK, "{guide}");
    }
    let (_, limits) = anon.page("/docs/rate-limits").await;
    assert!(limits.contains("Failed sign-ins per account"));
    let (st, _) = anon.page("/docs/nothing-here").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let user = app.user(Role::Rep).await;
    let (_, settings) = user.page("/settings").await;
    assert!(settings.contains("href=\"/docs\""), "linked from the app");
    app.finish().await;
}

/// The bodies the reference documents for the record kinds are exactly what their
/// validation reads: a field added to a validator and not to the document (or the other
/// way round) fails here.
#[tokio::test]
async fn documented_bodies_are_what_the_validators_read() {
    let app = TestApp::sqlite().await;
    let doc = document(&app).await;
    for (path, keys) in [
        ("/contacts", crm_core::contacts::write::body_keys()),
        ("/companies", crm_core::companies::write::body_keys()),
        ("/deals", crm_core::deals::write::body_keys()),
        ("/tasks", crm_core::tasks::body_keys()),
        ("/activities", crm_core::activities::body_keys()),
    ] {
        for (p, method) in [(path.to_string(), "post"), (format!("{path}/{{id}}"), "put")] {
            let props = doc["paths"][&p][method]["requestBody"]["content"]["application/json"]["schema"]["properties"]
                .as_object()
                .unwrap_or_else(|| panic!("{method} {p} has a body"));
            let mut documented: Vec<&str> = props.keys().map(String::as_str).collect();
            documented.sort();
            let mut read: Vec<&str> = keys.iter().map(String::as_str).collect();
            read.sort();
            assert_eq!(
                documented, read,
                "{method} {p}: documented body vs the validator's fields"
            );
        }
    }
    app.finish().await;
}
