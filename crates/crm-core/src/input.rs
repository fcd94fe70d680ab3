//! The one validation layer. API bodies (JSON objects) and HTML forms (url-encoded
//! fields) are both turned into an [`Input`], so both paths give identical messages.
//! Each reader records the first problem per field; [`Input::finish`] turns them into
//! a [`CoreError::Validation`].

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::vocab::Vocab;

use crate::error::{CoreResult, FieldErrors};

/// A field of a partial update: absent (keep), null (clear) or a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<T> {
    Absent,
    Null,
    Value(T),
}

impl<T> Field<T> {
    pub fn value(self) -> Option<T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }
    pub fn is_absent(&self) -> bool {
        matches!(self, Field::Absent)
    }
    /// Absent/Null carried over to another value type.
    fn empty<U>(self) -> Field<U> {
        match self {
            Field::Null => Field::Null,
            _ => Field::Absent,
        }
    }
    /// For a create: absent and null both mean "no value".
    pub fn into_option(self) -> Option<T> {
        self.value()
    }
    /// Apply to a stored optional value: absent keeps it.
    pub fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Field::Absent => current,
            Field::Null => None,
            Field::Value(v) => Some(v),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Update,
}

pub struct Input {
    map: Map<String, Value>,
    /// Every key a reader looked at (what a body may hold: the API reference checks its
    /// documented bodies against it).
    seen: std::cell::RefCell<std::collections::BTreeSet<String>>,
    /// Values came from an HTML form: every value is a string, numbers are parsed.
    form: bool,
    mode: Mode,
    errors: FieldErrors,
}

impl Input {
    pub fn json(map: Map<String, Value>, mode: Mode) -> Self {
        Input {
            map,
            seen: Default::default(),
            form: false,
            mode,
            errors: FieldErrors::default(),
        }
    }

    pub fn form(pairs: &[(String, String)], mode: Mode) -> Self {
        let mut map = Map::new();
        for (k, v) in pairs {
            map.insert(k.clone(), Value::String(v.clone()));
        }
        Input {
            map,
            seen: Default::default(),
            form: true,
            mode,
            errors: FieldErrors::default(),
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// A JSON boolean (or "true"/"false"/"on" from a form); `None` when absent or null.
    pub fn bool_value(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) if self.form => Some(matches!(s.as_str(), "true" | "on" | "1")),
            _ => None,
        }
    }

    /// Make a field read with an `opt_*` reader required: absent on create, or null, is
    /// "<label> is required".
    pub fn required<T>(&mut self, key: &str, label: &str, f: Field<T>) -> Field<T> {
        match f {
            Field::Absent if self.mode == Mode::Create && !self.has_error(key) => {
                self.error(key, format!("{label} is required"));
                Field::Absent
            }
            Field::Null => {
                self.error(key, format!("{label} is required"));
                Field::Absent
            }
            other => other,
        }
    }

    /// A list of strings: a JSON array of strings, or (from a form) one comma-separated
    /// value. `None` when absent or not such a list.
    pub fn str_list(&self, key: &str) -> Option<Vec<String>> {
        match self.get(key)? {
            Value::Array(a) => a
                .iter()
                .map(|v| v.as_str().map(|s| s.trim().to_string()))
                .collect::<Option<Vec<String>>>()
                .map(|l| l.into_iter().filter(|s| !s.is_empty()).collect()),
            Value::String(s) if self.form => Some(
                s.split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect(),
            ),
            _ => None,
        }
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The raw value of `key`, noting that it was asked for.
    fn get(&self, key: &str) -> Option<&Value> {
        self.seen.borrow_mut().insert(key.to_string());
        self.map.get(key)
    }

    /// The keys `read` asks for on an empty create body: what such a body may hold.
    pub fn keys_read_by(read: impl FnOnce(&mut Input)) -> Vec<String> {
        let mut input = Input::json(Map::new(), Mode::Create);
        read(&mut input);
        input.seen.into_inner().into_iter().collect()
    }

    pub fn error(&mut self, key: &str, message: impl Into<String>) {
        self.errors.add(key, message);
    }

    pub fn has_error(&self, key: &str) -> bool {
        self.errors.has(key)
    }

    pub fn finish(self) -> CoreResult<()> {
        self.errors.finish()
    }

    /// Raw string: trimmed; `""` and `null` are Null. Non-strings are an error.
    fn raw_text(&mut self, key: &str, label: &str) -> Field<String> {
        match self.get(key) {
            None => Field::Absent,
            Some(Value::Null) => Field::Null,
            Some(Value::String(s)) => {
                let t = s.trim();
                if t.is_empty() {
                    Field::Null
                } else if t.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
                    // a NUL cannot be stored by PostgreSQL; other controls are never meant
                    self.error(key, format!("{label} contains a control character"));
                    Field::Absent
                } else {
                    Field::Value(t.to_string())
                }
            }
            Some(_) => {
                self.error(key, format!("{label} must be text"));
                Field::Absent
            }
        }
    }

