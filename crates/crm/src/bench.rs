//! `crm bench`: seeds a data set (unless it is already there), starts the real server on
//! a loopback port and times real HTTP requests against it, printing the figures.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use crm_core::Role;
use crm_core::accounts::users;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::Config;

pub struct Options {
    pub contacts: u64,
    pub companies: u64,
    pub related: crm_core::seed::Related,
    pub runs: usize,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
}

/// One HTTP/1.1 request over a fresh connection; returns (status, body bytes).
pub async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> anyhow::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(addr).await?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await?;
    let head_end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("malformed response")?;
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no status")?;
    let mut body = buf[head_end + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    let cookie = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie: crm_session="))
        .map(|l| l["set-cookie: ".len()..].split(';').next().unwrap_or("").to_string());
    if let Some(c) = cookie {
        // the session cookie travels back in the body slot for sign-in calls
        if path == "/api/auth/signin" {
            return Ok((status, c.into_bytes()));
        }
    }
    Ok((status, body))
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..pos]).trim(), 16).unwrap_or(0);
        if size == 0 || pos + 2 + size > b.len() {
            break;
        }
        out.extend_from_slice(&b[pos + 2..pos + 2 + size]);
        b = &b[(pos + 4 + size).min(b.len())..];
    }
    out
}

fn stats(mut ms: Vec<f64>) -> (f64, f64, f64) {
    ms.sort_by(|a, b| a.total_cmp(b));
    let median = ms[ms.len() / 2];
    let p95 = ms[((ms.len() as f64 * 0.95).ceil() as usize)
        .saturating_sub(1)
        .min(ms.len() - 1)];
    (median, p95, ms[ms.len() - 1])
}

