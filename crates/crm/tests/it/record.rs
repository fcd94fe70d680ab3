//! The contact page as a place to work: the timeline of everything that happened, the
//! composer that logs a call or adds a task without leaving the page (plain forms, as a
//! browser without JavaScript posts them), and nothing of other owners showing through.

use crm_core::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::TestApp;

async fn the_contact_page_logs_and_shows_everything_that_happened(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let c = rep.contact("Tess", "Timeline", json!({})).await;
    let (_, d) = rep
        .post(
            "/api/deals",
            json!({"name": "Roof repair", "value": 900, "expectedCloseDate": "2030-01-01", "contactId": c}),
        )
        .await;
    let deal = d["data"]["id"].as_str().unwrap().to_string();
    rep.patch(&format!("/api/deals/{deal}"), json!({"stage": "qualified"}))
        .await;
    rep.put(&format!("/api/contacts/{c}"), json!({"status": "customer"}))
        .await;

    // the composer: a call logged in the past, multi-line notes, about the deal
    let (st, _, loc) = rep
        .form(
            "/activities/new",
            &[
                ("contactId", &c),
                ("back", &format!("/contacts/{c}")),
                ("type", "call"),
                ("subject", "Pricing call"),
                ("description", "Asked for a discount.\nCall back Friday."),
                ("createdAt", "2026-01-05T09:30"),
                ("dealId", &deal),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(loc.as_deref(), Some(format!("/contacts/{c}?done=logged").as_str()));
    let (_, acts) = rep.get(&format!("/api/activities?contactId={c}")).await;
    let a = &acts["data"][0];
    assert_eq!(a["type"], "call");
    assert_eq!(a["createdAt"], "2026-01-05T09:30:00.000Z");
    assert_eq!(a["dealId"], deal.as_str());
    assert_eq!(a["description"], "Asked for a discount.\nCall back Friday.");
    // a task from the same page
    let (st, _, loc) = rep
        .form(
            "/tasks/new",
            &[
                ("contactId", &c),
                ("back", &format!("/contacts/{c}")),
                ("title", "Send the revised quote"),
                ("dueDate", "2030-02-01"),
                ("priority", "high"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(loc.as_deref(), Some(format!("/contacts/{c}?done=task-added").as_str()));

    let (st, html) = rep.page(&format!("/contacts/{c}?done=logged")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Activity logged."), "the notice");
    for seen in [
        "Pricing call",
        "Asked for a discount.\nCall back Friday.",
        "Task added: Send the revised quote",
        "Deal added: Roof repair",
        "Roof repair moved to Qualified",
        "Status: lead → customer",
        "Contact added",
        "Log an activity",
        "Add a task",
    ] {
        assert!(html.contains(seen), "{seen:?} on the contact page");
    }
    // newest first: the call (January 2026) comes after today's edits
    assert!(html.find("Status: lead → customer") < html.find("Pricing call"));
    // the side column: open deal and open task
    assert!(html.contains("Open deals") && html.contains("closes"));
    // one kind at a time
    let (_, html) = rep.page(&format!("/contacts/{c}?show=tasks")).await;
    assert!(html.contains("Task added: Send the revised quote") && !html.contains("Pricing call"));
    // inline edit of one field comes back to the page
    let (st, _, loc) = rep
        .form(
            &format!("/contacts/{c}/edit"),
            &[("jobTitle", "Facilities lead"), ("back", &format!("/contacts/{c}"))],
        )
        .await;
    assert_eq!(
        (st, loc.as_deref()),
        (
            StatusCode::SEE_OTHER,
            Some(format!("/contacts/{c}?done=updated").as_str())
        )
    );
    let (_, v) = rep.get(&format!("/api/contacts/{c}")).await;
    assert_eq!(v["data"]["jobTitle"], "Facilities lead");
    assert_eq!(v["data"]["firstName"], "Tess", "fields not posted are kept");
    // a form's back never leaves the site
    let (_, _, loc) = rep
        .form(
            "/activities/new",
            &[("contactId", &c), ("back", "//evil.example/x"), ("subject", "Note")],
        )
        .await;
    assert!(loc.unwrap().starts_with(&format!("/contacts/{c}")));
}
both!(the_contact_page_logs_and_shows_everything_that_happened);

async fn activity_dates_and_deals_are_validated(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let c = rep.contact("Val", "Idation", json!({})).await;
    let other = rep.contact("Oth", "Er", json!({})).await;
    let (_, d) = rep
        .post(
            "/api/deals",
            json!({"name": "Elsewhere", "value": 1, "expectedCloseDate": "2030-01-01", "contactId": other}),
        )
        .await;
    let deal = d["data"]["id"].as_str().unwrap().to_string();
    let (st, v) = rep
        .post(
            "/api/activities",
            json!({"subject": "S", "contactId": c, "dealId": deal}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["fieldErrors"]["dealId"],
        "The deal must be one of the contact's deals"
    );
    let (st, v) = rep
        .post(
            "/api/activities",
            json!({"subject": "S", "contactId": c, "createdAt": "2099-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v["fieldErrors"]["createdAt"].as_str().unwrap().contains("as a task"));
    let (st, v) = rep
        .post(
            "/api/activities",
            json!({"subject": "S", "contactId": c, "createdAt": "yesterday"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    // moving the activity to another contact drops a deal that is not theirs
    let (_, a) = rep
        .post(
            "/api/activities",
            json!({"subject": "About", "contactId": other, "dealId": deal}),
        )
        .await;
    let a = a["data"]["id"].as_str().unwrap().to_string();
    let (st, v) = rep.put(&format!("/api/activities/{a}"), json!({"contactId": c})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["dealId"], serde_json::Value::Null);
    // a deleted deal unlinks its activities
    let (_, a2) = rep
        .post(
            "/api/activities",
            json!({"subject": "Linked", "contactId": other, "dealId": deal}),
        )
        .await;
    rep.delete(&format!("/api/deals/{deal}")).await;
    let (st, v) = rep
        .get(&format!("/api/activities/{}", a2["data"]["id"].as_str().unwrap()))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["data"]["dealId"], serde_json::Value::Null);
}
both!(activity_dates_and_deals_are_validated);

/// Records of rep B attached to rep A's contact (by an admin), and a contact moved from B to
/// A: neither A nor B sees the other's records, counts or names through their own.
async fn other_owners_records_leave_no_trace(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let a = app.user(Role::Rep).await;
    let b = app.user(Role::Rep).await;
    let c = a.contact("Ann", "Owned", json!({})).await;
    for (path, body) in [
        (
            "/api/activities",
            json!({"subject": "B's secret call", "contactId": c, "userId": b.id()}),
        ),
        (
            "/api/tasks",
            json!({"title": "B's secret task", "dueDate": "2030-01-01", "contactId": c, "userId": b.id()}),
        ),
        (
            "/api/deals",
            json!({"name": "B's secret deal", "value": 5, "expectedCloseDate": "2030-01-01", "contactId": c, "userId": b.id()}),
        ),
    ] {
        let (st, v) = admin.post(path, body).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let (_, html) = a.page(&format!("/contacts/{c}")).await;
    assert!(!html.contains("secret"), "B's records are not on A's timeline");
    assert!(
        html.contains("Deals <span class=\"count\">0</span>"),
        "tab counts are A's own"
    );
    assert!(
        html.contains("with 0 activities, 0 tasks and 0 deals"),
        "the delete confirmation counts A's own"
    );
    let (_, html, _) = a.form("/contacts/bulk-delete", &[("ids", &c)]).await;
    assert!(
        !html.contains("1 activit") && !html.contains("1 task") && !html.contains("1 deal"),
        "{html}"
    );

    // A cannot delete B's records through A's contact: refused, naming what is in the way
    let (st, v) = a.delete(&format!("/api/contacts/{c}")).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(
        v["error"],
        "This contact has 1 activity, 1 task and 1 deal owned by other users, which would be deleted with it. \
         Ask an administrator to reassign or delete them first."
    );
    let (st, v) = a.post("/api/contacts/bulk-delete", json!({"ids": [c]})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, _, _) = a.form(&format!("/contacts/{c}/delete"), &[("confirm", "yes")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, v) = b.get("/api/deals?search=secret").await;
    assert_eq!(v["pagination"]["total"], 1, "B's deal is still there");
    // an admin may, and every record that goes is in the audit log
    let (st, v) = admin.delete(&format!("/api/contacts/{c}")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    for kind in ["activity", "task", "deal", "contact"] {
        let (_, v) = admin
            .get(&format!("/api/admin/audit?action=delete&entityType={kind}"))
            .await;
        assert_eq!(v["pagination"]["total"], 1, "{kind}: {v}");
    }

    // B's own contact moves to A: B keeps their activity but no longer sees the name
    let moved = b.contact("Moving", "Away", json!({})).await;
    b.post(
        "/api/activities",
        json!({"subject": "Before the move", "contactId": moved}),
    )
    .await;
    let (st, v) = admin
        .post("/api/contacts/bulk-assign", json!({"ids": [moved], "userId": a.id()}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    admin
        .put(&format!("/api/contacts/{moved}"), json!({"lastName": "Renamed"}))
        .await;
    let (_, v) = b.get("/api/activities?search=Before").await;
    assert_eq!(v["data"][0]["subject"], "Before the move");
    assert_eq!(v["data"][0]["contact"], serde_json::Value::Null, "{v}");
    let (_, html) = b.page("/activities").await;
    assert!(html.contains("Before the move") && !html.contains("Renamed") && !html.contains("Moving"));
}
both!(other_owners_records_leave_no_trace);

/// Deal and company pages have the timeline too; the deal page logs activities about the
/// deal; a company's timeline shows only what the viewer may see.
async fn deal_and_company_pages_have_timelines(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    let (_, co) = rep.post("/api/companies", json!({"name": "Timeline Co"})).await;
    let co = co["data"]["id"].as_str().unwrap().to_string();
    let c = rep.contact("Dee", "Buyer", json!({"companyId": co})).await;
    let (_, d) = rep
        .post(
            "/api/deals",
            json!({"name": "Fleet order", "value": 3000, "expectedCloseDate": "2030-01-01", "contactId": c}),
        )
        .await;
    let deal = d["data"]["id"].as_str().unwrap().to_string();
    rep.patch(&format!("/api/deals/{deal}"), json!({"stage": "proposal"}))
        .await;
    let (st, _, loc) = rep
        .form(
            "/activities/new",
            &[
                ("contactId", &c),
                ("dealId", &deal),
                ("back", &format!("/deals/{deal}")),
                ("type", "meeting"),
                ("subject", "Walked through the proposal"),
            ],
        )
        .await;
    assert_eq!(
        (st, loc.as_deref()),
        (
            StatusCode::SEE_OTHER,
            Some(format!("/deals/{deal}?done=logged").as_str())
        )
    );
    let (_, html) = rep.page(&format!("/deals/{deal}")).await;
    for seen in [
        "Log an activity",
        "Walked through the proposal",
        "Fleet order moved to Proposal",
        "Deal added: Fleet order",
    ] {
        assert!(html.contains(seen), "{seen:?} on the deal page");
    }
    // an activity on the contact but not about the deal stays off the deal's timeline
    rep.post("/api/activities", json!({"subject": "Unrelated note", "contactId": c}))
        .await;
    let (_, html) = rep.page(&format!("/deals/{deal}")).await;
    assert!(!html.contains("Unrelated note"));
    // the company's timeline: its contacts' activities and its deals
    let (_, html) = rep.page(&format!("/companies/{co}")).await;
    for seen in [
        "Walked through the proposal",
        "Unrelated note",
        "Fleet order moved to Proposal",
        "Company added",
    ] {
        assert!(html.contains(seen), "{seen:?} on the company page");
    }
    // another rep sees the shared company, but none of the first rep's records on it
    let (st, html) = other.page(&format!("/companies/{co}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(!html.contains("Walked through") && !html.contains("Fleet order") && !html.contains("Unrelated"));
    let (st, _) = other.page(&format!("/deals/{deal}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}
both!(deal_and_company_pages_have_timelines);
