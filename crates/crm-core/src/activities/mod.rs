//! Activities: calls, e-mails, meetings and notes logged against a contact.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ColumnTrait, Condition, QueryFilter, Set};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::actor::Actor;
use crate::db::{Conn, Db};
use crate::entities::{activity, contact, deal};
use crate::error::{CoreError, CoreResult};
use crate::input::{Field, Input, Mode};
use crate::page::Page;
use crate::query::QueryParams;
use crate::text::like_escape;
use crate::vocab::ActivityType;
use crate::{clock, scope, store};

/// A stored activity (the row; the API shows its view).
pub type Activity = crate::entities::activity::Model;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactName {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivityView {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub kind: ActivityType,
    pub subject: String,
    pub description: Option<String>,
    pub contact_id: Uuid,
    pub user_id: Option<Uuid>,
    /// The contact's deal this activity is about.
    pub deal_id: Option<Uuid>,
    /// When it happened (given when logged, or the time it was logged).
    pub created_at: String,
    pub updated_at: String,
    /// `None` when the contact is outside the actor's scope (their own activity on a
    /// contact that has since moved to someone else): its name is not theirs to see.
    pub contact: Option<ContactName>,
}

/// Names of the contacts of a batch of rows (one query), only those the actor may see.
pub async fn contact_names(db: &impl Conn, actor: &Actor, ids: Vec<Uuid>) -> CoreResult<HashMap<Uuid, ContactName>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(scope::visible::<contact::Entity>(actor)
        .filter(contact::Column::Id.is_in(ids))
        .all(db.conn())
        .await?
        .into_iter()
        .map(|c| {
            (
                c.id,
                ContactName {
                    id: c.id,
                    first_name: c.first_name,
                    last_name: c.last_name,
                },
            )
        })
        .collect())
}

pub async fn views(db: &impl Conn, actor: &Actor, rows: Vec<activity::Model>) -> CoreResult<Vec<ActivityView>> {
    let names = contact_names(db, actor, rows.iter().map(|a| a.contact_id).collect()).await?;
    Ok(rows
        .into_iter()
        .map(|a| ActivityView {
            contact: names.get(&a.contact_id).cloned(),
            id: a.id,
            kind: a.kind,
            subject: a.subject,
            description: a.description,
            contact_id: a.contact_id,
            user_id: a.user_id,
            deal_id: a.deal_id,
            created_at: clock::fmt(&a.created_at),
            updated_at: clock::fmt(&a.updated_at),
        })
        .collect())
}

pub struct ListParams {
    /// Records on the contacts of this company.
    pub company_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub kind: Option<ActivityType>,
    pub search: Option<String>,
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    pub page: crate::page::PageReq,
    pub cursor: Option<crate::keyset::Cursor>,
}

impl ListParams {
    pub fn parse(q: &QueryParams) -> CoreResult<Self> {
        let mut errs = q.errors();
        let contact_id = q.opt_uuid("contactId", "Invalid contact ID", &mut errs);
        let kind = q.opt_enum("type", "Activity type", &mut errs);
        let (from, to) = q.date_range("fromDate", "toDate", &mut errs);
        let company_id = q.opt_uuid("companyId", "Invalid company ID", &mut errs);
        let page = q.page(20, &mut errs);
        let cursor = q.cursor(&mut errs);
        errs.finish()?;
        Ok(ListParams {
            company_id,
            contact_id,
            kind,
            search: q.search(),
            from,
            to,
            page,
            cursor,
        })
    }
}

pub fn condition(p: &ListParams) -> Condition {
    let mut c = Condition::all();
    if let Some(id) = p.contact_id {
        c = c.add(activity::Column::ContactId.eq(id));
    }
    if let Some(k) = p.kind {
        c = c.add(activity::Column::Kind.eq(k));
    }
    if let Some(f) = p.from {
        c = c.add(activity::Column::CreatedAt.gte(f));
    }
    if let Some(t) = p.to {
        c = c.add(activity::Column::CreatedAt.lt(t));
    }
    if let Some(s) = &p.search {
        let pat = format!("%{}%", like_escape(&s.to_lowercase()));
        let like = |col: activity::Column| {
            Expr::expr(Func::lower(Expr::col(col))).like(LikeExpr::new(pat.clone()).escape('\\'))
        };
        c = c.add(
            Condition::any()
                .add(like(activity::Column::Subject))
                .add(like(activity::Column::Description)),
        );
    }
    if let Some(co) = p.company_id {
        c = c.add(crate::contacts::of_company(activity::Column::ContactId, co));
    }
    c
}

pub async fn list(db: &Db, actor: &Actor, p: &ListParams) -> CoreResult<Page<ActivityView>> {
    let c = condition(p);
    let base = scope::visible::<activity::Entity>(actor).filter(c);
    use crate::keyset::{Key, Keyset, Kind};
    let order = Keyset::new(
        vec![Key::new(activity::Column::CreatedAt, true, Kind::Time)],
        activity::Column::Id,
        true,
    );
    let (rows, pagination) = crate::keyset::page(db, base, &order, p.page, p.cursor.as_ref()).await?;
    Ok(Page {
        items: views(db, actor, rows).await?,
        pagination,
    })
}

