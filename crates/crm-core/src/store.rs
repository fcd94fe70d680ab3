//! The one write path of the CRM records (contacts, companies, deals, tasks, activities):
//! the row, its audit-log entry and its webhook event, in one transaction. Domain modules
//! validate, check scope and build the active model; this module saves it. A write with
//! more to do in the same transaction (a deal's stage history) calls [`created`] /
//! [`updated`] on its own transaction instead.

use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, TransactionTrait,
};
use serde_json::Value;

use crate::actor::Actor;
use crate::db::Db;
use crate::error::CoreResult;
use crate::webhooks::Record;

type ModelOf<A> = <<A as ActiveModelTrait>::Entity as EntityTrait>::Model;

/// Insert `am`, audit `create` with `summary`, queue `<kind>.created`.
pub(crate) async fn insert<A>(db: &Db, actor: &Actor, am: A, summary: Value) -> CoreResult<ModelOf<A>>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    ModelOf<A>: IntoActiveModel<A> + Into<Record> + Clone,
{
    let txn = db.conn.begin().await?;
    let saved = am.insert(&txn).await?;
    created(&txn, actor, saved.clone().into(), Some(summary)).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Save the changes in `am` to `current`, audit `update` (with `changes` when given) and
/// queue `<kind>.updated` with the old values.
pub(crate) async fn update<A>(
    db: &Db,
    actor: &Actor,
    current: ModelOf<A>,
    am: A,
    changes: Option<Value>,
) -> CoreResult<ModelOf<A>>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    ModelOf<A>: IntoActiveModel<A> + Into<Record> + Clone,
{
    let txn = db.conn.begin().await?;
    let saved = am.update(&txn).await?;
    updated(&txn, actor, current.into(), saved.clone().into(), changes).await?;
    txn.commit().await?;
    Ok(saved)
}

/// The audit entry and the event of a record just inserted in `txn`.
pub(crate) async fn created(
    txn: &DatabaseTransaction,
    actor: &Actor,
    r: Record,
    summary: Option<Value>,
) -> CoreResult<()> {
    crate::audit::record(txn, Some(actor), "create", r.kind(), Some(r.id().to_string()), summary).await?;
    crate::webhooks::created(txn, actor, r).await
}

/// The audit entry and the event of a record just updated in `txn`.
pub(crate) async fn updated(
    txn: &DatabaseTransaction,
    actor: &Actor,
    before: Record,
    after: Record,
    changes: Option<Value>,
) -> CoreResult<()> {
    crate::audit::record(
        txn,
        Some(actor),
        "update",
        after.kind(),
        Some(after.id().to_string()),
        changes,
    )
    .await?;
    crate::webhooks::updated(txn, actor, before, after).await
}
