//! Writing deals: create, partial update, the kanban move (PATCH) and delete.

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set, TransactionTrait};
use serde_json::json;
use uuid::Uuid;

use crate::actor::Actor;
use crate::db::Db;
use crate::entities::{company, deal, deal_stage_history};
use crate::error::{CoreError, CoreResult, FieldErrors};
use crate::input::{Field, Input};
use crate::vocab::{DealStage, DealStatus};
use crate::{clock, scope, store};

struct Fields {
    name: Field<String>,
    value: Field<i64>,
    stage: Field<DealStage>,
    status: Field<DealStatus>,
    expected: Field<chrono::DateTime<chrono::Utc>>,
    actual: Field<chrono::DateTime<chrono::Utc>>,
    probability: Field<i64>,
    description: Field<String>,
    contact: Field<Uuid>,
    company: Field<Uuid>,
    owner: Field<Uuid>,
}

fn read(input: &mut Input) -> Fields {
    let value = input.opt_money("value", "Deal value", "Deal value must be a positive number");
    let value = input.required("value", "Deal value", value);
    let expected = input.opt_datetime("expectedCloseDate", "Invalid date format");
    let expected = input.required("expectedCloseDate", "Expected close date", expected);
    let contact = input.opt_uuid("contactId", "Invalid contact ID");
    let contact = input.required("contactId", "Contact", contact);
    let probability = match input.opt_count(
        "probability",
        "Probability must be a whole number between 0 and 100",
        "Probability must be between 0 and 100",
    ) {
        Field::Value(p) if p > 100 => {
            input.error("probability", "Probability must be between 0 and 100");
            Field::Absent
        }
        other => other,
    };
    Fields {
        name: input.req_text("name", "Deal name", 255),
        value,
        stage: if input.has("stage") {
            input.req_enum("stage", "Stage")
        } else {
            Field::Absent
        },
        status: if input.has("status") {
            input.req_enum("status", "Status")
        } else {
            Field::Absent
        },
        expected,
        actual: input.opt_datetime("actualCloseDate", "Invalid date format"),
        probability,
        description: input.opt_text("description", "Description", 1000),
        contact,
        company: input.opt_uuid("companyId", "Invalid company ID"),
        owner: input.opt_uuid("userId", "Invalid user ID"),
    }
}

/// The keys a deal body may hold: those its validation reads (the API reference's
/// documented body is checked against them).
pub fn body_keys() -> Vec<String> {
    Input::keys_read_by(|input| {
        read(input);
    })
}

/// The stage a request asks for, from `stage` and/or `status`; status follows stage.
fn target_stage(
    stage: &Field<DealStage>,
    status: &Field<DealStatus>,
    current: Option<DealStage>,
) -> CoreResult<Option<DealStage>> {
    match (stage, status) {
        (Field::Value(s), Field::Value(st)) if s.status() != *st => Err(CoreError::field(
            "status",
            format!(
                "Status {st} does not match stage {s} (status follows stage: closed_won is won, closed_lost is lost, others are open)"
            ),
        )),
        (Field::Value(s), _) => Ok(Some(*s)),
        (_, Field::Value(st)) => match (st, current) {
            (DealStatus::Won, _) => Ok(Some(DealStage::ClosedWon)),
            (DealStatus::Lost, _) => Ok(Some(DealStage::ClosedLost)),
            (_, Some(cur)) if cur.is_closed() => {
                Err(CoreError::field("stage", "To reopen a deal, move it to an open stage"))
            }
            _ => Ok(None),
        },
        _ => Ok(None),
    }
}

/// The company of a deal must be its contact's company when the contact has one: naming
/// none (`null`, or the form's empty option "The contact's company") takes the contact's.
async fn company_for(
    db: &Db,
    requested: &Field<Uuid>,
    contact_company: Option<Uuid>,
    current: Option<Uuid>,
) -> CoreResult<Option<Uuid>> {
    let chosen = match requested {
        Field::Value(id) => Some(*id),
        Field::Null => contact_company,
        Field::Absent => current.or(contact_company),
    };
    if let (Some(c), Some(cc)) = (chosen, contact_company)
        && c != cc
    {
        return Err(CoreError::field(
            "companyId",
            "Company must match the contact's company",
        ));
    }
    if let Some(c) = chosen
        && company::Entity::find_by_id(c).one(&db.conn).await?.is_none()
    {
        return Err(CoreError::field("companyId", "Company not found"));
    }
    Ok(chosen)
}

async fn record_stage(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    deal_id: Uuid,
    from: Option<DealStage>,
    to: DealStage,
) -> CoreResult<()> {
    deal_stage_history::ActiveModel {
        id: Set(Uuid::now_v7()),
        deal_id: Set(deal_id),
        from_stage: Set(from),
        to_stage: Set(to),
        changed_by: Set(Some(actor.id)),
        changed_at: Set(clock::now()),
    }
    .insert(conn)
    .await?;
    Ok(())
}

