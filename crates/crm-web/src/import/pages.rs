//! Import pages: `/contacts/import` and `/companies/import` (upload), then
//! `/{kind}/import/{upload}` (the columns, their suggested fields and a preview of the first
//! rows with each row's validation result, before anything is written), then
//! `/imports/{id}` (progress; app.js polls the API, without JS a Refresh link reloads).

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use crm_core::CoreError;
use crm_core::accounts::users::{self, UserRef};
use crm_core::import::{self, Encoding, Kind, OnDuplicate, Preview, Request, Status};
use crm_core::input::Field;
use uuid::Uuid;

use super::read_upload;
use crate::AppState;
use crate::http::body::FormPairs;
use crate::http::error::{PageResult, public_message};
use crate::http::resource::parse_id;
use crate::web::{Chrome, PageCtx, html, short_date, thousands};

fn title(kind: Kind) -> &'static str {
    match kind {
        Kind::Contacts => "Import contacts",
        Kind::Companies => "Import companies",
    }
}

#[derive(Template)]
#[template(path = "import/upload.html")]
struct UploadPage {
    chrome: Chrome,
    kind: &'static str,
    heading: &'static str,
    error: Option<String>,
    recent: Vec<Status>,
}

impl UploadPage {
    fn date(&self, s: &str) -> String {
        short_date(s)
    }
}

async fn upload_page(
    state: &AppState,
    ctx: &PageCtx,
    kind: Kind,
    error: Option<String>,
) -> Result<UploadPage, CoreError> {
    let recent = import::recent(&state.db, &ctx.session.actor, kind, 10).await?;
    Ok(UploadPage {
        chrome: Chrome::new(ctx, title(kind), kind.as_str()),
        kind: kind.as_str(),
        heading: title(kind),
        error,
        recent,
    })
}

async fn upload_form(state: AppState, ctx: PageCtx, kind: Kind) -> PageResult {
    Ok(html(&upload_page(&state, &ctx, kind, None).await?))
}

/// The upload: the file is read (a bad file is refused here, with the reason) and kept for
/// the preview page.
async fn upload(state: AppState, ctx: PageCtx, kind: Kind, mp: Result<Multipart, MultipartRejection>) -> PageResult {
    let max = state.config.import_max_bytes;
    let actor = &ctx.session.actor;
    let checked = async {
        let up = read_upload(mp, max).await?;
        let req = up.request(kind)?;
        import::read::parse(&up.bytes, req.encoding, max)?;
        let enc = up.get("encoding").unwrap_or("auto").to_string();
        let id = import::stage(&state.db, actor, kind, &up.file_name, up.bytes).await?;
        Ok::<_, CoreError>((id, enc))
    }
    .await;
    match checked {
        Ok((id, enc)) => {
            Ok(Redirect::to(&format!("/{}/import/{id}?encoding={}", kind.as_str(), urlencode(&enc))).into_response())
        }
        Err(e @ CoreError::Internal(_)) => Err(e.into()),
        Err(e) => {
            let page = upload_page(&state, &ctx, kind, Some(public_message(&e))).await?;
            Ok((crate::http::error::status_of(&e), html(&page)).into_response())
        }
    }
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)])
        .unwrap_or_default()
        .trim_start_matches("v=")
        .to_string()
}

#[derive(Template)]
#[template(path = "import/preview.html")]
struct PreviewPage {
    chrome: Chrome,
    heading: &'static str,
    kind: &'static str,
    action: String,
    p: Preview,
    encoding: String,
    on_duplicate: &'static str,
    owner: String,
    can_assign: bool,
    users: Vec<UserRef>,
    /// Sample cell of each column (first non-empty in the first rows).
    samples: Vec<String>,
    error: Option<String>,
}

