//! Rate limits, always on: fixed windows per (rule, key), in memory by default and in Redis
//! when `REDIS_URL` is set (shared by every instance). Keys are the client IP (see
//! [`client_ip`]), an e-mail address or a token, as each rule says. Sign-in counts failed
//! attempts only, so a team behind one office IP never locks itself out. If Redis cannot be
//! reached, the in-memory windows take over (logged): limits never fail open.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub name: &'static str,
    pub limit: u32,
    pub window: Duration,
}

impl Rule {
    const fn new(name: &'static str, limit: u32, window: Duration) -> Rule {
        Rule { name, limit, window }
    }
}

const HOUR: Duration = Duration::from_secs(3600);
pub const SIGNUP: Rule = Rule::new("signup", 3, HOUR);
/// Failed sign-ins per client IP.
pub const SIGNIN_IP: Rule = Rule::new("signin", 10, HOUR);
/// Failed sign-ins per account (whatever the IP): after 5, the account waits 15 minutes.
pub const SIGNIN_ACCOUNT: Rule = Rule::new("signin-account", 5, Duration::from_secs(900));
pub const FORGOT: Rule = Rule::new("forgot-password", 3, HOUR);
pub const RESET: Rule = Rule::new("reset-password", 5, HOUR);
pub const VERIFY: Rule = Rule::new("verify-email", 10, HOUR);
/// 2FA setup, disable and code regeneration, per user.
pub const TWO_FA_SETUP: Rule = Rule::new("2fa-setup", 10, HOUR);
/// Failed second-step codes per user (whatever the IP) and per IP.
pub const TWO_FA_ACCOUNT: Rule = Rule::new("2fa-account", 5, Duration::from_secs(900));
pub const TWO_FA_IP: Rule = Rule::new("2fa-ip", 10, HOUR);
pub const RESEND: Rule = Rule::new("resend-verification", 3, Duration::from_secs(60));
/// Single sign-ons started (OIDC or GitHub) per IP: each stores a pending row.
pub const SSO_START: Rule = Rule::new("sso-start", 60, Duration::from_secs(600));

#[derive(Debug, Clone, Copy)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    pub reset: Duration,
}

#[derive(Default)]
pub struct Limiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
    redis: Option<SharedStore>,
    /// Prefix of the Redis keys (deployments sharing one Redis keep apart).
    namespace: String,
}

/// The Redis side: a connection once one could be made, and when to try again meanwhile.
struct SharedStore {
    client: redis::Client,
    conn: Mutex<Option<redis::aio::ConnectionManager>>,
    next_try: Mutex<Instant>,
}

/// A Redis that does not answer within this is treated as away for this request.
const REDIS_TIMEOUT: Duration = Duration::from_secs(1);
/// While Redis is away, a new connection is tried at most this often.
const REDIS_RETRY: Duration = Duration::from_secs(5);

impl SharedStore {
    async fn connect(client: &redis::Client) -> redis::RedisResult<redis::aio::ConnectionManager> {
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1);
        redis::aio::ConnectionManager::new_with_config(client.clone(), config).await
    }

    /// The connection, or a new one when it is time to try. Requests never wait on each
    /// other here: the lock is held only to copy the handle, and while Redis is away one
    /// request at a time (every 5 s) tries to connect, the others go on in memory.
    async fn get(&self) -> Option<redis::aio::ConnectionManager> {
        if let Some(c) = self.conn.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            return Some(c);
        }
        {
            let mut next = self.next_try.lock().unwrap_or_else(|p| p.into_inner());
            if Instant::now() < *next {
                return None;
            }
            *next = Instant::now() + REDIS_RETRY;
        }
        match tokio::time::timeout(REDIS_TIMEOUT * 2, Self::connect(&self.client)).await {
            Ok(Ok(c)) => {
                tracing::info!("rate limit store (Redis) connected");
                *self.conn.lock().unwrap_or_else(|p| p.into_inner()) = Some(c.clone());
                Some(c)
            }
            Ok(Err(e)) => {
                tracing::warn!("rate limit store (Redis) unavailable, using in-memory limits: {e}");
                None
            }
            Err(_) => {
                tracing::warn!("rate limit store (Redis) did not answer, using in-memory limits");
                None
            }
        }
    }
}

