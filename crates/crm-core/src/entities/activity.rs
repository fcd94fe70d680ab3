use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "activities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(column_name = "type")]
    pub kind: crate::vocab::ActivityType,
    pub subject: String,
    pub description: Option<String>,
    pub contact_id: Uuid,
    pub user_id: Option<Uuid>,
    /// The contact's deal this activity is about, if any.
    pub deal_id: Option<Uuid>,
    pub is_demo: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::scope::Owned for Entity {
    fn owner_column() -> Column {
        Column::UserId
    }
}
