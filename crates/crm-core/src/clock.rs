//! Time helpers: timestamps are UTC with millisecond precision everywhere.

use chrono::{DateTime, SubsecRound, Utc};

/// Now, truncated to milliseconds (what we store and what we print).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// RFC 3339 UTC with milliseconds: `2026-01-03T18:30:00.000Z`.
pub fn fmt(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

pub fn fmt_opt(t: &Option<DateTime<Utc>>) -> Option<String> {
    t.as_ref().map(fmt)
}
