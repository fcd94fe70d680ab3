//! Every page at a laptop width (1440×900) and a phone width (375×812), in the light and
//! the dark theme: the page must not scroll sideways and axe-core must report no WCAG 2.x
//! A/AA violation. All failures are collected and reported together, with the elements
//! that stick out and the nodes axe names. Screenshots go to
//! `target/screenshots/layout-<page>-<width>-<theme>.png`.
//!
//! Needs Chromium, chromedriver and axe-core (`npm install axe-core@4`; point `AXE_CORE_JS`
//! at its `axe.min.js`). Ignored in a plain `cargo test`; `.ci/run` installs axe-core and
//! runs it with `--ignored`.

use std::time::Duration;

use crm_core::Role;
use fantoccini::Client;
use serde_json::{Value, json};

use crate::browser::{browser, shot, sign_in_as};
use crate::support::TestApp;

/// How a page is reached.
enum Visit {
    /// A plain GET.
    Get(String),
    /// GET the form, then post it with every field as the page left it (the new-contact
    /// form empty), so the page comes back with its errors.
    EmptyForm(String),
    /// POST a form with only the CSRF token (a delete without `confirm=yes` answers with
    /// the confirmation page).
    Post(String),
    /// Sign in (the pages before it are seen signed out).
    SignIn,
}

const SIZES: [(u32, u32); 2] = [(1440, 900), (375, 812)];
const THEMES: [&str; 2] = ["light", "dark"];
const AXE_TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/// Elements that stick out of the viewport on the right and are not clipped by a scroll
/// box: for each, the outermost one (its parent stays inside) or one taken out of the flow.
const OVERFLOW_JS: &str = r#"
const doc = document.documentElement;
const limit = doc.clientWidth;
const out = { scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth, elements: [] };
if (doc.scrollWidth <= window.innerWidth) return out;
const right = (el) => el.getBoundingClientRect().right;
const clipped = (el) => {
  const pos = getComputedStyle(el).position;
  if (pos === 'fixed') return false;
  const cb = pos === 'absolute' ? el.offsetParent : null;
  if (pos === 'absolute' && !cb) return false;
  for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
    // an absolutely positioned element is clipped only by its containing block or above
    if (pos === 'absolute' && !a.contains(cb)) continue;
    if (getComputedStyle(a).overflowX !== 'visible' && right(a) <= limit + 1) return true;
  }
  return false;
};
const describe = (el) => {
  let s = el.tagName.toLowerCase();
  if (el.id) s += '#' + el.id;
  if (typeof el.className === 'string' && el.className.trim()) s += '.' + el.className.trim().split(/\s+/).join('.');
  const text = (el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 40);
  const r = el.getBoundingClientRect();
  return `${s} [${Math.round(r.left)}..${Math.round(r.right)} px${text ? `, "${text}"` : ''}]`;
};
for (const el of document.body.querySelectorAll('*')) {
  const r = el.getBoundingClientRect();
  if ((r.width === 0 && r.height === 0) || r.right <= limit + 1 || clipped(el)) continue;
  const pos = getComputedStyle(el).position;
  const parent = el.parentElement;
  if (pos === 'absolute' || pos === 'fixed' || !parent || right(parent) <= limit + 1) {
    out.elements.push(describe(el));
    if (out.elements.length >= 12) break;
  }
}
return out;
"#;

const AXE_RUN_JS: &str = r#"
const done = arguments[arguments.length - 1];
const tags = arguments[0];
window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
  .then((r) => done(r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => `${n.target.join(' ')} — ${(n.failureSummary || '').replace(/\s+/g, ' ').slice(0, 220)}`),
  }))))
  .catch((e) => done([{ id: 'axe-error', impact: 'error', help: String(e), nodes: [] }]));
"#;

fn axe_source() -> String {
    let path = std::env::var("AXE_CORE_JS").unwrap_or_else(|_| {
        panic!(
            "AXE_CORE_JS is not set. Install axe-core and point the variable at it:\n  \
             npm install --prefix \"$HOME/.cache/crm-axe\" axe-core@4\n  \
             export AXE_CORE_JS=\"$HOME/.cache/crm-axe/node_modules/axe-core/axe.min.js\"\n\
             (`.ci/run` does both)"
        )
    });
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("AXE_CORE_JS={path} cannot be read: {e}"))
}

