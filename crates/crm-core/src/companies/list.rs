//! Reading companies: list with search, industry filter, sort and pagination; detail.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};
use serde::Serialize;
use uuid::Uuid;

use super::{CompanyView, Counts, INDUSTRIES};
use crate::actor::Actor;
use crate::clock;
use crate::contacts::ContactView;
use crate::db::Db;
use crate::entities::{company, contact, deal};
use crate::error::{CoreError, CoreResult};
use crate::page::{Page, PageReq};
use crate::query::{QueryParams, SortDir};
use crate::scope;
use crate::text::like_escape;

pub const SORTS: [&str; 3] = ["name", "industry", "createdAt"];

#[derive(Debug, Clone)]
pub struct ListParams {
    pub search: Option<String>,
    pub industry: Option<String>,
    pub sort: String,
    pub dir: SortDir,
    pub page: PageReq,
    pub cursor: Option<crate::keyset::Cursor>,
    /// `mine=true`: only companies with a contact or deal the actor may see ("My companies").
    pub mine: bool,
}

impl ListParams {
    pub fn parse(q: &QueryParams, default_limit: u64) -> CoreResult<Self> {
        let mut errs = q.errors();
        let industry = q.get("industry").filter(|v| *v != "all").map(|v| v.to_lowercase());
        let sort = q
            .opt_one_of("sort", "Sort", &SORTS, &mut errs)
            .unwrap_or_else(|| "createdAt".into());
        let dir = q.dir(
            if sort == "createdAt" {
                SortDir::Desc
            } else {
                SortDir::Asc
            },
            &mut errs,
        );
        let page = q.page(default_limit, &mut errs);
        let cursor = q.cursor(&mut errs);
        let mine = match q.get("mine") {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") | Some("on") => true,
            Some(_) => {
                errs.add("mine", "Mine must be true or false");
                false
            }
        };
        errs.finish()?;
        Ok(ListParams {
            search: q.search(),
            industry,
            sort,
            dir,
            page,
            cursor,
            mine,
        })
    }
}

pub fn condition(p: &ListParams, actor: &Actor) -> Condition {
    let mut cond = Condition::all();
    if p.mine {
        let contacts = scope::visible::<contact::Entity>(actor)
            .select_only()
            .column(contact::Column::CompanyId)
            .filter(contact::Column::CompanyId.is_not_null())
            .into_query();
        let deals = scope::visible::<deal::Entity>(actor)
            .select_only()
            .column(deal::Column::CompanyId)
            .filter(deal::Column::CompanyId.is_not_null())
            .into_query();
        cond = cond.add(
            Condition::any()
                .add(company::Column::Id.in_subquery(contacts))
                .add(company::Column::Id.in_subquery(deals)),
        );
    }
    if let Some(s) = &p.search {
        let pattern = format!("%{}%", like_escape(&s.to_lowercase()));
        cond = cond.add(
            Condition::any()
                .add(Expr::col(company::Column::NameKey).like(LikeExpr::new(pattern.clone()).escape('\\')))
                .add(
                    Expr::expr(Func::lower(Expr::col(company::Column::Industry)))
                        .like(LikeExpr::new(pattern).escape('\\')),
                ),
        );
    }
    if let Some(i) = &p.industry {
        cond = cond.add(company::Column::Industry.eq(i.as_str()));
    }
    cond
}

pub async fn list(db: &Db, actor: &Actor, p: &ListParams) -> CoreResult<Page<CompanyView>> {
    let cond = condition(p, actor);
    let base = company::Entity::find().filter(cond);
    use crate::keyset::{Key, Keyset, Kind};
    use company::Column as C;
    let desc = p.dir == SortDir::Desc;
    let key = match p.sort.as_str() {
        "name" => Key::new(C::NameKey, desc, Kind::Text),
        "industry" => Key::new(C::Industry, desc, Kind::OptText),
        _ => Key::new(C::CreatedAt, desc, Kind::Time),
    };
    let order = Keyset::new(vec![key], C::Id, desc);
    let (rows, pagination) = crate::keyset::page(db, base, &order, p.page, p.cursor.as_ref()).await?;
    let ids: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
    let counts = counts(db, actor, &ids).await?;
    let items = rows
        .into_iter()
        .map(|c| {
            let n = counts.get(&c.id).copied().unwrap_or_default();
            CompanyView::new(c, n)
        })
        .collect();
    Ok(Page { items, pagination })
}

