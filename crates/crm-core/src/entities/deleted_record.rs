use sea_orm::entity::prelude::*;

/// A deleted deal, task or activity, kept for an hour for Undo (`scope::restore`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deleted_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `deal`, `task` or `activity`.
    pub kind: String,
    pub owner_id: Option<Uuid>,
    /// `{"row": <the row>, "with": <what went with it>}`.
    pub data: String,
    pub deleted_by: Option<Uuid>,
    pub deleted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
