use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub name: String,
    pub role: crate::vocab::Role,
    pub avatar: Option<String>,
    pub bio: Option<String>,
    pub is_active: bool,
    pub email_verified_at: Option<DateTimeUtc>,
    pub two_factor_enabled: bool,
    pub two_factor_secret: Option<String>,
    pub two_factor_last_step: Option<i64>,
    pub last_sign_in_ip: Option<String>,
    pub last_sign_in_at: Option<DateTimeUtc>,
    /// `password`, `oidc` or `github` (m0016).
    pub last_sign_in_method: Option<String>,
    pub failed_sign_ins: i32,
    pub locked_until: Option<DateTimeUtc>,
    pub is_demo: bool,
    /// Set while the user is an invitation not yet accepted.
    pub invited_at: Option<DateTimeUtc>,
    pub invited_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
