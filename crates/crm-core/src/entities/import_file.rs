use sea_orm::entity::prelude::*;

/// The file of a queued or running import and how it is read (deleted when the job ends),
/// so whichever instance takes the job over can read it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "import_files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub import_id: Uuid,
    pub content: Vec<u8>,
    /// `{"encoding": "utf-8", "mapping": ["firstName", null, …]}`.
    pub plan: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
