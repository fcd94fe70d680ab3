//! Reports: date presets and custom ranges, scoped figures, stage timing from history,
//! CSV per section, bad input.

use crm_core::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::TestApp;

async fn reports_are_scoped_and_ranged(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    let c = rep.contact("Rep", "Ort", json!({})).await;
    let o = other.contact("Oth", "Er", json!({})).await;
    let (_, v) = rep
        .post(
            "/api/deals",
            json!({"name": "Won", "value": 500, "expectedCloseDate": "2030-01-01", "contactId": c}),
        )
        .await;
    let id = v["data"]["id"].as_str().unwrap().to_string();
    rep.put(&format!("/api/deals/{id}"), json!({"stage": "closed_won"}))
        .await;
    other.post("/api/deals", json!({"name": "Theirs", "value": 9000, "stage": "closed_won", "expectedCloseDate": "2030-01-01", "contactId": o})).await;
    rep.post(
        "/api/activities",
        json!({"subject": "Call", "type": "call", "contactId": c}),
    )
    .await;
    let (st, v) = rep.get("/api/reports?preset=today").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let r = &v["data"];
    assert_eq!(r["wonValue"], 500.0, "only the rep's won deal: {r}");
    assert_eq!(r["wonDeals"], 1);
    assert_eq!(r["activitiesByType"][0]["value"], 1.0);
    assert_eq!(r["activityHeatmap"].as_array().unwrap().len(), 7);
    assert_eq!(r["topPerformers"][0]["name"], "Test rep");
    let stages = r["averageDaysInStage"].as_array().unwrap();
    assert_eq!(stages.len(), 4, "stage timing comes from stage history");
    let (_, v) = rep
        .get("/api/reports?preset=custom&from=2000-01-01&to=2000-01-31")
        .await;
    assert_eq!(v["data"]["wonDeals"], 0, "nothing in an old range");
    for bad in [
        "preset=yearly",
        "preset=custom&from=2030-02-01&to=2030-01-01",
        "preset=custom&from=nope&to=2030-01-01",
    ] {
        let (st, _) = rep.get(&format!("/api/reports?{bad}")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}");
    }
    let res = rep
        .http
        .get(format!(
            "{}/api/reports/export?preset=today&section=performers",
            rep.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("name,wonValue,wonDeals,activities") && body.contains("Test rep,500.00,1,1"),
        "{body}"
    );
    let (st, _) = rep.get("/api/reports/export?section=everything").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, html) = rep.page("/reports?preset=quarter").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Activity heatmap") && html.contains("$500.00") && !html.contains("$9,000.00"));
}
both!(reports_are_scoped_and_ranged);
