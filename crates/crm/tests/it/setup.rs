//! First run: every page leads to /setup, the one-time token is required, the first admin
//! is created once, and a second (or concurrent) attempt is refused.

use crm_core::accounts::setup;
use reqwest::StatusCode;

use crate::both;
use crate::support::{PASSWORD, TestApp};

async fn first_run_creates_one_admin_with_the_token(app: &TestApp) {
    let anon = app.anonymous();
    let (st, _) = anon.page("/contacts").await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, html) = anon.page("/setup").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("crm setup-link"),
        "without a token the page asks for it"
    );
    let (st, _) = anon.page("/setup?token=guess").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let fields = |t: &'static str| {
        vec![
            ("token", t),
            ("name", "Ada Admin"),
            ("email", "ada@example.com"),
            ("password", PASSWORD),
            ("confirmPassword", PASSWORD),
        ]
    };
    let (st, _, _) = anon.form("/setup", &fields("guess")).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "a wrong token creates nothing");
    assert!(setup::needed(&app.db).await.unwrap());

    let token: &'static str = Box::leak(setup::new_token(&app.db).await.unwrap().into_boxed_str());
    let (st, html) = anon.page(&format!("/setup?token={token}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Create admin account"));
    let mut weak = fields(token);
    weak[3] = ("password", "short");
    weak[4] = ("confirmPassword", "short");
    let (st, html, _) = anon.form("/setup", &weak).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("Password must be at least 10 characters")
            && html.contains("value=\"ada@example.com\"")
    );

    // two submissions at once: exactly one admin
    let other = app.anonymous();
    let (fa, fb) = (fields(token), fields(token));
    let (a, b) = tokio::join!(anon.form("/setup", &fa), other.form("/setup", &fb));
    let oks = [a.0, b.0]
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    assert_eq!(oks, 1, "one wins: {:?} {:?}", a.0, b.0);
    let winner = if a.0 == StatusCode::SEE_OTHER {
        &anon
    } else {
        &other
    };
    let (st, html) = winner.page("/").await;
    assert_eq!(st, StatusCode::OK, "signed in and on the dashboard");
    assert!(html.contains("Dashboard") && html.contains("Ada Admin"));
    assert_eq!(crm_core::accounts::users::count(&app.db).await.unwrap(), 1);

    let (st, _) = app.anonymous().page(&format!("/setup?token={token}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "setup is gone once done");
    let (st, _, _) = app.anonymous().form("/setup", &fields(token)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(
        setup::new_token(&app.db).await.is_err(),
        "no new link once a user exists"
    );
}
both!(first_run_creates_one_admin_with_the_token);
