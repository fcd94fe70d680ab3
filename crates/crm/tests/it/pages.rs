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