/// Contacts and deals per company, counting only records the actor may see.
pub async fn counts(db: &impl crate::db::Conn, actor: &Actor, ids: &[Uuid]) -> CoreResult<HashMap<Uuid, Counts>> {
    let mut out: HashMap<Uuid, Counts> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let contacts: Vec<(Option<Uuid>, i64)> = scope::visible::<contact::Entity>(actor)
        .select_only()
        .column(contact::Column::CompanyId)
        .column_as(Expr::col(contact::Column::Id).count(), "n")
        .filter(contact::Column::CompanyId.is_in(ids.to_vec()))
        .group_by(contact::Column::CompanyId)
        .into_tuple()
        .all(db.conn())
        .await?;
    for (id, n) in contacts.into_iter().filter_map(|(id, n)| id.map(|i| (i, n))) {
        out.entry(id).or_default().contacts = n as u64;
    }
    let deals: Vec<(Option<Uuid>, i64)> = scope::visible::<deal::Entity>(actor)
        .select_only()
        .column(deal::Column::CompanyId)
        .column_as(Expr::col(deal::Column::Id).count(), "n")
        .filter(deal::Column::CompanyId.is_in(ids.to_vec()))
        .group_by(deal::Column::CompanyId)
        .into_tuple()
        .all(db.conn())
        .await?;
    for (id, n) in deals.into_iter().filter_map(|(id, n)| id.map(|i| (i, n))) {
        out.entry(id).or_default().deals = n as u64;
    }
    Ok(out)
}

/// A deal as listed on a company or contact profile.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DealRef {
    pub id: Uuid,
    pub name: String,
    pub value: f64,
    pub stage: crate::vocab::DealStage,
    pub status: crate::vocab::DealStatus,
    pub expected_close_date: String,
    pub contact_id: Uuid,
    pub user_id: Option<Uuid>,
    pub created_at: String,
}

/// How many related rows a company profile embeds; the lists endpoints page the rest.
pub const RELATED_LIMIT: u64 = 50;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanyDetail {
    #[serde(flatten)]
    pub company: CompanyView,
    pub contacts: Vec<ContactView>,
    pub deals: Vec<DealRef>,
}

pub async fn get(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<CompanyDetail> {
    let c = company::Entity::find_by_id(id)
        .one(&db.conn)
        .await?
        .ok_or_else(|| CoreError::not_found("Company"))?;
    let count = counts(db, actor, &[id]).await?.get(&id).copied().unwrap_or_default();
    let contact_rows = scope::visible::<contact::Entity>(actor)
        .filter(contact::Column::CompanyId.eq(id))
        .order_by_desc(contact::Column::CreatedAt)
        .limit(RELATED_LIMIT)
        .all(&db.conn)
        .await?;
    let contacts = crate::contacts::list::with_refs(db, contact_rows).await?;
    let deals = scope::visible::<deal::Entity>(actor)
        .filter(deal::Column::CompanyId.eq(id))
        .order_by_desc(deal::Column::CreatedAt)
        .limit(RELATED_LIMIT)
        .all(&db.conn)
        .await?
        .into_iter()
        .map(|d| DealRef {
            id: d.id,
            name: d.name,
            value: d.value_cents as f64 / 100.0,
            stage: d.stage,
            status: d.status,
            expected_close_date: clock::fmt(&d.expected_close_date),
            contact_id: d.contact_id,
            user_id: d.user_id,
            created_at: clock::fmt(&d.created_at),
        })
        .collect();
    Ok(CompanyDetail {
        company: CompanyView::new(c, count),
        contacts,
        deals,
    })
}

/// Every company as (id, name), for pickers; at most `limit`, by name.
pub async fn options(db: &Db, limit: u64) -> CoreResult<Vec<(Uuid, String)>> {
    Ok(company::Entity::find()
        .select_only()
        .column(company::Column::Id)
        .column(company::Column::Name)
        .order_by_asc(company::Column::NameKey)
        .limit(limit)
        .into_tuple()
        .all(&db.conn)
        .await?)
}

pub fn industry_label(v: &str) -> String {
    if INDUSTRIES.contains(&v) {
        let mut c = v.chars();
        c.next()
            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
            .unwrap_or_default()
    } else {
        v.to_string()
    }
}
