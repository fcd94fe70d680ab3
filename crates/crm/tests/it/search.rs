//! Global search: scoped groups with true totals, bad input, the no-JS page.

use crm_core::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::TestApp;

async fn search_is_scoped_and_counts_truly(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    for i in 0..7 {
        rep.contact("Zebulon", &format!("Mine{i}"), json!({})).await;
    }
    let theirs = other.contact("Zebulon", "Theirs", json!({})).await;
    other
        .post(
            "/api/deals",
            json!({"name": "Zebulon expansion", "value": 10, "expectedCloseDate": "2030-01-01", "contactId": theirs}),
        )
        .await;
    rep.post("/api/companies", json!({"name": "Zebulon Industries"})).await;
    let (st, v) = rep.get("/api/search?q=zebulon&limit=5").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let d = &v["data"];
    assert_eq!(
        d["contacts"]["total"], 7,
        "the true count, not the page size, and only own contacts"
    );
    assert_eq!(d["contacts"]["results"].as_array().unwrap().len(), 5);
    assert_eq!(d["deals"]["total"], 0, "another rep's deal is not found");
    assert_eq!(d["companies"]["total"], 1, "companies are shared");
    let (_, v) = other.get("/api/search?q=ZEBULON").await;
    assert_eq!(v["data"]["deals"]["total"], 1);
    assert_eq!(v["data"]["contacts"]["total"], 1);
    let (st, v) = rep.get("/api/search?q=%20").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "Type something to search for");
    let (st, _) = app.anonymous().get("/api/search?q=zebulon").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (_, html) = rep.page("/search?q=zebulon").await;
    assert!(html.contains("Zebulon Mine0") && html.contains("Zebulon Industries") && !html.contains("Theirs"));
}
both!(search_is_scoped_and_counts_truly);
