//! CSV import of contacts and companies.
//!
//! [`read`] turns the uploaded bytes into a table (encoding, delimiter, quoting; a bad file is
//! refused before anything is written), [`mapping`] suggests which column holds which field,
//! [`rows`] validates each record through the same readers as the API, and [`job`] writes the
//! rows as a background job in batched transactions, the job's counters committed with each
//! batch, so the job's report stays true even when the process stops half-way.
//!
//! Permissions: imported contacts belong to the importer; admins and managers may name
//! another owner (`scope::resolve_owner`). A job is visible to its importer, and to admins and
//! managers (who read every record); to anyone else it does not exist.

pub mod job;
pub mod mapping;
pub mod read;
pub mod rows;

use std::collections::HashSet;

use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::Serialize;
use uuid::Uuid;

use crate::actor::Actor;
use crate::db::Db;
use crate::entities::{company, contact, import, import_error, import_upload};
use crate::error::{CoreError, CoreResult};
use crate::input::Field;
use crate::text::{name_key, phone_key};
use crate::{clock, scope};

pub use read::Encoding;

/// An upload awaiting confirmation, as stored.
pub type Upload = crate::entities::import_upload::Model;

/// Rows per transaction.
pub const BATCH: usize = 1000;

/// The default upload limit (`CRM_IMPORT_MAX_BYTES`).
pub const DEFAULT_MAX_BYTES: u64 = 50 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Contacts,
    Companies,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "contacts" => Some(Kind::Contacts),
            "companies" => Some(Kind::Companies),
            _ => None,
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Contacts => "contacts",
            Kind::Companies => "companies",
        }
    }
    /// "contact" / "company" (audit entity type, messages).
    pub fn singular(&self) -> &'static str {
        match self {
            Kind::Contacts => "contact",
            Kind::Companies => "company",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDuplicate {
    Skip,
    Update,
}

impl OnDuplicate {
    pub fn parse(s: &str) -> CoreResult<OnDuplicate> {
        match s.trim() {
            "" | "skip" => Ok(OnDuplicate::Skip),
            "update" => Ok(OnDuplicate::Update),
            _ => Err(CoreError::field(
                "onDuplicate",
                "onDuplicate must be one of: skip, update",
            )),
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            OnDuplicate::Skip => "skip",
            OnDuplicate::Update => "update",
        }
    }
}

/// What the importer asked for, besides the file.
#[derive(Debug, Clone)]
pub struct Request {
    pub kind: Kind,
    pub file_name: String,
    pub encoding: Encoding,
    pub on_duplicate: OnDuplicate,
    /// Columns whose suggested field the importer changed: header → field (None = ignore).
    pub overrides: Vec<(String, Option<String>)>,
    /// The owner of imported contacts (admins and managers may choose; reps own them).
    pub owner: Field<Uuid>,
}

/// A file parsed, mapped and checked: ready to preview or to import.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub kind: Kind,
    pub file_name: String,
    pub table: read::Table,
    pub mapping: mapping::Mapping,
    pub on_duplicate: OnDuplicate,
    pub owner: Option<Uuid>,
}

/// Parse and map a file. Every problem with the file or the request is a 400 here, before
/// anything is written.
pub async fn prepare(db: &Db, actor: &Actor, req: Request, bytes: &[u8], max: u64) -> CoreResult<Prepared> {
    let table = read::parse(bytes, req.encoding, max)?;
    let mapping = mapping::with_overrides(req.kind, &table.headers, &req.overrides)?;
    mapping::check_required(req.kind, &mapping)?;
    let owner = match req.kind {
        Kind::Contacts => scope::resolve_owner(db, actor, req.owner, None, true).await?,
        Kind::Companies => None,
    };
    let file_name = match req.file_name.trim() {
        "" => "upload.csv".to_string(),
        n => n.chars().take(200).collect(),
    };
    Ok(Prepared {
        kind: req.kind,
        file_name,
        table,
        mapping,
        on_duplicate: req.on_duplicate,
        owner,
    })
}

/// A job as the API shows it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "ImportStatus")]
pub struct Status {
    pub id: Uuid,
    pub kind: String,
    pub file_name: String,
    pub status: String,
    pub on_duplicate: String,
    pub total: i64,
    pub processed: i64,
    pub created: i64,
    pub updated: i64,
    pub skipped: i64,
    pub failed: i64,
    pub companies_created: i64,
    pub message: Option<String>,
    pub user_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub created_at: String,
    pub finished_at: Option<String>,
}

