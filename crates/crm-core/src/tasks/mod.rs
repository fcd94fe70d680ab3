//! Tasks: to-dos with a due date and priority, about a contact or personal (no contact).
//! "Overdue" means not completed and due before now — everywhere.

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, QueryFilter, Set, TransactionTrait};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::activities::{ContactName, contact_names};
use crate::actor::Actor;
use crate::db::Db;
use crate::entities::task;
use crate::error::{CoreError, CoreResult};
use crate::input::{Field, Input, Mode};
use crate::page::Page;
use crate::query::QueryParams;
use crate::text::like_escape;
use crate::vocab::TaskPriority;
use crate::{clock, scope, store};

/// A stored task (the row; the API shows its view).
pub type Task = crate::entities::task::Model;

pub const STATUSES: [&str; 3] = ["open", "completed", "overdue"];

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskView {
    pub id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub due_date: String,
    pub priority: TaskPriority,
    pub completed: bool,
    pub completed_at: Option<String>,
    /// `None`: a personal to-do.
    pub contact_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub created_at: String,
    pub updated_at: String,
    /// Not completed and due before now.
    pub overdue: bool,
    pub contact: Option<ContactName>,
    /// The owner's name.
    pub owner: Option<String>,
}

pub async fn views(db: &impl crate::db::Conn, actor: &Actor, rows: Vec<task::Model>) -> CoreResult<Vec<TaskView>> {
    let names = contact_names(db, actor, rows.iter().filter_map(|t| t.contact_id).collect()).await?;
    let owners = crate::accounts::users::names(db, rows.iter().filter_map(|t| t.user_id)).await?;
    let now = clock::now();
    Ok(rows
        .into_iter()
        .map(|t| TaskView {
            contact: t.contact_id.and_then(|c| names.get(&c).cloned()),
            owner: t.user_id.and_then(|u| owners.get(&u).cloned()),
            overdue: !t.completed && t.due_date < now,
            id: t.id,
            title: t.title,
            description: t.description,
            due_date: clock::fmt(&t.due_date),
            priority: t.priority,
            completed: t.completed,
            completed_at: clock::fmt_opt(&t.completed_at),
            contact_id: t.contact_id,
            user_id: t.user_id,
            created_at: clock::fmt(&t.created_at),
            updated_at: clock::fmt(&t.updated_at),
        })
        .collect())
}

pub struct ListParams {
    /// Records on the contacts of this company.
    pub company_id: Option<Uuid>,
    pub status: Option<String>,
    pub priority: Option<TaskPriority>,
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    pub search: Option<String>,
    pub contact_id: Option<Uuid>,
    /// `userId`: tasks of one owner (within what the actor may see).
    pub owner: Option<Uuid>,
    pub page: crate::page::PageReq,
    pub cursor: Option<crate::keyset::Cursor>,
}

impl ListParams {
    pub fn parse(q: &QueryParams) -> CoreResult<Self> {
        let mut errs = q.errors();
        let status = q.opt_one_of("status", "Status", &STATUSES, &mut errs);
        let priority = q.opt_enum("priority", "Priority", &mut errs);
        let (from, to) = q.date_range("startDate", "endDate", &mut errs);
        let contact_id = q.opt_uuid("contactId", "Invalid contact ID", &mut errs);
        let company_id = q.opt_uuid("companyId", "Invalid company ID", &mut errs);
        let owner = q.opt_uuid("userId", "Invalid user ID", &mut errs);
        let page = q.page(50, &mut errs);
        let cursor = q.cursor(&mut errs);
        errs.finish()?;
        Ok(ListParams {
            company_id,
            owner,
            status,
            priority,
            from,
            to,
            search: q.search(),
            contact_id,
            page,
            cursor,
        })
    }
}

/// Open first, then by due date; filters combine (a date range never replaces "overdue").
pub fn condition(p: &ListParams) -> Condition {
    let now = clock::now();
    let mut c = Condition::all();
    match p.status.as_deref() {
        Some("open") => c = c.add(task::Column::Completed.eq(false)),
        Some("completed") => c = c.add(task::Column::Completed.eq(true)),
        Some("overdue") => {
            c = c
                .add(task::Column::Completed.eq(false))
                .add(task::Column::DueDate.lt(now))
        }
        _ => {}
    }
    if let Some(pr) = p.priority {
        c = c.add(task::Column::Priority.eq(pr));
    }
    if let Some(f) = p.from {
        c = c.add(task::Column::DueDate.gte(f));
    }
    if let Some(t) = p.to {
        c = c.add(task::Column::DueDate.lt(t));
    }
    if let Some(id) = p.contact_id {
        c = c.add(task::Column::ContactId.eq(id));
    }
    if let Some(id) = p.owner {
        c = c.add(task::Column::UserId.eq(id));
    }
    if let Some(s) = &p.search {
        let pat = format!("%{}%", like_escape(&s.to_lowercase()));
        c = c.add(Expr::expr(Func::lower(Expr::col(task::Column::Title))).like(LikeExpr::new(pat).escape('\\')));
    }
    if let Some(co) = p.company_id {
        c = c.add(crate::contacts::of_company(task::Column::ContactId, co));
    }
    c
}

pub async fn list(db: &Db, actor: &Actor, p: &ListParams) -> CoreResult<Page<TaskView>> {
    let c = condition(p);
    let base = scope::visible::<task::Entity>(actor).filter(c);
    use crate::keyset::{Key, Keyset, Kind};
    let order = Keyset::new(
        vec![
            Key::new(task::Column::Completed, false, Kind::Bool),
            Key::new(task::Column::DueDate, false, Kind::Time),
        ],
        task::Column::Id,
        false,
    );
    let (rows, pagination) = crate::keyset::page(db, base, &order, p.page, p.cursor.as_ref()).await?;
    Ok(Page {
        items: views(db, actor, rows).await?,
        pagination,
    })
}

