//! Roles, ownership and admin user management: a permission matrix generated from the
//! spec's table, last-admin protection, access cut at once, deletion that never destroys
//! the team's data, and the audit log.

use crm_core::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::{Client, TestApp};

/// spec/auth-and-security.md §12 as this product enforces it (contract.md wins):
/// contacts — admin all; manager reads all, changes own; rep own only, others' are 404.
async fn contact_matrix(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let manager = app.user(Role::Manager).await;
    let rep = app.user(Role::Rep).await;
    let other_rep = app.user(Role::Rep).await;
    let who: [(&str, &Client); 3] = [("admin", &admin), ("manager", &manager), ("rep", &rep)];
    for (name, actor) in who {
        let own = actor.contact("Own", name, json!({})).await;
        let others = other_rep.contact("Other", name, json!({})).await;
        // (read own, read other's, change own, change other's)
        let expect = match name {
            "admin" => [200, 200, 200, 200],
            "manager" => [200, 200, 200, 403],
            _ => [200, 404, 200, 404],
        };
        let got = [
            actor.get(&format!("/api/contacts/{own}")).await.0.as_u16(),
            actor.get(&format!("/api/contacts/{others}")).await.0.as_u16(),
            actor
                .put(&format!("/api/contacts/{own}"), json!({"jobTitle": "x"}))
                .await
                .0
                .as_u16(),
            actor
                .put(&format!("/api/contacts/{others}"), json!({"jobTitle": "x"}))
                .await
                .0
                .as_u16(),
        ];
        assert_eq!(got, expect, "{name}: read own/other, change own/other");
        let del_other = actor.delete(&format!("/api/contacts/{others}")).await.0.as_u16();
        assert_eq!(del_other, expect[3], "{name}: delete other's");
    }
    // visible rows and totals: the rep sees exactly their own
    let (_, v) = rep.get("/api/contacts?limit=200").await;
    let rows = v["data"].as_array().unwrap();
    assert!(
        rows.iter().all(|c| c["userId"] == rep.id().to_string()),
        "no other owner's row"
    );
    assert_eq!(
        v["pagination"]["total"].as_u64().unwrap() as usize,
        rows.len(),
        "the total leaks nothing either"
    );
    let (_, v) = manager.get("/api/contacts?limit=200").await;
    assert!(v["pagination"]["total"].as_u64().unwrap() >= 4);
}
both!(contact_matrix);

