//! Contacts over HTTP: the JSON API ([`api`]) and the pages ([`pages`]).

pub mod api;
pub mod pages;

use crm_core::CoreError;
use uuid::Uuid;

/// A path id; a malformed one is a 400 with the field's message.
pub fn parse_id(raw: &str, what: &str) -> Result<Uuid, CoreError> {
    Uuid::parse_str(raw).map_err(|_| CoreError::bad_request(format!("Invalid {what} ID")))
}