    fn missing(&mut self, key: &str, label: &str, present_but_empty: bool) -> bool {
        if present_but_empty || self.mode == Mode::Create {
            self.error(key, format!("{label} is required"));
            return true;
        }
        false
    }

    /// A required text of at most `max` characters.
    pub fn req_text(&mut self, key: &str, label: &str, max: usize) -> Field<String> {
        match self.raw_text(key, label) {
            Field::Absent => {
                if !self.has_error(key) {
                    self.missing(key, label, false);
                }
                Field::Absent
            }
            Field::Null => {
                self.missing(key, label, true);
                Field::Absent
            }
            Field::Value(v) => self.max_len(key, label, v, max),
        }
    }

    /// An optional text of at most `max` characters (`""` clears it).
    pub fn opt_text(&mut self, key: &str, label: &str, max: usize) -> Field<String> {
        match self.raw_text(key, label) {
            Field::Value(v) => self.max_len(key, label, v, max),
            other => other,
        }
    }

    fn max_len(&mut self, key: &str, label: &str, v: String, max: usize) -> Field<String> {
        if v.chars().count() > max {
            self.error(key, format!("{label} must be less than {max} characters"));
            Field::Absent
        } else {
            Field::Value(v)
        }
    }

    /// A required e-mail address (stored lower-cased).
    pub fn req_email(&mut self, key: &str, label: &str) -> Field<String> {
        match self.req_text(key, label, 254) {
            Field::Value(v) => {
                if is_email(&v) {
                    Field::Value(crate::text::email_key(&v))
                } else {
                    self.error(key, "Invalid email format");
                    Field::Absent
                }
            }
            other => other,
        }
    }

    /// An optional phone number of 10–20 characters.
    pub fn opt_phone(&mut self, key: &str) -> Field<String> {
        match self.opt_text(key, "Phone number", 20) {
            Field::Value(v) => {
                if v.chars().count() < 10 {
                    self.error(key, "Phone number must be at least 10 characters");
                    Field::Absent
                } else if !v.chars().all(|c| c.is_ascii_digit() || " +-().x".contains(c)) {
                    self.error(key, "Phone number may contain only digits, spaces and + - ( ) .");
                    Field::Absent
                } else {
                    Field::Value(v)
                }
            }
            other => other,
        }
    }

    /// An optional http(s) URL.
    /// An optional web address; `example.com/path` (no scheme, as people type it) is taken
    /// as `https://example.com/path`. Anything else than http(s) with a host is refused.
    pub fn opt_url(&mut self, key: &str, message: &str) -> Field<String> {
        match self.opt_text(key, "Website", 500) {
            Field::Value(v) => {
                let v = if v.contains("://") {
                    v
                } else {
                    format!("https://{}", v.trim_start_matches('/'))
                };
                let lower = v.to_ascii_lowercase();
                let ok = (lower.starts_with("http://") || lower.starts_with("https://"))
                    && v.split("://").nth(1).is_some_and(|rest| {
                        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
                        host.contains('.') || host.starts_with("localhost")
                    })
                    && !v.contains(char::is_whitespace);
                if ok {
                    Field::Value(v)
                } else {
                    self.error(key, message);
                    Field::Absent
                }
            }
            other => other,
        }
    }

    /// One of a vocabulary's names, required. Missing → "<label> is required"; unknown → a
    /// list of the allowed values.
    pub fn req_enum<T: Vocab>(&mut self, key: &str, label: &str) -> Field<T> {
        match self.raw_text(key, label) {
            Field::Absent => {
                if !self.has_error(key) {
                    self.missing(key, label, false);
                }
                Field::Absent
            }
            Field::Null => {
                self.missing(key, label, true);
                Field::Absent
            }
            Field::Value(v) => match T::parse(&v) {
                Some(t) => Field::Value(t),
                None => {
                    self.error(key, format!("{label} must be one of: {}", T::NAMES.join(", ")));
                    Field::Absent
                }
            },
        }
    }

    /// An optional UUID reference; a malformed one gets `message`.
    pub fn opt_uuid(&mut self, key: &str, message: &str) -> Field<Uuid> {
        match self.raw_text(key, message) {
            Field::Value(v) => match Uuid::parse_str(&v) {
                Ok(u) => Field::Value(u),
                Err(_) => {
                    self.error(key, message);
                    Field::Absent
                }
            },
            Field::Absent if self.has_error(key) => {
                // replace the generic "must be text" with the field's own message
                self.errors.set(key, message);
                Field::Absent
            }
            other => other.empty(),
        }
    }

