//! A webhook endpoint: where events are POSTed; see `crate::webhooks`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    /// JSON array of event types (`"*"` = all).
    pub events: String,
    /// The signing secret, sealed with the server key (`crypto::SecretBox`).
    pub secret: String,
    pub enabled: bool,
    /// Since when every delivery has failed (cleared by a success).
    pub failing_since: Option<DateTimeUtc>,
    pub disabled_reason: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
