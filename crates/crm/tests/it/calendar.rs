//! Calendar feeds and meeting downloads: the feed read back with the crate's own parser
//! (every field, escaping, all-day dates in the organisation's zone), only the owner's
//! records, reset and revoke, a completed task leaving on the next poll; a meeting's `.ics`.

use chrono::Timelike;
use crm_core::Role;
use crm_core::ical::{self, Prop};
use reqwest::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::{Client, TestApp, raw};

/// Each VEVENT's properties.
fn events(text: &str) -> Vec<Vec<Prop>> {
    let mut out = Vec::new();
    let mut cur: Option<Vec<Prop>> = None;
    for p in ical::parse(text) {
        match (p.name.as_str(), p.value.as_str()) {
            ("BEGIN", "VEVENT") => cur = Some(Vec::new()),
            ("END", "VEVENT") => out.extend(cur.take()),
            _ => {
                if let Some(c) = cur.as_mut() {
                    c.push(p);
                }
            }
        }
    }
    out
}

fn prop<'a>(e: &'a [Prop], name: &str) -> &'a Prop {
    e.iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no {name} in {e:?}"))
}

/// The event with this UID.
fn by_uid<'a>(all: &'a [Vec<Prop>], uid: &str) -> Option<&'a Vec<Prop>> {
    all.iter().find(|e| prop(e, "UID").text() == uid)
}

/// GET without any cookie: (status, content type, body).
async fn fetch(app: &TestApp, url: &str) -> (StatusCode, String, String) {
    let path = &url[url.find("/calendar/").expect("a feed URL")..];
    raw(reqwest::Client::new().get(format!("{}{path}", app.base))).await
}

