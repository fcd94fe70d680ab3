//! Data sets (the CLI and the setup page use them): `seed demo` (a small realistic team book, idempotent, marked as demo) and
//! `seed bulk` (millions of synthetic rows, fast, with progress on stderr).

use std::io::Write;
use std::time::Instant;

use crate::accounts::{random_token, users};
use crate::contacts::search_text;
use crate::entities::{company, contact};
use crate::text::{name_key, phone_key};
use crate::vocab::{ActivityType, ContactStatus, DealStage, TaskPriority};
use crate::{Db, Role, clock};
mod demo;

use chrono::Duration;
use sea_orm::{EntityTrait, PaginatorTrait, Set, TransactionTrait};
use uuid::Uuid;

pub(crate) const FIRST: [&str; 40] = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Sofia",
    "Mark",
    "Aisha",
    "Ken",
    "Yuki",
    "Omar",
    "Elena",
    "Lukas",
    "Priya",
    "Mateo",
    "Chloe",
    "Noah",
    "Amara",
    "Ivan",
    "Zoe",
];
pub(crate) const LAST: [&str; 40] = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
];
pub(crate) const TITLES: [&str; 8] = [
    "CEO",
    "CTO",
    "Head of Sales",
    "Procurement Manager",
    "Engineer",
    "Operations Lead",
    "Marketing Director",
    "Analyst",
];
const INDUSTRIES: [&str; 7] = crate::companies::INDUSTRIES;

/// Owners for generated records: the demo users (created when missing).
pub(crate) async fn demo_users(db: &Db) -> anyhow::Result<Vec<Uuid>> {
    let people = [
        ("Morgan Manager", "manager@demo.crm", Role::Manager),
        ("Riley Rep", "riley@demo.crm", Role::Rep),
        ("Sam Rep", "sam@demo.crm", Role::Rep),
    ];
    let mut ids = Vec::new();
    for (name, email, role) in people {
        let u = match users::find_by_email(db, email).await? {
            Some(u) => u,
            None => {
                let new = users::NewUser {
                    email: email.into(),
                    name: name.into(),
                    role,
                    password: random_token(),
                    verified: true,
                    is_demo: true,
                };
                users::create(db, new).await?
            }
        };
        ids.push(u.id);
    }
    Ok(ids)
}

/// A one-line progress bar on stderr (rewritten in place).
pub fn progress(label: &str, done: u64, total: u64, started: Instant) {
    let pct = (done * 100).checked_div(total).unwrap_or(100);
    let bar: String = (0..30).map(|i| if i * 100 / 30 < pct { '#' } else { '-' }).collect();
    let rate = done as f64 / started.elapsed().as_secs_f64().max(0.001);
    eprint!("\r{label:<10} [{bar}] {done}/{total} ({rate:.0}/s)   ");
    let _ = std::io::stderr().flush();
}

/// Whether demo records are loaded (admins are offered their removal).
pub async fn has_demo_data(db: &Db) -> crate::CoreResult<bool> {
    use sea_orm::{ColumnTrait, QueryFilter};
    Ok(contact::Entity::find()
        .filter(contact::Column::IsDemo.eq(true))
        .one(&db.conn)
        .await?
        .is_some())
}

