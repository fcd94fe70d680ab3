//! All-time activity counts per contact (`kind = 'contact'`) and per company through its
//! contacts (`'company'`), kept by triggers (migration `m0019`): an upper bound of any date
//! range's count, read only to order the candidates of the reports' rankings. Not owned and
//! never shown: the figures shown are counted in the actor's scope.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activity_reach")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub n: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