pub async fn run(o: Options) -> anyhow::Result<()> {
    let config = Config::for_tests(o.data_dir.clone(), o.database_url.clone());
    let db = crate::open_db(&config).await?;
    let have = sea_orm::PaginatorTrait::count(
        <crm_core::unscoped::contact::Entity as sea_orm::EntityTrait>::find(),
        db.unscoped(),
    )
    .await?;
    if have < o.contacts {
        let need = o.contacts - have;
        println!("seeding {need} contacts into {} …", config.database_url());
        let secs = crm_core::seed::bulk(&db, o.companies, need).await?;
        println!(
            "seed bulk: {need} contacts + {} companies in {secs:.1} s ({:.0} contacts/s)",
            o.companies,
            need as f64 / secs
        );
    } else {
        println!("using the existing {have} contacts in {}", config.database_url());
    }
    {
        use crm_core::unscoped::{activity, deal, task};
        use sea_orm::{EntityTrait, PaginatorTrait};
        let have = crm_core::seed::Related {
            activities: activity::Entity::find().count(db.unscoped()).await?,
            tasks: task::Entity::find().count(db.unscoped()).await?,
            deals: deal::Entity::find().count(db.unscoped()).await?,
        };
        let need = crm_core::seed::Related {
            activities: o.related.activities.saturating_sub(have.activities),
            tasks: o.related.tasks.saturating_sub(have.tasks),
            deals: o.related.deals.saturating_sub(have.deals),
        };
        if need.activities + need.tasks + need.deals > 0 {
            let secs = crm_core::seed::bulk_related(&db, need).await?;
            println!("seed related: {need:?} in {secs:.1} s");
        }
    }
    let email = "bench-admin@example.com";
    let password = "bench password 12345";
    if users::find_by_email(&db, email).await?.is_none() {
        users::create(
            &db,
            users::NewUser {
                email: email.into(),
                name: "Bench Admin".into(),
                role: Role::Admin,
                password: password.into(),
                verified: true,
                is_demo: true,
            },
        )
        .await?;
    }
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let running = crate::start(&config, async move {
        let _ = rx.await;
    })
    .await?;
    let addr = running.addr;
    // the server's own handle: `served.changed()` ends its kept answers
    let served = running.db.clone();
    let (st, cookie) = http(
        addr,
        "POST",
        "/api/auth/signin",
        &[("Content-Type", "application/json")],
        &format!(r#"{{"email":"{email}","password":"{password}"}}"#),
    )
    .await?;
    if st != 200 {
        bail!("bench sign-in failed with {st}");
    }
    let cookie = String::from_utf8(cookie)?;
    let admin = users::find_by_email(&db, email).await?.context("the bench admin")?;
    let token = crm_core::accounts::api_tokens::create(
        &db,
        &users::actor_of(&admin),
        crm_core::input::Input::form(&[("name".into(), "bench".into())], crm_core::input::Mode::Create),
    )
    .await?
    .token
    .context("a new token shows its secret")?;
    let bearer = format!("Bearer {token}");
    issue19(addr, &bearer, o.runs, &served).await?;
    let cases = [
        (
            "API search+status page 1",
            "/api/contacts?search=smith&status=lead&page=1&limit=50",
        ),
        (
            "API search full name",
            "/api/contacts?search=mary%20garcia&page=1&limit=50",
        ),
        ("API list newest", "/api/contacts?page=1&limit=50"),
        (
            "API list deep page",
            "/api/contacts?page=200&limit=50&sort=name&order=asc",
        ),
        ("contacts page", "/contacts"),
        ("contacts page search", "/contacts?search=smith&status=lead"),
        ("companies page", "/companies"),
        ("deals board page", "/deals"),
        ("deals list page", "/deals?view=list"),
        ("API deals board", "/api/deals/board"),
        ("tasks page", "/tasks"),
        ("API tasks overdue", "/api/tasks?status=overdue"),
        ("activities page", "/activities"),
        ("API activities by type", "/api/activities?type=call"),
        ("API global search", "/api/search?q=smith&limit=5"),
        ("API dashboard (all tabs)", "/api/dashboard"),
        ("dashboard page contacts", "/?tab=contacts"),
        ("dashboard page companies", "/?tab=companies"),
        ("dashboard page deals", "/?tab=deals"),
        ("dashboard page tasks", "/?tab=tasks"),
        ("dashboard page activities", "/?tab=activities"),
        ("report sales (quarter)", "/reports?tab=sales&preset=quarter"),
        ("report pipeline (quarter)", "/reports?tab=pipeline&preset=quarter"),
        ("report activity (quarter)", "/reports?tab=activity&preset=quarter"),
        ("report tasks (quarter)", "/reports?tab=tasks&preset=quarter"),
        ("report funnel (quarter)", "/reports?tab=funnel&preset=quarter"),
        ("report performers (qtr)", "/reports?tab=performers&preset=quarter"),
        ("API reports all tabs (month)", "/api/reports?preset=month"),
        ("My day page", "/"),
    ];
    // record pages with their timelines: a contact with activities, its company, a deal
    use crm_core::unscoped::{activity, contact, deal};
    use sea_orm::EntityTrait;
    let sample_contact = activity::Entity::find().one(db.unscoped()).await?.map(|a| a.contact_id);
    let sample_company = match sample_contact {
        Some(c) => contact::Entity::find_by_id(c)
            .one(db.unscoped())
            .await?
            .and_then(|c| c.company_id),
        None => None,
    };
    let sample_deal = deal::Entity::find().one(db.unscoped()).await?.map(|d| d.id);
    let mut cases: Vec<(&str, String)> = cases.iter().map(|(n, p)| (*n, p.to_string())).collect();
    if let Some(id) = sample_contact {
        cases.push(("contact page (timeline)", format!("/contacts/{id}")));
    }
    if let Some(id) = sample_company {
        cases.push(("company page (timeline)", format!("/companies/{id}")));
    }
    if let Some(id) = sample_deal {
        cases.push(("deal page (timeline)", format!("/deals/{id}")));
    }
    println!(
        "{:<30} {:>9} {:>9} {:>9} {:>10}",
        "case", "median ms", "p95 ms", "max ms", "bytes"
    );
    for (name, path) in cases {
        let mut times = Vec::with_capacity(o.runs);
        let mut bytes = 0;
        for _ in 0..o.runs {
            // each request does the work: no answer kept from the one before (`changes`)
            served.changed();
            let t = Instant::now();
            let (st, body) = http(addr, "GET", &path, &[("Cookie", &cookie)], "").await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            if st != 200 {
                bail!("{path} answered {st}");
            }
            bytes = body.len();
        }
        let (median, p95, max) = stats(times);
        println!("{name:<28} {median:>9.2} {p95:>9.2} {max:>9.2} {bytes:>10}");
    }
    // The full CSV export, read and discarded as it streams: time, size, and the server's
    // resident memory before and after (this process is the server).
    let rss_before = rss_kib();
    let t = Instant::now();
    let (st, bytes) = http_discard(addr, "/api/contacts/export", &cookie).await?;
    if st != 200 {
        bail!("export answered {st}");
    }
    println!(
        "{:<30} {:>9.0} ms for {} bytes; server RSS {} KiB before, {} KiB after",
        "CSV export, all contacts",
        t.elapsed().as_secs_f64() * 1000.0,
        bytes,
        rss_before,
        rss_kib()
    );
    let _ = tx.send(());
    running.task.await??;
    Ok(())
}

/// The table of issue 19 (a million rows on either database): single requests with an API
/// token, then throughput under concurrent keep-alive connections, then the memory.
async fn issue19(addr: std::net::SocketAddr, bearer: &str, runs: usize, db: &crm_core::Db) -> anyhow::Result<()> {
    let auth = [("Authorization", bearer)];
    let one = |path: &'static str| async move {
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            // each request does the work: no answer kept from the one before (`changes`)
            db.changed();
            let t = Instant::now();
            let (st, _) = http(addr, "GET", path, &auth, "").await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            if st != 200 {
                bail!("{path} answered {st}");
            }
        }
        anyhow::Ok(stats(times))
    };
    // reports over the last `days` days, ending today (`tab` one tab, or all of them)
    let last = |days: i64, tab: &str| -> &'static str {
        let day = |d: i64| (chrono::Utc::now() - chrono::Duration::days(d)).format("%Y-%m-%d");
        let path = format!("/api/reports?{tab}preset=custom&from={}&to={}", day(days), day(0));
        Box::leak(path.into_boxed_str())
    };
    let activity_year = last(365, "tab=activity&");
    // the default range is this month, which on its first days holds little: the last 30
    // days too, whatever the date
    let last_30 = last(30, "");
    println!(
        "{:<52} {:>9} {:>9} {:>9}",
        "issue 19 (bearer token, sequential)", "p50 ms", "p95 ms", "max ms"
    );
    for path in [
        "/api/contacts?search=son&status=lead&page=1&limit=50",
        "/api/contacts?page=10000&limit=50",
        "/api/search?q=son",
        "/api/dashboard",
        "/api/reports",
        last_30,
        activity_year,
    ] {
        let (p50, p95, max) = one(path).await?;
        println!("{path:<52} {p50:>9.2} {p95:>9.2} {max:>9.2}");
    }
    // deep pages by cursor: the cursor after row 500,000 (a page-10,000 answer gives it;
    // a small data set: after page 1), then that page by cursor
    for list in ["/api/contacts", "/api/activities"] {
        let mut found = None;
        for page in [10_000, 1] {
            let (_, body) = http(addr, "GET", &format!("{list}?page={page}&limit=50"), &auth, "").await?;
            let v: serde_json::Value = serde_json::from_slice(&body)?;
            if let Some(c) = v["pagination"]["nextCursor"].as_str() {
                found = Some((page * 50, c.to_string()));
                break;
            }
        }
        if let Some((row, cursor)) = found {
            let path: &'static str = Box::leak(format!("{list}?cursor={cursor}&limit=50").into_boxed_str());
            let (p50, p95, max) = one(path).await?;
            let label = format!("{list}?cursor=<after row {row}>&limit=50");
            println!("{label:<52} {p50:>9.2} {p95:>9.2} {max:>9.2}");
        }
    }
    let (_, body) = http(addr, "GET", "/api/contacts?limit=1", &auth, "").await?;
    let v: serde_json::Value = serde_json::from_slice(&body)?;
    let id = v["data"][0]["id"].as_str().unwrap_or_default().to_string();
    // five seconds of load each (one in the smoke run); then the same reads where no answer
    // is kept (`http::answers`): each request ends the kept ones first, as a write would
    let secs = std::time::Duration::from_secs(if runs >= 10 { 5 } else { 1 });
    let by_id = format!("/api/contacts/{id}");
    for (path, conns, fresh) in [
        (by_id.as_str(), 64, None),
        ("/api/contacts?search=smith&limit=50", 16, None),
        ("/healthz", 64, None),
        (by_id.as_str(), 64, Some(db)),
        ("/api/contacts?search=smith&limit=50", 16, Some(db)),
    ] {
        let (rps, p50, errors) = load(addr, path, bearer, conns, secs, fresh).await?;
        let path = if fresh.is_some() {
            format!("{path} (none kept)")
        } else {
            path.to_string()
        };
        println!("{path:<52} {conns:>3} connections: {rps:>8.0} req/s, p50 {p50:.2} ms, {errors} errors");
    }
    println!("server resident memory after these loads: {} KiB", rss_kib());
    Ok(())
}

