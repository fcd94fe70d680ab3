//! "My day", the first page a user sees: their own overdue tasks and those due today (apart,
//! so "today" never hides what is late), their open deals expected to close this month, and
//! the latest activity on contacts they own. Everything is the actor's own — a manager's
//! day is theirs, not the team's.

use chrono::{Datelike, Duration, NaiveDate};
use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};
use serde::Serialize;

use super::day_start;
use crate::activities::ActivityView;
use crate::actor::Actor;
use crate::clock;
use crate::db::Db;
use crate::deals::DealView;
use crate::entities::{activity, contact, deal, task};
use crate::error::CoreResult;
use crate::scope;
use crate::tasks::TaskView;

/// How many of each list the page shows (the counts say how many there are).
const SHOWN: u64 = 10;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MyDay {
    pub overdue: Vec<TaskView>,
    pub overdue_total: u64,
    pub due_today: Vec<TaskView>,
    pub due_today_total: u64,
    pub closing: Vec<DealView>,
    pub closing_total: u64,
    /// Sum of the open deals closing this month, in dollars.
    pub closing_value: f64,
    pub recent: Vec<ActivityView>,
}

pub async fn my_day(db: &Db, actor: &Actor) -> CoreResult<MyDay> {
    let now = clock::now();
    let today = clock::local(&now).date_naive();
    let tomorrow = day_start(today + Duration::days(1));
    let month = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today);
    let next_month = (month + Duration::days(32)).with_day(1).unwrap_or(month);

    let mine_open = || {
        scope::visible::<task::Entity>(actor)
            .filter(task::Column::UserId.eq(actor.id))
            .filter(task::Column::Completed.eq(false))
    };
    let overdue = mine_open().filter(task::Column::DueDate.lt(now));
    let due_today = mine_open()
        .filter(task::Column::DueDate.gte(now))
        .filter(task::Column::DueDate.lt(tomorrow));
    let closing = scope::visible::<deal::Entity>(actor)
        .filter(deal::Column::UserId.eq(actor.id))
        .filter(deal::Column::Status.eq(crate::DealStatus::Open))
        .filter(deal::Column::ExpectedCloseDate.gte(day_start(month)))
        .filter(deal::Column::ExpectedCloseDate.lt(day_start(next_month)));
    let closing_cents: Option<i64> = closing
        .clone()
        .select_only()
        .column_as(crate::deals::value_sum(), "s")
        .into_tuple::<Option<i64>>()
        .one(&db.conn)
        .await?
        .flatten();
    let my_contacts = scope::visible::<contact::Entity>(actor)
        .select_only()
        .column(contact::Column::Id)
        .filter(contact::Column::UserId.eq(actor.id))
        .into_query();
    let recent = scope::visible::<activity::Entity>(actor)
        .filter(activity::Column::ContactId.in_subquery(my_contacts))
        .order_by_desc(activity::Column::CreatedAt)
        .limit(SHOWN)
        .all(&db.conn)
        .await?;
    Ok(MyDay {
        overdue_total: overdue.clone().count(&db.conn).await?,
        overdue: crate::tasks::views(
            db,
            actor,
            overdue
                .order_by_asc(task::Column::DueDate)
                .limit(SHOWN)
                .all(&db.conn)
                .await?,
        )
        .await?,
        due_today_total: due_today.clone().count(&db.conn).await?,
        due_today: crate::tasks::views(
            db,
            actor,
            due_today
                .order_by_asc(task::Column::DueDate)
                .limit(SHOWN)
                .all(&db.conn)
                .await?,
        )
        .await?,
        closing_total: closing.clone().count(&db.conn).await?,
        closing_value: closing_cents.unwrap_or(0) as f64 / 100.0,
        closing: crate::deals::views(
            db,
            actor,
            closing
                .order_by_asc(deal::Column::ExpectedCloseDate)
                .limit(SHOWN)
                .all(&db.conn)
                .await?,
        )
        .await?,
        recent: crate::activities::views(db, actor, recent).await?,
    })
}
