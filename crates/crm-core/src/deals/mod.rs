//! Deals: the pipeline. Status always follows stage (closed_won → won, closed_lost → lost,
//! others open); `actualCloseDate` is set when a deal enters a closed stage and cleared
//! when it leaves one; every stage change writes a stage-history row. Values are cents.

pub mod write;

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use uuid::Uuid;

use crate::activities::{ContactName, contact_names};
use crate::actor::Actor;
use crate::db::Db;
use crate::entities::{deal, deal_stage_history};
use crate::error::CoreResult;
use crate::page::{Page, PageReq};
use crate::query::{QueryParams, SortDir};
use crate::text::like_escape;
use crate::vocab::{DealStage, DealStatus};
use crate::{clock, scope};

/// A stored deal (the row; the API shows its view).
pub type Deal = crate::entities::deal::Model;

pub const SORTS: [&str; 5] = ["name", "value", "stage", "expectedCloseDate", "createdAt"];

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DealView {
    pub id: Uuid,
    pub name: String,
    /// Dollars (stored exactly as cents).
    pub value: f64,
    pub stage: DealStage,
    pub status: DealStatus,
    pub expected_close_date: String,
    pub actual_close_date: Option<String>,
    pub probability: i32,
    pub description: Option<String>,
    pub contact_id: Uuid,
    pub company_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub created_at: String,
    pub updated_at: String,
    pub contact: Option<ContactName>,
    pub company: Option<crate::contacts::CompanyRef>,
}

pub async fn views(db: &impl crate::db::Conn, actor: &Actor, rows: Vec<deal::Model>) -> CoreResult<Vec<DealView>> {
    let names = contact_names(db, actor, rows.iter().map(|d| d.contact_id).collect()).await?;
    let companies = crate::companies::refs(db, rows.iter().filter_map(|d| d.company_id)).await?;
    Ok(rows
        .into_iter()
        .map(|d| DealView {
            contact: names.get(&d.contact_id).cloned(),
            company: d.company_id.and_then(|id| companies.get(&id).cloned()),
            id: d.id,
            name: d.name,
            value: d.value_cents as f64 / 100.0,
            stage: d.stage,
            status: d.status,
            expected_close_date: clock::fmt(&d.expected_close_date),
            actual_close_date: clock::fmt_opt(&d.actual_close_date),
            probability: d.probability,
            description: d.description,
            contact_id: d.contact_id,
            company_id: d.company_id,
            user_id: d.user_id,
            created_at: clock::fmt(&d.created_at),
            updated_at: clock::fmt(&d.updated_at),
        })
        .collect())
}

pub struct ListParams {
    pub stage: Option<DealStage>,
    pub status: Option<DealStatus>,
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    pub min_cents: Option<i64>,
    pub max_cents: Option<i64>,
    pub search: Option<String>,
    pub contact_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub sort: String,
    pub dir: SortDir,
    pub page: PageReq,
    pub cursor: Option<crate::keyset::Cursor>,
}

impl ListParams {
    pub fn parse(q: &QueryParams) -> CoreResult<Self> {
        let mut errs = q.errors();
        let stage = q.opt_enum("stage", "Stage", &mut errs);
        let status = q.opt_enum("status", "Status", &mut errs);
        let (from, to) = q.date_range("startDate", "endDate", &mut errs);
        let mut money = |key: &str| {
            let v = q.get(key)?;
            match crate::input::parse_cents(v) {
                Some(c) if c >= 0 => Some(c),
                _ => {
                    errs.add(key, "Value must be a positive amount");
                    None
                }
            }
        };
        let min_cents = money("minValue");
        let max_cents = money("maxValue");
        let contact_id = q.opt_uuid("contactId", "Invalid contact ID", &mut errs);
        let company_id = q.opt_uuid("companyId", "Invalid company ID", &mut errs);
        let sort = q
            .opt_one_of("sort", "Sort", &SORTS, &mut errs)
            .unwrap_or_else(|| "createdAt".into());
        let dir = q.dir(if sort == "name" { SortDir::Asc } else { SortDir::Desc }, &mut errs);
        let page = q.page(50, &mut errs);
        let cursor = q.cursor(&mut errs);
        errs.finish()?;
        Ok(ListParams {
            stage,
            status,
            from,
            to,
            min_cents,
            max_cents,
            search: q.search(),
            contact_id,
            company_id,
            sort,
            dir,
            page,
            cursor,
        })
    }
}

