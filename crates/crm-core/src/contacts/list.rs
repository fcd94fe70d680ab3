//! Reading contacts: list (search, filters, sort, pagination), get, related counts.

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{CompanyRef, ContactView};
use crate::accounts::users::UserRef;
use crate::actor::Actor;
use crate::db::Db;
use crate::entities::{activity, company, contact, deal, task, user};
use crate::error::{CoreError, CoreResult};
use crate::page::{Page, PageReq, Pagination};
use crate::query::{QueryParams, SortDir};
use crate::scope;
use crate::text::like_escape;
use crate::vocab::{ContactStatus, Vocab};

/// The sorts: these, and every optional text field of `fields::EXTRAS` by its key.
pub const SORTS: [&str; 5] = ["name", "email", "phoneNumber", "status", "createdAt"];

fn sorts() -> Vec<&'static str> {
    SORTS
        .into_iter()
        .chain(super::fields::EXTRAS.iter().map(|e| e.key))
        .collect()
}

#[derive(Debug, Clone)]
pub struct ListParams {
    pub search: Option<String>,
    pub status: Option<ContactStatus>,
    pub company_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub sort: String,
    pub dir: SortDir,
    pub page: PageReq,
    /// Start after this row instead of at `page` (`cursor=` a previous `nextCursor`).
    pub cursor: Option<crate::keyset::Cursor>,
}

impl ListParams {
    /// Parse `search, status, companyId, userId, sort, order, page, limit`.
    pub fn parse(q: &QueryParams) -> CoreResult<Self> {
        let mut errs = q.errors();
        let status = q.opt_enum("status", "Status", &mut errs);
        let company_id = q.opt_uuid("companyId", "Invalid company ID", &mut errs);
        let owner_id = q.opt_uuid("userId", "Invalid user ID", &mut errs);
        let sort = q
            .opt_one_of("sort", "Sort", &sorts(), &mut errs)
            .unwrap_or_else(|| "createdAt".into());
        let default_dir = if sort == "createdAt" {
            SortDir::Desc
        } else {
            SortDir::Asc
        };
        let dir = q.dir(default_dir, &mut errs);
        let page = q.page(50, &mut errs);
        let cursor = q.cursor(&mut errs);
        errs.finish()?;
        Ok(ListParams {
            search: q.search(),
            status,
            company_id,
            owner_id,
            sort,
            dir,
            page,
            cursor,
        })
    }
}

/// The search condition: the trigram index where the backend has one, else a scan.
fn search_condition(db: &Db, q: &str) -> Condition {
    if let Some(phrase) = fts_phrase(db, q) {
        Condition::all().add(Expr::cust_with_values(
            "contacts.rowid IN (SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH ?)",
            [phrase],
        ))
    } else {
        let pattern = format!("%{}%", like_escape(&q.to_lowercase()));
        Condition::all().add(Expr::col(contact::Column::SearchText).like(LikeExpr::new(pattern).escape('\\')))
    }
}

/// The search as a test of each row (`instr`/`strpos` on the lowercased text): no index
/// can serve it, so the database reads the list in its order and stops at the page's end.
fn scan_condition(db: &Db, q: &str) -> Condition {
    let f = if db.is_postgres() { "strpos" } else { "instr" };
    Condition::all().add(
        Expr::expr(
            Func::cust(Alias::new(f))
                .arg(Expr::col((contact::Entity, contact::Column::SearchText)))
                .arg(q.to_lowercase()),
        )
        .gt(0),
    )
}

/// More matches than this and a search is common: its page is read in the list's order, row
/// by row, which finds 50 matches within a few thousand rows; fewer, and the matches come
/// from the index and are sorted (there are at most this many). A capped count (the cap is
/// the same number) says "more".
const COMMON: u64 = crate::page::COUNT_CAP;

/// From this offset on a page is found in the index first (a deferred join).
const DEFERRED_FROM: u64 = 1_000;

/// Sorts that an index serves in order (the others sort what the index finds).
const ORDERED: [&str; 4] = ["createdAt", "name", "email", "status"];

/// Whether a page of this list is read in order with the search tested per row: a search
/// with more than `COMMON` matches (its total, `(n, capped)`, says so), an order an index
/// serves, and one of the first pages.
fn scan_in_order(p: &ListParams, (n, capped): (u64, bool)) -> bool {
    p.search.is_some()
        && ORDERED.contains(&p.sort.as_str())
        && p.page.offset() + p.page.limit <= COMMON
        && (capped || n > COMMON)
}

pub fn filter_condition(db: &Db, p: &ListParams) -> Condition {
    filters(db, p, Search::Index)
}

/// SQLite's FTS5 phrase for a term of three or more characters (the trigram index needs
/// three); `None` where the index is not full-text.
fn fts_phrase(db: &Db, q: &str) -> Option<String> {
    let q = q.to_lowercase();
    (!db.is_postgres() && q.chars().count() >= 3).then(|| format!("\"{}\"", q.replace('"', "\"\"")))
}

