//! The session middleware and the extractors built on it. The middleware looks the
//! session cookie up once per request, enforces the CSRF rule for cookie-authenticated
//! unsafe requests (header `X-CSRF-Token` or form field `csrf_token`), and leaves a
//! [`SessionInfo`] in the request for [`ApiActor`] and [`PageSession`].

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crm_core::accounts::sessions;
use crm_core::{Actor, CoreError};
use uuid::Uuid;

use super::error::{ApiError, PageError};
use crate::AppState;

pub const COOKIE: &str = "crm_session";

#[derive(Clone, Debug)]
pub struct SessionInfo {
    pub actor: Actor,
    pub csrf_token: String,
    /// The browser session, or the API token when `bearer`.
    pub session_id: Uuid,
    pub token: String,
    /// Authenticated by `Authorization: Bearer` (no cookie, so no CSRF token needed).
    pub bearer: bool,
    /// Password right, second factor still missing: only the 2FA step accepts it.
    pub pending_2fa: bool,
}

/// A named cookie's value.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name && !v.is_empty()).then(|| v.to_string())
        })
}

/// An unsafe request's `Origin`, when the browser sends one, must be this server (its
/// configured base URL or the Host it was reached at). Stops cross-site form posts to the
/// sign-in and sign-up forms, which carry no CSRF token.
fn same_origin(req: &Request, state: &AppState) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if origin == state.config.base_url.trim_end_matches('/') {
        return true;
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, h)| !host.is_empty() && h == host)
}

/// Requests that need no CSRF token even with a session cookie (contract.md).
fn csrf_exempt(path: &str) -> bool {
    matches!(
        path,
        "/api/auth/signin"
            | "/auth/signin"
            | "/api/auth/signup"
            | "/api/auth/forgot-password"
            | "/api/auth/reset-password"
    )
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Where a request comes from, for the audit of refusals made while serving it.
fn origin_of(state: &AppState, req: &Request) -> crm_core::actor::Origin {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    crm_core::actor::Origin {
        ip: super::ratelimit::client_ip(req.headers(), peer, &state.config.trusted_proxies),
        route: format!("{} {}", req.method(), req.uri().path()),
    }
}

/// Bearer tokens recently looked up, and whom they act as, for [`TOKEN_TTL`]: an API client
/// making many requests costs no token and user query per request. A revocation, sign-out,
/// password or 2FA change, or an admin's change to users made on this instance empties it
/// at once (see [`layer`]); on other instances a revoked token or deactivated user stops
/// working within the TTL. Cookie sessions are never cached (their 2FA step and CSRF token
/// change between requests).
#[derive(Clone, Default)]
pub struct TokenCache(Arc<Mutex<HashMap<String, Cached>>>);

/// When a token was looked up, its id and whom it acts as.
type Cached = (Instant, Uuid, Actor);

pub const TOKEN_TTL: Duration = Duration::from_secs(5);
/// More live tokens than this: the cache starts over rather than grow.
const TOKEN_CACHE_MAX: usize = 10_000;

impl TokenCache {
    async fn lookup(&self, db: &crm_core::Db, secret: &str) -> crm_core::CoreResult<Option<(Uuid, Actor)>> {
        // the token's hash, never the token itself, stays in memory
        let key = crm_core::accounts::hash_token(secret);
        if let Ok(map) = self.0.lock()
            && let Some((at, id, actor)) = map.get(&key)
            && at.elapsed() < TOKEN_TTL
        {
            return Ok(Some((*id, actor.clone())));
        }
        let found = crm_core::accounts::api_tokens::lookup(db, secret).await?;
        if let (Some((id, actor)), Ok(mut map)) = (&found, self.0.lock()) {
            if map.len() >= TOKEN_CACHE_MAX {
                map.clear();
            }
            map.insert(key, (Instant::now(), *id, actor.clone()));
        }
        Ok(found)
    }
    /// Forget every token (after a change that may revoke one).
    pub fn clear(&self) {
        if let Ok(mut map) = self.0.lock() {
            map.clear();
        }
    }
}

/// A change after which a cached token may no longer be valid: revocations, sign-outs,
/// password, 2FA and user changes.
fn may_revoke(method: &Method, path: &str) -> bool {
    !method.is_safe()
        && [
            "/api/auth",
            "/auth",
            "/api/admin",
            "/admin",
            "/api/tokens",
            "/settings",
            "/api/v1/auth",
            "/api/v1/admin",
            "/api/v1/tokens",
        ]
        .iter()
        .any(|p| path.starts_with(p))
}

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let revoking = may_revoke(req.method(), req.uri().path());
    let writing = !req.method().is_safe();
    let res = serve(&state, req, next).await;
    if revoking {
        state.tokens.clear();
    }
    if writing {
        // whatever it wrote has committed: answers read before are old (`http::answers`)
        state.db.changed();
    }
    res
}

