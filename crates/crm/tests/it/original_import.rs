//! Moving in from the original app (`crm import original`). The source is a fresh
//! PostgreSQL database in the original's schema (`fixtures/original_schema.sql`, written
//! from spec/data-model.md) with rows in every table (`fixtures/original_rows.sql`, bcrypt
//! hashes made here at test time). It is imported into SQLite and into PostgreSQL and
//! checked through the HTTP API: counts, owners, timestamps, money in cents, stage
//! history, old passwords (argon2id after the first sign-in), 2FA with a TOTP code and
//! with backup codes, a second run changing nothing, the dry run, and a source that is
//! not the original refused with nothing written.
//!
//! The source needs PostgreSQL, so these tests are ignored in a plain `cargo test`; run
//! them with `TEST_DATABASE_URL=postgres://… cargo test original -- --ignored`.

use crm_core::Role;
use crm_core::accounts::users::{self, NewUser};
use crm_core::original::{self, Report};
use crm_core::unscoped::{audit_log, backup_code, contact, deal, deal_stage_history, sign_in_history, user};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, ConnectionTrait, Database, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use totp_rs::{Algorithm, Secret, TOTP};
use uuid::Uuid;

use crate::support::{Client, TestApp};

const SCHEMA: &str = include_str!("fixtures/original_schema.sql");
const ROWS: &str = include_str!("fixtures/original_rows.sql");
const ADMIN_PASSWORD: &str = "the admin's old password";
const USER_PASSWORD: &str = "an old password";
/// The 2FA secret of mfa@orig.example in the fixture (base32).
const TOTP_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const ACME: &str = "0b7c1d2e-0000-4000-8000-0000000000c1";
const GRACE: &str = "0b7c1d2e-0000-4000-8000-00000000c001";
const KATHERINE: &str = "0b7c1d2e-0000-4000-8000-00000000c003";
const DOROTHY: &str = "0b7c1d2e-0000-4000-8000-00000000c004";
const EDSGER: &str = "0b7c1d2e-0000-4000-8000-00000000c005";
const DEAL_PROPOSAL: &str = "0b7c1d2e-0000-4000-8000-00000000d002";
const DEAL_WON: &str = "0b7c1d2e-0000-4000-8000-00000000d003";
const DEAL_LOST: &str = "0b7c1d2e-0000-4000-8000-00000000d004";
const DEAL_NEGOTIATION: &str = "0b7c1d2e-0000-4000-8000-00000000d005";
const TASK_DONE: &str = "0b7c1d2e-0000-4000-8000-00000000e002";

/// A throwaway PostgreSQL database in the original app's schema.
pub struct Source {
    name: String,
    pub url: String,
}

impl Source {
    pub async fn new(with_rows: bool) -> Source {
        let (url, name) = crate::support::fresh_database("crm_original").await;
        let source = Source { url, name };
        source.exec(SCHEMA).await;
        if with_rows {
            let admin_hash = bcrypt::hash(ADMIN_PASSWORD, 10).expect("bcrypt");
            let user_hash = bcrypt::hash(USER_PASSWORD, 10).expect("bcrypt");
            source
                .exec(
                    &ROWS
                        .replace("{ADMIN_HASH}", &admin_hash)
                        .replace("{USER_HASH}", &user_hash),
                )
                .await;
        }
        source
    }

    pub async fn exec(&self, sql: &str) {
        let c = Database::connect(&self.url).await.expect("connect to the source");
        c.execute_unprepared(sql).await.expect("SQL on the source");
        c.close().await.ok();
    }

    pub async fn drop(self) {
        crate::support::drop_database(&self.name).await;
    }
}

/// Each test body runs on a SQLite target and on a PostgreSQL target, with a fresh source.
macro_rules! on_both_targets {
    ($name:ident) => {
        mod $name {
            use super::*;
            #[tokio::test]
            #[ignore = "needs PostgreSQL for the original's database: TEST_DATABASE_URL=… cargo test -- --ignored"]
            async fn sqlite_target() {
                let app = TestApp::sqlite().await;
                let source = Source::new(true).await;
                super::$name(&app, &source).await;
                source.drop().await;
                app.finish().await;
            }
            #[tokio::test]
            #[ignore = "needs PostgreSQL for the original's database: TEST_DATABASE_URL=… cargo test -- --ignored"]
            async fn postgres_target() {
                let app = TestApp::postgres().await;
                let source = Source::new(true).await;
                super::$name(&app, &source).await;
                source.drop().await;
                app.finish().await;
            }
        }
    };
}

