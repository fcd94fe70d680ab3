//! Query-string parameters of list endpoints and pages, validated with clear messages.

use uuid::Uuid;

use crate::error::FieldErrors;
use crate::page::{MAX_LIMIT, PageReq};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDir {
    Asc,
    Desc,
}

impl SortDir {
    pub fn as_str(&self) -> &'static str {
        match self {
            SortDir::Asc => "asc",
            SortDir::Desc => "desc",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    /// Control characters (a NUL that no database stores, a stray tab) become spaces: a
    /// filter is never an error for what it cannot match.
    pub fn new(mut pairs: Vec<(String, String)>) -> Self {
        for (_, v) in &mut pairs {
            if let std::borrow::Cow::Owned(clean) = crate::text::without_controls(v) {
                *v = clean;
            }
        }
        QueryParams { pairs }
    }

    /// The trimmed value, `None` when absent or empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Set (or replace) a parameter.
    pub fn set(&mut self, key: &str, value: &str) {
        self.pairs.retain(|(k, _)| k != key);
        self.pairs.push((key.to_string(), value.to_string()));
    }

    pub fn errors(&self) -> FieldErrors {
        FieldErrors::default()
    }

    /// `search` (or `q`), at most 200 characters.
    pub fn search(&self) -> Option<String> {
        self.get("search")
            .or_else(|| self.get("q"))
            .map(|s| s.chars().take(200).collect())
    }

    /// One of a vocabulary's names; `all` means no filter.
    pub fn opt_enum<T: crate::vocab::Vocab>(&self, key: &str, label: &str, errs: &mut FieldErrors) -> Option<T> {
        self.opt_one_of(key, label, T::NAMES, errs).and_then(|v| T::parse(&v))
    }

    /// One of `allowed`; `all` means no filter.
    pub fn opt_one_of(&self, key: &str, label: &str, allowed: &[&str], errs: &mut FieldErrors) -> Option<String> {
        let v = self.get(key)?;
        if v == "all" {
            return None;
        }
        if allowed.contains(&v) {
            Some(v.to_string())
        } else {
            errs.add(key, format!("{label} must be one of: {}", allowed.join(", ")));
            None
        }
    }

    /// `cursor`: a previous page's `nextCursor`.
    pub fn cursor(&self, errs: &mut FieldErrors) -> Option<crate::keyset::Cursor> {
        let c = self.get("cursor").filter(|c| !c.is_empty())?;
        match crate::keyset::Cursor::decode(c) {
            Ok(c) => Some(c),
            Err(_) => {
                errs.add("cursor", "Invalid cursor: use the nextCursor of the previous page");
                None
            }
        }
    }

    pub fn opt_uuid(&self, key: &str, message: &str, errs: &mut FieldErrors) -> Option<Uuid> {
        let v = self.get(key)?;
        match Uuid::parse_str(v) {
            Ok(u) => Some(u),
            Err(_) => {
                errs.add(key, message);
                None
            }
        }
    }

    /// A date range: `from` at its start, `to` through the end of its day (of the organisation's zone, or the exact
    /// instant when a time is given). `from` after `to` is an error.
    pub fn date_range(
        &self,
        from_key: &str,
        to_key: &str,
        errs: &mut FieldErrors,
    ) -> (
        Option<chrono::DateTime<chrono::Utc>>,
        Option<chrono::DateTime<chrono::Utc>>,
    ) {
        let mut read = |key: &str, end: bool| {
            let v = self.get(key)?;
            match crate::input::parse_datetime(v) {
                Some(t) if end && v.len() == 10 => Some(crate::clock::day_start(
                    crate::clock::local(&t).date_naive() + chrono::Duration::days(1),
                )),
                Some(t) => Some(t),
                None => {
                    errs.add(key, "Invalid date format (use YYYY-MM-DD)");
                    None
                }
            }
        };
        let from = read(from_key, false);
        let to = read(to_key, true);
        if let (Some(f), Some(t)) = (from, to)
            && f >= t
        {
            errs.add(to_key, "The end date must not be before the start date");
        }
        (from, to)
    }

    pub fn dir(&self, default: SortDir, errs: &mut FieldErrors) -> SortDir {
        match self.get("order") {
            None => default,
            Some("asc") => SortDir::Asc,
            Some("desc") => SortDir::Desc,
            Some(_) => {
                errs.add("order", "Order must be asc or desc");
                default
            }
        }
    }

    /// `page` ≥ 1 and `limit` 1..=200.
    pub fn page(&self, default_limit: u64, errs: &mut FieldErrors) -> PageReq {
        let page = match self.get("page").map(|v| v.parse::<u64>()) {
            None => 1,
            Some(Ok(p)) if (1..=1_000_000).contains(&p) => p,
            Some(_) => {
                errs.add("page", "Page must be a whole number of 1 or more");
                1
            }
        };
        let limit = match self.get("limit").map(|v| v.parse::<u64>()) {
            None => default_limit,
            Some(Ok(l)) if (1..=MAX_LIMIT).contains(&l) => l,
            Some(_) => {
                errs.add("limit", format!("Limit must be a whole number from 1 to {MAX_LIMIT}"));
                default_limit
            }
        };
        PageReq { page, limit }
    }
}
