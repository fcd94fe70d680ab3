//! The demo data set: a small, realistic team book — 12 companies, 120 contacts, deals in
//! every stage with their stage history, tasks around today, activities over the past 12
//! months — owned by three demo users and marked `is_demo`, so admins can remove it in one
//! action without touching real data.

use chrono::Duration;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use uuid::Uuid;

use super::{FIRST, LAST, TITLES, demo_users};
use crate::contacts::search_text;
use crate::entities::{activity, company, contact, deal, deal_stage_history, task, user};
use crate::text::{name_key, phone_key};
use crate::vocab::{ActivityType, ContactStatus, DealStage, TaskPriority};
use crate::{Db, clock};

const COMPANIES: [(&str, &str); 12] = [
    ("Northwind Traders", "retail"),
    ("Globex Corporation", "technology"),
    ("Initech", "technology"),
    ("Umbrella Health", "healthcare"),
    ("Stark Manufacturing", "manufacturing"),
    ("Wayne Capital", "finance"),
    ("Acme Consulting", "consulting"),
    ("Hooli", "technology"),
    ("Vandelay Industries", "manufacturing"),
    ("Soylent Foods", "retail"),
    ("Massive Dynamic", "other"),
    ("Pied Piper", "technology"),
];
const DEALS: [&str; 8] = [
    "Annual license",
    "Pilot project",
    "Support renewal",
    "Expansion seats",
    "Onboarding package",
    "Data migration",
    "Training",
    "Hardware refresh",
];
const TASKS: [&str; 6] = [
    "Send proposal",
    "Follow-up call",
    "Prepare demo",
    "Check contract terms",
    "Schedule kickoff",
    "Update pricing",
];
const ACTIVITIES: [(ActivityType, &str); 4] = [
    (ActivityType::Call, "Discovery call"),
    (ActivityType::Email, "Sent pricing sheet"),
    (ActivityType::Meeting, "On-site meeting"),
    (ActivityType::Note, "Budget confirmed"),
];

