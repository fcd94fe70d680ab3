//! `POST /api/{contacts,companies}/import` (multipart: `file`, optional `mapping` JSON of
//! column → field, `onDuplicate` = skip | update, `encoding`, `userId`) → 202 with the job;
//! `POST /api/{contacts,companies}/import/preview` → what the import would do;
//! `GET /api/imports/{id}` → the job's status and counts; `GET /api/imports/{id}/errors.csv`.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use crm_core::import::{self, Kind};

use super::read_upload;
use crate::AppState;
use crate::http::error::{ApiResult, envelope};
use crate::http::resource::parse_id;
use crate::http::session::ApiActor;

async fn start(
    kind: Kind,
    state: AppState,
    actor: crm_core::Actor,
    mp: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let max = state.config.import_max_bytes;
    let up = read_upload(mp, max).await?;
    let p = import::prepare(&state.db, &actor, up.request(kind)?, &up.bytes, max).await?;
    let (job, claim) = import::job::create(&state.db, &actor, &p, &up.bytes).await?;
    import::job::spawn(state.db.clone(), actor, claim, p);
    Ok(envelope(StatusCode::ACCEPTED, job))
}

async fn preview(
    kind: Kind,
    state: AppState,
    actor: crm_core::Actor,
    mp: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let max = state.config.import_max_bytes;
    let up = read_upload(mp, max).await?;
    let p = import::prepare(&state.db, &actor, up.request(kind)?, &up.bytes, max).await?;
    Ok(envelope(StatusCode::OK, import::preview(&state.db, &p, 20).await?))
}

/// The handlers of one kind: start a job, preview.
macro_rules! kind_handlers {
    ($kind:expr, $start:ident, $preview:ident) => {
        pub async fn $start(
            State(state): State<AppState>,
            ApiActor(actor): ApiActor,
            mp: Result<Multipart, MultipartRejection>,
        ) -> ApiResult<Response> {
            start($kind, state, actor, mp).await
        }
        pub async fn $preview(
            State(state): State<AppState>,
            ApiActor(actor): ApiActor,
            mp: Result<Multipart, MultipartRejection>,
        ) -> ApiResult<Response> {
            preview($kind, state, actor, mp).await
        }
    };
}

kind_handlers!(Kind::Contacts, contacts, contacts_preview);
kind_handlers!(Kind::Companies, companies, companies_preview);

/// `GET /api/imports/{id}`: 404 for a job that is not the caller's (admins and managers see all).
pub async fn show(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id, "import")?;
    Ok(envelope(StatusCode::OK, import::get(&state.db, &actor, id).await?))
}

/// `GET /api/imports/{id}/errors.csv`: line, error, then the row's own cells.
pub async fn errors(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id, "import")?;
    let body = import::errors_csv(&state.db, &actor, id).await?;
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"import-{id}-errors.csv\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
