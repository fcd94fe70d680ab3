//! Contacts API: CRUD, validation, uniqueness, partial updates, search/filter/sort/paging,
//! scoping by role, bulk delete and cascades.

use crm_core::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::TestApp;

async fn crud_round_trip(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let (st, v) = rep
        .post("/api/contacts", json!({"firstName": " Ada ", "lastName": "Lovelace", "email": "Ada@Example.COM", "phoneNumber": "+1 (555) 123-4567", "jobTitle": "Analyst"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let c = &v["data"];
    assert_eq!(c["firstName"], "Ada");
    assert_eq!(c["email"], "ada@example.com");
    assert_eq!(c["status"], "lead");
    assert_eq!(c["userId"], rep.id().to_string());
    assert!(c["createdAt"].as_str().unwrap().ends_with('Z'));
    let id = c["id"].as_str().unwrap().to_string();

    let (st, v) = rep.get(&format!("/api/contacts/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["data"]["user"]["email"], rep.email.as_str());
    let text = v.to_string();
    assert!(
        !text.contains("password") && !text.contains("argon2") && !text.contains("twoFactor"),
        "leaks: {text}"
    );

    let (st, v) = rep
        .put(&format!("/api/contacts/{id}"), json!({"status": "customer"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["status"], "customer");
    assert_eq!(v["data"]["jobTitle"], "Analyst", "omitted fields keep their value");
    let (_, v) = rep.put(&format!("/api/contacts/{id}"), json!({"jobTitle": null})).await;
    assert_eq!(v["data"]["jobTitle"], serde_json::Value::Null, "null clears");

    let (st, _) = rep.delete(&format!("/api/contacts/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = rep.get(&format!("/api/contacts/{id}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(v["error"], "Contact not found");
}
both!(crud_round_trip);

async fn validation_rejects_and_writes_nothing(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let (st, v) = rep
        .post("/api/contacts", json!({"lastName": "X", "email": "x@example.com"}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "First name is required");
    assert_eq!(v["fieldErrors"]["firstName"], "First name is required");

    let long = "a".repeat(51);
    let (st, v) = rep
        .post(
            "/api/contacts",
            json!({"firstName": long, "lastName": "X", "email": "nope", "status": "vip", "companyId": "not-a-uuid"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["fieldErrors"]["firstName"],
        "First name must be less than 50 characters"
    );
    assert_eq!(v["fieldErrors"]["email"], "Invalid email format");
    assert_eq!(v["fieldErrors"]["status"], "Status must be one of: lead, customer");
    assert_eq!(v["fieldErrors"]["companyId"], "Invalid company ID");

    let (st, v) = rep
        .post(
            "/api/contacts",
            json!({"firstName": 5, "lastName": "X", "email": "x@example.com", "phoneNumber": "123"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["fieldErrors"]["firstName"], "First name must be text");
    assert_eq!(
        v["fieldErrors"]["phoneNumber"],
        "Phone number must be at least 10 characters"
    );

    let (st, v) = rep.post_raw("/api/contacts", "{\"firstName\": ").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v["error"].as_str().unwrap().starts_with("Malformed JSON"), "{v}");
    let (st, _) = rep.post_raw("/api/contacts", "[1,2]").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    let (st, v) = rep.post("/api/contacts", json!({"firstName": "A", "lastName": "B", "email": "a@b.co", "companyId": "00000000-0000-7000-8000-000000000000"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["fieldErrors"]["companyId"], "Company not found");

    let (st, v) = rep.get("/api/contacts/not-a-uuid").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "Invalid contact ID");

    let (_, v) = rep.get("/api/contacts").await;
    assert_eq!(v["pagination"]["total"], 0, "nothing was written");
}
both!(validation_rejects_and_writes_nothing);

async fn email_and_phone_are_unique_across_variants(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    let (st, _) = rep
        .post(
            "/api/contacts",
            json!({"firstName": "A", "lastName": "B", "email": "dup@example.com", "phoneNumber": "+1 555 000 1111"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, v) = other
        .post(
            "/api/contacts",
            json!({"firstName": "C", "lastName": "D", "email": "  DUP@example.com "}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "Email already exists");
    let (st, v) = other
        .post(
            "/api/contacts",
            json!({"firstName": "C", "lastName": "D", "email": "c@example.com", "phoneNumber": "+1 (555) 000-1111"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "Phone number already exists");
    let id = rep.contact("E", "F", json!({})).await;
    let (st, v) = rep
        .put(&format!("/api/contacts/{id}"), json!({"email": "Dup@Example.com"}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "Email already exists");
}
both!(email_and_phone_are_unique_across_variants);

async fn search_filter_sort_and_paginate_on_the_server(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    for (f, l, s) in [
        ("Zoe", "Alvarez", "lead"),
        ("Adam", "Smith", "customer"),
        ("Mary", "Smithson", "lead"),
        ("Bob", "Jones", "lead"),
    ] {
        admin.contact(f, l, json!({"status": s})).await;
    }
    let (_, v) = admin.get("/api/contacts?search=SMITH").await;
    assert_eq!(v["pagination"]["total"], 2, "trigram search, case-insensitive: {v}");
    let (_, v) = admin.get("/api/contacts?search=mary%20smith").await;
    assert_eq!(v["pagination"]["total"], 1, "full name");
    let (_, v) = admin.get("/api/contacts?search=zo").await;
    assert_eq!(v["pagination"]["total"], 1, "short query falls back to a scan");
    let (_, v) = admin.get("/api/contacts?search=smith&status=lead").await;
    assert_eq!(v["data"][0]["firstName"], "Mary");
    let (_, v) = admin.get("/api/contacts?sort=name&order=asc&limit=2&page=2").await;
    assert_eq!(
        v["pagination"],
        json!({"page": 2, "limit": 2, "total": 4, "totalPages": 2, "totalIsEstimate": false})
    );
    assert_eq!(v["data"][0]["firstName"], "Mary");
    assert_eq!(v["data"][1]["firstName"], "Zoe");
    let (_, v) = admin.get("/api/contacts?search=100%25").await;
    assert_eq!(v["pagination"]["total"], 0, "LIKE wildcards are literal");
    for bad in [
        "limit=0",
        "limit=500",
        "page=0",
        "page=x",
        "status=vip",
        "sort=password",
        "order=up",
        "companyId=x",
    ] {
        let (st, v) = admin.get(&format!("/api/contacts?{bad}")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}: {v}");
    }
}
both!(search_filter_sort_and_paginate_on_the_server);

async fn reps_see_and_change_only_their_own(app: &TestApp) {
    let a = app.user(Role::Rep).await;
    let b = app.user(Role::Rep).await;
    let manager = app.user(Role::Manager).await;
    let admin = app.user(Role::Admin).await;
    let mine = a.contact("Own", "Record", json!({})).await;
    let theirs = b.contact("Other", "Record", json!({})).await;

    let (_, v) = a.get("/api/contacts").await;
    assert_eq!(v["pagination"]["total"], 1);
    assert_eq!(v["data"][0]["id"], mine.as_str());
    for (st, v) in [
        a.get(&format!("/api/contacts/{theirs}")).await,
        a.put(&format!("/api/contacts/{theirs}"), json!({"firstName": "Hacked"}))
            .await,
        a.delete(&format!("/api/contacts/{theirs}")).await,
    ] {
        assert_eq!(st, StatusCode::NOT_FOUND, "no existence oracle: {v}");
        assert_eq!(v["error"], "Contact not found");
    }
    let (_, v) = a.get("/api/contacts?search=other").await;
    assert_eq!(v["pagination"]["total"], 0);

    let (_, v) = manager.get("/api/contacts").await;
    assert_eq!(v["pagination"]["total"], 2, "managers read all");
    let (st, v) = manager
        .put(&format!("/api/contacts/{theirs}"), json!({"firstName": "Changed"}))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, _) = admin
        .put(&format!("/api/contacts/{theirs}"), json!({"firstName": "Changed"}))
        .await;
    assert_eq!(st, StatusCode::OK);

    // mass assignment of the owner
    let (st, v) = a
        .put(&format!("/api/contacts/{mine}"), json!({"userId": b.id().to_string()}))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, v) = a
        .post(
            "/api/contacts",
            json!({"firstName": "X", "lastName": "Y", "email": "xy@example.com", "userId": b.id().to_string()}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, v) = admin
        .put(&format!("/api/contacts/{mine}"), json!({"userId": b.id().to_string()}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, _) = b.get(&format!("/api/contacts/{mine}")).await;
    assert_eq!(st, StatusCode::OK, "reassigned to b");

    // bulk delete only touches what the actor may change
    let (st, v) = a
        .post("/api/contacts/bulk-delete", json!({"ids": [mine, theirs]}))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["data"]["deleted"], 0);
    let (_, v) = b
        .post("/api/contacts/bulk-delete", json!({"ids": [mine, theirs]}))
        .await;
    assert_eq!(v["data"]["deleted"], 2);
}
both!(reps_see_and_change_only_their_own);

async fn anonymous_and_csrf_less_calls_are_refused(app: &TestApp) {
    let anon = app.anonymous();
    for path in ["/api/contacts", "/api/companies"] {
        let (st, v) = anon.get(path).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        assert_eq!(v, json!({"data": null, "error": "Not authenticated"}));
    }
    let mut rep = app.user(Role::Rep).await;
    rep.csrf = None;
    let (st, v) = rep
        .post(
            "/api/contacts",
            json!({"firstName": "A", "lastName": "B", "email": "a@example.com"}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    rep.csrf = Some("wrong".into());
    let (st, _) = rep.post("/api/companies", json!({"name": "Acme"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}
both!(anonymous_and_csrf_less_calls_are_refused);

async fn deleting_a_contact_cascades_to_its_records(app: &TestApp) {
    use crm_core::unscoped::deal;
    use sea_orm::{EntityTrait, PaginatorTrait};
    let rep = app.user(Role::Rep).await;
    let id = rep.contact("Casc", "Ade", json!({})).await;
    app.insert_deal(&id, rep.id(), "Deal", 12345).await;
    assert_eq!(deal::Entity::find().count(app.db.unscoped()).await.unwrap(), 1);
    let (st, _) = rep.delete(&format!("/api/contacts/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        deal::Entity::find().count(app.db.unscoped()).await.unwrap(),
        0,
        "deals go with their contact"
    );
}
both!(deleting_a_contact_cascades_to_its_records);

/// A contact's company can be typed as a new name (the form's "Or a new company" box):
/// created once, then linked by name; never together with a chosen company.
async fn a_contact_can_bring_a_new_company(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let (st, _, loc) = rep
        .form(
            "/contacts/new",
            &[
                ("firstName", "Nora"),
                ("lastName", "Newco"),
                ("email", "nora@newco.example"),
                ("companyId", ""),
                ("companyName", "Newco Ltd"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let id = loc
        .unwrap()
        .trim_start_matches("/contacts/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let (_, v) = rep.get(&format!("/api/contacts/{id}")).await;
    let company = v["data"]["companyId"].as_str().expect("a company").to_string();
    let (_, c) = rep.get(&format!("/api/companies/{company}")).await;
    assert_eq!(c["data"]["name"], "Newco Ltd");
    // the same name (case, spaces aside) links the same company
    let (st, v) = rep
        .post(
            "/api/contacts",
            json!({"firstName": "Ned", "lastName": "Newco", "email": "ned@newco.example", "companyName": "  newco   ltd "}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"]["companyId"], company.as_str());
    let (_, list) = rep.get("/api/companies?search=newco").await;
    assert_eq!(list["pagination"]["total"], 1, "no copy");
    // both a chosen company and a new name: a clear 400, nothing written
    let (st, v) = rep
        .post(
            "/api/contacts",
            json!({"firstName": "Bo", "lastName": "Th", "email": "both@x.example", "companyId": company, "companyName": "Other Co"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["fieldErrors"]["companyName"],
        "Choose an existing company or type a new one, not both"
    );
    let (_, list) = rep.get("/api/companies?search=other%20co").await;
    assert_eq!(list["pagination"]["total"], 0);
    // on edit, too
    let (st, v) = rep
        .put(&format!("/api/contacts/{id}"), json!({"companyName": "Moved Inc"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_ne!(v["data"]["companyId"], company.as_str());
}
both!(a_contact_can_bring_a_new_company);

/// Past 2,000 matches a list stops counting: the total is a floor ("2,000+",
/// `totalIsEstimate`), and the next page is still offered; below it the count is exact.
async fn big_totals_are_capped_not_counted(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    crm_core::seed::bulk(&app.db, 0, 10_050).await.unwrap();
    let (_, v) = admin.get("/api/contacts?search=example.com&limit=50").await;
    let p = &v["pagination"];
    assert_eq!(
        (p["total"].as_u64(), p["totalIsEstimate"].as_bool()),
        (Some(2_000), Some(true)),
        "{p}"
    );
    assert_eq!(v["data"].as_array().unwrap().len(), 50);
    // a common term's page is read in the list's order: the same rows as without the search
    // (every contact matches), for the default order and for names
    let (_, all) = admin.get("/api/contacts?limit=50").await;
    assert_eq!(ids_of(&v), ids_of(&all));
    let (_, by_name) = admin
        .get("/api/contacts?search=example.com&sort=name&page=3&limit=20")
        .await;
    let (_, all) = admin.get("/api/contacts?sort=name&page=3&limit=20").await;
    assert_eq!(ids_of(&by_name), ids_of(&all));
    let (_, html) = admin.page("/contacts?search=example.com").await;
    assert!(html.contains("1–50 of 2,000+"), "the page says there are more");
    // deep pages (found in the index first) continue the shallow ones: every contact once,
    // newest first
    let mut seen: Vec<(String, String)> = vec![];
    for page in 1..=51 {
        let (_, v) = admin.get(&format!("/api/contacts?limit=200&page={page}")).await;
        for c in v["data"].as_array().unwrap() {
            seen.push((
                c["createdAt"].as_str().unwrap().into(),
                c["id"].as_str().unwrap().into(),
            ));
        }
    }
    assert_eq!(seen.len(), 10_050);
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "newest first, ties by id, no repeats"
    );
    let (_, v) = admin.get("/api/contacts?search=example.com&page=200&limit=50").await;
    assert!(
        v["pagination"]["totalPages"].as_u64().unwrap() > 200,
        "page 200 has a next page: {}",
        v["pagination"]
    );
    // without a search the tallies give the exact total
    let (_, v) = admin.get("/api/contacts?status=lead").await;
    assert_eq!(v["pagination"]["totalIsEstimate"], false);
    assert_eq!(v["pagination"]["total"], 6_700);
    // few matches: exact
    let (_, v) = admin.get("/api/contacts?search=nobody-by-this-name").await;
    assert_eq!(
        (
            v["pagination"]["total"].as_u64(),
            v["pagination"]["totalIsEstimate"].as_bool()
        ),
        (Some(0), Some(false))
    );
    let (_, v) = admin.get("/api/search?q=example.com").await;
    assert_eq!(
        v["data"]["contacts"]["totalIsEstimate"], true,
        "{}",
        v["data"]["contacts"]
    );
}
both!(big_totals_are_capped_not_counted);

/// Every optional text field of the contact's field table goes the whole way: the API
/// (set, read, cleared, too long), the list's sort, CSV export, the CSV import's column
/// guess, the form and the record page — so a field added to the table is tested here
/// without a new test.
async fn extra_fields_flow_everywhere(app: &TestApp) {
    use crm_core::contacts::fields::EXTRAS;
    let rep = app.user(Role::Rep).await;
    assert!(!EXTRAS.is_empty());
    for (n, e) in EXTRAS.iter().enumerate() {
        let value = format!("Value {n} of {}", e.key);
        let id = rep
            .contact("Extra", &format!("Field{n}"), json!({ e.key: value }))
            .await;
        let (_, v) = rep.get(&format!("/api/contacts/{id}")).await;
        assert_eq!(v["data"][e.key], value.as_str(), "{}: the API view", e.key);

        let long = "x".repeat(e.max + 1);
        let (st, v) = rep.put(&format!("/api/contacts/{id}"), json!({ e.key: long })).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{}: at most {} characters", e.key, e.max);
        assert!(
            v["fieldErrors"][e.key].as_str().unwrap_or("").starts_with(e.label),
            "{v}"
        );

        let (st, v) = rep.get(&format!("/api/contacts?sort={}&order=desc", e.key)).await;
        assert_eq!(st, StatusCode::OK, "{}: a sort: {v}", e.key);

        let (_, _, csv) = crate::support::raw(rep.http.get(format!("{}/api/contacts/export", rep.base))).await;
        let mut lines = csv.trim_start_matches('\u{feff}').lines();
        let head: Vec<&str> = lines.next().unwrap().split(',').collect();
        let col = head.iter().position(|h| *h == e.key).expect("an export column");
        assert!(
            lines.any(|l| l.split(',').nth(col) == Some(value.as_str())),
            "{}: the exported value",
            e.key
        );

        let (_, page) = rep.page(&format!("/contacts/{id}/edit")).await;
        assert!(page.contains(&format!("name=\"{}\"", e.key)), "{}: on the form", e.key);
        assert!(page.contains(&value), "{}: the form holds the value", e.key);
        let (_, page) = rep.page(&format!("/contacts/{id}")).await;
        assert!(page.contains(&e.title()), "{}: on the record page", e.key);

        let (_, v) = rep.put(&format!("/api/contacts/{id}"), json!({ e.key: null })).await;
        assert_eq!(v["data"][e.key], serde_json::Value::Null, "{}: null clears", e.key);

        // a CSV whose header is one the table lists is mapped to the field
        let header = e.import_headers[0];
        let file = format!("First Name,Last Name,Email,{header}\nImp,Orted{n},imported{n}@example.com,{value}\n");
        let v = crate::import::import(&rep, "contacts", file.as_bytes(), &[]).await;
        assert_eq!(v["status"], "done", "{v}");
        let got = crate::import::find(&rep, &format!("imported{n}@example.com")).await;
        assert_eq!(
            got[e.key],
            value.as_str(),
            "{}: imported from a {header:?} column",
            e.key
        );
    }
}
both!(extra_fields_flow_everywhere);

/// Paging by cursor walks every sort of the list in the same order as one big page: no row
/// twice, none skipped — with ties in the sort key and empty values in nullable ones.
async fn cursor_pages_walk_every_sort(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    for i in 0..23 {
        let phone = if i % 3 == 0 {
            json!(null)
        } else {
            json!(format!("+1 555 010 {:04}", 40 - i))
        };
        let job = if i % 4 == 0 {
            json!(null)
        } else {
            json!(format!("Job {}", i % 5))
        };
        let status = if i % 2 == 0 { "lead" } else { "customer" };
        rep.contact(
            ["Ada", "Alan", "Grace"][i % 3],
            &format!("Cursor{}", i % 4),
            json!({"phoneNumber": phone, "jobTitle": job, "status": status}),
        )
        .await;
    }
    for sort in ["createdAt", "name", "email", "phoneNumber", "status", "jobTitle"] {
        for order in ["asc", "desc"] {
            let list = format!("/api/contacts?sort={sort}&order={order}&");
            let (_, v) = rep.get(&format!("{list}limit=200")).await;
            let expected = ids_of(&v);
            assert_eq!(expected.len(), 23);
            let seen = walk(&rep, &list, 5, 30).await;
            assert_eq!(seen, expected, "{sort} {order}: cursor pages = one page");
        }
    }
    let (st, v) = rep.get("/api/contacts?cursor=garbage").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        v["fieldErrors"]["cursor"].as_str().unwrap().contains("nextCursor"),
        "{v}"
    );
}
both!(cursor_pages_walk_every_sort);

/// The same for the other lists: deals (every sort), tasks, activities, companies.
async fn cursor_pages_walk_the_other_lists(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let c = admin.contact("Walk", "Er", json!({})).await;
    for i in 0..11 {
        let stage = ["lead", "closed_won", "proposal"][i % 3];
        admin
            .post(
                "/api/deals",
                json!({"name": format!("Deal {}", i % 4), "value": (i % 3) * 100, "expectedCloseDate": format!("2030-01-{:02}", 1 + i % 2), "contactId": c, "stage": stage}),
            )
            .await;
        let (st, v) = admin
            .post(
                "/api/tasks",
                json!({"title": format!("Task {i}"), "dueDate": format!("2030-02-{:02}", 1 + i % 2), "contactId": c}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        if i % 3 == 0 {
            let id = v["data"]["id"].as_str().unwrap();
            admin
                .patch(&format!("/api/tasks/{id}"), json!({"completed": true}))
                .await;
        }
        admin
            .post(
                "/api/activities",
                json!({"subject": format!("Call {i}"), "contactId": c, "type": "call"}),
            )
            .await;
        let industry = if i % 2 == 0 { json!(null) } else { json!("retail") };
        admin
            .post(
                "/api/companies",
                json!({"name": format!("Walkers {i}"), "industry": industry}),
            )
            .await;
    }
    let mut lists: Vec<String> = vec!["/api/tasks?".into(), "/api/activities?".into()];
    for sort in ["name", "value", "stage", "expectedCloseDate", "createdAt"] {
        for order in ["asc", "desc"] {
            lists.push(format!("/api/deals?sort={sort}&order={order}&"));
        }
    }
    for sort in ["name", "industry", "createdAt"] {
        for order in ["asc", "desc"] {
            lists.push(format!("/api/companies?sort={sort}&order={order}&"));
        }
    }
    for list in lists {
        let (_, v) = admin.get(&format!("{list}limit=200")).await;
        let expected = ids_of(&v);
        assert!(expected.len() >= 11, "{list}");
        let seen = walk(&admin, &list, 4, expected.len() + 4).await;
        assert_eq!(seen, expected, "{list}: cursor pages = one page");
    }
}

/// The ids of a list answer, in order.
fn ids_of(v: &serde_json::Value) -> Vec<String> {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// Every id of `list` (a path ending in `?…&` or `?`), read `limit` at a time by following
/// `nextCursor` until there is none; at most `most` ids (the walk must end).
async fn walk(c: &crate::support::Client, list: &str, limit: u64, most: usize) -> Vec<String> {
    let mut seen = vec![];
    let mut url = format!("{list}limit={limit}");
    loop {
        let (st, v) = c.get(&url).await;
        assert_eq!(st, StatusCode::OK, "{url}: {v}");
        seen.extend(ids_of(&v));
        match v["pagination"]["nextCursor"].as_str() {
            Some(cur) => url = format!("{list}limit={limit}&cursor={cur}"),
            None => break,
        }
        assert!(seen.len() <= most, "{list}: the walk ends");
    }
    seen
}
both!(cursor_pages_walk_the_other_lists);

/// The list page's "Next" follows the cursor: its rows are the ones after the page.
async fn list_page_next_follows_the_cursor(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    for i in 0..55 {
        rep.contact("Page", &format!("Turner{i:02}"), json!({})).await;
    }
    let (_, page1) = rep.page("/contacts?sort=name&order=asc").await;
    let next = page1
        .split("rel=\"next\"")
        .next()
        .and_then(|s| s.rsplit("href=\"").next())
        .and_then(|s| s.split('"').next())
        .expect("a Next link")
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    assert!(next.contains("cursor="), "{next}");
    let (st, page2) = rep.page(&next).await;
    assert_eq!(st, StatusCode::OK);
    let names: Vec<&str> = page2.split("Turner").skip(1).map(|s| &s[..2]).collect();
    assert!(
        page2.contains("Turner50") && page2.contains("Turner54"),
        "rows 51–55: {next} {names:?}"
    );
    assert!(!page2.contains("Turner49"), "not page 1's rows");
    assert!(page2.contains("Page 2 of 2"));
}
both!(list_page_next_follows_the_cursor);

/// `GET /api/contacts/{id}` and the list keep their answers for a moment
/// (`http::answers`): every change shows at once, in the API as a browser reads it, and a
/// kept answer never reaches someone outside the record's scope.
async fn kept_answers_follow_every_change(app: &TestApp) {
    use std::time::{Duration, Instant};
    let admin = app.user(Role::Admin).await;
    let a = app.user(Role::Rep).await;
    let b = app.user(Role::Rep).await;
    let (_, v) = admin.post("/api/companies", json!({"name": "Kept Answers Ltd"})).await;
    let company = v["data"]["id"].as_str().unwrap().to_string();
    let id = admin
        .contact(
            "Keptanswer",
            "One",
            json!({"userId": a.id().to_string(), "companyId": company}),
        )
        .await;
    let one = format!("/api/contacts/{id}");
    let list = "/api/contacts?search=keptanswer&limit=50";
    // as a browser asks (gzip), signed in and not: the second read is the kept answer,
    // compressed like the first; without a session there is none
    let gzip = || {
        reqwest::Client::builder()
            .gzip(true)
            .cookie_store(true)
            .build()
            .unwrap()
    };
    let (browser, stranger) = (gzip(), gzip());
    let res = browser
        .post(format!("{}/api/auth/signin", app.base))
        .json(&json!({"email": admin.email, "password": crate::support::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    for _ in 0..2 {
        let (st, v) = admin.get(&one).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["data"]["company"]["name"], "Kept Answers Ltd");
        let (_, v) = admin.get(list).await;
        assert_eq!(v["pagination"]["total"], 1);
        for path in [one.as_str(), list] {
            let res = browser.get(format!("{}{path}", app.base)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            let v: serde_json::Value = res.json().await.unwrap();
            assert!(v.to_string().contains("Kept Answers Ltd"), "{v}");
        }
        let res = stranger.get(format!("{}{list}", app.base)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "no session, no kept answer");
    }

    // the owner reads it; another rep gets what a missing record gets, list or record
    let (st, _) = a.get(&one).await;
    assert_eq!(st, StatusCode::OK);
    let (_, v) = a.get(list).await;
    assert_eq!(v["pagination"]["total"], 1);
    for _ in 0..2 {
        let (st, v) = b.get(&one).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
        assert_eq!(v["error"], "Contact not found");
        let (_, v) = b.get(list).await;
        assert_eq!(v["pagination"]["total"], 0, "{v}");
        assert_eq!(v["data"], json!([]));
    }
    let (_, v) = admin
        .get(&format!("/api/admin/audit?action=denied&actorId={}", b.id()))
        .await;
    assert_eq!(
        v["pagination"]["total"], 2,
        "each refusal is audited, kept answer or not: {v}"
    );
    assert_eq!(v["data"][0]["entityId"], id.as_str());

    // the contact, its company and its owner change: each shows at once
    let (st, v) = a.put(&one, json!({"firstName": "Keptanswer-Renamed"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, v) = admin.get(&one).await;
    assert_eq!(v["data"]["firstName"], "Keptanswer-Renamed");
    let (_, v) = admin.get(list).await;
    assert_eq!(v["data"][0]["firstName"], "Keptanswer-Renamed");
    let (st, v) = admin
        .put(
            &format!("/api/companies/{company}"),
            json!({"name": "Renamed Answers Ltd"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, v) = admin.get(&one).await;
    assert_eq!(v["data"]["company"]["name"], "Renamed Answers Ltd");
    let (_, v) = admin.get(list).await;
    assert_eq!(v["data"][0]["company"]["name"], "Renamed Answers Ltd");
    let (_, u) = admin.get(&format!("/api/admin/users/{}", a.id())).await;
    let (st, v) = admin
        .put(
            &format!("/api/admin/users/{}", a.id()),
            json!({"name": "Renamed Owner", "email": u["data"]["email"], "role": "rep"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, v) = admin.get(&one).await;
    assert_eq!(v["data"]["user"]["name"], "Renamed Owner");

    // given to the other rep: now theirs to read, no longer the first's
    let (st, _) = admin.put(&one, json!({"userId": b.id().to_string()})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(b.get(&one).await.0, StatusCode::OK);
    assert_eq!(b.get(list).await.1["pagination"]["total"], 1);
    assert_eq!(a.get(&one).await.0, StatusCode::NOT_FOUND);
    assert_eq!(a.get(list).await.1["pagination"]["total"], 0);

    // a change outside every request (another process on the database): PostgreSQL's
    // notice ends the kept answer at once, SQLite's lifetime within a second
    admin.get(&one).await;
    let sql = "UPDATE contacts SET last_name = 'Elsewhere' WHERE first_name = 'Keptanswer-Renamed'";
    sea_orm::ConnectionTrait::execute_unprepared(app.db.unscoped(), sql)
        .await
        .unwrap();
    let t = Instant::now();
    let bound = if app.db.is_postgres() {
        Duration::from_millis(500)
    } else {
        crm_web::http::answers::ANSWER_TTL + Duration::from_millis(500)
    };
    loop {
        let (_, v) = admin.get(&one).await;
        if v["data"]["lastName"] == "Elsewhere" {
            break;
        }
        assert!(t.elapsed() < bound, "still the old answer after {:?}", t.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // deleted: gone at once
    let (st, _) = admin.delete(&one).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(admin.get(&one).await.0, StatusCode::NOT_FOUND);
    assert_eq!(admin.get(list).await.1["pagination"]["total"], 0);
}
both!(kept_answers_follow_every_change);

/// Two instances on one PostgreSQL database: a change made through one ends the other's
/// kept answers at once (the change notice), not after their lifetime.
#[tokio::test]
#[ignore = "PostgreSQL: run with `cargo test -- --ignored` and TEST_DATABASE_URL set"]
async fn kept_answers_follow_changes_made_on_another_instance() {
    use std::time::{Duration, Instant};
    let one_app = TestApp::postgres().await;
    let other_app = one_app.sibling().await;
    let admin = one_app.user(Role::Admin).await;
    let mut other = other_app.anonymous();
    let (_, v) = other
        .post(
            "/api/auth/signin",
            json!({"email": admin.email, "password": crate::support::PASSWORD}),
        )
        .await;
    assert!(v["data"].is_object(), "{v}");
    let (_, s) = other.get("/api/auth/session").await;
    other.csrf = s["data"]["csrfToken"].as_str().map(str::to_string);
    let id = admin.contact("Twoinstances", "Before", json!({})).await;
    let one = format!("/api/contacts/{id}");
    for round in 0..5 {
        // the other instance keeps its answer …
        for _ in 0..2 {
            let (st, _) = other.get(&one).await;
            assert_eq!(st, StatusCode::OK);
        }
        // … and a change through this one ends it long before its lifetime would
        let name = format!("After{round}");
        let (st, _) = admin.put(&one, json!({"lastName": name})).await;
        assert_eq!(st, StatusCode::OK);
        let t = Instant::now();
        loop {
            let (_, v) = other.get(&one).await;
            if v["data"]["lastName"] == name.as_str() {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_millis(300),
                "the other instance still answers {} after {:?}",
                v["data"]["lastName"],
                t.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    other_app.finish().await;
    one_app.finish().await;
}
