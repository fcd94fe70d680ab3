//! One CSV record → validated fields, through the very readers the API and the forms use
//! (`contacts::write::read`, `companies::write::read`), so a rejected row carries the same
//! message a created contact or company would get. Empty cells are left out (a default
//! applies, or the field is required). A cell starting with `=`, `+`, `-` or `@` is plain text
//! here: it is stored as typed and neutralised again on export.

use super::mapping::Mapping;
use super::read::Record;
use crate::error::CoreError;
use crate::input::{Input, Mode};
use crate::{companies, contacts};

/// The cells of a record by field: for each field the first non-empty mapped cell.
pub fn values(mapping: &Mapping, rec: &Record) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    for (i, field) in mapping.iter().enumerate() {
        let (Some(field), Some(cell)) = (field, rec.cells.get(i)) else {
            continue;
        };
        // Google Contacts puts several values in one cell: "a@x.com ::: b@y.com"
        let cell = cell.split(" ::: ").next().unwrap_or("").trim();
        if cell.is_empty() || out.iter().any(|(k, _)| k == field) {
            continue;
        }
        out.push((field, cell.to_string()));
    }
    out
}

/// The status words of HubSpot lifecycle stages and Salesforce lead statuses, as ours.
fn status_word(s: &str) -> String {
    let t = s.trim().to_lowercase();
    let key: String = t.chars().filter(|c| c.is_alphanumeric()).collect();
    match key.as_str() {
        "customer" | "evangelist" | "closedconverted" | "client" | "won" => "customer".into(),
        "lead"
        | "subscriber"
        | "marketingqualifiedlead"
        | "salesqualifiedlead"
        | "opportunity"
        | "other"
        | "opennotcontacted"
        | "workingcontacted"
        | "closednotconverted"
        | "new"
        | "open"
        | "prospect" => "lead".into(),
        _ => t,
    }
}

/// "Ada King Lovelace" → ("Ada King", "Lovelace"); one word → that word as both.
fn split_name(full: &str) -> (String, String) {
    let full = full.split_whitespace().collect::<Vec<_>>().join(" ");
    match full.rsplit_once(' ') {
        Some((first, last)) => (first.to_string(), last.to_string()),
        None => (full.clone(), full),
    }
}

/// A contact row that passed validation.
pub(crate) struct ContactRow {
    pub(crate) fields: contacts::write::Fields,
    /// The company cell (matched by name key, or created).
    pub(crate) company: Option<String>,
}

/// Validate a contact record; the error is the message the contact API would give.
pub(crate) fn contact(mapping: &Mapping, rec: &Record) -> Result<ContactRow, CoreError> {
    let vals = values(mapping, rec);
    let get = |k: &str| vals.iter().find(|(f, _)| *f == k).map(|(_, v)| v.clone());
    let mut pairs: Vec<(String, String)> = Vec::new();
    let (mut first, mut last) = (get("firstName"), get("lastName"));
    if let Some(full) = get("fullName")
        && (first.is_none() || last.is_none())
    {
        let (f, l) = split_name(&full);
        first = first.or(Some(f));
        last = last.or(Some(l));
    }
    for (k, v) in [("firstName", first), ("lastName", last)] {
        if let Some(v) = v {
            pairs.push((k.into(), v));
        }
    }
    let extras = contacts::fields::EXTRAS.iter().map(|e| e.key);
    for k in ["email", "phoneNumber", "company"].into_iter().chain(extras) {
        if let Some(v) = get(k) {
            pairs.push((k.into(), v));
        }
    }
    if let Some(s) = get("status") {
        pairs.push(("status".into(), status_word(&s)));
    }
    let mut input = Input::form(&pairs, Mode::Create);
    let fields = contacts::write::read(&mut input);
    let company = input.opt_text("company", "Company name", 255).value();
    input.finish()?;
    Ok(ContactRow { fields, company })
}

/// "acme.com" → "https://acme.com" (exports often hold a bare domain).
fn website(v: &str) -> String {
    let t = v.trim();
    if t.contains("://") || t.contains(char::is_whitespace) || !t.contains('.') {
        t.to_string()
    } else {
        format!("https://{t}")
    }
}

/// Validate a company record; the error is the message the company API would give.
pub(crate) fn company(mapping: &Mapping, rec: &Record) -> Result<companies::write::Fields, CoreError> {
    let pairs: Vec<(String, String)> = values(mapping, rec)
        .into_iter()
        .map(|(k, v)| {
            let v = if k == "website" { website(&v) } else { v };
            (k.to_string(), v)
        })
        .collect();
    let mut input = Input::form(&pairs, Mode::Create);
    let fields = companies::write::read(&mut input);
    input.finish()?;
    Ok(fields)
}

/// All messages of a validation error, the first (the API's `error`) first.
pub fn reason(e: &CoreError) -> String {
    match e {
        CoreError::Validation { message, fields } => {
            let mut parts = vec![message.clone()];
            for m in fields.values() {
                if !parts.contains(m) {
                    parts.push(m.clone());
                }
            }
            parts.join("; ")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_names() {
        assert_eq!(status_word("Marketing Qualified Lead"), "lead");
        assert_eq!(status_word("Closed - Converted"), "customer");
        assert_eq!(status_word("VIP"), "vip");
        assert_eq!(
            split_name(" Ada  King Lovelace "),
            ("Ada King".into(), "Lovelace".into())
        );
        assert_eq!(website("acme.com"), "https://acme.com");
    }
}
