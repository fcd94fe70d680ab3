use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub due_date: DateTimeUtc,
    pub priority: crate::vocab::TaskPriority,
    pub completed: bool,
    pub completed_at: Option<DateTimeUtc>,
    pub contact_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
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