/// The capped total of a search. On SQLite the full-text index drives a join (it streams
/// matches and stops at the cap); as `rowid IN (…)` it would first collect every match.
async fn search_total(db: &Db, actor: &Actor, p: &ListParams) -> CoreResult<(u64, bool)> {
    use sea_orm::QueryTrait;
    let q = p.search.as_deref().unwrap_or_default();
    let Some(phrase) = fts_phrase(db, q) else {
        let base = scope::visible::<contact::Entity>(actor).filter(filter_condition(db, p));
        return crate::page::capped_count(db, base).await;
    };
    let mut stmt = scope::visible::<contact::Entity>(actor)
        .filter(filters(db, p, Search::Joined))
        .select_only()
        .expr(Expr::val(1))
        .into_query();
    stmt.join(
        sea_orm::JoinType::InnerJoin,
        Alias::new("contacts_fts"),
        Expr::cust("contacts_fts.rowid = contacts.rowid"),
    )
    .and_where(Expr::cust_with_values("contacts_fts MATCH ?", [phrase]));
    crate::page::capped_count_of(db, stmt, crate::page::COUNT_CAP).await
}

/// How the search enters a query.
#[derive(Clone, Copy, PartialEq)]
enum Search {
    /// Through the index (trigram full-text on SQLite, pg_trgm on PostgreSQL).
    Index,
    /// Tested per row, in the list's order.
    Scan,
    /// Left out (the caller joins the full-text index itself).
    Joined,
}

fn filters(db: &Db, p: &ListParams, search: Search) -> Condition {
    let mut c = Condition::all();
    if let Some(s) = &p.search {
        match search {
            Search::Index => c = c.add(search_condition(db, s)),
            Search::Scan => c = c.add(scan_condition(db, s)),
            Search::Joined => {}
        }
    }
    if let Some(s) = p.status {
        c = c.add(contact::Column::Status.eq(s));
    }
    if let Some(id) = p.company_id {
        c = c.add(contact::Column::CompanyId.eq(id));
    }
    if let Some(id) = p.owner_id {
        c = c.add(contact::Column::UserId.eq(id));
    }
    c
}

pub async fn list(db: &Db, actor: &Actor, p: &ListParams) -> CoreResult<Page<ContactView>> {
    // without a search or company filter the tallies hold the exact total (no count scan)
    let total = if p.search.is_none() && p.company_id.is_none() {
        (
            crate::tallies::count(db, actor, "contacts", p.status.map(Vocab::as_str), p.owner_id).await?,
            false,
        )
    } else if p.search.is_some() {
        search_total(db, actor, p).await?
    } else {
        let base = scope::visible::<contact::Entity>(actor).filter(filter_condition(db, p));
        crate::page::capped_count(db, base).await?
    };
    let how = if scan_in_order(p, total) {
        Search::Scan
    } else {
        Search::Index
    };
    let order = keyset(p);
    let mut q = order.order(scope::visible::<contact::Entity>(actor).filter(filters(db, p, how)));
    if let Some(c) = &p.cursor {
        q = q.filter(order.after(c)?);
    }
    // one row more than the page tells whether there is a next one; each row comes with its
    // company and owner (joined: one statement for the page)
    let with_names = |s: sea_orm::Select<contact::Entity>| {
        s.find_also_related(company::Entity)
            .find_also_related(user::Entity)
            .all(&db.conn)
    };
    let found = if p.cursor.is_some() {
        with_names(q.limit(p.page.limit + 1)).await?
    } else if p.page.offset() >= DEFERRED_FROM {
        // a deep page: find its ids in the order's index (skipped rows are never read),
        // then read those rows
        let ids = q
            .clone()
            .select_only()
            .column(contact::Column::Id)
            .offset(p.page.offset())
            .limit(p.page.limit + 1);
        with_names(q.filter(contact::Column::Id.in_subquery(sea_orm::QueryTrait::into_query(ids)))).await?
    } else {
        with_names(q.offset(p.page.offset()).limit(p.page.limit + 1)).await?
    };
    let (mut rows, names): (Vec<contact::Model>, Vec<_>) = found.into_iter().map(|(c, co, u)| (c, (co, u))).unzip();
    let mut pagination = Pagination::capped(p.page, total);
    pagination.next_cursor = crate::keyset::next_after(&mut rows, p.page.limit, &order);
    let items = rows
        .into_iter()
        .zip(names)
        .map(|(c, (co, u))| ContactView::new(c, u.as_ref().map(UserRef::from), co.as_ref().map(CompanyRef::from)))
        .collect();
    Ok(Page { items, pagination })
}

