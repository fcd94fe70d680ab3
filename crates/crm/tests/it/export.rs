//! CSV export: the list's filters, the actor's scope, BOM, quoting and formula neutralising.

use crm_core::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::{Client, TestApp, raw};

async fn csv(c: &Client, path: &str) -> (StatusCode, String, String) {
    raw(c.http.get(format!("{}{path}", c.base))).await
}

async fn exports_follow_filters_and_scope(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    rep.contact(
        "=cmd",
        "Injector",
        json!({"status": "customer", "jobTitle": "CEO, founder"}),
    )
    .await;
    for i in 0..3 {
        rep.contact("Lead", &format!("Number{i}"), json!({})).await;
    }
    other.contact("Not", "Mine", json!({})).await;
    let (st, ct, body) = csv(&rep, "/api/contacts/export").await;
    assert_eq!(st, StatusCode::OK);
    assert!(ct.starts_with("text/csv"));
    assert!(body.starts_with('\u{feff}'), "UTF-8 BOM for spreadsheet apps");
    let lines: Vec<&str> = body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "id,firstName,lastName,email,phoneNumber,status,jobTitle,companyId,userId,createdAt,companyName,ownerName"
    );
    assert!(
        lines[1].ends_with(",Test rep"),
        "the owner's name beside the id: {}",
        lines[1]
    );
    assert_eq!(lines.len(), 5, "header + the rep's 4 contacts, not the other rep's");
    assert!(body.contains(",'=cmd,Injector,"), "a formula is neutralised");
    assert!(body.contains("\"CEO, founder\""), "a comma is quoted");
    let (_, _, body) = csv(&rep, "/api/contacts/export?status=customer").await;
    assert_eq!(body.lines().count(), 2, "the list's filters apply");
    let (st, _, _) = csv(&rep, "/api/contacts/export?status=vip").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _, _) = csv(&app.anonymous(), "/api/contacts/export").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    let c = rep.contact("Deal", "Buyer", json!({})).await;
    rep.post(
        "/api/deals",
        json!({"name": "Exported", "value": 99.5, "expectedCloseDate": "2030-01-01", "contactId": c}),
    )
    .await;
    rep.post(
        "/api/tasks",
        json!({"title": "Export me", "dueDate": "2030-01-01", "contactId": c}),
    )
    .await;
    rep.post("/api/activities", json!({"subject": "Logged", "contactId": c}))
        .await;
    let (_, _, body) = csv(&rep, "/api/deals/export").await;
    assert!(body.contains("Exported,99.50,lead,open,10,"), "{body}");
    assert!(
        body.lines()
            .next()
            .unwrap()
            .ends_with(",contactName,companyName,ownerName")
    );
    assert!(
        body.contains(",Deal Buyer,,Test rep\r\n"),
        "contact and owner names: {body}"
    );
    let (_, _, body) = csv(&rep, "/api/tasks/export?status=open").await;
    assert!(body.contains("Export me"));
    let (_, _, body) = csv(&rep, "/api/activities/export?type=note").await;
    assert!(body.contains("Logged"));
    let (_, _, body) = csv(&other, "/api/deals/export").await;
    assert_eq!(body.lines().count(), 1, "header only for someone who sees no deals");
    let (st, _, _) = csv(&rep, "/api/companies/export").await;
    assert_eq!(st, StatusCode::OK);
}
both!(exports_follow_filters_and_scope);

/// The test client asks for gzip like every browser (and decompresses); a compressed
/// stream cut short fails the read. This also checks the server does compress exports.
async fn large_exports_stream_in_batches(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    crm_core::seed::bulk(&app.db, 5, 2500).await.unwrap();
    let raw = reqwest::Client::builder().gzip(false).build().unwrap();
    let res = raw
        .get(format!("{}/api/contacts/export", app.base))
        .bearer_auth(token(&admin).await)
        .header("accept-encoding", "gzip, deflate, br, zstd")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers().get("content-encoding").map(|v| v.to_str().unwrap()),
        Some("gzip")
    );
    let (st, _, body) = csv(&admin, "/api/contacts/export").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        body.lines().count(),
        2501,
        "every row across several 1000-row batches, none twice"
    );
    let mut ids: Vec<&str> = body.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 2500);
    let width = |l: &str| l.split(',').count();
    let last = body.trim_end().lines().last().unwrap();
    assert_eq!(
        width(last),
        width(body.lines().next().unwrap()),
        "the last row is whole: {last}"
    );
    assert!(body.ends_with("\r\n"));
    for kind in ["companies", "deals", "tasks", "activities"] {
        let (st, _, body) = csv(&admin, &format!("/api/{kind}/export")).await;
        assert_eq!(st, StatusCode::OK, "{kind}");
        assert!(body.starts_with('\u{feff}'), "{kind}: {body}");
    }
}
both!(large_exports_stream_in_batches);

/// A new API token of a signed-in test client.
async fn token(c: &Client) -> String {
    let (st, v) = c.post("/api/auth/tokens", json!({"name": "export"})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["data"]["token"].as_str().unwrap().to_string()
}
