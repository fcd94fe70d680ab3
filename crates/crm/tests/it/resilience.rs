//! Failures survived: PostgreSQL unreachable for a while — `/readyz` says 503, requests get a
//! clear 503 in the envelope within the timeouts, and the app recovers by itself.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crm_core::Role;
use reqwest::StatusCode;

use crate::support::TestApp;

/// A TCP relay (to PostgreSQL or Redis) that can be cut and restored on the same port.
struct Relay {
    port: u16,
    tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start(port: u16) -> Relay {
        Self::to(port, "127.0.0.1:5432").await
    }

    async fn to(port: u16, upstream: &'static str) -> Relay {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind the relay");
        let port = listener.local_addr().unwrap().port();
        let tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let inner = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                inner.lock().unwrap().push(conn);
            }
        });
        tasks.lock().unwrap().push(accept);
        Relay { port, tasks }
    }

    /// Close the port and every connection through it.
    fn cut(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

#[tokio::test]
#[ignore = "PostgreSQL: run with `cargo test -- --ignored` and TEST_DATABASE_URL set"]
async fn postgres_outage_is_a_503_and_heals() {
    let relay = Relay::start(0).await;
    let port = relay.port;
    let app = TestApp::postgres_with(|c| {
        let url = c.database_url.clone().unwrap();
        let (prefix, name) = url.rsplit_once('/').unwrap();
        let (scheme_user, _) = prefix.rsplit_once('@').unwrap();
        c.database_url = Some(format!("{scheme_user}@127.0.0.1:{port}/{name}"));
    })
    .await;
    let admin = app.user(Role::Admin).await;
    let anon = app.anonymous();
    let (st, _) = anon.page("/readyz").await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = admin.get("/api/contacts").await;
    assert_eq!(st, StatusCode::OK);

    relay.cut();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t = Instant::now();
    let (st, _) = anon.page("/readyz").await;
    assert_eq!(
        st,
        StatusCode::SERVICE_UNAVAILABLE,
        "not ready while the database is gone"
    );
    let (st, v) = admin.get("/api/contacts").await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("database cannot be reached"),
        "{v}"
    );
    assert!(v["data"].is_null());
    assert!(
        t.elapsed() < Duration::from_secs(12),
        "answered within the timeouts: {:?}",
        t.elapsed()
    );

    // the database comes back on the same address: no restart needed
    let _relay = Relay::start(port).await;
    let mut healed = false;
    for _ in 0..60 {
        let (st, _) = admin.get("/api/contacts").await;
        if st == StatusCode::OK {
            healed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(healed, "requests succeed again");
    let (st, _) = anon.page("/readyz").await;
    assert_eq!(st, StatusCode::OK);
    _relay.cut();
    app.finish().await;
}

/// Two instances starting at once on an empty PostgreSQL database: one migrates, the other
/// waits for it; both start.
#[tokio::test]
#[ignore = "PostgreSQL: run with `cargo test -- --ignored` and TEST_DATABASE_URL set"]
async fn postgres_instances_starting_together_migrate_once() {
    let (url, name) = crate::support::fresh_database("crm_test").await;
    let config = |n: u32| {
        let dir = std::env::temp_dir().join(format!("crm-two-{n}-{}", uuid::Uuid::new_v4().simple()));
        crm::config::Config::for_tests(dir, Some(url.clone()))
    };
    let (a, b) = (config(1), config(2));
    let (ra, rb) = tokio::join!(
        crm::start(&a, std::future::pending()),
        crm::start(&b, std::future::pending())
    );
    let (ra, rb) = (
        ra.expect("the first instance starts"),
        rb.expect("the second instance starts"),
    );
    for r in [&ra, &rb] {
        let res = reqwest::get(format!("http://{}/readyz", r.addr)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    ra.task.abort();
    rb.task.abort();
    ra.db.unscoped().clone().close().await.ok();
    rb.db.unscoped().clone().close().await.ok();
    crate::support::drop_database(&name).await;
}

/// Redis away and back: while it is away each instance counts failed sign-ins itself (the
/// limit still holds, nothing fails); when it is back the instances count together again,
/// with no restart.
#[tokio::test]
#[ignore = "Redis: run with `cargo test -- --ignored` and TEST_REDIS_URL set"]
async fn redis_away_and_back_keeps_the_limits() {
    let redis = std::env::var("TEST_REDIS_URL").expect("TEST_REDIS_URL");
    let upstream: &'static str = Box::leak(
        redis
            .trim_start_matches("redis://")
            .trim_end_matches('/')
            .to_string()
            .into_boxed_str(),
    );
    let relay = Relay::to(0, upstream).await;
    let port = relay.port;
    let prefix = format!("crm-test-{}", uuid::Uuid::new_v4().simple());
    let a = TestApp::sqlite_with(|c| {
        c.redis_url = Some(format!("redis://127.0.0.1:{port}"));
        c.redis_prefix = prefix.clone();
    })
    .await;
    let b = a.sibling().await;
    let rep = a.user(Role::Rep).await;
    let (ca, cb) = (a.anonymous(), b.anonymous());
    async fn fail(c: &crate::support::Client, i: usize) -> StatusCode {
        let body = serde_json::json!({"email": format!("away{i}@example.com"), "password": "wrong password!"});
        c.post("/api/auth/signin", body).await.0
    }

    relay.cut();
    let t = Instant::now();
    for i in 0..10 {
        assert_eq!(
            fail(&ca, i).await,
            StatusCode::UNAUTHORIZED,
            "Redis away: sign-ins still answer"
        );
    }
    assert!(
        t.elapsed() < Duration::from_secs(30),
        "no request waits long: {:?}",
        t.elapsed()
    );
    let (st, _) = ca
        .post(
            "/api/auth/signin",
            serde_json::json!({"email": rep.email, "password": crate::support::PASSWORD}),
        )
        .await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "the limit holds in memory");

    // back: after the retry interval the two instances share the count again
    let _relay = Relay::to(port, upstream).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    for i in 0..10 {
        let c = if i % 2 == 0 { &ca } else { &cb };
        let st = fail(c, 100 + i).await;
        assert!(
            st == StatusCode::UNAUTHORIZED || st == StatusCode::TOO_MANY_REQUESTS,
            "{st}"
        );
    }
    let (st, _) = cb
        .post(
            "/api/auth/signin",
            serde_json::json!({"email": rep.email, "password": crate::support::PASSWORD}),
        )
        .await;
    assert_eq!(
        st,
        StatusCode::TOO_MANY_REQUESTS,
        "b counts a's failures again: Redis is back"
    );
    _relay.cut();
    b.finish().await;
    a.finish().await;
}

/// A full disk under SQLite: writes fail with a clear 503 (nothing half-written), reads go
/// on, and the database passes its integrity check. Mounts a 6 MB tmpfs (migrating an empty
/// database writes ~3 MB of log before it is checkpointed), so it needs root (`.ci/run` runs
/// as root on the CI machine).
#[tokio::test]
#[ignore = "needs root (mounts a small tmpfs): run with `cargo test -- --ignored` as root"]
async fn sqlite_disk_full_refuses_writes_clearly() {
    use sea_orm::ConnectionTrait;
    let dir = std::env::temp_dir().join(format!("crm-full-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=6m", "tmpfs", dir.to_str().unwrap()])
        .status()
        .expect("run mount");
    assert!(mounted.success(), "mounting a tmpfs needs root");
    let data = dir.clone();
    let app = TestApp::sqlite_with(move |c| c.data_dir = data).await;
    let admin = app.user(Role::Admin).await;
    let long = "y".repeat(95);
    let mut refused = None;
    for i in 0..20_000 {
        let (st, v) = admin
            .post(
                "/api/contacts",
                serde_json::json!({"firstName": format!("F{i}"), "lastName": format!("L{i}"), "email": format!("f{i}@example.com"), "jobTitle": long}),
            )
            .await;
        if st != StatusCode::CREATED {
            refused = Some((i, st, v));
            break;
        }
    }
    let (n, st, v) = refused.expect("the disk fills up");
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert!(v["error"].as_str().unwrap().contains("disk is full"), "{v}");
    // reads go on and show exactly the writes that were acknowledged
    let (st, v) = admin.get("/api/contacts?limit=1").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        v["pagination"]["total"].as_u64(),
        Some(n as u64),
        "no half-written contact"
    );
    let row = app
        .db
        .unscoped()
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "PRAGMA integrity_check".to_string(),
        ))
        .await
        .unwrap()
        .unwrap();
    let check: String = row.try_get_by_index(0).unwrap();
    assert_eq!(check, "ok");
    app.finish().await;
    let _ = std::process::Command::new("umount").arg(&dir).status();
    let _ = std::fs::remove_dir_all(&dir);
}
