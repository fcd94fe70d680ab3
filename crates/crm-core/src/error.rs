//! The one error type of the core. Each variant carries a message a person can read;
//! `Internal` keeps the cause for the log only.

use std::collections::BTreeMap;

pub type CoreResult<T> = Result<T, CoreError>;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Bad input: the first message, and one message per failing field.
    #[error("{message}")]
    Validation {
        message: String,
        fields: BTreeMap<String, String>,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    /// Over a rate limit.
    #[error("{0}")]
    TooMany(String),
    /// A body or file over its size limit.
    #[error("{0}")]
    TooLarge(String),
    /// The database cannot be reached (down, restarting, the network): 503, try again.
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

impl CoreError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut fields = BTreeMap::new();
        fields.insert(field.to_string(), message.clone());
        CoreError::Validation { message, fields }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        CoreError::Validation {
            message: message.into(),
            fields: BTreeMap::new(),
        }
    }
    pub fn not_found(what: &str) -> Self {
        CoreError::NotFound(format!("{what} not found"))
    }
}

impl From<sea_orm::DbErr> for CoreError {
    fn from(e: sea_orm::DbErr) -> Self {
        if is_disk_full(&e) {
            tracing::error!(error = %e, "the database's disk is full");
            return CoreError::Unavailable(
                "The server's disk is full: nothing was saved. Please try again once an administrator has freed space."
                    .into(),
            );
        }
        if is_unreachable(&e) {
            tracing::warn!(error = %e, "database unreachable");
            return CoreError::Unavailable(
                "The database cannot be reached right now. Please try again in a moment.".into(),
            );
        }
        CoreError::Internal(e.into())
    }
}

/// The database's disk is full (SQLite `SQLITE_FULL`, PostgreSQL `disk_full`): the
/// statement and its transaction were rolled back.
pub fn is_disk_full(e: &sea_orm::DbErr) -> bool {
    matches!(sqlx_error(e), Some(sea_orm::sqlx::Error::Database(d)) if matches!(d.code().as_deref(), Some("13" | "53100")))
}

/// The database is not there (no connection within the pool's timeout, a connection lost
/// or refused), as opposed to a statement it refused.
pub fn is_unreachable(e: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as S;
    matches!(e, sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_))
        || matches!(
            sqlx_error(e),
            Some(S::Io(_) | S::PoolTimedOut | S::PoolClosed | S::WorkerCrashed | S::Tls(_))
        )
}

/// The driver's error under a failed statement.
fn sqlx_error(e: &sea_orm::DbErr) -> Option<&sea_orm::sqlx::Error> {
    use sea_orm::{DbErr, RuntimeErr};
    match e {
        DbErr::Query(RuntimeErr::SqlxError(s)) | DbErr::Exec(RuntimeErr::SqlxError(s)) => Some(s.as_ref()),
        _ => None,
    }
}

impl From<anyhow::Error> for CoreError {
    fn from(e: anyhow::Error) -> Self {
        CoreError::Internal(e)
    }
}

/// True when a database error is a unique-constraint violation (both backends).
pub fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}

/// A transaction lost to a concurrent one and can simply run again: a PostgreSQL deadlock
/// (40P01) or serialization failure (40001), or SQLite's "database is locked/busy".
pub fn is_retryable(e: &sea_orm::DbErr) -> bool {
    let text = e.to_string();
    [
        "40P01",
        "40001",
        "deadlock detected",
        "could not serialize",
        "database is locked",
        "database is busy",
    ]
    .iter()
    .any(|m| text.contains(m))
}

/// Collects one message per field; the first one becomes the response's `error`.
#[derive(Debug, Default)]
pub struct FieldErrors {
    fields: BTreeMap<String, String>,
    first: Option<String>,
}

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        let message = message.into();
        if self.first.is_none() {
            self.first = Some(message.clone());
        }
        self.fields.entry(field.to_string()).or_insert(message);
    }
    /// Replace the message of a field that already failed.
    pub fn set(&mut self, field: &str, message: &str) {
        if self.first.as_deref() == self.fields.get(field).map(|s| s.as_str()) {
            self.first = Some(message.to_string());
        }
        self.fields.insert(field.to_string(), message.to_string());
    }
    pub fn has(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }
    pub fn finish(self) -> CoreResult<()> {
        match self.first {
            None => Ok(()),
            Some(message) => Err(CoreError::Validation {
                message,
                fields: self.fields,
            }),
        }
    }
}
