//! Writing companies: create, partial update, delete (contacts and deals are unlinked).

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, TransactionTrait};
use serde_json::json;
use uuid::Uuid;

use crate::actor::Actor;
use crate::audit;
use crate::clock;
use crate::db::Db;
use crate::entities::company;
use crate::error::{CoreError, CoreResult, is_unique_violation};
use crate::input::{Field, Input};
use crate::text::name_key;

/// Validated fields of a company body (absent fields stay absent on update).
pub(crate) struct Fields {
    pub(crate) name: Field<String>,
    industry: Field<String>,
    website: Field<String>,
    phone: Field<String>,
    address: Field<String>,
    employees: Field<i64>,
    revenue: Field<i64>,
}

/// Read and validate a company body (shared by the API, the forms and CSV import).
pub(crate) fn read(input: &mut Input) -> Fields {
    Fields {
        name: input.req_text("name", "Company name", 255),
        industry: match input.opt_text("industry", "Industry", 100) {
            Field::Value(v) => Field::Value(v.to_lowercase()),
            other => other,
        },
        website: input.opt_url("website", "Invalid website URL"),
        phone: input.opt_phone("phone"),
        address: input.opt_text("address", "Address", 500),
        employees: input.opt_count(
            "employeeCount",
            "Employee count must be a whole number",
            "Employee count must be positive",
        ),
        revenue: input.opt_money("revenue", "Revenue", "Revenue must be positive"),
    }
}

async fn check_name(db: &Db, name: &Field<String>, except: Option<Uuid>) -> CoreResult<()> {
    if let Field::Value(n) = name {
        let mut q = company::Entity::find().filter(company::Column::NameKey.eq(name_key(n)));
        if let Some(id) = except {
            q = q.filter(company::Column::Id.ne(id));
        }
        if q.one(&db.conn).await?.is_some() {
            return Err(CoreError::field("name", "Company name already exists"));
        }
    }
    Ok(())
}

/// The keys a company body may hold: those its validation reads (the API reference's
/// documented body is checked against them).
pub fn body_keys() -> Vec<String> {
    Input::keys_read_by(|input| {
        read(input);
    })
}

fn unique_error(e: sea_orm::DbErr) -> CoreError {
    if is_unique_violation(&e) {
        CoreError::field("name", "Company name already exists")
    } else {
        e.into()
    }
}

pub async fn create(db: &Db, actor: &Actor, mut input: Input) -> CoreResult<company::Model> {
    let f = read(&mut input);
    input.finish()?;
    check_name(db, &f.name, None).await?;
    let txn = db.conn.begin().await?;
    let saved = insert(&txn, actor, new_company(f, clock::now())).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Insert a new company with its audit entry and webhook event, in the caller's transaction.
async fn insert(
    conn: &sea_orm::DatabaseTransaction,
    actor: &Actor,
    model: company::Model,
) -> CoreResult<company::Model> {
    let saved = model
        .into_active_model()
        .reset_all()
        .insert(conn)
        .await
        .map_err(unique_error)?;
    crate::store::created(conn, actor, saved.clone().into(), Some(snapshot(&saved))).await?;
    Ok(saved)
}

/// The company called `name` (case and inner spaces aside), created when there is none —
/// for a contact's "new company" box. Runs in the caller's transaction, audited.
pub(crate) async fn find_or_create(conn: &sea_orm::DatabaseTransaction, actor: &Actor, name: &str) -> CoreResult<Uuid> {
    if let Some(c) = company::Entity::find()
        .filter(company::Column::NameKey.eq(name_key(name)))
        .one(conn)
        .await?
    {
        return Ok(c.id);
    }
    let named = Fields {
        name: Field::Value(name.to_string()),
        industry: Field::Absent,
        website: Field::Absent,
        phone: Field::Absent,
        address: Field::Absent,
        employees: Field::Absent,
        revenue: Field::Absent,
    };
    let saved = insert(conn, actor, new_company(named, clock::now())).await?;
    Ok(saved.id)
}

/// A new company from validated fields.
pub(crate) fn new_company(f: Fields, now: chrono::DateTime<chrono::Utc>) -> company::Model {
    let name = f.name.value().unwrap_or_default();
    company::Model {
        id: Uuid::now_v7(),
        name_key: name_key(&name),
        name,
        industry: f.industry.into_option(),
        website: f.website.into_option(),
        phone: f.phone.into_option(),
        address: f.address.into_option(),
        employee_count: f.employees.into_option(),
        revenue_cents: f.revenue.into_option(),
        is_demo: false,
        created_at: now,
        updated_at: now,
    }
}

/// `current` with the fields present in `f` changed (absent keep, null clears).
pub(crate) fn apply(current: &company::Model, f: Fields) -> company::Model {
    let mut m = current.clone();
    if let Field::Value(n) = f.name {
        m.name_key = name_key(&n);
        m.name = n;
    }
    m.industry = f.industry.apply(current.industry.clone());
    m.website = f.website.apply(current.website.clone());
    m.phone = f.phone.apply(current.phone.clone());
    m.address = f.address.apply(current.address.clone());
    m.employee_count = f.employees.apply(current.employee_count);
    m.revenue_cents = f.revenue.apply(current.revenue_cents);
    m.updated_at = clock::now();
    m
}

pub async fn update(db: &Db, actor: &Actor, id: Uuid, mut input: Input) -> CoreResult<company::Model> {
    let f = read(&mut input);
    input.finish()?;
    let current = company::Entity::find_by_id(id)
        .one(&db.conn)
        .await?
        .ok_or_else(|| CoreError::not_found("Company"))?;
    check_name(db, &f.name, Some(id)).await?;
    let before = snapshot(&current);
    let am = apply(&current, f).into_active_model().reset_all();
    let txn = db.conn.begin().await?;
    let saved = am.update(&txn).await.map_err(unique_error)?;
    let changes = audit::diff(&before, &snapshot(&saved));
    crate::store::updated(&txn, actor, current.into(), saved.clone().into(), Some(changes)).await?;
    txn.commit().await?;
    Ok(saved)
}

pub async fn delete(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<()> {
    let current = company::Entity::find_by_id(id)
        .one(&db.conn)
        .await?
        .ok_or_else(|| CoreError::not_found("Company"))?;
    let txn = db.conn.begin().await?;
    crate::webhooks::deleted(&txn, actor, current.clone()).await?;
    company::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        Some(actor),
        "delete",
        "company",
        Some(id.to_string()),
        Some(snapshot(&current)),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

fn snapshot(c: &company::Model) -> serde_json::Value {
    json!({
        "name": c.name, "industry": c.industry, "website": c.website, "phone": c.phone,
        "address": c.address, "employeeCount": c.employee_count, "revenueCents": c.revenue_cents,
    })
}
