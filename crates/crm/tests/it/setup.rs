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
    assert!(html.contains("crm setup-link"), "without a token the page asks for it");
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
    assert!(html.contains("Password must be at least 10 characters") && html.contains("value=\"ada@example.com\""));

    // two submissions at once: exactly one admin
    let other = app.anonymous();
    let (fa, fb) = (fields(token), fields(token));
    let (a, b) = tokio::join!(anon.form("/setup", &fa), other.form("/setup", &fb));
    let won = |r: &(StatusCode, String, Option<String>)| {
        r.0 == StatusCode::SEE_OTHER && !r.2.as_deref().unwrap_or("").contains("setup-done")
    };
    assert_eq!(
        [&a, &b].iter().filter(|r| won(r)).count(),
        1,
        "one wins: {:?} {:?}",
        a.2,
        b.2
    );
    let winner = if won(&a) { &anon } else { &other };
    let (st, html) = winner.page("/").await;
    assert_eq!(st, StatusCode::OK, "signed in and on the dashboard");
    assert!(html.contains("Dashboard") && html.contains("Ada Admin"));
    assert_eq!(crm_core::accounts::users::count(&app.db).await.unwrap(), 1);

    // once done, the link leads to sign-in with a word why (not a bare "Not found")
    let res = app
        .anonymous()
        .http
        .get(format!("{}/setup?token={token}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "setup is gone once done");
    assert_eq!(res.headers()["location"], "/auth/signin?notice=setup-done");
    let (st, _, loc) = app.anonymous().form("/setup", &fields(token)).await;
    assert_eq!(
        (st, loc.as_deref()),
        (StatusCode::SEE_OTHER, Some("/auth/signin?notice=setup-done"))
    );
    assert_eq!(
        crm_core::accounts::users::count(&app.db).await.unwrap(),
        1,
        "nobody else was created"
    );
    assert!(
        setup::new_token(&app.db).await.is_err(),
        "no new link once a user exists"
    );
}
both!(first_run_creates_one_admin_with_the_token);

async fn demo_data_loads_once_and_admins_remove_it_alone(app: &TestApp) {
    use crm_core::Role;
    use crm_core::unscoped::{activity, deal, deal_stage_history, task};
    use sea_orm::{EntityTrait, PaginatorTrait};
    let admin = app.user(Role::Admin).await;
    let rep = app.user(Role::Rep).await;
    let own = admin.contact("Real", "Customer", serde_json::json!({})).await;
    assert!(crm_core::seed::demo(&app.db).await.unwrap());
    assert!(!crm_core::seed::demo(&app.db).await.unwrap(), "idempotent");
    let (_, v) = admin.get("/api/contacts?limit=1").await;
    assert_eq!(v["pagination"]["total"], 121);
    let stages = deal::Entity::find().all(app.db.unscoped()).await.unwrap();
    for s in [
        "lead",
        "qualified",
        "proposal",
        "negotiation",
        "closed_won",
        "closed_lost",
    ] {
        assert!(stages.iter().any(|d| d.stage == s), "a deal in stage {s}");
    }
    assert!(
        deal_stage_history::Entity::find()
            .count(app.db.unscoped())
            .await
            .unwrap()
            > 40
    );
    assert!(task::Entity::find().count(app.db.unscoped()).await.unwrap() > 0);
    assert!(activity::Entity::find().count(app.db.unscoped()).await.unwrap() > 100);

    let (_, html) = admin.page("/").await;
    assert!(html.contains("Remove demo data"));
    let (_, html) = rep.page("/").await;
    assert!(!html.contains("Remove demo data"));
    let (st, _, _) = rep.form("/admin/demo/remove", &[("confirm", "yes")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _, loc) = admin.form("/admin/demo/remove", &[("confirm", "yes")]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(loc.as_deref(), Some("/?done=demo-removed"));
    let (_, v) = admin.get("/api/contacts").await;
    assert_eq!(v["pagination"]["total"], 1, "only the real contact is left");
    assert_eq!(v["data"][0]["id"], own.as_str());
    assert_eq!(deal::Entity::find().count(app.db.unscoped()).await.unwrap(), 0);
}
both!(demo_data_loads_once_and_admins_remove_it_alone);
