//! Activities, tasks and deals over the API: validation, scoping, the completion toggle,
//! stage ↔ status rules, stage history, the kanban board, cascades.

use crm_core::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::TestApp;

async fn activities_crud_and_rules(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    let c = rep.contact("Act", "Ivity", json!({})).await;
    let foreign = other.contact("Not", "Yours", json!({})).await;
    let (st, v) = rep
        .post(
            "/api/activities",
            json!({"subject": "Intro call", "contactId": c, "type": "call", "description": "went well"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"]["type"], "call");
    assert_eq!(v["data"]["contact"]["firstName"], "Act");
    let id = v["data"]["id"].as_str().unwrap().to_string();
    let (st, v) = rep
        .post("/api/activities", json!({"subject": "Note", "contactId": c}))
        .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(v["data"]["type"], "note", "type defaults to note");

    for (body, field, msg) in [
        (json!({"subject": "x"}), "contactId", "Contact is required"),
        (
            json!({"subject": "x", "contactId": foreign}),
            "contactId",
            "Contact not found",
        ),
        (
            json!({"subject": "x", "contactId": "nope"}),
            "contactId",
            "Invalid contact ID",
        ),
        (json!({"subject": "", "contactId": c}), "subject", "Subject is required"),
        (
            json!({"subject": "x", "contactId": c, "type": "fax"}),
            "type",
            "Activity type must be one of: call, email, meeting, note",
        ),
    ] {
        let (st, v) = rep.post("/api/activities", body).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
        assert_eq!(v["fieldErrors"][field], msg);
    }
    let (_, v) = rep.get("/api/activities?type=call&search=WENT").await;
    assert_eq!(v["pagination"]["total"], 1);
    let (_, v) = rep.get("/api/activities?fromDate=2000-01-01&toDate=2000-01-02").await;
    assert_eq!(v["pagination"]["total"], 0);
    let (st, _) = rep.get("/api/activities?fromDate=2030-01-02&toDate=2030-01-01").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "from after to");
    let (st, v) = rep
        .put(&format!("/api/activities/{id}"), json!({"type": "meeting"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["data"]["type"], "meeting", "type changes are kept");
    assert_eq!(v["data"]["description"], "went well");
    let (st, _) = other.get(&format!("/api/activities/{id}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = rep.delete(&format!("/api/activities/{id}")).await;
    assert_eq!(st, StatusCode::OK);
}
both!(activities_crud_and_rules);

async fn tasks_toggle_and_overdue(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let c = rep.contact("Task", "Owner", json!({})).await;
    let (st, v) = rep
        .post(
            "/api/tasks",
            json!({"title": "Call back", "dueDate": "2020-01-01T09:00:00Z", "contactId": c, "priority": "high"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"]["overdue"], true);
    let old = v["data"]["id"].as_str().unwrap().to_string();
    let (_, v) = rep
        .post(
            "/api/tasks",
            json!({"title": "Later", "dueDate": "2099-01-01", "contactId": c}),
        )
        .await;
    assert_eq!(v["data"]["priority"], "medium");
    let (st, v) = rep
        .post(
            "/api/tasks",
            json!({"title": "Bad", "dueDate": "someday", "contactId": c}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["fieldErrors"]["dueDate"], "Invalid date format");
    let (_, v) = rep.get("/api/tasks?status=overdue").await;
    assert_eq!(v["pagination"]["total"], 1);
    let (_, v) = rep
        .get("/api/tasks?status=overdue&startDate=2019-12-01&endDate=2020-02-01")
        .await;
    assert_eq!(
        v["pagination"]["total"], 1,
        "a date range narrows overdue, never replaces it"
    );
    let (_, v) = rep
        .get("/api/tasks?status=overdue&startDate=2098-01-01&endDate=2100-01-01")
        .await;
    assert_eq!(v["pagination"]["total"], 0);

    let patch = |body: serde_json::Value| {
        rep.http
            .patch(format!("{}/api/tasks/{old}", rep.base))
            .header("X-CSRF-Token", rep.csrf.clone().unwrap())
            .json(&body)
            .send()
    };
    let res = patch(json!({"completed": "yes"})).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["error"], "completed must be a boolean");
    let v: serde_json::Value = patch(json!({"completed": true})).await.unwrap().json().await.unwrap();
    assert_eq!(v["data"]["completed"], true);
    assert!(v["data"]["completedAt"].is_string());
    assert_eq!(v["data"]["overdue"], false);
    let v: serde_json::Value = patch(json!({"completed": false})).await.unwrap().json().await.unwrap();
    assert!(v["data"]["completedAt"].is_null(), "reopening clears completedAt");
    let (_, v) = rep.get("/api/tasks?status=open").await;
    assert_eq!(v["pagination"]["total"], 2);
}
both!(tasks_toggle_and_overdue);

async fn deals_follow_their_stage(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let (_, co) = rep.post("/api/companies", json!({"name": "Dealco"})).await;
    let co = co["data"]["id"].as_str().unwrap().to_string();
    let (_, other_co) = rep.post("/api/companies", json!({"name": "Otherco"})).await;
    let other_co = other_co["data"]["id"].as_str().unwrap().to_string();
    let c = rep.contact("Deal", "Maker", json!({"companyId": co})).await;
    let (st, v) = rep
        .post(
            "/api/deals",
            json!({"name": "Pilot", "value": 1234.5, "expectedCloseDate": "2030-06-30", "contactId": c}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let d = &v["data"];
    assert_eq!(
        (d["stage"].as_str(), d["status"].as_str(), d["probability"].as_i64()),
        (Some("lead"), Some("open"), Some(10))
    );
    assert_eq!(d["value"], 1234.5);
    assert_eq!(d["companyId"], co.as_str(), "the contact's company by default");
    assert_eq!(d["stageHistory"].as_array().unwrap().len(), 1);
    let id = d["id"].as_str().unwrap().to_string();

    for (body, field, msg) in [
        (
            json!({"name": "x", "value": -1, "expectedCloseDate": "2030-01-01", "contactId": c}),
            "value",
            "Deal value must be a positive number",
        ),
        (
            json!({"name": "x", "value": "100", "expectedCloseDate": "2030-01-01", "contactId": c}),
            "value",
            "Deal value must be a number",
        ),
        (
            json!({"name": "x", "value": 1, "expectedCloseDate": "2030-01-01", "contactId": c, "probability": 101}),
            "probability",
            "Probability must be between 0 and 100",
        ),
        (
            json!({"name": "x", "value": 1, "expectedCloseDate": "2030-01-01", "contactId": c, "probability": 1.5}),
            "probability",
            "Probability must be a whole number between 0 and 100",
        ),
        (
            json!({"name": "x", "value": 1, "expectedCloseDate": "2030-01-01", "contactId": c, "stage": "won"}),
            "stage",
            "Stage must be one of: lead, qualified, proposal, negotiation, closed_won, closed_lost",
        ),
        (
            json!({"name": "x", "value": 1, "expectedCloseDate": "2030-01-01", "contactId": c, "companyId": other_co}),
            "companyId",
            "Company must match the contact's company",
        ),
        (
            json!({"name": "x", "value": 1, "contactId": c}),
            "expectedCloseDate",
            "Expected close date is required",
        ),
    ] {
        let (st, v) = rep.post("/api/deals", body).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
        assert_eq!(v["fieldErrors"][field], msg, "{v}");
    }

    let patch = |body: serde_json::Value| {
        rep.http
            .patch(format!("{}/api/deals/{id}", rep.base))
            .header("X-CSRF-Token", rep.csrf.clone().unwrap())
            .json(&body)
            .send()
    };
    let v: serde_json::Value = patch(json!({"stage": "closed_won"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"]["status"], "won");
    let closed_at = v["data"]["actualCloseDate"].as_str().unwrap().to_string();
    let (_, v) = rep
        .put(&format!("/api/deals/{id}"), json!({"description": "signed"}))
        .await;
    assert_eq!(
        v["data"]["actualCloseDate"],
        closed_at.as_str(),
        "saving a closed deal keeps its close date"
    );
    let v: serde_json::Value = patch(json!({"stage": "proposal"})).await.unwrap().json().await.unwrap();
    assert_eq!(v["data"]["status"], "open");
    assert!(
        v["data"]["actualCloseDate"].is_null(),
        "leaving a closed stage clears the close date"
    );
    let res = patch(json!({"stage": "nowhere"})).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = patch(json!({"stage": "lead", "status": "won"})).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "status must follow stage");
    let v: serde_json::Value = patch(json!({"status": "lost"})).await.unwrap().json().await.unwrap();
    assert_eq!(v["data"]["stage"], "closed_lost");
    let stages: Vec<&str> = v["data"]["stageHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["toStage"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        ["lead", "closed_won", "proposal", "closed_lost"],
        "every move is in the history"
    );

    // board and filters
    rep.post(
        "/api/deals",
        json!({"name": "Big", "value": 5000, "expectedCloseDate": "2030-01-01", "contactId": c, "stage": "proposal"}),
    )
    .await;
    let (_, v) = rep.get("/api/deals/board").await;
    let cols = v["data"].as_array().unwrap();
    assert_eq!(cols.len(), 6);
    let proposal = cols.iter().find(|c| c["stage"] == "proposal").unwrap();
    assert_eq!(
        (proposal["count"].as_u64(), proposal["value"].as_f64()),
        (Some(1), Some(5000.0))
    );
    let (_, v) = rep.get("/api/deals?minValue=2000&maxValue=6000").await;
    assert_eq!(v["pagination"]["total"], 1);
    let (_, v) = rep.get("/api/deals?status=lost").await;
    assert_eq!(v["pagination"]["total"], 1);
}
both!(deals_follow_their_stage);

async fn concurrent_moves_and_scoping(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let manager = app.user(Role::Manager).await;
    let c = rep.contact("Move", "Me", json!({})).await;
    let (_, v) = rep
        .post(
            "/api/deals",
            json!({"name": "Race", "value": 10, "expectedCloseDate": "2030-01-01", "contactId": c}),
        )
        .await;
    let id = v["data"]["id"].as_str().unwrap().to_string();
    let mv = |stage: &'static str| {
        rep.http
            .patch(format!("{}/api/deals/{id}", rep.base))
            .header("X-CSRF-Token", rep.csrf.clone().unwrap())
            .json(&json!({"stage": stage}))
            .send()
    };
    let (a, b) = tokio::join!(mv("qualified"), mv("proposal"));
    assert_eq!(
        (a.unwrap().status(), b.unwrap().status()),
        (StatusCode::OK, StatusCode::OK)
    );
    let (_, v) = rep.get(&format!("/api/deals/{id}")).await;
    let history = v["data"]["stageHistory"].as_array().unwrap();
    assert_eq!(history.len(), 3, "both moves are recorded: {history:?}");
    assert_eq!(v["data"]["stage"], history[2]["toStage"], "the last write wins cleanly");
    assert_eq!(
        history[2]["fromStage"], history[1]["toStage"],
        "the moves ran one after the other"
    );

    let res = manager
        .http
        .patch(format!("{}/api/deals/{id}", manager.base))
        .header("X-CSRF-Token", manager.csrf.clone().unwrap())
        .json(&json!({"stage": "lead"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "managers read others' deals but do not move them"
    );
    let other = app.user(Role::Rep).await;
    let (st, _) = other.get(&format!("/api/deals/{id}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, v) = other.get("/api/deals/board").await;
    assert!(
        v["data"].as_array().unwrap().iter().all(|c| c["count"] == 0),
        "the board is scoped too"
    );

    // deleting the contact removes its deals, tasks and activities
    rep.post(
        "/api/tasks",
        json!({"title": "t", "dueDate": "2030-01-01", "contactId": c}),
    )
    .await;
    rep.post("/api/activities", json!({"subject": "s", "contactId": c}))
        .await;
    let (st, _) = rep.delete(&format!("/api/contacts/{c}")).await;
    assert_eq!(st, StatusCode::OK);
    for path in ["/api/deals", "/api/tasks", "/api/activities"] {
        let (_, v) = rep.get(path).await;
        assert_eq!(v["pagination"]["total"], 0, "{path}");
    }
}
both!(concurrent_moves_and_scoping);

async fn company_tabs_list_the_work_on_its_contacts(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    let (_, co) = rep.post("/api/companies", json!({"name": "Tabco"})).await;
    let co = co["data"]["id"].as_str().unwrap().to_string();
    let c = rep.contact("Tab", "Person", json!({"companyId": co})).await;
    let oc = other.contact("Hidden", "Person", json!({"companyId": co})).await;
    rep.post(
        "/api/tasks",
        json!({"title": "Visible task", "dueDate": "2030-01-01", "contactId": c}),
    )
    .await;
    other
        .post(
            "/api/tasks",
            json!({"title": "Hidden task", "dueDate": "2030-01-01", "contactId": oc}),
        )
        .await;
    rep.post(
        "/api/activities",
        json!({"subject": "Visible call", "type": "call", "contactId": c}),
    )
    .await;
    let (_, v) = rep.get(&format!("/api/tasks?companyId={co}")).await;
    assert_eq!(v["pagination"]["total"], 1, "scoped: {v}");
    let (_, v) = rep.get(&format!("/api/activities?companyId={co}")).await;
    assert_eq!(v["pagination"]["total"], 1);
    let (_, html) = rep.page(&format!("/companies/{co}?tab=tasks")).await;
    assert!(html.contains("Visible task") && !html.contains("Hidden task"));
    let (_, html) = rep.page(&format!("/companies/{co}?tab=activities")).await;
    assert!(html.contains("Visible call"));
}
both!(company_tabs_list_the_work_on_its_contacts);

/// The deal form's empty company option is "The contact's company": posted as a browser
/// posts it (`companyId=`), the deal gets the contact's company, as through the API.
async fn deal_form_takes_the_contacts_company(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let (_, co) = rep.post("/api/companies", json!({"name": "Formco"})).await;
    let co = co["data"]["id"].as_str().unwrap().to_string();
    let c = rep.contact("Form", "Buyer", json!({"companyId": co})).await;
    let (st, _, loc) = rep
        .form(
            "/deals/new",
            &[
                ("name", "From the form"),
                ("value", "1200"),
                ("stage", "lead"),
                ("probability", ""),
                ("expectedCloseDate", "2030-01-01"),
                ("description", ""),
                ("contactId", &c),
                ("companyId", ""),
                ("userId", ""),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let id = loc
        .unwrap()
        .trim_start_matches("/deals/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let (_, d) = rep.get(&format!("/api/deals/{id}")).await;
    assert_eq!(d["data"]["companyId"], co.as_str(), "{d}");
    let (_, api) = rep
        .post(
            "/api/deals",
            json!({"name": "From the API", "value": 5, "expectedCloseDate": "2030-01-01", "contactId": c}),
        )
        .await;
    assert_eq!(api["data"]["companyId"], co.as_str());
    // the company's deals tab lists both
    let (_, html) = rep.page(&format!("/companies/{co}?tab=deals")).await;
    assert!(
        html.contains("From the form") && html.contains("From the API"),
        "{html}"
    );
    // editing through the form with the empty option keeps it too
    let (st, _, _) = rep
        .form(
            &format!("/deals/{id}/edit"),
            &[
                ("name", "From the form"),
                ("value", "1300"),
                ("stage", "qualified"),
                ("expectedCloseDate", "2030-01-01"),
                ("contactId", &c),
                ("companyId", ""),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, d) = rep.get(&format!("/api/deals/{id}")).await;
    assert_eq!(d["data"]["companyId"], co.as_str(), "{d}");
}
both!(deal_form_takes_the_contacts_company);

/// Task lists show whose a task is and filter by owner (API and page); a rep's list is
/// theirs whatever they ask for.
async fn tasks_show_and_filter_their_owner(app: &TestApp) {
    let manager = app.user(Role::Manager).await;
    let rep = app.user(Role::Rep).await;
    let c = rep.contact("Own", "Er", json!({})).await;
    rep.post(
        "/api/tasks",
        json!({"title": "Rep's follow-up", "dueDate": "2030-01-01", "contactId": c}),
    )
    .await;
    let mc = manager.contact("Mana", "Ger", json!({})).await;
    manager
        .post(
            "/api/tasks",
            json!({"title": "Manager's review", "dueDate": "2030-01-01", "contactId": mc}),
        )
        .await;
    let (_, v) = manager.get(&format!("/api/tasks?userId={}", rep.id())).await;
    assert_eq!(v["pagination"]["total"], 1);
    assert_eq!(v["data"][0]["title"], "Rep's follow-up");
    assert_eq!(v["data"][0]["owner"], "Test rep");
    let (_, html) = manager.page("/tasks").await;
    assert!(
        html.contains("Everyone&#x27;s tasks") || html.contains("Everyone's tasks"),
        "{html}"
    );
    assert!(
        html.contains("My tasks") && html.contains("task-owner\">Test rep"),
        "{html}"
    );
    let (_, html) = manager.page(&format!("/tasks?userId={}", rep.id())).await;
    assert!(
        html.contains("follow-up") && !html.contains("Manager&#x27;s review") && !html.contains("Manager's review")
    );
    // a rep filtering by someone else gets nothing of theirs, and no owner picker
    let (_, v) = rep.get(&format!("/api/tasks?userId={}", manager.id())).await;
    assert_eq!(v["pagination"]["total"], 0);
    let (_, html) = rep.page("/tasks").await;
    assert!(!html.contains("Everyone") && !html.contains("task-owner"), "{html}");
    let (st, _) = rep.get("/api/tasks?userId=nope").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}
both!(tasks_show_and_filter_their_owner);

/// A task may have no contact: a personal to-do, from the API and from the page's form
/// (whose empty option means the same), visible to its owner only, kept when contacts go.
async fn personal_tasks_have_no_contact(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    let (st, v) = rep
        .post(
            "/api/tasks",
            json!({"title": "Renew my licence", "dueDate": "2030-01-01"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert!(
        v["data"]["contactId"].is_null() && v["data"]["contact"].is_null(),
        "{v}"
    );
    assert_eq!(v["data"]["userId"], rep.id().to_string());
    let api_task = v["data"]["id"].as_str().unwrap().to_string();
    // the form, as the page renders it: the contact select left on its empty option
    let (st, _, loc) = rep
        .form(
            "/tasks/new",
            &[
                ("title", "Book travel"),
                ("dueDate", "2030-02-01"),
                ("priority", "low"),
                ("contactId", ""),
                ("userId", ""),
            ],
        )
        .await;
    assert_eq!(
        (st, loc.as_deref()),
        (StatusCode::SEE_OTHER, Some("/tasks?done=task-added"))
    );
    let (_, v) = rep.get("/api/tasks?search=book").await;
    assert!(v["data"][0]["contactId"].is_null(), "{v}");
    let (_, html) = rep.page("/tasks").await;
    assert!(
        html.contains("Renew my licence") && html.contains("Book travel"),
        "{html}"
    );
    let (_, html) = rep.page(&format!("/tasks/{api_task}/edit")).await;
    assert!(html.contains("None (a personal to-do)"), "{html}");
    // someone else's personal to-do is theirs alone
    let (st, _) = other.get(&format!("/api/tasks/{api_task}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, v) = other.get("/api/tasks").await;
    assert_eq!(v["pagination"]["total"], 0);
    // attached later, detached again with null
    let c = rep.contact("Later", "Attached", json!({})).await;
    let (_, v) = rep
        .put(&format!("/api/tasks/{api_task}"), json!({"contactId": c}))
        .await;
    assert_eq!(v["data"]["contactId"], c.as_str());
    let (_, v) = rep
        .put(&format!("/api/tasks/{api_task}"), json!({"contactId": null}))
        .await;
    assert!(v["data"]["contactId"].is_null(), "{v}");
    // deleting a contact leaves personal to-dos alone; the export has an empty contact
    let (st, _) = rep.delete(&format!("/api/contacts/{c}")).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = rep.get(&format!("/api/tasks/{api_task}")).await;
    assert_eq!(st, StatusCode::OK);
    let (_, csv) = rep.page("/api/tasks/export").await;
    assert!(csv.contains(&format!("{api_task},Renew my licence,,")), "{csv}");
}
both!(personal_tasks_have_no_contact);

/// Undo of a delete: a deal (with its stage history and the activities about it), a task
/// and an activity come back as they were for the one who deleted them, within the hour;
/// not for anyone else, not twice, not after the hour, not without their contact.
async fn deletes_can_be_undone_by_their_deleter(app: &TestApp) {
    use crm_core::unscoped::deleted_record;
    use sea_orm::{EntityTrait, sea_query::Expr};
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    let admin = app.user(Role::Admin).await;
    let c = rep.contact("Undo", "Person", json!({})).await;
    let (_, v) = rep
        .post(
            "/api/deals",
            json!({"name": "Comeback", "value": 999.5, "expectedCloseDate": "2030-06-30", "contactId": c}),
        )
        .await;
    let deal = v["data"]["id"].as_str().unwrap().to_string();
    let (st, _) = rep
        .patch(&format!("/api/deals/{deal}"), json!({"stage": "proposal"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, before) = rep.get(&format!("/api/deals/{deal}")).await;
    let (_, v) = rep
        .post(
            "/api/activities",
            json!({"type": "call", "subject": "About it", "contactId": c, "dealId": deal}),
        )
        .await;
    let activity = v["data"]["id"].as_str().unwrap().to_string();
    let (_, v) = rep
        .post(
            "/api/tasks",
            json!({"title": "Back again", "dueDate": "2030-01-02", "priority": "high", "contactId": c}),
        )
        .await;
    let task = v["data"]["id"].as_str().unwrap().to_string();
    let (_, task_before) = rep.get(&format!("/api/tasks/{task}")).await;

    // the deal: its stage history and the link of the activity about it come back too
    assert_eq!(rep.delete(&format!("/api/deals/{deal}")).await.0, StatusCode::OK);
    assert_eq!(rep.get(&format!("/api/deals/{deal}")).await.0, StatusCode::NOT_FOUND);
    let (_, a) = rep.get(&format!("/api/activities/{activity}")).await;
    assert!(a["data"]["dealId"].is_null(), "the activity lost its deal: {a}");
    let (st, v) = other.post(&format!("/api/deals/{deal}/restore"), json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "not someone else's delete: {v}");
    let (st, v) = admin.post(&format!("/api/deals/{deal}/restore"), json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "only the deleter undoes: {v}");
    let (st, v) = rep.post(&format!("/api/deals/{deal}/restore"), json!({})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"], before["data"], "the deal as it was, history included");
    let (_, a) = rep.get(&format!("/api/activities/{activity}")).await;
    assert_eq!(a["data"]["dealId"], deal.as_str(), "the activity is about it again");
    let (st, _) = rep.post(&format!("/api/deals/{deal}/restore"), json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "not twice");

    // the activity and the task
    assert_eq!(
        rep.delete(&format!("/api/activities/{activity}")).await.0,
        StatusCode::OK
    );
    let (st, v) = rep
        .post(&format!("/api/activities/{activity}/restore"), json!({}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"]["subject"], "About it");
    assert_eq!(rep.delete(&format!("/api/tasks/{task}")).await.0, StatusCode::OK);
    let (st, v) = rep.post(&format!("/api/tasks/{task}/restore"), json!({})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"], task_before["data"], "the task as it was");
    // the audit log tells both
    let (_, log) = admin.get("/api/admin/audit?entityType=task&limit=100").await;
    let actions: Vec<&str> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["entityId"] == task.as_str())
        .filter_map(|e| e["action"].as_str())
        .collect();
    // created, deleted, restored (two entries may share a millisecond: compare as a set)
    let mut sorted = actions.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["create", "create", "delete"], "{actions:?}");

    // without JavaScript: the delete form's answer leads to the list, whose notice offers
    // Undo as a form; posting it brings the task back
    let (st, _, to) = rep.form(&format!("/tasks/{task}/delete"), &[("confirm", "yes")]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let to = to.expect("a redirect");
    assert_eq!(to, format!("/tasks?done=deleted&undo={task}"));
    let (_, html) = rep.page(&to).await;
    assert!(
        html.contains(&format!("action=\"/tasks/{task}/restore\"")) && html.contains(">Undo</button>"),
        "{html}"
    );
    // the same Undo form posted by another user (the page they get with the id) is refused
    let (_, html) = other.page(&to).await;
    assert!(html.contains(&format!("action=\"/tasks/{task}/restore\"")), "{html}");
    let (st, _, _) = other.form(&format!("/tasks/{task}/restore"), &[]).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "another user cannot undo the delete");
    assert_eq!(rep.get(&format!("/api/tasks/{task}")).await.0, StatusCode::NOT_FOUND);
    let (st, _, to) = rep.form(&format!("/tasks/{task}/restore"), &[]).await;
    assert_eq!(
        (st, to.as_deref()),
        (StatusCode::SEE_OTHER, Some("/tasks?done=restored"))
    );
    assert_eq!(rep.get(&format!("/api/tasks/{task}")).await.0, StatusCode::OK);
    let (_, html) = rep.page("/tasks?done=restored").await;
    assert!(html.contains("Restored."));
    // a deal comes back to its own page
    assert_eq!(
        rep.form(&format!("/deals/{deal}/delete"), &[("confirm", "yes")])
            .await
            .0,
        StatusCode::SEE_OTHER
    );
    let (_, _, to) = rep.form(&format!("/deals/{deal}/restore"), &[]).await;
    assert_eq!(to, Some(format!("/deals/{deal}?done=restored")));

    // after the hour: gone for good
    assert_eq!(rep.delete(&format!("/api/tasks/{task}")).await.0, StatusCode::OK);
    deleted_record::Entity::update_many()
        .col_expr(
            deleted_record::Column::DeletedAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(61)),
        )
        .exec(app.db.unscoped())
        .await
        .unwrap();
    let (st, v) = rep.post(&format!("/api/tasks/{task}/restore"), json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert!(v["error"].as_str().unwrap().contains("an hour"), "{v}");

    // a record whose contact was deleted meanwhile cannot come back: a clear 409
    assert_eq!(
        rep.delete(&format!("/api/activities/{activity}")).await.0,
        StatusCode::OK
    );
    assert_eq!(rep.delete(&format!("/api/contacts/{c}")).await.0, StatusCode::OK);
    let (st, v) = rep
        .post(&format!("/api/activities/{activity}/restore"), json!({}))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v["error"].as_str().unwrap().contains("contact was deleted"), "{v}");
}
both!(deletes_can_be_undone_by_their_deleter);
