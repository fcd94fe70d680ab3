//! Dashboard and reports metrics against a fixed data set with hand-computed expectations,
//! on both databases (the same numbers, UTC day buckets). Timestamps are moved into the
//! past directly in the database, which also exercises the tally triggers on UPDATE.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use crm_core::Role;
use crm_core::unscoped::{activity, contact, deal, deal_stage_history};
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both;
use crate::support::{Client, TestApp};

fn uuid(v: &Value) -> Uuid {
    v["data"]["id"].as_str().expect("an id").parse().expect("a uuid")
}

async fn set_time<E: EntityTrait>(app: &TestApp, id_col: E::Column, col: E::Column, id: Uuid, t: DateTime<Utc>)
where
    E::Column: ColumnTrait,
{
    E::update_many()
        .col_expr(col, Expr::value(t))
        .filter(id_col.eq(id))
        .exec(app.db.unscoped())
        .await
        .expect("set a timestamp");
}

fn at(d: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    d.and_hms_opt(h, m, 0).unwrap().and_utc()
}

struct Fixture {
    me: Client,
    other: Client,
    admin: Client,
    today: NaiveDate,
    c2: String,
    c4: String,
}

/// The data set (rep "me" unless noted; T = today, UTC):
/// contacts c1 customer (T−40 10:00, company Acme), c2 lead (T−10 09:00), c3 customer
/// (T−10 23:30), c4 lead (now); other: b1 lead (T−5).
/// companies Acme (technology), Beta (finance), Gamma (no industry).
/// deals d1 c1 Acme $1,000 won (created T−10), d2 c1 Acme $250.50 lead→proposal (entered
/// lead 96 h before the move), d3 c2 Beta $100 lost, d4 c2 $50 lead; other: e1 b1 Beta $99,999 lead.
/// tasks t1 high due 2020-01-01, t2 medium due T 23:59:59, t3 low due 2030 completed, t4
/// medium due 2030; other: u1 high due 2020-01-01.
/// activities call c1 (T−3 14:00), call c1 (now), email c2 (now), note c1 (T−40 08:00);
/// other: meeting b1 (now).
async fn fixture(app: &TestApp) -> Fixture {
    let admin = app.user(Role::Admin).await;
    let me = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    let now = Utc::now();
    let today = now.date_naive();
    let company = |name: &str, industry: Option<&str>| {
        let mut body = json!({ "name": name });
        if let Some(i) = industry {
            body["industry"] = json!(i);
        }
        body
    };
    let (_, acme) = admin.post("/api/companies", company("Acme", Some("technology"))).await;
    let (_, beta) = admin.post("/api/companies", company("Beta", Some("finance"))).await;
    let (st, _) = admin.post("/api/companies", company("Gamma", None)).await;
    assert_eq!(st, StatusCode::CREATED);
    let (acme, beta) = (uuid(&acme).to_string(), uuid(&beta).to_string());

    let c1 = me
        .contact("Cora", "One", json!({"status": "customer", "companyId": acme}))
        .await;
    let c2 = me.contact("Carl", "Two", json!({})).await;
    let c3 = me.contact("Cleo", "Three", json!({"status": "customer"})).await;
    let c4 = me.contact("Cyd", "Four", json!({})).await;
    let b1 = other.contact("Bea", "Other", json!({})).await;
    let ct = |id: &str| id.parse::<Uuid>().unwrap();
    for (id, t) in [
        (&c1, at(today - Duration::days(40), 10, 0)),
        (&c2, at(today - Duration::days(10), 9, 0)),
        (&c3, at(today - Duration::days(10), 23, 30)),
        (&b1, at(today - Duration::days(5), 12, 0)),
    ] {
        set_time::<contact::Entity>(app, contact::Column::Id, contact::Column::CreatedAt, ct(id), t).await;
    }

    let deal = |name: &str, value: f64, stage: &str, contact: &str, company: Option<&str>| {
        let mut b = json!({"name": name, "value": value, "stage": stage, "expectedCloseDate": "2030-06-01", "contactId": contact});
        if let Some(c) = company {
            b["companyId"] = json!(c);
        }
        b
    };
    let (st, d1) = me
        .post("/api/deals", deal("D1", 1000.0, "closed_won", &c1, Some(&acme)))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d1}");
    set_time::<deal::Entity>(
        app,
        deal::Column::Id,
        deal::Column::CreatedAt,
        uuid(&d1),
        now - Duration::days(10),
    )
    .await;
    let (_, d2) = me.post("/api/deals", deal("D2", 250.5, "lead", &c1, Some(&acme))).await;
    let d2 = uuid(&d2);
    deal_stage_history::Entity::update_many()
        .col_expr(
            deal_stage_history::Column::ChangedAt,
            Expr::value(now - Duration::hours(96)),
        )
        .filter(deal_stage_history::Column::DealId.eq(d2))
        .exec(app.db.unscoped())
        .await
        .unwrap();
    let (st, v) = me.put(&format!("/api/deals/{d2}"), json!({"stage": "proposal"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    me.post("/api/deals", deal("D3", 100.0, "closed_lost", &c2, Some(&beta)))
        .await;
    me.post("/api/deals", deal("D4", 50.0, "lead", &c2, None)).await;
    other
        .post("/api/deals", deal("E1", 99999.0, "lead", &b1, Some(&beta)))
        .await;

    let task = |title: &str, priority: &str, due: String, contact: &str| json!({"title": title, "priority": priority, "dueDate": due, "contactId": contact});
    me.post("/api/tasks", task("T1", "high", "2020-01-01T00:00:00Z".into(), &c1))
        .await;
    let (st, v) = me
        .post(
            "/api/tasks",
            task("T2", "medium", format!("{}T23:59:59Z", today.format("%Y-%m-%d")), &c1),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (_, t3) = me
        .post("/api/tasks", task("T3", "low", "2030-01-01T09:00:00Z".into(), &c2))
        .await;
    let (st, v) = me
        .patch(&format!("/api/tasks/{}", uuid(&t3)), json!({"completed": true}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    me.post("/api/tasks", task("T4", "medium", "2030-01-01T09:00:00Z".into(), &c3))
        .await;
    other
        .post("/api/tasks", task("U1", "high", "2020-01-01T00:00:00Z".into(), &b1))
        .await;

    let act = |kind: &str, contact: &str| json!({"type": kind, "subject": format!("{kind} log"), "contactId": contact});
    let (_, a1) = me.post("/api/activities", act("call", &c1)).await;
    set_time::<activity::Entity>(
        app,
        activity::Column::Id,
        activity::Column::CreatedAt,
        uuid(&a1),
        at(today - Duration::days(3), 14, 0),
    )
    .await;
    me.post("/api/activities", act("call", &c1)).await;
    me.post("/api/activities", act("email", &c2)).await;
    let (_, a4) = me.post("/api/activities", act("note", &c1)).await;
    set_time::<activity::Entity>(
        app,
        activity::Column::Id,
        activity::Column::CreatedAt,
        uuid(&a4),
        at(today - Duration::days(40), 8, 0),
    )
    .await;
    let (st, v) = other.post("/api/activities", act("meeting", &b1)).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    Fixture {
        me,
        other,
        admin,
        today,
        c2,
        c4,
    }
}

fn values(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("a series")
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect()
}

/// A 30-day series (index 0 = T−29) that is `base` everywhere except the given days.
fn daily(base: f64, at: &[(i64, f64)]) -> Vec<f64> {
    (0..30)
        .map(|i| at.iter().find(|(d, _)| 29 - d == i).map(|(_, v)| *v).unwrap_or(base))
        .collect()
}

async fn dashboard_metrics_match_hand_computed_values(app: &TestApp) {
    let f = fixture(app).await;
    let (st, v) = f.me.get("/api/dashboard").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let d = &v["data"];

    // contacts
    let c = &d["contacts"];
    assert_eq!(
        (c["total"].as_i64(), c["leads"].as_i64(), c["customers"].as_i64()),
        (Some(4), Some(2), Some(2))
    );
    assert_eq!(c["conversionRate"], 50.0);
    let growth: Vec<f64> = (0..30)
        .map(|i| {
            if i < 19 {
                1.0
            } else if i < 29 {
                3.0
            } else {
                4.0
            }
        })
        .collect();
    assert_eq!(
        values(&c["growth"]),
        growth,
        "cumulative per UTC day: c1 before, c2+c3 on T−10, c4 today"
    );
    assert_eq!(
        c["growth"][19]["label"],
        (f.today - Duration::days(10)).format("%Y-%m-%d").to_string()
    );
    assert_eq!(c["recent"][0]["firstName"], "Cyd");
    assert_eq!(c["recent"].as_array().unwrap().len(), 4);

    // companies
    let co = &d["companies"];
    assert_eq!(co["total"], 3);
    assert_eq!(
        co["byIndustry"],
        json!([{"label": "finance", "value": 1.0}, {"label": "technology", "value": 1.0}])
    );
    assert_eq!(co["withDeals"], 2);
    assert_eq!(co["averageDealValue"], 675.25, "(1000 + 250.50 + 100) / 2 companies");
    assert_eq!(co["totalDealValue"], 1400.5);
    let top: Vec<(String, f64)> = co["topCompanies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap().to_string(), r["value"].as_f64().unwrap()))
        .collect();
    assert_eq!(top, vec![("Acme".to_string(), 1250.5), ("Beta".to_string(), 100.0)]);
    assert_eq!(co["recent"][0]["name"], "Gamma");

    // deals
    let x = &d["deals"];
    assert_eq!(x["pipelineValue"], 300.5);
    assert_eq!(x["wonValue"], 1000.0);
    assert_eq!(x["lostValue"], 100.0);
    assert_eq!(x["winRate"], 50.0);
    assert_eq!(
        (x["openCount"].as_i64(), x["wonCount"].as_i64(), x["lostCount"].as_i64()),
        (Some(2), Some(1), Some(1))
    );
    let stages: Vec<(String, i64, f64)> = x["byStage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["stage"].as_str().unwrap().into(),
                s["count"].as_i64().unwrap(),
                s["value"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        stages,
        vec![
            ("lead".into(), 1, 50.0),
            ("qualified".into(), 0, 0.0),
            ("proposal".into(), 1, 250.5),
            ("negotiation".into(), 0, 0.0)
        ]
    );
    assert_eq!(x["recent"].as_array().unwrap().len(), 4, "only my four deals");

    // tasks
    let t = &d["tasks"];
    assert_eq!((t["total"].as_i64(), t["completed"].as_i64()), (Some(4), Some(1)));
    assert_eq!((t["overdue"].as_i64(), t["dueToday"].as_i64()), (Some(1), Some(1)));
    assert_eq!(t["completionRate"], 25.0);
    assert_eq!(values(&t["byPriority"]), vec![1.0, 2.0, 1.0], "low, medium, high");
    assert_eq!(values(&t["completionOverTime"]), daily(0.0, &[(0, 25.0)]));
    let upcoming: Vec<&str> = t["upcoming"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        upcoming,
        vec!["T1", "T2", "T4"],
        "open tasks, soonest due first, overdue included"
    );

    // activities
    let a = &d["activities"];
    assert_eq!(a["total"], 4);
    assert_eq!(
        values(&a["byType"]),
        vec![2.0, 1.0, 0.0, 1.0],
        "call, email, meeting, note"
    );
    assert_eq!(a["mostCommon"], "call");
    assert_eq!(values(&a["overTime"]), daily(0.0, &[(3, 1.0), (0, 2.0)]));
    let week_start = f.today - Duration::days(f.today.weekday().num_days_from_monday() as i64);
    let month_start = f.today.with_day(1).unwrap();
    let in_since = |from: NaiveDate| {
        [
            f.today - Duration::days(3),
            f.today,
            f.today,
            f.today - Duration::days(40),
        ]
        .iter()
        .filter(|d| **d >= from)
        .count() as i64
    };
    assert_eq!(a["thisWeek"].as_i64(), Some(in_since(week_start)));
    assert_eq!(a["thisMonth"].as_i64(), Some(in_since(month_start)));

    // the other rep and the admin
    let (_, v) = f.other.get("/api/dashboard?tab=deals").await;
    assert_eq!(v["data"]["deals"]["pipelineValue"], 99999.0);
    assert!(v["data"]["contacts"].is_null(), "one tab asked, one tab answered");
    let (_, v) = f.admin.get("/api/dashboard").await;
    let d = &v["data"];
    assert_eq!(d["contacts"]["total"], 5);
    assert_eq!(values(&d["contacts"]["growth"])[24], 4.0, "b1 joins on T−5");
    assert_eq!(d["deals"]["pipelineValue"], 100299.5);
    assert_eq!(d["companies"]["topCompanies"][0]["name"], "Beta");
    assert_eq!(d["companies"]["topCompanies"][0]["value"], 100099.0);
    assert_eq!(d["tasks"]["overdue"], 2);
    assert_eq!(values(&d["activities"]["byType"]), vec![2.0, 1.0, 1.0, 1.0]);

    // the tallies follow deletes (with cascades) and reassignment
    let (st, _) = f.me.delete(&format!("/api/contacts/{}", f.c2)).await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = f
        .admin
        .post(
            "/api/contacts/bulk-assign",
            json!({"ids": [f.c4], "userId": f.other.id()}),
        )
        .await;
    assert!(st.is_success(), "{v}");
    let (_, v) = f.me.get("/api/dashboard").await;
    let d = &v["data"];
    assert_eq!(
        (d["contacts"]["total"].as_i64(), d["contacts"]["leads"].as_i64()),
        (Some(2), Some(0))
    );
    assert_eq!(d["deals"]["lostValue"], 0.0, "D3 went with c2");
    assert_eq!(d["deals"]["pipelineValue"], 250.5, "D4 went with c2");
    assert_eq!(d["tasks"]["total"], 3, "T3 went with c2");
    assert_eq!(values(&d["activities"]["byType"]), vec![2.0, 0.0, 0.0, 1.0]);
    let (_, v) = f.other.get("/api/dashboard?tab=contacts").await;
    assert_eq!(v["data"]["contacts"]["total"], 2);

    // tallies that drifted (say, rows loaded twice with triggers off) are rebuilt exactly
    let before = f.admin.get("/api/dashboard").await.1;
    use sea_orm::ConnectionTrait;
    app.db
        .unscoped()
        .execute_unprepared("UPDATE record_counts SET n = n + 7")
        .await
        .unwrap();
    assert_ne!(
        f.admin.get("/api/dashboard?tab=contacts").await.1["data"]["contacts"]["total"],
        before["data"]["contacts"]["total"]
    );
    let rows = crm_core::migration::rebuild_tallies(&app.db).await.unwrap();
    assert!(rows > 0);
    let after = f.admin.get("/api/dashboard").await.1;
    for tab in ["contacts", "deals", "tasks", "activities"] {
        let (mut a, mut b) = (after["data"][tab].clone(), before["data"][tab].clone());
        for v in [&mut a, &mut b] {
            v.as_object_mut().unwrap().remove("recent");
            v.as_object_mut().unwrap().remove("upcoming");
        }
        assert_eq!(a, b, "{tab} after the rebuild");
    }

    // pages: every tab renders its charts and the rep's figures only
    for tab in ["contacts", "companies", "deals", "tasks", "activities"] {
        let (st, html) = f.me.page(&format!("/?tab={tab}")).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("<svg"), "{tab} has a chart");
    }
    let (_, html) = f.me.page("/?tab=deals").await;
    // whole dollars in cards and charts: $250.50 shows as $251
    assert!(html.contains("$251") && !html.contains("$99,999"), "{html}");
    let (st, v) = f.me.get("/api/dashboard?tab=money").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v["error"].as_str().unwrap().contains("Tab must be one of"), "{v}");
}
both!(dashboard_metrics_match_hand_computed_values);

async fn reports_match_hand_computed_values(app: &TestApp) {
    let f = fixture(app).await;
    let from = (f.today - Duration::days(45)).format("%Y-%m-%d").to_string();
    let to = f.today.format("%Y-%m-%d").to_string();
    let range = format!("preset=custom&from={from}&to={to}");
    let (st, v) = f.me.get(&format!("/api/reports?{range}")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let r = &v["data"];
    assert_eq!(
        (r["from"].as_str(), r["to"].as_str()),
        (Some(from.as_str()), Some(to.as_str()))
    );

    let s = &r["sales"];
    assert_eq!(
        (s["wonCount"].as_i64(), s["wonValue"].as_f64()),
        (Some(1), Some(1000.0))
    );
    assert_eq!(
        (s["lostCount"].as_i64(), s["lostValue"].as_f64()),
        (Some(1), Some(100.0))
    );
    assert_eq!(s["averageDealSize"], 1000.0);
    assert_eq!(s["winRate"], 50.0);
    let revenue = values(&s["revenue"]);
    assert_eq!(revenue.len(), 46, "one zero-filled point per day");
    assert_eq!(revenue.iter().sum::<f64>(), 1000.0);
    assert_eq!(revenue[45], 1000.0, "won today");

    let p = &r["pipeline"];
    let created: Vec<i64> = p["byStage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["count"].as_i64().unwrap())
        .collect();
    assert_eq!(created, vec![1, 0, 1, 0, 1, 1], "lead D4, proposal D2, won D1, lost D3");
    assert_eq!(p["averageDaysInStage"][0]["value"], 4.0, "D2 spent 96 h in lead");
    assert_eq!(p["pipelineVelocity"], 10.0, "D1 created 10 days before it was won");

    let a = &r["activity"];
    assert_eq!(a["total"], 4);
    assert_eq!(values(&a["byType"]), vec![2.0, 1.0, 0.0, 1.0]);
    let heat = a["heatmap"].as_array().unwrap();
    assert_eq!(heat.len(), 7);
    let wd = (f.today - Duration::days(3)).weekday().num_days_from_monday() as usize;
    assert!(heat[wd][14].as_i64().unwrap() >= 1, "the T−3 14:00 call");
    let cells: i64 = heat
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|n| n.as_i64().unwrap())
        .sum();
    assert_eq!(cells, 4);
    assert_eq!(a["topContacts"][0]["name"], "Cora One");
    assert_eq!(a["topContacts"][0]["value"], 3.0);
    assert_eq!(a["topContacts"][1]["value"], 1.0);
    assert_eq!(
        a["topCompanies"],
        json!([{"id": a["topCompanies"][0]["id"], "name": "Acme", "value": 3.0}])
    );

    let t = &r["tasks"];
    assert_eq!(
        (t["created"].as_i64(), t["createdCompleted"].as_i64()),
        (Some(4), Some(1))
    );
    assert_eq!(t["completionRate"], 25.0);
    assert_eq!(
        t["createdByPriority"],
        json!([
            {"priority": "low", "open": 0, "completed": 1},
            {"priority": "medium", "open": 2, "completed": 0},
            {"priority": "high", "open": 1, "completed": 0}
        ])
    );
    assert_eq!(t["averageDaysToComplete"], 0.0);
    assert_eq!(t["overdueNow"], 1);
    assert_eq!(
        values(&t["overdueTrend"]),
        vec![1.0; 46],
        "T1 has been overdue all along"
    );
    assert_eq!(values(&t["completedOverTime"]).iter().sum::<f64>(), 1.0);

    let funnel: Vec<(i64, f64, f64)> = r["funnel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["count"].as_i64().unwrap(),
                s["conversionRate"].as_f64().unwrap(),
                s["dropOffRate"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        funnel,
        vec![(4, 100.0, 0.0), (2, 50.0, 50.0), (4, 200.0, 0.0), (1, 25.0, 75.0)]
    );

    let pf = &r["performers"];
    assert_eq!(pf["people"].as_array().unwrap().len(), 1, "only me");
    assert_eq!(
        (
            pf["people"][0]["wonValue"].as_f64(),
            pf["people"][0]["activities"].as_i64()
        ),
        (Some(1000.0), Some(4))
    );
    assert_eq!(pf["topCompaniesByDealValue"][0]["value"], 1250.5);
    assert_eq!(pf["topCompaniesByDealValue"][1]["value"], 100.0);
    assert_eq!(pf["topContactsByDealValue"][0]["name"], "Cora One");
    assert_eq!(pf["topContactsByDealValue"][1]["value"], 150.0);
    assert_eq!(pf["biggestDealsWon"][0]["name"], "D1");

    // grouping, tabs, the other rep, the admin
    let (_, v) = f.me.get(&format!("/api/reports?{range}&groupBy=month&tab=sales")).await;
    let months = v["data"]["sales"]["revenue"].as_array().unwrap().clone();
    assert_eq!(months.last().unwrap()["label"], f.today.format("%Y-%m").to_string());
    assert!(months.len() == 2 || months.len() == 3, "46 days span 2 or 3 months");
    assert!(v["data"]["activity"].is_null(), "one tab asked, one tab answered");
    let (_, v) = f.other.get(&format!("/api/reports?{range}&tab=sales")).await;
    assert_eq!(v["data"]["sales"]["wonCount"], 0);
    let (_, v) = f.admin.get(&format!("/api/reports?{range}&tab=activity")).await;
    assert_eq!(v["data"]["activity"]["total"], 5);

    // CSV of a section, bad input
    let res =
        f.me.http
            .get(format!("{}/api/reports/export?{range}&section=funnel", f.me.base))
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await.unwrap();
    assert!(body.starts_with('\u{feff}'));
    assert!(
        body.contains("stage,count,conversionRate,dropOffRate") && body.contains("Deals won,1,25,75"),
        "{body}"
    );
    for bad in [
        "preset=yearly",
        "preset=custom&from=2030-02-01&to=2030-01-01",
        "preset=custom&from=nope&to=2030-01-01",
        "tab=everything",
        "groupBy=decade",
    ] {
        let (st, v) = f.me.get(&format!("/api/reports?{bad}")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}: {v}");
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    let (st, _) = f.me.get("/api/reports/export?section=everything").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    for tab in ["sales", "pipeline", "activity", "tasks", "funnel", "performers", "all"] {
        let (st, html) = f.me.page(&format!("/reports?{range}&tab={tab}")).await;
        assert_eq!(st, StatusCode::OK, "{tab}");
        assert!(!html.contains("$99,999"), "{tab} shows only my figures");
    }
    let (_, html) = f.me.page(&format!("/reports?{range}&tab=all")).await;
    assert!(html.contains("Activity heatmap") && html.contains("$1,000") && html.contains("Cora One"));
}
both!(reports_match_hand_computed_values);

/// The first page is "My day": the user's own overdue tasks apart from those due today,
/// their deals closing this month, recent activity on their contacts; nobody else's.
async fn my_day_is_the_first_page(app: &TestApp) {
    let me = app.user(Role::Manager).await;
    let other = app.user(Role::Rep).await;
    let c = me.contact("Day", "Planner", serde_json::json!({})).await;
    let now = chrono::Utc::now();
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for (title, due) in [
        ("Late call", fmt(now - chrono::Duration::days(2))),
        (
            "Later today",
            fmt((now + chrono::Duration::minutes(1)).min(now.date_naive().and_hms_opt(23, 59, 0).unwrap().and_utc())),
        ),
        ("Next month", fmt(now + chrono::Duration::days(40))),
    ] {
        let (st, v) = me
            .post(
                "/api/tasks",
                serde_json::json!({"title": title, "dueDate": due, "contactId": c}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let close = now.date_naive().format("%Y-%m-%d").to_string();
    me.post(
        "/api/deals",
        serde_json::json!({"name": "Closing soon", "value": 4200, "expectedCloseDate": close, "contactId": c}),
    )
    .await;
    me.post(
        "/api/activities",
        serde_json::json!({"subject": "Kick-off", "contactId": c}),
    )
    .await;
    let oc = other.contact("Not", "Mine", serde_json::json!({})).await;
    other
        .post(
            "/api/tasks",
            serde_json::json!({"title": "Someone else's late task", "dueDate": "2020-01-01", "contactId": oc}),
        )
        .await;

    let (st, html) = me.page("/").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("My day") && html.contains("Overdue"), "{html}");
    let overdue = &html[html.find("overdue-title").unwrap()..html.find("today-title").unwrap()];
    assert!(
        overdue.contains("Late call") && !overdue.contains("Later today"),
        "{overdue}"
    );
    let today = &html[html.find("today-title").unwrap()..html.find("closing-title").unwrap()];
    assert!(today.contains("Later today") && !today.contains("Late call") && !today.contains("Next month"));
    assert!(html.contains("Closing soon") && html.contains("$4,200"), "{html}");
    assert!(html.contains("Kick-off"));
    assert!(!html.contains("Someone else"), "a manager's day is their own");
    // the analytics tabs stay
    let (st, html) = me.page("/?tab=contacts").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Total contacts"));
}
both!(my_day_is_the_first_page);

/// The ten keys with the most of `rows` (key, owner, created), most first, ties by id — the
/// ranking computed here by hand from every activity, to compare with the reports'.
fn ranking(
    rows: &[(Option<Uuid>, Option<Uuid>, DateTime<Utc>)],
    owner: Option<Uuid>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(String, f64)> {
    let mut n: std::collections::HashMap<Uuid, i64> = std::collections::HashMap::new();
    for (key, by, at) in rows {
        if let Some(k) = key
            && (owner.is_none() || *by == owner)
            && *at >= from
            && *at < to
        {
            *n.entry(*k).or_default() += 1;
        }
    }
    let mut v: Vec<(Uuid, i64)> = n.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.into_iter().take(10).map(|(k, c)| (k.to_string(), c as f64)).collect()
}

fn ranked(v: &Value) -> Vec<(String, f64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r["value"].as_f64().unwrap()))
        .collect()
}

/// Top contacts and companies by activity over a range of more activities than are grouped
/// at once (60,000+): the reports rank by probing the counts kept by triggers — of all time
/// for 400 days, of the month for this month. After activities added, moved out of the
/// range, deleted, moved to another contact, contacts moved to another company and one
/// deleted with its activities, the ranking (ties included) is what counting every activity
/// gives — for an admin and, in scope, for a rep.
async fn activity_rankings_over_a_large_range_match_counting(app: &TestApp) {
    use crm_core::unscoped::company;
    use sea_orm::QuerySelect;
    let admin = app.user(Role::Admin).await;
    let rep = app.user(Role::Rep).await;
    crm_core::seed::bulk(&app.db, 40, 3_000).await.unwrap();
    let related = crm_core::seed::Related {
        activities: 63_000,
        ..Default::default()
    };
    crm_core::seed::bulk_related(&app.db, related).await.unwrap();
    let db = app.db.unscoped();
    // the rep owns the activities of nine contacts in ten
    let contacts: Vec<Uuid> = contact::Entity::find()
        .select_only()
        .column(contact::Column::Id)
        .into_tuple()
        .all(db)
        .await
        .unwrap();
    let (mine, theirs): (Vec<Uuid>, Vec<Uuid>) = {
        let (a, b): (Vec<_>, Vec<_>) = contacts.iter().enumerate().partition(|(i, _)| i % 10 != 0);
        (
            a.into_iter().map(|(_, c)| *c).collect(),
            b.into_iter().map(|(_, c)| *c).collect(),
        )
    };
    activity::Entity::update_many()
        .col_expr(activity::Column::UserId, Expr::value(rep.id()))
        .filter(activity::Column::ContactId.is_in(mine.clone()))
        .exec(db)
        .await
        .unwrap();
    let pick = |i: usize| mine[i * 97 % mine.len()].to_string();
    // more activities on a few contacts (one of them the other owner's)
    for (contact, n) in [(pick(1), 4), (pick(2), 3), (theirs[5].to_string(), 6), (pick(3), 1)] {
        for _ in 0..n {
            let body = json!({"type": "call", "subject": "Extra", "contactId": contact});
            let (st, v) = admin.post("/api/activities", body).await;
            assert_eq!(st, StatusCode::CREATED, "{v}");
        }
    }
    // five of one contact's activities leave the range (its bound stays high)
    let old = Utc::now() - Duration::days(800);
    let of = |c: &str| {
        activity::Entity::find()
            .filter(activity::Column::ContactId.eq(c.parse::<Uuid>().unwrap()))
            .select_only()
            .column(activity::Column::Id)
            .into_tuple::<Uuid>()
            .all(db)
    };
    for id in of(&pick(1)).await.unwrap().into_iter().take(7) {
        set_time::<activity::Entity>(app, activity::Column::Id, activity::Column::CreatedAt, id, old).await;
    }
    // three deleted, and two moved to another contact
    let ids = of(&pick(4)).await.unwrap();
    for id in &ids[..3] {
        let (st, v) = admin.delete(&format!("/api/activities/{id}")).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    for id in &ids[3..5] {
        let (st, v) = admin
            .put(&format!("/api/activities/{id}"), json!({"contactId": pick(5)}))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    // a contact moves to another company; another is deleted with its activities
    let companies: Vec<Uuid> = company::Entity::find()
        .select_only()
        .column(company::Column::Id)
        .into_tuple()
        .all(db)
        .await
        .unwrap();
    let (st, v) = admin
        .put(
            &format!("/api/contacts/{}", pick(2)),
            json!({"companyId": companies[7].to_string()}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = admin.delete(&format!("/api/contacts/{}", pick(6))).await;
    assert_eq!(st, StatusCode::OK, "{v}");

    let today = Utc::now().date_naive();
    let from = today - Duration::days(400);
    let range = format!("tab=activity&preset=custom&from={from}&to={today}&groupBy=month");
    let (lo, hi) = (at(from, 0, 0), at(today + Duration::days(1), 0, 0));
    rankings_match(app, [&admin, &rep], &range, lo, hi).await;
    assert_eq!(
        ranked(&{
            let (_, v) = admin.get(&format!("/api/reports?{range}")).await;
            v["data"]["activity"]["topContacts"].clone()
        })[0]
            .1,
        27.0,
        "the other owner's contact with six more: 21 + 6"
    );

    // a month of more activities than are grouped at once (its own counts are probed):
    // every activity moved into this month, the other owner's into the month before; then
    // three of a contact's moved back a month, one added, a contact moving company
    let month_start = today.with_day(1).unwrap();
    let before = month_start - Duration::days(1);
    let all: Vec<(Uuid, Uuid)> = activity::Entity::find()
        .select_only()
        .column(activity::Column::Id)
        .column(activity::Column::ContactId)
        .into_tuple()
        .all(db)
        .await
        .unwrap();
    let theirs_set: std::collections::HashSet<Uuid> = theirs.iter().copied().collect();
    let (to_before, to_month): (Vec<_>, Vec<_>) = all.into_iter().partition(|(_, c)| theirs_set.contains(c));
    let (start, span) = (at(month_start, 0, 0), Utc::now() - at(month_start, 0, 0));
    // in statements of a thousand, spread over the month so far: one statement moving them
    // all would update each day's tally row tens of thousands of times in one transaction,
    // which PostgreSQL does in quadratic time
    for (rows, first, span) in [
        (&to_month, start, span),
        (&to_before, at(before, 0, 0), Duration::hours(23)),
    ] {
        let chunks = rows.len().div_ceil(1000);
        for (i, chunk) in rows.chunks(1000).enumerate() {
            activity::Entity::update_many()
                .col_expr(
                    activity::Column::CreatedAt,
                    Expr::value(first + span * i as i32 / chunks as i32),
                )
                .filter(activity::Column::Id.is_in(chunk.iter().map(|r| r.0)))
                .exec(db)
                .await
                .unwrap();
        }
    }
    for id in of(&pick(7)).await.unwrap().into_iter().take(3) {
        set_time::<activity::Entity>(
            app,
            activity::Column::Id,
            activity::Column::CreatedAt,
            id,
            at(before, 9, 0),
        )
        .await;
    }
    let (st, v) = admin
        .post(
            "/api/activities",
            json!({"type": "email", "subject": "Late", "contactId": pick(8)}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = admin
        .put(
            &format!("/api/contacts/{}", pick(9)),
            json!({"companyId": companies[11].to_string()}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (lo, hi) = (at(month_start, 0, 0), at(today + Duration::days(1), 0, 0));
    rankings_match(app, [&admin, &rep], "tab=activity&preset=month", lo, hi).await;
}
both!(activity_rankings_over_a_large_range_match_counting);

/// The activity tab's top contacts and companies over `range` (`lo..hi`), for an admin and
/// for a rep (in scope), are what counting every activity in the database gives; the range
/// holds more activities than are grouped at once.
async fn rankings_match(app: &TestApp, [admin, rep]: [&Client; 2], range: &str, lo: DateTime<Utc>, hi: DateTime<Utc>) {
    use sea_orm::QuerySelect;
    let db = app.db.unscoped();
    let activities: Vec<(Uuid, Option<Uuid>, DateTime<Utc>)> = activity::Entity::find()
        .select_only()
        .column(activity::Column::ContactId)
        .column(activity::Column::UserId)
        .column(activity::Column::CreatedAt)
        .into_tuple()
        .all(db)
        .await
        .unwrap();
    let company_of: std::collections::HashMap<Uuid, Option<Uuid>> = contact::Entity::find()
        .select_only()
        .column(contact::Column::Id)
        .column(contact::Column::CompanyId)
        .into_tuple::<(Uuid, Option<Uuid>)>()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let by_contact: Vec<_> = activities.iter().map(|&(c, u, t)| (Some(c), u, t)).collect();
    let by_company: Vec<_> = activities.iter().map(|&(c, u, t)| (company_of[&c], u, t)).collect();
    for (who, owner) in [(admin, None), (rep, Some(rep.id()))] {
        let (st, v) = who.get(&format!("/api/reports?{range}")).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let a = &v["data"]["activity"];
        assert!(
            a["total"].as_i64().unwrap() > 50_000,
            "more than is grouped at once: {}",
            a["total"]
        );
        assert_eq!(
            ranked(&a["topContacts"]),
            ranking(&by_contact, owner, lo, hi),
            "top contacts, {range}, {owner:?}"
        );
        assert_eq!(
            ranked(&a["topCompanies"]),
            ranking(&by_company, owner, lo, hi),
            "top companies, {range}, {owner:?}"
        );
    }
}