/// Make the caller's feed; its URL.
async fn make_feed(c: &Client) -> String {
    let (st, v) = c.post("/api/calendar/feed", json!({})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let url = v["data"]["url"].as_str().expect("url").to_string();
    assert!(
        url.starts_with("http://localhost/calendar/") && url.ends_with(".ics"),
        "{url}"
    );
    url
}

/// Every line ends in CRLF and is at most 75 octets.
fn check_lines(body: &str) {
    assert!(body.ends_with("\r\n"));
    assert!(!body.replace("\r\n", "").contains(['\n', '\r']), "bare line breaks");
    for l in body.split("\r\n") {
        assert!(l.len() <= 75, "{} octets: {l:?}", l.len());
    }
}

async fn id_of(c: &Client, path: &str, body: serde_json::Value) -> String {
    let (st, v) = c.post(path, body).await;
    assert_eq!(st, StatusCode::CREATED, "{path}: {v}");
    v["data"]["id"].as_str().expect("id").to_string()
}

async fn calendar_feed_round_trips(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let (st, v) = admin
        .put("/api/admin/settings", json!({"timeZone": "America/New_York"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    let ann = rep.contact("Ann", "Lee", json!({})).await;
    let subject =
        "Call back, re: pricing; path C:\\temp\nsecond line with ünïcode and a long tail to fold over the limit";
    let all_day = id_of(
        &rep,
        "/api/tasks",
        json!({"title": subject, "dueDate": "2030-03-05", "priority": "high", "contactId": ann, "description": "Bring the numbers"}),
    )
    .await;
    let timed = id_of(
        &rep,
        "/api/tasks",
        json!({"title": "Send contract", "dueDate": "2030-03-06T15:30:00Z", "priority": "low"}),
    )
    .await;
    let done_later = id_of(
        &rep,
        "/api/tasks",
        json!({"title": "Finish me", "dueDate": "2030-03-07", "priority": "medium"}),
    )
    .await;
    let at = (chrono::Utc::now() - chrono::Duration::days(2))
        .with_nanosecond(0)
        .expect("whole seconds");
    let meeting = id_of(
        &rep,
        "/api/activities",
        json!({"type": "meeting", "subject": "Kickoff, phase 1; scope \\ plan", "description": "Agenda:\nline two",
               "contactId": ann, "createdAt": at.to_rfc3339()}),
    )
    .await;
    let call = id_of(
        &rep,
        "/api/activities",
        json!({"type": "call", "subject": "Just a call", "contactId": ann}),
    )
    .await;
    let deal = id_of(
        &rep,
        "/api/deals",
        json!({"name": "Big, deal; \\x", "value": 1000, "stage": "qualified", "expectedCloseDate": "2030-04-01", "contactId": ann}),
    )
    .await;
    // another rep's records never show
    let bob = other.contact("Bob", "Other", json!({})).await;
    let their_task = id_of(
        &other,
        "/api/tasks",
        json!({"title": "Their task", "dueDate": "2030-03-05", "contactId": bob}),
    )
    .await;
    let their_meeting = id_of(
        &other,
        "/api/activities",
        json!({"type": "meeting", "subject": "Their meeting", "contactId": bob}),
    )
    .await;
    let their_deal = id_of(
        &other,
        "/api/deals",
        json!({"name": "Their deal", "value": 5, "stage": "lead", "expectedCloseDate": "2030-04-01", "contactId": bob}),
    )
    .await;
    make_feed(&other).await;

    let url = make_feed(&rep).await;
    let (st, ct, body) = fetch(app, &url).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(ct, "text/calendar; charset=utf-8");
    check_lines(&body);
    let cal = ical::parse(&body);
    let head = |n: &str| cal.iter().find(|p| p.name == n).map(|p| p.text());
    assert_eq!(head("BEGIN").as_deref(), Some("VCALENDAR"));
    assert_eq!(head("VERSION").as_deref(), Some("2.0"));
    assert!(head("PRODID").is_some_and(|p| p.contains("CRM")));
    assert!(head("X-WR-CALNAME").is_some_and(|n| n.contains("Test rep")), "{body}");
    let all = events(&body);
    assert_eq!(all.len(), 5, "3 tasks, 1 meeting, 1 deal: {body}");

    let e = by_uid(&all, &format!("task-{all_day}@localhost")).expect("the all-day task");
    assert_eq!(prop(e, "SUMMARY").text(), subject);
    assert!(
        body.contains("Call back\\, re: pricing\\; path C:\\\\temp\\nsecond"),
        "escaped on the wire"
    );
    let start = prop(e, "DTSTART");
    assert_eq!((start.param("VALUE"), start.value.as_str()), (Some("DATE"), "20300305"));
    assert_eq!(prop(e, "DTEND").value, "20300306");
    assert!(
        prop(e, "DESCRIPTION")
            .text()
            .contains("Contact: Ann Lee\nBring the numbers")
    );
    assert!(prop(e, "DTSTAMP").value.ends_with('Z'));

    let e = by_uid(&all, &format!("task-{timed}@localhost")).expect("the timed task");
    assert_eq!(prop(e, "DTSTART").value, "20300306T153000Z");
    assert_eq!(prop(e, "DTSTART").param("VALUE"), None);
    assert_eq!(prop(e, "SUMMARY").text(), "Send contract");

    let e = by_uid(&all, &format!("meeting-{meeting}@localhost")).expect("the meeting");
    assert_eq!(prop(e, "SUMMARY").text(), "Kickoff, phase 1; scope \\ plan (Ann Lee)");
    assert_eq!(prop(e, "DTSTART").value, ical::utc(&at));
    assert_eq!(prop(e, "DTEND").value, ical::utc(&(at + chrono::Duration::hours(1))));
    assert_eq!(prop(e, "DESCRIPTION").text(), "Meeting with Ann Lee\nAgenda:\nline two");
    assert_eq!(prop(e, "URL").value, format!("http://localhost/contacts/{ann}"));
    assert!(
        by_uid(&all, &format!("meeting-{call}@localhost")).is_none(),
        "calls are not meetings"
    );

    let e = by_uid(&all, &format!("deal-{deal}@localhost")).expect("the deal");
    assert_eq!(prop(e, "SUMMARY").text(), "Expected close: Big, deal; \\x");
    assert_eq!(prop(e, "DTSTART").value, "20300401");
    assert_eq!(prop(e, "DTSTART").param("VALUE"), Some("DATE"));

    for id in [
        format!("task-{their_task}@localhost"),
        format!("meeting-{their_meeting}@localhost"),
        format!("deal-{their_deal}@localhost"),
    ] {
        assert!(by_uid(&all, &id).is_none(), "{id} belongs to another rep");
    }
    assert!(!body.contains("Their") && !body.contains("Bob"));

    // a completed task leaves on the next poll; an edit shows
    let (st, v) = rep
        .patch(&format!("/api/tasks/{done_later}"), json!({"completed": true}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = rep
        .put(&format!("/api/tasks/{timed}"), json!({"title": "Send the contract"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, _, body) = fetch(app, &url).await;
    let all = events(&body);
    assert!(by_uid(&all, &format!("task-{done_later}@localhost")).is_none());
    let e = by_uid(&all, &format!("task-{timed}@localhost")).expect("still there");
    assert_eq!(prop(e, "SUMMARY").text(), "Send the contract");
    assert_eq!(all.len(), 4);
}
both!(calendar_feed_round_trips);

async fn calendar_feed_reset_and_revoke(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let (st, _) = app.anonymous().post("/api/calendar/feed", json!({})).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = rep.delete("/api/calendar/feed").await;
    assert_eq!(st, StatusCode::NOT_FOUND, "no feed yet");

    let first = make_feed(&rep).await;
    assert_eq!(fetch(app, &first).await.0, StatusCode::OK);
    let second = make_feed(&rep).await;
    assert_ne!(first, second);
    assert_eq!(
        fetch(app, &first).await.0,
        StatusCode::NOT_FOUND,
        "reset kills the old URL"
    );
    assert_eq!(fetch(app, &second).await.0, StatusCode::OK);
    let guessed = format!("{}x", second.trim_end_matches(".ics"));
    assert_eq!(fetch(app, &format!("{guessed}.ics")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        fetch(app, second.trim_end_matches(".ics")).await.0,
        StatusCode::NOT_FOUND,
        "the .ics suffix is part of the address"
    );

    let (st, v) = rep.delete("/api/calendar/feed").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(fetch(app, &second).await.0, StatusCode::NOT_FOUND, "revoked");

    // the settings page: make (shown once), reset and revoke ask first without JS
    let (st, page, _) = rep.form("/settings/calendar", &[]).await;
    assert_eq!(st, StatusCode::OK);
    let start = page
        .find("http://localhost/calendar/")
        .expect("the new address on the page");
    let url: String = page[start..].chars().take_while(|c| *c != '"').collect();
    assert_eq!(fetch(app, &url).await.0, StatusCode::OK);
    let (_, page) = rep.page("/settings").await;
    assert!(!page.contains(&url), "the address is not shown again");
    assert!(page.contains("Reset address") && page.contains("Turn off feed"));
    let (st, page, _) = rep.form("/settings/calendar/revoke", &[]).await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("Turn off the calendar feed?"), "a confirmation page");
    assert_eq!(fetch(app, &url).await.0, StatusCode::OK, "not yet revoked");
    let (st, _, loc) = rep.form("/settings/calendar/revoke", &[("confirm", "yes")]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(loc.unwrap_or_default().starts_with("/settings?done=calendar-off"));
    assert_eq!(fetch(app, &url).await.0, StatusCode::NOT_FOUND);

    // deactivation ends the feed like sessions and tokens: reactivating does not revive it
    let admin = app.user(Role::Admin).await;
    let url = make_feed(&rep).await;
    let user = format!("/api/admin/users/{}", rep.id());
    let (st, v) = admin.put(&user, json!({"isActive": false})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(fetch(app, &url).await.0, StatusCode::NOT_FOUND);
    let (st, v) = admin.put(&user, json!({"isActive": true})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(fetch(app, &url).await.0, StatusCode::NOT_FOUND);
}
both!(calendar_feed_reset_and_revoke);

async fn meeting_ics_download(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    let ann = rep.contact("Ann", "Lee", json!({})).await;
    let meeting = id_of(
        &rep,
        "/api/activities",
        json!({"type": "meeting", "subject": "Quarterly review, Q3", "contactId": ann}),
    )
    .await;
    let note = id_of(
        &rep,
        "/api/activities",
        json!({"type": "note", "subject": "A note", "contactId": ann}),
    )
    .await;
    let res = rep
        .http
        .get(format!("{}/api/activities/{meeting}/ics", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert_eq!(disposition, "attachment; filename=\"Quarterly-review-Q3.ics\"");
    let ct = res.headers()["content-type"].to_str().unwrap_or("").to_string();
    assert_eq!(ct, "text/calendar; charset=utf-8");
    let body = res.text().await.expect("body");
    check_lines(&body);
    assert!(body.contains("\r\nMETHOD:PUBLISH\r\n"));
    let all = events(&body);
    assert_eq!(all.len(), 1);
    assert_eq!(prop(&all[0], "UID").text(), format!("meeting-{meeting}@localhost"));
    assert_eq!(prop(&all[0], "SUMMARY").text(), "Quarterly review, Q3 (Ann Lee)");

    let (st, v) = other.get(&format!("/api/activities/{meeting}/ics")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    let (st, v) = rep.get(&format!("/api/activities/{note}/ics")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"], "Only a meeting can be added to a calendar");
    let (st, _) = app.anonymous().get(&format!("/api/activities/{meeting}/ics")).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}
both!(meeting_ics_download);
