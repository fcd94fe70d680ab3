//! Errors → responses. API handlers return [`ApiError`] (the JSON envelope); page handlers
//! return [`PageError`] (an HTML page, or a redirect to sign-in). Internal causes go to the
//! log with a request-independent message to the user.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use crm_core::CoreError;
use serde_json::json;

pub struct ApiError(pub CoreError);

impl<E: Into<CoreError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

pub fn status_of(e: &CoreError) -> StatusCode {
    match e {
        CoreError::Validation { .. } => StatusCode::BAD_REQUEST,
        CoreError::NotFound(_) => StatusCode::NOT_FOUND,
        CoreError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        CoreError::Forbidden(_) => StatusCode::FORBIDDEN,
        CoreError::Conflict(_) => StatusCode::CONFLICT,
        CoreError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
        CoreError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        CoreError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        CoreError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The message a user sees; internal errors are logged and replaced.
pub fn public_message(e: &CoreError) -> String {
    match e {
        CoreError::Internal(cause) => {
            tracing::error!(error = %format!("{cause:#}"), "internal error");
            "Something went wrong on our side. Please try again.".to_string()
        }
        other => other.to_string(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(&self.0);
        let message = public_message(&self.0);
        let body = match &self.0 {
            CoreError::Validation { fields, .. } if !fields.is_empty() => {
                json!({ "data": null, "error": message, "fieldErrors": fields })
            }
            _ => json!({ "data": null, "error": message }),
        };
        (status, Json(body)).into_response()
    }
}

/// `{"data": …, "error": null}` with a status.
pub fn envelope<T: serde::Serialize>(status: StatusCode, data: T) -> Response {
    (status, Json(envelope_json(data))).into_response()
}

/// The body of [`envelope`].
pub fn envelope_json<T: serde::Serialize>(data: T) -> serde_json::Value {
    json!({ "data": data, "error": null })
}

/// A list: `{"data": [...], "error": null, "pagination": {...}}`.
pub fn page_envelope<T: serde::Serialize>(page: crm_core::page::Page<T>) -> Response {
    Json(page_json(page)).into_response()
}

/// The body of [`page_envelope`].
pub fn page_json<T: serde::Serialize>(page: crm_core::page::Page<T>) -> serde_json::Value {
    json!({ "data": page.items, "error": null, "pagination": page.pagination })
}

pub struct PageError(pub CoreError);

impl<E: Into<CoreError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

pub type PageResult = Result<Response, PageError>;

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let CoreError::Unauthenticated(_) = self.0 {
            return Redirect::to("/auth/signin").into_response();
        }
        let status = status_of(&self.0);
        let message = public_message(&self.0);
        let title = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::BAD_REQUEST => "Something is not right",
            _ => "Something went wrong",
        };
        let page = crate::web::ErrorPage {
            title,
            message: &message,
            status: status.as_u16(),
        };
        let mut res = (status, Html(crate::web::render(&page))).into_response();
        res.extensions_mut()
            .insert(crate::web::ErrorInfo { title, message, status });
        res
    }
}