/// Insert `n` synthetic companies and `contacts` contacts; returns the seconds taken.
pub async fn bulk(db: &Db, n_companies: u64, n_contacts: u64) -> anyhow::Result<f64> {
    let started = Instant::now();
    let owners = demo_users(db).await?;
    let offset = contact::Entity::find().count(&db.conn).await?;
    let company_offset = company::Entity::find().count(&db.conn).await?;
    let now = clock::now();
    let mut company_ids = Vec::with_capacity(n_companies as usize);
    let t = Instant::now();
    for chunk_start in (0..n_companies).step_by(1000) {
        let end = (chunk_start + 1000).min(n_companies);
        let rows: Vec<company::ActiveModel> = (chunk_start..end)
            .map(|i| {
                let k = company_offset + i;
                let id = Uuid::now_v7();
                company_ids.push(id);
                let name = format!(
                    "{} {} Holdings {k}",
                    LAST[(k % 40) as usize],
                    LAST[(k / 40 % 40) as usize]
                );
                company::ActiveModel {
                    id: Set(id),
                    name_key: Set(name_key(&name)),
                    name: Set(name),
                    industry: Set(Some(INDUSTRIES[(k % 7) as usize].to_string())),
                    website: Set(Some(format!("https://company{k}.example.com"))),
                    phone: Set(None),
                    address: Set(None),
                    employee_count: Set(Some((k % 5000) as i64 + 5)),
                    revenue_cents: Set(Some(((k % 900) as i64 + 10) * 10_000_000)),
                    is_demo: Set(true),
                    created_at: Set(now - Duration::minutes(k as i64)),
                    updated_at: Set(now),
                }
            })
            .collect();
        company::Entity::insert_many(rows).exec(&db.conn).await?;
        progress("companies", end, n_companies, t);
    }
    if n_companies > 0 {
        eprintln!();
    }
    let t = Instant::now();
    let batch = 1000u64;
    let per_txn = 50_000u64;
    let mut i = 0u64;
    while i < n_contacts {
        let txn = db.conn.begin().await?;
        let txn_end = (i + per_txn).min(n_contacts);
        while i < txn_end {
            let end = (i + batch).min(txn_end);
            let rows: Vec<contact::ActiveModel> = (i..end)
                .map(|j| synthetic_contact(offset + j, &owners, &company_ids, now))
                .collect();
            contact::Entity::insert_many(rows).exec(&txn).await?;
            i = end;
        }
        txn.commit().await?;
        progress("contacts", i, n_contacts, t);
    }
    if n_contacts > 0 {
        eprintln!();
    }
    analyze(db).await?;
    Ok(started.elapsed().as_secs_f64())
}

async fn analyze(db: &Db) -> anyhow::Result<()> {
    let sql = if db.is_postgres() { "ANALYZE" } else { "PRAGMA optimize" };
    sea_orm::ConnectionTrait::execute_unprepared(&db.conn, sql).await?;
    Ok(())
}

/// How many of each related record `bulk_related` adds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Related {
    pub activities: u64,
    pub tasks: u64,
    pub deals: u64,
}