/// `conns` keep-alive connections sending GET `path` back to back for `for_` (with
/// `fresh`, each request first ends the server's kept answers): (requests per second,
/// median latency ms, non-200 answers).
async fn load(
    addr: std::net::SocketAddr,
    path: &str,
    bearer: &str,
    conns: usize,
    for_: std::time::Duration,
    fresh: Option<&crm_core::Db>,
) -> anyhow::Result<(f64, f64, u64)> {
    let deadline = Instant::now() + for_;
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {bearer}\r\n\r\n");
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (req, fresh) = (req.clone(), fresh.cloned());
        tasks.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await?;
            let mut times = Vec::new();
            let mut errors = 0u64;
            let mut buf = Vec::with_capacity(64 * 1024);
            while Instant::now() < deadline {
                if let Some(db) = &fresh {
                    db.changed();
                }
                let t = Instant::now();
                s.write_all(req.as_bytes()).await?;
                let status = read_response(&mut s, &mut buf).await?;
                times.push(t.elapsed().as_secs_f64() * 1000.0);
                if status != 200 {
                    errors += 1;
                }
            }
            anyhow::Ok((times, errors))
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (times, e) = t.await??;
        all.extend(times);
        errors += e;
    }
    let secs = started.elapsed().as_secs_f64().max(for_.as_secs_f64());
    let n = all.len();
    let (p50, _, _) = if all.is_empty() { (0.0, 0.0, 0.0) } else { stats(all) };
    Ok((n as f64 / secs, p50, errors))
}

