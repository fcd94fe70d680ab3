//! Writing companies: create, partial update, delete (contacts and deals are unlinked).

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
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

struct Fields {
    name: Field<String>,
    industry: Field<String>,
    website: Field<String>,
    phone: Field<String>,
    address: Field<String>,
    employees: Field<i64>,
    revenue: Field<i64>,
}

fn read(input: &mut Input) -> Fields {
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
    let name = f.name.value().unwrap_or_default();
    let now = clock::now();
    let model = company::ActiveModel {
        id: Set(Uuid::now_v7()),
        name_key: Set(name_key(&name)),
        name: Set(name),
        industry: Set(f.industry.into_option()),
        website: Set(f.website.into_option()),
        phone: Set(f.phone.into_option()),
        address: Set(f.address.into_option()),
        employee_count: Set(f.employees.into_option()),
        revenue_cents: Set(f.revenue.into_option()),
        is_demo: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let txn = db.conn.begin().await?;
    let saved = model.insert(&txn).await.map_err(unique_error)?;
    audit::record(
        &txn,
        Some(actor),
        "create",
        "company",
        Some(saved.id.to_string()),
        Some(snapshot(&saved)),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
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
    let mut am: company::ActiveModel = current.clone().into();
    if let Field::Value(n) = f.name {
        am.name_key = Set(name_key(&n));
        am.name = Set(n);
    }
    am.industry = Set(f.industry.apply(current.industry.clone()));
    am.website = Set(f.website.apply(current.website.clone()));
    am.phone = Set(f.phone.apply(current.phone.clone()));
    am.address = Set(f.address.apply(current.address.clone()));
    am.employee_count = Set(f.employees.apply(current.employee_count));
    am.revenue_cents = Set(f.revenue.apply(current.revenue_cents));
    am.updated_at = Set(clock::now());
    let txn = db.conn.begin().await?;
    let saved = am.update(&txn).await.map_err(unique_error)?;
    audit::record(
        &txn,
        Some(actor),
        "update",
        "company",
        Some(id.to_string()),
        Some(audit::diff(&before, &snapshot(&saved))),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

pub async fn delete(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<()> {
    let current = company::Entity::find_by_id(id)
        .one(&db.conn)
        .await?
        .ok_or_else(|| CoreError::not_found("Company"))?;
    let txn = db.conn.begin().await?;
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
