//! The single choke point for record ownership. Every list, get, update, delete,
//! aggregate, search and export of an owned record starts from [`visible`] or
//! [`writable`]; there is no other way to query owned entities in the codebase.
//!
//! A record outside the read scope is reported as not found (no existence oracle);
//! a record the actor may read but not change is forbidden.

use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, Select};

use crate::actor::Actor;
use crate::entities::deleted_record;

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

/// The records [`write_condition`] leaves out: not the actor's (or nobody's), unless the
/// actor changes everything (then a condition that never holds).
pub fn outside_write_scope<E: Owned>(actor: &Actor) -> Condition {
    if actor.writes_all() {
        Condition::any()
    } else {
        Condition::any()
            .add(E::owner_column().ne(actor.id))
            .add(E::owner_column().is_null())
    }
}

/// The write rule of [`write_condition`] for a record already in memory (owned by `owner`).
pub fn may_write(actor: &Actor, owner: Option<uuid::Uuid>) -> bool {
    actor.writes_all() || owner == Some(actor.id)
}

/// The read rule of [`read_condition`] for a record already in memory (owned by `owner`).
pub fn may_read(actor: &Actor, owner: Option<uuid::Uuid>) -> bool {
    actor.reads_all() || owner == Some(actor.id)
}

/// Whose records the actor reads: `None` for everyone's, else their own. Two actors with
/// the same reach see the same answer to the same list query.
pub fn reach(actor: &Actor) -> Option<uuid::Uuid> {
    (!actor.reads_all()).then_some(actor.id)
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

/// How long the one who deleted a deal, task or activity can restore it (Undo).
pub const UNDO_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// Delete one record the actor may change, with its audit entry and webhook event, in one
/// transaction; the row as it was (and `with`, what the delete takes along, such as a deal's
/// stage history) is kept for [`UNDO_WINDOW`] so its deleter can [`restore`] it.
pub async fn delete_writable<E>(
    db: &crate::Db,
    actor: &Actor,
    id: uuid::Uuid,
    what: &str,
    with: serde_json::Value,
) -> crate::CoreResult<E::Model>
where
    E: Owned,
    E::Model: Into<crate::webhooks::Record> + Clone + serde::Serialize,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<uuid::Uuid>,
{
    use sea_orm::{ActiveModelTrait, Set, TransactionTrait};
    let current = get_writable::<E>(db, actor, id, what).await?;
    let kind = what.to_lowercase();
    let now = crate::clock::now();
    let txn = db.conn.begin().await?;
    crate::webhooks::deleted(&txn, actor, current.clone()).await?;
    E::delete_by_id(id).exec(&txn).await?;
    deleted_record::Entity::delete_many()
        .filter(deleted_record::Column::DeletedAt.lt(now - UNDO_WINDOW))
        .exec(&txn)
        .await?;
    let data = serde_json::json!({"row": current, "with": with});
    deleted_record::ActiveModel {
        id: Set(id),
        kind: Set(kind.clone()),
        owner_id: Set(owner_of::<E>(&current)),
        data: Set(data.to_string()),
        deleted_by: Set(Some(actor.id)),
        deleted_at: Set(now),
    }
    .insert(&txn)
    .await?;
    crate::audit::record(&txn, Some(actor), "delete", &kind, Some(id.to_string()), None).await?;
    txn.commit().await?;
    Ok(current)
}

fn owner_of<E: Owned>(m: &E::Model) -> Option<uuid::Uuid> {
    use sea_orm::ModelTrait;
    match m.get(E::owner_column()) {
        sea_orm::Value::Uuid(Some(u)) => Some(u),
        _ => None,
    }
}

/// What [`restore`] puts back besides the row (inside its transaction).
pub type PutBack =
    for<'a> fn(
        &'a sea_orm::DatabaseTransaction,
        serde_json::Value,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = crate::CoreResult<()>> + Send + 'a>>;

/// Undo a delete: the record deleted by this actor within [`UNDO_WINDOW`] is inserted again
/// as it was (same id, dates, owner), `put_back` restores what went with it, and it is
/// audited and announced as created. Someone else's delete, an expired one, or a record
/// the actor may no longer change answers "not found"; a record whose contact has been
/// deleted meanwhile cannot come back (409).
pub async fn restore<E>(
    db: &crate::Db,
    actor: &Actor,
    id: uuid::Uuid,
    what: &str,
    put_back: PutBack,
) -> crate::CoreResult<E::Model>
where
    E: Owned,
    E::Model:
        Into<crate::webhooks::Record> + Clone + serde::de::DeserializeOwned + sea_orm::IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: sea_orm::ActiveModelTrait<Entity = E> + sea_orm::ActiveModelBehavior + Send,
{
    use sea_orm::{ActiveModelTrait, IntoActiveModel, TransactionTrait};
    let kind = what.to_lowercase();
    let gone = || {
        crate::CoreError::NotFound(format!(
            "There is no deleted {kind} to restore (Undo works for an hour after your own delete)"
        ))
    };
    let kept = deleted_record::Entity::find_by_id(id)
        .filter(deleted_record::Column::Kind.eq(kind.as_str()))
        .filter(deleted_record::Column::DeletedBy.eq(actor.id))
        .filter(deleted_record::Column::DeletedAt.gte(crate::clock::now() - UNDO_WINDOW))
        .one(&db.conn)
        .await?
        .ok_or_else(gone)?;
    if !may_write(actor, kept.owner_id) {
        return Err(gone());
    }
    let mut data: serde_json::Value =
        serde_json::from_str(&kept.data).map_err(|e| crate::CoreError::Internal(e.into()))?;
    let row: E::Model = serde_json::from_value(data["row"].take()).map_err(|e| crate::CoreError::Internal(e.into()))?;
    let txn = db.conn.begin().await?;
    let inserted = row.clone().into_active_model().reset_all().insert(&txn).await;
    let saved = match inserted {
        Ok(m) => m,
        Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_))) => {
            return Err(crate::CoreError::Conflict(format!(
                "This {kind} cannot be restored: its contact was deleted meanwhile"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    put_back(&txn, data["with"].take()).await?;
    deleted_record::Entity::delete_by_id(id).exec(&txn).await?;
    crate::store::created(
        &txn,
        actor,
        saved.clone().into(),
        Some(serde_json::json!({"restored": true})),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// For kinds whose delete takes nothing else along.
pub fn nothing_to_put_back(
    _: &sea_orm::DatabaseTransaction,
    _: serde_json::Value,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = crate::CoreResult<()>> + Send + '_>> {
    Box::pin(async { Ok(()) })
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

#[cfg(test)]
mod tests {
    //! The scope rules by role × own/other for every owned kind, on a real (temporary
    //! SQLite) database, records made through the services as users make them.

    use sea_orm::{EntityTrait, PaginatorTrait};
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::actor::Role;
    use crate::entities::{activity, contact, deal, task};
    use crate::input::{Input, Mode};
    use crate::{CoreError, Db};

    fn input(v: serde_json::Value) -> Input {
        Input::json(v.as_object().cloned().unwrap_or_default(), Mode::Create)
    }

    async fn user(db: &Db, role: Role) -> Actor {
        let u = crate::accounts::users::create(
            db,
            crate::accounts::users::NewUser {
                email: format!("{}-{}@example.com", role.as_str(), Uuid::new_v4().simple()),
                name: format!("Scope {}", role.as_str()),
                role,
                password: "a long enough test passphrase".into(),
                verified: true,
                is_demo: false,
            },
        )
        .await
        .expect("user");
        crate::accounts::users::actor_of(&u)
    }

    /// (contact, activity, task, deal) owned by `a`.
    async fn records(db: &Db, a: &Actor) -> [Uuid; 4] {
        let email = format!("c-{}@example.com", Uuid::new_v4().simple());
        let c =
            crate::contacts::write::create(db, a, input(json!({"firstName": "S", "lastName": "C", "email": email})))
                .await
                .expect("contact");
        let act = crate::activities::create(db, a, input(json!({"subject": "S", "contactId": c.id})))
            .await
            .expect("activity");
        let t = crate::tasks::create(
            db,
            a,
            input(json!({"title": "S", "dueDate": "2030-01-01", "contactId": c.id})),
        )
        .await
        .expect("task");
        let d = crate::deals::write::create(
            db,
            a,
            input(json!({"name": "S", "value": 1, "expectedCloseDate": "2030-01-01", "contactId": c.id})),
        )
        .await
        .expect("deal");
        [c.id, act.id, t.id, d.id]
    }

    #[derive(Debug, PartialEq)]
    enum Seen {
        Visible,
        Hidden,
    }
    #[derive(Debug, PartialEq)]
    enum Change {
        Allowed,
        Forbidden,
        NotFound,
    }

    async fn check<E>(db: &Db, actor: &Actor, id: Uuid) -> (Seen, Change)
    where
        E: Owned,
        <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<Uuid>,
    {
        let seen = match get_visible::<E>(db, actor, id, "Record").await {
            Ok(_) => Seen::Visible,
            Err(CoreError::NotFound(_)) => Seen::Hidden,
            Err(e) => panic!("{e}"),
        };
        let change = match get_writable::<E>(db, actor, id, "Record").await {
            Ok(_) => Change::Allowed,
            Err(CoreError::Forbidden(_)) => Change::Forbidden,
            Err(CoreError::NotFound(_)) => Change::NotFound,
            Err(e) => panic!("{e}"),
        };
        (seen, change)
    }

    #[tokio::test]
    async fn scope_by_role_and_owner_for_every_owned_kind() {
        let dir = std::env::temp_dir().join(format!("crm-scope-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.join("t.db").display()))
            .await
            .unwrap();
        db.migrate().await.unwrap();
        let admin = user(&db, Role::Admin).await;
        let manager = user(&db, Role::Manager).await;
        let rep = user(&db, Role::Rep).await;
        let other = user(&db, Role::Rep).await;
        let mine = records(&db, &rep).await;
        let managers = records(&db, &manager).await;
        let others = records(&db, &other).await;
        use Change::*;
        use Seen::*;
        // (actor, whose records, what they may do with them)
        let cases: [(&Actor, [Uuid; 4], (Seen, Change)); 7] = [
            (&admin, mine, (Visible, Allowed)),
            (&admin, managers, (Visible, Allowed)),
            (&manager, managers, (Visible, Allowed)),
            (&manager, mine, (Visible, Forbidden)),
            (&rep, mine, (Visible, Allowed)),
            (&rep, others, (Hidden, NotFound)),
            (&rep, managers, (Hidden, NotFound)),
        ];
        for (actor, ids, want) in cases {
            let who = actor.role.as_str();
            assert_eq!(
                check::<contact::Entity>(&db, actor, ids[0]).await,
                want,
                "{who}: contact"
            );
            assert_eq!(
                check::<activity::Entity>(&db, actor, ids[1]).await,
                want,
                "{who}: activity"
            );
            assert_eq!(check::<task::Entity>(&db, actor, ids[2]).await, want, "{who}: task");
            assert_eq!(check::<deal::Entity>(&db, actor, ids[3]).await, want, "{who}: deal");
        }
        // lists: admins and managers read all three owners' records, a rep their own
        for (actor, n) in [(&admin, 3), (&manager, 3), (&rep, 1), (&other, 1)] {
            assert_eq!(visible::<contact::Entity>(actor).count(&db.conn).await.unwrap(), n);
            assert_eq!(visible::<activity::Entity>(actor).count(&db.conn).await.unwrap(), n);
            assert_eq!(visible::<task::Entity>(actor).count(&db.conn).await.unwrap(), n);
            assert_eq!(visible::<deal::Entity>(actor).count(&db.conn).await.unwrap(), n);
            // admins change everything; everyone else their own one
            let w = if actor.role == Role::Admin { 3 } else { 1 };
            assert_eq!(writable::<deal::Entity>(actor).count(&db.conn).await.unwrap(), w);
        }
        // every refusal above was audited as `denied` with the actor (rep: 2 owners × 4 kinds
        // × read and write; manager: 4 refused changes)
        let denied = crate::entities::audit_log::Entity::find().all(&db.conn).await.unwrap();
        let count = |a: &Actor| {
            denied
                .iter()
                .filter(|e| e.action == "denied" && e.actor_id == Some(a.id))
                .count()
        };
        assert_eq!(count(&rep), 16);
        assert_eq!(count(&manager), 4);
        assert_eq!(count(&admin), 0);
        db.conn.close().await.ok();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
