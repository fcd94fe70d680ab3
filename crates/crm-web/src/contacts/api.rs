//! `/api/contacts`: list (server-side search, filters, sort, pagination), create, get,
//! partial update, delete and bulk delete, a vCard download. Every call acts as the signed-in actor.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use crm_core::contacts::{ContactView, list, write};
use crm_core::input::Input;
use crm_core::page::Page;
use crm_core::query::QueryParams;
use crm_core::{Actor, ContactStatus, CoreResult, Db};
use serde_json::Value;
use uuid::Uuid;

use crate::AppState;
use crate::http::api::{BodyField, ORDER, Param, SEARCH, Shaped, field, one_of, param, required};
use crate::http::body::JsonObject;
use crate::http::error::{ApiResult, envelope};
use crate::http::resource::{Resource, parse_id};
use crate::http::session::ApiActor;

pub struct Contacts;

impl Resource for Contacts {
    const NAME: &'static str = "contact";
    const PATH: &'static str = "/contacts";
    const TAG: &'static str = "Contacts";
    const TITLE: &'static str = "Contact";
    const NAV: &'static str = "contacts";
    const RECORD_PAGE: bool = true;
    const CACHED: bool = true;
    async fn confirm_delete(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<String> {
        let c = list::get(db, actor, id).await?.contact;
        let d = list::dependents(db, actor, &[id]).await?;
        let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        Ok(format!(
            "Delete {}? Their {}, {} and {} are deleted with them. This cannot be undone.",
            c.full_name(),
            plural(d.activities, "activity", "activities"),
            plural(d.tasks, "task", "tasks"),
            plural(d.deals, "deal", "deals")
        ))
    }
    fn list_params() -> Vec<Param> {
        vec![
            SEARCH,
            one_of("status", &ContactStatus::NAMES, "Lead or customer."),
            param("companyId", "uuid", "Contacts of this company."),
            param("userId", "uuid", "Contacts of this owner."),
            param(
                "sort",
                "string",
                "name, email, phoneNumber, status, createdAt (the default), or an optional field's key such as jobTitle.",
            ),
            ORDER,
        ]
    }
    fn body() -> Vec<BodyField> {
        let mut fields = vec![
            required("firstName", "string", "At most 50 characters."),
            required("lastName", "string", "At most 50 characters."),
            required("email", "string", "Unique among all contacts."),
            field(
                "phoneNumber",
                "string",
                "Unique among all contacts (compared by its digits).",
            ),
            BodyField {
                values: &ContactStatus::NAMES,
                ..field("status", "string", "Default lead.")
            },
            field("companyId", "uuid", "The company."),
            field(
                "companyName",
                "string",
                "A company by name, created when none has it (not with companyId).",
            ),
            field("userId", "uuid", "The owner (admins and managers may assign)."),
        ];
        fields.extend(
            crm_core::contacts::fields::EXTRAS
                .iter()
                .map(|e| field(e.key, "string", e.label)),
        );
        fields
    }
    type Item = ContactView;
    type View = Shaped<ContactView>;

    async fn list(db: &Db, actor: &Actor, q: &QueryParams) -> CoreResult<Page<ContactView>> {
        list::list(db, actor, &list::ListParams::parse(q)?).await
    }
    async fn get(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<Shaped<ContactView>> {
        Ok(Shaped::new(list::detail_json(list::get(db, actor, id).await?)?))
    }
    async fn create(db: &Db, actor: &Actor, input: Input) -> CoreResult<Shaped<ContactView>> {
        let saved = write::create(db, actor, input).await?;
        Self::get(db, actor, saved.id).await
    }
    async fn update(db: &Db, actor: &Actor, id: Uuid, input: Input) -> CoreResult<Shaped<ContactView>> {
        write::update(db, actor, id, input).await?;
        Self::get(db, actor, id).await
    }
    async fn delete(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<Value> {
        write::delete(db, actor, id).await.map(|_| Value::Null)
    }
}

/// `GET /api/contacts/{id}/vcard`: the contact as a vCard 4.0 file.
pub async fn vcard(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id, Contacts::NAME)?;
    let (file, body) = crm_core::vcard::of_contact(&state.db, &actor, id).await?;
    Ok(crate::calendar::download("text/vcard; charset=utf-8", &file, body))
}

fn ids_of(body: &JsonObject) -> Result<Vec<Uuid>, crm_core::CoreError> {
    let bad = || crm_core::CoreError::field("ids", "ids must be a list of contact IDs");
    match body.0.get("ids") {
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok()))
            .collect::<Option<Vec<Uuid>>>()
            .ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// How many contacts a bulk delete removed.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct Deleted {
    pub deleted: u64,
}

/// How many contacts a bulk assign gave to the new owner.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct Assigned {
    pub assigned: u64,
}

/// `POST /api/contacts/bulk-delete {"ids": [...]}` → `{"data": {"deleted": n}}`.
pub async fn bulk_delete(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: JsonObject,
) -> ApiResult<Response> {
    let n = write::bulk_delete(&state.db, &actor, &ids_of(&body)?).await?;
    Ok(envelope(StatusCode::OK, Deleted { deleted: n }))
}

/// `POST /api/contacts/bulk-assign {"ids": [...], "userId"}` → `{"data": {"assigned": n}}`.
pub async fn bulk_assign(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: JsonObject,
) -> ApiResult<Response> {
    let ids = ids_of(&body)?;
    let owner = body
        .0
        .get("userId")
        .and_then(|v| v.as_str())
        .and_then(|s| Uuid::parse_str(s).ok());
    let owner = owner.ok_or_else(|| crm_core::CoreError::field("userId", "Invalid user ID"))?;
    let n = write::bulk_assign(&state.db, &actor, &ids, owner).await?;
    Ok(envelope(StatusCode::OK, Assigned { assigned: n }))
}