on_both_targets!(imports_every_table);
on_both_targets!(two_factor_survives_the_move);
on_both_targets!(dry_run_writes_nothing);
on_both_targets!(refuses_what_is_not_the_original);
on_both_targets!(a_rerun_never_undoes_what_was_done_here);

async fn import(app: &TestApp, source: &Source, dry_run: bool) -> Report {
    original::import(&app.db, &app.keys(), &source.url, dry_run)
        .await
        .expect("the import")
}

fn line(r: &Report, table: &str) -> String {
    r.table(table)
        .unwrap_or_else(|| panic!("no line for {table} in\n{r}"))
        .to_string()
}

/// A client signed in with a password (no 2FA), with its CSRF token.
async fn signed_in(app: &TestApp, email: &str, password: &str) -> Client {
    let mut c = app.anonymous();
    let (st, v) = c
        .post("/api/auth/signin", json!({"email": email, "password": password}))
        .await;
    assert_eq!(st, StatusCode::OK, "sign-in of {email}: {v}");
    assert_eq!(v["data"]["twoFactorRequired"], false, "{v}");
    let (_, s) = c.get("/api/auth/session").await;
    c.csrf = s["data"]["csrfToken"].as_str().map(|s| s.to_string());
    c
}

/// After the password step of a 2FA account: a half-open session.
async fn half_open(app: &TestApp, email: &str) -> Client {
    let c = app.anonymous();
    let (st, v) = c
        .post("/api/auth/signin", json!({"email": email, "password": USER_PASSWORD}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["twoFactorRequired"], true, "{v}");
    c
}

async fn total(c: &Client, path: &str) -> u64 {
    let (st, v) = c.get(&format!("{path}?limit=1")).await;
    assert_eq!(st, StatusCode::OK, "{path}: {v}");
    v["pagination"]["total"]
        .as_u64()
        .unwrap_or_else(|| panic!("a total for {path}: {v}"))
}

async fn get(c: &Client, path: &str) -> Value {
    let (st, v) = c.get(path).await;
    assert_eq!(st, StatusCode::OK, "{path}: {v}");
    v["data"].clone()
}

/// Rows of every table the import writes, read straight from the target.
async fn row_counts(app: &TestApp) -> [u64; 6] {
    let c = app.db.unscoped();
    [
        user::Entity::find().count(c).await.unwrap(),
        contact::Entity::find().count(c).await.unwrap(),
        deal::Entity::find().count(c).await.unwrap(),
        deal_stage_history::Entity::find().count(c).await.unwrap(),
        backup_code::Entity::find().count(c).await.unwrap(),
        sign_in_history::Entity::find().count(c).await.unwrap(),
    ]
}

async fn imports_every_table(app: &TestApp, source: &Source) {
    // an account made here before the move, with the e-mail of an original user
    let shared = users::create(
        &app.db,
        NewUser {
            email: "shared@example.com".into(),
            name: "Sam Here".into(),
            role: Role::Rep,
            password: "a password of our own".into(),
            verified: true,
            is_demo: false,
        },
    )
    .await
    .unwrap();

    let r = import(app, source, false).await;
    assert!(!r.dry_run);
    assert_eq!(
        line(&r, "users"),
        "users: 5 created, 0 updated, 0 unchanged, 1 matched to existing records"
    );
    assert_eq!(
        line(&r, "companies"),
        "companies: 2 created, 0 updated, 0 unchanged, 1 matched to existing records"
    );
    for (table, n) in [
        ("contacts", 5),
        ("activities", 4),
        ("tasks", 3),
        ("deals", 5),
        ("deal stage history", 7),
        // the matched account keeps its own second factor: its original codes stay out
        ("backup codes", 4),
        ("sign-in history", 2),
    ] {
        assert_eq!(line(&r, table), format!("{table}: {n} created, 0 updated, 0 unchanged"));
    }
    let notes = r.notes.join("\n");
    for expected in [
        "user pending@orig.example: unknown role \"superuser\"; imported as \"rep\"",
        "user shared@example.com: e-mail \"shared@example.com\" is already used here; linked to the existing record",
        "company \"ACME  corp\": name \"acme corp\" is already used here; linked to the existing record",
        "contact kj@example.org: phone number \"+15550100001\" is already used by another record; imported without it",
        "contact kj@example.org: unknown status \"prospect\"; imported as \"lead\"",
    ] {
        assert!(notes.contains(expected), "missing note {expected:?} in\n{notes}");
    }

    // the original admin signs in over HTTP with the old password; the hash becomes argon2id
    let stored = users::find_by_email(&app.db, "admin@orig.example")
        .await
        .unwrap()
        .unwrap();
    assert!(stored.password_hash.starts_with("$2"), "bcrypt as imported");
    let (st, _) = app
        .anonymous()
        .post(
            "/api/auth/signin",
            json!({"email": "admin@orig.example", "password": "not the password"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let admin = signed_in(app, "Admin@Orig.example", ADMIN_PASSWORD).await;
    let stored = users::find_by_email(&app.db, "admin@orig.example")
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored.password_hash.starts_with("$argon2id$"),
        "{}",
        stored.password_hash
    );
    signed_in(app, "admin@orig.example", ADMIN_PASSWORD).await;
    assert_eq!(stored.role, "admin");
    assert_eq!(stored.name, "Ada Admin");
    assert_eq!(stored.bio.as_deref(), Some("Runs the team"));

    // counts per table through the API
    assert_eq!(
        total(&admin, "/api/admin/users").await,
        6,
        "5 imported + the one already here"
    );
    assert_eq!(total(&admin, "/api/companies").await, 2);
    assert_eq!(total(&admin, "/api/contacts").await, 5);
    assert_eq!(total(&admin, "/api/activities").await, 4);
    assert_eq!(total(&admin, "/api/tasks").await, 3);
    assert_eq!(total(&admin, "/api/deals").await, 5);

    // ids, owners, companies and timestamps kept; e-mail normalised
    let grace = get(&admin, &format!("/api/contacts/{GRACE}")).await;
    assert_eq!(grace["email"], "grace.hopper@acme.example");
    assert_eq!(grace["status"], "customer");
    assert_eq!(grace["jobTitle"], "CTO");
    assert_eq!(grace["createdAt"], "2025-02-01T10:00:00.000Z");
    assert_eq!(grace["updatedAt"], "2025-02-03T11:30:00.250Z");
    assert_eq!(grace["user"]["email"], "admin@orig.example");
    assert_eq!(grace["companyId"], ACME);
    let katherine = get(&admin, &format!("/api/contacts/{KATHERINE}")).await;
    assert_eq!(
        katherine["companyId"], ACME,
        "the duplicate company is the same company"
    );
    assert_eq!(katherine["phoneNumber"], Value::Null, "a duplicate phone is left out");
    assert_eq!(katherine["status"], "lead");
    assert_eq!(katherine["userId"], Value::Null);
    let dorothy = get(&admin, &format!("/api/contacts/{DOROTHY}")).await;
    assert_eq!(dorothy["userId"], shared.id.to_string(), "owned by the matched account");
    let edsger = get(&admin, &format!("/api/contacts/{EDSGER}")).await;
    assert_eq!(edsger["user"]["email"], "rep@orig.example");

    // deals: dollars → cents, status from stage, close dates, stage history
    let won = get(&admin, &format!("/api/deals/{DEAL_WON}")).await;
    assert_eq!(won["value"], 12345.67);
    assert_eq!(won["status"], "won");
    assert_eq!(won["actualCloseDate"], "2025-05-20T15:00:00.000Z");
    assert_eq!(won["createdAt"], "2025-02-06T10:00:00.000Z");
    assert_eq!(won["companyId"], ACME);
    let stages: Vec<&str> = won["stageHistory"]
        .as_array()
        .expect("stage history")
        .iter()
        .map(|h| h["toStage"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["lead", "qualified", "proposal", "closed_won"]);
    assert_eq!(won["stageHistory"][3]["fromStage"], "proposal");
    assert_eq!(won["stageHistory"][3]["changedAt"], "2025-05-20T15:00:00.000Z");
    let lost = get(&admin, &format!("/api/deals/{DEAL_LOST}")).await;
    assert_eq!(lost["status"], "lost");
    assert_eq!(
        lost["actualCloseDate"], "2025-04-01T08:00:00.000Z",
        "a closed deal without a close date gets its last change"
    );
    assert_eq!(lost["stageHistory"].as_array().map(|a| a.len()), Some(2));
    let cents = |id: &str| {
        let id = Uuid::parse_str(id).unwrap();
        async move {
            deal::Entity::find_by_id(id)
                .one(app.db.unscoped())
                .await
                .unwrap()
                .expect("the deal")
        }
    };
    assert_eq!(cents(DEAL_WON).await.value_cents, 1_234_567);
    assert_eq!(cents(DEAL_PROPOSAL).await.value_cents, 250_075);
    let negotiation = cents(DEAL_NEGOTIATION).await;
    assert_eq!(negotiation.value_cents, 9_999_999);
    assert_eq!(negotiation.probability, 0, "NULL probability becomes 0");
    assert_eq!(negotiation.status, "open");

    // activities of every type, tasks with their completion
    let (_, v) = admin.get("/api/activities?limit=50").await;
    let mut kinds: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["type"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["call", "email", "meeting", "note"]);
    let done = get(&admin, &format!("/api/tasks/{TASK_DONE}")).await;
    assert_eq!(done["completed"], true);
    assert_eq!(done["completedAt"], "2025-02-09T16:00:00.000Z");
    assert_eq!(done["dueDate"], "2025-02-10T12:00:00.000Z");

    // sign-in history kept, linked to the user
    let history = sign_in_history::Entity::find()
        .filter(sign_in_history::Column::IpAddress.eq("198.51.100.7"))
        .one(app.db.unscoped())
        .await
        .unwrap()
        .expect("the failed attempt");
    assert_eq!(history.user_id, Some(stored.id));
    assert_eq!(history.email, "admin@orig.example");
    assert_eq!(history.failure_reason.as_deref(), Some("Invalid password"));

    // a second run changes nothing
    let counts = row_counts(app).await;
    let audits = audit_log::Entity::find().count(app.db.unscoped()).await.unwrap();
    let again = import(app, source, false).await;
    assert!(again.unchanged(), "{again}");
    assert_eq!(
        line(&again, "users"),
        "users: 0 created, 0 updated, 5 unchanged, 1 matched to existing records"
    );
    assert_eq!(line(&again, "deals"), "deals: 0 created, 0 updated, 5 unchanged");
    assert_eq!(
        line(&again, "deal stage history"),
        "deal stage history: 0 created, 0 updated, 7 unchanged"
    );
    assert_eq!(row_counts(app).await, counts);
    assert_eq!(
        audit_log::Entity::find().count(app.db.unscoped()).await.unwrap(),
        audits,
        "not even an audit entry"
    );
    assert_eq!(total(&admin, "/api/contacts").await, 5);
    let stored_again = users::find_by_email(&app.db, "admin@orig.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored_again.password_hash, stored.password_hash,
        "the upgraded hash is kept"
    );

    // later changes: a row changed in the original since is updated there; one changed
    // here since the import keeps our change
    let (st, v) = admin
        .put(&format!("/api/contacts/{GRACE}"), json!({"jobTitle": "Rear Admiral"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    source
        .exec(&format!(
            r#"UPDATE "Contact" SET "firstName" = 'Edsger W.', "updatedAt" = '2025-09-01 00:00:00.000' WHERE "id" = '{EDSGER}';
               UPDATE "Contact" SET "jobTitle" = 'Old title', "updatedAt" = '2025-09-01 00:00:00.000' WHERE "id" = '{GRACE}';"#
        ))
        .await;
    let third = import(app, source, false).await;
    assert_eq!(line(&third, "contacts"), "contacts: 0 created, 1 updated, 4 unchanged");
    assert_eq!(
        get(&admin, &format!("/api/contacts/{EDSGER}")).await["firstName"],
        "Edsger W."
    );
    assert_eq!(
        get(&admin, &format!("/api/contacts/{GRACE}")).await["jobTitle"],
        "Rear Admiral"
    );
}

fn totp_now() -> String {
    let bytes = Secret::Encoded(TOTP_SECRET.to_string()).to_bytes().expect("base32");
    let t = TOTP::new_unchecked(Algorithm::SHA1, 6, 0, 30, bytes, None, String::new());
    t.generate((chrono::Utc::now().timestamp() / 30 * 30) as u64)
}

async fn two_factor_survives_the_move(app: &TestApp, source: &Source) {
    let r = import(app, source, false).await;

    // the password step leaves a half-open session that cannot read data …
    let c = half_open(app, "mfa@orig.example").await;
    let (st, _) = c.get("/api/contacts").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // … until a code from the authenticator app holding the original secret
    let (st, v) = c.post("/api/auth/2fa/verify", json!({"code": totp_now()})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let me = get(&c, "/api/auth/session").await;
    assert_eq!(me["user"]["email"], "mfa@orig.example");
    assert_eq!(me["user"]["role"], "manager");
    let stored = users::find_by_email(&app.db, "mfa@orig.example")
        .await
        .unwrap()
        .unwrap();
    assert!(stored.password_hash.starts_with("$argon2id$"));

    // backup codes of the original work once each, as typed (lower case, all digits)
    for code in ["9f3a 0c7b", "12345678"] {
        let c = half_open(app, "mfa@orig.example").await;
        let (st, v) = c.post("/api/auth/2fa/verify", json!({"code": code})).await;
        assert_eq!(st, StatusCode::OK, "{code}: {v}");
        assert_eq!(get(&c, "/api/auth/session").await["user"]["email"], "mfa@orig.example");
    }
    let c = half_open(app, "mfa@orig.example").await;
    for used in ["9F3A0C7B", "DEADBEEF"] {
        let (st, v) = c.post("/api/auth/2fa/verify", json!({"code": used})).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{used}: {v}");
        assert_eq!(v["error"], "Invalid or already used backup code");
    }

    // at rest: the secret sealed with the server key, the codes as keyed hashes
    let sealed = stored.two_factor_secret.clone().expect("a secret");
    assert!(stored.two_factor_enabled);
    assert!(!sealed.contains(TOTP_SECRET));
    assert_eq!(app.keys().open(&sealed).unwrap(), TOTP_SECRET);
    let codes = backup_code::Entity::find()
        .filter(backup_code::Column::UserId.eq(stored.id))
        .all(app.db.unscoped())
        .await
        .unwrap();
    assert_eq!(codes.len(), 3);
    assert!(
        codes
            .iter()
            .all(|c| c.code_hash.len() == 64 && !c.code_hash.contains("9F3A0C7B"))
    );
    assert!(codes.iter().all(|c| c.used_at.is_some()), "all three are used now");

    // a secret the original generated wrongly cannot make codes: 2FA is off, with a note
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("broken2fa@orig.example") && n.contains("two-factor authentication is off")),
        "{r}"
    );
    signed_in(app, "broken2fa@orig.example", USER_PASSWORD).await;

    // an unverified original account is still unverified
    let (st, v) = app
        .anonymous()
        .post(
            "/api/auth/signin",
            json!({"email": "pending@orig.example", "password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");

    // and a re-run does not undo the upgrade or the used codes
    let again = import(app, source, false).await;
    assert!(again.unchanged(), "{again}");
    let c = half_open(app, "mfa@orig.example").await;
    let (st, _) = c.post("/api/auth/2fa/verify", json!({"code": "12345678"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

/// After the move, accounts belong to this app: a later run brings back no deleted account,
/// no replaced backup code, and no old role, password or active state.
async fn a_rerun_never_undoes_what_was_done_here(app: &TestApp, source: &Source) {
    import(app, source, false).await;
    let admin = signed_in(app, "admin@orig.example", ADMIN_PASSWORD).await;
    let find = |email: &'static str| async move { users::find_by_email(&app.db, email).await.unwrap() };
    // the 2FA user replaced their backup codes here (the old ones are gone)
    let mfa = find("mfa@orig.example").await.unwrap();
    backup_code::Entity::delete_many()
        .filter(backup_code::Column::UserId.eq(mfa.id))
        .exec(app.db.unscoped())
        .await
        .unwrap();
    // an admin made the rep a manager, then deactivated them; and deleted another account
    let rep = find("rep@orig.example").await.unwrap();
    let (st, v) = admin
        .put(
            &format!("/api/admin/users/{}", rep.id),
            json!({"role": "manager", "isActive": false}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let broken = find("broken2fa@orig.example").await.unwrap();
    let (st, v) = admin.delete(&format!("/api/admin/users/{}", broken.id)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // … and the original's rows all changed later than that
    source
        .exec(
            r#"UPDATE "User" SET "updatedAt" = '2030-01-01 00:00:00.000', "lastSignInAt" = '2030-01-01 00:00:00.000';"#,
        )
        .await;

    let again = import(app, source, false).await;
    assert!(
        line(&again, "users").starts_with("users: 0 created, 0 updated"),
        "{again}"
    );
    assert!(
        again
            .notes
            .iter()
            .any(|n| n.contains("broken2fa@orig.example") && n.contains("not brought back")),
        "{again}"
    );
    assert!(
        find("broken2fa@orig.example").await.is_none(),
        "the deleted account stays deleted"
    );
    let rep = find("rep@orig.example").await.unwrap();
    assert_eq!(
        (rep.role.as_str(), rep.is_active),
        ("manager", false),
        "the admin's changes stay"
    );
    let codes = backup_code::Entity::find()
        .filter(backup_code::Column::UserId.eq(mfa.id))
        .all(app.db.unscoped())
        .await
        .unwrap();
    assert!(
        codes.is_empty(),
        "replaced backup codes do not come back: {}",
        codes.len()
    );
    let c = half_open(app, "mfa@orig.example").await;
    let (st, _) = c.post("/api/auth/2fa/verify", json!({"code": "12345678"})).await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "an original backup code no longer signs in"
    );
}

async fn dry_run_writes_nothing(app: &TestApp, source: &Source) {
    let dry = import(app, source, true).await;
    assert!(dry.dry_run);
    assert!(dry.to_string().starts_with("dry run: nothing was written"), "{dry}");
    assert_eq!(line(&dry, "users"), "users: 6 created, 0 updated, 0 unchanged");
    assert_eq!(line(&dry, "deals"), "deals: 5 created, 0 updated, 0 unchanged");
    assert_eq!(row_counts(app).await, [0; 6]);
    assert_eq!(audit_log::Entity::find().count(app.db.unscoped()).await.unwrap(), 0);

    let real = import(app, source, false).await;
    assert_eq!(real.tables, dry.tables, "the dry run told the truth");
    assert_eq!(row_counts(app).await, [6, 5, 5, 7, 5, 2]);
    let dry_again = import(app, source, true).await;
    assert!(dry_again.unchanged(), "{dry_again}");
}

async fn refuses_what_is_not_the_original(app: &TestApp, source: &Source) {
    let keys = app.keys();
    source.exec(r#"ALTER TABLE "Contact" DROP COLUMN "jobTitle""#).await;
    let err = original::import(&app.db, &keys, &source.url, false)
        .await
        .expect_err("a column is missing")
        .to_string();
    assert_eq!(
        err,
        r#"source database is not the original CRM: column "Contact"."jobTitle" is missing"#
    );
    source.exec(r#"DROP TABLE "Deal" CASCADE"#).await;
    let err = original::import(&app.db, &keys, &source.url, true)
        .await
        .expect_err("a table is missing")
        .to_string();
    assert_eq!(
        err,
        r#"source database is not the original CRM: column "Contact"."jobTitle" is missing; table "Deal" is missing"#
    );
    assert_eq!(row_counts(app).await, [0; 6], "nothing written");

    // a failure half-way (an unreadable deal, after users and contacts) leaves nothing
    let broken = Source::new(true).await;
    broken
        .exec(&format!(
            r#"ALTER TABLE "Deal" ALTER COLUMN "expectedCloseDate" DROP NOT NULL;
               UPDATE "Deal" SET "expectedCloseDate" = NULL WHERE "id" = '{DEAL_NEGOTIATION}';"#
        ))
        .await;
    let err = original::import(&app.db, &keys, &broken.url, false)
        .await
        .expect_err("an unreadable value")
        .to_string();
    assert!(err.contains("\"Deal\".\"expectedCloseDate\""), "{err}");
    assert_eq!(row_counts(app).await, [0; 6], "all or nothing");
    broken.drop().await;

    // a database that is not there: said so, without the password of the URL
    let (prefix, _) = source.url.rsplit_once('/').unwrap();
    let missing = format!("{prefix}/crm_no_such_database").replacen("://postgres@", "://postgres:s3cret@", 1);
    let err = original::import(&app.db, &keys, &missing, false)
        .await
        .expect_err("no such database")
        .to_string();
    assert!(
        err.starts_with("cannot connect to the source database postgres://postgres:***@"),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "{err}");

    let err = original::import(&app.db, &keys, "sqlite://./crm.db", false)
        .await
        .expect_err("not PostgreSQL")
        .to_string();
    assert!(err.contains("must be a postgres:// URL"), "{err}");
}

fn crm(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    crate::cli::crm(dir, args, None)
}

#[test]
fn the_import_command_explains_itself() {
    let dir = std::env::temp_dir().join(format!("crm-cli-{}", Uuid::new_v4().simple()));
    let (ok, out, _) = crm(&dir, &["import", "original", "--help"]);
    assert!(ok, "{out}");
    assert!(out.contains("Move in from the original CRM app"), "{out}");
    assert!(
        out.contains("--from <FROM>") && out.contains("The original app's database"),
        "{out}"
    );
    assert!(out.contains("--dry-run") && out.contains("write nothing"), "{out}");
    let (ok, _, err) = crm(&dir, &["import", "original"]);
    assert!(!ok && err.contains("--from"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
#[ignore = "needs PostgreSQL for the original's database: TEST_DATABASE_URL=… cargo test -- --ignored"]
async fn the_import_command_on_a_real_source() {
    let source = Source::new(true).await;
    let dir = std::env::temp_dir().join(format!("crm-cli-{}", Uuid::new_v4().simple()));
    let url = source.url.clone();
    let (ok, out, err) = crm(&dir, &["import", "original", "--from", &url, "--dry-run"]);
    assert!(ok, "{err}");
    assert!(out.starts_with("dry run: nothing was written"), "{out}");
    assert!(out.contains("users: 6 created, 0 updated, 0 unchanged\n"), "{out}");
    let (ok, out, err) = crm(&dir, &["import", "original", "--from", &url]);
    assert!(ok, "{err}");
    assert!(!out.contains("dry run"), "{out}");
    assert!(out.contains("deals: 5 created, 0 updated, 0 unchanged\n"), "{out}");
    assert!(out.contains("note: user pending@orig.example: unknown role"), "{out}");
    let (ok, out, err) = crm(&dir, &["import", "original", "--from", &url]);
    assert!(ok, "{err}");
    assert!(out.contains("users: 0 created, 0 updated, 6 unchanged\n"), "{out}");
    assert!(out.contains("deals: 0 created, 0 updated, 5 unchanged\n"), "{out}");
    let (ok, out, _) = crm(&dir, &["user", "list"]);
    assert!(ok && out.contains("admin@orig.example"), "{out}");

    source.exec(r#"DROP TABLE "Deal" CASCADE"#).await;
    let (ok, _, err) = crm(&dir, &["import", "original", "--from", &url]);
    assert!(!ok, "non-zero exit");
    assert!(
        err.contains(r#"source database is not the original CRM: table "Deal" is missing"#),
        "{err}"
    );
    source.drop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