impl Status {
    pub fn new(m: import::Model) -> Status {
        Status {
            id: m.id,
            kind: m.kind,
            file_name: m.file_name,
            status: m.status,
            on_duplicate: m.on_duplicate,
            total: m.total,
            processed: m.processed,
            created: m.created,
            updated: m.updated,
            skipped: m.skipped,
            failed: m.failed,
            companies_created: m.companies_created,
            message: m.message,
            user_id: m.user_id,
            owner_id: m.owner_id,
            created_at: clock::fmt(&m.created_at),
            finished_at: clock::fmt_opt(&m.finished_at),
        }
    }
    pub fn finished(&self) -> bool {
        matches!(self.status.as_str(), "done" | "failed")
    }
    /// Whole percent processed.
    pub fn percent(&self) -> i64 {
        (self.processed * 100).checked_div(self.total).unwrap_or(100)
    }
}

/// A job the actor may see (their own; admins and managers see every job): import jobs
/// are owned records like the others, read through the same scope.
pub async fn get(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<Status> {
    crate::scope::get_visible::<import::Entity>(db, actor, id, "Import")
        .await
        .map(Status::new)
}

/// The actor's latest jobs of a kind (newest first).
pub async fn recent(db: &Db, actor: &Actor, kind: Kind, limit: u64) -> CoreResult<Vec<Status>> {
    Ok(import::Entity::find()
        .filter(import::Column::UserId.eq(actor.id))
        .filter(import::Column::Kind.eq(kind.as_str()))
        .order_by_desc(import::Column::CreatedAt)
        .limit(limit)
        .all(&db.conn)
        .await?
        .into_iter()
        .map(Status::new)
        .collect())
}

/// errors.csv: every rejected row with its line number and reason, then its own cells under
/// the file's header, in line order.
pub async fn errors_csv(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<String> {
    let job = crate::scope::visible::<import::Entity>(actor)
        .filter(import::Column::Id.eq(id))
        .one(&db.conn)
        .await?
        .ok_or_else(|| CoreError::not_found("Import"))?;
    let rows = import_error::Entity::find()
        .filter(import_error::Column::ImportId.eq(id))
        .order_by_asc(import_error::Column::Line)
        .all(&db.conn)
        .await?;
    let mut out = String::from("\u{feff}");
    let mut head = vec!["line".to_string(), "error".to_string()];
    head.extend(read::split_line(&job.header));
    out.push_str(&crate::export::line(&head));
    for r in rows {
        let mut cells = vec![r.line.to_string(), r.message];
        cells.extend(read::split_line(&r.record));
        out.push_str(&crate::export::line(&cells));
    }
    Ok(out)
}

/// One previewed row: its cells by field, and what the import would do with it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreviewRow {
    pub line: u64,
    pub values: Vec<(String, String)>,
    /// `new`, `duplicate` or `error`.
    pub outcome: &'static str,
    pub message: Option<String>,
}

/// What the import of a file would do, before anything is written.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    pub kind: Kind,
    pub file_name: String,
    /// `csv` or `vcard` (sniffed from the content).
    pub format: read::Format,
    pub encoding: &'static str,
    pub delimiter: &'static str,
    pub headers: Vec<String>,
    /// The field of each column (null = ignored).
    pub mapping: Vec<Option<&'static str>>,
    pub fields: &'static [mapping::FieldDef],
    pub total: usize,
    pub valid: usize,
    pub invalid: usize,
    /// Rows repeating the e-mail or phone (companies: the name) of an earlier row.
    pub duplicates_in_file: usize,
    pub rows: Vec<PreviewRow>,
}

/// Validate every row (in memory), and check the first `shown` rows against the database.
pub async fn preview(db: &Db, p: &Prepared, shown: usize) -> CoreResult<Preview> {
    let mut valid = 0;
    let mut dup = 0;
    let mut seen: HashSet<String> = HashSet::new();
    let mut rows = Vec::new();
    let mut keys_of_shown: Vec<Vec<String>> = Vec::new();
    for (i, rec) in p.table.records.iter().enumerate() {
        let (keys, err) = match p.kind {
            Kind::Contacts => match rows::contact(&p.mapping, rec) {
                Ok(r) => {
                    let mut k = vec![format!("e:{}", r.fields.email.clone().value().unwrap_or_default())];
                    if let Some(ph) = r.fields.phone.clone().value() {
                        k.push(format!("p:{}", phone_key(&ph)));
                    }
                    (k, None)
                }
                Err(e) => (vec![], Some(rows::reason(&e))),
            },
            Kind::Companies => match rows::company(&p.mapping, rec) {
                Ok(f) => (
                    vec![format!("n:{}", name_key(&f.name.value().unwrap_or_default()))],
                    None,
                ),
                Err(e) => (vec![], Some(rows::reason(&e))),
            },
        };
        let repeated = !keys.is_empty() && keys.iter().any(|k| seen.contains(k));
        if err.is_none() {
            valid += 1;
            if repeated {
                dup += 1;
            }
        }
        if i < shown {
            let values = rows::values(&p.mapping, rec)
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            let (outcome, message) = match (&err, repeated) {
                (Some(e), _) => ("error", Some(e.clone())),
                (None, true) => ("duplicate", Some("Repeats an earlier row of this file".to_string())),
                (None, false) => ("new", None),
            };
            rows.push(PreviewRow {
                line: rec.line,
                values,
                outcome,
                message,
            });
            keys_of_shown.push(keys.clone());
        }
        seen.extend(keys);
    }
    // the shown rows against the database
    let all: Vec<String> = keys_of_shown.iter().flatten().cloned().collect();
    let taken = existing_keys(db, p.kind, &all).await?;
    for (row, keys) in rows.iter_mut().zip(keys_of_shown) {
        if row.outcome == "new" && keys.iter().any(|k| taken.contains(k)) {
            row.outcome = "duplicate";
            row.message = Some(match p.kind {
                Kind::Contacts => "A contact with this email or phone number exists".to_string(),
                Kind::Companies => "A company with this name exists".to_string(),
            });
        }
    }
    let total = p.table.records.len();
    Ok(Preview {
        kind: p.kind,
        file_name: p.file_name.clone(),
        format: p.table.format,
        encoding: p.table.encoding,
        delimiter: p.table.delimiter_name(),
        headers: p.table.headers.clone(),
        mapping: p.mapping.clone(),
        fields: mapping::fields(p.kind),
        total,
        valid,
        invalid: total - valid,
        duplicates_in_file: dup,
        rows,
    })
}