    /// An optional whole number ≥ 0.
    pub fn opt_count(&mut self, key: &str, not_whole: &str, negative: &str) -> Field<i64> {
        match self.opt_number(key, not_whole) {
            Field::Value(n) => {
                if n.fract() != 0.0 || n.abs() > 9.0e15 {
                    self.error(key, not_whole);
                    Field::Absent
                } else if n < 0.0 {
                    self.error(key, negative);
                    Field::Absent
                } else {
                    Field::Value(n as i64)
                }
            }
            other => other.empty(),
        }
    }

    /// An optional amount of money ≥ 0, returned in cents (exact; at most 2 decimals).
    pub fn opt_money(&mut self, key: &str, label: &str, negative: &str) -> Field<i64> {
        let raw = match self.get(key) {
            None => return Field::Absent,
            Some(Value::Null) => return Field::Null,
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) if self.form => {
                let t = s.trim().replace([',', '$'], "");
                if t.is_empty() {
                    return Field::Null;
                }
                t
            }
            Some(_) => {
                self.error(key, format!("{label} must be a number"));
                return Field::Absent;
            }
        };
        match parse_cents(&raw) {
            Some(c) if c < 0 => {
                self.error(key, negative);
                Field::Absent
            }
            Some(c) => Field::Value(c),
            None => {
                self.error(key, format!("{label} must be a number with at most 2 decimals"));
                Field::Absent
            }
        }
    }

    fn opt_number(&mut self, key: &str, message: &str) -> Field<f64> {
        match self.get(key) {
            None => Field::Absent,
            Some(Value::Null) => Field::Null,
            Some(Value::Number(n)) => match n.as_f64() {
                Some(f) => Field::Value(f),
                None => {
                    self.error(key, message);
                    Field::Absent
                }
            },
            Some(Value::String(s)) if self.form => {
                let t = s.trim();
                if t.is_empty() {
                    return Field::Null;
                }
                match t.parse::<f64>() {
                    Ok(f) if f.is_finite() => Field::Value(f),
                    _ => {
                        self.error(key, message);
                        Field::Absent
                    }
                }
            }
            Some(_) => {
                self.error(key, message);
                Field::Absent
            }
        }
    }

    /// An optional date or date-time (RFC 3339, or `YYYY-MM-DD` = midnight UTC).
    pub fn opt_datetime(&mut self, key: &str, message: &str) -> Field<DateTime<Utc>> {
        match self.raw_text(key, message) {
            Field::Value(v) => match parse_datetime(&v) {
                Some(t) => Field::Value(t),
                None => {
                    self.error(key, message);
                    Field::Absent
                }
            },
            other => other.empty(),
        }
    }
}

pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, ',' | '<' | '>' | '\u{fffd}'))
        && !local.contains('@')
}

/// "1234.5" → 123450 cents; more than two decimals or garbage → None.
pub fn parse_cents(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > 2 || int.len() > 13 {
        return None;
    }
    let whole: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let cents: i64 = format!("{frac:0<2}").parse().ok()?;
    let v = whole * 100 + cents;
    Some(if neg { -v } else { v })
}

/// An instant from RFC 3339; a time without an offset (a form's `datetime-local`) or a date
/// alone is read on the organisation's wall clock (a date: the start of that day).
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(n) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return Some(crate::clock::from_local(n));
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .map(crate::clock::day_start)
}

/// Cents → "1234.50" (for form values and JSON numbers).
pub fn cents_to_decimal(c: i64) -> String {
    let sign = if c < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", c.abs() / 100, c.abs() % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn cents() {
        assert_eq!(parse_cents("12.5"), Some(1250));
        assert_eq!(parse_cents("0.07"), Some(7));
        assert_eq!(parse_cents("100"), Some(10000));
        assert_eq!(parse_cents("1.234"), None);
        assert_eq!(parse_cents("abc"), None);
        assert_eq!(cents_to_decimal(1250), "12.50");
    }
    #[test]
    fn websites_without_a_scheme_are_normalised() {
        let read = |v: &str| {
            let mut map = serde_json::Map::new();
            map.insert("website".into(), serde_json::Value::String(v.into()));
            let mut i = Input::json(map, Mode::Create);
            (i.opt_url("website", "Invalid website URL"), i.finish().is_ok())
        };
        assert_eq!(read("acme.com").0, Field::Value("https://acme.com".into()));
        assert_eq!(
            read("www.acme.co.uk/about").0,
            Field::Value("https://www.acme.co.uk/about".into())
        );
        assert_eq!(read("http://acme.com").0, Field::Value("http://acme.com".into()));
        assert!(!read("ftp://acme.com").1);
        assert!(!read("not a site").1);
        assert!(!read("javascript:alert(1)").1);
        assert!(!read("https://").1);
    }
    #[test]
    fn emails() {
        assert!(is_email("a@b.co"));
        assert!(!is_email("a@b"));
        assert!(!is_email("a b@c.de"));
        assert!(!is_email("@c.de"));
    }
}
