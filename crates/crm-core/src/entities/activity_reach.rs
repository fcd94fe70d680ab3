//! Activity counts per contact (`kind = 'contact'`) and per company through its contacts
//! (`'company'`), of all time (`period = ''`) and per month of the organisation's zone
//! (`'YYYY-MM'`), kept by triggers (migrations `m0019`, `m0020`): an upper bound of the count
//! of any date range inside the period, read only to order the candidates of the reports'
//! rankings. Not owned and never shown: the figures shown are counted in the actor's scope.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activity_reach")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub period: String,
    pub n: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