/// Load the demo set; `false` when it is already there (idempotent).
pub async fn demo(db: &Db) -> anyhow::Result<bool> {
    if contact::Entity::find()
        .filter(contact::Column::IsDemo.eq(true))
        .one(&db.conn)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let owners = demo_users(db).await?;
    let now = clock::now();
    let txn = db.conn.begin().await?;
    let mut company_ids = Vec::new();
    for (i, (name, industry)) in COMPANIES.iter().enumerate() {
        let id = Uuid::now_v7();
        company_ids.push(id);
        company::Entity::insert(company::ActiveModel {
            id: Set(id),
            name: Set(name.to_string()),
            name_key: Set(name_key(name)),
            industry: Set(Some(industry.to_string())),
            website: Set(Some(format!("https://{}.example.com", name_key(name).replace(' ', "")))),
            phone: Set(Some(format!("+1 415 555 {:04}", 100 + i))),
            address: Set(Some(format!("{} Market Street, San Francisco, CA", 100 + i * 7))),
            employee_count: Set(Some(20 + (i as i64 * 137) % 2000)),
            revenue_cents: Set(Some((1 + i as i64 * 3) * 25_000_000)),
            is_demo: Set(true),
            created_at: Set(now - Duration::days(360 - i as i64 * 20)),
            updated_at: Set(now),
        })
        .exec(&txn)
        .await?;
    }
    let mut contacts = Vec::new();
    for k in 0..120u64 {
        let first = FIRST[((k * 7) % 40) as usize];
        let last = LAST[((k * 11 + k / 40) % 40) as usize];
        let email = format!(
            "{}.{}{}@demo-customer.example",
            first.to_lowercase(),
            last.to_lowercase(),
            k
        );
        let phone = format!("+1 212 555 {:04}", 1000 + k);
        let id = Uuid::now_v7();
        let owner = owners[(k % 3) as usize];
        contacts.push((id, owner, company_ids[(k % 12) as usize]));
        let mut am = contact::ActiveModel {
            id: Set(id),
            search_text: Set(search_text(first, last, &email, Some(&phone))),
            first_name: Set(first.into()),
            last_name: Set(last.into()),
            phone_key: Set(Some(phone_key(&phone))),
            phone_number: Set(Some(phone)),
            email: Set(email),
            status: Set(if k % 3 == 0 {
                ContactStatus::Customer
            } else {
                ContactStatus::Lead
            }),
            company_id: Set((k % 5 != 4).then_some(company_ids[(k % 12) as usize])),
            user_id: Set(Some(owner)),
            is_demo: Set(true),
            created_at: Set(now - Duration::days(365 - (k as i64 * 3))),
            updated_at: Set(now),
            ..Default::default()
        };
        am.job_title = Set(Some(TITLES[(k % 8) as usize].into()));
        contact::Entity::insert(am).exec(&txn).await?;
    }
    for (n, (contact_id, owner, company_id)) in contacts.iter().step_by(3).enumerate() {
        let stage = DealStage::ALL[n % 6];
        let created = now - Duration::days(300 - n as i64 * 7);
        let id = Uuid::now_v7();
        deal::Entity::insert(deal::ActiveModel {
            id: Set(id),
            name: Set(format!("{} – {}", DEALS[n % 8], COMPANIES[n % 12].0)),
            value_cents: Set(((n as i64 * 7919) % 90 + 5) * 100_000),
            stage: Set(stage),
            status: Set(stage.status()),
            expected_close_date: Set(now + Duration::days(n as i64 * 5 - 60)),
            actual_close_date: Set(stage.is_closed().then_some(created + Duration::days(40))),
            probability: Set([10, 25, 50, 75, 100, 0][n % 6]),
            description: Set(None),
            contact_id: Set(*contact_id),
            company_id: Set(Some(*company_id)),
            user_id: Set(Some(*owner)),
            is_demo: Set(true),
            created_at: Set(created),
            updated_at: Set(now),
        })
        .exec(&txn)
        .await?;
        // stage history: the path from lead to the current stage
        let path: Vec<DealStage> = match stage {
            DealStage::ClosedLost => vec![DealStage::Lead, DealStage::Qualified, DealStage::ClosedLost],
            s => DealStage::ALL.into_iter().take_while(|x| *x != s).chain([s]).collect(),
        };
        let mut from: Option<DealStage> = None;
        for (step, to) in path.iter().enumerate() {
            deal_stage_history::Entity::insert(deal_stage_history::ActiveModel {
                id: Set(Uuid::now_v7()),
                deal_id: Set(id),
                from_stage: Set(from),
                to_stage: Set(*to),
                changed_by: Set(Some(*owner)),
                changed_at: Set(created + Duration::days(step as i64 * 8)),
            })
            .exec(&txn)
            .await?;
            from = Some(*to);
        }
    }
    for (n, (contact_id, owner, _)) in contacts.iter().step_by(2).enumerate() {
        let due = now + Duration::days(n as i64 - 30) + Duration::hours(9);
        let done = n % 3 == 0 && due < now;
        task::Entity::insert(task::ActiveModel {
            id: Set(Uuid::now_v7()),
            title: Set(TASKS[n % 6].into()),
            description: Set(None),
            due_date: Set(due),
            priority: Set(TaskPriority::ALL[n % 3]),
            completed: Set(done),
            completed_at: Set(done.then_some(due)),
            contact_id: Set(Some(*contact_id)),
            user_id: Set(Some(*owner)),
            is_demo: Set(true),
            created_at: Set(due - Duration::days(7)),
            updated_at: Set(now),
        })
        .exec(&txn)
        .await?;
    }
    for n in 0..240usize {
        let (contact_id, owner, _) = contacts[(n * 13) % contacts.len()];
        let (kind, subject) = ACTIVITIES[n % 4];
        let at = now - Duration::hours((n as i64 * 36) % (365 * 24));
        activity::Entity::insert(activity::ActiveModel {
            id: Set(Uuid::now_v7()),
            kind: Set(kind),
            subject: Set(subject.into()),
            description: Set(None),
            contact_id: Set(contact_id),
            user_id: Set(Some(owner)),
            deal_id: Set(None),
            is_demo: Set(true),
            created_at: Set(at),
            updated_at: Set(at),
        })
        .exec(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(true)
}

/// Remove every demo record and the demo users; real data is untouched. Returns the number
/// of contacts removed (their activities, tasks and deals go with them).
pub async fn remove_demo(db: &Db) -> anyhow::Result<u64> {
    let txn = db.conn.begin().await?;
    activity::Entity::delete_many()
        .filter(activity::Column::IsDemo.eq(true))
        .exec(&txn)
        .await?;
    task::Entity::delete_many()
        .filter(task::Column::IsDemo.eq(true))
        .exec(&txn)
        .await?;
    deal::Entity::delete_many()
        .filter(deal::Column::IsDemo.eq(true))
        .exec(&txn)
        .await?;
    let n = contact::Entity::delete_many()
        .filter(contact::Column::IsDemo.eq(true))
        .exec(&txn)
        .await?
        .rows_affected;
    company::Entity::delete_many()
        .filter(company::Column::IsDemo.eq(true))
        .exec(&txn)
        .await?;
    user::Entity::delete_many()
        .filter(user::Column::IsDemo.eq(true))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(n)
}
