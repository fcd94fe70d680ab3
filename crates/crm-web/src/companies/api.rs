//! `/api/companies`: list (search, industry, sort, pagination), create, get (with the
//! actor's visible contacts and deals), partial update, delete (unlinks, never cascades).

use crm_core::companies::{CompanyView, list, write};
use crm_core::input::Input;
use crm_core::page::Page;
use crm_core::query::QueryParams;
use crm_core::{Actor, CoreResult, Db};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::http::api::{BodyField, ORDER, Param, SEARCH, Shaped, field, one_of, param, required};
use crate::http::resource::Resource;

pub struct Companies;

/// A saved company as the list shows it (with the actor's counts).
async fn view(db: &Db, actor: &Actor, m: crm_core::companies::Company) -> CoreResult<CompanyView> {
    let counts = list::counts(db, actor, &[m.id]).await?;
    let n = counts.get(&m.id).copied().unwrap_or_default();
    Ok(CompanyView::new(m, n))
}

impl Resource for Companies {
    const NAME: &'static str = "company";
    const PATH: &'static str = "/companies";
    const TAG: &'static str = "Companies";
    const TITLE: &'static str = "Company";
    const NAV: &'static str = "companies";
    const RECORD_PAGE: bool = true;
    async fn confirm_delete(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<String> {
        let d = list::get(db, actor, id).await?;
        Ok(format!(
            "Delete {}? Its {} contacts and {} deals are kept but no longer linked to a company. This cannot be undone.",
            d.company.name, d.company.count.contacts, d.company.count.deals
        ))
    }
    fn list_params() -> Vec<Param> {
        vec![
            SEARCH,
            param("industry", "string", "Companies of this industry."),
            param(
                "mine",
                "boolean",
                "Only companies with a contact or deal of the caller.",
            ),
            one_of("sort", &list::SORTS, "Sort column (default createdAt)."),
            ORDER,
        ]
    }
    fn body() -> Vec<BodyField> {
        vec![
            required(
                "name",
                "string",
                "Unique (case and spaces aside), at most 255 characters.",
            ),
            field("industry", "string", "At most 100 characters."),
            field("website", "string", "An http(s) address."),
            field("phone", "string", "A phone number."),
            field("address", "string", "At most 500 characters."),
            field("employeeCount", "integer", "0 or more."),
            field("revenue", "number", "Dollars, 0 or more."),
        ]
    }
    type Item = CompanyView;
    type View = Shaped<CompanyView>;

    async fn list(db: &Db, actor: &Actor, q: &QueryParams) -> CoreResult<Page<CompanyView>> {
        list::list(db, actor, &list::ListParams::parse(q, 10)?).await
    }
    async fn get(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<Shaped<CompanyView>> {
        to_value(list::get(db, actor, id).await?)
    }
    async fn create(db: &Db, actor: &Actor, input: Input) -> CoreResult<Shaped<CompanyView>> {
        to_value(view(db, actor, write::create(db, actor, input).await?).await?)
    }
    async fn update(db: &Db, actor: &Actor, id: Uuid, input: Input) -> CoreResult<Shaped<CompanyView>> {
        to_value(view(db, actor, write::update(db, actor, id, input).await?).await?)
    }
    async fn delete(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<Value> {
        write::delete(db, actor, id).await?;
        Ok(json!({ "message": "Company deleted successfully" }))
    }
}

fn to_value(v: impl serde::Serialize) -> CoreResult<Shaped<CompanyView>> {
    Ok(Shaped::new(serde_json::to_value(v).map_err(anyhow::Error::from)?))
}