async fn serve(state: &AppState, mut req: Request, next: Next) -> Response {
    let state = state.clone();
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    if let Some(secret) = bearer {
        return match state.tokens.lookup(&state.db, &secret).await {
            Ok(Some((id, mut actor))) => {
                actor.origin = Some(origin_of(&state, &req));
                let info = SessionInfo {
                    actor,
                    csrf_token: String::new(),
                    session_id: id,
                    token: String::new(),
                    bearer: true,
                    pending_2fa: false,
                };
                req.extensions_mut().insert(info);
                next.run(req).await
            }
            Ok(None) => ApiError(CoreError::Unauthenticated("Invalid or expired API token".into())).into_response(),
            Err(e) => ApiError(e).into_response(),
        };
    }
    if !req.method().is_safe() && !same_origin(&req, &state) {
        let e = CoreError::Forbidden("Cross-site request refused.".into());
        return if req.uri().path().starts_with("/api/") {
            ApiError(e).into_response()
        } else {
            PageError(e).into_response()
        };
    }
    let token = cookie(req.headers(), COOKIE);
    let current = match token.as_deref() {
        Some(t) => match sessions::lookup(&state.db, t).await {
            Ok(c) => c,
            Err(e) => return ApiError(e).into_response(),
        },
        None => None,
    };
    let Some(current) = current else {
        return next.run(req).await;
    };
    let mut actor = current.actor;
    actor.origin = Some(origin_of(&state, &req));
    let info = SessionInfo {
        actor,
        csrf_token: current.session.csrf_token,
        session_id: current.session.id,
        token: token.unwrap_or_default(),
        bearer: false,
        pending_2fa: current.session.two_factor_pending,
    };
    let unsafe_method = !req.method().is_safe();
    let second_step = info.pending_2fa
        && matches!(
            req.uri().path(),
            "/api/auth/2fa/verify" | "/auth/verify-2fa" | "/auth/signout" | "/api/auth/signout"
        );
    if unsafe_method && !csrf_exempt(req.uri().path()) && !second_step {
        let header_ok = req
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| same(v, &info.csrf_token));
        if !header_ok {
            let content_type = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let is_form = content_type.starts_with("application/x-www-form-urlencoded");
            let mut ok = false;
            if content_type.starts_with("multipart/form-data") {
                // a file upload form (CSV import): the token is one of its fields
                let upload = matches!(req.uri().path(), "/contacts/import" | "/companies/import");
                let limit = if upload {
                    state.config.import_max_bytes.saturating_add(1024 * 1024)
                } else {
                    2 * 1024 * 1024
                };
                let (parts, body) = req.into_parts();
                let bytes = match to_bytes(body, usize::try_from(limit).unwrap_or(usize::MAX)).await {
                    Ok(b) => b,
                    Err(_) => {
                        let e = if upload {
                            crm_core::import::read::too_large(state.config.import_max_bytes)
                        } else {
                            CoreError::TooLarge("The form is too large".into())
                        };
                        return PageError(e).into_response();
                    }
                };
                ok = multipart_field(&content_type, &bytes, "csrf_token").is_some_and(|v| same(&v, &info.csrf_token));
                req = Request::from_parts(parts, Body::from(bytes));
            } else if is_form {
                let (parts, body) = req.into_parts();
                let bytes = match to_bytes(body, 2 * 1024 * 1024).await {
                    Ok(b) => b,
                    Err(_) => {
                        return PageError(CoreError::TooLarge("The form is too large".into())).into_response();
                    }
                };
                let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
                ok = pairs
                    .iter()
                    .any(|(k, v)| k == "csrf_token" && same(v, &info.csrf_token));
                req = Request::from_parts(parts, Body::from(bytes));
            }
            if !ok {
                let e = CoreError::Forbidden("Missing or invalid CSRF token. Reload the page and try again.".into());
                return if req.uri().path().starts_with("/api/") {
                    ApiError(e).into_response()
                } else {
                    PageError(e).into_response()
                };
            }
        }
    }
    // a page's error is drawn inside the app frame for a fully signed-in user
    let frame = (!info.pending_2fa && !crate::http::envelope::is_api(req.uri().path())).then(|| crate::web::PageCtx {
        session: info.clone(),
        theme: crate::web::theme_of(req.headers()),
        path: req.uri().path().to_string(),
    });
    req.extensions_mut().insert(info);
    let res = next.run(req).await;
    match frame {
        Some(ctx) => crate::web::in_frame(res, &ctx),
        None => res,
    }
}