/// Read one HTTP/1.1 response with a `Content-Length` off a keep-alive connection.
async fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> anyhow::Result<u16> {
    buf.clear();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            bail!("connection closed");
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .context("a keep-alive answer without Content-Length")?;
    while buf.len() < head_end + 4 + len {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            bail!("connection closed mid-body");
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(status)
}

/// Resident memory of this process (Linux), KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// GET that counts the body's bytes without keeping them.
async fn http_discard(addr: std::net::SocketAddr, path: &str, cookie: &str) -> anyhow::Result<(u16, u64)> {
    let mut s = TcpStream::connect(addr).await?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nCookie: {cookie}\r\n\r\n");
    s.write_all(req.as_bytes()).await?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut head = Vec::new();
    let mut total = 0u64;
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        if head.len() < 64 {
            head.extend_from_slice(&buf[..n.min(64)]);
        }
        total += n as u64;
    }
    let status = String::from_utf8_lossy(&head)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, total))
}

/// A contacts file in Outlook's (`outlook`) or Google Contacts' (`google`) column layout:
/// every 50th row repeats an earlier e-mail, every 100th has a malformed one, companies come
/// from a pool of 500 names.
pub fn import_file(rows: u64, layout: &str) -> String {
    let google = layout == "google";
    let mut out = String::with_capacity(rows as usize * 130);
    out.push_str(if google {
        "Name,Given Name,Family Name,E-mail 1 - Type,E-mail 1 - Value,Phone 1 - Type,Phone 1 - Value,Organization 1 - Name,Organization 1 - Title\r\n"
    } else {
        "First Name,Last Name,E-mail Address,Business Phone,Company,Job Title\r\n"
    });
    for i in 0..rows {
        let email = if i % 100 == 99 {
            format!("broken{i}.example.com")
        } else if i % 50 == 49 && i > 0 {
            format!("person{}@example.com", i - 1)
        } else {
            format!("person{i}@example.com")
        };
        let phone = if i % 50 == 49 {
            String::new()
        } else {
            format!("+1 555 {:07}", i)
        };
        let (last, company) = (format!("Last, {}", i % 977), format!("Company {} Ltd", i % 500));
        out.push_str(&if google {
            format!("\"First{i} {last}\",First{i},\"{last}\",* Work,{email},Mobile,{phone},{company},Engineer\r\n")
        } else {
            format!("First{i},\"{last}\",{email},{phone},{company},Engineer\r\n")
        });
    }
    out
}

