//! Core of the CRM: entities, migrations, the permission scope, validation and the
//! domain services. Nothing here knows about HTTP; the web crate and the CLI call in.

pub mod accounts;
pub mod activities;
pub mod actor;
pub mod admin;
pub mod analytics;
pub mod audit;
pub mod calendar;
pub mod changes;
pub mod clock;
pub mod companies;
pub mod contacts;
pub mod crypto;
pub mod db;
pub mod deals;
mod entities;
pub mod error;
pub mod export;
pub mod ical;
pub mod import;
pub mod input;
pub mod keyset;
pub mod mail;
pub mod migration;
pub mod org;
pub mod original;
pub mod page;
pub mod query;
pub mod queue;
pub mod scope;
pub mod search;
pub mod seed;
mod store;
mod tallies;
pub mod tasks;
pub mod text;
pub mod vcard;
pub mod vocab;
pub mod webhooks;

/// The tables, outside every scope: for the CLI, seeding, benchmarks and tests only (the
/// web layer reads and writes through the domain modules, which apply the actor's scope).
pub mod unscoped {
    pub use crate::entities::*;
}

pub use actor::{Actor, Role};
pub use db::Db;
pub use error::{CoreError, CoreResult};
pub use vocab::{ActivityType, ContactStatus, DealStage, DealStatus, TaskPriority, Vocab};
