//! Writing contacts: create, partial update, delete and bulk delete. Each write checks
//! scope, validates every field, checks uniqueness, and commits with its audit entry.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;

use super::search_text;
use crate::actor::Actor;
use crate::audit;
use crate::clock;
use crate::db::Db;
use crate::entities::{company, contact};
use crate::error::{CoreError, CoreResult, is_unique_violation};
use crate::input::{Field, Input, Mode};
use crate::text::phone_key;
use crate::vocab::ContactStatus;
use crate::{scope, webhooks};

/// Validated fields of a contact body (absent fields stay absent on update).
pub(crate) struct Fields {
    pub(crate) first: Field<String>,
    pub(crate) last: Field<String>,
    pub(crate) email: Field<String>,
    pub(crate) phone: Field<String>,
    pub(crate) status: Field<ContactStatus>,
    /// The optional text fields of `fields::EXTRAS`, in table order.
    pub(crate) extras: Vec<Field<String>>,
    pub(crate) company: Field<Uuid>,
    pub(crate) owner: Field<Uuid>,
}

/// Read and validate a contact body (shared by the API, the forms and CSV import).
pub(crate) fn read(input: &mut Input) -> Fields {
    Fields {
        first: input.req_text("firstName", "First name", 50),
        last: input.req_text("lastName", "Last name", 50),
        email: input.req_email("email", "Email"),
        phone: input.opt_phone("phoneNumber"),
        status: if input.mode() == Mode::Create && !input.has("status") {
            Field::Value(ContactStatus::Lead)
        } else {
            input.req_enum("status", "Status")
        },
        extras: super::fields::read(input),
        company: input.opt_uuid("companyId", "Invalid company ID"),
        owner: input.opt_uuid("userId", "Invalid user ID"),
    }
}

/// The keys a contact body may hold: those its validation reads (the API reference's
/// documented body is checked against them).
pub fn body_keys() -> Vec<String> {
    Input::keys_read_by(|input| {
        let f = read(input);
        new_company(input, &f);
    })
}

/// Field-level checks that need the database: the company exists, email and phone free.
async fn check_refs(db: &Db, f: &Fields, except: Option<Uuid>) -> CoreResult<()> {
    let mut errs = crate::error::FieldErrors::default();
    if let Field::Value(cid) = f.company
        && company::Entity::find_by_id(cid).one(&db.conn).await?.is_none()
    {
        errs.add("companyId", "Company not found");
    }
    let others = |c: Condition| match except {
        Some(id) => c.add(contact::Column::Id.ne(id)),
        None => c,
    };
    if let Field::Value(email) = &f.email {
        let taken = contact::Entity::find()
            .filter(others(Condition::all().add(contact::Column::Email.eq(email.as_str()))))
            .one(&db.conn)
            .await?;
        if taken.is_some() {
            errs.add("email", "Email already exists");
        }
    }
    if let Field::Value(phone) = &f.phone {
        let taken = contact::Entity::find()
            .filter(others(
                Condition::all().add(contact::Column::PhoneKey.eq(phone_key(phone))),
            ))
            .one(&db.conn)
            .await?;
        if taken.is_some() {
            errs.add("phoneNumber", "Phone number already exists");
        }
    }
    errs.finish()
}

/// A unique-index race lost after the pre-check: report it like the pre-check would.
fn unique_error(e: sea_orm::DbErr) -> CoreError {
    if is_unique_violation(&e) {
        if e.to_string().contains("phone") {
            CoreError::field("phoneNumber", "Phone number already exists")
        } else {
            CoreError::field("email", "Email already exists")
        }
    } else {
        e.into()
    }
}

/// `companyName`: a company to link by name, created when none has it (the contact
/// form's "new company" box); not together with `companyId`.
fn new_company(input: &mut Input, f: &Fields) -> Option<String> {
    let name = input.opt_text("companyName", "Company name", 255).value()?;
    if let Field::Value(_) = f.company {
        input.error("companyName", "Choose an existing company or type a new one, not both");
    }
    Some(name)
}

