//! Failures survived: PostgreSQL unreachable for a while — `/readyz` says 503, requests get a
//! clear 503 in the envelope within the timeouts, and the app recovers by itself.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crm_core::Role;
use reqwest::StatusCode;

use crate::support::TestApp;

/// A TCP relay to PostgreSQL that can be cut and restored on the same port.
struct Relay {
    port: u16,
    tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start(port: u16) -> Relay {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind the relay");
        let port = listener.local_addr().unwrap().port();
        let tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let inner = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect("127.0.0.1:5432").await {
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
    use sea_orm::ConnectionTrait;
    let admin_url = std::env::var("TEST_DATABASE_URL").unwrap();
    let name = format!("crm_test_{}", uuid::Uuid::new_v4().simple());
    let server = sea_orm::Database::connect(&admin_url).await.unwrap();
    server
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let (prefix, _) = admin_url.rsplit_once('/').unwrap();
    let url = format!("{prefix}/{name}");
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
    server
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .ok();
}
