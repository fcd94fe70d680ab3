//! Test harness: a running app per test, users of each role, an HTTP client that keeps
//! its session cookie and sends the CSRF token.

use std::path::PathBuf;

use crm::config::Config;
use crm_core::accounts::users::{self, NewUser};
use crm_core::{Db, Role};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery staple";

fn postgres_server() -> String {
    std::env::var("TEST_DATABASE_URL")
        .expect("TEST_DATABASE_URL must be set for PostgreSQL tests, e.g. postgres://postgres@127.0.0.1:5432/postgres")
}

/// A new empty database named `<prefix>_<random>` on the `TEST_DATABASE_URL` server: its
/// URL and name.
pub async fn fresh_database(prefix: &str) -> (String, String) {
    let server = postgres_server();
    let name = format!("{prefix}_{}", Uuid::new_v4().simple());
    let admin = Database::connect(&server).await.expect("connect to TEST_DATABASE_URL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a test database");
    admin.close().await.ok();
    let (base, _) = server.rsplit_once('/').expect("a database URL");
    (format!("{base}/{name}"), name)
}

/// Drop a database made by [`fresh_database`] (whoever is still connected).
pub async fn drop_database(name: &str) {
    if let Ok(admin) = Database::connect(&postgres_server()).await {
        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        admin.execute_unprepared(&sql).await.ok();
        admin.close().await.ok();
    }
}

/// Run a test body against SQLite (plain test) and PostgreSQL (ignored unless asked).
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let app = $crate::support::TestApp::sqlite().await;
                super::$name(&app).await;
                app.finish().await;
            }
            #[tokio::test]
            #[ignore = "PostgreSQL: run with `cargo test -- --ignored` and TEST_DATABASE_URL set"]
            async fn postgres() {
                let app = $crate::support::TestApp::postgres().await;
                super::$name(&app).await;
                app.finish().await;
            }
        }
    };
    // with a configuration change, e.g. `both!(name, |c| c.import_max_bytes = 2048)`
    ($name:ident, $configure:expr) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let app = $crate::support::TestApp::sqlite_with($configure).await;
                super::$name(&app).await;
                app.finish().await;
            }
            #[tokio::test]
            #[ignore = "PostgreSQL: run with `cargo test -- --ignored` and TEST_DATABASE_URL set"]
            async fn postgres() {
                let app = $crate::support::TestApp::postgres_with($configure).await;
                super::$name(&app).await;
                app.finish().await;
            }
        }
    };
}

pub struct TestApp {
    pub base: String,
    pub db: Db,
    /// The configuration the app was started with.
    pub config: Config,
    dir: PathBuf,
    /// The test database made for it on PostgreSQL (dropped at the end).
    pg: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// The server, to wait for its graceful stop.
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub async fn sqlite() -> TestApp {
        Self::sqlite_with(|_| {}).await
    }

    pub async fn postgres() -> TestApp {
        Self::postgres_with(|_| {}).await
    }

    pub async fn sqlite_with(configure: impl FnOnce(&mut Config)) -> TestApp {
        let dir = std::env::temp_dir().join(format!("crm-test-{}", Uuid::new_v4().simple()));
        let mut config = Config::for_tests(dir, None);
        configure(&mut config);
        Self::start_config(config, None).await
    }

    pub async fn postgres_with(configure: impl FnOnce(&mut Config)) -> TestApp {
        let (url, name) = fresh_database("crm_test").await;
        let dir = std::env::temp_dir().join(format!("crm-test-{}", Uuid::new_v4().simple()));
        let mut config = Config::for_tests(dir, Some(url));
        configure(&mut config);
        Self::start_config(config, Some(name)).await
    }

    /// Two instances on one SQLite database sharing rate limits through Redis
    /// (`TEST_REDIS_URL`), under a key prefix of their own.
    pub async fn redis_pair() -> (TestApp, TestApp) {
        let redis = std::env::var("TEST_REDIS_URL").expect("TEST_REDIS_URL must be set, e.g. redis://127.0.0.1:6379");
        let dir = std::env::temp_dir().join(format!("crm-test-{}", Uuid::new_v4().simple()));
        let prefix = format!("crm-test-{}", Uuid::new_v4().simple());
        let mut config = Config::for_tests(dir.clone(), None);
        config.redis_url = Some(redis);
        config.redis_prefix = prefix;
        let a = Self::start_config(config.clone(), None).await;
        let b = Self::start_config(config, None).await;
        (a, b)
    }

