//! CSV export of every list, honouring the list's filters and the actor's scope. Rows come
//! in id order (UUID v7: creation order) in batches after a cursor, so an export of a
//! million rows runs in constant memory. Cells that a spreadsheet would run as a formula
//! are neutralised (phone numbers stay as they are: they can name no function). Times are
//! written on the organisation's wall clock with its offset (`2026-11-30T09:15:00.000-05:00`).

use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use uuid::Uuid;

use crate::actor::Actor;
use crate::db::Db;
use crate::entities::{activity, company, contact, deal, task};
use crate::error::{CoreError, CoreResult};
use crate::input::cents_to_decimal;
use crate::query::QueryParams;
use crate::{clock, scope};

pub const BATCH: u64 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Contacts,
    Companies,
    Deals,
    Tasks,
    Activities,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "contacts" => Kind::Contacts,
            "companies" => Kind::Companies,
            "deals" => Kind::Deals,
            "tasks" => Kind::Tasks,
            "activities" => Kind::Activities,
            _ => return None,
        })
    }
    pub fn header(&self) -> Vec<&'static str> {
        let fixed: &[&str] = match self {
            Kind::Contacts => {
                let mut h = vec!["id", "firstName", "lastName", "email", "phoneNumber", "status"];
                h.extend(crate::contacts::fields::EXTRAS.iter().map(|e| e.key));
                h.extend(["companyId", "userId", "createdAt", "companyName", "ownerName"]);
                return h;
            }
            Kind::Companies => &[
                "id",
                "name",
                "industry",
                "website",
                "phone",
                "address",
                "employeeCount",
                "revenue",
                "createdAt",
            ],
            Kind::Deals => &[
                "id",
                "name",
                "value",
                "stage",
                "status",
                "probability",
                "expectedCloseDate",
                "actualCloseDate",
                "contactId",
                "companyId",
                "userId",
                "createdAt",
                "contactName",
                "companyName",
                "ownerName",
            ],
            Kind::Tasks => &[
                "id",
                "title",
                "description",
                "dueDate",
                "priority",
                "completed",
                "completedAt",
                "contactId",
                "userId",
                "createdAt",
                "contactName",
                "ownerName",
            ],
            Kind::Activities => &[
                "id",
                "type",
                "subject",
                "description",
                "contactId",
                "userId",
                "createdAt",
                "contactName",
                "ownerName",
            ],
        };
        fixed.to_vec()
    }
}

/// The filters of a list, validated once before streaming starts.
#[derive(Clone)]
pub struct Export {
    pub kind: Kind,
    condition: Condition,
    /// The zone the export was asked in (it streams outside the request).
    zone: clock::Tz,
}

impl Export {
    pub fn new(db: &Db, actor: &Actor, kind: Kind, q: &QueryParams) -> CoreResult<Export> {
        let condition = match kind {
            Kind::Contacts => {
                crate::contacts::list::filter_condition(db, &crate::contacts::list::ListParams::parse(q)?)
            }
            Kind::Companies => {
                crate::companies::list::condition(&crate::companies::list::ListParams::parse(q, 50)?, actor)
            }
            Kind::Deals => crate::deals::condition(&crate::deals::ListParams::parse(q)?),
            Kind::Tasks => crate::tasks::condition(&crate::tasks::ListParams::parse(q)?),
            Kind::Activities => crate::activities::condition(&crate::activities::ListParams::parse(q)?),
        };
        Ok(Export {
            kind,
            condition,
            zone: clock::zone(),
        })
    }

    /// The next batch of rows after `after` (exclusive), with the last id for the cursor.
    pub async fn batch(
        &self,
        db: &Db,
        actor: &Actor,
        after: Option<Uuid>,
    ) -> CoreResult<(Vec<Vec<String>>, Option<Uuid>)> {
        let c = &self.condition;
        let z = self.zone;
        let rows = match self.kind {
            Kind::Contacts => rows(db, actor, scope::visible::<contact::Entity>(actor), c, after, z).await?,
            Kind::Companies => rows(db, actor, company::Entity::find(), c, after, z).await?,
            Kind::Deals => rows(db, actor, scope::visible::<deal::Entity>(actor), c, after, z).await?,
            Kind::Tasks => rows(db, actor, scope::visible::<task::Entity>(actor), c, after, z).await?,
            Kind::Activities => rows(db, actor, scope::visible::<activity::Entity>(actor), c, after, z).await?,
        };
        let last = rows.last().map(|(id, _)| *id);
        Ok((rows.into_iter().map(|(_, r)| r).collect(), last))
    }
}