impl Limiter {
    /// In memory, or shared through Redis at `url`. A Redis that cannot be reached at start
    /// is not fatal: the limits are counted in memory until it answers (tried every 5 s).
    pub async fn new(redis_url: Option<&str>, namespace: &str) -> anyhow::Result<Limiter> {
        let redis = match redis_url.filter(|u| !u.is_empty()) {
            Some(url) => {
                let store = SharedStore {
                    client: redis::Client::open(url)?,
                    conn: Default::default(),
                    next_try: Mutex::new(Instant::now()),
                };
                store.get().await;
                Some(store)
            }
            None => None,
        };
        Ok(Limiter {
            windows: Mutex::default(),
            redis,
            namespace: namespace.to_string(),
        })
    }

    async fn decide(&self, rule: Rule, key: &str, count: bool) -> Decision {
        if let Some(store) = &self.redis
            && let Some(conn) = store.get().await
        {
            let k = format!("{}:rl:{}:{key}", self.namespace, rule.name);
            match tokio::time::timeout(REDIS_TIMEOUT, redis_decide(conn, rule, &k, count)).await {
                Ok(Ok(d)) => return d,
                Ok(Err(e)) => tracing::warn!("rate limit store (Redis) unavailable, using in-memory limits: {e}"),
                Err(_) => tracing::warn!("rate limit store (Redis) did not answer, using in-memory limits"),
            }
        }
        self.memory(rule, key, count)
    }

    fn memory(&self, rule: Rule, key: &str, count: bool) -> Decision {
        let now = Instant::now();
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 50_000 {
            map.retain(|_, (end, _)| *end > now);
        }
        let entry = map
            .entry(format!("{}:{key}", rule.name))
            .or_insert((now + rule.window, 0));
        if entry.0 <= now {
            *entry = (now + rule.window, 0);
        }
        let allowed = entry.1 < rule.limit;
        if count && allowed {
            entry.1 += 1;
        }
        Decision {
            allowed,
            limit: rule.limit,
            remaining: rule.limit.saturating_sub(entry.1),
            reset: entry.0 - now,
        }
    }

    /// Count one request; refused when the window is full.
    pub async fn hit(&self, rule: Rule, key: &str) -> Decision {
        self.decide(rule, key, true).await
    }

    /// Look without counting (sign-in checks before it knows whether the attempt fails).
    pub async fn peek(&self, rule: Rule, key: &str) -> Decision {
        self.decide(rule, key, false).await
    }
}

/// One window in Redis: `INCR` + `PEXPIRE … NX` + `PTTL` in one transaction.
async fn redis_decide(
    mut conn: redis::aio::ConnectionManager,
    rule: Rule,
    k: &str,
    count: bool,
) -> redis::RedisResult<Decision> {
    let window_ms = rule.window.as_millis() as u64;
    let (n, ttl): (u32, i64) = if count {
        let (n, _, ttl): (u32, i64, i64) = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(k)
            .cmd("PEXPIRE")
            .arg(k)
            .arg(window_ms)
            .arg("NX")
            .cmd("PTTL")
            .arg(k)
            .query_async(&mut conn)
            .await?;
        (n, ttl)
    } else {
        let (n, ttl): (Option<u32>, i64) = redis::pipe()
            .atomic()
            .cmd("GET")
            .arg(k)
            .cmd("PTTL")
            .arg(k)
            .query_async(&mut conn)
            .await?;
        (n.unwrap_or(0), ttl)
    };
    let reset = if ttl > 0 {
        Duration::from_millis(ttl as u64)
    } else {
        rule.window
    };
    // counting past the limit is refused; the count itself may run one over, harmlessly
    let allowed = if count { n <= rule.limit } else { n < rule.limit };
    Ok(Decision {
        allowed,
        limit: rule.limit,
        remaining: rule.limit.saturating_sub(n),
        reset,
    })
}