/// Resize the window so that the *viewport* is `w`×`h` (window chrome, if any, added).
async fn viewport(c: &Client, w: u32, h: u32) {
    c.set_window_size(w, h).await.unwrap();
    let inner = c
        .execute("return [window.innerWidth, window.innerHeight]", vec![])
        .await
        .unwrap();
    let (iw, ih) = (inner[0].as_u64().unwrap() as u32, inner[1].as_u64().unwrap() as u32);
    if (iw, ih) != (w, h) {
        c.set_window_size(w + w.saturating_sub(iw), h + h.saturating_sub(ih))
            .await
            .unwrap();
    }
}

/// Wait (up to 10 s) for the document that replaces the one marked `window.__left`.
async fn wait_new_document(c: &Client) {
    let script = "return !window.__left && document.readyState === 'complete'";
    for _ in 0..100 {
        if c.execute(script, vec![])
            .await
            .map(|v| v == json!(true))
            .unwrap_or(false)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the form's answer never arrived");
}

async fn open(c: &Client, base: &str, visit: &Visit) {
    match visit {
        Visit::Get(path) => c.goto(&format!("{base}{path}")).await.unwrap(),
        Visit::EmptyForm(path) => {
            c.goto(&format!("{base}{path}")).await.unwrap();
            let submit = "window.__left = true; const f = document.querySelector('main form.form'); \
                          f.noValidate = true; HTMLFormElement.prototype.submit.call(f);";
            c.execute(submit, vec![]).await.unwrap();
            wait_new_document(c).await;
        }
        Visit::Post(path) => {
            let submit = "window.__left = true; const f = document.createElement('form'); \
                          f.method = 'post'; f.action = arguments[0]; \
                          const t = document.createElement('input'); t.type = 'hidden'; t.name = 'csrf_token'; \
                          t.value = document.querySelector('meta[name=csrf-token]').content; \
                          f.append(t); document.body.append(f); HTMLFormElement.prototype.submit.call(f);";
            c.execute(submit, vec![json!(path)]).await.unwrap();
            wait_new_document(c).await;
        }
        Visit::SignIn => {}
    }
}

/// The failures of the page now shown: page-level sideways scrolling and axe violations.
async fn check(c: &Client, axe: &str) -> Vec<String> {
    let mut problems = vec![];
    // entrance animations (a notice fading in) end first: colours are judged as they settle
    c.execute("document.getAnimations().forEach((a) => a.finish())", vec![])
        .await
        .unwrap();
    let o = c.execute(OVERFLOW_JS, vec![]).await.unwrap();
    let (sw, iw) = (o["scrollWidth"].as_u64().unwrap(), o["innerWidth"].as_u64().unwrap());
    if sw > iw {
        let els: Vec<&str> = o["elements"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        problems.push(format!(
            "scrolls sideways: scrollWidth {sw} > innerWidth {iw}; sticking out:\n        {}",
            if els.is_empty() {
                "(none found)".to_string()
            } else {
                els.join("\n        ")
            }
        ));
    }
    // the page's CSP allows no inline script, but WebDriver's own scripts are not page script
    c.execute(&format!("{axe}\n;return !!window.axe;"), vec![])
        .await
        .unwrap();
    let v = c.execute_async(AXE_RUN_JS, vec![json!(AXE_TAGS)]).await.unwrap();
    for violation in v.as_array().unwrap() {
        let nodes: Vec<String> = violation["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .take(6)
            .map(|n| n.as_str().unwrap_or_default().to_string())
            .collect();
        let count = violation["nodes"].as_array().unwrap().len();
        problems.push(format!(
            "axe {} ({}): {} — {count} node(s):\n        {}",
            violation["id"].as_str().unwrap_or_default(),
            violation["impact"].as_str().unwrap_or_default(),
            violation["help"].as_str().unwrap_or_default(),
            nodes.join("\n        ")
        ));
    }
    problems
}

#[tokio::test]
#[ignore = "needs chromium, chromedriver and axe-core (AXE_CORE_JS): run with `cargo test -- --ignored`"]
async fn every_page_fits_phones_and_laptops_and_passes_axe() {
    let axe = axe_source();
    // single sign-on configured, so the sign-in page shows its buttons (nothing is asked of
    // the provider until someone presses one)
    let app = TestApp::sqlite_with(|c| {
        c.oidc_issuer = Some("http://127.0.0.1:9/realms/acme".into());
        c.oidc_client_id = Some("crm".into());
        c.oidc_client_secret = Some("secret".into());
        c.oidc_label = "Sign in with Acme SSO".into();
        c.github_client_id = Some("gh-client".into());
        c.github_client_secret = Some("gh-secret".into());
    })
    .await;
    crm_core::seed::demo(&app.db).await.expect("demo data");
    let admin = app.user(Role::Admin).await;
    let rep = app.user(Role::Rep).await;
    // a webhook endpoint that cannot be reached, so its page lists failed deliveries
    let (_, v) = admin
        .post(
            "/api/webhooks",
            json!({"url": "http://127.0.0.1:9/a-rather-long-path/for-the-crm-events-receiver", "events": ["*"], "description": "Billing system"}),
        )
        .await;
    let webhook = v["data"]["id"].as_str().expect("webhook").to_string();

    // one record of each kind with everything attached, so every tab has rows
    let (_, v) = admin
        .post(
            "/api/companies",
            json!({"name": "Vandelay Industries International", "industry": "manufacturing",
                   "website": "https://vandelay-industries-international.example.com", "phone": "+1 415 555 0199"}),
        )
        .await;
    let company = v["data"]["id"].as_str().expect("company").to_string();
    let contact = admin
        .contact(
            "Bartholomew",
            "Featherstonehaugh-Wilson",
            json!({"email": "bartholomew.featherstonehaugh-wilson@vandelay-industries.example",
                   "phoneNumber": "+1 415 555 0142", "jobTitle": "Vice President of Procurement",
                   "companyId": company, "status": "customer"}),
        )
        .await;
    let (_, v) = admin
        .post(
            "/api/deals",
            json!({"name": "Enterprise platform rollout", "value": 184500, "stage": "negotiation",
                   "expectedCloseDate": "2030-06-30", "contactId": contact}),
        )
        .await;
    let deal = v["data"]["id"].as_str().expect("deal").to_string();
    admin
        .post(
            "/api/tasks",
            json!({"title": "Send the revised proposal", "dueDate": "2020-01-10", "priority": "high", "contactId": contact}),
        )
        .await;
    admin
        .post(
            "/api/activities",
            json!({"type": "call", "subject": "Discovery call", "description": "Talked budget and timeline.", "contactId": contact}),
        )
        .await;

    admin
        .post(
            "/api/admin/invites",
            json!({"email": "pending.person@example.com", "role": "rep"}),
        )
        .await;
    let get = |p: &str| Visit::Get(p.to_string());
    let mut pages: Vec<(String, Visit)> = vec![("my-day".into(), get("/"))];
    for tab in ["contacts", "companies", "deals", "tasks", "activities"] {
        pages.push((format!("dashboard-{tab}"), get(&format!("/?tab={tab}"))));
    }
    pages.push(("contacts".into(), get("/contacts")));
    pages.push(("contact-new".into(), get("/contacts/new")));
    pages.push(("contact-new-errors".into(), Visit::EmptyForm("/contacts/new".into())));
    for tab in ["info", "company", "deals", "tasks", "activities"] {
        pages.push((format!("contact-{tab}"), get(&format!("/contacts/{contact}?tab={tab}"))));
    }
    pages.push((
        "contact-timeline-tasks".into(),
        get(&format!("/contacts/{contact}?show=tasks")),
    ));
    pages.push(("contact-edit".into(), get(&format!("/contacts/{contact}/edit"))));
    pages.push((
        "contact-delete".into(),
        Visit::Post(format!("/contacts/{contact}/delete")),
    ));
    pages.push(("companies".into(), get("/companies")));
    pages.push(("company-new".into(), get("/companies/new")));
    pages.push(("company".into(), get(&format!("/companies/{company}"))));
    pages.push(("company-edit".into(), get(&format!("/companies/{company}/edit"))));
    pages.push(("deals-board".into(), get("/deals")));
    pages.push(("deals-list".into(), get("/deals?view=list")));
    pages.push(("deal".into(), get(&format!("/deals/{deal}"))));
    pages.push(("tasks".into(), get("/tasks")));
    pages.push(("task-new".into(), get("/tasks/new")));
    // the notice after a delete without JavaScript, with its Undo form
    pages.push((
        "tasks-deleted".into(),
        get("/tasks?done=deleted&undo=00000000-0000-7000-8000-000000000001"),
    ));
    pages.push(("task-new-errors".into(), Visit::EmptyForm("/tasks/new".into())));
    pages.push(("activities".into(), get("/activities")));
    for tab in ["sales", "pipeline", "activity", "tasks", "funnel", "performers", "all"] {
        pages.push((
            format!("reports-{tab}"),
            get(&format!("/reports?tab={tab}&preset=quarter")),
        ));
    }
    pages.push(("search".into(), get("/search?q=an")));
    pages.push(("settings".into(), get("/settings")));
    // the calendar feed's section with its URL, copy and reset buttons
    let (st, _) = admin.post("/api/calendar/feed", json!({})).await;
    assert_eq!(st, reqwest::StatusCode::CREATED);
    pages.push(("settings-calendar".into(), get("/settings#calendar")));
    pages.push(("admin-users".into(), get("/admin/users")));
    pages.push(("admin-user".into(), get(&format!("/admin/users/{}", rep.id()))));
    pages.push(("admin-audit".into(), get("/admin/audit")));
    pages.push(("admin-settings".into(), get("/admin/settings")));
    pages.push(("admin-webhooks".into(), get("/admin/webhooks")));
    pages.push(("admin-webhook".into(), get(&format!("/admin/webhooks/{webhook}"))));
    pages.push(("import".into(), get("/contacts/import")));
    pages.push(("docs".into(), get("/docs")));
    pages.push(("docs-reference".into(), get("/docs/deals")));
    pages.push(("docs-guide".into(), get("/docs/rate-limits")));
    pages.push((
        "not-found".into(),
        get("/contacts/00000000-0000-7000-8000-000000000000"),
    ));

    // the pages of someone signed out
    let signed_out: Vec<(String, Visit)> = vec![
        ("signin".into(), get("/auth/signin")),
        ("signin-errors".into(), Visit::EmptyForm("/auth/signin".into())),
        ("signup".into(), get("/auth/signup")),
        ("forgot-password".into(), get("/auth/forgot-password")),
    ];

    let (driver, c) = browser().await;
    let mut failures = vec![];
    let mut checked = 0;
    for theme in THEMES {
        for (w, h) in SIZES {
            viewport(&c, w, h).await;
            // signed out, in this theme (the server reads it from the cookie the toggle sets)
            c.goto(&format!("{}/auth/signin", app.base)).await.unwrap();
            c.delete_all_cookies().await.unwrap();
            c.execute(&format!("document.cookie = 'theme={theme}; Path=/'"), vec![])
                .await
                .unwrap();
            let mut visits: Vec<(&String, &Visit)> = signed_out.iter().map(|(n, v)| (n, v)).collect();
            visits.push((&signed_out[0].0, &Visit::SignIn));
            visits.extend(pages.iter().map(|(n, v)| (n, v)));
            for (name, visit) in visits {
                if let Visit::SignIn = visit {
                    sign_in_as(&c, &app.base, &admin.email).await;
                    continue;
                }
                open(&c, &app.base, visit).await;
                let problems = check(&c, &axe).await;
                shot(&c, &format!("layout-{name}-{w}-{theme}")).await;
                checked += 1;
                let path = c.current_url().await.map(|u| u.path().to_string()).unwrap_or_default();
                println!("{name} {w} {theme}: {} problem(s)", problems.len());
                for p in problems {
                    failures.push(format!("{name} ({path}) at {w}×{h}, {theme}: {p}"));
                }
            }
        }
    }
    // from 1280 px the board shows all six stages, or scrolls in its own region with that
    // region's scrollbar inside the window
    for (w, h) in [(1280, 800), (1440, 900), (1920, 1080)] {
        viewport(&c, w, h).await;
        c.goto(&format!("{}/deals", app.base)).await.unwrap();
        let board = c
            .execute(
                "const k = document.querySelector('.kanban'); const r = k.getBoundingClientRect(); \
                 return { cols: k.querySelectorAll('.kanban-col').length, fits: k.scrollWidth <= k.clientWidth, \
                          bottom: r.bottom, inner: window.innerHeight, page: document.documentElement.scrollWidth };",
                vec![],
            )
            .await
            .unwrap();
        checked += 1;
        let fits = board["fits"] == json!(true);
        let bar_in_view = board["bottom"].as_f64().unwrap() <= board["inner"].as_f64().unwrap();
        if board["cols"] != json!(6) || !(fits || bar_in_view) || board["page"].as_u64().unwrap() > w as u64 {
            failures.push(format!(
                "deals-board at {w}×{h}: the six stages neither fit nor scroll in view: {board}"
            ));
        }
        shot(&c, &format!("layout-deals-board-{w}-check")).await;
    }
    c.close().await.ok();
    drop(driver);
    app.finish().await;
    println!(
        "layout: {checked} page views checked ({} pages × {} sizes × {} themes), {} failure(s)",
        pages.len() + signed_out.len(),
        SIZES.len(),
        THEMES.len(),
        failures.len()
    );
    if !failures.is_empty() {
        panic!(
            "{} failure(s) over {checked} page views:\n  {}",
            failures.len(),
            failures.join("\n  ")
        );
    }
}

/// A focused board card moves one stage with Alt+→, the move is announced in the live
/// region and a toast names the deal and the stage; its Undo puts the deal back.
#[tokio::test]
#[ignore = "needs chromium and chromedriver: run with `cargo test -- --ignored`"]
async fn board_card_moves_by_keyboard_and_undoes() {
    use crate::browser::{click, wait_js};
    let app = TestApp::sqlite().await;
    let rep = app.user(Role::Rep).await;
    let contact = rep.contact("Kay", "Board", json!({})).await;
    let (_, v) = rep
        .post(
            "/api/deals",
            json!({"name": "Keyboard deal", "value": 4200, "stage": "lead", "expectedCloseDate": "2030-01-31", "contactId": contact}),
        )
        .await;
    let id = v["data"]["id"].as_str().unwrap().to_string();
    let (driver, c) = browser().await;
    sign_in_as(&c, &app.base, &rep.email).await;
    c.goto(&format!("{}/deals", app.base)).await.unwrap();
    let link = c
        .find(fantoccini::Locator::Css(&format!(
            ".kanban-card[data-deal='{id}'] .kanban-name"
        )))
        .await
        .unwrap();
    let alt = char::from(fantoccini::key::Key::Alt);
    let right = char::from(fantoccini::key::Key::Right);
    let release = char::from(fantoccini::key::Key::Null);
    link.send_keys(&format!("{alt}{right}{release}")).await.unwrap();
    let moved = format!(
        "const c = document.querySelector(`.kanban-card[data-deal=\"{id}\"]`); \
         return c.dataset.stage === 'qualified' && c.closest('.kanban-col').dataset.stage === 'qualified' \
           && document.querySelector('[data-kanban-live]').textContent.includes('Keyboard deal → Qualified') \
           && c.contains(document.activeElement);"
    );
    wait_js(&c, &moved, "moved to Qualified, announced, focus kept").await;
    let toast = c
        .execute("return document.querySelector('.toast')?.textContent || ''", vec![])
        .await
        .unwrap();
    assert!(
        toast.as_str().unwrap().contains("Moved: Keyboard deal → Qualified"),
        "{toast}"
    );
    let (_, v) = rep.get(&format!("/api/deals/{id}")).await;
    assert_eq!(v["data"]["stage"], "qualified");
    shot(&c, "kanban-keyboard-move").await;
    click(&c, ".toast .toast-action").await;
    let back = format!(
        "const c = document.querySelector(`.kanban-card[data-deal=\"{id}\"]`); \
         return c.dataset.stage === 'lead' && c.closest('.kanban-col').dataset.stage === 'lead';"
    );
    wait_js(&c, &back, "Undo put it back in Lead").await;
    let (_, v) = rep.get(&format!("/api/deals/{id}")).await;
    assert_eq!(v["data"]["stage"], "lead");
    c.close().await.ok();
    drop(driver);
    app.finish().await;
}