impl PreviewPage {
    fn n(&self, v: &usize) -> String {
        thousands(*v as u64)
    }
    fn is_field(&self, col: &usize, key: &str) -> bool {
        self.p.mapping.get(*col).copied().flatten() == Some(key)
    }
    fn sample(&self, col: &usize) -> &str {
        self.samples.get(*col).map(|s| s.as_str()).unwrap_or("")
    }
    fn ignored(&self, col: &usize) -> bool {
        self.p.mapping.get(*col).copied().flatten().is_none()
    }
    /// The fields mapped to at least one column, in field order (the preview's columns).
    fn shown(&self) -> Vec<(&'static str, &'static str)> {
        self.p
            .fields
            .iter()
            .filter(|f| self.p.mapping.contains(&Some(f.key)))
            .map(|f| (f.key, f.label.split(" (").next().unwrap_or(f.label)))
            .collect()
    }
    fn cell(&self, row: &import::PreviewRow, key: &str) -> String {
        row.values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
    fn is_user(&self, id: &Uuid) -> bool {
        self.owner == id.to_string()
    }
}

/// The choices on the preview form (or in its query string).
struct Choices {
    encoding: String,
    overrides: Vec<(String, Option<String>)>,
    on_duplicate: OnDuplicate,
    owner: String,
}

fn choices(pairs: &[(String, String)], headers: Option<&[String]>) -> Result<Choices, CoreError> {
    let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let mut overrides = Vec::new();
    if let Some(headers) = headers {
        for (i, h) in headers.iter().enumerate() {
            if let Some(v) = get(&format!("col{i}")) {
                overrides.push((h.clone(), (!v.is_empty()).then(|| v.to_string())));
            }
        }
    }
    Ok(Choices {
        encoding: get("encoding").unwrap_or("auto").to_string(),
        overrides,
        on_duplicate: OnDuplicate::parse(get("onDuplicate").unwrap_or(""))?,
        owner: get("userId").unwrap_or("").to_string(),
    })
}

/// Parse the staged upload with the page's choices.
async fn prepared(
    state: &AppState,
    ctx: &PageCtx,
    kind: Kind,
    upload: &crm_core::import::Upload,
    pairs: &[(String, String)],
) -> Result<(import::Prepared, Choices), CoreError> {
    let first = choices(pairs, None)?;
    let encoding = Encoding::parse(&first.encoding)?;
    let table = import::read::parse(&upload.content, encoding, u64::MAX)?;
    let c = choices(pairs, Some(&table.headers))?;
    let owner = match c.owner.trim() {
        "" => Field::Absent,
        v => Field::Value(Uuid::parse_str(v).map_err(|_| CoreError::field("userId", "Invalid user ID"))?),
    };
    let req = Request {
        kind,
        file_name: upload.file_name.clone(),
        encoding,
        on_duplicate: c.on_duplicate,
        overrides: c.overrides.clone(),
        owner,
    };
    let p = import::prepare(&state.db, &ctx.session.actor, req, &upload.content, u64::MAX).await?;
    Ok((p, c))
}

/// A page showing the file even when the mapping is incomplete (the error says what to fix).
async fn preview_page(
    state: &AppState,
    ctx: &PageCtx,
    kind: Kind,
    upload: &crm_core::import::Upload,
    pairs: &[(String, String)],
) -> Result<(PreviewPage, bool), CoreError> {
    let (p, c, error) = match prepared(state, ctx, kind, upload, pairs).await {
        Ok((p, c)) => (p, c, None),
        Err(e @ CoreError::Validation { .. }) => {
            // show what the file holds with the suggested mapping, and the problem
            let c = choices(pairs, None)?;
            let table = import::read::parse(&upload.content, Encoding::parse(&c.encoding)?, u64::MAX)?;
            let mut mapping = import::mapping::suggest(kind, &table.headers);
            let c = choices(pairs, Some(&table.headers))?;
            for (h, f) in &c.overrides {
                if let Some(i) = table.headers.iter().position(|x| x == h) {
                    mapping[i] = f.as_deref().and_then(|k| import::mapping::field_key(kind, k).ok());
                }
            }
            let p = import::Prepared {
                kind,
                file_name: upload.file_name.clone(),
                table,
                mapping,
                on_duplicate: c.on_duplicate,
                owner: None,
            };
            (p, c, Some(public_message(&e)))
        }
        Err(e) => return Err(e),
    };
    let preview = import::preview(&state.db, &p, 20).await?;
    let samples = (0..preview.headers.len())
        .map(|i| {
            p.table
                .records
                .iter()
                .take(20)
                .filter_map(|r| r.cells.get(i))
                .find(|v| !v.trim().is_empty())
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    let actor = &ctx.session.actor;
    let ok = error.is_none();
    Ok((
        PreviewPage {
            chrome: Chrome::new(ctx, title(kind), kind.as_str()),
            heading: title(kind),
            kind: kind.as_str(),
            action: format!("/{}/import/{}", kind.as_str(), upload.id),
            p: preview,
            encoding: c.encoding,
            on_duplicate: c.on_duplicate.as_str(),
            owner: c.owner,
            can_assign: actor.may_assign() && kind == Kind::Contacts,
            users: users::assignees(&state.db, actor).await?,
            samples,
            error,
        },
        ok,
    ))
}

async fn preview_get(state: AppState, ctx: PageCtx, kind: Kind, id: String, q: Vec<(String, String)>) -> PageResult {
    let id = parse_id(&id, "upload")?;
    let upload = import::staged(&state.db, &ctx.session.actor, kind, id).await?;
    let (page, _) = preview_page(&state, &ctx, kind, &upload, &q).await?;
    Ok(html(&page))
}

/// "Update preview" re-renders with the chosen fields; "Start import" starts the job.
async fn preview_post(state: AppState, ctx: PageCtx, kind: Kind, id: String, form: FormPairs) -> PageResult {
    let id = parse_id(&id, "upload")?;
    let actor = &ctx.session.actor;
    let upload = import::staged(&state.db, actor, kind, id).await?;
    if form.get("action") == Some("start")
        && let Ok((p, _)) = prepared(&state, &ctx, kind, &upload, &form.0).await
    {
        let (job, claim) = import::job::create(&state.db, actor, &p, &upload.content).await?;
        import::unstage(&state.db, upload.id).await?;
        import::job::spawn(state.db.clone(), actor.clone(), claim, p);
        return Ok(Redirect::to(&format!("/imports/{}", job.id)).into_response());
    }
    let (page, ok) = preview_page(&state, &ctx, kind, &upload, &form.0).await?;
    let status = if ok { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    Ok((status, html(&page)).into_response())
}

#[derive(Template)]
#[template(path = "import/progress.html")]
struct ProgressPage {
    chrome: Chrome,
    job: Status,
    list: &'static str,
}

impl ProgressPage {
    fn n(&self, v: &i64) -> String {
        thousands((*v).max(0) as u64)
    }
}

pub async fn progress(State(state): State<AppState>, ctx: PageCtx, Path(id): Path<String>) -> PageResult {
    let id = parse_id(&id, "import")?;
    let job = import::get(&state.db, &ctx.session.actor, id).await?;
    let list = if job.kind == "companies" {
        "companies"
    } else {
        "contacts"
    };
    let heading = format!("Import of {}", job.file_name);
    Ok(html(&ProgressPage {
        chrome: Chrome::new(&ctx, heading, list),
        job,
        list,
    }))
}

macro_rules! kind_handlers {
    ($kind:expr, $form:ident, $upload:ident, $preview:ident, $confirm:ident) => {
        pub async fn $form(State(state): State<AppState>, ctx: PageCtx) -> PageResult {
            upload_form(state, ctx, $kind).await
        }
        pub async fn $upload(
            State(state): State<AppState>,
            ctx: PageCtx,
            mp: Result<Multipart, MultipartRejection>,
        ) -> PageResult {
            upload(state, ctx, $kind, mp).await
        }
        pub async fn $preview(
            State(state): State<AppState>,
            ctx: PageCtx,
            Path(id): Path<String>,
            Query(q): Query<Vec<(String, String)>>,
        ) -> PageResult {
            preview_get(state, ctx, $kind, id, q).await
        }
        pub async fn $confirm(
            State(state): State<AppState>,
            ctx: PageCtx,
            Path(id): Path<String>,
            form: FormPairs,
        ) -> PageResult {
            preview_post(state, ctx, $kind, id, form).await
        }
    };
}

kind_handlers!(
    Kind::Contacts,
    contacts_form,
    contacts_upload,
    contacts_preview,
    contacts_confirm
);
kind_handlers!(
    Kind::Companies,
    companies_form,
    companies_upload,
    companies_preview,
    companies_confirm
);
