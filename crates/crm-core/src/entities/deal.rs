use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "deals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub value_cents: i64,
    pub stage: crate::vocab::DealStage,
    pub status: crate::vocab::DealStatus,
    pub expected_close_date: DateTimeUtc,
    pub actual_close_date: Option<DateTimeUtc>,
    pub probability: i32,
    pub description: Option<String>,
    pub contact_id: Uuid,
    pub company_id: Option<Uuid>,
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
