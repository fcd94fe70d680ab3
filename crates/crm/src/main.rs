//! `crm`: the CRM server and its operator commands (contract.md, "Binary and CLI").

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use crm::config::Config;
use crm_core::Role;
use crm_core::accounts::{random_token, setup, users};

#[derive(Parser)]
#[command(
    name = "crm",
    version,
    about = "CRM Contact Manager: a self-hosted team CRM in one binary"
)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run pending migrations, then serve the pages and the API (the default).
    Serve,
    /// Run pending database migrations and exit.
    Migrate,
    /// Print a fresh one-time link to create the first admin (only while no user exists).
    SetupLink,
    /// Manage user accounts without the web UI.
    #[command(subcommand)]
    User(UserCommand),
    /// Load data sets.
    #[command(subcommand)]
    Seed(SeedCommand),
    /// Bring data in: contacts or companies from a CSV file, or everything from the original app.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Rebuild the dashboard and report tallies and the per-contact and per-company activity
    /// counts from the records (triggers keep them; run this after loading data with
    /// triggers off or restoring twice).
    Recount,
    /// Consistent online backup: SQLite with VACUUM INTO, PostgreSQL with pg_dump (custom format) when it is on the PATH.
    Backup {
        /// The backup file to write (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Measure the server: seeds a data set, starts the server, times real HTTP requests.
    Bench {
        /// What to measure (default: the HTTP requests).
        #[command(subcommand)]
        what: Option<BenchCommand>,
        /// Contacts in the data set (seeded when fewer exist).
        #[arg(long, default_value_t = 1_000_000)]
        contacts: u64,
        /// Companies seeded along with the contacts.
        #[arg(long, default_value_t = 1_000)]
        companies: u64,
        /// Activities in the data set (seeded when fewer exist).
        #[arg(long, default_value_t = 0)]
        activities: u64,
        /// Tasks in the data set.
        #[arg(long, default_value_t = 0)]
        tasks: u64,
        /// Deals in the data set.
        #[arg(long, default_value_t = 0)]
        deals: u64,
        /// Requests per case.
        #[arg(long, default_value_t = 20)]
        runs: usize,
        /// Small and quick (10k contacts, 5 runs), for CI.
        #[arg(long)]
        smoke: bool,
        /// Data directory of the bench database (kept between runs).
        #[arg(long, default_value = "./data-bench")]
        bench_dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import contacts (Google Contacts, Outlook, HubSpot and Salesforce layouts are recognised).
    Contacts {
        #[command(flatten)]
        args: crm::import::ImportArgs,
    },
    /// Import companies (matched by name).
    Companies {
        #[command(flatten)]
        args: crm::import::ImportArgs,
    },
    /// Move in from the original CRM app: reads its PostgreSQL database and brings in users
    /// (old passwords keep working), companies, contacts, activities, tasks, deals, stage
    /// history, 2FA secrets and backup codes. All or nothing; a second run changes nothing.
    Original {
        /// The original app's database (only read), e.g. postgres://user:pass@host:5432/crm.
        #[arg(long)]
        from: String,
        /// Print what the import would do, per table, and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Generate a contacts CSV file, import it into a fresh SQLite database and print the time.
    Import {
        /// Rows in the generated file.
        #[arg(long, default_value_t = 100_000)]
        rows: u64,
        /// Column layout of the generated file.
        #[arg(long, default_value = "outlook", value_parser = ["outlook", "google"])]
        layout: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an active user with a verified email; prints a generated password unless --password-stdin.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["admin", "manager", "rep"])]
        role: String,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Set a user's password (read from standard input); ends their sessions.
    SetPassword {
        #[arg(long)]
        email: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Deactivate a user; their sessions end at once.
    Deactivate {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum SeedCommand {
    /// Load the demo data set (marked as demo, owned by demo users); idempotent.
    Demo,
    /// Remove every demo record and the demo users; real data is untouched.
    RemoveDemo,
    /// Load a large synthetic data set fast, with progress.
    Bulk {
        #[arg(long, default_value_t = 10_000)]
        contacts: u64,
        #[arg(long, default_value_t = 100)]
        companies: u64,
        /// Activities on the seeded contacts.
        #[arg(long, default_value_t = 0)]
        activities: u64,
        /// Tasks on the seeded contacts.
        #[arg(long, default_value_t = 0)]
        tasks: u64,
        /// Deals on the seeded contacts.
        #[arg(long, default_value_t = 0)]
        deals: u64,
    },
}

fn read_password() -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("cannot read the password from stdin")?;
    let p = s.trim_end_matches(['\n', '\r']).to_string();
    if p.is_empty() {
        bail!("no password on stdin");
    }
    Ok(p)
}

fn init_logs(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    if format == "json" {
        tracing_subscriber::fmt().json().with_env_filter(filter).init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let running = crm::start(&config, crm::shutdown_signal()).await?;
            let base = config.base_url();
            let db_name = crm_core::db::redact(&config.database_url());
            tracing::info!("CRM listening on http://{} (database {db_name})", running.addr);
            if setup::needed(&running.db).await? {
                let token = setup::new_token(&running.db).await?;
                tracing::info!("first run: open {base}/setup?token={token} to create the admin account");
            }
            running.task.await??;
        }
        Command::SetupLink => {
            let db = crm::open_db(&config).await?;
            let token = setup::new_token(&db).await?;
            println!("{}/setup?token={token}", config.base_url());
        }
        Command::Recount => {
            let db = crm::open_db(&config).await?;
            let n = crm_core::migration::rebuild_tallies(&db).await?;
            println!("tallies rebuilt: {n} rows");
        }
        Command::Backup { out } => {
            let url = config.database_url();
            if out.exists() {
                bail!("{} already exists; choose a new file", out.display());
            }
            if url.starts_with("postgres") {
                return pg_backup(&url, &out);
            }
            let db = crm::open_db(&config).await?;
            let target = out
                .to_str()
                .context("the backup path must be valid UTF-8")?
                .replace('\'', "''");
            sea_orm::ConnectionTrait::execute_unprepared(db.unscoped(), &format!("VACUUM INTO '{target}'")).await?;
            let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
            println!("backup written to {} ({size} bytes)", out.display());
        }
        Command::Migrate => {
            crm::open_db(&config).await?;
            println!("migrations applied to {}", crm_core::db::redact(&config.database_url()));
        }
        Command::User(cmd) => {
            let db = crm::open_db(&config).await?;
            match cmd {
                UserCommand::Create {
                    email,
                    name,
                    role,
                    password_stdin,
                } => {
                    let role = Role::parse(&role).context("role must be admin, manager or rep")?;
                    let (password, generated) = if password_stdin {
                        (read_password()?, false)
                    } else {
                        (random_token(), true)
                    };
                    let u = users::create(
                        &db,
                        users::NewUser {
                            email,
                            name,
                            role,
                            password: password.clone(),
                            verified: true,
                            is_demo: false,
                        },
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("created {} ({}) as {}", u.email, u.name, u.role);
                    if generated {
                        println!("password (shown once): {password}");
                    }
                }
                UserCommand::List => {
                    for u in users::list(&db).await? {
                        let state = if u.is_active { "active" } else { "inactive" };
                        println!("{:<36} {:<8} {:<9} {}", u.email, u.role, state, u.name);
                    }
                }
                UserCommand::SetPassword { email, .. } => {
                    users::set_password(&db, &email, read_password()?)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("password changed for {email}; their sessions were ended");
                }
                UserCommand::Deactivate { email } => {
                    users::deactivate(&db, &email)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("{email} deactivated; their sessions were ended");
                }
            }
        }
        Command::Seed(cmd) => {
            let db = crm::open_db(&config).await?;
            match cmd {
                SeedCommand::Demo => {
                    if crm_core::seed::demo(&db).await? {
                        println!("demo data loaded (demo users: manager@demo.crm, riley@demo.crm, sam@demo.crm)");
                    } else {
                        println!("demo data already present; nothing to do");
                    }
                }
                SeedCommand::RemoveDemo => {
                    let n = crm_core::seed::remove_demo(&db).await?;
                    println!("demo data removed ({n} demo contacts and everything attached to them)");
                }
                SeedCommand::Bulk {
                    contacts,
                    companies,
                    activities,
                    tasks,
                    deals,
                } => {
                    let secs = crm_core::seed::bulk(&db, companies, contacts).await?;
                    println!("loaded {contacts} contacts and {companies} companies in {secs:.1} s");
                    if activities + tasks + deals > 0 {
                        let related = crm_core::seed::Related {
                            activities,
                            tasks,
                            deals,
                        };
                        let secs = crm_core::seed::bulk_related(&db, related).await?;
                        println!("loaded {activities} activities, {tasks} tasks and {deals} deals in {secs:.1} s");
                    }
                }
            }
        }
        Command::Import(ImportCommand::Contacts { args }) => {
            crm::import::run(&config, crm_core::import::Kind::Contacts, args).await?;
        }
        Command::Import(ImportCommand::Companies { args }) => {
            crm::import::run(&config, crm_core::import::Kind::Companies, args).await?;
        }
        Command::Import(ImportCommand::Original { from, dry_run }) => {
            let db = crm::open_db(&config).await?;
            let keys = crm_core::crypto::SecretBox::load(config.secret_key.as_deref(), &config.data_dir)?;
            let report = crm_core::original::import(&db, &keys, &from, dry_run)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            print!("{report}");
        }
        Command::Bench {
            what: Some(BenchCommand::Import { rows, layout }),
            bench_dir,
            ..
        } => {
            crm::bench::import(rows, &layout, &bench_dir).await?;
        }
        Command::Bench {
            what: None,
            contacts,
            companies,
            activities,
            tasks,
            deals,
            runs,
            smoke,
            bench_dir,
        } => {
            let (contacts, companies, runs) = if smoke {
                (10_000, 100, 5)
            } else {
                (contacts, companies, runs)
            };
            let related = if smoke {
                crm_core::seed::Related {
                    activities: 10_000,
                    tasks: 2_000,
                    deals: 1_000,
                }
            } else {
                crm_core::seed::Related {
                    activities,
                    tasks,
                    deals,
                }
            };
            let database_url = config.database_url.clone();
            crm::bench::run(crm::bench::Options {
                contacts,
                companies,
                related,
                runs,
                data_dir: bench_dir,
                database_url,
            })
            .await?;
        }
    }
    Ok(())
}

/// glibc gives every thread that allocates an arena of its own (up to eight per core) and
/// keeps what is freed in it: under load the server's resident memory doubled (328 MB after
/// the benchmark's loads at a million rows; 110 MB with two arenas, 131 MB with four). Four
/// arenas, not two: the threads (tokio's workers, one per SQLite connection) then wait less
/// for each other's arena lock — 8–10 % more requests per second under load. The allocator reads its
/// settings when the process starts, so the server's first start exports them and becomes
/// itself again (`exec`, same arguments); a `MALLOC_ARENA_MAX` already set is left as it is.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("MALLOC_ARENA_MAX", "4")
        // large blocks come from and go back to the system, not the arenas
        .env("MALLOC_MMAP_THRESHOLD_", "131072")
        .env("MALLOC_TRIM_THRESHOLD_", "131072")
        .exec();
    eprintln!("note: could not restart with the allocator settings ({err}); going on without");
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}

/// `crm backup` on PostgreSQL: `pg_dump --format=custom` of the whole database (restore
/// with `pg_restore --dbname=<new database> <file>`). The password goes through
/// `PGPASSWORD`, not the command line other users' `ps` can read.
fn pg_backup(url: &str, out: &std::path::Path) -> anyhow::Result<()> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("pg_dump").is_file()))
        .unwrap_or(false);
    if !on_path {
        bail!(
            "pg_dump is not on the PATH: install the PostgreSQL client (Debian: apt install postgresql-client), \
             or run\n  pg_dump --format=custom --file={} '{}'",
            out.display(),
            crm_core::db::redact(url)
        );
    }
    // postgres://user:password@host/db → the URL without the password, and the password
    let (without, password) = match url.split_once("://").and_then(|(scheme, rest)| {
        let (auth, host) = rest.split_once('@')?;
        let (user, pass) = auth.split_once(':')?;
        Some((format!("{scheme}://{user}@{host}"), pass.to_string()))
    }) {
        Some((u, p)) => (u, Some(p)),
        None => (url.to_string(), None),
    };
    let mut cmd = std::process::Command::new("pg_dump");
    cmd.arg("--format=custom")
        .arg("--file")
        .arg(out)
        .arg("--dbname")
        .arg(&without);
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    let status = cmd.status().context("cannot run pg_dump")?;
    if !status.success() {
        let _ = std::fs::remove_file(out);
        bail!("pg_dump failed ({status}); nothing was written");
    }
    let size = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    println!(
        "backup written to {} ({size} bytes); restore with: pg_restore --dbname=<a new database> {}",
        out.display(),
        out.display()
    );
    Ok(())
}

fn main() {
    let cli = Cli::parse();
    // only the long-running commands (a server, the benchmark's server) need it
    if matches!(cli.command, None | Some(Command::Serve) | Some(Command::Bench { .. })) {
        tune_malloc();
    }
    init_logs(&cli.config.log_format);
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = rt.block_on(run(cli)) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