/// Which of the prefixed keys (`e:` email, `p:` phone key, `n:` company name key) exist.
async fn existing_keys(db: &Db, kind: Kind, keys: &[String]) -> CoreResult<HashSet<String>> {
    let pick = |p: &str| -> Vec<String> {
        keys.iter()
            .filter_map(|k| k.strip_prefix(p))
            .map(String::from)
            .collect()
    };
    let mut out = HashSet::new();
    match kind {
        Kind::Contacts => {
            let (emails, phones) = (pick("e:"), pick("p:"));
            if emails.is_empty() && phones.is_empty() {
                return Ok(out);
            }
            let found = contact::Entity::find()
                .filter(
                    Condition::any()
                        .add(contact::Column::Email.is_in(emails))
                        .add(contact::Column::PhoneKey.is_in(phones)),
                )
                .all(&db.conn)
                .await?;
            for c in found {
                out.insert(format!("e:{}", c.email));
                if let Some(p) = c.phone_key {
                    out.insert(format!("p:{p}"));
                }
            }
        }
        Kind::Companies => {
            let names = pick("n:");
            if names.is_empty() {
                return Ok(out);
            }
            for c in company::Entity::find()
                .filter(company::Column::NameKey.is_in(names))
                .all(&db.conn)
                .await?
            {
                out.insert(format!("n:{}", c.name_key));
            }
        }
    }
    Ok(out)
}

/// Keep an upload for the preview page; uploads older than a day, and all but the user's
/// three latest, are dropped on the way.
pub async fn stage(db: &Db, actor: &Actor, kind: Kind, file_name: &str, content: Vec<u8>) -> CoreResult<Uuid> {
    let day_ago = clock::now() - chrono::Duration::days(1);
    import_upload::Entity::delete_many()
        .filter(import_upload::Column::CreatedAt.lt(day_ago))
        .exec(&db.conn)
        .await?;
    let id = Uuid::now_v7();
    import_upload::ActiveModel {
        id: Set(id),
        user_id: Set(actor.id),
        kind: Set(kind.as_str().into()),
        file_name: Set(file_name.chars().take(200).collect()),
        content: Set(content),
        created_at: Set(clock::now()),
    }
    .insert(&db.conn)
    .await?;
    // a user keeps at most their three latest uploads waiting
    let older: Vec<Uuid> = import_upload::Entity::find()
        .select_only()
        .column(import_upload::Column::Id)
        .filter(import_upload::Column::UserId.eq(actor.id))
        .order_by_desc(import_upload::Column::CreatedAt)
        .order_by_desc(import_upload::Column::Id)
        .offset(3)
        .limit(1000)
        .into_tuple()
        .all(&db.conn)
        .await?;
    if !older.is_empty() {
        import_upload::Entity::delete_many()
            .filter(import_upload::Column::Id.is_in(older))
            .exec(&db.conn)
            .await?;
    }
    Ok(id)
}

/// The actor's own staged upload of this kind, else not found.
pub async fn staged(db: &Db, actor: &Actor, kind: Kind, id: Uuid) -> CoreResult<import_upload::Model> {
    import_upload::Entity::find_by_id(id)
        .filter(import_upload::Column::UserId.eq(actor.id))
        .filter(import_upload::Column::Kind.eq(kind.as_str()))
        .one(&db.conn)
        .await?
        .ok_or_else(|| {
            CoreError::NotFound("This upload is gone (uploads are kept for a day). Upload the file again.".into())
        })
}

pub async fn unstage(db: &Db, id: Uuid) -> CoreResult<()> {
    import_upload::Entity::delete_by_id(id).exec(&db.conn).await?;
    Ok(())
}