pub async fn get(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<TaskView> {
    let t = scope::get_visible::<task::Entity>(db, actor, id, "Task").await?;
    Ok(views(db, actor, vec![t]).await?.remove(0))
}

struct Fields {
    title: Field<String>,
    description: Field<String>,
    due: Field<chrono::DateTime<chrono::Utc>>,
    priority: Field<TaskPriority>,
    contact: Field<Uuid>,
    owner: Field<Uuid>,
}

fn read(input: &mut Input) -> Fields {
    let creating = input.mode() == Mode::Create;
    let due = input.opt_datetime("dueDate", "Invalid date format");
    let due = match due {
        Field::Absent if creating && !input.has_error("dueDate") => {
            input.error("dueDate", "Due date is required");
            Field::Absent
        }
        Field::Null => {
            input.error("dueDate", "Due date is required");
            Field::Absent
        }
        other => other,
    };
    let contact = input.opt_uuid("contactId", "Invalid contact ID");
    Fields {
        title: input.req_text("title", "Title", 200),
        description: input.opt_text("description", "Description", 1000),
        due,
        priority: if creating && !input.has("priority") {
            Field::Value(TaskPriority::Medium)
        } else {
            input.req_enum("priority", "Priority")
        },
        contact,
        owner: input.opt_uuid("userId", "Invalid user ID"),
    }
}

/// The keys a task body may hold: those its validation reads (the API reference's
/// documented body is checked against them).
pub fn body_keys() -> Vec<String> {
    Input::keys_read_by(|input| {
        read(input);
    })
}

pub async fn create(db: &Db, actor: &Actor, mut input: Input) -> CoreResult<task::Model> {
    let f = read(&mut input);
    input.finish()?;
    let (contact, owner) = match f.contact {
        Field::Value(id) => {
            let contact = scope::attachable_contact(db, actor, id).await?;
            let owner = scope::owner_for_new(db, actor, f.owner, &contact).await?;
            (Some(contact.id), owner)
        }
        // a personal to-do: the actor's own unless assigned
        _ => (None, scope::resolve_owner(db, actor, f.owner, None, true).await?),
    };
    let now = clock::now();
    let title = f.title.value().unwrap_or_default();
    let summary = json!({ "title": title });
    let am = task::ActiveModel {
        id: Set(Uuid::now_v7()),
        title: Set(title),
        description: Set(f.description.into_option()),
        due_date: Set(f.due.value().unwrap_or(now)),
        priority: Set(f.priority.value().unwrap_or(TaskPriority::Medium)),
        completed: Set(false),
        completed_at: Set(None),
        contact_id: Set(contact),
        user_id: Set(owner),
        is_demo: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    };
    store::insert(db, actor, am, summary).await
}

pub async fn update(db: &Db, actor: &Actor, id: Uuid, mut input: Input) -> CoreResult<task::Model> {
    let f = read(&mut input);
    input.finish()?;
    let current = scope::get_writable::<task::Entity>(db, actor, id, "Task").await?;
    if let Field::Value(cid) = f.contact {
        scope::attachable_contact(db, actor, cid).await?;
    }
    let owner = scope::resolve_owner(db, actor, f.owner, current.user_id, false).await?;
    let mut am: task::ActiveModel = current.clone().into();
    if let Field::Value(t) = f.title {
        am.title = Set(t);
    }
    am.description = Set(f.description.apply(current.description.clone()));
    if let Field::Value(d) = f.due {
        am.due_date = Set(d);
    }
    if let Field::Value(p) = f.priority {
        am.priority = Set(p);
    }
    am.contact_id = Set(f.contact.apply(current.contact_id));
    am.user_id = Set(owner);
    am.updated_at = Set(clock::now());
    store::update(db, actor, current, am, None).await
}

/// The completion toggle: sets `completedAt` when completed, clears it when reopened.
pub async fn set_completed(db: &Db, actor: &Actor, id: Uuid, completed: Option<bool>) -> CoreResult<task::Model> {
    let completed = completed.ok_or_else(|| CoreError::field("completed", "completed must be a boolean"))?;
    let current = scope::get_writable::<task::Entity>(db, actor, id, "Task").await?;
    let mut am: task::ActiveModel = current.clone().into();
    let now = clock::now();
    am.completed = Set(completed);
    am.completed_at = Set(completed.then_some(now));
    am.updated_at = Set(now);
    let txn = db.conn.begin().await?;
    let saved = am.update(&txn).await?;
    if saved.completed != current.completed {
        let changes = json!({"completed": [current.completed, saved.completed]});
        let (b, a) = (current.clone().into(), saved.clone().into());
        store::updated(&txn, actor, b, a, Some(changes)).await?;
        if saved.completed {
            let (b, a) = (current.into(), saved.clone().into());
            crate::webhooks::changed(&txn, actor, "task.completed", b, a).await?;
        }
    }
    txn.commit().await?;
    Ok(saved)
}

pub async fn delete(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<()> {
    scope::delete_writable::<task::Entity>(db, actor, id, "Task", serde_json::Value::Null)
        .await
        .map(|_| ())
}

/// Undo the actor's delete of a task (within the hour).
pub async fn restore(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<TaskView> {
    scope::restore::<task::Entity>(db, actor, id, "Task", scope::nothing_to_put_back).await?;
    get(db, actor, id).await
}