/// `crm bench import`: generate a contacts file of `rows` rows, import it into a fresh SQLite
/// database through the real job (parse, validate, duplicates, batched transactions), print
/// the time.
pub async fn import(rows: u64, layout: &str, bench_dir: &std::path::Path) -> anyhow::Result<()> {
    use crm_core::import::{self, Encoding, Kind, OnDuplicate, Request};
    let dir = bench_dir.join("import");
    let _ = std::fs::remove_dir_all(&dir);
    let config = Config::for_tests(dir.clone(), None);
    let db = crate::open_db(&config).await?;
    let admin = users::create(
        &db,
        users::NewUser {
            email: "bench-import@example.com".into(),
            name: "Bench Import".into(),
            role: Role::Admin,
            password: "bench password 12345".into(),
            verified: true,
            is_demo: false,
        },
    )
    .await?;
    let actor = users::actor_of(&admin);
    let file = import_file(rows, layout);
    println!(
        "bench import: {rows} rows in {layout}'s layout, {:.1} MB, SQLite at {}",
        file.len() as f64 / 1e6,
        config.database_url()
    );
    let started = Instant::now();
    let req = Request {
        kind: Kind::Contacts,
        file_name: "bench.csv".into(),
        encoding: Encoding::Auto,
        on_duplicate: OnDuplicate::Skip,
        overrides: vec![],
        owner: crm_core::input::Field::Absent,
    };
    let p = import::prepare(&db, &actor, req, file.as_bytes(), u64::MAX).await?;
    let parsed = started.elapsed().as_secs_f64();
    let (_, claim) = import::job::create(&db, &actor, &p, file.as_bytes()).await?;
    let status = import::job::run(&db, &actor, claim, &p, &mut |c| {
        crm_core::seed::progress("import", c.processed as u64, rows, started);
    })
    .await?;
    eprintln!();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "bench import: {} {} rows in {secs:.2} s ({:.0} rows/s; parsing and mapping {parsed:.2} s): {} created, {} updated, {} skipped, {} failed, {} companies created",
        status.status,
        status.total,
        rows as f64 / secs,
        status.created,
        status.updated,
        status.skipped,
        status.failed,
        status.companies_created
    );
    let errors = import::errors_csv(&db, &actor, claim.job).await?;
    println!("errors.csv ({} rejected rows), first lines:", status.failed);
    for line in errors.lines().take(4) {
        println!("  {line}");
    }
    db.unscoped().clone().close().await.ok();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
