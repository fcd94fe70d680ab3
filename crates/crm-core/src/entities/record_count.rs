//! Tallies of the owned tables per owner, UTC day (`YYYY-MM-DD`) and key, maintained by
//! database triggers (migration `m0006`); read only, through the scope layer.
//! `owner` is the nil UUID for records without an owner.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "record_counts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub owner: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub k: String,
    pub n: i64,
    pub cents: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::scope::Owned for Entity {
    fn owner_column() -> Column {
        Column::Owner
    }
}
