//! Chromium end to end (Debian `chromium` + `chromium-driver`): sign in through the form,
//! create a company and a contact through the forms, and screenshot the pages in light,
//! dark and phone widths into `target/screenshots/`. Ignored in a plain `cargo test`
//! (it needs the browser); `.ci/run` runs it with `--ignored`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crm_core::Role;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::support::{PASSWORD, TestApp};

pub(crate) struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) async fn browser() -> (Driver, Client) {
    // two rustls crypto back ends are linked in this test binary; pick one
    let _ = rustls::crypto::ring::default_provider().install_default();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let child = Command::new(bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver must be installed (apt install chromium chromium-driver)");
    let driver = Driver(child);
    let url = format!("http://127.0.0.1:{port}");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1280,900"]
        }),
    );
    for _ in 0..100 {
        if let Ok(c) = ClientBuilder::rustls()
            .expect("tls")
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            return (driver, c);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

pub(crate) fn shot_dir() -> std::path::PathBuf {
    let d = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub(crate) async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(shot_dir().join(format!("{name}.png")), png).unwrap();
}

pub(crate) async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
}

pub(crate) async fn fill(c: &Client, css: &str, text: &str) {
    let el = c.find(Locator::Css(css)).await.unwrap();
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

/// Wait (up to 10 s) until the page's path is `path` — navigation may still be running.
pub(crate) async fn wait_path(c: &Client, path: &str) {
    for _ in 0..100 {
        if c.current_url().await.map(|u| u.path() == path).unwrap_or(false) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never reached {path}: {:?}", c.current_url().await.ok());
}

/// Wait (up to 10 s) until the page shows `text`.
pub(crate) async fn wait_text(c: &Client, text: &str) {
    for _ in 0..100 {
        if text_of(c).await.contains(text) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never showed {text:?}: {}", text_of(c).await);
}

/// Wait (up to 10 s) until a script returns `true`; panic with `what` otherwise.
pub(crate) async fn wait_js(c: &Client, script: &str, what: &str) {
    for _ in 0..100 {
        if c.execute(script, vec![]).await.unwrap() == json!(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never true: {what}");
}

pub(crate) async fn text_of(c: &Client) -> String {
    // by script, not an element handle: a page still navigating has no stale handles to trip on
    match c
        .execute("return document.body ? document.body.innerText : ''", vec![])
        .await
    {
        Ok(v) => v.as_str().unwrap_or_default().to_string(),
        Err(_) => String::new(),
    }
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver: run with `cargo test -- --ignored`"]
async fn sign_in_create_contact_and_screenshot() {
    let app = TestApp::sqlite().await;
    let admin = app.user(Role::Admin).await;
    for (name, industry) in [
        ("Globex Corporation", "technology"),
        ("Initech", "finance"),
        ("Umbrella Health", "healthcare"),
    ] {
        admin
            .post(
                "/api/companies",
                json!({"name": name, "industry": industry, "website": "https://example.com"}),
            )
            .await;
    }
    for (f, l, s) in [
        ("Ada", "Lovelace", "customer"),
        ("Alan", "Turing", "lead"),
        ("Grace", "Hopper", "lead"),
        ("Katherine", "Johnson", "customer"),
    ] {
        admin
            .contact(
                f,
                l,
                json!({"status": s, "phoneNumber": format!("+1 555 010 {:04}", f.len() * 7), "jobTitle": "Engineer"}),
            )
            .await;
    }
    let (driver, c) = browser().await;

    // signing in brings the user back to the page they asked for
    c.goto(&format!("{}/contacts", app.base)).await.unwrap();
    assert!(c.current_url().await.unwrap().path().starts_with("/auth/signin"));
    shot(&c, "signin").await;
    fill(&c, "input[name=email]", &admin.email).await;
    fill(&c, "input[name=password]", PASSWORD).await;
    click(&c, "form button[type=submit]").await;
    wait_path(&c, "/contacts").await;

    // create a contact through the form, with a company picked
    click(&c, "a[data-shortcut=new]").await;
    fill(&c, "#firstName", "Margaret").await;
    fill(&c, "#lastName", "Hamilton").await;
    fill(&c, "#email", "not-an-email").await;
    click(&c, "form.form button[type=submit]").await;
    wait_text(&c, "Invalid email format").await;
    let body = text_of(&c).await;
    assert!(body.contains("Invalid email format"), "inline error shown: {body}");
    shot(&c, "contact-form-errors").await;
    fill(&c, "#email", "margaret@example.com").await;
    // the company is a combobox over the select's options: a click opens it, a click picks
    click(&c, "#companyId-combo").await;
    click(&c, "#companyId-listbox [role=option]").await;
    wait_js(
        &c,
        "return document.getElementById('companyId').value !== '' && document.getElementById('companyId-combo').value === document.getElementById('companyId').selectedOptions[0].text",
        "a company picked with the mouse",
    )
    .await;
    // the company is optional: a clear button (×) undoes the pick
    assert_eq!(
        c.execute(
            "return document.querySelector('#companyId-combo + .combo-clear')?.getClientRects().length > 0",
            vec![]
        )
        .await
        .unwrap(),
        json!(true)
    );
    shot(&c, "contact-company-picker").await;
    click(&c, "form.form button[type=submit]").await;
    wait_text(&c, "Margaret Hamilton").await;
    let body = text_of(&c).await;
    assert!(
        body.contains("Margaret Hamilton"),
        "profile shows the new contact: {body}"
    );
    shot(&c, "contact-profile").await;

    c.goto(&format!("{}/contacts", app.base)).await.unwrap();
    let body = text_of(&c).await;
    assert!(
        body.contains("margaret@example.com") && body.contains("1–5 of 5"),
        "{body}"
    );
    shot(&c, "contacts-list-light").await;

    // the theme toggle switches to dark and remembers it
    click(&c, "button.theme-toggle").await;
    c.goto(&format!("{}/contacts", app.base)).await.unwrap();
    let theme = c
        .execute("return document.documentElement.dataset.theme", vec![])
        .await
        .unwrap();
    assert_eq!(theme, json!("dark"));
    shot(&c, "contacts-list-dark").await;
    c.goto(&format!("{}/companies", app.base)).await.unwrap();
    assert!(text_of(&c).await.contains("Globex Corporation"));
    shot(&c, "companies-list-dark").await;
    click(&c, "button.theme-toggle").await;
    c.goto(&format!("{}/companies", app.base)).await.unwrap();
    shot(&c, "companies-list-light").await;

    // a phone-sized window
    c.set_window_size(375, 800).await.unwrap();
    c.goto(&format!("{}/contacts", app.base)).await.unwrap();
    shot(&c, "contacts-list-375").await;

    c.close().await.unwrap();
    drop(driver);
    app.finish().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver: run with `cargo test -- --ignored`"]
async fn first_run_setup_in_the_browser() {
    let app = TestApp::sqlite().await;
    let (driver, c) = browser().await;
    c.goto(&format!("{}/contacts", app.base)).await.unwrap();
    assert_eq!(
        c.current_url().await.unwrap().path(),
        "/setup",
        "a fresh instance leads to setup"
    );
    assert!(text_of(&c).await.contains("crm setup-link"));
    shot(&c, "setup-token").await;

    let token = crm_core::accounts::setup::new_token(&app.db).await.unwrap();
    c.goto(&format!("{}/setup?token={token}", app.base)).await.unwrap();
    fill(&c, "#name", "Ada Admin").await;
    fill(&c, "#email", "ada@example.com").await;
    fill(&c, "#password", PASSWORD).await;
    fill(&c, "#confirmPassword", PASSWORD).await;
    click(&c, "input[name=demo]").await;
    shot(&c, "setup-form").await;
    click(&c, "form button[type=submit]").await;
    wait_path(&c, "/").await;
    let body = text_of(&c).await;
    assert!(body.contains("My day") && body.contains("Ada Admin"), "{body}");
    assert!(body.contains("This CRM holds demo data"), "{body}");
    shot(&c, "my-day-after-setup").await;
    c.goto(&format!("{}/?tab=contacts", app.base)).await.unwrap();
    let body = text_of(&c).await;
    assert!(body.contains("120"), "demo contacts are counted: {body}");
    shot(&c, "dashboard-after-setup").await;
    for tab in ["deals", "activities", "tasks"] {
        c.goto(&format!("{}/?tab={tab}", app.base)).await.unwrap();
        shot(&c, &format!("dashboard-{tab}")).await;
    }
    c.goto(&format!("{}/reports?tab=activity&preset=quarter", app.base))
        .await
        .unwrap();
    wait_text(&c, "Activity heatmap").await;
    shot(&c, "reports").await;

    c.close().await.unwrap();
    drop(driver);
    app.finish().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver: run with `cargo test -- --ignored`"]
async fn sign_up_verify_sign_in_settings_sign_out() {
    let app = TestApp::sqlite().await;
    app.user(Role::Admin).await; // setup is done on this instance
    let (driver, c) = browser().await;
    c.goto(&format!("{}/auth/signin", app.base)).await.unwrap();
    c.find(Locator::LinkText("Sign up"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    fill(&c, "#name", "Grace Signup").await;
    fill(&c, "#email", "grace.signup@example.com").await;
    fill(&c, "#password", "short").await;
    fill(&c, "#confirmPassword", "short").await;
    click(&c, "form button[type=submit]").await;
    wait_text(&c, "Password must be at least 10 characters").await;
    fill(&c, "#password", PASSWORD).await;
    fill(&c, "#confirmPassword", PASSWORD).await;
    shot(&c, "signup").await;
    click(&c, "form button[type=submit]").await;
    wait_text(&c, "Check your email").await;

    let mail = app.mail("grace.signup@example.com", "Verify your email address").await;
    let token = TestApp::token_in(&mail, "/auth/verify-email");
    c.goto(&format!("{}/auth/verify-email?token={token}", app.base))
        .await
        .unwrap();
    assert!(text_of(&c).await.contains("Your email address is verified"));
    fill(&c, "input[name=email]", "grace.signup@example.com").await;
    fill(&c, "input[name=password]", PASSWORD).await;
    click(&c, "form button[type=submit]").await;
    wait_path(&c, "/").await;

    c.goto(&format!("{}/settings", app.base)).await.unwrap();
    let body = text_of(&c).await;
    assert!(
        body.contains("grace.signup@example.com") && body.contains("Active sessions") && body.contains("This browser"),
        "{body}"
    );
    shot(&c, "settings").await;

    click(&c, "details.user-menu summary").await;
    click(&c, "details.user-menu button[type=submit]").await;
    wait_path(&c, "/auth/signin").await;
    assert!(c.current_url().await.unwrap().path().starts_with("/auth/signin"));
    c.goto(&format!("{}/contacts", app.base)).await.unwrap();
    assert!(
        c.current_url().await.unwrap().path().starts_with("/auth/signin"),
        "signed out for real"
    );

    c.close().await.unwrap();
    drop(driver);
    app.finish().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver: run with `cargo test -- --ignored`"]
async fn enable_two_factor_in_settings_then_sign_in_with_a_code() {
    let app = TestApp::sqlite().await;
    let rep = app.user(Role::Rep).await;
    let (driver, c) = browser().await;
    c.goto(&format!("{}/auth/signin?next=/settings", app.base))
        .await
        .unwrap();
    fill(&c, "input[name=email]", &rep.email).await;
    fill(&c, "input[name=password]", PASSWORD).await;
    click(&c, "form button[type=submit]").await;
    wait_path(&c, "/settings").await;
    click(&c, "form[action='/settings/2fa/enable'] button").await;
    wait_text(&c, "Verify and enable").await;
    let secret = c
        .find(Locator::Css("#totp-secret"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    c.execute("document.getElementById('two-factor').scrollIntoView()", vec![])
        .await
        .unwrap();
    shot(&c, "two-factor-setup").await;
    let totp = |step: i64| {
        let bytes = totp_rs::Secret::Encoded(secret.clone()).to_bytes().unwrap();
        totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 0, 30, bytes, None, String::new())
            .generate((step * 30) as u64)
    };
    let step = chrono::Utc::now().timestamp() / 30;
    fill(&c, "#setup-code", &totp(step)).await;
    click(&c, "form[action='/settings/2fa/verify'] button").await;
    wait_text(&c, "Save these backup codes now").await;
    let body = text_of(&c).await;
    assert!(body.contains("Save these backup codes now"), "{body}");
    c.execute("document.getElementById('two-factor').scrollIntoView()", vec![])
        .await
        .unwrap();
    shot(&c, "two-factor-backup-codes").await;

    click(&c, "details.user-menu summary").await;
    click(&c, "details.user-menu button[type=submit]").await;
    wait_path(&c, "/auth/signin").await;
    fill(&c, "input[name=email]", &rep.email).await;
    fill(&c, "input[name=password]", PASSWORD).await;
    click(&c, "form button[type=submit]").await;
    wait_path(&c, "/auth/verify-2fa").await;
    c.goto(&format!("{}/contacts", app.base)).await.unwrap();
    assert_eq!(
        c.current_url().await.unwrap().path(),
        "/auth/verify-2fa",
        "no page before the second step"
    );
    fill(&c, "#code", &totp(step + 1)).await;
    shot(&c, "two-factor-sign-in").await;
    click(&c, "form button[type=submit]").await;
    wait_path(&c, "/").await;
    c.close().await.unwrap();
    drop(driver);
    app.finish().await;
}

pub(crate) async fn sign_in_as(c: &Client, base: &str, email: &str) {
    c.goto(&format!("{base}/auth/signin")).await.unwrap();
    fill(c, "input[name=email]", email).await;
    fill(c, "input[name=password]", PASSWORD).await;
    click(c, "form button[type=submit]").await;
    for _ in 0..100 {
        if c.current_url()
            .await
            .map(|u| u.path() != "/auth/signin")
            .unwrap_or(false)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn sign_out(c: &Client) {
    click(c, "details.user-menu summary").await;
    click(c, "details.user-menu button[type=submit]").await;
    wait_path(c, "/auth/signin").await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver: run with `cargo test -- --ignored`"]
async fn reps_see_their_own_and_admins_reassign() {
    let app = TestApp::sqlite().await;
    let admin = app.user(Role::Admin).await;
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    rep.contact("Mine", "Alone", json!({})).await;
    let theirs = other.contact("Handed", "Over", json!({})).await;
    let (driver, c) = browser().await;

    sign_in_as(&c, &app.base, &rep.email).await;
    c.goto(&format!("{}/contacts", app.base)).await.unwrap();
    let body = text_of(&c).await;
    assert!(body.contains("Mine Alone") && !body.contains("Handed Over"), "{body}");
    sign_out(&c).await;

    sign_in_as(&c, &app.base, &admin.email).await;
    c.goto(&format!("{}/admin/users", app.base)).await.unwrap();
    shot(&c, "admin-users").await;
    c.goto(&format!("{}/admin/users/{}", app.base, rep.id())).await.unwrap();
    shot(&c, "admin-user").await;
    c.goto(&format!("{}/contacts/{theirs}/edit", app.base)).await.unwrap();
    c.find(Locator::Css(&format!("#userId option[value='{}']", rep.id())))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(&c, "form.form button[type=submit]").await;
    wait_path(&c, &format!("/contacts/{theirs}")).await;
    assert!(
        text_of(&c).await.contains("Test rep"),
        "the profile shows the new owner"
    );
    c.goto(&format!("{}/admin/audit", app.base)).await.unwrap();
    assert!(text_of(&c).await.contains("assign"));
    shot(&c, "admin-audit").await;
    sign_out(&c).await;

    sign_in_as(&c, &app.base, &rep.email).await;
    c.goto(&format!("{}/contacts", app.base)).await.unwrap();
    let body = text_of(&c).await;
    assert!(
        body.contains("Mine Alone") && body.contains("Handed Over"),
        "the reassigned contact appears: {body}"
    );
    c.close().await.unwrap();
    drop(driver);
    app.finish().await;
}

/// Drag a kanban card to a column, as the browser's HTML5 drag and drop does.
async fn drag(c: &Client, deal: &str, stage: &str) {
    let script = r#"
        const [deal, stage] = arguments;
        const card = document.querySelector(`.kanban-card[data-deal="${deal}"]`);
        const col = document.querySelector(`.kanban-col[data-stage="${stage}"]`);
        const dt = new DataTransfer();
        card.dispatchEvent(new DragEvent('dragstart', { bubbles: true, dataTransfer: dt }));
        col.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: dt }));
        col.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
        card.dispatchEvent(new DragEvent('dragend', { bubbles: true, dataTransfer: dt }));
    "#;
    c.execute(script, vec![json!(deal), json!(stage)]).await.unwrap();
    // settled: the server accepted (the card records its stage) or refused (a toast)
    let settled = "const c = document.querySelector(`.kanban-card[data-deal=\"${arguments[0]}\"]`); \
                   return c.dataset.stage === arguments[1] || !!document.querySelector('.toast-error');";
    for _ in 0..100 {
        if c.execute(settled, vec![json!(deal), json!(stage)]).await.unwrap() == json!(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the move never settled");
}

async fn column_of(c: &Client, deal: &str) -> String {
    let script = "const c = document.querySelector(`.kanban-card[data-deal=\"${arguments[0]}\"]`); \
                  return c ? c.closest('.kanban-col').dataset.stage : '';";
    match c.execute(script, vec![json!(deal)]).await {
        Ok(v) => v.as_str().unwrap_or_default().to_string(),
        Err(_) => String::new(), // navigating
    }
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver: run with `cargo test -- --ignored`"]
async fn kanban_moves_persist_and_tasks_complete_in_one_click() {
    let app = TestApp::sqlite().await;
    let rep = app.user(Role::Rep).await;
    let manager = app.user(Role::Manager).await;
    let contact = rep.contact("Pipe", "Line", json!({})).await;
    let mut ids = vec![];
    for (name, value, stage) in [
        ("Alpha deal", 12000, "lead"),
        ("Beta deal", 5500, "qualified"),
        ("Gamma deal", 80000, "negotiation"),
    ] {
        let (_, v) = rep.post("/api/deals", json!({"name": name, "value": value, "stage": stage, "expectedCloseDate": "2030-03-31", "contactId": contact})).await;
        ids.push(v["data"]["id"].as_str().unwrap().to_string());
    }
    rep.post(
        "/api/tasks",
        json!({"title": "Send the proposal", "dueDate": "2030-01-01", "contactId": contact}),
    )
    .await;
    let (driver, c) = browser().await;
    sign_in_as(&c, &app.base, &rep.email).await;

    c.goto(&format!("{}/deals", app.base)).await.unwrap();
    drag(&c, &ids[0], "proposal").await;
    assert_eq!(column_of(&c, &ids[0]).await, "proposal", "moved at once");
    c.goto(&format!("{}/deals", app.base)).await.unwrap();
    assert_eq!(column_of(&c, &ids[0]).await, "proposal", "still there after a reload");
    shot(&c, "kanban").await;
    c.goto(&format!("{}/deals/{}", app.base, ids[0])).await.unwrap();
    wait_text(&c, "Stage history").await;
    shot(&c, "deal-profile").await;
    c.goto(&format!("{}/deals", app.base)).await.unwrap();

    // the no-JS path: the stage select on the card, shown only while <html> lacks the `js`
    // class app.js adds (with JS, drag and Alt+arrows move cards)
    c.execute("document.documentElement.classList.remove('js')", vec![])
        .await
        .unwrap();
    c.find(Locator::Css(&format!("#stage-{} option[value='closed_won']", ids[1])))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css(&format!(
        ".kanban-card[data-deal='{}'] form.move button",
        ids[1]
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    for _ in 0..100 {
        if column_of(&c, &ids[1]).await == "closed_won" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(column_of(&c, &ids[1]).await, "closed_won");
    let (_, v) = rep.get(&format!("/api/deals/{}", ids[1])).await;
    assert_eq!(v["data"]["status"], "won");

    // a refused move snaps back with a message (a manager may not move a rep's deal)
    sign_out(&c).await;
    sign_in_as(&c, &app.base, &manager.email).await;
    c.goto(&format!("{}/deals", app.base)).await.unwrap();
    drag(&c, &ids[2], "lead").await;
    assert_eq!(column_of(&c, &ids[2]).await, "negotiation", "rolled back");
    let body = text_of(&c).await;
    assert!(
        body.contains("Not moved: You can only change your own records"),
        "{body}"
    );
    shot(&c, "kanban-refused").await;
    sign_out(&c).await;

    // one click completes a task
    sign_in_as(&c, &app.base, &rep.email).await;
    c.goto(&format!("{}/tasks", app.base)).await.unwrap();
    assert!(text_of(&c).await.contains("Send the proposal"));
    shot(&c, "tasks").await;
    click(&c, "button.check-btn").await;
    // with JS the task leaves the open list in place (the toast names it)
    wait_text(&c, "No tasks left here.").await;
    wait_js(
        &c,
        "return !document.querySelector('ul.tasks .task-title')",
        "gone from the open list",
    )
    .await;
    let (_, v) = rep.get("/api/tasks?status=completed").await;
    assert_eq!(v["pagination"]["total"], 1);
    c.goto(&format!("{}/contacts/{contact}?tab=deals", app.base))
        .await
        .unwrap();
    assert!(text_of(&c).await.contains("Alpha deal"));
    shot(&c, "contact-deals-tab").await;
    c.close().await.unwrap();
    drop(driver);
    app.finish().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver: run with `cargo test -- --ignored`"]
async fn command_palette_finds_and_opens_a_record() {
    let app = TestApp::sqlite().await;
    let rep = app.user(Role::Rep).await;
    let id = rep.contact("Quentin", "Palette", json!({})).await;
    let (driver, c) = browser().await;
    sign_in_as(&c, &app.base, &rep.email).await;
    click(&c, ".search-trigger").await;
    let input = c.find(Locator::Css("dialog.palette input")).await.unwrap();
    input.send_keys("quent").await.unwrap();
    // the palette is a modal dialog in the top layer: read its own text
    let found = "return (document.querySelector('.palette-results')?.textContent || '').includes('Contacts (1)')";
    wait_js(&c, found, "results grouped with the true count").await;
    shot(&c, "palette").await;
    click(&c, "dialog.palette .palette-results a").await;
    wait_path(&c, &format!("/contacts/{id}")).await;
    c.close().await.unwrap();
    drop(driver);
    app.finish().await;
}

/// Every dashboard tab and every report tab in light and dark (screenshots to look at),
/// then ⌘K / Ctrl-K finds a contact by part of its e-mail and Enter opens it.
#[tokio::test]
#[ignore = "needs chromium and chromedriver: run with `cargo test -- --ignored`"]
async fn dashboard_and_report_tabs_in_both_themes_and_palette_by_email() {
    let app = TestApp::sqlite().await;
    crm_core::seed::demo(&app.db).await.expect("demo data");
    let admin = app.user(Role::Admin).await;
    let id = admin
        .contact(
            "Zelda",
            "Findme",
            json!({"email": "zelda.unique-mailbox@findme.example"}),
        )
        .await;
    let (driver, c) = browser().await;
    sign_in_as(&c, &app.base, &admin.email).await;
    let dashboard = [
        ("contacts", "Total contacts"),
        ("companies", "Companies with deals"),
        ("deals", "Open pipeline value"),
        ("tasks", "Due today"),
        ("activities", "Most common type"),
    ];
    let reports = [
        ("sales", "Average value per won deal"),
        ("pipeline", "Pipeline velocity"),
        ("activity", "Activity heatmap"),
        ("tasks", "Overdue now"),
        ("funnel", "Became customers"),
        ("performers", "Biggest deals won"),
    ];
    for theme in ["light", "dark"] {
        if theme == "dark" {
            click(&c, "button.theme-toggle").await;
        }
        for (tab, card) in dashboard {
            c.goto(&format!("{}/?tab={tab}", app.base)).await.unwrap();
            wait_text(&c, card).await;
            let svg = c.find_all(Locator::Css("figure.chart svg")).await.unwrap().len();
            assert!(svg >= 1, "the {tab} tab draws its charts");
            shot(&c, &format!("dashboard-{tab}-{theme}")).await;
        }
        for (tab, text) in reports {
            c.goto(&format!("{}/reports?tab={tab}&preset=quarter", app.base))
                .await
                .unwrap();
            wait_text(&c, text).await;
            shot(&c, &format!("report-{tab}-{theme}")).await;
        }
        let current = c
            .execute("return document.documentElement.dataset.theme || 'light'", vec![])
            .await
            .unwrap();
        assert_eq!(current, json!(theme));
    }

    // the figures refresh in place (no page load) when the window regains focus
    c.goto(&format!("{}/?tab=contacts", app.base)).await.unwrap();
    let total = "return document.querySelector('#live .stat .figure').textContent.trim()";
    let before = c.execute(total, vec![]).await.unwrap();
    c.execute("window.__stayed = true", vec![]).await.unwrap();
    admin.contact("Fresh", "Arrival", json!({})).await;
    tokio::time::sleep(Duration::from_millis(5200)).await;
    c.execute("window.dispatchEvent(new Event('focus'))", vec![])
        .await
        .unwrap();
    let mut after = before.clone();
    for _ in 0..50 {
        after = c.execute(total, vec![]).await.unwrap();
        if after != before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_ne!(after, before, "the total went up without reloading");
    assert_eq!(
        c.execute("return window.__stayed === true", vec![]).await.unwrap(),
        json!(true)
    );
    assert!(text_of(&c).await.contains("Updated"));

    // the contact picker of a new deal searches the whole book
    c.goto(&format!("{}/deals/new", app.base)).await.unwrap();
    let before = c
        .execute("return document.querySelectorAll('#contactId option').length", vec![])
        .await
        .unwrap();
    assert!(
        before.as_u64().unwrap() > 100,
        "the newest contacts are listed without JS: {before}"
    );
    fill(&c, "#contactId-combo", "Findme").await;
    wait_js(
        &c,
        "return [...document.querySelectorAll('#contactId-listbox [role=option]')].some((o) => o.textContent.includes('Zelda Findme'))",
        "found by search",
    )
    .await;
    shot(&c, "deal-contact-picker").await;
    let keys = format!(
        "{}{}",
        char::from(fantoccini::key::Key::Down),
        char::from(fantoccini::key::Key::Enter)
    );
    c.find(Locator::Css("#contactId-combo"))
        .await
        .unwrap()
        .send_keys(&keys)
        .await
        .unwrap();
    let picked = "return document.querySelector('#contactId').selectedOptions[0]?.textContent.includes('Zelda Findme')";
    wait_js(&c, picked, "found and chosen by search").await;

    // ⌘K / Ctrl-K, part of the e-mail, Enter
    c.goto(&format!("{}/contacts", app.base)).await.unwrap();
    let ctrl = char::from(fantoccini::key::Key::Control);
    let release = char::from(fantoccini::key::Key::Null);
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys(&format!("{ctrl}k{release}"))
        .await
        .unwrap();
    let input = c.find(Locator::Css("dialog.palette[open] input")).await.unwrap();
    input.send_keys("unique-mail").await.unwrap();
    let found = "return (document.querySelector('.palette-results')?.textContent || '').includes('Zelda Findme')";
    wait_js(&c, found, "found by part of the e-mail").await;
    shot(&c, "palette-by-email").await;
    input
        .send_keys(&char::from(fantoccini::key::Key::Enter).to_string())
        .await
        .unwrap();
    wait_path(&c, &format!("/contacts/{id}")).await;
    assert!(text_of(&c).await.contains("zelda.unique-mailbox@findme.example"));
    c.close().await.unwrap();
    drop(driver);
    app.finish().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver: run with `cargo test -- --ignored`"]
async fn import_a_csv_file_through_the_pages() {
    let app = TestApp::sqlite().await;
    let admin = app.user(Role::Admin).await;
    let mut file = String::from("First Name,Last Name,E-mail Address,Mobile Phone,Company,Job Title\n");
    for i in 0..3000 {
        let email = if i == 7 {
            "broken".to_string()
        } else {
            format!("person{i}@example.com")
        };
        file.push_str(&format!("Person,Number{i},{email},,Company {},Buyer\n", i % 40));
    }
    let path = std::env::temp_dir().join(format!("crm-import-{}.csv", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, &file).unwrap();
    let (_driver, c) = browser().await;
    sign_in_as(&c, &app.base, &admin.email).await;
    c.goto(&format!("{}/contacts", app.base)).await.unwrap();
    wait_text(&c, "No contacts yet").await;
    click(&c, "main .empty a[href='/contacts/import']").await;
    wait_path(&c, "/contacts/import").await;
    c.find(Locator::Css("input[type=file][name=file]"))
        .await
        .unwrap()
        .send_keys(path.to_str().unwrap())
        .await
        .unwrap();
    click(&c, "main form button.btn-primary[type=submit]").await;
    wait_text(&c, "check the columns").await;
    wait_text(&c, "Invalid email format").await;
    shot(&c, "import-preview").await;
    c.execute("document.querySelector('.import-preview').scrollIntoView()", vec![])
        .await
        .unwrap();
    shot(&c, "import-preview-rows").await;
    click(&c, "button[name=action][value=start]").await;
    wait_text(&c, "Download the 1 rejected rows").await;
    let text = text_of(&c).await;
    assert!(text.contains("3,000 of 3,000 rows processed (100%)"), "{text}");
    assert!(text.contains("Download the 1 rejected rows"), "{text}");
    shot(&c, "import-done").await;
    let (_, v) = admin.get("/api/contacts?limit=1").await;
    assert_eq!(v["pagination"]["total"], 2999);
    c.close().await.ok();
    let _ = std::fs::remove_file(&path);
    app.finish().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver: run with `cargo test -- --ignored`"]
async fn log_a_call_and_add_a_task_from_the_contact_page() {
    let app = TestApp::sqlite().await;
    let rep = app.user(Role::Rep).await;
    let (_, co) = rep
        .post("/api/companies", json!({"name": "Acme Roofing", "industry": "other"}))
        .await;
    let co = co["data"]["id"].as_str().unwrap().to_string();
    let id = rep
        .contact(
            "Tess",
            "Timeline",
            json!({"companyId": co, "jobTitle": "Facilities lead", "phoneNumber": "+1 555 010 7788"}),
        )
        .await;
    rep.contact("Sam", "Colleague", json!({"companyId": co})).await;
    rep.post(
        "/api/deals",
        json!({"name": "Roof repair", "value": 12500, "expectedCloseDate": "2030-01-01", "contactId": id}),
    )
    .await;
    let (driver, c) = browser().await;
    c.set_window_size(1440, 900).await.unwrap();
    sign_in_as(&c, &app.base, &rep.email).await;
    c.goto(&format!("{}/contacts/{id}", app.base)).await.unwrap();
    wait_text(&c, "Log an activity").await;
    // pick "Email", write two lines, pick the deal, log it
    click(&c, ".type-picker label:nth-of-type(2)").await;
    fill(&c, "#log-subject", "Sent the quote").await;
    fill(&c, "#log-notes", "Quote attached.\nWaiting for sign-off.").await;
    click(&c, "#log-deal option:nth-child(2)").await;
    click(&c, ".composer-form button[type=submit]").await;
    wait_text(&c, "Activity logged.").await;
    let body = text_of(&c).await;
    assert!(
        body.contains("Sent the quote") && body.contains("Waiting for sign-off."),
        "{body}"
    );
    let (_, v) = rep.get(&format!("/api/activities?contactId={id}")).await;
    assert_eq!(v["data"][0]["type"], "email");
    assert!(v["data"][0]["dealId"].is_string(), "{v}");
    // a task from the same page
    click(&c, ".composer-task summary").await;
    fill(&c, "#task-title", "Call back Friday").await;
    click(&c, ".composer-task button[type=submit]").await;
    wait_text(&c, "Task added.").await;
    assert!(text_of(&c).await.contains("Task added: Call back Friday"));
    shot(&c, "record-contact-1440-light").await;
    c.execute("document.cookie = 'theme=dark; path=/'", vec![])
        .await
        .unwrap();
    c.refresh().await.unwrap();
    wait_text(&c, "Timeline").await;
    shot(&c, "record-contact-1440-dark").await;
    c.set_window_size(375, 812).await.unwrap();
    c.refresh().await.unwrap();
    wait_text(&c, "Timeline").await;
    let overflow = c
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth",
            vec![],
        )
        .await
        .unwrap();
    shot(&c, "record-contact-375-dark").await;
    assert_eq!(overflow, json!(false), "no sideways scroll at 375 px");
    c.close().await.unwrap();
    drop(driver);
    app.finish().await;
}

/// The text of the toasts on screen.
async fn toasts(c: &Client) -> String {
    c.execute(
        "return [...document.querySelectorAll('.toast')].map((t) => t.innerText).join(' | ')",
        vec![],
    )
    .await
    .unwrap()
    .as_str()
    .unwrap_or_default()
    .to_string()
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver: run with `cargo test -- --ignored`"]
async fn completing_a_task_names_it_and_undo_reopens_it_deletes_name_the_record() {
    let app = TestApp::sqlite().await;
    let rep = app.user(Role::Rep).await;
    let contact = rep.contact("Una", "Undo", json!({})).await;
    let mut tasks = vec![];
    for (title, due) in [("Call back", "2030-01-01"), ("Write notes", "2030-01-02")] {
        let (_, v) = rep
            .post(
                "/api/tasks",
                json!({"title": title, "dueDate": due, "contactId": contact}),
            )
            .await;
        tasks.push(v["data"]["id"].as_str().unwrap().to_string());
    }
    let (_, v) = rep.post("/api/deals", json!({"name": "Delta deal", "value": 4200, "stage": "lead", "expectedCloseDate": "2030-03-31", "contactId": contact})).await;
    let deal = v["data"]["id"].as_str().unwrap().to_string();
    let (driver, c) = browser().await;
    sign_in_as(&c, &app.base, &rep.email).await;

    // complete in one click: the row leaves the open list, the toast names it and offers Undo
    c.goto(&format!("{}/tasks", app.base)).await.unwrap();
    c.execute("window.stayed = true", vec![]).await.unwrap();
    click(&c, "button.check-btn[aria-label='Complete Call back']").await;
    wait_js(
        &c,
        "return [...document.querySelectorAll('.toast')].some((t) => t.innerText.includes('Task “Call back” completed') && t.querySelector('.toast-action')?.textContent === 'Undo')",
        "a toast names the completed task and offers Undo",
    )
    .await;
    wait_js(
        &c,
        "return ![...document.querySelectorAll('ul.tasks .task-title')].some((a) => a.textContent === 'Call back')",
        "the completed task left the open list",
    )
    .await;
    let stayed = c.execute("return window.stayed === true", vec![]).await.unwrap();
    assert_eq!(stayed, json!(true), "completed in place, no page load");
    let (_, v) = rep.get(&format!("/api/tasks/{}", tasks[0])).await;
    assert_eq!(v["data"]["completed"], true);
    shot(&c, "task-completed-toast").await;

    // Undo reopens it on the server and puts it back in the list
    click(&c, ".toast .toast-action").await;
    wait_js(
        &c,
        "return [...document.querySelectorAll('ul.tasks li.task')].some((li) => li.querySelector('.task-title')?.textContent === 'Call back' && li.querySelector('.check-btn').getAttribute('aria-pressed') === 'false')",
        "the task is back, open",
    )
    .await;
    let mut reopened = false;
    for _ in 0..50 {
        let (_, v) = rep.get(&format!("/api/tasks/{}", tasks[0])).await;
        if v["data"]["completed"] == json!(false) {
            reopened = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reopened, "Undo set completed back to false");
    wait_text(&c, "Task “Call back” reopened").await;

    // delete from the list after the confirm dialog: the toast names the task and offers Undo
    click(&c, "button[aria-label='Delete Write notes']").await;
    click(&c, "dialog.confirm button[value=confirm]").await;
    wait_js(
        &c,
        "return [...document.querySelectorAll('.toast')].some((t) => t.innerText.includes('Task “Write notes” deleted') && t.querySelector('.toast-action')?.textContent === 'Undo')",
        "a toast names the deleted task and offers Undo",
    )
    .await;
    let (status, _) = rep.get(&format!("/api/tasks/{}", tasks[1])).await;
    assert_eq!(status, 404);
    assert!(
        !text_of(&c).await.contains("Write notes") || toasts(&c).await.contains("Write notes"),
        "only the toast still names it"
    );
    shot(&c, "task-deleted-toast").await;
    // Undo: the task is back on the server and in the list
    click(&c, ".toast .toast-action").await;
    wait_js(
        &c,
        "return [...document.querySelectorAll('ul.tasks li.task .task-title')].some((t) => t.textContent === 'Write notes') && [...document.querySelectorAll('.toast')].some((t) => t.innerText.includes('Task “Write notes” restored'))",
        "the task is back in the list",
    )
    .await;
    let (status, v) = rep.get(&format!("/api/tasks/{}", tasks[1])).await;
    assert_eq!(status, 200, "restored on the server: {v}");

    // a deal from the list, and Undo
    c.goto(&format!("{}/deals?view=list", app.base)).await.unwrap();
    click(&c, "button[aria-label='Delete Delta deal']").await;
    click(&c, "dialog.confirm button[value=confirm]").await;
    wait_js(
        &c,
        "return [...document.querySelectorAll('.toast')].some((t) => t.innerText.includes('Deal “Delta deal” deleted')) && !document.querySelector('tbody tr[data-href]')",
        "the deal row left and the toast names it",
    )
    .await;
    let (status, _) = rep.get(&format!("/api/deals/{deal}")).await;
    assert_eq!(status, 404);
    click(&c, ".toast .toast-action").await;
    wait_js(
        &c,
        "return !!document.querySelector('tbody tr[data-href]') && [...document.querySelectorAll('.toast')].some((t) => t.innerText.includes('Deal “Delta deal” restored'))",
        "the deal row is back",
    )
    .await;
    assert_eq!(rep.get(&format!("/api/deals/{deal}")).await.0, 200);

    // from the deal's own page: the list shows the toast, and its Undo leads back to the deal
    c.goto(&format!("{}/deals/{deal}", app.base)).await.unwrap();
    click(&c, "form[data-then] button[type=submit]").await;
    click(&c, "dialog.confirm button[value=confirm]").await;
    wait_js(
        &c,
        "return location.pathname === '/deals' && [...document.querySelectorAll('.toast')].some((t) => t.innerText.includes('Deal “Delta deal” deleted') && t.querySelector('.toast-action'))",
        "the list, with the toast and its Undo",
    )
    .await;
    click(&c, ".toast .toast-action").await;
    wait_js(
        &c,
        &format!("return location.pathname === '/deals/{deal}'"),
        "back on the restored deal's page",
    )
    .await;
    assert_eq!(rep.get(&format!("/api/deals/{deal}")).await.0, 200);
    c.close().await.unwrap();
    drop(driver);
    app.finish().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver: run with `cargo test -- --ignored`"]
async fn forms_focus_the_first_field_and_the_first_invalid_one() {
    let app = TestApp::sqlite().await;
    let rep = app.user(Role::Rep).await;
    rep.contact("Fay", "Focus", json!({})).await;
    let (driver, c) = browser().await;
    sign_in_as(&c, &app.base, &rep.email).await;
    let active = "return document.activeElement ? document.activeElement.id : ''";

    // `n` on a list page opens the new-record page with the focus in its first field
    c.goto(&format!("{}/contacts", app.base)).await.unwrap();
    c.execute(
        "document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'n', bubbles: true }))",
        vec![],
    )
    .await
    .unwrap();
    wait_path(&c, "/contacts/new").await;
    wait_js(
        &c,
        "return document.activeElement?.id === 'firstName'",
        "first field focused",
    )
    .await;

    // a form posted with errors: the first invalid field has the focus and its message
    c.goto(&format!("{}/tasks/new", app.base)).await.unwrap();
    wait_js(
        &c,
        "return document.activeElement?.id === 'title'",
        "new task starts in Title",
    )
    .await;
    fill(&c, "#title", "Focus me").await;
    c.execute("document.getElementById('dueDate').value = ''", vec![])
        .await
        .unwrap();
    // a description over its 1,000 characters (typed past the limit by script)
    c.execute(
        "document.getElementById('description').value = 'x'.repeat(1001)",
        vec![],
    )
    .await
    .unwrap();
    click(&c, "form.form button[type=submit]").await;
    wait_js(
        &c,
        "return !!document.querySelector('.field.invalid') && document.activeElement?.id === 'description'",
        "the first invalid field (Description) has the focus",
    )
    .await;
    let id = c.execute(active, vec![]).await.unwrap();
    assert_eq!(id, json!("description"));
    let links = c
        .execute(
            "return [...document.querySelectorAll('.field.invalid :is(input, select):not([aria-hidden=true])')].map((f) => { const d = f.getAttribute('aria-describedby'); return `${f.id}:${f.getAttribute('aria-invalid')}:${!!(d && document.getElementById(d)?.textContent.trim())}`; })",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        links,
        json!(["description:true:true", "dueDate:true:true"]),
        "every invalid field is tied to its message"
    );
    assert_eq!(
        c.find(Locator::Css("#title"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("Focus me"),
        "what was typed is kept"
    );
    c.close().await.unwrap();
    drop(driver);
    app.finish().await;
}

/// Replace what a focused combobox shows with `text`, as a user does: select it all, type.
/// (`fill` clears through WebDriver, which blurs the field, and a combobox left empty puts
/// its last pick back.)
async fn retype(c: &Client, css: &str, text: &str) {
    c.execute(
        "const i = document.querySelector(arguments[0]); i.focus(); i.select();",
        vec![json!(css)],
    )
    .await
    .unwrap();
    c.find(Locator::Css(css)).await.unwrap().send_keys(text).await.unwrap();
}

/// axe-core's WCAG A/AA findings inside `.combo` (the open list included), when
/// `AXE_CORE_JS` points at axe.min.js; nothing to check otherwise.
async fn axe_combo(c: &Client) -> Vec<String> {
    let Ok(path) = std::env::var("AXE_CORE_JS") else {
        return vec![];
    };
    let src = std::fs::read_to_string(&path).unwrap();
    c.execute(&format!("{src}\n;return !!window.axe;"), vec![])
        .await
        .unwrap();
    let run = "const done = arguments[arguments.length - 1]; \
               axe.run(document.querySelector('.combo'), { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } }) \
                 .then((r) => done(r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)), (e) => done([String(e)]));";
    let v = c.execute_async(run, vec![]).await.unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap_or_default().to_string())
        .collect()
}

/// Keys typed into the element `css`.
async fn keys(c: &Client, css: &str, keys: &[fantoccini::key::Key]) {
    let text: String = keys.iter().map(|k| char::from(*k)).collect();
    c.find(Locator::Css(css)).await.unwrap().send_keys(&text).await.unwrap();
}

/// The options the open contact combobox lists.
const COMBO_OPTIONS: &str =
    "return [...document.querySelectorAll('#contactId-listbox [role=option]')].map((o) => o.textContent)";

#[tokio::test]
#[ignore = "needs chromium and chromedriver: run with `cargo test -- --ignored`"]
async fn contact_picker_searches_the_whole_book_and_picks_by_keyboard() {
    use fantoccini::key::Key;
    let app = TestApp::sqlite().await;
    let admin = app.user(Role::Admin).await;
    // the wanted contact first, then 60 newer ones: it is not among the first options
    let wanted = admin
        .contact("Quentin", "Zyxwarbler", json!({"email": "quentin@warbler.example"}))
        .await;
    for i in 0..60 {
        admin.contact(&format!("Filler{i:02}"), "Bookfiller", json!({})).await;
    }
    let (driver, c) = browser().await;
    c.set_window_size(1440, 900).await.unwrap();
    sign_in_as(&c, &app.base, &admin.email).await;
    c.goto(&format!("{}/tasks/new", app.base)).await.unwrap();

    // one control: the label names the combobox, the select is hidden and out of reach
    let shape = c
        .execute(
            "const s = document.getElementById('contactId'); const i = document.getElementById('contactId-combo'); \
             return [i.getAttribute('role'), i.getAttribute('aria-expanded'), i.getAttribute('aria-autocomplete'), \
                     document.querySelector('label[for=contactId-combo]')?.textContent.includes('Contact'), \
                     s.getAttribute('aria-hidden'), s.tabIndex, s.getClientRects().length, \
                     [...s.options].slice(0, 21).some((o) => o.value === arguments[0])]",
            vec![json!(wanted)],
        )
        .await
        .unwrap();
    assert_eq!(shape, json!(["combobox", "false", "list", true, "true", -1, 0, false]));

    fill(&c, "#title", "Call Quentin about the roof").await;
    c.execute("document.getElementById('dueDate').value = '2030-01-15'", vec![])
        .await
        .unwrap();

    // nothing matches: the list says so
    retype(&c, "#contactId-combo", "qqqzzz").await;
    wait_js(
        &c,
        "return document.querySelector('.combo-status')?.textContent === 'No contacts match' && document.getElementById('contactId-combo').getAttribute('aria-expanded') === 'true'",
        "no match shown",
    )
    .await;

    // part of the surname finds the contact in the whole book
    retype(&c, "#contactId-combo", "warbl").await;
    wait_js(
        &c,
        "const o = [...document.querySelectorAll('#contactId-listbox [role=option]')]; return o.length === 1 && o[0].textContent.includes('Quentin Zyxwarbler')",
        "the wanted contact listed",
    )
    .await;
    shot(&c, "picker-open-1440-light").await;
    let found = axe_combo(&c).await;
    assert!(found.is_empty(), "axe on the open list (light): {found:?}");
    keys(&c, "#contactId-combo", &[Key::Down]).await;
    let active = c
        .execute(
            "const i = document.getElementById('contactId-combo'); return document.getElementById(i.getAttribute('aria-activedescendant'))?.getAttribute('aria-selected')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(active, json!("true"), "ArrowDown makes the option active");
    keys(&c, "#contactId-combo", &[Key::Enter]).await;
    wait_js(
        &c,
        "return document.getElementById('contactId-combo').getAttribute('aria-expanded') === 'false'",
        "the list closes on Enter",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        c.current_url().await.unwrap().path(),
        "/tasks/new",
        "Enter picks, it does not submit"
    );
    let state = c
        .execute(
            "return [document.getElementById('contactId').value, document.getElementById('contactId-combo').value, document.activeElement.id]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(state, json!([wanted, "Quentin Zyxwarbler", "contactId-combo"]));

    // the open list on a phone, in the dark theme: nothing scrolls sideways
    c.set_window_size(375, 812).await.unwrap();
    c.execute("document.documentElement.dataset.theme = 'dark'", vec![])
        .await
        .unwrap();
    retype(&c, "#contactId-combo", "Bookfiller").await;
    wait_js(
        &c,
        "return document.querySelectorAll('#contactId-listbox [role=option]').length >= 10",
        "fillers listed",
    )
    .await;
    keys(&c, "#contactId-combo", &[Key::Down, Key::Down]).await;
    let wide = c
        .execute(
            "const r = document.getElementById('contactId-listbox').getBoundingClientRect(); \
             return [document.documentElement.scrollWidth <= window.innerWidth, r.right <= window.innerWidth, r.left >= 0]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(wide, json!([true, true, true]), "no sideways scroll at 375 px");
    let names = c.execute(COMBO_OPTIONS, vec![]).await.unwrap();
    assert!(names.as_array().unwrap().len() <= 20, "a page of results: {names}");
    shot(&c, "picker-open-375-dark").await;
    let found = axe_combo(&c).await;
    assert!(found.is_empty(), "axe on the open list (dark): {found:?}");
    c.execute("document.documentElement.dataset.theme = 'light'", vec![])
        .await
        .unwrap();
    c.set_window_size(1440, 900).await.unwrap();
    // Escape closes and brings the pick back
    keys(&c, "#contactId-combo", &[Key::Escape]).await;
    let state = c
        .execute(
            "const i = document.getElementById('contactId-combo'); return [i.getAttribute('aria-expanded'), i.value, document.getElementById('contactId').value]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(state, json!(["false", "Quentin Zyxwarbler", wanted]));

    // submitted, the task belongs to the picked contact
    click(&c, "form.form button[type=submit]").await;
    for _ in 0..100 {
        if c.current_url().await.map(|u| u.path() != "/tasks/new").unwrap_or(false) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_text(&c, "Call Quentin about the roof").await;
    let (_, v) = admin.get("/api/tasks").await;
    let task = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"] == "Call Quentin about the roof")
        .unwrap_or_else(|| panic!("the task was created: {v}"));
    assert_eq!(task["contactId"], json!(wanted));
    c.close().await.unwrap();
    drop(driver);
    app.finish().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver: run with `cargo test -- --ignored`"]
async fn contact_picker_escape_restores_and_tab_leaves() {
    use fantoccini::key::Key;
    let app = TestApp::sqlite().await;
    let admin = app.user(Role::Admin).await;
    let ada = admin
        .contact("Ada", "Lovelace", json!({"email": "ada@engine.example"}))
        .await;
    admin.contact("Charles", "Babbage", json!({})).await;
    let (driver, c) = browser().await;
    sign_in_as(&c, &app.base, &admin.email).await;
    c.goto(&format!("{}/activities/new", app.base)).await.unwrap();
    let combo = "#contactId-combo";
    let state = "const i = document.getElementById('contactId-combo'); \
                 return [i.getAttribute('aria-expanded'), i.value, document.getElementById('contactId').value]";

    // pick Ada by keyboard
    retype(&c, combo, "lovel").await;
    wait_js(
        &c,
        "return [...document.querySelectorAll('#contactId-listbox [role=option]')].some((o) => o.textContent.includes('Ada Lovelace'))",
        "Ada listed",
    )
    .await;
    keys(&c, combo, &[Key::Down, Key::Enter]).await;
    wait_js(
        &c,
        &format!("return document.getElementById('contactId').value === '{ada}'"),
        "Ada picked",
    )
    .await;

    // type another name, move onto it, Escape: closed, Ada back in the field and the select
    retype(&c, combo, "Babb").await;
    wait_js(
        &c,
        "return [...document.querySelectorAll('#contactId-listbox [role=option]')].some((o) => o.textContent.includes('Charles Babbage'))",
        "Charles listed",
    )
    .await;
    keys(&c, combo, &[Key::Down]).await;
    keys(&c, combo, &[Key::Escape]).await;
    assert_eq!(
        c.execute(state, vec![]).await.unwrap(),
        json!(["false", "Ada Lovelace", ada])
    );
    assert_eq!(c.current_url().await.unwrap().path(), "/activities/new");

    // ArrowDown on the closed field opens the list on the picked contact
    keys(&c, combo, &[Key::Down]).await;
    let opened = c
        .execute(
            "const i = document.getElementById('contactId-combo'); return [i.getAttribute('aria-expanded'), document.getElementById(i.getAttribute('aria-activedescendant'))?.textContent]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(opened[0], json!("true"));
    assert!(
        opened[1].as_str().unwrap_or_default().contains("Ada Lovelace"),
        "{opened}"
    );

    // Tab leaves: the list closes, the pick stays, the focus moves on
    retype(&c, combo, "Babb").await;
    keys(&c, combo, &[Key::Tab]).await;
    wait_js(
        &c,
        "return document.activeElement?.id !== 'contactId-combo'",
        "the focus left",
    )
    .await;
    assert_eq!(
        c.execute(state, vec![]).await.unwrap(),
        json!(["false", "Ada Lovelace", ada])
    );
    c.close().await.unwrap();
    drop(driver);
    app.finish().await;
}