/// The list's order as keys: the sort's columns, then the id, in the asked direction
/// (status ties newest first). Nullable text sorts as empty text on both databases.
fn keyset(p: &ListParams) -> crate::keyset::Keyset<contact::Entity> {
    use crate::keyset::{Key, Keyset, Kind};
    use contact::Column as C;
    let desc = p.dir == SortDir::Desc;
    let keys = match p.sort.as_str() {
        "name" => vec![
            Key::new(C::FirstName, desc, Kind::Text),
            Key::new(C::LastName, desc, Kind::Text),
        ],
        "email" => vec![Key::new(C::Email, desc, Kind::Text)],
        "phoneNumber" => vec![Key::new(C::PhoneNumber, desc, Kind::OptText)],
        "status" => vec![
            Key::new(C::Status, desc, Kind::Text),
            Key::new(C::CreatedAt, true, Kind::Time),
        ],
        key => match super::fields::by_key(key) {
            Some(e) => vec![Key::new(e.column, desc, Kind::OptText)],
            None => vec![Key::new(C::CreatedAt, desc, Kind::Time)],
        },
    };
    Keyset::new(keys, C::Id, desc)
}

/// Attach owner and company references to a batch of contacts (two queries in all).
pub async fn with_refs(db: &impl crate::db::Conn, rows: Vec<contact::Model>) -> CoreResult<Vec<ContactView>> {
    let user_ids: Vec<Uuid> = rows.iter().filter_map(|c| c.user_id).collect();
    let company_ids: Vec<Uuid> = rows.iter().filter_map(|c| c.company_id).collect();
    let users: HashMap<Uuid, UserRef> = if user_ids.is_empty() {
        HashMap::new()
    } else {
        user::Entity::find()
            .filter(user::Column::Id.is_in(user_ids))
            .all(db.conn())
            .await?
            .iter()
            .map(|u| (u.id, UserRef::from(u)))
            .collect()
    };
    let companies = crate::companies::refs(db, company_ids).await?;
    Ok(rows
        .into_iter()
        .map(|c| {
            let u = c.user_id.and_then(|id| users.get(&id).cloned());
            let co = c.company_id.and_then(|id| companies.get(&id).cloned());
            ContactView::new(c, u, co)
        })
        .collect())
}

/// A contact with its full company, as `GET /api/contacts/{id}` shows it.
pub struct ContactDetail {
    pub contact: ContactView,
    pub company: Option<company::Model>,
}

pub async fn get(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<ContactDetail> {
    // the contact with its company and owner, in one statement
    let found = scope::visible::<contact::Entity>(actor)
        .filter(contact::Column::Id.eq(id))
        .find_also_related(company::Entity)
        .find_also_related(user::Entity)
        .one(&db.conn)
        .await?;
    let Some((c, company, owner)) = found else {
        // not found, or out of scope (audited as a refusal there)
        return Err(scope::get_visible::<contact::Entity>(db, actor, id, "Contact")
            .await
            .err()
            .unwrap_or_else(|| CoreError::not_found("Contact")));
    };
    let company_ref = company.as_ref().map(CompanyRef::from);
    let contact = ContactView::new(c, owner.as_ref().map(UserRef::from), company_ref);
    Ok(ContactDetail { contact, company })
}

/// How many activities, tasks and deals go with a contact when it is deleted.
#[derive(Debug, Clone, Copy, Default)]
pub struct Dependents {
    pub activities: u64,
    pub tasks: u64,
    pub deals: u64,
}

/// How many of the contacts' activities, tasks and deals the actor can see: the only
/// figures a confirmation page or a tab may show (others' records leave no trace).
pub async fn dependents(db: &Db, actor: &Actor, ids: &[Uuid]) -> CoreResult<Dependents> {
    Ok(Dependents {
        activities: scope::visible::<activity::Entity>(actor)
            .filter(activity::Column::ContactId.is_in(ids.to_vec()))
            .count(&db.conn)
            .await?,
        tasks: scope::visible::<task::Entity>(actor)
            .filter(task::Column::ContactId.is_in(ids.to_vec()))
            .count(&db.conn)
            .await?,
        deals: scope::visible::<deal::Entity>(actor)
            .filter(deal::Column::ContactId.is_in(ids.to_vec()))
            .count(&db.conn)
            .await?,
    })
}

/// A contact as the API returns it: the view with `company` as the full company (without
/// its counts).
pub fn detail_json(d: ContactDetail) -> CoreResult<serde_json::Value> {
    let mut v = serde_json::to_value(&d.contact).map_err(anyhow::Error::from)?;
    v["company"] = match d.company {
        Some(c) => serde_json::to_value(crate::companies::CompanyView::new(c, Default::default()))
            .map_err(anyhow::Error::from)?,
        None => serde_json::Value::Null,
    };
    if let Some(o) = v["company"].as_object_mut() {
        o.remove("_count");
    }
    Ok(v)
}

/// [`detail_json`] of a contact in memory (a webhook's payload).
pub async fn json_of(db: &impl crate::db::Conn, c: contact::Model) -> CoreResult<serde_json::Value> {
    let company = match c.company_id {
        Some(cid) => company::Entity::find_by_id(cid).one(db.conn()).await?,
        None => None,
    };
    let contact = with_refs(db, vec![c])
        .await?
        .pop()
        .ok_or_else(|| CoreError::not_found("Contact"))?;
    detail_json(ContactDetail { contact, company })
}
