//! Moving in from the original app (`crm import original --from postgres://…`).
//!
//! The source is checked first ([`source::check`]: every table and column we read must
//! exist, else nothing is read or written). Then, inside one read-only snapshot of the
//! source and one transaction on our database, each table is read, mapped row by row
//! ([`map`]) and written by the one generic writer ([`upsert`]), in foreign-key order.
//! Ids are kept (UUIDs) or derived deterministically (CUIDs), so a second run finds every
//! row already there and changes nothing; `--dry-run` does all of it and rolls back.
//!
//! Passwords stay bcrypt until the user's next sign-in (see `accounts::password`); 2FA
//! secrets are sealed with the server key; backup codes are stored as keyed hashes.
//! Not brought in: verification tokens (short-lived; users ask for a new link) and the
//! original's unused `Account` / `Session` tables.

mod map;
mod source;
mod upsert;

use std::fmt;

use sea_orm::{AccessMode, ConnectOptions, Database, IsolationLevel, TransactionTrait};
use serde_json::json;

use crate::crypto::SecretBox;
use crate::db::{Db, redact};
use crate::entities::{
    activity, audit_log, backup_code, company, contact, deal, deal_stage_history, sign_in_history, task, user,
};
use crate::error::{CoreError, CoreResult};
use map::Ctx;
use source::{Row, Table};
use upsert::{Imported, Mapped};

/// What one table's import did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct TableReport {
    pub table: &'static str,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Source rows linked to a record that was already here (same e-mail or company name).
    pub matched: u64,
}

impl fmt::Display for TableReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} created, {} updated, {} unchanged",
            self.table, self.created, self.updated, self.unchanged
        )?;
        if self.matched > 0 {
            write!(f, ", {} matched to existing records", self.matched)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Report {
    pub dry_run: bool,
    pub tables: Vec<TableReport>,
    /// Everything the import decided on its own: defaults for unknown values, matches,
    /// dropped duplicates, 2FA turned off.
    pub notes: Vec<String>,
}

impl Report {
    pub fn table(&self, name: &str) -> Option<&TableReport> {
        self.tables.iter().find(|t| t.table == name)
    }
    /// True when the run wrote (or would write) nothing.
    pub fn unchanged(&self) -> bool {
        self.tables.iter().all(|t| t.created == 0 && t.updated == 0)
    }
}

/// At most this many notes are printed; the rest are counted.
const NOTES_SHOWN: usize = 50;

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dry_run {
            writeln!(f, "dry run: nothing was written; this is what the import would do")?;
        }
        for t in &self.tables {
            writeln!(f, "{t}")?;
        }
        for n in self.notes.iter().take(NOTES_SHOWN) {
            writeln!(f, "note: {n}")?;
        }
        if self.notes.len() > NOTES_SHOWN {
            writeln!(f, "note: … and {} more", self.notes.len() - NOTES_SHOWN)?;
        }
        Ok(())
    }
}

/// Import the original app's database at `source_url` into `target`. All or nothing:
/// any error leaves `target` as it was. `dry_run` computes the same report and writes
/// nothing. The source is only read.
pub async fn import(target: &Db, keys: &SecretBox, source_url: &str, dry_run: bool) -> CoreResult<Report> {
    if !(source_url.starts_with("postgres://") || source_url.starts_with("postgresql://")) {
        return Err(CoreError::bad_request(
            "--from must be a postgres:// URL (the original app's database is PostgreSQL)",
        ));
    }
    let mut opts = ConnectOptions::new(source_url.to_string());
    opts.sqlx_logging(false)
        .max_connections(1)
        .min_connections(0)
        .acquire_timeout(std::time::Duration::from_secs(10));
    let conn = Database::connect(opts).await.map_err(|e| {
        CoreError::bad_request(format!(
            "cannot connect to the source database {}: {e}",
            redact(source_url)
        ))
    })?;
    let result = run(&conn, target, keys, dry_run).await;
    conn.close().await.ok();
    result
}

