//! Answers of the contact reads (`GET /api/contacts`, `GET /api/contacts/{id}`) kept for
//! a moment, so an API client reading the same record or list again and again costs a
//! lookup instead of a query.
//!
//! An answer is kept with the change epoch it was read under (`crm_core::changes`) and is
//! served while that epoch holds and for at most [`ANSWER_TTL`]: any write this instance
//! serves, an import batch, or (PostgreSQL) a change notice from any instance ends it. The
//! lifetime bounds what no notice reaches — another process writing the same SQLite file.
//!
//! What it may be served to is decided by the scope rules: a record's answer keeps its
//! owner and is served only to whom [`scope::may_read`] allows (anyone else takes the
//! normal path, which answers 404 and audits the refusal); a list's answer is kept per
//! reach ([`scope::reach`]: everyone's records, or one rep's) and query string.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use crm_core::{Actor, Db, scope};
use uuid::Uuid;

use super::error::ApiResult;

/// How long an answer may be served without being read again.
pub const ANSWER_TTL: Duration = Duration::from_secs(1);
/// More bytes than this kept and the cache starts over rather than grow.
const MAX_BYTES: usize = 16 * 1024 * 1024;

#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// One record of a kind (its path, e.g. `/contacts`) by id.
    Record(&'static str, Uuid),
    /// A kind's list for a reach and a query string.
    List(&'static str, Option<Uuid>, String),
}

struct Entry {
    epoch: u64,
    at: Instant,
    /// The record's owner (lists: unused).
    owner: Option<Uuid>,
    body: Bytes,
}

#[derive(Default)]
pub struct Answers(Mutex<State>);

#[derive(Default)]
struct State {
    map: HashMap<Key, Entry>,
    bytes: usize,
}

/// A JSON answer to keep: its body and, for a record, its owner.
pub struct Kept {
    pub owner: Option<Uuid>,
    pub body: Bytes,
}

impl Kept {
    /// A list's answer.
    pub fn list(body: &serde_json::Value) -> ApiResult<Kept> {
        Ok(Kept {
            owner: None,
            body: serde_json::to_vec(body).map_err(anyhow::Error::from)?.into(),
        })
    }
    /// A record's answer (an envelope whose record names its owner as `userId`).
    pub fn record(body: &serde_json::Value) -> ApiResult<Kept> {
        Ok(Kept {
            owner: body["data"]["userId"].as_str().and_then(|s| Uuid::parse_str(s).ok()),
            ..Kept::list(body)?
        })
    }
}

fn json(body: Bytes) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

impl Answers {
    /// The answer under `key`: kept, when it is current and the actor may see it; else
    /// `read` makes it (kept when it succeeds).
    pub async fn answer<F>(&self, db: &Db, actor: &Actor, key: Key, read: F) -> ApiResult<Response>
    where
        F: Future<Output = ApiResult<Kept>>,
    {
        let Some(epoch) = db.change_epoch() else {
            return Ok(json(read.await?.body));
        };
        let record = matches!(key, Key::Record(..));
        if let Ok(mut state) = self.0.lock()
            && let Some(e) = state.map.get(&key)
        {
            if e.epoch == epoch && e.at.elapsed() < ANSWER_TTL {
                if !record || scope::may_read(actor, e.owner) {
                    return Ok(json(e.body.clone()));
                }
            } else if let Some(old) = state.map.remove(&key) {
                state.bytes -= old.body.len();
            }
        }
        let kept = read.await?;
        // read under a later epoch: a change may have come between, so it is not kept
        if db.change_epoch() == Some(epoch)
            && let Ok(mut state) = self.0.lock()
        {
            if state.bytes + kept.body.len() > MAX_BYTES {
                state.map.clear();
                state.bytes = 0;
            }
            state.bytes += kept.body.len();
            let entry = Entry {
                epoch,
                at: Instant::now(),
                owner: kept.owner,
                body: kept.body.clone(),
            };
            if let Some(old) = state.map.insert(key, entry) {
                state.bytes -= old.body.len();
            }
        }
        Ok(json(kept.body))
    }
}