/// An entity exported as CSV: its id column and one row of cells per record, in the order
/// of [`Kind::header`].
trait Rows: EntityTrait {
    fn id_col() -> Self::Column;
    fn id_of(m: &Self::Model) -> Uuid;
    /// The records it names, whose names follow its own cells: (contact, company, owner),
    /// `None` for a column the kind does not have.
    fn refs(m: &Self::Model) -> [Option<Option<Uuid>>; 3];
    fn cells(m: Self::Model, t: &Times) -> Vec<String>;
}

/// Writes times in the export's zone.
struct Times(clock::Tz);
impl Times {
    fn at(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        if self.0 == clock::Tz::UTC {
            return clock::fmt(t);
        }
        t.with_timezone(&self.0).format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
    }
    fn opt(&self, t: &Option<chrono::DateTime<chrono::Utc>>) -> String {
        t.as_ref().map(|t| self.at(t)).unwrap_or_default()
    }
}

/// Names of the records a batch refers to: companies and owners by id, contacts only
/// when the actor may see them (a contact that moved to someone else stays unnamed).
async fn names(
    db: &Db,
    actor: &Actor,
    refs: &[[Option<Option<Uuid>>; 3]],
) -> CoreResult<[std::collections::HashMap<Uuid, String>; 3]> {
    let ids = |i: usize| -> Vec<Uuid> {
        let mut v: Vec<Uuid> = refs.iter().filter_map(|r| r[i].flatten()).collect();
        v.sort();
        v.dedup();
        v
    };
    let (contacts, companies, owners) = (ids(0), ids(1), ids(2));
    let mut out: [std::collections::HashMap<Uuid, String>; 3] = Default::default();
    if !contacts.is_empty() {
        for c in scope::visible::<contact::Entity>(actor)
            .filter(contact::Column::Id.is_in(contacts))
            .all(&db.conn)
            .await?
        {
            out[0].insert(c.id, format!("{} {}", c.first_name, c.last_name));
        }
    }
    if !companies.is_empty() {
        for c in company::Entity::find()
            .filter(company::Column::Id.is_in(companies))
            .all(&db.conn)
            .await?
        {
            out[1].insert(c.id, c.name);
        }
    }
    out[2] = crate::accounts::users::names(db, owners).await?;
    Ok(out)
}

/// One batch of `base` (already scoped) under the list's condition, after the cursor.
async fn rows<E: Rows>(
    db: &Db,
    actor: &Actor,
    base: Select<E>,
    condition: &Condition,
    after: Option<Uuid>,
    zone: clock::Tz,
) -> CoreResult<Vec<(Uuid, Vec<String>)>> {
    let times = Times(zone);
    let mut q = base.filter(condition.clone());
    if let Some(a) = after {
        q = q.filter(E::id_col().gt(a));
    }
    let models = q.order_by_asc(E::id_col()).limit(BATCH).all(&db.conn).await?;
    let refs: Vec<_> = models.iter().map(E::refs).collect();
    let names = names(db, actor, &refs).await?;
    Ok(models
        .into_iter()
        .zip(refs)
        .map(|(m, r)| {
            let id = E::id_of(&m);
            let mut cells = E::cells(m, &times);
            for (i, which) in r.iter().enumerate() {
                if let Some(which) = which {
                    cells.push(which.and_then(|x| names[i].get(&x).cloned()).unwrap_or_default());
                }
            }
            (id, cells)
        })
        .collect())
}

fn opt(v: Option<String>) -> String {
    v.unwrap_or_default()
}

fn id_s(v: Option<Uuid>) -> String {
    v.map(|u| u.to_string()).unwrap_or_default()
}

impl Rows for contact::Entity {
    fn id_col() -> contact::Column {
        contact::Column::Id
    }
    fn id_of(m: &contact::Model) -> Uuid {
        m.id
    }
    fn refs(m: &contact::Model) -> [Option<Option<Uuid>>; 3] {
        [None, Some(m.company_id), Some(m.user_id)]
    }
    fn cells(c: contact::Model, t: &Times) -> Vec<String> {
        let extras = crate::contacts::fields::Extras::of(&c);
        let mut row = vec![
            c.id.to_string(),
            c.first_name,
            c.last_name,
            c.email,
            opt(c.phone_number),
            c.status.to_string(),
        ];
        row.extend(
            crate::contacts::fields::EXTRAS
                .iter()
                .map(|e| extras.get(e.key).unwrap_or("").to_string()),
        );
        row.extend([id_s(c.company_id), id_s(c.user_id), t.at(&c.created_at)]);
        row
    }
}