async fn run(conn: &sea_orm::DatabaseConnection, target: &Db, keys: &SecretBox, dry_run: bool) -> CoreResult<Report> {
    source::check(conn).await?;
    let src = conn
        .begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly))
        .await?;
    let txn = target.conn.begin().await?;
    let mut cx = Ctx::new(keys);
    let tables = match all_tables(&src, &txn, &mut cx).await {
        Ok(t) => t,
        Err(e) => {
            txn.rollback().await.ok();
            src.rollback().await.ok();
            return Err(e);
        }
    };
    src.rollback().await?;
    let report = Report {
        dry_run,
        tables,
        notes: cx.notes,
    };
    if dry_run || report.unchanged() {
        txn.rollback().await?;
        return Ok(report);
    }
    let summary = json!({ "tables": report.tables, "notes": report.notes.len() });
    crate::audit::record(&txn, None, "import", "original", None, Some(summary)).await?;
    txn.commit().await?;
    Ok(report)
}

/// Every table, in foreign-key order; each step hands its id map to the next.
async fn all_tables(
    src: &impl sea_orm::ConnectionTrait,
    txn: &impl sea_orm::ConnectionTrait,
    cx: &mut Ctx<'_>,
) -> CoreResult<Vec<TableReport>> {
    let mut t = Vec::new();
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    cx.deleted_users = audit_log::Entity::find()
        .filter(audit_log::Column::EntityType.eq("user"))
        .filter(audit_log::Column::Action.eq("delete"))
        .all(txn)
        .await?
        .into_iter()
        .filter_map(|a| a.entity_id?.parse().ok())
        .collect();
    let users = step::<user::Entity>(src, txn, &source::USER, map::user, cx, &mut t).await?;
    cx.new_users = users.created_sources.into_iter().collect();
    cx.users = users.ids;
    cx.matched_users = users.matched_sources.into_iter().collect();
    cx.companies = step::<company::Entity>(src, txn, &source::COMPANY, map::company, cx, &mut t)
        .await?
        .ids;
    cx.contacts = step::<contact::Entity>(src, txn, &source::CONTACT, map::contact, cx, &mut t)
        .await?
        .ids;
    step::<activity::Entity>(src, txn, &source::ACTIVITY, map::activity, cx, &mut t).await?;
    step::<task::Entity>(src, txn, &source::TASK, map::task, cx, &mut t).await?;
    cx.deals = step::<deal::Entity>(src, txn, &source::DEAL, map::deal, cx, &mut t)
        .await?
        .ids;
    step::<deal_stage_history::Entity>(src, txn, &source::DEAL_STAGE_HISTORY, map::stage_change, cx, &mut t).await?;
    step::<backup_code::Entity>(src, txn, &source::BACKUP_CODE, map::backup_code, cx, &mut t).await?;
    step::<sign_in_history::Entity>(src, txn, &source::SIGN_IN_HISTORY, map::sign_in, cx, &mut t).await?;
    Ok(t)
}

type MapFn<M> = fn(&Row, &mut Ctx) -> CoreResult<Option<Mapped<M>>>;

/// Read one source table, map its rows, write them; the report line goes to `tables`.
async fn step<E>(
    src: &impl sea_orm::ConnectionTrait,
    txn: &impl sea_orm::ConnectionTrait,
    table: &'static Table,
    map: MapFn<E::Model>,
    cx: &mut Ctx<'_>,
    tables: &mut Vec<TableReport>,
) -> CoreResult<upsert::Outcome>
where
    E: Imported,
    E::Model: sea_orm::IntoActiveModel<E::ActiveModel> + Clone,
    E::ActiveModel: sea_orm::ActiveModelTrait<Entity = E> + sea_orm::ActiveModelBehavior + Send,
{
    let mut rows = Vec::new();
    for r in source::read(src, table).await? {
        if let Some(m) = map(&r, cx)? {
            rows.push(m);
        }
    }
    let mut out = upsert::upsert::<E, _>(txn, rows).await?;
    cx.notes.append(&mut out.notes);
    tables.push(TableReport {
        table: table.label,
        created: out.created,
        updated: out.updated,
        unchanged: out.unchanged,
        matched: out.matched,
    });
    Ok(out)
}