impl Decision {
    pub fn headers(&self, h: &mut HeaderMap) {
        let secs = self.reset.as_secs().max(1);
        for (k, v) in [
            ("ratelimit-limit", self.limit as u64),
            ("ratelimit-remaining", self.remaining as u64),
            ("ratelimit-reset", secs),
        ] {
            h.insert(k, HeaderValue::from(v));
        }
        if !self.allowed {
            h.insert("retry-after", HeaderValue::from(secs));
        }
    }

    /// The 429 answer: a JSON envelope with `retryAfter`, `Retry-After` and `RateLimit-*`.
    pub fn too_many(&self, message: &str) -> Response {
        REJECTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let secs = self.reset.as_secs().max(1);
        let mut res = (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({ "data": null, "error": message, "retryAfter": secs })),
        )
            .into_response();
        self.headers(res.headers_mut());
        res
    }
}

/// Requests refused by a rate limit since start (for `/metrics`).
pub static REJECTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub const TOO_MANY: &str = "Too many requests. Please try again later.";

/// A network and prefix length, e.g. `10.0.0.0/8`.
pub type Cidr = (IpAddr, u8);

pub fn parse_cidrs(s: &str) -> Result<Vec<Cidr>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (ip, len) = p.split_once('/').unwrap_or((p, ""));
            let ip: IpAddr = ip.parse().map_err(|_| format!("not an IP network: {p}"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let len = if len.is_empty() {
                max
            } else {
                len.parse::<u8>().map_err(|_| format!("bad prefix length: {p}"))?
            };
            if len > max {
                return Err(format!("bad prefix length: {p}"));
            }
            Ok((ip, len))
        })
        .collect()
}

pub fn contains(net: &Cidr, ip: &IpAddr) -> bool {
    match (net.0, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = if net.1 == 0 { 0 } else { u32::MAX << (32 - net.1) };
            u32::from(n) & mask == u32::from(*a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = if net.1 == 0 { 0 } else { u128::MAX << (128 - net.1) };
            u128::from(n) & mask == u128::from(*a) & mask
        }
        _ => false,
    }
}

/// The client address: the socket peer, unless the peer is a trusted proxy, in which case
/// the right-most `X-Forwarded-For` entry that is not itself a trusted proxy. A client can
/// therefore never pick its own address by sending the header.
pub fn client_ip(headers: &HeaderMap, peer: Option<IpAddr>, trusted: &[Cidr]) -> String {
    let Some(peer) = peer else {
        return "unknown".into();
    };
    if !trusted.iter().any(|n| contains(n, &peer)) {
        return peer.to_string();
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|ip| !trusted.iter().any(|n| contains(n, ip)))
        .copied()
        .unwrap_or(peer)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn proxies() {
        let trusted = parse_cidrs("10.0.0.0/8, ::1").unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 1.2.3.4, 10.0.0.5"),
        );
        assert_eq!(client_ip(&h, Some("10.0.0.1".parse().unwrap()), &trusted), "1.2.3.4");
        assert_eq!(
            client_ip(&h, Some("8.8.8.8".parse().unwrap()), &trusted),
            "8.8.8.8",
            "untrusted peer: header ignored"
        );
        assert!(parse_cidrs("10.0.0.0/33").is_err());
    }
    #[tokio::test]
    async fn windows() {
        let l = Limiter::default();
        for _ in 0..3 {
            assert!(l.hit(SIGNUP, "ip").await.allowed);
        }
        assert!(!l.hit(SIGNUP, "ip").await.allowed);
        assert!(l.hit(SIGNUP, "other").await.allowed);
        assert!(!l.peek(SIGNUP, "ip").await.allowed);
    }
}
