//! Request bodies. [`JsonObject`] reads any body as JSON (with or without a content type)
//! and insists on an object, so malformed JSON or a wrong shape is a clear 400, never a
//! 500. [`FormPairs`] reads an HTML form as ordered pairs.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use crm_core::CoreError;
use crm_core::input::{Input, Mode};
use serde_json::{Map, Value};

use super::error::ApiError;

pub struct JsonObject(pub Map<String, Value>);

impl JsonObject {
    pub fn input(self, mode: Mode) -> Input {
        Input::json(self.0, mode)
    }
}

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| CoreError::bad_request("The request body could not be read (too large?)"))?;
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(CoreError::bad_request("The request body must be a JSON object").into());
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(m)) => Ok(JsonObject(m)),
            Ok(_) => Err(CoreError::bad_request("The request body must be a JSON object").into()),
            Err(e) => Err(CoreError::bad_request(format!("Malformed JSON: {e}")).into()),
        }
    }
}

pub struct FormPairs(pub Vec<(String, String)>);

impl FormPairs {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    /// Where the form asks to go after it is saved (its `back` field, a local path only),
    /// else `default`; `done` names the notice shown there.
    pub fn back_or(&self, default: &str, done: &str) -> String {
        let to = self
            .get("back")
            .filter(|b| b.starts_with('/') && !b.starts_with("//") && !b.contains('\\'))
            .unwrap_or(default);
        let (path, _) = to.split_once('#').unwrap_or((to, ""));
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{path}{sep}done={done}")
    }
    /// The form as validation input, without the CSRF and control fields.
    pub fn input(&self, mode: Mode) -> Input {
        let pairs: Vec<(String, String)> = self
            .0
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "csrf_token" | "confirm" | "back"))
            .cloned()
            .collect();
        Input::form(&pairs, mode)
    }
}

impl<S: Send + Sync> FromRequest<S> for FormPairs {
    type Rejection = super::error::PageError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| CoreError::bad_request("The form could not be read"))?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| CoreError::bad_request("The form could not be read"))?;
        Ok(FormPairs(pairs))
    }
}