pub async fn get(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<ActivityView> {
    let a = scope::get_visible::<activity::Entity>(db, actor, id, "Activity").await?;
    Ok(views(db, actor, vec![a]).await?.remove(0))
}

struct Fields {
    kind: Field<ActivityType>,
    subject: Field<String>,
    description: Field<String>,
    contact: Field<Uuid>,
    owner: Field<Uuid>,
    deal: Field<Uuid>,
    at: Field<chrono::DateTime<chrono::Utc>>,
}

fn read(input: &mut Input) -> Fields {
    Fields {
        kind: if input.mode() == Mode::Create && !input.has("type") {
            Field::Value(ActivityType::Note)
        } else {
            input.req_enum("type", "Activity type")
        },
        subject: input.req_text("subject", "Subject", 200),
        description: input.opt_text("description", "Description", 1000),
        contact: match input.opt_uuid("contactId", "Invalid contact ID") {
            Field::Null if input.mode() == Mode::Update => {
                input.error("contactId", "Contact is required");
                Field::Absent
            }
            Field::Absent | Field::Null if input.mode() == Mode::Create && !input.has_error("contactId") => {
                input.error("contactId", "Contact is required");
                Field::Absent
            }
            other => other,
        },
        owner: input.opt_uuid("userId", "Invalid user ID"),
        deal: input.opt_uuid("dealId", "Invalid deal ID"),
        at: when(input),
    }
}

/// `createdAt`: when the activity happened — now by default, earlier when logged late; at
/// most a day ahead (what is planned is a task).
fn when(input: &mut Input) -> Field<chrono::DateTime<chrono::Utc>> {
    let key = "createdAt";
    match input.opt_datetime(key, "Invalid date (use YYYY-MM-DDTHH:MM)") {
        Field::Value(t) if t > clock::now() + chrono::Duration::days(1) => {
            input.error(
                key,
                "An activity is logged when it happened: plan what is ahead as a task",
            );
            Field::Absent
        }
        Field::Null if input.mode() == Mode::Update => {
            input.error(key, "Date is required");
            Field::Absent
        }
        other => other,
    }
}

/// The deal an activity is about must be one of its contact's deals the actor can see.
async fn deal_of(db: &Db, actor: &Actor, deal: &Field<Uuid>, contact_id: Uuid) -> CoreResult<Option<Uuid>> {
    let Field::Value(id) = deal else {
        return Ok(None);
    };
    let found = scope::visible::<deal::Entity>(actor)
        .filter(deal::Column::Id.eq(*id))
        .one(&db.conn)
        .await?;
    match found {
        Some(d) if d.contact_id == contact_id => Ok(Some(d.id)),
        Some(_) => Err(CoreError::field(
            "dealId",
            "The deal must be one of the contact's deals",
        )),
        None => Err(CoreError::field("dealId", "Deal not found")),
    }
}

/// The keys a activity body may hold: those its validation reads (the API reference's
/// documented body is checked against them).
pub fn body_keys() -> Vec<String> {
    Input::keys_read_by(|input| {
        read(input);
    })
}

pub async fn create(db: &Db, actor: &Actor, mut input: Input) -> CoreResult<activity::Model> {
    let f = read(&mut input);
    input.finish()?;
    let contact = scope::attachable_contact(db, actor, f.contact.value().unwrap_or_default()).await?;
    let owner = scope::owner_for_new(db, actor, f.owner, &contact).await?;
    let deal_id = deal_of(db, actor, &f.deal, contact.id).await?;
    let now = clock::now();
    let at = f.at.value().unwrap_or(now);
    let subject = f.subject.value().unwrap_or_default();
    let summary = json!({ "subject": subject });
    let am = activity::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(f.kind.value().unwrap_or(ActivityType::Note)),
        subject: Set(subject),
        description: Set(f.description.into_option()),
        contact_id: Set(contact.id),
        user_id: Set(owner),
        deal_id: Set(deal_id),
        is_demo: Set(false),
        created_at: Set(at),
        updated_at: Set(now),
    };
    store::insert(db, actor, am, summary).await
}

/// Partial update: type, subject, description, contact and owner (all of them — the
/// original dropped type and contact silently).
pub async fn update(db: &Db, actor: &Actor, id: Uuid, mut input: Input) -> CoreResult<activity::Model> {
    let f = read(&mut input);
    input.finish()?;
    let current = scope::get_writable::<activity::Entity>(db, actor, id, "Activity").await?;
    if let Field::Value(cid) = f.contact {
        scope::attachable_contact(db, actor, cid).await?;
    }
    let owner = scope::resolve_owner(db, actor, f.owner, current.user_id, false).await?;
    let mut am: activity::ActiveModel = current.clone().into();
    if let Field::Value(k) = f.kind {
        am.kind = Set(k);
    }
    if let Field::Value(s) = f.subject {
        am.subject = Set(s);
    }
    am.description = Set(f.description.apply(current.description.clone()));
    if let Field::Value(c) = f.contact {
        am.contact_id = Set(c);
    }
    let contact_id = f.contact.value().unwrap_or(current.contact_id);
    am.deal_id = Set(match &f.deal {
        Field::Value(_) => deal_of(db, actor, &f.deal, contact_id).await?,
        Field::Null => None,
        // a deal stays only while its contact does
        Field::Absent if contact_id == current.contact_id => current.deal_id,
        Field::Absent => None,
    });
    if let Field::Value(t) = f.at {
        am.created_at = Set(t);
    }
    am.user_id = Set(owner);
    am.updated_at = Set(clock::now());
    store::update(db, actor, current, am, None).await
}

pub async fn delete(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<()> {
    scope::delete_writable::<activity::Entity>(db, actor, id, "Activity", serde_json::Value::Null)
        .await
        .map(|_| ())
}

/// Undo the actor's delete of an activity (within the hour).
pub async fn restore(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<ActivityView> {
    scope::restore::<activity::Entity>(db, actor, id, "Activity", scope::nothing_to_put_back).await?;
    get(db, actor, id).await
}
