//! Scale-out and failures, as DEPLOYMENT.md runs the app: two instances of the real binary
//! behind HAProxy, on a PostgreSQL primary with a streaming replica (made by
//! `pg_basebackup`) and a shared Redis — mixed load with an instance SIGKILLed and started
//! again, sessions, limits, mail and an import across instances, PostgreSQL restarted under
//! load — and the SIGKILL durability rounds on SQLite and PostgreSQL.
//!
//! The cluster test needs PostgreSQL's server programs (`initdb`, `pg_ctl`, `pg_basebackup`,
//! Debian's postgresql package), `haproxy` and a Redis at `TEST_REDIS_URL`; as root it runs
//! PostgreSQL as the `postgres` user. It is ignored in a plain `cargo test` and run by
//! `.ci/run`. `CRM_TEST_BIN` may name another build of `crm` (e.g. the release build, for
//! figures); the default is the debug build the tests were built with.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use uuid::Uuid;

const PASSWORD: &str = "a long enough password";
/// base64 of 32 bytes: every instance must seal secrets with the same key.
const SECRET_KEY: &str = "D3dBfsnqod2G82/cbcmL3T6TyNVSFW+w73crsaRbzr4=";

fn bin() -> String {
    std::env::var("CRM_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_crm").to_string())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("crm-{name}-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A PostgreSQL server program: Debian keeps them under /usr/lib/postgresql/<version>/bin.
fn pg_program(name: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs.into_iter()
        .rev()
        .map(|d| d.join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}

/// Run a PostgreSQL program as the `postgres` user when we are root (it refuses root).
fn pg_command(name: &str) -> Command {
    let program = pg_program(name);
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(mut c: Command, what: &str) {
    let out = c
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run it ({e}); see this module's documentation"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A PostgreSQL server of this test's own, in a temporary directory on a free port.
struct Pg {
    dir: PathBuf,
    port: u16,
}

impl Pg {
    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn new_dir() -> (PathBuf, u16) {
        let dir = tmp("pg");
        if is_root() {
            run(
                {
                    let mut c = Command::new("chown");
                    c.args(["postgres:postgres"]).arg(&dir);
                    c
                },
                "chown",
            );
        }
        (dir, free_port())
    }

    /// Settings of this server, appended to its configuration.
    fn configure(&self) {
        let conf = format!(
            "\nport = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nwal_level = replica\nmax_wal_senders = 5\nmax_connections = 200\nhot_standby = on\n",
            self.port,
            self.dir.display()
        );
        let path = self.data().join("postgresql.conf");
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&conf);
        std::fs::write(&path, text).unwrap();
    }

    /// A new primary, started.
    fn primary() -> Pg {
        let (dir, port) = Self::new_dir();
        let pg = Pg { dir, port };
        let mut c = pg_command("initdb");
        c.args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(pg.data());
        run(c, "initdb");
        pg.configure();
        pg.ctl(&["start"]);
        pg
    }

    /// A streaming replica of `primary` (pg_basebackup over loopback), started.
    fn replica_of(primary: &Pg) -> Pg {
        let (dir, port) = Self::new_dir();
        let pg = Pg { dir, port };
        let mut c = pg_command("pg_basebackup");
        c.args([
            "-h",
            "127.0.0.1",
            "-p",
            &primary.port.to_string(),
            "-U",
            "postgres",
            "-R",
            "-X",
            "stream",
            "-D",
        ])
        .arg(pg.data());
        run(c, "pg_basebackup");
        pg.configure();
        pg.ctl(&["start"]);
        pg
    }

    fn ctl(&self, args: &[&str]) {
        let mut c = pg_command("pg_ctl");
        c.arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .arg("-w")
            .args(args);
        run(c, &format!("pg_ctl {args:?}"));
    }

    /// Run one SQL statement on this server.
    fn psql(&self, sql: &str) {
        let mut c = Command::new("psql");
        c.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
            "-qc",
            sql,
        ]);
        run(c, sql);
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let mut c = pg_command("pg_ctl");
        c.arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let _ = c.status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One `crm serve` process.
struct Instance {
    name: &'static str,
    port: u16,
    env: Vec<(String, String)>,
    log: PathBuf,
    child: Option<Child>,
}

impl Instance {
    fn new(name: &'static str, env: Vec<(String, String)>, log_dir: &Path) -> Instance {
        Instance {
            name,
            port: free_port(),
            env,
            log: log_dir.join(format!("{name}.log")),
            child: None,
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(bin())
            .args(["--listen", &format!("127.0.0.1:{}", self.port), "serve"])
            .env_remove("DATABASE_URL")
            .env_remove("DATABASE_READ_URL")
            .env_remove("REDIS_URL")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("RUST_LOG", "warn,crm_core::import=info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start crm serve");
        self.child = Some(child);
    }

    /// SIGKILL: no graceful anything.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    async fn ready(&self) {
        let http = reqwest::Client::new();
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(60) {
            if let Ok(r) = http.get(format!("{}/readyz", self.base())).send().await
                && r.status() == StatusCode::OK
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "instance {} not ready in 60 s; its log:\n{}",
            self.name,
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// HAProxy in front of the instances: round robin, health checks on /readyz, a request
/// whose connection fails is sent to the other instance.
struct Balancer {
    port: u16,
    child: Child,
}

impl Balancer {
    fn start(dir: &Path, backends: &[u16]) -> Balancer {
        let port = free_port();
        let servers: String = backends
            .iter()
            .enumerate()
            .map(|(i, p)| format!("  server app{i} 127.0.0.1:{p} check\n"))
            .collect();
        let cfg = format!(
            "global\n  maxconn 4096\n\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n  retries 2\n  option redispatch\n  retry-on conn-failure\n\nfrontend web\n  bind 127.0.0.1:{port}\n  option forwardfor\n  default_backend app\n\nbackend app\n  balance roundrobin\n  option httpchk GET /readyz\n  http-check expect status 200\n  default-server inter 500ms fall 2 rise 1\n{servers}"
        );
        let path = dir.join("haproxy.cfg");
        std::fs::write(&path, cfg).unwrap();
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(dir.join("haproxy.log")).unwrap()))
            .spawn()
            .expect("haproxy (Debian package haproxy) must be installed for the cluster test");
        Balancer { port, child }
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `crm user create … --password-stdin` against `env`'s database.
fn create_user(env: &[(String, String)], email: &str, role: &str) {
    let mut child = Command::new(bin())
        .args([
            "user",
            "create",
            "--email",
            email,
            "--name",
            email,
            "--role",
            role,
            "--password-stdin",
        ])
        .env_remove("DATABASE_URL")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "user create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A client with a cookie jar (cookies of 127.0.0.1 go to every port: one session, any instance).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .gzip(true)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// The JSON answer of a request.
async fn json_of(rb: reqwest::RequestBuilder) -> Value {
    rb.send().await.unwrap().json().await.unwrap_or(Value::Null)
}

/// Sign `c` in at `base`; returns the session's CSRF token.
async fn sign_in(c: &reqwest::Client, base: &str, email: &str) -> String {
    let r = c
        .post(format!("{base}/api/auth/signin"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "sign in {email}");
    let s = json_of(c.get(format!("{base}/api/auth/session"))).await;
    s["data"]["csrfToken"].as_str().unwrap().to_string()
}

/// Sign in at `base` and make an API token; returns it.
async fn token_for(base: &str, email: &str) -> String {
    let c = browser();
    let csrf = sign_in(&c, base, email).await;
    let v = json_of(
        c.post(format!("{base}/api/auth/tokens"))
            .header("X-CSRF-Token", csrf)
            .json(&json!({"name": "load"})),
    )
    .await;
    v["data"]["token"].as_str().expect("a token").to_string()
}

/// What a load run saw.
#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    retried: AtomicU64,
    failed: AtomicU64,
    latencies_us: Mutex<Vec<u64>>,
    acked: Mutex<Vec<Uuid>>,
    /// (when, what) of failures after the retry.
    failures: Mutex<Vec<(Duration, String)>>,
}

impl Tally {
    async fn percentile(&self, p: f64) -> f64 {
        let mut v = self.latencies_us.lock().await.clone();
        v.sort_unstable();
        if v.is_empty() {
            return 0.0;
        }
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v[i] as f64 / 1000.0
    }
}

/// One request with at most one retry (after a connection error or a 5xx): the answer
/// (status, body) of the last attempt (None when it got no answer), and whether it retried.
async fn once_more(
    http: &reqwest::Client,
    make: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    t: &Tally,
) -> (Option<(StatusCode, Value)>, bool) {
    let mut last = None;
    for attempt in 0..2 {
        if attempt == 1 {
            t.retried.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        match make(http).send().await {
            Ok(r) => {
                let st = r.status();
                let body = r.json::<Value>().await.unwrap_or(Value::Null);
                last = Some((st, body));
                if !st.is_server_error() {
                    return (last, attempt == 1);
                }
            }
            Err(_) => last = None,
        }
    }
    (last, true)
}

/// `clients` tasks of mixed reads and writes through `base` until `stop`: a fifth create
/// contacts (each acknowledged id kept), the rest read lists, records, search, dashboard
/// and reports. Every request may be retried once.
async fn load(
    base: String,
    tokens: Vec<String>,
    clients: usize,
    stop: Arc<AtomicBool>,
    t: Arc<Tally>,
    started: Instant,
    tag: String,
) {
    let mut tasks = vec![];
    for i in 0..clients {
        let (base, token, stop, t, tag) = (
            base.clone(),
            tokens[i % tokens.len()].clone(),
            stop.clone(),
            t.clone(),
            tag.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .gzip(true)
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap();
            let auth = format!("Bearer {token}");
            let mut mine: Vec<Uuid> = vec![];
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let op = (i as u64 * 7 + n) % 10;
                let begun = Instant::now();
                let (path, body): (String, Option<Value>) = match op {
                    0 | 5 => (
                        "/api/contacts".into(),
                        Some(json!({
                            "firstName": "Load",
                            "lastName": format!("{tag}-{i}-{n}"),
                            "email": format!("{tag}-{i}-{n}@load.test"),
                            "status": "lead",
                        })),
                    ),
                    1 => ("/api/contacts?limit=20".into(), None),
                    2 => match mine.last() {
                        Some(id) => (format!("/api/contacts/{id}"), None),
                        None => ("/api/deals?limit=20".into(), None),
                    },
                    3 => (format!("/api/search?q={tag}-{i}"), None),
                    4 => ("/api/dashboard?tab=contacts".into(), None),
                    6 => ("/api/tasks?limit=20".into(), None),
                    7 => ("/api/contacts?search=load&limit=20".into(), None),
                    8 => ("/api/reports?tab=activity".into(), None),
                    _ => ("/api/activities?limit=20".into(), None),
                };
                let url = format!("{base}{path}");
                let (mut answer, retried) = once_more(
                    &http,
                    |h| match &body {
                        Some(b) => h.post(&url).header("Authorization", &auth).json(b),
                        None => h.get(&url).header("Authorization", &auth),
                    },
                    &t,
                )
                .await;
                t.requests.fetch_add(1, Ordering::Relaxed);
                // a write whose first answer was lost (its instance died around the commit)
                // and whose retry is refused as a duplicate: the client looks it up by its
                // e-mail, as a real client does
                let duplicate = |v: &Value| v["error"].as_str().is_some_and(|e| e.contains("already exists"));
                if retried
                    && let (Some(b), Some((StatusCode::CONFLICT | StatusCode::BAD_REQUEST, v))) = (&body, &answer)
                    && duplicate(v)
                {
                    let email = b["email"].as_str().unwrap();
                    let (found, _) = once_more(
                        &http,
                        |h| {
                            h.get(format!("{base}/api/contacts?search={email}"))
                                .header("Authorization", &auth)
                        },
                        &t,
                    )
                    .await;
                    if let Some((StatusCode::OK, v)) = found
                        && v["pagination"]["total"] == 1
                    {
                        answer = Some((StatusCode::CREATED, json!({"data": v["data"][0]})));
                    }
                }
                match answer {
                    Some((st, v)) if st.is_success() => {
                        t.latencies_us.lock().await.push(begun.elapsed().as_micros() as u64);
                        if body.is_some() {
                            let id: Uuid = v["data"]["id"].as_str().unwrap().parse().unwrap();
                            mine.push(id);
                            t.acked.lock().await.push(id);
                        }
                    }
                    other => {
                        t.failed.fetch_add(1, Ordering::Relaxed);
                        let what = match other {
                            Some((st, v)) => format!("{path}: {st} {v}"),
                            None => format!("{path}: no answer"),
                        };
                        t.failures.lock().await.push((started.elapsed(), what));
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

/// A [`load`] running in the background.
struct Load {
    t: Arc<Tally>,
    stop: Arc<AtomicBool>,
    started: Instant,
    task: tokio::task::JoinHandle<()>,
}

impl Load {
    fn start(base: &str, tokens: &[String], clients: usize, tag: &str) -> Load {
        let (t, stop, started) = (
            Arc::new(Tally::default()),
            Arc::new(AtomicBool::new(false)),
            Instant::now(),
        );
        let task = tokio::spawn(load(
            base.to_string(),
            tokens.to_vec(),
            clients,
            stop.clone(),
            t.clone(),
            started,
            tag.to_string(),
        ));
        Load { t, stop, started, task }
    }

    /// Stop the clients and wait for their last requests.
    async fn finish(self) -> Arc<Tally> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap();
        self.t
    }
}

/// Every acknowledged id is in the primary's contacts.
async fn missing(url: &str, acked: &[Uuid]) -> usize {
    let db = Database::connect(url).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM contacts".to_string(),
        ))
        .await
        .unwrap();
    let have: HashSet<Uuid> = rows.iter().map(|r| r.try_get::<Uuid>("", "id").unwrap()).collect();
    db.close().await.ok();
    acked.iter().filter(|id| !have.contains(id)).count()
}

async fn wait_for(what: &str, limit: Duration, mut f: impl AsyncFnMut() -> bool) -> Duration {
    let t = Instant::now();
    while t.elapsed() < limit {
        if f().await {
            return t.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not within {limit:?}");
}

fn outbox_count(dir: &Path, to: &str, subject: &str) -> usize {
    let Ok(d) = std::fs::read_dir(dir.join("outbox")) else {
        return 0;
    };
    d.filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter(|m| m.contains(&format!("To: {to}")) && m.contains(subject))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "cluster: needs PostgreSQL's server programs, haproxy and TEST_REDIS_URL (run by .ci/run)"]
async fn two_instances_behind_a_balancer_survive_kills_and_a_database_restart() {
    let redis = std::env::var("TEST_REDIS_URL").expect("TEST_REDIS_URL, e.g. redis://127.0.0.1:6379");
    let primary = Pg::primary();
    let replica = Pg::replica_of(&primary);
    primary.psql("CREATE DATABASE crm");
    let shared = tmp("cluster"); // the instances' shared data directory (outbox, uploads)
    let env: Vec<(String, String)> = [
        ("DATABASE_URL", primary.url("crm")),
        ("DATABASE_READ_URL", replica.url("crm")),
        ("REDIS_URL", redis),
        ("CRM_REDIS_PREFIX", format!("crm-cluster-{}", Uuid::new_v4().simple())),
        ("CRM_DATA_DIR", shared.display().to_string()),
        ("CRM_SECRET_KEY", SECRET_KEY.to_string()),
        ("CRM_TRUSTED_PROXIES", "127.0.0.1/32".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (email, role) in [
        ("ops@example.com", "admin"),
        ("ana@example.com", "rep"),
        ("ben@example.com", "rep"),
        ("cy@example.com", "manager"),
        ("dee@example.com", "rep"),
    ] {
        create_user(&env, email, role);
    }
    let mut a = Instance::new("a", env.clone(), &shared);
    let mut b = Instance::new("b", env.clone(), &shared);
    a.start();
    b.start();
    a.ready().await;
    b.ready().await;
    let lb = Balancer::start(&shared, &[a.port, b.port]);
    let front = format!("http://127.0.0.1:{}", lb.port);
    wait_for(
        "the balancer",
        Duration::from_secs(20),
        async || matches!(reqwest::get(format!("{front}/readyz")).await, Ok(r) if r.status() == StatusCode::OK),
    )
    .await;
    let mut tokens = vec![];
    for email in [
        "ops@example.com",
        "ana@example.com",
        "ben@example.com",
        "cy@example.com",
    ] {
        tokens.push(token_for(&front, email).await);
    }

    // 1. 200 clients for 60 s through the balancer; instance a is SIGKILLed at 20 s and
    //    started again at 25 s
    let mix = Load::start(&front, &tokens, 200, "mix");
    let started = mix.started;
    tokio::time::sleep(Duration::from_secs(20)).await;
    a.kill();
    let killed_at = started.elapsed();
    tokio::time::sleep(Duration::from_secs(5)).await;
    a.start();
    a.ready().await;
    let back_at = started.elapsed();
    tokio::time::sleep(Duration::from_secs(60).saturating_sub(started.elapsed())).await;
    let t = mix.finish().await;
    let elapsed = started.elapsed().as_secs_f64();
    let acked = t.acked.lock().await.clone();
    let lost = missing(&primary.url("crm"), &acked).await;
    let (requests, retried, failed) = (
        t.requests.load(Ordering::Relaxed),
        t.retried.load(Ordering::Relaxed),
        t.failed.load(Ordering::Relaxed),
    );
    println!(
        "cluster load: {requests} requests in {elapsed:.0} s ({:.0} req/s) by 200 clients; instance a SIGKILLed at {:.1} s, serving again at {:.1} s; {retried} retried once, {failed} failed after the retry; {} writes acknowledged, {lost} missing; p50 {:.1} ms, p99 {:.1} ms through the balancer",
        requests as f64 / elapsed,
        killed_at.as_secs_f64(),
        back_at.as_secs_f64(),
        acked.len(),
        t.percentile(0.5).await,
        t.percentile(0.99).await,
    );
    assert_eq!(
        failed,
        0,
        "every request succeeds after at most one retry: {:?}",
        t.failures.lock().await
    );
    assert_eq!(lost, 0, "every acknowledged write is there");
    assert!(acked.len() > 1000, "the load wrote: {}", acked.len());

    // 2. a session made on one instance works on the other (cookie and CSRF token)
    let c = browser();
    let csrf = sign_in(&c, &a.base(), "dee@example.com").await;
    let me = json_of(c.get(format!("{}/api/auth/session", b.base()))).await;
    assert_eq!(
        me["data"]["user"]["email"], "dee@example.com",
        "the session of a, read on b: {me}"
    );
    let r = c
        .post(format!("{}/api/tasks", b.base()))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"title": "Made on b with a's session", "priority": "low", "dueDate": "2030-01-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "a write on b with a's CSRF token");

    // 3. failed sign-ins spread over both instances hit one account limit (5 per 15 min)
    let anon = reqwest::Client::new();
    for i in 0..5 {
        let base = if i % 2 == 0 { a.base() } else { b.base() };
        let r = anon
            .post(format!("{base}/api/auth/signin"))
            .json(&json!({"email": "ben@example.com", "password": "wrong password here"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "failure {i}");
    }
    for base in [a.base(), b.base()] {
        let r = anon
            .post(format!("{base}/api/auth/signin"))
            .json(&json!({"email": "ben@example.com", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "the account waits, on either instance"
        );
    }

    // 4. a password-reset mail is sent once, whichever instance's mail worker finds it
    let r = anon
        .post(format!("{front}/api/auth/forgot-password"))
        .json(&json!({"email": "cy@example.com"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    wait_for("the reset mail", Duration::from_secs(20), async || {
        outbox_count(&shared, "cy@example.com", "Subject: Reset your password") > 0
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await; // both workers have polled again
    assert_eq!(
        outbox_count(&shared, "cy@example.com", "Subject: Reset your password"),
        1,
        "sent once"
    );

    // 5. the read replica serves the heavy reads; a writer reads their own write at once
    let http = reqwest::Client::new();
    let auth = format!("Bearer {}", tokens[1]);
    for i in 0..10 {
        let name = format!("Fresh{i}x{}", Uuid::new_v4().simple());
        let r = http
            .post(format!("{front}/api/contacts"))
            .header("Authorization", &auth)
            .json(&json!({"firstName": name, "lastName": "Writer", "email": format!("{name}@fresh.test")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let v = json_of(
            http.get(format!("{front}/api/search?q={name}"))
                .header("Authorization", &auth),
        )
        .await;
        assert_eq!(v["data"]["contacts"]["total"], 1, "read-your-writes: {v}");
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut replica_reads = 0u64;
    for inst in [&a, &b] {
        let _ = http
            .get(format!("{}/api/dashboard", inst.base()))
            .header("Authorization", format!("Bearer {}", tokens[3]))
            .send()
            .await
            .unwrap();
        let m = http
            .get(format!("{}/metrics", inst.base()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        replica_reads += m
            .lines()
            .find(|l| l.starts_with("crm_db_replica_reads_total{target=\"replica\"}"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
    }
    assert!(
        replica_reads > 0,
        "dashboards, reports and searches were read from the replica"
    );
    println!("replica: {replica_reads} heavy reads went to the replica");
    // the replica down: the same reads are served by the primary, promptly
    replica.ctl(&["-m", "fast", "stop"]);
    for path in [
        "/api/dashboard",
        "/api/reports",
        "/api/search?q=Fresh",
        "/api/contacts/export",
    ] {
        let t = Instant::now();
        let r = http
            .get(format!("{front}{path}"))
            .header("Authorization", format!("Bearer {}", tokens[3]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path} with the replica down");
        assert!(t.elapsed() < Duration::from_secs(5), "{path}: {:?}", t.elapsed());
    }
    replica.ctl(&["start"]);

    // 6. an import whose instance is SIGKILLed mid-file completes on the other one
    let mut file = String::from("First Name,Last Name,Email\n");
    for i in 0..60_000 {
        file.push_str(&format!("Imp,Row{i},row{i}@import.test\n"));
    }
    let (content_type, form) = crate::support::multipart(&[], Some(("big.csv", file.as_bytes())));
    let v = json_of(
        http.post(format!("{}/api/contacts/import", a.base()))
            .header("Authorization", format!("Bearer {}", tokens[2]))
            .header("Content-Type", content_type)
            .body(form),
    )
    .await;
    let job = v["data"]["id"].as_str().expect("an import job").to_string();
    let status = async |base: &str| -> Value {
        let v = json_of(
            http.get(format!("{base}/api/imports/{job}"))
                .header("Authorization", format!("Bearer {}", tokens[2])),
        )
        .await;
        v["data"].clone()
    };
    wait_for("the import's first batches", Duration::from_secs(60), async || {
        status(&b.base()).await["processed"].as_i64().unwrap_or(0) >= 1000
    })
    .await;
    a.kill();
    let at_kill = status(&b.base()).await["processed"].as_i64().unwrap();
    let killed = Instant::now();
    wait_for("the import taken over by b", Duration::from_secs(120), async || {
        status(&b.base()).await["status"] == "done"
    })
    .await;
    let done = status(&b.base()).await;
    println!(
        "import: a SIGKILLed at {at_kill} of 60000 rows; b finished it {:.1} s later: {done}",
        killed.elapsed().as_secs_f64()
    );
    assert!(at_kill < 60_000, "killed mid-file");
    for (k, n) in [
        ("total", 60_000),
        ("processed", 60_000),
        ("created", 60_000),
        ("skipped", 0),
        ("failed", 0),
    ] {
        assert_eq!(done[k], n, "{k}: {done}");
    }
    let db = Database::connect(&primary.url("crm")).await.unwrap();
    let n = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n, COUNT(DISTINCT email) AS d FROM contacts WHERE email LIKE '%@import.test'"
                .to_string(),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n.try_get::<i64>("", "n").unwrap(), 60_000, "each row once");
    assert_eq!(n.try_get::<i64>("", "d").unwrap(), 60_000);
    db.close().await.ok();
    a.start();
    a.ready().await;

    // 7. PostgreSQL stopped and started under load: 503 meanwhile, recovery without a restart
    let during = Load::start(&front, &tokens, 50, "pgr");
    let started2 = during.started;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let down_at = started2.elapsed();
    primary.ctl(&["-m", "fast", "stop"]);
    let r = http.get(format!("{}/readyz", a.base())).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "/readyz while the database is down"
    );
    let r = http
        .get(format!("{}/api/contacts?limit=5", b.base()))
        .header("Authorization", format!("Bearer {}", tokens[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let v: Value = r.json().await.unwrap();
    assert!(v["error"].as_str().unwrap_or("").contains("database"), "{v}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    primary.ctl(&["start"]);
    let up_at = started2.elapsed();
    let recovered = wait_for("the app recovers", Duration::from_secs(30), async || {
        let r = http
            .post(format!("{front}/api/contacts"))
            .header("Authorization", format!("Bearer {}", tokens[0]))
            .json(&json!({"firstName": "After", "lastName": "Restart", "email": format!("{}@after.test", Uuid::new_v4().simple())}))
            .send()
            .await;
        matches!(r, Ok(r) if r.status() == StatusCode::CREATED)
    })
    .await;
    let recovered_at = started2.elapsed();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let t2 = during.finish().await;
    let failures = t2.failures.lock().await.clone();
    let late: Vec<_> = failures
        .iter()
        .filter(|(at, _)| *at > recovered_at + Duration::from_secs(1))
        .collect();
    let acked2 = t2.acked.lock().await.clone();
    let lost2 = missing(&primary.url("crm"), &acked2).await;
    println!(
        "postgres restart: stopped at {:.1} s, started at {:.1} s; the app served writes again {:.2} s after the start ({:.1} s after the stop), without a restart; {} requests, {} failed while it was down, {} after; {} writes acknowledged, {lost2} missing",
        down_at.as_secs_f64(),
        up_at.as_secs_f64(),
        recovered.as_secs_f64(),
        (recovered_at - down_at).as_secs_f64(),
        t2.requests.load(Ordering::Relaxed),
        failures.len() - late.len(),
        late.len(),
        acked2.len(),
    );
    assert!(late.is_empty(), "nothing fails once the database is back: {late:?}");
    assert_eq!(lost2, 0);
    for f in failures.iter().take(3) {
        assert!(f.1.contains("503"), "a clear 503 while the database is down: {f:?}");
    }
    drop(lb);
    drop(a);
    drop(b);
    drop(replica);
    drop(primary);
    let _ = std::fs::remove_dir_all(&shared);
}

/// `rounds` times: start one instance on `env`'s database, let 8 writers create contacts
/// for a moment, SIGKILL it. Then every acknowledged write must be there.
async fn sigkill_rounds(env: Vec<(String, String)>, db_url: &str, rounds: usize) {
    create_user(&env, "ops@example.com", "admin");
    let dir = tmp("rounds");
    let mut inst = Instance::new("durable", env, &dir);
    let t = Arc::new(Tally::default());
    for round in 0..rounds {
        inst.start();
        inst.ready().await;
        let token = token_for(&inst.base(), "ops@example.com").await;
        let stop = Arc::new(AtomicBool::new(false));
        let mut writers = vec![];
        for w in 0..8 {
            let (base, token, stop, t) = (inst.base(), token.clone(), stop.clone(), t.clone());
            writers.push(tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let r = http
                        .post(format!("{base}/api/contacts"))
                        .header("Authorization", format!("Bearer {token}"))
                        .json(&json!({"firstName": "Round", "lastName": format!("r{round}-w{w}-{n}"), "email": format!("r{round}-w{w}-{n}@rounds.test")}))
                        .send()
                        .await;
                    // only an answer of 201 is an acknowledged write; a cut connection is not
                    match r {
                        Ok(r) if r.status() == StatusCode::CREATED => {
                            if let Ok(v) = r.json::<Value>().await {
                                t.acked.lock().await.push(v["data"]["id"].as_str().unwrap().parse().unwrap());
                            }
                        }
                        Ok(r) if r.status().is_client_error() => {
                            panic!("a write refused: {} {}", r.status(), r.text().await.unwrap_or_default())
                        }
                        _ => {}
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(700 + (round as u64 % 5) * 150)).await;
        inst.kill(); // mid-write: the writers are still sending
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.await.unwrap();
        }
    }
    let acked = t.acked.lock().await.clone();
    let lost = missing(db_url, &acked).await;
    println!(
        "{rounds} SIGKILL rounds under 8 writers: {} writes acknowledged, {lost} missing",
        acked.len()
    );
    assert!(acked.len() >= rounds * 10, "writes happened: {}", acked.len());
    assert_eq!(lost, 0, "no acknowledged write is lost");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_rounds_lose_no_acknowledged_write_sqlite() {
    let dir = tmp("rounds-sqlite");
    let url = format!("sqlite://{}/crm.db", dir.display());
    let env = vec![
        ("CRM_DATA_DIR".to_string(), dir.display().to_string()),
        ("CRM_SECRET_KEY".to_string(), SECRET_KEY.to_string()),
    ];
    sigkill_rounds(env, &url, 20).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "PostgreSQL: run with `cargo test -- --ignored` and TEST_DATABASE_URL set"]
async fn sigkill_rounds_lose_no_acknowledged_write_postgres() {
    let (url, name) = crate::support::fresh_database("crm_rounds").await;
    let dir = tmp("rounds-pg");
    let env = vec![
        ("CRM_DATA_DIR".to_string(), dir.display().to_string()),
        ("CRM_SECRET_KEY".to_string(), SECRET_KEY.to_string()),
        ("DATABASE_URL".to_string(), url.clone()),
    ];
    sigkill_rounds(env, &url, 20).await;
    crate::support::drop_database(&name).await;
    let _ = std::fs::remove_dir_all(&dir);
}