/// The value of the text field `name` in a multipart/form-data body (None when absent).
/// Only used to find the CSRF token of upload forms; the handler parses the body itself.
/// The boundary may be at most 70 characters (RFC 2046) and only the first 64 KiB are
/// searched (forms put the token first), so a crafted body cannot make this slow.
pub fn multipart_field(content_type: &str, body: &[u8], name: &str) -> Option<String> {
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))?
        .trim_matches('"');
    if boundary.is_empty() || boundary.len() > 70 {
        return None;
    }
    let body = &body[..body.len().min(64 * 1024)];
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let wanted = format!("name=\"{name}\"");
    let mut rest = body;
    while let Some(start) = find(rest, delimiter) {
        rest = &rest[start + delimiter.len()..];
        let head_end = find(rest, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&rest[..head_end]).to_ascii_lowercase();
        let value = &rest[head_end + 4..];
        let end = find(value, delimiter)?;
        if head.contains(&wanted.to_ascii_lowercase()) && !head.contains("filename=") {
            let v = &value[..end];
            let v = v.strip_suffix(b"\r\n").unwrap_or(v);
            return Some(String::from_utf8_lossy(v).into_owned());
        }
        rest = &value[end..];
    }
    None
}

/// The signed-in actor of an API request; 401 `Not authenticated` otherwise.
pub struct ApiActor(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for ApiActor {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<SessionInfo>() {
            Some(s) if s.pending_2fa => Err(ApiError(CoreError::Unauthenticated(
                "Two-factor verification required".into(),
            ))),
            Some(s) => Ok(ApiActor(s.actor.clone())),
            None => Err(ApiError(CoreError::Unauthenticated("Not authenticated".into()))),
        }
    }
}

/// The session of a page request; a redirect to sign-in (coming back afterwards) otherwise.
pub struct PageSession(pub SessionInfo);

impl<S: Send + Sync> FromRequestParts<S> for PageSession {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<SessionInfo>() {
            Some(s) if s.pending_2fa => Err(Redirect::to("/auth/verify-2fa").into_response()),
            Some(s) => Ok(PageSession(s.clone())),
            None => {
                let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                let target = format!("/auth/signin?next={}", urlencode(next));
                Err(Redirect::to(&target).into_response())
            }
        }
    }
}

/// The optional session (sign-in page, layout chrome).
pub struct MaybeSession(pub Option<SessionInfo>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeSession {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeSession(parts.extensions.get::<SessionInfo>().cloned()))
    }
}

pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)])
        .map(|e| e[2..].to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::multipart_field;

    #[test]
    fn finds_the_token_field_and_refuses_oversized_boundaries() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc123\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nx\r\n--XyZ--\r\n";
        assert_eq!(
            multipart_field("multipart/form-data; boundary=XyZ", body, "csrf_token").as_deref(),
            Some("abc123")
        );
        assert_eq!(multipart_field("multipart/form-data; boundary=XyZ", body, "file"), None);
        let long = format!("multipart/form-data; boundary={}", "a".repeat(71));
        assert_eq!(
            multipart_field(&long, body, "csrf_token"),
            None,
            "RFC 2046: at most 70 characters"
        );
    }
}
