//! Pagination shared by every list: `page` from 1, `limit` 1..=200; totals counted
//! exactly up to [`COUNT_CAP`].

use serde::Serialize;

pub const MAX_LIMIT: u64 = 200;

#[derive(Debug, Clone, Copy)]
pub struct PageReq {
    pub page: u64,
    pub limit: u64,
}

impl PageReq {
    pub fn offset(&self) -> u64 {
        (self.page - 1) * self.limit
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub page: u64,
    pub limit: u64,
    pub total: u64,
    pub total_pages: u64,
    /// True when `total` is a floor: there are more than [`COUNT_CAP`] rows and they were
    /// not counted (pages say "2,000+").
    pub total_is_estimate: bool,
    /// Where the next page starts (`cursor=` it), on lists that page by cursor; absent on
    /// the last page. Deep pages by cursor cost what the first one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl Pagination {
    pub fn new(req: PageReq, total: u64) -> Self {
        Pagination {
            page: req.page,
            limit: req.limit,
            total,
            total_pages: total.div_ceil(req.limit),
            total_is_estimate: false,
            next_cursor: None,
        }
    }
    /// A total counted by [`capped_count`]; past the cap there is always a next page.
    pub fn capped(req: PageReq, (total, capped): (u64, bool)) -> Self {
        let mut p = Pagination::new(req, total);
        if capped {
            p.total_is_estimate = true;
            p.total_pages = p.total_pages.max(req.page + 1);
        }
        p
    }
    /// First and last row number shown (1-based), for "1–50 of 12,345".
    pub fn range(&self) -> (u64, u64) {
        if self.total == 0 {
            return (0, 0);
        }
        let first = (self.page - 1) * self.limit + 1;
        (first.min(self.total), (self.page * self.limit).min(self.total))
    }
}

pub struct Page<T> {
    pub items: Vec<T>,
    pub pagination: Pagination,
}

/// Beyond this many rows a list's total is not counted: the pagination says "2,000+"
/// (`totalIsEstimate`), so drawing page 1 never counts a hundred thousand matches.
pub const COUNT_CAP: u64 = 2_000;

/// The number of rows `select` yields, counted up to [`COUNT_CAP`] + 1: `(n, capped)`.
pub async fn capped_count<E: sea_orm::EntityTrait>(
    db: &crate::Db,
    select: sea_orm::Select<E>,
) -> crate::CoreResult<(u64, bool)> {
    capped_count_to(db, select, COUNT_CAP).await
}

/// [`capped_count`] with another cap.
pub async fn capped_count_to<E: sea_orm::EntityTrait>(
    db: &crate::Db,
    select: sea_orm::Select<E>,
    cap: u64,
) -> crate::CoreResult<(u64, bool)> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{QuerySelect, QueryTrait};
    capped_count_of(db, select.select_only().expr(Expr::val(1)).into_query(), cap).await
}

/// The rows a statement yields, counted up to `cap` + 1: `(n, capped)`.
pub async fn capped_count_of(
    db: &crate::Db,
    mut inner: sea_orm::sea_query::SelectStatement,
    cap: u64,
) -> crate::CoreResult<(u64, bool)> {
    use sea_orm::ConnectionTrait;
    use sea_orm::sea_query::{Alias, Expr, Query};
    inner.limit(cap + 1);
    let outer = Query::select()
        .expr_as(Expr::cust("count(*)"), Alias::new("n"))
        .from_subquery(inner, Alias::new("capped"))
        .to_owned();
    let n = db
        .conn
        .query_one(&outer)
        .await?
        .and_then(|r| r.try_get::<i64>("", "n").ok())
        .unwrap_or(0)
        .max(0) as u64;
    Ok(if n > cap { (cap, true) } else { (n, false) })
}
