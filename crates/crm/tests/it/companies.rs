//! Companies API: CRUD, validation, unique names, search/filter/paging, scoped counts,
//! delete unlinks contacts.

use crm_core::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::TestApp;

async fn company_lifecycle(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    let (st, v) = rep
        .post("/api/companies", json!({"name": "Acme Corp", "industry": "Technology", "website": "https://acme.example", "employeeCount": 0, "revenue": 1234.5}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let c = &v["data"];
    assert_eq!(c["industry"], "technology");
    assert_eq!(c["employeeCount"], 0, "zero is kept, not turned into null");
    assert_eq!(c["revenue"], 1234.5);
    let id = c["id"].as_str().unwrap().to_string();

    let (st, v) = other.post("/api/companies", json!({"name": "  acme   CORP "})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "Company name already exists");

    let (st, v) = rep
        .post(
            "/api/companies",
            json!({"name": "", "website": "ftp:x", "employeeCount": 1.5, "revenue": -1}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["fieldErrors"]["name"], "Company name is required");
    assert_eq!(v["fieldErrors"]["website"], "Invalid website URL");
    assert_eq!(
        v["fieldErrors"]["employeeCount"],
        "Employee count must be a whole number"
    );
    assert_eq!(v["fieldErrors"]["revenue"], "Revenue must be positive");

    // scoped counts: each rep sees only their own contacts at the company
    rep.contact("A", "One", json!({"companyId": id})).await;
    other.contact("B", "Two", json!({"companyId": id})).await;
    other.contact("C", "Three", json!({"companyId": id})).await;
    let (_, v) = rep.get(&format!("/api/companies/{id}")).await;
    assert_eq!(v["data"]["_count"]["contacts"], 1);
    assert_eq!(v["data"]["contacts"].as_array().unwrap().len(), 1);
    let (_, v) = other.get("/api/companies?search=acme").await;
    assert_eq!(v["data"][0]["_count"]["contacts"], 2);

    let (st, v) = rep
        .put(&format!("/api/companies/{id}"), json!({"address": "1 Main St"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        v["data"]["website"], "https://acme.example",
        "partial update keeps other fields"
    );

    let (st, v) = rep.delete(&format!("/api/companies/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["data"]["message"], "Company deleted successfully");
    let (_, v) = other.get("/api/contacts").await;
    assert_eq!(v["pagination"]["total"], 2, "contacts survive");
    assert!(
        v["data"].as_array().unwrap().iter().all(|c| c["companyId"].is_null()),
        "and are unlinked"
    );
    let (st, v) = rep.get(&format!("/api/companies/{id}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(v["error"], "Company not found");
}
both!(company_lifecycle);

async fn company_list_filters_and_pages(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    for i in 0..12 {
        let industry = if i % 2 == 0 { "finance" } else { "retail" };
        let (st, _) = admin
            .post(
                "/api/companies",
                json!({"name": format!("Firm {i:02}"), "industry": industry}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
    }
    let (_, mut v) = admin.get("/api/companies").await;
    assert!(v["pagination"]["nextCursor"].is_string(), "a next page: {v}");
    v["pagination"].as_object_mut().unwrap().remove("nextCursor");
    assert_eq!(
        v["pagination"],
        json!({"page": 1, "limit": 10, "total": 12, "totalPages": 2, "totalIsEstimate": false})
    );
    let (_, v) = admin.get("/api/companies?industry=finance&sort=name&order=asc").await;
    assert_eq!(v["pagination"]["total"], 6);
    assert_eq!(v["data"][0]["name"], "Firm 00");
    let (_, v) = admin.get("/api/companies?search=RETAIL").await;
    assert_eq!(v["pagination"]["total"], 6, "search covers industry");
    let (st, _) = admin.get("/api/companies?limit=1000").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}
both!(company_list_filters_and_pages);

/// A rep's company list starts at the companies they work with, counting their own records;
/// "All companies" shows the rest. The API keeps listing all unless `mine=true`.
async fn reps_start_from_their_companies(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    let mut ids = vec![];
    for name in ["Mine Via Contact", "Mine Via Deal", "Theirs Only", "Nobody's"] {
        let (_, v) = admin.post("/api/companies", json!({"name": name})).await;
        ids.push(v["data"]["id"].as_str().unwrap().to_string());
    }
    rep.contact("Own", "Contact", json!({"companyId": ids[0]})).await;
    let c = rep.contact("Own", "Dealer", json!({})).await;
    let (st, v) = rep
        .post(
            "/api/deals",
            json!({"name": "Own deal", "value": 10, "expectedCloseDate": "2030-01-01", "contactId": c, "companyId": ids[1]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    other.contact("Their", "Contact", json!({"companyId": ids[2]})).await;

    let (_, html) = rep.page("/companies").await;
    assert!(
        html.contains("Mine Via Contact") && html.contains("Mine Via Deal"),
        "{html}"
    );
    assert!(!html.contains("Theirs Only") && !html.contains("Nobody&#x27;s") && !html.contains("Nobody's"));
    assert!(html.contains("My contacts") && html.contains("2 companies"), "{html}");
    let (_, html) = rep.page("/companies?mine=false").await;
    assert!(html.contains("Theirs Only") && html.contains("4 companies"));
    let (_, v) = rep.get("/api/companies?mine=true&sort=name&order=asc").await;
    let names: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Mine Via Contact", "Mine Via Deal"]);
    let (_, v) = rep.get("/api/companies").await;
    assert_eq!(v["pagination"]["total"], 4, "the API lists all companies by default");
    let (_, v) = rep.get("/api/companies/export?mine=true").await;
    assert_eq!(v.as_str().unwrap().lines().count(), 3, "export follows the filter");
    // an admin's page lists everything, with every count
    let (_, html) = admin.page("/companies").await;
    assert!(html.contains("Nobody") && !html.contains("My contacts"));
    let (st, _) = rep.get("/api/companies?mine=perhaps").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}
both!(reps_start_from_their_companies);

/// A new rep's empty dashboard draws flat charts that say so, never a "$1.00" axis.
async fn empty_dashboard_has_no_made_up_axis(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    for tab in ["contacts", "companies", "deals", "tasks", "activities"] {
        let (st, html) = rep.page(&format!("/?tab={tab}")).await;
        assert_eq!(st, StatusCode::OK);
        assert!(!html.contains("$1.00") && !html.contains(">1<"), "{tab}: {html}");
    }
    let (_, html) = rep.page("/reports?tab=sales").await;
    assert!(!html.contains("$1.00"), "{html}");
}
both!(empty_dashboard_has_no_made_up_axis);