async fn user_endpoints_matrix(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let manager = app.user(Role::Manager).await;
    let rep = app.user(Role::Rep).await;
    let target = app.user(Role::Rep).await;
    let t = target.id();
    let who: [(&str, &Client); 3] = [("admin", &admin), ("manager", &manager), ("rep", &rep)];
    for (name, c) in who {
        let n = &uuid::Uuid::new_v4().simple().to_string()[..6];
        let new_rep = json!({"name": "New", "email": format!("r{n}@example.com"), "password": "a good long password", "role": "rep"});
        let new_admin = json!({"name": "New", "email": format!("a{n}@example.com"), "password": "a good long password", "role": "admin"});
        let got = [
            c.get("/api/admin/users").await.0.as_u16(),
            c.get(&format!("/api/admin/users/{t}")).await.0.as_u16(),
            c.post("/api/admin/users", new_rep).await.0.as_u16(),
            c.post("/api/admin/users", new_admin).await.0.as_u16(),
            c.put(&format!("/api/admin/users/{t}"), json!({"bio": "edited"}))
                .await
                .0
                .as_u16(),
            c.post(&format!("/api/admin/users/{t}/verify-email"), json!({}))
                .await
                .0
                .as_u16(),
            c.get("/api/admin/audit").await.0.as_u16(),
        ];
        let expect = match name {
            "admin" => [200, 200, 201, 201, 200, 200, 200],
            "manager" => [200, 200, 201, 403, 403, 403, 403],
            _ => [403, 403, 403, 403, 403, 403, 403],
        };
        assert_eq!(
            got, expect,
            "{name}: list, get, create rep, create admin, update, verify, audit"
        );
    }
    let (_, v) = rep.get("/api/admin/users").await;
    assert_eq!(v["error"], "You don't have permission to read users");
    let (st, v) = admin
        .post(
            "/api/admin/users",
            json!({"name": "X", "email": "x@example.com", "password": "a good long password", "role": "owner"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["fieldErrors"]["role"], "Role must be one of: admin, manager, rep");
    let (_, v) = admin.get(&format!("/api/admin/users/{t}")).await;
    let text = v.to_string();
    assert!(
        !text.contains("argon2") && !text.contains("passwordHash") && !text.contains("twoFactorSecret"),
        "{text}"
    );
}
both!(user_endpoints_matrix);

async fn last_admin_and_access_cut(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let me = admin.id();
    for body in [json!({"role": "rep"}), json!({"isActive": false})] {
        let (st, v) = admin.put(&format!("/api/admin/users/{me}"), body).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
        assert_eq!(v["error"], "There must be at least one active administrator");
    }
    let (st, _) = admin.delete(&format!("/api/admin/users/{me}")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    let rep = app.user(Role::Rep).await;
    let (_, v) = rep.post("/api/auth/tokens", json!({"name": "t"})).await;
    let secret = v["data"]["token"].as_str().unwrap().to_string();
    let (st, _) = admin
        .put(&format!("/api/admin/users/{}", rep.id()), json!({"isActive": false}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = rep.get("/api/contacts").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "the session dies at once");
    let res = rep
        .http
        .get(format!("{}/api/contacts", rep.base))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "and the API token too");
    app.mail(&rep.email, "Your account has been deactivated").await;

    let manager = app.user(Role::Manager).await;
    let (st, _) = admin
        .put(&format!("/api/admin/users/{}", manager.id()), json!({"role": "rep"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = manager.get("/api/contacts").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "a role change ends the sessions");
    let (_, v) = admin.get("/api/admin/audit?action=role_change").await;
    assert_eq!(v["pagination"]["total"], 1);
    assert_eq!(v["data"][0]["changes"]["role"], json!(["manager", "rep"]));
}
both!(last_admin_and_access_cut);

async fn deleting_a_user_keeps_the_teams_data(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let leaver = app.user(Role::Rep).await;
    let heir = app.user(Role::Rep).await;
    let colleague = app.user(Role::Rep).await;
    let a = leaver.contact("Kept", "One", json!({})).await;
    leaver.contact("Kept", "Two", json!({})).await;
    let (_, v) = admin.get(&format!("/api/admin/users/{}", leaver.id())).await;
    assert_eq!(v["data"]["owned"]["contacts"], 2, "counts shown before deleting");
    let (st, _) = admin
        .delete(&format!("/api/admin/users/{}?reassignTo={}", leaver.id(), heir.id()))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, v) = heir.get("/api/contacts").await;
    assert_eq!(v["pagination"]["total"], 2, "reassigned, not destroyed");

    // delete mode: the user's own records go, a colleague's deal on their contact survives
    let leaver2 = app.user(Role::Rep).await;
    let with_deal = leaver2.contact("Has", "ColleagueDeal", json!({})).await;
    leaver2.contact("Plain", "Contact", json!({})).await;
    app.insert_deal(&with_deal, colleague.id(), "Colleague's deal", 100)
        .await;
    let (st, _) = admin
        .delete(&format!("/api/admin/users/{}?deleteRecords=true", leaver2.id()))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = admin.get(&format!("/api/contacts/{with_deal}")).await;
    assert_eq!(st, StatusCode::OK, "the contact carrying a colleague's deal is kept");
    assert_eq!(
        v["data"]["userId"],
        admin.id().to_string(),
        "and now belongs to the deleting admin"
    );
    let (_, v) = admin.get("/api/contacts?search=plain").await;
    assert_eq!(v["pagination"]["total"], 0, "the leaver's plain contact is deleted");
    let (st, _) = admin.get(&format!("/api/contacts/{a}")).await;
    assert_eq!(st, StatusCode::OK);
}
both!(deleting_a_user_keeps_the_teams_data);

async fn admin_pages(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let rep = app.user(Role::Rep).await;
    let (st, html) = admin.page("/admin/users").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(&rep.email));
    let (st, _) = rep.page("/admin/users").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _, loc) = admin
        .form(
            "/admin/users/new",
            &[
                ("name", "Page Made"),
                ("email", "page.made@example.com"),
                ("password", "a good long password"),
                ("role", "manager"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, html) = admin.page(loc.as_deref().unwrap()).await;
    assert!(html.contains("Page Made") && html.contains("manager"));
    let (st, html) = admin.page("/admin/audit").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("create"));
}
both!(admin_pages);

async fn bulk_assign_respects_roles(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let manager = app.user(Role::Manager).await;
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    let a = other.contact("Bulk", "One", json!({})).await;
    let b = manager.contact("Bulk", "Two", json!({})).await;
    let (st, _) = rep
        .post(
            "/api/contacts/bulk-assign",
            json!({"ids": [a], "userId": rep.id().to_string()}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "assigning to yourself is allowed");
    let (_, v) = rep.get("/api/contacts").await;
    assert_eq!(v["pagination"]["total"], 0, "but only records you may change move");
    let (st, _) = rep
        .post(
            "/api/contacts/bulk-assign",
            json!({"ids": [a], "userId": other.id().to_string()}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, v) = manager
        .post(
            "/api/contacts/bulk-assign",
            json!({"ids": [a, b], "userId": rep.id().to_string()}),
        )
        .await;
    assert_eq!(v["data"]["assigned"], 1, "a manager moves only their own");
    let (_, v) = admin
        .post(
            "/api/contacts/bulk-assign",
            json!({"ids": [a], "userId": rep.id().to_string()}),
        )
        .await;
    assert_eq!(v["data"]["assigned"], 1);
    let (_, v) = rep.get("/api/contacts").await;
    assert_eq!(v["pagination"]["total"], 2);
}
both!(bulk_assign_respects_roles);

/// The same matrix for the records attached to contacts: deals, tasks, activities — get,
/// change (PUT), the PATCH move/toggle where there is one, delete, and the visible rows.
async fn attached_records_matrix(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let manager = app.user(Role::Manager).await;
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    let who: [(&str, &Client); 3] = [("admin", &admin), ("manager", &manager), ("rep", &rep)];
    for (name, actor) in who {
        let mine_c = actor.contact("Own", &format!("{name}C"), json!({})).await;
        let their_c = other.contact("Other", &format!("{name}C"), json!({})).await;
        for kind in ["deals", "tasks", "activities"] {
            let body = |c: &str| match kind {
                "deals" => json!({"name": "D", "value": 1, "expectedCloseDate": "2030-01-01", "contactId": c}),
                "tasks" => json!({"title": "T", "dueDate": "2030-01-01", "contactId": c}),
                _ => json!({"subject": "A", "contactId": c}),
            };
            let (_, v) = actor.post(&format!("/api/{kind}"), body(&mine_c)).await;
            let mine = v["data"]["id"].as_str().unwrap().to_string();
            let (_, v) = other.post(&format!("/api/{kind}"), body(&their_c)).await;
            let theirs = v["data"]["id"].as_str().unwrap().to_string();
            let change = match kind {
                "deals" => json!({"name": "changed"}),
                "tasks" => json!({"title": "changed"}),
                _ => json!({"subject": "changed"}),
            };
            let patch = match kind {
                "deals" => Some(json!({"stage": "qualified"})),
                "tasks" => Some(json!({"completed": true})),
                _ => None,
            };
            let patch_status = |id: String| {
                let patch = patch.clone();
                async move {
                    match patch {
                        Some(p) => actor
                            .http
                            .patch(format!("{}/api/{kind}/{id}", actor.base))
                            .header("X-CSRF-Token", actor.csrf.clone().unwrap())
                            .json(&p)
                            .send()
                            .await
                            .unwrap()
                            .status()
                            .as_u16(),
                        None => 0,
                    }
                }
            };
            let expect_other = match name {
                "admin" => [200, 200, 200],
                "manager" => [200, 403, 403],
                _ => [404, 404, 404],
            };
            let got_other = [
                actor.get(&format!("/api/{kind}/{theirs}")).await.0.as_u16(),
                actor
                    .put(&format!("/api/{kind}/{theirs}"), change.clone())
                    .await
                    .0
                    .as_u16(),
                if patch.is_some() {
                    patch_status(theirs.clone()).await
                } else {
                    expect_other[2]
                },
            ];
            assert_eq!(
                got_other, expect_other,
                "{name} on another rep's {kind}: get, put, patch"
            );
            assert_eq!(
                actor.put(&format!("/api/{kind}/{mine}"), change).await.0,
                StatusCode::OK,
                "{name} changes own {kind}"
            );
            let del = actor.delete(&format!("/api/{kind}/{theirs}")).await.0.as_u16();
            assert_eq!(
                del,
                if name == "admin" { 200 } else { expect_other[1] },
                "{name} deletes another rep's {kind}"
            );
            // a rep cannot attach to a contact they cannot see
            if name == "rep" {
                let (st, v) = actor.post(&format!("/api/{kind}"), body(&their_c)).await;
                assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
                assert_eq!(v["fieldErrors"]["contactId"], "Contact not found");
            }
        }
    }
    // visible rows and totals for the rep: only their own, everywhere
    for kind in ["deals", "tasks", "activities"] {
        let (_, v) = rep.get(&format!("/api/{kind}?limit=200")).await;
        let rows = v["data"].as_array().unwrap();
        assert!(
            rows.iter().all(|r| r["userId"] == rep.id().to_string()),
            "{kind}: no other owner's row"
        );
        assert_eq!(
            v["pagination"]["total"].as_u64().unwrap() as usize,
            rows.len(),
            "{kind}: totals leak nothing"
        );
    }
}
both!(attached_records_matrix);

/// Invite by e-mail → the invitee chooses name and password from the link and is signed in;
/// pending invitations are listed, resendable (the old link dies) and revocable; managers
/// invite reps only; the link works once and not after 7 days.
async fn team_invitations(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let manager = app.user(Role::Manager).await;
    let rep = app.user(Role::Rep).await;
    let (st, v) = admin
        .post(
            "/api/admin/invites",
            json!({"email": "New.Person@Example.com", "role": "manager"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"]["email"], "new.person@example.com");
    let id = v["data"]["id"].as_str().unwrap().to_string();
    let first = app.mail("new.person@example.com", "You are invited to the CRM").await;
    assert!(first.contains("as a manager") && first.contains("7 days"), "{first}");
    let first_token = TestApp::token_in(&first, "/invite");
    // listed as pending, not among users; cannot sign in yet
    let (_, v) = admin.get("/api/admin/invites").await;
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
    let (_, v) = admin.get("/api/admin/users?search=new.person").await;
    assert_eq!(v["pagination"]["total"], 0, "pending invitations are not users yet");
    let (_, html) = admin.page("/admin/users").await;
    assert!(html.contains("Pending invitations") && html.contains("new.person@example.com"));
    // inviting the same address again says what to do
    let (st, v) = admin
        .post(
            "/api/admin/invites",
            json!({"email": "new.person@example.com", "role": "rep"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["fieldErrors"]["email"],
        "This address is already invited: resend the invitation instead"
    );
    let (st, v) = admin
        .post("/api/admin/invites", json!({"email": rep.email, "role": "rep"}))
        .await;
    assert_eq!(
        (st, v["fieldErrors"]["email"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Email already exists"))
    );
    // managers invite reps only, reps nobody
    let (st, _) = manager
        .post(
            "/api/admin/invites",
            json!({"email": "boss@example.com", "role": "admin"}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = rep
        .post("/api/admin/invites", json!({"email": "x@example.com", "role": "rep"}))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = manager
        .post(&format!("/api/admin/invites/{id}/resend"), json!({}))
        .await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "a manager cannot resend a manager's invitation"
    );

    // resend: a new link, the first no longer works
    let (st, _) = admin.post(&format!("/api/admin/invites/{id}/resend"), json!({})).await;
    assert_eq!(st, StatusCode::OK);
    let anon = app.anonymous();
    let (st, html) = anon.page(&format!("/invite?token={first_token}")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("invalid"), "{html}");
    let mut second = None;
    for _ in 0..100 {
        second = app
            .mails("new.person@example.com")
            .into_iter()
            .rfind(|m| !m.contains(&first_token));
        if second.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let second = second.expect("a second mail");
    let token = TestApp::token_in(&second, "/invite");
    let (st, html) = anon.page(&format!("/invite?token={token}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("new.person@example.com") && html.contains("Join the team"));
    // errors next to the fields, nothing used up
    let (st, html, _) = anon
        .form(
            "/invite",
            &[
                ("token", &token),
                ("name", ""),
                ("password", "short"),
                ("confirmPassword", "short"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("Name is required"), "{html}");
    let (st, _, loc) = anon
        .form(
            "/invite",
            &[
                ("token", &token),
                ("name", "Nia Newcomer"),
                ("password", "a long enough passphrase"),
                ("confirmPassword", "a long enough passphrase"),
            ],
        )
        .await;
    assert_eq!((st, loc.as_deref()), (StatusCode::SEE_OTHER, Some("/?done=welcome")));
    let (_, s) = anon.get("/api/auth/session").await;
    assert_eq!(s["data"]["user"]["name"], "Nia Newcomer");
    assert_eq!(s["data"]["user"]["role"], "manager");
    let (_, v) = admin.get("/api/admin/invites").await;
    assert_eq!(v["data"].as_array().unwrap().len(), 0);
    let (_, v) = admin.get("/api/admin/users?search=nia").await;
    assert_eq!(v["data"][0]["isActive"], true);
    assert!(v["data"][0]["emailVerified"].is_string());
    // the link works once
    let (st, _, _) = app
        .anonymous()
        .form(
            "/invite",
            &[
                ("token", &token),
                ("name", "Again"),
                ("password", "another long passphrase"),
                ("confirmPassword", "another long passphrase"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    // revoke: the link dies and the address can be invited again
    let (_, v) = manager
        .post(
            "/api/admin/invites",
            json!({"email": "temp@example.com", "role": "rep"}),
        )
        .await;
    let tid = v["data"]["id"].as_str().unwrap().to_string();
    let tmail = app.mail("temp@example.com", "You are invited").await;
    let ttoken = TestApp::token_in(&tmail, "/invite");
    let (st, _, loc) = manager.form(&format!("/admin/invites/{tid}/revoke"), &[]).await;
    assert_eq!(
        (st, loc.as_deref()),
        (StatusCode::SEE_OTHER, Some("/admin/users?done=invite-revoked"))
    );
    let (st, _) = anon.page(&format!("/invite?token={ttoken}")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _, loc) = manager
        .form("/admin/invites", &[("email", "temp@example.com"), ("role", "rep")])
        .await;
    assert_eq!(
        (st, loc.as_deref()),
        (StatusCode::SEE_OTHER, Some("/admin/users?done=invited"))
    );
    // the page form shows errors next to the field
    let (st, html, _) = manager
        .form("/admin/invites", &[("email", "not-an-email"), ("role", "rep")])
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("Invalid email format") && html.contains("value=\"not-an-email\""),
        "{html}"
    );

    // an expired link
    let (_, v) = admin
        .post(
            "/api/admin/invites",
            json!({"email": "late@example.com", "role": "rep"}),
        )
        .await;
    let late = app.mail("late@example.com", "You are invited").await;
    let ltoken = TestApp::token_in(&late, "/invite");
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    crm_core::unscoped::verification_token::Entity::update_many()
        .col_expr(
            crm_core::unscoped::verification_token::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .filter(
            crm_core::unscoped::verification_token::Column::UserId
                .eq(uuid::Uuid::parse_str(v["data"]["id"].as_str().unwrap()).unwrap()),
        )
        .exec(app.db.unscoped())
        .await
        .unwrap();
    let (st, html) = anon.page(&format!("/invite?token={ltoken}")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("expired"), "{html}");
}
both!(team_invitations);

/// The audit log names records (linked while they exist), not only their ids.
async fn audit_log_names_records(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let kept = admin.contact("Kept", "Around", json!({})).await;
    let gone = admin.contact("Gone", "Away", json!({})).await;
    admin.delete(&format!("/api/contacts/{gone}")).await;
    let (_, html) = admin.page("/admin/audit?entityType=contact").await;
    assert!(
        html.contains(&format!("<a href=\"/contacts/{kept}\">Kept Around</a>")),
        "{html}"
    );
    assert!(
        html.contains("Gone Away <span class=\"muted\">(deleted)</span>"),
        "{html}"
    );
    let (_, v) = admin.get("/api/admin/audit?entityType=contact&action=delete").await;
    assert_eq!(v["data"][0]["entityName"], "Gone Away");
}
both!(audit_log_names_records);

/// Refusals are audited: a rep reading another rep's contact (404 to them), a manager
/// changing a rep's record (403), a rep calling an admin endpoint; with IP and route; one
/// user cannot flood the log, and repeated refusals alert the admins once.
async fn refusals_are_audited_and_alerted(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    let manager = app.user(Role::Manager).await;
    let theirs = other.contact("Not", "Yours", json!({})).await;
    let (st, _) = rep.get(&format!("/api/contacts/{theirs}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, v) = admin
        .get(&format!("/api/admin/audit?action=denied&actorId={}", rep.id()))
        .await;
    assert_eq!(v["pagination"]["total"], 1, "{v}");
    let e = &v["data"][0];
    assert_eq!(e["entityType"], "contact");
    assert_eq!(e["entityId"], theirs.as_str());
    assert_eq!(e["changes"]["route"], format!("GET /api/contacts/{theirs}"));
    assert_eq!(e["ipAddress"], "127.0.0.1");
    // a missing record is not a refusal
    let (st, _) = rep.get(&format!("/api/contacts/{}", uuid::Uuid::new_v4())).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, v) = admin
        .get(&format!("/api/admin/audit?action=denied&actorId={}", rep.id()))
        .await;
    assert_eq!(v["pagination"]["total"], 1);
    // a manager changing a rep's record, a rep at an admin endpoint, a page as well
    let (st, _) = manager
        .put(&format!("/api/contacts/{theirs}"), json!({"jobTitle": "x"}))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, v) = admin
        .get(&format!("/api/admin/audit?action=denied&actorId={}", manager.id()))
        .await;
    assert_eq!(v["pagination"]["total"], 1);
    let (st, _) = rep.get("/api/admin/users").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = rep.page(&format!("/contacts/{theirs}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, v) = admin
        .get(&format!("/api/admin/audit?action=denied&actorId={}", rep.id()))
        .await;
    assert_eq!(v["pagination"]["total"], 3, "{v}");
    assert!(v["data"].as_array().unwrap().iter().any(|e| e["entityType"] == "admin"));
    let (_, html) = admin.page("/admin/audit?action=denied").await;
    assert!(html.contains("denied") && html.contains("Not Yours"), "{html}");

    // a flood: written one by one up to the cap, then counted on the newest entry
    for _ in 0..40 {
        rep.get(&format!("/api/contacts/{theirs}")).await;
    }
    let (_, v) = admin
        .get(&format!(
            "/api/admin/audit?action=denied&actorId={}&limit=100",
            rep.id()
        ))
        .await;
    let total = v["pagination"]["total"].as_u64().unwrap();
    assert_eq!(total, 30, "at most 30 a minute: {v}");
    assert!(
        v["data"][0]["changes"]["suppressed"].as_u64().unwrap() >= 13,
        "{}",
        v["data"][0]
    );
    // 20 in five minutes alerted the admins, once
    let alert = app.mail(&admin.email, "Repeated permission denials").await;
    assert!(alert.contains(&rep.email), "{alert}");
    let alerts = app
        .mails(&admin.email)
        .into_iter()
        .filter(|m| m.contains("Subject: Repeated permission denials"))
        .count();
    assert_eq!(alerts, 1);
}
both!(refusals_are_audited_and_alerted);

/// Organisation settings: admins set the name, currency and date format; every page then
/// writes amounts and dates that way; others may read them, not change them.
async fn organisation_settings_apply_everywhere(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let rep = app.user(Role::Rep).await;
    let (_, v) = rep.get("/api/settings").await;
    assert_eq!(
        v["data"],
        json!({"name": "CRM", "currency": "USD", "timeZone": "UTC", "dateFormat": "mdy", "weekStart": "monday"})
    );
    let c = rep.contact("Euro", "Buyer", json!({})).await;
    let (_, d) = rep
        .post(
            "/api/deals",
            json!({"name": "Big one", "value": 1234.5, "expectedCloseDate": "2030-03-04", "contactId": c}),
        )
        .await;
    let deal = d["data"]["id"].as_str().unwrap().to_string();
    let (_, html) = rep.page(&format!("/deals/{deal}")).await;
    assert!(html.contains("$1,234.50") && html.contains("Mar 4, 2030"), "{html}");

    let (st, _) = rep.put("/api/admin/settings", json!({"currency": "EUR"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v) = admin
        .put("/api/admin/settings", json!({"currency": "XYZ", "dateFormat": "ddmm"}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        v["fieldErrors"]["currency"]
            .as_str()
            .unwrap()
            .starts_with("Currency must be one of: USD, EUR")
    );
    assert!(v["fieldErrors"]["dateFormat"].is_string());
    let (st, v) = admin
        .put(
            "/api/admin/settings",
            json!({"name": "Acme Sales", "currency": "eur", "dateFormat": "dmy"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v["data"],
        json!({"name": "Acme Sales", "currency": "EUR", "timeZone": "UTC", "dateFormat": "dmy", "weekStart": "monday"})
    );
    // weeks: "this week" in reports starts on the chosen day
    use chrono::Datelike;
    let today = chrono::Utc::now().date_naive();
    let sunday = today - chrono::Duration::days(today.weekday().num_days_from_sunday() as i64);
    let monday = today - chrono::Duration::days(today.weekday().num_days_from_monday() as i64);
    let (_, v) = rep.get("/api/reports?tab=sales&preset=week").await;
    assert_eq!(v["data"]["from"], monday.to_string(), "{v}");
    let (st, _) = admin.put("/api/admin/settings", json!({"weekStart": "Sunday"})).await;
    assert_eq!(st, StatusCode::OK);
    let (_, v) = rep.get("/api/reports?tab=sales&preset=week").await;
    assert_eq!(v["data"]["from"], sunday.to_string(), "{v}");
    let (_, html) = rep.page("/?tab=activities").await;
    assert!(html.contains("Since Sunday"), "{html}");
    let (st, v) = admin.put("/api/admin/settings", json!({"weekStart": "friday"})).await;
    assert_eq!(
        (st, v["fieldErrors"]["weekStart"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Week start must be monday or sunday"))
    );
    let (_, html) = rep.page(&format!("/deals/{deal}")).await;
    assert!(html.contains("€1,234.50") && html.contains("4 Mar 2030"), "{html}");
    assert!(
        html.contains("<span>Acme Sales</span>") && !html.contains("$1,234"),
        "the brand and no dollars"
    );
    // the page form: errors next to the field, a save comes back with a notice
    let (st, html, _) = admin
        .form(
            "/admin/settings",
            &[("name", ""), ("currency", "JPY"), ("dateFormat", "ymd")],
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("Organisation name is required"), "{html}");
    let (st, _, loc) = admin
        .form(
            "/admin/settings",
            &[("name", "Acme Sales"), ("currency", "JPY"), ("dateFormat", "ymd")],
        )
        .await;
    assert_eq!(
        (st, loc.as_deref()),
        (StatusCode::SEE_OTHER, Some("/admin/settings?done=updated"))
    );
    let (_, html) = rep.page(&format!("/deals/{deal}")).await;
    assert!(
        html.contains("¥1,235") && html.contains("2030-03-04"),
        "yen have no minor unit: {html}"
    );
    let (st, _, _) = admin.form("/admin/settings", &[("currency", "DOGE")]).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = rep.page("/admin/settings").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, v) = admin.get("/api/admin/audit?entityType=settings").await;
    assert_eq!(v["pagination"]["total"], 3);
}
both!(organisation_settings_apply_everywhere);

/// The organisation's time zone decides what a day is: report buckets (tallies written by
/// the triggers and rebuilt when the zone changes), dates given without a time, the
/// heatmap's hours, CSV times and the pages' dates.
async fn the_time_zone_decides_what_a_day_is(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let c = admin.contact("Late", "Caller", json!({})).await;
    // 22:30 on Feb 28 in New York is 03:30 on Mar 1 in UTC
    let late = json!({"type": "call", "subject": "Late call", "contactId": c, "createdAt": "2026-03-01T03:30:00Z"});
    let (st, v) = admin.post("/api/activities", late).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let per_day = |v: &serde_json::Value| -> Vec<(String, f64)> {
        v["data"]["activity"]["overTime"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["label"].as_str().unwrap().to_string(), p["value"].as_f64().unwrap()))
            .collect()
    };
    let report = "/api/reports?tab=activity&preset=custom&from=2026-02-28&to=2026-03-01&groupBy=day";
    let (_, v) = admin.get(report).await;
    assert_eq!(
        per_day(&v),
        vec![("2026-02-28".into(), 0.0), ("2026-03-01".into(), 1.0)],
        "{v}"
    );

    let (st, v) = admin
        .put("/api/admin/settings", json!({"timeZone": "Mars/Olympus_Mons"}))
        .await;
    assert_eq!(
        (st, v["fieldErrors"]["timeZone"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("Time zone must be an IANA name such as Europe/Berlin or America/New_York")
        )
    );
    let (st, v) = admin
        .put("/api/admin/settings", json!({"timeZone": "America/New_York"}))
        .await;
    assert_eq!(
        (st, v["data"]["timeZone"].as_str()),
        (StatusCode::OK, Some("America/New_York")),
        "{v}"
    );
    // the tallies were rebuilt by New York's days: the call was on Feb 28, at 22:00
    let (_, v) = admin.get(report).await;
    assert_eq!(
        per_day(&v),
        vec![("2026-02-28".into(), 1.0), ("2026-03-01".into(), 0.0)],
        "{v}"
    );
    let heat = &v["data"]["activity"]["heatmap"];
    assert_eq!(heat[5][22], 1, "Saturday 22:00 in New York: {heat}");
    // and the triggers write new records by New York's days too
    let early = json!({"type": "note", "subject": "Early note", "contactId": c, "createdAt": "2026-03-01T04:59:00Z"});
    admin.post("/api/activities", early).await;
    let (_, v) = admin.get(report).await;
    assert_eq!(
        per_day(&v),
        vec![("2026-02-28".into(), 2.0), ("2026-03-01".into(), 0.0)],
        "{v}"
    );

    // a date without a time is the start of that day in New York (EST, UTC-5)
    let (_, t) = admin
        .post(
            "/api/tasks",
            json!({"title": "Call back", "dueDate": "2026-12-01", "contactId": c}),
        )
        .await;
    assert_eq!(t["data"]["dueDate"], "2026-12-01T05:00:00.000Z", "{t}");
    let task = t["data"]["id"].as_str().unwrap().to_string();
    let (_, html) = admin.page(&format!("/tasks/{task}/edit")).await;
    assert!(
        html.contains("value=\"2026-12-01\""),
        "the form shows the day it was given: {html}"
    );
    // CSV times are New York's wall clock with its offset
    let (_, csv) = admin.page("/api/activities/export").await;
    assert!(csv.contains("2026-02-28T22:30:00.000-05:00"), "{csv}");
    // pages say which zone their days are in
    let (_, html) = admin.page("/reports").await;
    assert!(html.contains("America/New_York days"), "{html}");

    // a half-hour zone: a task completed at 18:40 UTC on Nov 29 was completed at 00:10 on
    // Nov 30 in Kolkata (UTC+5:30), in the tasks report's daily series too
    admin
        .put("/api/admin/settings", json!({"timeZone": "Asia/Kolkata"}))
        .await;
    let (st, _) = admin
        .patch(&format!("/api/tasks/{task}"), json!({"completed": true}))
        .await;
    assert_eq!(st, StatusCode::OK);
    {
        use crm_core::unscoped::task as t;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-29T18:40:00Z")
            .unwrap()
            .to_utc();
        t::Entity::update_many()
            .col_expr(t::Column::CompletedAt, Expr::value(Some(at)))
            .filter(t::Column::Id.eq(uuid::Uuid::parse_str(&task).unwrap()))
            .exec(app.db.unscoped())
            .await
            .unwrap();
    }
    let completions = |from: &'static str| {
        let admin = &admin;
        async move {
            let (_, v) = admin
                .get(&format!(
                    "/api/reports?tab=tasks&preset=custom&from={from}&to=2026-11-30&groupBy=day"
                ))
                .await;
            v["data"]["tasks"]["completedOverTime"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p["label"].as_str().unwrap().to_string(), p["value"].as_f64().unwrap()))
                .collect::<Vec<(String, f64)>>()
        }
    };
    let done = completions("2026-11-29").await;
    assert_eq!(done, vec![("2026-11-29".into(), 0.0), ("2026-11-30".into(), 1.0)]);
    // the same days in a series of 100 (PostgreSQL counts so many per quarter hour)
    let long = completions("2026-08-23").await;
    assert_eq!((long.len(), &long[98..]), (100, &done[..]));

    // back to UTC: the call returns to Mar 1
    admin.put("/api/admin/settings", json!({"timeZone": "UTC"})).await;
    let (_, v) = admin.get(report).await;
    assert_eq!(
        per_day(&v),
        vec![("2026-02-28".into(), 0.0), ("2026-03-01".into(), 2.0)],
        "{v}"
    );
}
both!(the_time_zone_decides_what_a_day_is);

/// `POST /api/admin/users` honours `isActive` like `PUT` does; `/api/v1` is the same API.
async fn created_users_may_start_inactive_and_v1_is_the_api(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let (st, v) = admin
        .post(
            "/api/v1/admin/users",
            json!({"name": "Later", "email": "later@example.com", "password": "a long enough passphrase", "role": "rep", "isActive": false}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"]["isActive"], false);
    let (st, v) = admin
        .post(
            "/api/admin/users",
            json!({"name": "Bad", "email": "bad@example.com", "password": "a long enough passphrase", "role": "rep", "isActive": "maybe"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["fieldErrors"]["isActive"], "isActive must be true or false");
    let (st, _) = app
        .anonymous()
        .post(
            "/api/auth/signin",
            json!({"email": "later@example.com", "password": "a long enough passphrase"}),
        )
        .await;
    assert!(st.is_client_error(), "an inactive user cannot sign in");
    let (_, a) = admin.get("/api/v1/admin/users?search=later").await;
    let (_, b) = admin.get("/api/admin/users?search=later").await;
    assert_eq!(a, b);
    let (st, v) = admin.get("/api/v1/nope").await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("No such API endpoint"))
    );
}
both!(created_users_may_start_inactive_and_v1_is_the_api);