    /// Stop this instance and start a new one on the same database and data directory.
    pub async fn restart(mut self) -> TestApp {
        self.stop_server().await;
        self.db.unscoped().clone().close().await.ok();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let pg = self.pg.take();
        Self::start_config(self.config.clone(), pg).await
    }

    /// A second instance on this one's database (finish it before this one).
    pub async fn sibling(&self) -> TestApp {
        Self::start_config(self.config.clone(), None).await
    }

    async fn start_config(config: Config, pg: Option<String>) -> TestApp {
        let dir = config.data_dir.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let running = crm::start(&config, async move {
            let _ = rx.await;
        })
        .await
        .expect("start the app");
        TestApp {
            base: format!("http://{}", running.addr),
            db: running.db,
            config,
            dir,
            pg,
            stop: Some(tx),
            task: Some(running.task),
        }
    }

    /// Ask the server to stop and wait (up to 15 s) until it has: requests and webhook
    /// attempts in flight finish first, as on SIGTERM.
    async fn stop_server(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(15), task).await;
        }
    }

    /// The server key of this app (seals 2FA secrets, keys backup-code hashes).
    pub fn keys(&self) -> crm_core::crypto::SecretBox {
        crm_core::crypto::SecretBox::load(None, &self.dir).expect("the server key")
    }

    /// A deal written straight to the database, owned by `owner` on `contact` (as records of
    /// one owner come to sit on another's contact: an admin's attach, a reassignment).
    pub async fn insert_deal(&self, contact: &str, owner: Uuid, name: &str, cents: i64) -> Uuid {
        use crm_core::unscoped::deal;
        use sea_orm::{ActiveModelTrait, Set};
        let now = crm_core::clock::now();
        let id = Uuid::now_v7();
        deal::ActiveModel {
            id: Set(id),
            name: Set(name.into()),
            value_cents: Set(cents),
            stage: Set(crm_core::DealStage::Lead),
            status: Set(crm_core::DealStatus::Open),
            expected_close_date: Set(now),
            actual_close_date: Set(None),
            probability: Set(10),
            description: Set(None),
            contact_id: Set(Uuid::parse_str(contact).expect("a contact id")),
            company_id: Set(None),
            user_id: Set(Some(owner)),
            is_demo: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(self.db.unscoped())
        .await
        .expect("insert a deal");
        id
    }

    /// Stop the server and remove the test database.
    pub async fn finish(mut self) {
        self.stop_server().await;
        self.db.unscoped().clone().close().await.ok();
        if let Some(name) = self.pg.take() {
            drop_database(&name).await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// The newest e-mail to `to` whose subject contains `subject`, decoded to text; waits up
    /// to 5 s for the mail queue to write it.
    pub async fn mail(&self, to: &str, subject: &str) -> String {
        for _ in 0..100 {
            if let Some(m) = self
                .mails(to)
                .into_iter()
                .rev()
                .find(|m| m.contains(&format!("Subject: {subject}")))
            {
                return m;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no mail to {to} with subject {subject:?} in the outbox");
    }

    /// Every e-mail to `to` in the outbox, oldest first, quoted-printable decoded.
    pub fn mails(&self, to: &str) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(self.dir.join("outbox")) else {
            return vec![];
        };
        let mut files: Vec<_> = dir
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files
            .into_iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .map(|m| m.replace("=\r\n", "").replace("=\n", "").replace("=3D", "="))
            .filter(|m| m.contains(&format!("To: {to}")))
            .collect()
    }

    /// The token of the first `path?token=` link in a mail.
    pub fn token_in(mail: &str, path: &str) -> String {
        let start = mail.find(&format!("{path}?token=")).expect("a link in the mail") + path.len() + 7;
        mail[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }

    /// A user of `role`, created through the real path, and a signed-in client for them.
    pub async fn user(&self, role: Role) -> Client {
        let email = format!(
            "{}-{}@example.com",
            role.as_str(),
            &Uuid::new_v4().simple().to_string()[..8]
        );
        let u = users::create(
            &self.db,
            NewUser {
                email: email.clone(),
                name: format!("Test {}", role.as_str()),
                role,
                password: PASSWORD.into(),
                verified: true,
                is_demo: false,
            },
        )
        .await
        .expect("create user");
        let mut c = self.anonymous();
        let (st, body) = c
            .post(
                "/api/auth/signin",
                serde_json::json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "sign-in failed: {body}");
        let (_, s) = c.get("/api/auth/session").await;
        c.csrf = s["data"]["csrfToken"].as_str().map(|s| s.to_string());
        c.user_id = Some(u.id);
        c.email = email;
        c
    }

    pub fn anonymous(&self) -> Client {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(0)
            .build()
            .expect("client");
        Client {
            http,
            base: self.base.clone(),
            csrf: None,
            user_id: None,
            email: String::new(),
        }
    }
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: Option<String>,
    pub user_id: Option<Uuid>,
    pub email: String,
}

impl Client {
    pub fn id(&self) -> Uuid {
        self.user_id.expect("a signed-in client")
    }

    async fn send(&self, rb: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let rb = match &self.csrf {
            Some(t) => rb.header("X-CSRF-Token", t),
            None => rb,
        };
        let res = rb.send().await.expect("request");
        let st = res.status();
        let text = res.text().await.expect("body");
        (st, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.http.get(format!("{}{path}", self.base))).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.post(format!("{}{path}", self.base)).json(&body))
            .await
    }
    pub async fn post_raw(&self, path: &str, body: &'static str) -> (StatusCode, Value) {
        self.send(
            self.http
                .post(format!("{}{path}", self.base))
                .header("content-type", "application/json")
                .body(body),
        )
        .await
    }
    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.put(format!("{}{path}", self.base)).json(&body))
            .await
    }
    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.patch(format!("{}{path}", self.base)).json(&body))
            .await
    }
    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.http.delete(format!("{}{path}", self.base))).await
    }
    /// An HTML form post (the CSRF token goes in the form, as a browser sends it).
    pub async fn form(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String, Option<String>) {
        let mut pairs: Vec<(&str, &str)> = fields.to_vec();
        if let Some(t) = &self.csrf {
            pairs.push(("csrf_token", t));
        }
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .form(&pairs)
            .send()
            .await
            .expect("request");
        let st = res.status();
        let loc = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(|s| s.to_string());
        (st, res.text().await.unwrap_or_default(), loc)
    }
    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request");
        (res.status(), res.text().await.unwrap_or_default())
    }

    /// A multipart/form-data POST (an upload) through the API: text fields, then the file.
    pub async fn upload(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &[u8])>,
    ) -> (StatusCode, Value) {
        let (ct, body) = multipart(fields, file);
        self.send(
            self.http
                .post(format!("{}{path}", self.base))
                .header("content-type", ct)
                .body(body),
        )
        .await
    }

    /// A multipart form as a browser posts it: the CSRF token is a field, not a header.
    pub async fn upload_form(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &[u8])>,
    ) -> (StatusCode, String, Option<String>) {
        let mut all: Vec<(&str, &str)> = Vec::new();
        if let Some(t) = &self.csrf {
            all.push(("csrf_token", t));
        }
        all.extend_from_slice(fields);
        let (ct, body) = multipart(&all, file);
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .expect("request");
        let st = res.status();
        let loc = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(|s| s.to_string());
        (st, res.text().await.unwrap_or_default(), loc)
    }

    /// Create a contact and return its id.
    pub async fn contact(&self, first: &str, last: &str, extra: Value) -> String {
        let mut body = serde_json::json!({
            "firstName": first, "lastName": last,
            "email": format!("{}.{}.{}@example.com", first.to_lowercase(), last.to_lowercase(), &Uuid::new_v4().simple().to_string()[..6]),
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let (st, v) = self.post("/api/contacts", body).await;
        assert_eq!(st, StatusCode::CREATED, "create contact: {v}");
        v["data"]["id"].as_str().expect("id").to_string()
    }
}

/// A multipart/form-data body: (content type, bytes).
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = format!("crm-test-{}", Uuid::new_v4().simple());
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// (status, content type, body) of a request sent as built (headers of the caller's choice).
pub async fn raw(rb: reqwest::RequestBuilder) -> (StatusCode, String, String) {
    let res = rb.send().await.expect("request");
    let st = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    // a body cut short (a broken compressed stream) fails here, not as a shorter text
    (st, ct, res.text().await.expect("a whole body"))
}
