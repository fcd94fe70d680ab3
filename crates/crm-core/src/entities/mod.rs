//! SeaORM entities, one file per table. Only the scope layer and the domain services
//! query them; owned entities implement [`crate::scope::Owned`].

pub mod activity;
pub mod activity_reach;
pub mod api_token;
pub mod app_setting;
pub mod audit_log;
pub mod backup_code;
pub mod calendar_feed;
pub mod company;
pub mod contact;
pub mod deal;
pub mod deal_stage_history;
pub mod deleted_record;
pub mod import;
pub mod import_error;
pub mod import_file;
pub mod import_upload;
pub mod mail_queue;
pub mod oidc_state;
pub mod record_count;
pub mod session;
pub mod sign_in_history;
pub mod task;
pub mod user;
pub mod verification_token;
pub mod webhook_delivery;
pub mod webhook_endpoint;
pub mod webhook_event;