pub async fn create(db: &Db, actor: &Actor, mut input: Input) -> CoreResult<deal::Model> {
    let f = read(&mut input);
    input.finish()?;
    let stage = target_stage(&f.stage, &f.status, None)?.unwrap_or(DealStage::Lead);
    let contact = scope::attachable_contact(db, actor, f.contact.value().unwrap_or_default()).await?;
    let company_id = company_for(db, &f.company, contact.company_id, None).await?;
    let owner = scope::owner_for_new(db, actor, f.owner, &contact).await?;
    let now = clock::now();
    let actual = stage.is_closed().then(|| f.actual.value().unwrap_or(now));
    let txn = db.conn.begin().await?;
    let saved = deal::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(f.name.value().unwrap_or_default()),
        value_cents: Set(f.value.value().unwrap_or(0)),
        probability: Set(f
            .probability
            .value()
            .map(|p| p as i32)
            .unwrap_or_else(|| stage.default_probability())),
        status: Set(stage.status()),
        stage: Set(stage),
        expected_close_date: Set(f.expected.value().unwrap_or(now)),
        actual_close_date: Set(actual),
        description: Set(f.description.into_option()),
        contact_id: Set(contact.id),
        company_id: Set(company_id),
        user_id: Set(owner),
        is_demo: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    record_stage(&txn, actor, saved.id, None, stage).await?;
    let summary = json!({"name": saved.name, "stage": stage});
    store::created(&txn, actor, saved.clone().into(), Some(summary)).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Inside `txn`, take the deal's row lock first (a no-op write) and read it again, so two
/// concurrent moves run one after the other and the history matches the final stage.
async fn lock_and_reload(txn: &sea_orm::DatabaseTransaction, id: Uuid) -> CoreResult<deal::Model> {
    use sea_orm::{ColumnTrait, QueryFilter};
    deal::Entity::update_many()
        .col_expr(deal::Column::UpdatedAt, sea_orm::sea_query::Expr::value(clock::now()))
        .filter(deal::Column::Id.eq(id))
        .exec(txn)
        .await?;
    deal::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(|| CoreError::not_found("Deal"))
}

/// Apply a stage change to an active model: status, close date and history follow.
async fn apply_stage(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    am: &mut deal::ActiveModel,
    current: &deal::Model,
    stage: DealStage,
    actual: Option<chrono::DateTime<chrono::Utc>>,
) -> CoreResult<()> {
    am.stage = Set(stage);
    am.status = Set(stage.status());
    am.actual_close_date = Set(match (stage.is_closed(), current.stage.is_closed()) {
        (false, _) => None,
        (true, true) if current.stage == stage => actual.or(current.actual_close_date),
        (true, _) => Some(actual.unwrap_or_else(clock::now)),
    });
    if stage != current.stage {
        record_stage(conn, actor, current.id, Some(current.stage), stage).await?;
    }
    Ok(())
}

/// Partial update (PUT): only fields present change.
pub async fn update(db: &Db, actor: &Actor, id: Uuid, mut input: Input) -> CoreResult<deal::Model> {
    let f = read(&mut input);
    input.finish()?;
    let current = scope::get_writable::<deal::Entity>(db, actor, id, "Deal").await?;
    target_stage(&f.stage, &f.status, Some(current.stage))?;
    let contact_company = match f.contact {
        Field::Value(cid) => scope::attachable_contact(db, actor, cid).await?.company_id,
        _ => crate::entities::contact::Entity::find_by_id(current.contact_id)
            .one(&db.conn)
            .await?
            .and_then(|c| c.company_id),
    };
    let company_id = match (&f.company, &f.contact) {
        (Field::Absent, Field::Absent) => current.company_id,
        _ => {
            company_for(
                db,
                &f.company,
                contact_company,
                if f.contact.is_absent() {
                    current.company_id
                } else {
                    None
                },
            )
            .await?
        }
    };
    let owner = scope::resolve_owner(db, actor, f.owner, current.user_id, false).await?;
    let txn = db.conn.begin().await?;
    let current = lock_and_reload(&txn, id).await?;
    let stage = match (&f.stage, &f.status) {
        (Field::Absent, Field::Absent) => None,
        _ => target_stage(&f.stage, &f.status, Some(current.stage))?,
    };
    let mut am: deal::ActiveModel = current.clone().into();
    if let Field::Value(n) = f.name {
        am.name = Set(n);
    }
    if let Field::Value(v) = f.value {
        am.value_cents = Set(v);
    }
    if let Field::Value(e) = f.expected {
        am.expected_close_date = Set(e);
    }
    if let Field::Value(p) = f.probability {
        am.probability = Set(p as i32);
    }
    am.description = Set(f.description.apply(current.description.clone()));
    if let Field::Value(c) = f.contact {
        am.contact_id = Set(c);
    }
    am.company_id = Set(company_id);
    am.user_id = Set(owner);
    am.updated_at = Set(clock::now());
    let target = stage.unwrap_or(current.stage);
    apply_stage(&txn, actor, &mut am, &current, target, f.actual.value()).await?;
    let saved = am.update(&txn).await?;
    changed(&txn, actor, &current, &saved, None).await?;
    txn.commit().await?;
    Ok(saved)
}

/// The kanban move: `{stage?, status?}`, validated; two users moving the same deal both
/// land in the history and the last write wins.
pub async fn move_stage(db: &Db, actor: &Actor, id: Uuid, mut input: Input) -> CoreResult<deal::Model> {
    let stage = if input.has("stage") {
        input.req_enum("stage", "Stage")
    } else {
        Field::Absent
    };
    let status = if input.has("status") {
        input.req_enum("status", "Status")
    } else {
        Field::Absent
    };
    input.finish()?;
    if stage.is_absent() && status.is_absent() {
        let mut e = FieldErrors::default();
        e.add("stage", "Stage is required");
        e.finish()?;
    }
    scope::get_writable::<deal::Entity>(db, actor, id, "Deal").await?;
    let txn = db.conn.begin().await?;
    let current = lock_and_reload(&txn, id).await?;
    let target = target_stage(&stage, &status, Some(current.stage))?.unwrap_or(current.stage);
    let mut am: deal::ActiveModel = current.clone().into();
    apply_stage(&txn, actor, &mut am, &current, target, None).await?;
    am.updated_at = Set(clock::now());
    let saved = am.update(&txn).await?;
    let changes = json!({"stage": [current.stage, target]});
    changed(&txn, actor, &current, &saved, Some(changes)).await?;
    txn.commit().await?;
    Ok(saved)
}

/// The audit entry and events of a deal change: `deal.updated`, and `deal.stage_changed`
/// when it moved.
async fn changed(
    txn: &sea_orm::DatabaseTransaction,
    actor: &Actor,
    before: &deal::Model,
    after: &deal::Model,
    changes: Option<serde_json::Value>,
) -> CoreResult<()> {
    store::updated(txn, actor, before.clone().into(), after.clone().into(), changes).await?;
    if before.stage != after.stage {
        let (b, a) = (before.clone().into(), after.clone().into());
        crate::webhooks::changed(txn, actor, "deal.stage_changed", b, a).await?;
    }
    Ok(())
}

/// Delete a deal; its stage history goes with it, and the activities about it keep no link
/// to it. Both are kept with the deal for Undo ([`restore`]).
pub async fn delete(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<()> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
    // read before the delete; nothing of it is shown unless the delete (which checks the
    // actor's right to change the deal) goes through
    let history = deal_stage_history::Entity::find()
        .filter(deal_stage_history::Column::DealId.eq(id))
        .all(&db.conn)
        .await?;
    let about: Vec<Uuid> = crate::entities::activity::Entity::find()
        .select_only()
        .column(crate::entities::activity::Column::Id)
        .filter(crate::entities::activity::Column::DealId.eq(id))
        .into_tuple()
        .all(&db.conn)
        .await?;
    let with = serde_json::json!({"deal": id, "history": history, "activities": about});
    scope::delete_writable::<deal::Entity>(db, actor, id, "Deal", with)
        .await
        .map(|_| ())
}

/// Undo the actor's delete of a deal (within the hour): the deal, its stage history and the
/// links of the activities about it (those not linked elsewhere meanwhile).
pub async fn restore(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<()> {
    scope::restore::<deal::Entity>(db, actor, id, "Deal", |txn, with| {
        Box::pin(async move {
            use sea_orm::sea_query::Expr;
            use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
            let history: Vec<deal_stage_history::Model> =
                serde_json::from_value(with["history"].clone()).map_err(|e| crate::CoreError::Internal(e.into()))?;
            let deal_id: Option<Uuid> = serde_json::from_value(with["deal"].clone()).ok();
            if !history.is_empty() {
                deal_stage_history::Entity::insert_many(history.into_iter().map(|h| h.into_active_model().reset_all()))
                    .exec(txn)
                    .await?;
            }
            let about: Vec<Uuid> = serde_json::from_value(with["activities"].clone()).unwrap_or_default();
            if let (Some(deal_id), false) = (deal_id, about.is_empty()) {
                crate::entities::activity::Entity::update_many()
                    .col_expr(crate::entities::activity::Column::DealId, Expr::value(Some(deal_id)))
                    .filter(crate::entities::activity::Column::Id.is_in(about))
                    .filter(crate::entities::activity::Column::DealId.is_null())
                    .exec(txn)
                    .await?;
            }
            Ok(())
        })
    })
    .await
    .map(|_| ())
}
