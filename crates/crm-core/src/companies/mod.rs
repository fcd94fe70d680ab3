//! Companies: organisations contacts and deals belong to. Shared by the whole team (not
//! owned); the counts and related lists they show are scoped to what the actor may see.

pub mod list;
pub mod write;

/// A company as stored.
pub type Company = crate::entities::company::Model;

use serde::Serialize;
use uuid::Uuid;

use crate::clock;
use crate::entities::company;

pub const INDUSTRIES: [&str; 7] = [
    "technology",
    "finance",
    "healthcare",
    "retail",
    "manufacturing",
    "consulting",
    "other",
];

#[derive(Debug, Clone, Copy, Default, Serialize, schemars::JsonSchema)]
#[schemars(rename = "CompanyCounts")]
pub struct Counts {
    pub contacts: u64,
    pub deals: u64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanyView {
    pub id: Uuid,
    pub name: String,
    pub industry: Option<String>,
    pub website: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub employee_count: Option<i64>,
    /// Annual revenue in dollars (stored exactly as cents).
    pub revenue: Option<f64>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "_count")]
    pub count: Counts,
}

impl CompanyView {
    pub fn new(c: company::Model, count: Counts) -> Self {
        CompanyView {
            id: c.id,
            name: c.name,
            industry: c.industry,
            website: c.website,
            phone: c.phone,
            address: c.address,
            employee_count: c.employee_count,
            revenue: c.revenue_cents.map(|v| v as f64 / 100.0),
            created_at: clock::fmt(&c.created_at),
            updated_at: clock::fmt(&c.updated_at),
            count,
        }
    }
}

/// The names of the companies `ids` (companies are shared: no scope), by id.
pub async fn refs(
    db: &impl crate::db::Conn,
    ids: impl IntoIterator<Item = Uuid>,
) -> crate::CoreResult<std::collections::HashMap<Uuid, crate::contacts::CompanyRef>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let ids: Vec<Uuid> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(company::Entity::find()
        .filter(company::Column::Id.is_in(ids))
        .all(db.conn())
        .await?
        .into_iter()
        .map(|c| (c.id, crate::contacts::CompanyRef::from(&c)))
        .collect())
}
