//! `GET /api/{contacts,companies,deals,tasks,activities}/export?<the list's filters>`:
//! a streamed CSV (UTF-8 with BOM) of everything the list would show the actor.

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use crm_core::export::{Export, Kind, line};
use crm_core::query::QueryParams;

use crate::AppState;
use crate::http::error::ApiResult;
use crate::http::session::ApiActor;

async fn export(kind: Kind, state: AppState, actor: crm_core::Actor, q: Vec<(String, String)>) -> ApiResult<Response> {
    let job = Export::new(&state.db, &actor, kind, &QueryParams::new(q))?;
    let name = match kind {
        Kind::Contacts => "contacts",
        Kind::Companies => "companies",
        Kind::Deals => "deals",
        Kind::Tasks => "tasks",
        Kind::Activities => "activities",
    };
    // state of the stream: None = finished; Some((cursor, header sent))
    let stream = futures_util::stream::unfold(Some((None, false)), move |st| {
        let (db, actor, job) = (state.db.clone(), actor.clone(), job.clone());
        async move {
            let (cursor, started) = st?;
            if !started {
                let head: Vec<String> = job.kind.header().iter().map(|h| h.to_string()).collect();
                let chunk = format!("\u{feff}{}", line(&head));
                return Some((Ok::<Bytes, std::io::Error>(Bytes::from(chunk)), Some((None, true))));
            }
            // each batch reads where the caller's heavy reads go (the replica when it may)
            let read = db.reading(&actor, |db| {
                let (job, actor) = (&job, &actor);
                async move { job.batch(&db, actor, cursor).await }
            });
            match read.await {
                Ok((rows, _)) if rows.is_empty() => None,
                Ok((rows, last)) => {
                    let chunk: String = rows.iter().map(|r| line(r)).collect();
                    Some((Ok(Bytes::from(chunk)), Some((last, true))))
                }
                Err(e) => {
                    tracing::error!("CSV export stopped: {e}");
                    Some((Err(std::io::Error::other("export failed")), None))
                }
            }
        }
    });
    // Fused: the gzip encoder polls its source once more after the end; a bare `unfold`
    // panics then, which cut every compressed download short.
    let mut res = Body::from_stream(futures_util::StreamExt::fuse(stream)).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let disposition = format!(
        "attachment; filename=\"{name}-{}.csv\"",
        chrono::Utc::now().format("%Y%m%d")
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

macro_rules! export_handler {
    ($name:ident, $kind:expr) => {
        pub async fn $name(
            State(state): State<AppState>,
            ApiActor(actor): ApiActor,
            Query(q): Query<Vec<(String, String)>>,
        ) -> ApiResult<Response> {
            export($kind, state, actor, q).await
        }
    };
}

export_handler!(contacts, Kind::Contacts);
export_handler!(companies, Kind::Companies);
export_handler!(deals, Kind::Deals);
export_handler!(tasks, Kind::Tasks);
export_handler!(activities, Kind::Activities);

/// This domain's JSON API routes (mounted under `/api/v1` and its alias `/api`).
pub fn api_routes() -> crate::http::api::Api {
    use crate::http::api::{Api, Doc};
    const T: &str = "Export";
    let doc = |what: &str| Doc::new(T, format!("Export {what} as CSV (the list's filters apply)")).file("text/csv");
    Api::new()
        .get("/contacts/export", doc("contacts"), contacts)
        .get("/companies/export", doc("companies"), companies)
        .get("/deals/export", doc("deals"), deals)
        .get("/tasks/export", doc("tasks"), tasks)
        .get("/activities/export", doc("activities"), activities)
}
