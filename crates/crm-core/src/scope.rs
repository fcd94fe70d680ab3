//! The single choke point for record ownership. Every list, get, update, delete,
//! aggregate, search and export of an owned record starts from [`visible`] or
//! [`writable`]; there is no other way to query owned entities in the codebase.
//!
//! A record outside the read scope is reported as not found (no existence oracle);
//! a record the actor may read but not change is forbidden.

use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, Select};

use crate::actor::Actor;

/// An entity with an owner column ("assigned to").
pub trait Owned: EntityTrait {
    fn owner_column() -> Self::Column;
}

/// The ownership condition for reading (`None` = no restriction).
pub fn read_condition<E: Owned>(actor: &Actor) -> Condition {
    if actor.reads_all() {
        Condition::all()
    } else {
        Condition::all().add(E::owner_column().eq(actor.id))
    }
}

/// The ownership condition for changing.
pub fn write_condition<E: Owned>(actor: &Actor) -> Condition {
    if actor.writes_all() {
        Condition::all()
    } else {
        Condition::all().add(E::owner_column().eq(actor.id))
    }
}

/// Records the actor may see.
pub fn visible<E: Owned>(actor: &Actor) -> Select<E> {
    E::find().filter(read_condition::<E>(actor))
}

/// Records the actor may change.
pub fn writable<E: Owned>(actor: &Actor) -> Select<E> {
    E::find().filter(write_condition::<E>(actor))
}

/// One record the actor may see, else "<what> not found".
pub async fn get_visible<E>(db: &crate::Db, actor: &Actor, id: uuid::Uuid, what: &str) -> crate::CoreResult<E::Model>
where
    E: Owned,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<uuid::Uuid>,
{
    if let Some(m) = E::find_by_id(id)
        .filter(read_condition::<E>(actor))
        .one(&db.conn)
        .await?
    {
        return Ok(m);
    }
    // the caller sees "not found" either way; a record that exists out of scope is a
    // refusal, and audited as one
    if !actor.reads_all() && E::find_by_id(id).one(&db.conn).await?.is_some() {
        crate::audit::denied(db, actor, &what.to_lowercase(), Some(id.to_string())).await;
    }
    Err(crate::CoreError::not_found(what))
}

/// One record the actor may change. Visible but not theirs → forbidden; invisible → not found.
pub async fn get_writable<E>(db: &crate::Db, actor: &Actor, id: uuid::Uuid, what: &str) -> crate::CoreResult<E::Model>
where
    E: Owned,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<uuid::Uuid>,
{
    if let Some(m) = E::find_by_id(id)
        .filter(write_condition::<E>(actor))
        .one(&db.conn)
        .await?
    {
        return Ok(m);
    }
    get_visible::<E>(db, actor, id, what).await?;
    crate::audit::denied(db, actor, &what.to_lowercase(), Some(id.to_string())).await;
    Err(crate::CoreError::Forbidden(
        "You can only change your own records".into(),
    ))
}

/// Who will own a record being created or changed. Reps always own what they create and
/// cannot give records away; admins and managers may name any active user.
pub async fn resolve_owner(
    db: &crate::Db,
    actor: &Actor,
    requested: crate::input::Field<uuid::Uuid>,
    current: Option<uuid::Uuid>,
    creating: bool,
) -> crate::CoreResult<Option<uuid::Uuid>> {
    use crate::entities::user;
    let keep = if creating { Some(actor.id) } else { current };
    let id = match requested {
        crate::input::Field::Value(id) => id,
        _ => return Ok(keep),
    };
    if Some(id) == keep || id == actor.id {
        return Ok(Some(id));
    }
    if !actor.may_assign() {
        return Err(crate::CoreError::Forbidden(
            "You can only assign records to yourself".into(),
        ));
    }
    let exists = user::Entity::find_by_id(id)
        .filter(user::Column::IsActive.eq(true))
        .one(&db.conn)
        .await?
        .is_some();
    if !exists {
        return Err(crate::CoreError::field("userId", "Assigned user not found"));
    }
    Ok(Some(id))
}

/// The contact a new or changed activity, task or deal attaches to: it must exist and be
/// visible to the actor (a rep cannot attach records to someone else's contact).
pub async fn attachable_contact(
    db: &crate::Db,
    actor: &Actor,
    id: uuid::Uuid,
) -> crate::CoreResult<crate::entities::contact::Model> {
    use crate::entities::contact;
    contact::Entity::find_by_id(id)
        .filter(read_condition::<contact::Entity>(actor))
        .one(&db.conn)
        .await?
        .ok_or_else(|| crate::CoreError::field("contactId", "Contact not found"))
}

/// The owner of a new activity, task or deal attached to `contact`: the one requested (if
/// the actor may assign it), else the actor for reps and the contact's owner for admins and
/// managers (or the actor when the contact has none).
pub async fn owner_for_new(
    db: &crate::Db,
    actor: &Actor,
    requested: crate::input::Field<uuid::Uuid>,
    contact: &crate::entities::contact::Model,
) -> crate::CoreResult<Option<uuid::Uuid>> {
    let requested = match requested {
        crate::input::Field::Value(v) => v,
        _ if actor.may_assign() => contact.user_id.unwrap_or(actor.id),
        _ => actor.id,
    };
    resolve_owner(db, actor, crate::input::Field::Value(requested), None, true).await
}

/// Delete one record the actor may change, with its audit entry, in one transaction.
pub async fn delete_writable<E>(
    db: &crate::Db,
    actor: &Actor,
    id: uuid::Uuid,
    what: &str,
) -> crate::CoreResult<E::Model>
where
    E: Owned,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<uuid::Uuid>,
{
    use sea_orm::TransactionTrait;
    let current = get_writable::<E>(db, actor, id, what).await?;
    let txn = db.conn.begin().await?;
    E::delete_by_id(id).exec(&txn).await?;
    crate::audit::record(
        &txn,
        Some(actor),
        "delete",
        &what.to_lowercase(),
        Some(id.to_string()),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(current)
}

/// Rows of a child table (e.g. stage history) whose parent owned record the actor may see:
/// `fk IN (visible parent ids)`; no condition for actors who read every record.
pub fn child_of_visible<P: Owned, C: ColumnTrait>(actor: &Actor, parent_id: P::Column, fk: C) -> Condition {
    use sea_orm::QuerySelect;
    if actor.reads_all() {
        return Condition::all();
    }
    Condition::all().add(fk.in_subquery(sea_orm::QueryTrait::into_query(
        visible::<P>(actor).select_only().column(parent_id),
    )))
}
