//! `GET /metrics` in the Prometheus text format, written by hand: requests by route
//! template (`MatchedPath`), method and status; latency histograms; the database pool;
//! queue depths and ages (mail, webhooks, imports); rate-limit rejections; sign-in
//! failures. Readable from `CRM_METRICS_ALLOW` (CIDRs, default loopback) or with
//! `Authorization: Bearer <CRM_METRICS_TOKEN>`; anyone else gets 403.

use std::collections::HashMap;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Upper bounds (seconds) of the latency buckets.
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// What one route template and method saw: a count per status, and the latencies.
#[derive(Default, Clone)]
struct Route {
    statuses: Vec<(u16, u64)>,
    latency: Histogram,
}

/// The request counters of this instance: route template → method → counts. One lock per
/// request, and no allocation once a route and method have been seen.
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<HashMap<String, HashMap<Method, Route>>>,
}

impl Metrics {
    fn observe(&self, route: &str, method: &Method, status: u16, secs: f64) {
        let Ok(mut m) = self.routes.lock() else {
            return;
        };
        let methods = match m.get_mut(route) {
            Some(r) => r,
            None => m.entry(route.to_string()).or_default(),
        };
        let r = match methods.get_mut(method) {
            Some(r) => r,
            None => methods.entry(method.clone()).or_default(),
        };
        match r.statuses.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => r.statuses.push((status, 1)),
        }
        let h = &mut r.latency;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.count += 1;
    }
}

/// Middleware on the routes: count and time each request under its route template.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = req.method().clone();
    let started = Instant::now();
    let res = next.run(req).await;
    let route = route.as_ref().map_or("unmatched", |p| p.as_str());
    state
        .metrics
        .observe(route, &method, res.status().as_u16(), started.elapsed().as_secs_f64());
    res
}

fn allowed(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> bool {
    if let Some(token) = state.config.metrics_token.as_deref().filter(|t| !t.is_empty()) {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if let Some(sent) = sent
            && constant_eq(sent.as_bytes(), token.as_bytes())
        {
            return true;
        }
    }
    let Some(peer) = peer else { return false };
    let ip = peer.ip().to_canonical();
    state
        .config
        .metrics_allow
        .iter()
        .any(|n| super::ratelimit::contains(n, &ip))
}

/// Equal without an early exit on the first difference.
fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// `GET /metrics`.
pub async fn scrape(State(state): State<AppState>, req: Request) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|p| p.0);
    if !allowed(&state, req.headers(), peer) {
        return (StatusCode::FORBIDDEN, "forbidden\n").into_response();
    }
    let mut out = String::new();
    let m = &state.metrics;
    // in a stable order: route, method, status
    let mut rows: Vec<(String, String, Route)> = vec![];
    if let Ok(routes) = m.routes.lock() {
        for (route, methods) in routes.iter() {
            for (method, r) in methods {
                rows.push((route.clone(), method.to_string(), r.clone()));
            }
        }
    }
    rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    for (_, _, r) in &mut rows {
        r.statuses.sort_unstable();
    }
    out.push_str("# HELP crm_http_requests_total HTTP requests by route template, method and status.\n");
    out.push_str("# TYPE crm_http_requests_total counter\n");
    for (route, method, r) in &rows {
        for (status, n) in &r.statuses {
            let _ = writeln!(
                out,
                "crm_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                esc(route)
            );
        }
    }
    out.push_str("# HELP crm_http_request_duration_seconds Request latency by route template and method.\n");
    out.push_str("# TYPE crm_http_request_duration_seconds histogram\n");
    for (route, method, r) in &rows {
        let h = &r.latency;
        let labels = format!("route=\"{}\",method=\"{method}\"", esc(route));
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "crm_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                h.counts[i]
            );
        }
        let _ = writeln!(
            out,
            "crm_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
            h.count
        );
        let _ = writeln!(out, "crm_http_request_duration_seconds_sum{{{labels}}} {}", h.sum);
        let _ = writeln!(out, "crm_http_request_duration_seconds_count{{{labels}}} {}", h.count);
    }
    counter(
        &mut out,
        "crm_rate_limit_rejections_total",
        "Requests refused by a rate limit.",
        super::ratelimit::REJECTED.load(Ordering::Relaxed),
    );
    counter(
        &mut out,
        "crm_sign_in_failures_total",
        "Failed sign-in attempts.",
        crm_core::accounts::history::FAILURES.load(Ordering::Relaxed),
    );
    let (size, idle) = crm_core::queue::pool(&state.db);
    gauge(
        &mut out,
        "crm_db_pool_connections_in_use",
        "Database connections in use.",
        size.saturating_sub(idle) as f64,
    );
    gauge(
        &mut out,
        "crm_db_pool_connections_idle",
        "Idle database connections.",
        idle as f64,
    );
    if let Some((replica, primary)) = state.db.replica_reads() {
        out.push_str("# HELP crm_db_replica_reads_total Heavy reads (dashboard, reports, search, exports) by the database they went to.\n");
        out.push_str("# TYPE crm_db_replica_reads_total counter\n");
        let _ = writeln!(out, "crm_db_replica_reads_total{{target=\"replica\"}} {replica}");
        let _ = writeln!(out, "crm_db_replica_reads_total{{target=\"primary\"}} {primary}");
    }
    queues(&state.db, &mut out).await;
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        out,
    )
        .into_response()
}

fn counter(out: &mut String, name: &str, help: &str, v: u64) {
    let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}\n");
}
fn gauge(out: &mut String, name: &str, help: &str, v: f64) {
    let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}\n");
}

/// Depth and age of the oldest waiting item of each queue.
async fn queues(db: &crm_core::Db, out: &mut String) {
    let rows = crm_core::queue::depths(db).await;
    out.push_str("# HELP crm_queue_depth Items waiting in a queue.\n# TYPE crm_queue_depth gauge\n");
    for (name, n, _) in &rows {
        let _ = writeln!(out, "crm_queue_depth{{queue=\"{name}\"}} {n}");
    }
    out.push_str("# HELP crm_queue_oldest_age_seconds Age of the oldest waiting item of a queue.\n");
    out.push_str("# TYPE crm_queue_oldest_age_seconds gauge\n");
    for (name, _, age) in &rows {
        let _ = writeln!(out, "crm_queue_oldest_age_seconds{{queue=\"{name}\"}} {age}");
    }
}