pub fn condition(p: &ListParams) -> Condition {
    let mut c = Condition::all();
    if let Some(s) = p.stage {
        c = c.add(deal::Column::Stage.eq(s));
    }
    if let Some(s) = p.status {
        c = c.add(deal::Column::Status.eq(s));
    }
    if let Some(f) = p.from {
        c = c.add(deal::Column::ExpectedCloseDate.gte(f));
    }
    if let Some(t) = p.to {
        c = c.add(deal::Column::ExpectedCloseDate.lt(t));
    }
    if let Some(m) = p.min_cents {
        c = c.add(deal::Column::ValueCents.gte(m));
    }
    if let Some(m) = p.max_cents {
        c = c.add(deal::Column::ValueCents.lte(m));
    }
    if let Some(id) = p.contact_id {
        c = c.add(deal::Column::ContactId.eq(id));
    }
    if let Some(id) = p.company_id {
        c = c.add(deal::Column::CompanyId.eq(id));
    }
    if let Some(s) = &p.search {
        let pat = format!("%{}%", like_escape(&s.to_lowercase()));
        c = c.add(Expr::expr(Func::lower(Expr::col(deal::Column::Name))).like(LikeExpr::new(pat).escape('\\')));
    }
    c
}

pub async fn list(db: &Db, actor: &Actor, p: &ListParams) -> CoreResult<Page<DealView>> {
    let base = scope::visible::<deal::Entity>(actor).filter(condition(p));
    use crate::keyset::{Key, Keyset, Kind};
    use deal::Column as C;
    let desc = p.dir == SortDir::Desc;
    let key = match p.sort.as_str() {
        "name" => Key::new(C::Name, desc, Kind::Text),
        "value" => Key::new(C::ValueCents, desc, Kind::Int),
        "stage" => Key::new(C::Stage, desc, Kind::Text),
        "expectedCloseDate" => Key::new(C::ExpectedCloseDate, desc, Kind::Time),
        _ => Key::new(C::CreatedAt, desc, Kind::Time),
    };
    let order = Keyset::new(vec![key], C::Id, desc);
    let (rows, pagination) = crate::keyset::page(db, base, &order, p.page, p.cursor.as_ref()).await?;
    Ok(Page {
        items: views(db, actor, rows).await?,
        pagination,
    })
}

/// One kanban column: totals over every visible deal in the stage, and the first cards.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "BoardColumn")]
pub struct Column {
    pub stage: DealStage,
    pub label: &'static str,
    pub count: u64,
    pub value: f64,
    pub deals: Vec<DealView>,
}

/// Cards shown per column; the totals always cover the whole stage.
pub const CARDS_PER_COLUMN: u64 = 50;

/// The summed value of the deals a query selects, in cents (`NULL` for none), as BIGINT on
/// both databases.
pub(crate) fn value_sum() -> Expr {
    Expr::col(deal::Column::ValueCents).sum().cast_as("BIGINT")
}

pub async fn board(db: &Db, actor: &Actor, p: &ListParams) -> CoreResult<Vec<Column>> {
    let mut out = Vec::new();
    for stage in DealStage::ALL {
        let base = scope::visible::<deal::Entity>(actor)
            .filter(condition(p))
            .filter(deal::Column::Stage.eq(stage));
        let count = base.clone().count(&db.conn).await?;
        let sum: Option<i64> = base
            .clone()
            .select_only()
            .column_as(value_sum(), "s")
            .into_tuple()
            .one(&db.conn)
            .await?
            .flatten();
        let rows = base
            .order_by_desc(deal::Column::ValueCents)
            .order_by_asc(deal::Column::Id)
            .limit(CARDS_PER_COLUMN)
            .all(&db.conn)
            .await?;
        out.push(Column {
            stage,
            label: stage.label(),
            count,
            value: sum.unwrap_or(0) as f64 / 100.0,
            deals: views(db, actor, rows).await?,
        });
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StageChange {
    pub from_stage: Option<DealStage>,
    pub to_stage: DealStage,
    pub changed_by: Option<Uuid>,
    pub changed_at: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DealDetail {
    #[serde(flatten)]
    pub deal: DealView,
    pub stage_history: Vec<StageChange>,
}

pub async fn get(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<DealDetail> {
    let d = scope::get_visible::<deal::Entity>(db, actor, id, "Deal").await?;
    let history = deal_stage_history::Entity::find()
        .filter(deal_stage_history::Column::DealId.eq(id))
        .order_by_asc(deal_stage_history::Column::ChangedAt)
        .order_by_asc(deal_stage_history::Column::Id)
        .all(&db.conn)
        .await?
        .into_iter()
        .map(|h| StageChange {
            from_stage: h.from_stage,
            to_stage: h.to_stage,
            changed_by: h.changed_by,
            changed_at: clock::fmt(&h.changed_at),
        })
        .collect();
    Ok(DealDetail {
        deal: views(db, actor, vec![d]).await?.remove(0),
        stage_history: history,
    })
}
