//! Contacts: the people the team sells to. Listing with server-side search, filters,
//! sort and pagination lives in [`list`]; writes in [`write`].

mod cascade;
pub mod fields;
pub mod list;
pub mod timeline;
pub mod write;

use serde::Serialize;
use uuid::Uuid;

use crate::accounts::users::UserRef;
use crate::clock;
use crate::entities::contact;

/// A contact as the API shows it (`user` and `company` are small references).
/// A stored contact (the row; the API shows its view).
pub type Contact = crate::entities::contact::Model;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactView {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone_number: Option<String>,
    pub status: crate::vocab::ContactStatus,
    pub company_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub created_at: String,
    pub updated_at: String,
    pub user: Option<UserRef>,
    pub company: Option<CompanyRef>,
    /// The optional text fields (`fields::EXTRAS`), e.g. `jobTitle`.
    #[serde(flatten)]
    pub extra: fields::Extras,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanyRef {
    pub id: Uuid,
    pub name: String,
}

impl From<&crate::entities::company::Model> for CompanyRef {
    fn from(c: &crate::entities::company::Model) -> Self {
        CompanyRef {
            id: c.id,
            name: c.name.clone(),
        }
    }
}

impl ContactView {
    pub fn new(c: contact::Model, user: Option<UserRef>, company: Option<CompanyRef>) -> Self {
        ContactView {
            extra: fields::Extras::of(&c),
            id: c.id,
            first_name: c.first_name,
            last_name: c.last_name,
            email: c.email,
            phone_number: c.phone_number,
            status: c.status,
            company_id: c.company_id,
            user_id: c.user_id,
            created_at: clock::fmt(&c.created_at),
            updated_at: clock::fmt(&c.updated_at),
            user,
            company,
        }
    }
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// The text the search index holds for a contact.
pub fn search_text(first: &str, last: &str, email: &str, phone: Option<&str>) -> String {
    format!("{first} {last} {email} {}", phone.unwrap_or(""))
        .trim()
        .to_lowercase()
}

/// `column IN (SELECT id FROM contacts WHERE company_id = …)`: records on a company's contacts.
pub fn of_company<C: sea_orm::ColumnTrait>(column: C, company_id: Uuid) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::Query;
    column.in_subquery(
        Query::select()
            .column(contact::Column::Id)
            .from(contact::Entity)
            .and_where(sea_orm::ColumnTrait::eq(&contact::Column::CompanyId, company_id))
            .to_owned(),
    )
}
