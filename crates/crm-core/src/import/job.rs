//! The import job: rows are written in batches of [`BATCH`], each batch in one transaction
//! together with its rejected rows and the job's counters, so whatever happens to the
//! process, the database holds whole batches and the job row says exactly which went in.
//!
//! Duplicates (contacts: same e-mail, case-insensitive, or same phone digits; companies: same
//! name key) are looked for in the database and earlier in the file, and follow
//! `onDuplicate`: `skip` leaves the existing record alone, `update` writes the row's non-empty
//! cells onto it (for contacts only where the importer may change that contact).

use std::collections::HashMap;
use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;

use super::read::{Record, record_line};
use super::{BATCH, Kind, OnDuplicate, Prepared, Status, rows};
use crate::actor::Actor;
use crate::db::Db;
use crate::entities::{company, contact, import, import_error, import_file, user};
use crate::error::{CoreError, CoreResult, is_retryable, is_unique_violation};
use crate::input::Field;
use crate::text::{name_key, phone_key};
use crate::{audit, clock, companies, contacts};

/// The job's running totals (what the job row holds).
#[derive(Debug, Clone, Copy, Default)]
pub struct Counters {
    pub processed: i64,
    pub created: i64,
    pub updated: i64,
    pub skipped: i64,
    pub failed: i64,
    pub companies_created: i64,
    pub last_line: i64,
}

impl Counters {
    /// The totals a job row holds.
    fn of(job: &import::Model) -> Counters {
        Counters {
            processed: job.processed,
            created: job.created,
            updated: job.updated,
            skipped: job.skipped,
            failed: job.failed,
            companies_created: job.companies_created,
            last_line: job.last_line,
        }
    }

    /// "1000 of 2500 rows were processed and saved (…); the rows after line 1001 were not
    /// imported." — what a stopped job's message says of how far it got.
    fn how_far(&self, total: i64) -> String {
        format!(
            "{} of {total} rows were processed and saved ({} created, {} updated, {} skipped, {} failed); the rows after line {} were not imported.",
            self.processed,
            self.created,
            self.updated,
            self.skipped,
            self.failed,
            self.last_line.max(1)
        )
    }
}

/// How long a claim on a job holds without a committed batch (each batch renews it). A job
/// whose instance died is taken over by another once its lease has run out.
pub const LEASE: chrono::TimeDelta = chrono::TimeDelta::seconds(20);

/// How often every instance looks for jobs to take over.
const POLL: Duration = Duration::from_secs(5);

/// A worker's claim on a job: every batch it commits checks that the claim still holds,
/// so a job is worked on by one instance at a time, and each batch goes in once.
#[derive(Debug, Clone, Copy)]
pub struct Claim {
    pub job: Uuid,
    token: Uuid,
}

/// How a stored file is read again: its encoding and each column's field.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Plan {
    encoding: String,
    mapping: Vec<Option<String>>,
}

/// Create the job row, owned by the importer, with its file stored beside it, and claim it
/// for this instance.
pub async fn create(db: &Db, actor: &Actor, p: &Prepared, content: &[u8]) -> CoreResult<(Status, Claim)> {
    // one import at a time per user: each running job holds its file in memory
    let busy = import::Entity::find()
        .filter(import::Column::UserId.eq(actor.id))
        .filter(import::Column::Status.is_in(["queued", "running"]))
        .one(&db.conn)
        .await?;
    if busy.is_some() {
        return Err(CoreError::TooMany(
            "One of your imports is still running; start the next one when it has finished".into(),
        ));
    }
    let now = clock::now();
    let claim = Claim {
        job: Uuid::now_v7(),
        token: Uuid::new_v4(),
    };
    let plan = Plan {
        encoding: p.table.encoding.to_string(),
        mapping: p.mapping.iter().map(|f| f.map(str::to_string)).collect(),
    };
    let txn = db.conn.begin().await?;
    let m = import::ActiveModel {
        id: Set(claim.job),
        kind: Set(p.kind.as_str().into()),
        user_id: Set(Some(actor.id)),
        owner_id: Set(p.owner),
        file_name: Set(p.file_name.clone()),
        header: Set(record_line(&p.table.headers)),
        on_duplicate: Set(p.on_duplicate.as_str().into()),
        status: Set("queued".into()),
        total: Set(p.table.records.len() as i64),
        processed: Set(0),
        created: Set(0),
        updated: Set(0),
        skipped: Set(0),
        failed: Set(0),
        companies_created: Set(0),
        last_line: Set(0),
        message: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        finished_at: Set(None),
        claimed_by: Set(Some(claim.token)),
        lease_until: Set(Some(now + LEASE)),
    }
    .insert(&txn)
    .await?;
    import_file::ActiveModel {
        import_id: Set(claim.job),
        content: Set(content.to_vec()),
        plan: Set(serde_json::to_string(&plan).map_err(|e| CoreError::Internal(e.into()))?),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok((Status::new(m), claim))
}

/// Run the job to its end in a background task.
pub fn spawn(db: Db, actor: Actor, claim: Claim, p: Prepared) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = run(&db, &actor, claim, &p, &mut |_| {}).await {
            tracing::error!(import = %claim.job, "import failed: {e}");
        }
    })
}