pub async fn create(db: &Db, actor: &Actor, mut input: Input) -> CoreResult<contact::Model> {
    let f = read(&mut input);
    let company_name = new_company(&mut input, &f);
    input.finish()?;
    check_refs(db, &f, None).await?;
    let owner = scope::resolve_owner(db, actor, f.owner.clone(), None, true).await?;
    let mut model = new_contact(f, owner, clock::now()).into_active_model().reset_all();
    let txn = db.conn.begin().await?;
    if let Some(name) = company_name {
        model.company_id = sea_orm::Set(Some(crate::companies::write::find_or_create(&txn, actor, &name).await?));
    }
    let saved = model.insert(&txn).await.map_err(unique_error)?;
    crate::store::created(&txn, actor, saved.clone().into(), Some(snapshot(&saved))).await?;
    txn.commit().await?;
    Ok(saved)
}

/// A new contact from validated fields (the company as validated in `f.company`).
pub(crate) fn new_contact(f: Fields, owner: Option<Uuid>, now: chrono::DateTime<chrono::Utc>) -> contact::Model {
    let (first, last, email) = (
        f.first.value().unwrap_or_default(),
        f.last.value().unwrap_or_default(),
        f.email.value().unwrap_or_default(),
    );
    let phone = f.phone.into_option();
    let mut m = contact::Model {
        id: Uuid::now_v7(),
        search_text: search_text(&first, &last, &email, phone.as_deref()),
        first_name: first,
        last_name: last,
        email,
        phone_key: phone.as_deref().map(phone_key),
        phone_number: phone,
        status: f.status.value().unwrap_or(ContactStatus::Lead),
        company_id: f.company.into_option(),
        user_id: owner,
        is_demo: false,
        created_at: now,
        updated_at: now,
        ..Default::default()
    };
    super::fields::set_new(&mut m, f.extras);
    m
}

/// `current` with the fields present in `f` changed (absent keep, null clears).
pub(crate) fn apply(current: &contact::Model, f: Fields, owner: Option<Uuid>) -> contact::Model {
    let mut m = current.clone();
    m.first_name = f.first.value().unwrap_or_else(|| current.first_name.clone());
    m.last_name = f.last.value().unwrap_or_else(|| current.last_name.clone());
    m.email = f.email.value().unwrap_or_else(|| current.email.clone());
    m.phone_number = f.phone.apply(current.phone_number.clone());
    m.phone_key = m.phone_number.as_deref().map(phone_key);
    m.search_text = search_text(&m.first_name, &m.last_name, &m.email, m.phone_number.as_deref());
    if let Field::Value(s) = f.status {
        m.status = s;
    }
    super::fields::apply(&mut m, f.extras);
    m.company_id = f.company.apply(current.company_id);
    m.user_id = owner;
    m.updated_at = clock::now();
    m
}

/// PUT semantics: only fields present change; `null` clears an optional field.
pub async fn update(db: &Db, actor: &Actor, id: Uuid, mut input: Input) -> CoreResult<contact::Model> {
    let f = read(&mut input);
    let company_name = new_company(&mut input, &f);
    input.finish()?;
    let current = scope::get_writable::<contact::Entity>(db, actor, id, "Contact").await?;
    check_refs(db, &f, Some(id)).await?;
    let owner = scope::resolve_owner(db, actor, f.owner.clone(), current.user_id, false).await?;
    let before = snapshot(&current);
    let mut am = apply(&current, f, owner).into_active_model().reset_all();
    let txn = db.conn.begin().await?;
    if let Some(name) = company_name {
        am.company_id = sea_orm::Set(Some(crate::companies::write::find_or_create(&txn, actor, &name).await?));
    }
    let saved = am.update(&txn).await.map_err(unique_error)?;
    let changes = audit::diff(&before, &snapshot(&saved));
    let action = if saved.user_id != current.user_id {
        "assign"
    } else {
        "update"
    };
    audit::record(
        &txn,
        Some(actor),
        action,
        "contact",
        Some(id.to_string()),
        Some(changes),
    )
    .await?;
    webhooks::updated(&txn, actor, current, saved.clone()).await?;
    txn.commit().await?;
    Ok(saved)
}

