//! Shared HTTP plumbing: router, session + CSRF middleware, extractors, errors, headers.

pub mod answers;
pub mod api;
pub mod body;
pub mod envelope;
pub mod error;
pub mod metrics;
pub mod ratelimit;
pub mod resource;
pub mod router;
pub mod session;
