//! Errors raised outside a handler — the body limit, the timeout, an unknown method, a path
//! or query string the framework cannot read, a panic — come back as plain text or an empty
//! body. This layer turns every such error into the JSON envelope under `/api` and into the
//! app's error page elsewhere, so a client meets one error format whichever layer refused.

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use crm_core::CoreError;

use super::error::{ApiError, PageError};

/// `/api` and everything under it.
pub fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

pub async fn layer(req: Request, next: Next) -> Response {
    let api = is_api(req.uri().path());
    let method = req.method().clone();
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let ct = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ours = if api {
        ct.starts_with("application/json")
    } else {
        ct.starts_with("text/html")
    };
    if ours {
        return res;
    }
    let error = error_for(status, &method, api);
    let mut out = if api {
        ApiError(error).into_response()
    } else {
        PageError(error).into_response()
    };
    *out.status_mut() = status;
    // keep what tells the client how to go on (Allow on a 405, Retry-After on a 429)
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(v) = res.headers().get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        // the client may still be sending the rest of the body: say the connection ends
        out.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    out
}

/// A sentence for a status raised by a layer or the framework (never the library's text).
fn error_for(status: StatusCode, method: &Method, api: bool) -> CoreError {
    let m = |s: &str| s.to_string();
    match status {
        StatusCode::NOT_FOUND if api => CoreError::NotFound(m("No such API endpoint")),
        StatusCode::NOT_FOUND => CoreError::NotFound(m("There is no page at this address.")),
        StatusCode::METHOD_NOT_ALLOWED => CoreError::bad_request(format!("{method} is not allowed here")),
        StatusCode::PAYLOAD_TOO_LARGE => CoreError::TooLarge(m("The request body is too large")),
        StatusCode::REQUEST_TIMEOUT => CoreError::bad_request("The request took too long and was stopped"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            CoreError::bad_request("Send the body as JSON with Content-Type: application/json")
        }
        StatusCode::UNAUTHORIZED => CoreError::Unauthenticated(m("Not authenticated")),
        StatusCode::FORBIDDEN => CoreError::Forbidden(m("You are not allowed to do this")),
        StatusCode::TOO_MANY_REQUESTS => CoreError::TooMany(m("Too many requests, please try again later")),
        s if s.is_client_error() => {
            CoreError::bad_request("The request could not be read: check its address and query parameters")
        }
        _ => CoreError::Internal(anyhow::anyhow!("{status} raised outside a handler")),
    }
}
