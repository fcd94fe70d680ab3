//! CSV import over HTTP: the JSON API ([`api`]: start a job, preview, job status,
//! errors.csv) and the pages ([`pages`]: upload → preview and mapping → progress).

pub mod api;
pub mod pages;

use axum::extract::Multipart;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use crm_core::CoreError;
use crm_core::import::{self, Encoding, Kind, OnDuplicate, Request};
use crm_core::input::Field;
use uuid::Uuid;

/// A multipart upload: the file and the text fields.
pub struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub fields: Vec<(String, String)>,
}

impl Upload {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The import request the text fields describe (`mapping`, `onDuplicate`, `encoding`, `userId`).
    pub fn request(&self, kind: Kind) -> Result<Request, CoreError> {
        let overrides = match self.get("mapping").map(str::trim) {
            None | Some("") => vec![],
            Some(m) => import::mapping::parse_json(m)?,
        };
        let owner = match self.get("userId").map(str::trim) {
            None | Some("") => Field::Absent,
            Some(v) => Field::Value(Uuid::parse_str(v).map_err(|_| CoreError::field("userId", "Invalid user ID"))?),
        };
        Ok(Request {
            kind,
            file_name: self.file_name.clone(),
            encoding: Encoding::parse(self.get("encoding").unwrap_or(""))?,
            on_duplicate: OnDuplicate::parse(self.get("onDuplicate").unwrap_or(""))?,
            overrides,
            owner,
        })
    }
}

fn read_error(e: MultipartError, max: u64) -> CoreError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        import::read::too_large(max)
    } else {
        CoreError::field("file", format!("The upload could not be read: {}", e.body_text()))
    }
}

/// Read a multipart body: the `file` field (at most `max` bytes) and small text fields.
pub async fn read_upload(mp: Result<Multipart, MultipartRejection>, max: u64) -> Result<Upload, CoreError> {
    let mut mp = mp.map_err(|_| {
        CoreError::field(
            "file",
            "Send the file as multipart/form-data, in a field named \"file\"",
        )
    })?;
    let mut up = Upload {
        file_name: String::new(),
        bytes: Vec::new(),
        fields: Vec::new(),
    };
    let mut has_file = false;
    while let Some(mut field) = mp.next_field().await.map_err(|e| read_error(e, max))? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            has_file = true;
            up.file_name = field.file_name().unwrap_or("").to_string();
            while let Some(chunk) = field.chunk().await.map_err(|e| read_error(e, max))? {
                if (up.bytes.len() + chunk.len()) as u64 > max {
                    return Err(import::read::too_large(max));
                }
                up.bytes.extend_from_slice(&chunk);
            }
        } else {
            let text = field.text().await.map_err(|e| read_error(e, max))?;
            if text.len() > 256 * 1024 {
                return Err(CoreError::field(&name, "This field is too long"));
            }
            up.fields.push((name, text));
        }
    }
    if !has_file || (up.bytes.is_empty() && up.file_name.is_empty()) {
        return Err(CoreError::field("file", "Choose a CSV file to import"));
    }
    Ok(up)
}

/// This domain's JSON API routes (mounted under `/api/v1` and its alias `/api`).
pub fn api_routes() -> crate::http::api::Api {
    use crate::http::api::{Api, Doc};
    Api::new()
        .get(
            "/imports/{id}",
            Doc::new("Import", "An import's status and counts").data::<crm_core::import::Status>(),
            api::show,
        )
        .get(
            "/imports/{id}/errors.csv",
            Doc::new("Import", "An import's rejected rows").file("text/csv"),
            api::errors,
        )
}

/// This domain's pages.
pub fn page_routes() -> axum::Router<crate::AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route(
            "/contacts/import/{upload}",
            get(pages::contacts_preview).post(pages::contacts_confirm),
        )
        .route(
            "/companies/import/{upload}",
            get(pages::companies_preview).post(pages::companies_confirm),
        )
        .route("/imports/{id}", get(pages::progress))
}

/// The upload routes: they get the import size limit and the long timeout instead of the
/// 2 MB and 30 s of other routes (the router layers them so).
pub fn api_upload_routes() -> crate::http::api::Api {
    use crate::http::api::{Api, Doc};
    const T: &str = "Import";
    let start = |what: &str| {
        Doc::new(T, format!("Import {what} from a CSV file (multipart/form-data)"))
            .data::<crm_core::import::Status>()
            .status(202)
    };
    let preview =
        |what: &str| Doc::new(T, format!("Preview a CSV import of {what}")).data::<crm_core::import::Preview>();
    Api::new()
        .post("/contacts/import", start("contacts"), api::contacts)
        .post("/companies/import", start("companies"), api::companies)
        .post("/contacts/import/preview", preview("contacts"), api::contacts_preview)
        .post(
            "/companies/import/preview",
            preview("companies"),
            api::companies_preview,
        )
}

/// The upload pages (same limits as [`api_upload_routes`]).
pub fn page_upload_routes() -> axum::Router<crate::AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route(
            "/contacts/import",
            get(pages::contacts_form).post(pages::contacts_upload),
        )
        .route(
            "/companies/import",
            get(pages::companies_form).post(pages::companies_upload),
        )
}