/// Activities, tasks and deals on existing contacts (owned by the contact's owner), spread
/// over the past year; returns the seconds taken.
pub async fn bulk_related(db: &Db, n: Related) -> anyhow::Result<f64> {
    use crate::entities::{activity, deal, task};
    use sea_orm::QuerySelect;
    let started = Instant::now();
    let pool: Vec<(Uuid, Option<Uuid>, Option<Uuid>)> = contact::Entity::find()
        .select_only()
        .column(contact::Column::Id)
        .column(contact::Column::UserId)
        .column(contact::Column::CompanyId)
        .limit(100_000)
        .into_tuple()
        .all(&db.conn)
        .await?;
    if pool.is_empty() {
        anyhow::bail!("seed contacts first: activities, tasks and deals attach to contacts");
    }
    let now = clock::now();
    let pick = |k: u64| pool[(k as usize * 7919) % pool.len()];
    async fn load<A, F>(db: &Db, label: &str, total: u64, make: F) -> anyhow::Result<()>
    where
        A: sea_orm::ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
        <A::Entity as EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
        F: Fn(u64) -> A,
    {
        let t = Instant::now();
        let mut i = 0u64;
        while i < total {
            let txn = db.conn.begin().await?;
            let end = (i + 50_000).min(total);
            while i < end {
                let stop = (i + 1000).min(end);
                <A::Entity as EntityTrait>::insert_many((i..stop).map(&make))
                    .exec(&txn)
                    .await?;
                i = stop;
            }
            txn.commit().await?;
            progress(label, i, total, t);
        }
        if total > 0 {
            eprintln!();
        }
        Ok(())
    }
    const SUBJECTS: [&str; 4] = ["Discovery call", "Sent pricing", "Demo meeting", "Follow-up note"];
    load(db, "activities", n.activities, |k| {
        let (cid, owner, _) = pick(k);
        let at = now - Duration::minutes((k * 37 % (365 * 24 * 60)) as i64);
        activity::ActiveModel {
            id: Set(Uuid::now_v7()),
            kind: Set(ActivityType::ALL[(k % 4) as usize]),
            subject: Set(SUBJECTS[(k % 4) as usize].into()),
            description: Set(None),
            contact_id: Set(cid),
            user_id: Set(owner),
            deal_id: Set(None),
            is_demo: Set(true),
            created_at: Set(at),
            updated_at: Set(at),
        }
    })
    .await?;
    load(db, "tasks", n.tasks, |k| {
        let (cid, owner, _) = pick(k + 1);
        let due = now + Duration::hours((k % 2000) as i64 - 1000);
        let done = k % 3 == 0;
        task::ActiveModel {
            id: Set(Uuid::now_v7()),
            title: Set(format!("Follow up #{k}")),
            description: Set(None),
            due_date: Set(due),
            priority: Set(TaskPriority::ALL[(k % 3) as usize]),
            completed: Set(done),
            completed_at: Set(done.then_some(due)),
            contact_id: Set(Some(cid)),
            user_id: Set(owner),
            is_demo: Set(true),
            created_at: Set(due - Duration::days(3)),
            updated_at: Set(now),
        }
    })
    .await?;
    load(db, "deals", n.deals, |k| {
        let (cid, owner, company) = pick(k + 2);
        let stage = DealStage::ALL[(k % 6) as usize];
        let created = now - Duration::hours((k % 8000) as i64);
        deal::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(format!("Opportunity #{k}")),
            value_cents: Set(((k % 500) as i64 + 1) * 10_000),
            stage: Set(stage),
            status: Set(stage.status()),
            expected_close_date: Set(created + Duration::days(60)),
            actual_close_date: Set(stage.is_closed().then_some(created + Duration::days(20))),
            probability: Set(stage.default_probability()),
            description: Set(None),
            contact_id: Set(cid),
            company_id: Set(company),
            user_id: Set(owner),
            is_demo: Set(true),
            created_at: Set(created),
            updated_at: Set(now),
        }
    })
    .await?;
    analyze(db).await?;
    Ok(started.elapsed().as_secs_f64())
}

fn synthetic_contact(
    k: u64,
    owners: &[Uuid],
    companies: &[Uuid],
    now: chrono::DateTime<chrono::Utc>,
) -> contact::ActiveModel {
    let first = FIRST[(k % 40) as usize];
    let last = LAST[(k / 40 % 40) as usize];
    let email = format!("{}.{}{k}@example.com", first.to_lowercase(), last.to_lowercase());
    let phone = format!("+1 555 {:07}", k % 10_000_000);
    let phone = (k < 10_000_000).then_some(phone);
    let mut am = contact::ActiveModel {
        id: Set(Uuid::now_v7()),
        search_text: Set(search_text(first, last, &email, phone.as_deref())),
        first_name: Set(first.to_string()),
        last_name: Set(last.to_string()),
        email: Set(email),
        phone_key: Set(phone.as_deref().map(phone_key)),
        phone_number: Set(phone),
        status: Set(if k.is_multiple_of(3) {
            ContactStatus::Customer
        } else {
            ContactStatus::Lead
        }),
        company_id: Set(if companies.is_empty() || k % 4 == 3 {
            None
        } else {
            Some(companies[(k as usize) % companies.len()])
        }),
        user_id: Set(Some(owners[(k as usize) % owners.len()])),
        is_demo: Set(true),
        created_at: Set(now - Duration::seconds((k * 31) as i64)),
        updated_at: Set(now),
        ..Default::default()
    };
    // demo values for the optional fields that have them (the others stay empty)
    am.job_title = Set(Some(TITLES[(k % 8) as usize].to_string()));
    am
}

pub use demo::{demo, remove_demo};
