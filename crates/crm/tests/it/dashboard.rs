//! Dashboard figures: every number scoped to the viewer.

use crm_core::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::TestApp;

async fn dashboard_counts_only_what_you_see(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    let c = rep.contact("Dash", "Mine", json!({"status": "customer"})).await;
    rep.contact("Dash", "Lead", json!({})).await;
    let o = other.contact("Dash", "Theirs", json!({})).await;
    rep.post("/api/deals", json!({"name": "Won one", "value": 1000, "stage": "closed_won", "expectedCloseDate": "2030-01-01", "contactId": c})).await;
    rep.post("/api/deals", json!({"name": "Open one", "value": 250.5, "stage": "proposal", "expectedCloseDate": "2030-01-01", "contactId": c})).await;
    other
        .post(
            "/api/deals",
            json!({"name": "Not mine", "value": 99999, "expectedCloseDate": "2030-01-01", "contactId": o}),
        )
        .await;
    rep.post(
        "/api/tasks",
        json!({"title": "Late", "dueDate": "2020-01-01", "contactId": c}),
    )
    .await;
    rep.post(
        "/api/activities",
        json!({"subject": "Call", "type": "call", "contactId": c}),
    )
    .await;

    let (st, v) = rep.get("/api/dashboard").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let d = &v["data"];
    assert_eq!(d["totalContacts"], 2);
    assert_eq!(d["totalCustomers"], 1);
    assert_eq!(d["conversionRate"], 50.0);
    assert_eq!(d["pipelineValue"], 250.5, "the other rep's deal is not counted");
    assert_eq!(d["wonValue"], 1000.0);
    assert_eq!(d["winRate"], 100.0);
    assert_eq!(d["overdueTasks"], 1);
    assert_eq!(d["totalActivities"], 1);
    assert_eq!(d["growth"].as_array().unwrap().len(), 30);
    assert_eq!(d["growth"][29]["value"], 2.0, "cumulative growth ends at the total");
    let (_, v) = admin.get("/api/dashboard").await;
    assert_eq!(v["data"]["totalContacts"], 3);
    assert_eq!(v["data"]["pipelineValue"], 100249.5);
    for tab in ["contacts", "deals", "tasks", "activities", "companies"] {
        let (st, html) = rep.page(&format!("/?tab={tab}")).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("<svg"), "{tab} has a chart");
    }
    let (_, html) = rep.page("/?tab=deals").await;
    assert!(html.contains("$250.50") && !html.contains("$99,999"));
}
both!(dashboard_counts_only_what_you_see);
