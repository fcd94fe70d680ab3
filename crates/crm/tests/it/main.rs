//! The one integration test binary. Every test starts the real server on a random
//! loopback port with a fresh database and drives it over HTTP (or Chromium).
//!
//! `both!` runs a test on SQLite (always) and on PostgreSQL; the PostgreSQL variants are
//! `#[ignore]`d in a plain `cargo test` and run by `cargo test -- --ignored` with
//! `TEST_DATABASE_URL` set (as `.ci/run` does). Browser tests are ignored the same way.

mod support;

mod accounts;
mod admin;
mod auth;
mod browser;
mod calendar;
mod cli;
mod cluster;
mod companies;
mod contacts;
mod dashboard;
mod docs;
mod errors;
mod export;
mod import;
mod layout;
mod oidc;
mod original_import;
mod pages;
mod pipeline;
mod record;
mod resilience;
mod search;
mod setup;
mod twofactor;
mod vcard;
mod webhooks;