/// Run the claimed job from its last committed batch: `running`, the batches, then `done`
/// with one audit entry holding the counts. A failure marks the job `failed` with how far
/// it got. `progress` sees each batch's totals. When the claim is lost (this instance
/// stalled past its lease and another took the job over) it stops and leaves the job alone.
pub async fn run(
    db: &Db,
    actor: &Actor,
    claim: Claim,
    p: &Prepared,
    progress: &mut (dyn FnMut(&Counters) + Send),
) -> CoreResult<Status> {
    let job = import::Entity::find_by_id(claim.job)
        .one(&db.conn)
        .await?
        .ok_or_else(|| CoreError::not_found("Import"))?;
    let mut c = Counters::of(&job);
    import::Entity::update_many()
        .col_expr(import::Column::Status, Expr::value("running"))
        .col_expr(import::Column::UpdatedAt, Expr::value(clock::now()))
        .filter(import::Column::Id.eq(claim.job))
        .filter(import::Column::ClaimedBy.eq(claim.token))
        .exec(&db.conn)
        .await?;
    let mut result = Ok(());
    let done = (c.processed.max(0) as usize).min(p.table.records.len());
    for batch in p.table.records[done..].chunks(BATCH) {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let r = match p.kind {
                Kind::Contacts => contacts_batch(db, actor, claim, p, batch, c).await,
                Kind::Companies => companies_batch(db, claim, p, batch, c).await,
            };
            match r {
                Ok(next) => {
                    c = next;
                    break;
                }
                // someone else wrote the same e-mail/phone/name meanwhile, or a concurrent
                // transaction won a lock (tallies, reassignment): plan the batch again
                Err(CoreError::Internal(e))
                    if attempt < 4
                        && e.downcast_ref::<sea_orm::DbErr>()
                            .is_some_and(|d| is_unique_violation(d) || is_retryable(d)) =>
                {
                    tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if result.is_err() {
            break;
        }
        progress(&c);
    }
    if let Err(CoreError::Conflict(m)) = &result
        && m == LOST
    {
        tracing::warn!(import = %claim.job, "another instance took this import over");
        return Err(CoreError::Conflict(LOST.into()));
    }
    finish(db, actor, claim, p, c, result).await
}

/// What a worker that lost its claim is told.
const LOST: &str = "Another instance took this import over";

async fn finish(
    db: &Db,
    actor: &Actor,
    claim: Claim,
    p: &Prepared,
    c: Counters,
    result: CoreResult<()>,
) -> CoreResult<Status> {
    let id = claim.job;
    let (status, message) = match &result {
        Ok(()) => ("done", None),
        Err(e) => {
            tracing::error!(import = %id, "import stopped: {e}");
            let why = match e {
                CoreError::Internal(_) => "a database error".to_string(),
                other => other.to_string(),
            };
            (
                "failed",
                Some(format!(
                    "The import stopped because of {why}. {}",
                    c.how_far(p.table.records.len() as i64)
                )),
            )
        }
    };
    let txn = db.conn.begin().await?;
    let ended = import::Entity::update_many()
        .col_expr(import::Column::Status, Expr::value(status))
        .col_expr(import::Column::Message, Expr::value(message))
        .col_expr(import::Column::FinishedAt, Expr::value(Some(clock::now())))
        .col_expr(import::Column::UpdatedAt, Expr::value(clock::now()))
        .col_expr(import::Column::ClaimedBy, Expr::value(Option::<Uuid>::None))
        .col_expr(
            import::Column::LeaseUntil,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(import::Column::Id.eq(id))
        .filter(import::Column::ClaimedBy.eq(claim.token))
        .exec(&txn)
        .await?;
    if ended.rows_affected == 0 {
        return Err(CoreError::Conflict(LOST.into()));
    }
    import_file::Entity::delete_by_id(id).exec(&txn).await?;
    let changes = json!({
        "file": p.file_name, "status": status, "total": p.table.records.len(),
        "created": c.created, "updated": c.updated, "skipped": c.skipped, "failed": c.failed,
        "companiesCreated": c.companies_created, "onDuplicate": p.on_duplicate.as_str(),
    });
    audit::record(
        &txn,
        Some(actor),
        "import",
        p.kind.singular(),
        Some(id.to_string()),
        Some(changes),
    )
    .await?;
    txn.commit().await?;
    let m = import::Entity::find_by_id(id)
        .one(&db.conn)
        .await?
        .ok_or_else(|| CoreError::not_found("Import"))?;
    Ok(Status::new(m))
}

/// Take over the jobs whose claim has run out (their instance died or stalled), in every
/// instance, until `stop` turns true: each is claimed by one instance with a conditional
/// update, read again from its stored file and run from its last committed batch.
pub fn start_worker(db: Db, mut stop: tokio::sync::watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match take_over(&db).await {
                Ok(Some((actor, claim, p))) => {
                    tracing::info!(import = %claim.job, file = %p.file_name, "taking the import over from its last committed batch");
                    if let Err(e) = run(&db, &actor, claim, &p, &mut |_| {}).await {
                        tracing::error!(import = %claim.job, "import failed: {e}");
                    }
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("imports: looking for jobs to take over failed: {e}"),
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
        }
    })
}

/// Claim one job whose lease has run out, and read it again from its stored file.
async fn take_over(db: &Db) -> CoreResult<Option<(Actor, Claim, Prepared)>> {
    let now = clock::now();
    let due = import::Entity::find()
        .filter(import::Column::Status.is_in(["queued", "running"]))
        .filter(import::Column::LeaseUntil.lt(now))
        .order_by_asc(import::Column::CreatedAt)
        .limit(5)
        .all(&db.conn)
        .await?;
    for job in due {
        let claim = Claim {
            job: job.id,
            token: Uuid::new_v4(),
        };
        let took = import::Entity::update_many()
            .col_expr(import::Column::ClaimedBy, Expr::value(Some(claim.token)))
            .col_expr(import::Column::LeaseUntil, Expr::value(Some(now + LEASE)))
            .filter(import::Column::Id.eq(job.id))
            .filter(import::Column::Status.is_in(["queued", "running"]))
            .filter(import::Column::LeaseUntil.lt(now))
            .exec(&db.conn)
            .await?;
        if took.rows_affected != 1 {
            continue; // another instance was quicker
        }
        let user = match job.user_id {
            Some(u) => user::Entity::find_by_id(u).one(&db.conn).await?,
            None => None,
        };
        let file = import_file::Entity::find_by_id(job.id).one(&db.conn).await?;
        let (Some(user), Some(file)) = (user, file) else {
            stranded(db, &job).await?;
            continue;
        };
        let prepared = replan(&job, &file).map_err(|e| {
            tracing::error!(import = %job.id, "the stored file cannot be read again: {e}");
            e
        });
        match prepared {
            Ok(p) => return Ok(Some((crate::accounts::users::actor_of(&user), claim, p))),
            Err(_) => stranded(db, &job).await?,
        }
    }
    Ok(None)
}

/// The job as it was prepared, from its stored file and plan.
fn replan(job: &import::Model, file: &import_file::Model) -> CoreResult<Prepared> {
    let kind = Kind::parse(&job.kind).ok_or_else(|| CoreError::Internal(anyhow::anyhow!("kind {}", job.kind)))?;
    let plan: Plan = serde_json::from_str(&file.plan).map_err(|e| CoreError::Internal(e.into()))?;
    let table = super::read::parse(&file.content, super::Encoding::parse(&plan.encoding)?, u64::MAX)?;
    let mapping = plan
        .mapping
        .iter()
        .map(|f| f.as_deref().map(|k| super::mapping::field_key(kind, k)).transpose())
        .collect::<CoreResult<Vec<_>>>()?;
    Ok(Prepared {
        kind,
        file_name: job.file_name.clone(),
        table,
        mapping,
        on_duplicate: OnDuplicate::parse(&job.on_duplicate)?,
        owner: job.owner_id,
    })
}

/// A job that cannot be taken over (no stored file: started by an older version, or its
/// importer was deleted): failed, saying how far it got.
async fn stranded(db: &Db, m: &import::Model) -> CoreResult<()> {
    let message = format!(
        "The server stopped during this import. {} Import the file again with duplicates skipped to add the rest.",
        Counters::of(m).how_far(m.total)
    );
    let txn = db.conn.begin().await?;
    import::Entity::update_many()
        .col_expr(import::Column::Status, Expr::value("failed"))
        .col_expr(import::Column::Message, Expr::value(Some(message)))
        .col_expr(import::Column::FinishedAt, Expr::value(Some(clock::now())))
        .col_expr(import::Column::UpdatedAt, Expr::value(clock::now()))
        .col_expr(import::Column::ClaimedBy, Expr::value(Option::<Uuid>::None))
        .filter(import::Column::Id.eq(m.id))
        .exec(&txn)
        .await?;
    import_file::Entity::delete_by_id(m.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// A rejected row: its line, the reason, its cells.
struct Rejected {
    line: u64,
    reason: String,
    record: String,
}

fn reject(rec: &Record, reason: String) -> Rejected {
    Rejected {
        line: rec.line,
        reason,
        record: record_line(&rec.cells),
    }
}

/// The batch's rows that `parse` reads, each with its record, and those it rejects.
fn parse_batch<T>(batch: &[Record], parse: impl Fn(&Record) -> CoreResult<T>) -> (Vec<(&Record, T)>, Vec<Rejected>) {
    let mut rejected = Vec::new();
    let mut valid = Vec::with_capacity(batch.len());
    for rec in batch {
        match parse(rec) {
            Ok(r) => valid.push((rec, r)),
            Err(e) => rejected.push(reject(rec, rows::reason(&e))),
        }
    }
    (valid, rejected)
}

/// Write the batch's rejected rows and the job's new totals (inside the batch's transaction).
async fn save_progress(
    txn: &sea_orm::DatabaseTransaction,
    claim: Claim,
    rejected: Vec<Rejected>,
    c: &Counters,
) -> CoreResult<()> {
    let id = claim.job;
    if !rejected.is_empty() {
        let rows = rejected.into_iter().map(|r| import_error::ActiveModel {
            id: Set(Uuid::now_v7()),
            import_id: Set(id),
            line: Set(r.line as i64),
            message: Set(r.reason),
            record: Set(r.record),
        });
        import_error::Entity::insert_many(rows).exec(txn).await?;
    }
    let saved = import::Entity::update_many()
        .col_expr(import::Column::Processed, Expr::value(c.processed))
        .col_expr(import::Column::Created, Expr::value(c.created))
        .col_expr(import::Column::Updated, Expr::value(c.updated))
        .col_expr(import::Column::Skipped, Expr::value(c.skipped))
        .col_expr(import::Column::Failed, Expr::value(c.failed))
        .col_expr(import::Column::CompaniesCreated, Expr::value(c.companies_created))
        .col_expr(import::Column::LastLine, Expr::value(c.last_line))
        .col_expr(import::Column::UpdatedAt, Expr::value(clock::now()))
        .col_expr(import::Column::LeaseUntil, Expr::value(Some(clock::now() + LEASE)))
        .filter(import::Column::Id.eq(id))
        .filter(import::Column::ClaimedBy.eq(claim.token))
        .exec(txn)
        .await?;
    if saved.rows_affected == 0 {
        // the claim ran out and another instance holds the job: this batch is not ours
        return Err(CoreError::Conflict(LOST.into()));
    }
    Ok(())
}

/// Where a row's duplicate lives: a contact created earlier in this batch, or one loaded
/// from the database (index into the batch's lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    New(usize),
    Old(usize),
}

async fn contacts_batch(
    db: &Db,
    actor: &Actor,
    claim: Claim,
    p: &Prepared,
    batch: &[Record],
    mut c: Counters,
) -> CoreResult<Counters> {
    let now = clock::now();
    let (valid, mut rejected) = parse_batch(batch, |rec| rows::contact(&p.mapping, rec));
    // the database's contacts with these e-mails or phones
    let emails: Vec<String> = valid
        .iter()
        .filter_map(|(_, r)| r.fields.email.clone().value())
        .collect();
    let phones: Vec<String> = valid
        .iter()
        .filter_map(|(_, r)| r.fields.phone.clone().value().map(|p| phone_key(&p)))
        .collect();
    let mut old: Vec<(contact::Model, bool)> = if valid.is_empty() {
        vec![]
    } else {
        contact::Entity::find()
            .filter(
                Condition::any()
                    .add(contact::Column::Email.is_in(emails))
                    .add(contact::Column::PhoneKey.is_in(phones)),
            )
            .all(&db.conn)
            .await?
            .into_iter()
            .map(|m| (m, false))
            .collect()
    };
    let mut by_email: HashMap<String, Target> = HashMap::new();
    let mut by_phone: HashMap<String, Target> = HashMap::new();
    for (i, (m, _)) in old.iter().enumerate() {
        by_email.insert(m.email.clone(), Target::Old(i));
        if let Some(k) = &m.phone_key {
            by_phone.insert(k.clone(), Target::Old(i));
        }
    }
    // companies by name: found, or created in this batch
    let mut company_ids: HashMap<String, Uuid> = HashMap::new();
    let mut new_companies: Vec<company::Model> = Vec::new();
    let names: Vec<String> = valid
        .iter()
        .filter_map(|(_, r)| r.company.as_deref().map(name_key))
        .collect();
    if !names.is_empty() {
        for co in company::Entity::find()
            .filter(company::Column::NameKey.is_in(names))
            .all(&db.conn)
            .await?
        {
            company_ids.insert(co.name_key, co.id);
        }
    }
    let mut new: Vec<contact::Model> = Vec::new();
    for (rec, row) in valid {
        let email = row.fields.email.clone().value().unwrap_or_default();
        let phone = row.fields.phone.clone().value().map(|p| phone_key(&p));
        let company = row.company.as_ref().map(|n| {
            let key = name_key(n);
            *company_ids.entry(key).or_insert_with(|| {
                let co = companies::write::new_company(company_input(n), now);
                let id = co.id;
                new_companies.push(co);
                id
            })
        });
        let mut fields = row.fields;
        if let Some(cid) = company {
            fields.company = Field::Value(cid);
        }
        let te = by_email.get(&email).copied();
        let tp = phone.as_ref().and_then(|k| by_phone.get(k)).copied();
        let (target, via_email) = match (te, tp) {
            (None, None) => {
                let m = contacts::write::new_contact(fields, p.owner, now);
                by_email.insert(m.email.clone(), Target::New(new.len()));
                if let Some(k) = &m.phone_key {
                    by_phone.insert(k.clone(), Target::New(new.len()));
                }
                new.push(m);
                continue;
            }
            (Some(a), Some(b)) if a != b => {
                if p.on_duplicate == OnDuplicate::Skip {
                    c.skipped += 1;
                } else {
                    rejected.push(reject(rec, "Phone number already exists".into()));
                }
                continue;
            }
            (Some(a), _) => (a, true),
            (None, Some(b)) => (b, false),
        };
        if p.on_duplicate == OnDuplicate::Skip {
            c.skipped += 1;
            continue;
        }
        let current = match target {
            Target::New(i) => new[i].clone(),
            Target::Old(i) => old[i].0.clone(),
        };
        let may_change = matches!(target, Target::New(_)) || crate::scope::may_write(actor, current.user_id);
        if !may_change {
            let why = if via_email {
                "Email already exists"
            } else {
                "Phone number already exists"
            };
            rejected.push(reject(rec, why.into()));
            continue;
        }
        let owner = current.user_id;
        let changed = contacts::write::apply(&current, fields, owner);
        if changed.email != current.email {
            by_email.remove(&current.email);
            by_email.insert(changed.email.clone(), target);
        }
        if changed.phone_key != current.phone_key {
            if let Some(k) = &current.phone_key {
                by_phone.remove(k);
            }
            if let Some(k) = &changed.phone_key {
                by_phone.insert(k.clone(), target);
            }
        }
        match target {
            Target::New(i) => new[i] = changed,
            Target::Old(i) => old[i] = (changed, true),
        }
        c.updated += 1;
    }
    c.created += new.len() as i64;
    c.companies_created += new_companies.len() as i64;
    c.failed += rejected.len() as i64;
    c.processed += batch.len() as i64;
    c.last_line = batch.last().map(|r| r.line as i64).unwrap_or(c.last_line);

    let txn = db.conn.begin().await?;
    for chunk in new_companies.chunks(500) {
        company::Entity::insert_many(chunk.iter().map(|m| m.clone().into_active_model().reset_all()))
            .exec(&txn)
            .await?;
    }
    for chunk in new.chunks(500) {
        contact::Entity::insert_many(chunk.iter().map(|m| m.clone().into_active_model().reset_all()))
            .exec(&txn)
            .await?;
    }
    for (m, changed) in old {
        if changed {
            m.into_active_model().reset_all().update(&txn).await?;
        }
    }
    save_progress(&txn, claim, rejected, &c).await?;
    txn.commit().await?;
    // cached answers made of contacts and companies are old now (`changes`)
    db.changed();
    Ok(c)
}

/// The fields of a company known only by its name (from a contact row's company cell).
fn company_input(name: &str) -> companies::write::Fields {
    let mut input = crate::input::Input::form(&[("name".to_string(), name.to_string())], crate::input::Mode::Create);
    companies::write::read(&mut input)
}

async fn companies_batch(
    db: &Db,
    claim: Claim,
    p: &Prepared,
    batch: &[Record],
    mut c: Counters,
) -> CoreResult<Counters> {
    let now = clock::now();
    let (valid, rejected) = parse_batch(batch, |rec| rows::company(&p.mapping, rec));
    let keys: Vec<String> = valid
        .iter()
        .map(|(_, f)| name_key(&f.name.clone().value().unwrap_or_default()))
        .collect();
    let mut old: Vec<(company::Model, bool)> = if keys.is_empty() {
        vec![]
    } else {
        company::Entity::find()
            .filter(company::Column::NameKey.is_in(keys))
            .all(&db.conn)
            .await?
            .into_iter()
            .map(|m| (m, false))
            .collect()
    };
    let mut by_key: HashMap<String, Target> = old
        .iter()
        .enumerate()
        .map(|(i, (m, _))| (m.name_key.clone(), Target::Old(i)))
        .collect();
    let mut new: Vec<company::Model> = Vec::new();
    for (_, f) in valid {
        let key = name_key(&f.name.clone().value().unwrap_or_default());
        match by_key.get(&key).copied() {
            None => {
                by_key.insert(key, Target::New(new.len()));
                new.push(companies::write::new_company(f, now));
            }
            Some(_) if p.on_duplicate == OnDuplicate::Skip => c.skipped += 1,
            Some(Target::New(i)) => {
                new[i] = companies::write::apply(&new[i], f);
                c.updated += 1;
            }
            Some(Target::Old(i)) => {
                old[i] = (companies::write::apply(&old[i].0, f), true);
                c.updated += 1;
            }
        }
    }
    c.created += new.len() as i64;
    c.failed += rejected.len() as i64;
    c.processed += batch.len() as i64;
    c.last_line = batch.last().map(|r| r.line as i64).unwrap_or(c.last_line);

    let txn = db.conn.begin().await?;
    for chunk in new.chunks(500) {
        company::Entity::insert_many(chunk.iter().map(|m| m.clone().into_active_model().reset_all()))
            .exec(&txn)
            .await?;
    }
    for (m, changed) in old {
        if changed {
            m.into_active_model().reset_all().update(&txn).await?;
        }
    }
    save_progress(&txn, claim, rejected, &c).await?;
    txn.commit().await?;
    // cached answers made of contacts and companies are old now (`changes`)
    db.changed();
    Ok(c)
}