impl Rows for company::Entity {
    fn id_col() -> company::Column {
        company::Column::Id
    }
    fn id_of(m: &company::Model) -> Uuid {
        m.id
    }
    fn refs(_: &company::Model) -> [Option<Option<Uuid>>; 3] {
        [None, None, None]
    }
    fn cells(c: company::Model, t: &Times) -> Vec<String> {
        let employees = c.employee_count.map(|n| n.to_string()).unwrap_or_default();
        let revenue = c.revenue_cents.map(cents_to_decimal).unwrap_or_default();
        vec![
            c.id.to_string(),
            c.name,
            opt(c.industry),
            opt(c.website),
            opt(c.phone),
            opt(c.address),
            employees,
            revenue,
            t.at(&c.created_at),
        ]
    }
}

impl Rows for deal::Entity {
    fn id_col() -> deal::Column {
        deal::Column::Id
    }
    fn id_of(m: &deal::Model) -> Uuid {
        m.id
    }
    fn refs(m: &deal::Model) -> [Option<Option<Uuid>>; 3] {
        [Some(Some(m.contact_id)), Some(m.company_id), Some(m.user_id)]
    }
    fn cells(d: deal::Model, t: &Times) -> Vec<String> {
        vec![
            d.id.to_string(),
            d.name,
            cents_to_decimal(d.value_cents),
            d.stage.to_string(),
            d.status.to_string(),
            d.probability.to_string(),
            t.at(&d.expected_close_date),
            t.opt(&d.actual_close_date),
            d.contact_id.to_string(),
            id_s(d.company_id),
            id_s(d.user_id),
            t.at(&d.created_at),
        ]
    }
}

impl Rows for task::Entity {
    fn id_col() -> task::Column {
        task::Column::Id
    }
    fn id_of(m: &task::Model) -> Uuid {
        m.id
    }
    fn refs(m: &task::Model) -> [Option<Option<Uuid>>; 3] {
        [Some(m.contact_id), None, Some(m.user_id)]
    }
    fn cells(k: task::Model, t: &Times) -> Vec<String> {
        vec![
            k.id.to_string(),
            k.title,
            opt(k.description),
            t.at(&k.due_date),
            k.priority.to_string(),
            k.completed.to_string(),
            t.opt(&k.completed_at),
            id_s(k.contact_id),
            id_s(k.user_id),
            t.at(&k.created_at),
        ]
    }
}

impl Rows for activity::Entity {
    fn id_col() -> activity::Column {
        activity::Column::Id
    }
    fn id_of(m: &activity::Model) -> Uuid {
        m.id
    }
    fn refs(m: &activity::Model) -> [Option<Option<Uuid>>; 3] {
        [Some(Some(m.contact_id)), None, Some(m.user_id)]
    }
    fn cells(a: activity::Model, t: &Times) -> Vec<String> {
        vec![
            a.id.to_string(),
            a.kind.to_string(),
            a.subject,
            opt(a.description),
            a.contact_id.to_string(),
            id_s(a.user_id),
            t.at(&a.created_at),
        ]
    }
}

/// One CSV line (CRLF), each cell quoted when needed and neutralised against formulas.
pub fn line(cells: &[String]) -> String {
    let mut out = String::new();
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let mut v = cell.clone();
        if v.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_phone(&v) {
            v.insert(0, '\'');
        }
        if v.contains([',', '"', '\n', '\r']) || v.starts_with(' ') || v.ends_with(' ') {
            out.push('"');
            out.push_str(&v.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&v);
        }
    }
    out.push_str("\r\n");
    out
}

/// `+1 (555) 010-0100`: a plus, then digits and the marks phone numbers are written with.
/// No spreadsheet can call anything from it, so it is written as it is (an apostrophe in
/// front would show in the cell).
fn is_phone(v: &str) -> bool {
    let rest = v.strip_prefix('+').unwrap_or(v);
    v.starts_with('+')
        && rest.starts_with(|c: char| c.is_ascii_digit() || c == '(')
        && rest.chars().any(|c| c.is_ascii_digit())
        && rest.chars().all(|c| c.is_ascii_digit() || " ()-./".contains(c))
}

pub fn unknown(kind: &str) -> CoreError {
    CoreError::NotFound(format!("There is no export of {kind}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn cells() {
        let l = line(&[
            "=1+1".into(),
            "a,b".into(),
            "say \"hi\"".into(),
            "-5".into(),
            "plain".into(),
        ]);
        assert_eq!(l, "'=1+1,\"a,b\",\"say \"\"hi\"\"\",'-5,plain\r\n");
        let phones = line(&[
            "+1 (555) 010-0100".into(),
            "+44 20 7946 0958".into(),
            "+1+cmd|' /C calc'!A0".into(),
            "+".into(),
        ]);
        assert_eq!(
            phones,
            "+1 (555) 010-0100,+44 20 7946 0958,'+1+cmd|' /C calc'!A0,'+\r\n"
        );
    }
}
