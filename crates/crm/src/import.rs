//! `crm import contacts|companies FILE.csv`: the same import as the web page and the API
//! (same parsing, validation, duplicates and batched job), run in this process with a
//! progress bar on stderr.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use crm_core::accounts::users;
use crm_core::import::{self, Encoding, Kind, OnDuplicate, Request};
use crm_core::input::Field;
use crm_core::unscoped::user;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::config::Config;

#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// The CSV file to import (comma, semicolon or tab separated, with a header row).
    pub file: PathBuf,
    /// Import as this user: their permissions apply and they own the imported contacts
    /// (default: the oldest active admin).
    #[arg(long = "as", value_name = "EMAIL")]
    pub as_user: Option<String>,
    /// Rows matching an existing record (contacts: same email or phone; companies: same name):
    /// skip them, or update the record with the row's non-empty cells.
    #[arg(long, value_name = "MODE", default_value = "skip", value_parser = ["skip", "update"])]
    pub on_duplicate: String,
    /// Owner of the imported contacts (only an admin or manager may name someone else).
    #[arg(long, value_name = "EMAIL")]
    pub owner: Option<String>,
    /// The file's text encoding; auto reads UTF-8 and falls back to Windows-1252.
    #[arg(long, default_value = "auto", value_parser = ["auto", "utf-8", "windows-1252"])]
    pub encoding: String,
    /// Column choices as JSON, overriding the suggested mapping, e.g. '{"Mail":"email","Notes":null}'.
    #[arg(long, value_name = "JSON")]
    pub mapping: Option<String>,
    /// Write the rejected rows (line, reason, then the row's cells) to this CSV file.
    #[arg(long, value_name = "FILE")]
    pub errors: Option<PathBuf>,
}

async fn find_user(db: &crm_core::Db, email: &str) -> anyhow::Result<user::Model> {
    let u = users::find_by_email(db, email)
        .await?
        .with_context(|| format!("no user with the email {email}"))?;
    if !u.is_active {
        bail!("{email} is deactivated");
    }
    Ok(u)
}

pub async fn run(config: &Config, kind: Kind, a: ImportArgs) -> anyhow::Result<()> {
    let db = crate::open_db(config).await?;
    let me = match &a.as_user {
        Some(email) => find_user(&db, email).await?,
        None => user::Entity::find()
            .filter(user::Column::Role.eq(crm_core::Role::Admin))
            .filter(user::Column::IsActive.eq(true))
            .order_by_asc(user::Column::CreatedAt)
            .one(db.unscoped())
            .await?
            .context("there is no active admin; name the importing user with --as EMAIL")?,
    };
    let actor = users::actor_of(&me);
    let max = config.import_max_bytes;
    let size = std::fs::metadata(&a.file)
        .with_context(|| format!("cannot read {}", a.file.display()))?
        .len();
    if size > max {
        bail!("{}", import::read::too_large(max));
    }
    let bytes = std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let owner = match &a.owner {
        Some(email) => Field::Value(find_user(&db, email).await?.id),
        None => Field::Absent,
    };
    let overrides = match &a.mapping {
        Some(json) => import::mapping::parse_json(json).map_err(|e| anyhow::anyhow!("--mapping: {e}"))?,
        None => vec![],
    };
    let file_name = a
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let req = Request {
        kind,
        file_name,
        encoding: Encoding::parse(&a.encoding).map_err(|e| anyhow::anyhow!("{e}"))?,
        on_duplicate: OnDuplicate::parse(&a.on_duplicate).map_err(|e| anyhow::anyhow!("{e}"))?,
        overrides,
        owner,
    };
    let p = import::prepare(&db, &actor, req, &bytes, max)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.file.display()))?;
    let (_, claim) = import::job::create(&db, &actor, &p, &bytes).await?;
    let total = p.table.records.len() as u64;
    eprintln!(
        "importing {total} rows of {} as {} (read as {}, {}-separated; duplicates: {})",
        a.file.display(),
        me.email,
        p.table.encoding,
        p.table.delimiter_name(),
        p.on_duplicate.as_str()
    );
    let started = Instant::now();
    let status = import::job::run(&db, &actor, claim, &p, &mut |c| {
        crm_core::seed::progress(kind.as_str(), c.processed as u64, total, started);
    })
    .await?;
    eprintln!();
    println!(
        "{}: {} created, {} updated, {} skipped, {} failed of {} rows in {:.1} s (import {})",
        status.status,
        status.created,
        status.updated,
        status.skipped,
        status.failed,
        status.total,
        started.elapsed().as_secs_f64(),
        status.id
    );
    if status.companies_created > 0 {
        println!("{} companies created from the company column", status.companies_created);
    }
    if status.failed > 0 {
        let csv = import::errors_csv(&db, &actor, status.id).await?;
        match &a.errors {
            Some(path) => {
                std::fs::write(path, &csv).with_context(|| format!("cannot write {}", path.display()))?;
                println!("rejected rows written to {}", path.display());
            }
            None => {
                eprintln!("first rejected rows (write them all with --errors FILE):");
                for line in csv.trim_start_matches('\u{feff}').lines().skip(1).take(10) {
                    eprintln!("  {line}");
                }
            }
        }
    }
    if status.status == "failed" {
        bail!("{}", status.message.unwrap_or_else(|| "the import failed".into()));
    }
    Ok(())
}
