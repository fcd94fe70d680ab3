//! Pagination shared by every list: `page` from 1, `limit` 1..=200.

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

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub page: u64,
    pub limit: u64,
    pub total: u64,
    pub total_pages: u64,
}

impl Pagination {
    pub fn new(req: PageReq, total: u64) -> Self {
        Pagination {
            page: req.page,
            limit: req.limit,
            total,
            total_pages: total.div_ceil(req.limit),
        }
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
