//! Deleting contacts takes their activities, tasks and deals with them (`ON DELETE
//! CASCADE`). Two rules keep that honest: a caller may not remove, through a contact, a
//! record they could not delete themselves (another user's activity attached by an admin,
//! or the records that stayed with their owners when the contact was reassigned) — the
//! delete is refused, naming how many such records there are; and every record that does
//! go is written to the audit log, not only the contact.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::actor::Actor;
use crate::entities::{activity, deal, task};
use crate::error::{CoreError, CoreResult};
use crate::{audit, scope};

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Refuse (403) when the contacts carry records the actor may not delete; otherwise audit
/// each record the cascade will remove. Runs inside the deleting transaction.
pub async fn guard_and_audit(conn: &impl ConnectionTrait, actor: &Actor, contacts: &[Uuid]) -> CoreResult<()> {
    let ids = contacts.to_vec();
    let foreign = (
        activity::Entity::find()
            .filter(activity::Column::ContactId.is_in(ids.clone()))
            .filter(scope::outside_write_scope::<activity::Entity>(actor))
            .count(conn)
            .await?,
        task::Entity::find()
            .filter(task::Column::ContactId.is_in(ids.clone()))
            .filter(scope::outside_write_scope::<task::Entity>(actor))
            .count(conn)
            .await?,
        deal::Entity::find()
            .filter(deal::Column::ContactId.is_in(ids.clone()))
            .filter(scope::outside_write_scope::<deal::Entity>(actor))
            .count(conn)
            .await?,
    );
    if foreign != (0, 0, 0) {
        let mut parts = vec![];
        for (n, one, many) in [
            (foreign.0, "activity", "activities"),
            (foreign.1, "task", "tasks"),
            (foreign.2, "deal", "deals"),
        ] {
            if n > 0 {
                parts.push(plural(n, one, many));
            }
        }
        let list = match parts.len() {
            1 => parts[0].clone(),
            2 => format!("{} and {}", parts[0], parts[1]),
            _ => format!("{}, {} and {}", parts[0], parts[1], parts[2]),
        };
        let whose = if contacts.len() == 1 {
            "This contact has"
        } else {
            "These contacts have"
        };
        return Err(CoreError::Forbidden(format!(
            "{whose} {list} owned by other users, which would be deleted with it. \
             Ask an administrator to reassign or delete them first."
        )));
    }
    let gone: Vec<(&str, Vec<Uuid>)> = vec![
        (
            "activity",
            activity::Entity::find()
                .select_only()
                .column(activity::Column::Id)
                .filter(activity::Column::ContactId.is_in(ids.clone()))
                .into_tuple()
                .all(conn)
                .await?,
        ),
        (
            "task",
            task::Entity::find()
                .select_only()
                .column(task::Column::Id)
                .filter(task::Column::ContactId.is_in(ids.clone()))
                .into_tuple()
                .all(conn)
                .await?,
        ),
        (
            "deal",
            deal::Entity::find()
                .select_only()
                .column(deal::Column::Id)
                .filter(deal::Column::ContactId.is_in(ids))
                .into_tuple()
                .all(conn)
                .await?,
        ),
    ];
    for (kind, ids) in gone {
        for id in ids {
            let why = serde_json::json!({"cascade": "deleted with its contact"});
            audit::record(conn, Some(actor), "delete", kind, Some(id.to_string()), Some(why)).await?;
        }
    }
    Ok(())
}
