//! Server-rendered pages without JavaScript: redirects, forms with inline errors,
//! confirmation pages, CSRF on forms.

use crm_core::Role;
use reqwest::StatusCode;

use crate::both;
use crate::support::TestApp;

async fn pages_need_a_session_and_forms_work_without_js(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let anon = app.anonymous();
    let (st, _) = anon.page("/contacts").await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, html) = anon.page("/auth/signin").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Sign in"));

    let (st, html) = rep.page("/contacts").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("No contacts yet"), "empty state");

    let (st, html, _) = rep
        .form(
            "/contacts/new",
            &[("firstName", "Grace"), ("lastName", ""), ("email", "grace@example")],
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("Last name is required") && html.contains("Invalid email format"),
        "inline errors"
    );
    assert!(html.contains("value=\"Grace\""), "typed values are kept");

    let (st, _, loc) = rep
        .form(
            "/contacts/new",
            &[
                ("firstName", "Grace"),
                ("lastName", "Hopper"),
                ("email", "grace@example.com"),
                ("status", "customer"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let loc = loc.unwrap();
    assert!(loc.starts_with("/contacts/") && loc.ends_with("?done=created"), "{loc}");
    let (_, html) = rep.page(&loc).await;
    assert!(html.contains("Grace Hopper") && html.contains("Saved."));
    let (_, html) = rep.page("/contacts?search=hopper").await;
    assert!(html.contains("grace@example.com") && html.contains("1–1 of 1"));

    let id = loc
        .trim_start_matches("/contacts/")
        .trim_end_matches("?done=created")
        .to_string();
    let (st, html, _) = rep.form(&format!("/contacts/{id}/delete"), &[]).await;
    assert_eq!(st, StatusCode::OK, "without confirm=yes a confirmation page is shown");
    assert!(html.contains("Delete Grace Hopper?"));
    let (st, _, loc) = rep.form(&format!("/contacts/{id}/delete"), &[("confirm", "yes")]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(loc.as_deref(), Some("/contacts?done=deleted"));

    let mut no_csrf = app.user(Role::Rep).await;
    no_csrf.csrf = None;
    let (st, _, _) = no_csrf.form("/companies/new", &[("name", "Sneaky")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    let (st, html, loc) = rep
        .form(
            "/companies/new",
            &[("name", "Initech"), ("industry", "technology"), ("employeeCount", "")],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{html}");
    let (_, html) = rep.page(loc.as_deref().unwrap()).await;
    assert!(html.contains("Initech"));
    let (st, html) = rep.page("/nowhere").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(html.contains("Not found"));
}
both!(pages_need_a_session_and_forms_work_without_js);

/// Text with its HTML character references (named or numeric) decoded.
fn unescape(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16).ok().and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The fields an edit page's form would post as it stands: each input's value and each
/// select's chosen option (the first when none is marked), HTML entities decoded.
fn form_fields(html: &str) -> Vec<(String, String)> {
    let start = html.find("<form class=\"form").expect("an edit form");
    let form = &html[start..start + html[start..].find("</form>").expect("the form's end")];
    let attr = |tag: &str, name: &str| -> Option<String> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        let v = &tag[at..at + tag[at..].find('"')?];
        Some(unescape(v))
    };
    let mut out = Vec::new();
    let mut rest = form;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        if tag.starts_with("<input ") && attr(tag, "type").as_deref() != Some("hidden") {
            if let Some(name) = attr(tag, "name") {
                out.push((name, attr(tag, "value").unwrap_or_default()));
            }
        } else if tag.starts_with("<select ") {
            let close = rest.find("</select>").expect("the select's end");
            let options: Vec<&str> = rest[..close].split("<option").skip(1).collect();
            let chosen = options
                .iter()
                .find(|o| o[..o.find('>').unwrap_or(0)].contains(" selected"))
                .or(options.first());
            let value = chosen
                .and_then(|o| attr(&o[..o.find('>').unwrap_or(o.len())], "value"))
                .unwrap_or_default();
            out.push((attr(tag, "name").expect("a select's name"), value));
            rest = &rest[close..];
            continue;
        }
        rest = &rest[end.min(rest.len())..];
        if rest.len() <= 1 {
            break;
        }
        rest = &rest[1..];
    }
    out
}

/// Every record's edit page shows what the API says, and saving it untouched changes
/// nothing: the form and the API agree on every field (empty options, dates, money, enums).
async fn edit_forms_round_trip_what_the_api_says(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let (st, co) = rep
        .post(
            "/api/companies",
            serde_json::json!({"name": "Round & Co", "industry": "finance", "website": "https://round.example",
                "phone": "+1 555 0100", "address": "1 \"Main\" St", "employeeCount": 42, "revenue": 1234.5}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{co}");
    let co = co["data"]["id"].as_str().unwrap().to_string();
    let c = rep
        .contact(
            "Rita",
            "O'Round",
            serde_json::json!({"status": "customer", "companyId": co, "phoneNumber": "+1 555 0101", "jobTitle": "Buyer"}),
        )
        .await;
    let (st, d) = rep
        .post(
            "/api/deals",
            serde_json::json!({"name": "Round deal", "value": 1300.25, "stage": "qualified", "probability": 40,
                "expectedCloseDate": "2030-01-01", "description": "Net 30", "contactId": c}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    let (st, t) = rep
        .post(
            "/api/tasks",
            serde_json::json!({"title": "Round task", "description": "Call back", "dueDate": "2030-02-03",
                "priority": "high", "contactId": c}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    let (st, a) = rep
        .post(
            "/api/activities",
            serde_json::json!({"type": "meeting", "subject": "Round meeting", "description": "Agenda", "contactId": c}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    let id = |v: &serde_json::Value| v["data"]["id"].as_str().unwrap().to_string();
    for (kind, rid, shown) in [
        (
            "companies",
            co.clone(),
            vec![("name", "Round & Co"), ("employeeCount", "42"), ("revenue", "1234.50")],
        ),
        (
            "contacts",
            c.clone(),
            vec![
                ("lastName", "O'Round"),
                ("status", "customer"),
                ("companyId", co.as_str()),
                ("jobTitle", "Buyer"),
            ],
        ),
        (
            "deals",
            id(&d),
            vec![
                ("value", "1300.25"),
                ("stage", "qualified"),
                ("expectedCloseDate", "2030-01-01"),
                ("companyId", co.as_str()),
            ],
        ),
        (
            "tasks",
            id(&t),
            vec![
                ("dueDate", "2030-02-03"),
                ("priority", "high"),
                ("contactId", c.as_str()),
            ],
        ),
        (
            "activities",
            id(&a),
            vec![
                ("type", "meeting"),
                ("subject", "Round meeting"),
                ("contactId", c.as_str()),
            ],
        ),
    ] {
        let (_, before) = rep.get(&format!("/api/{kind}/{rid}")).await;
        let (st, html) = rep.page(&format!("/{kind}/{rid}/edit")).await;
        assert_eq!(st, StatusCode::OK, "{kind}");
        let fields = form_fields(&html);
        for (k, v) in shown {
            assert!(
                fields.iter().any(|(fk, fv)| fk == k && fv == v),
                "{kind} edit form shows {k} = {v}: {fields:?}"
            );
        }
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (st, body, _) = rep.form(&format!("/{kind}/{rid}/edit"), &pairs).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{kind} saved untouched: {body}");
        let (_, after) = rep.get(&format!("/api/{kind}/{rid}")).await;
        let strip = |v: &serde_json::Value| {
            let mut v = v["data"].clone();
            if let Some(o) = v.as_object_mut() {
                o.remove("updatedAt");
            }
            v
        };
        assert_eq!(
            strip(&after),
            strip(&before),
            "{kind}: saving the form untouched changes nothing"
        );
    }
}
both!(edit_forms_round_trip_what_the_api_says);