pub async fn delete(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<()> {
    let current = scope::get_writable::<contact::Entity>(db, actor, id, "Contact").await?;
    let txn = db.conn.begin().await?;
    super::cascade::guard_and_audit(&txn, actor, &[id]).await?;
    webhooks::deleted(&txn, actor, current.clone()).await?;
    contact::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        Some(actor),
        "delete",
        "contact",
        Some(id.to_string()),
        Some(snapshot(&current)),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Delete the listed contacts the actor may change; returns how many were deleted.
pub async fn bulk_delete(db: &Db, actor: &Actor, ids: &[Uuid]) -> CoreResult<u64> {
    if ids.is_empty() {
        return Err(CoreError::field("ids", "Select at least one contact"));
    }
    if ids.len() > 1000 {
        return Err(CoreError::field("ids", "At most 1000 contacts can be deleted at once"));
    }
    let txn = db.conn.begin().await?;
    let mine: Vec<Uuid> = scope::writable::<contact::Entity>(actor)
        .select_only()
        .column(contact::Column::Id)
        .filter(contact::Column::Id.is_in(ids.to_vec()))
        .into_tuple()
        .all(&txn)
        .await?;
    super::cascade::guard_and_audit(&txn, actor, &mine).await?;
    for gone in contact::Entity::find()
        .filter(contact::Column::Id.is_in(mine.clone()))
        .all(&txn)
        .await?
    {
        webhooks::deleted(&txn, actor, gone).await?;
    }
    let res = contact::Entity::delete_many()
        .filter(contact::Column::Id.is_in(mine))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        Some(actor),
        "bulk_delete",
        "contact",
        None,
        Some(json!({ "requested": ids.len(), "deleted": res.rows_affected })),
    )
    .await?;
    txn.commit().await?;
    Ok(res.rows_affected)
}

/// Give the listed contacts the actor may change to `owner` (admins and managers only).
pub async fn bulk_assign(db: &Db, actor: &Actor, ids: &[Uuid], owner: Uuid) -> CoreResult<u64> {
    if ids.is_empty() {
        return Err(CoreError::field("ids", "Select at least one contact"));
    }
    let owner = scope::resolve_owner(db, actor, Field::Value(owner), None, false).await?;
    let txn = db.conn.begin().await?;
    let before = scope::writable::<contact::Entity>(actor)
        .filter(contact::Column::Id.is_in(ids.to_vec()))
        .all(&txn)
        .await?;
    let res = contact::Entity::update_many()
        .col_expr(contact::Column::UserId, sea_orm::sea_query::Expr::value(owner))
        .col_expr(
            contact::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(clock::now()),
        )
        .filter(scope::write_condition::<contact::Entity>(actor))
        .filter(contact::Column::Id.is_in(ids.to_vec()))
        .exec(&txn)
        .await?;
    let changes = json!({ "requested": ids.len(), "assigned": res.rows_affected, "userId": owner });
    audit::record(&txn, Some(actor), "assign", "contact", None, Some(changes)).await?;
    let after: std::collections::HashMap<Uuid, contact::Model> = contact::Entity::find()
        .filter(contact::Column::Id.is_in(before.iter().map(|c| c.id).collect::<Vec<_>>()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    for b in before {
        if let Some(a) = after.get(&b.id).filter(|a| a.user_id != b.user_id) {
            webhooks::updated(&txn, actor, b, a.clone()).await?;
        }
    }
    txn.commit().await?;
    Ok(res.rows_affected)
}

pub(crate) fn snapshot(c: &contact::Model) -> serde_json::Value {
    let mut out = json!({
        "firstName": c.first_name, "lastName": c.last_name, "email": c.email,
        "phoneNumber": c.phone_number, "status": c.status,
        "companyId": c.company_id, "userId": c.user_id,
    });
    if let (serde_json::Value::Object(o), serde_json::Value::Object(x)) =
        (&mut out, json!(super::fields::Extras::of(c)))
    {
        o.extend(x);
    }
    out
}
