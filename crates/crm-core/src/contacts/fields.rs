//! The contact's optional text fields, in one table: each entry drives input validation
//! (API, forms, CSV import), the API view, the audit snapshot and the timeline's labels,
//! sorting, CSV export, the CSV import's column guesses, the original app's import, and
//! the form and record page. A new optional field is a migration, a column in
//! `entities/contact.rs`, an entry here, and its tests (ARCHITECTURE.md, "Adding a field").
//!
//! Fields with rules of their own (names, e-mail, phone with its match key, status,
//! company, owner) are written out in `write.rs`.

use std::collections::BTreeMap;

use sea_orm::{ModelTrait, Value};
use serde::Serialize;

use crate::entities::contact;
use crate::input::{Field, Input};

/// One optional text field of a contact.
pub struct Extra {
    /// The JSON, form and CSV key.
    pub key: &'static str,
    /// What a person reads: messages, the form's label, the record page.
    pub label: &'static str,
    /// At most this many characters.
    pub max: usize,
    pub column: contact::Column,
    /// CSV headers that mean this field, best first, compared after
    /// `import::mapping::normalise` (lower-case letters and digits only).
    pub import_headers: &'static [&'static str],
    /// The column of the original app's `Contact` table it comes from, if any.
    pub original: Option<&'static str>,
    /// The form's placeholder and `autocomplete` token.
    pub placeholder: &'static str,
    pub autocomplete: &'static str,
}

pub const EXTRAS: &[Extra] = &[Extra {
    key: "jobTitle",
    label: "Job title",
    max: 100,
    column: contact::Column::JobTitle,
    import_headers: &[
        "jobtitle",
        "organization1title",
        "organizationtitle",
        "title",
        "position",
    ],
    original: Some("jobTitle"),
    placeholder: "Software Engineer",
    autocomplete: "organization-title",
}];

impl Extra {
    /// The label in title case, as form labels and details read ("Job Title").
    pub fn title(&self) -> String {
        self.label
            .split(' ')
            .map(|w| {
                let mut c = w.chars();
                c.next().map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

pub fn by_key(key: &str) -> Option<&'static Extra> {
    EXTRAS.iter().find(|e| e.key == key)
}

/// The values of the extra fields (`null` when empty), keyed as in the API.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Extras(BTreeMap<&'static str, Option<String>>);

impl Extras {
    pub fn of(c: &contact::Model) -> Extras {
        Extras(EXTRAS.iter().map(|e| (e.key, text(c.get(e.column)))).collect())
    }
    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.as_deref())
    }
    /// (label, value) of the fields that have a value, in table order.
    pub fn filled(&self) -> Vec<(&'static str, &str)> {
        EXTRAS
            .iter()
            .filter_map(|e| Some((e.label, self.get(e.key)?)))
            .collect()
    }
}

/// One optional string property per table entry (what `#[serde(flatten)]` puts in the view).
impl schemars::JsonSchema for Extras {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ContactExtras".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let properties: serde_json::Map<String, serde_json::Value> = EXTRAS
            .iter()
            .map(|e| {
                let s = serde_json::json!({ "type": ["string", "null"], "maxLength": e.max, "description": e.label });
                (e.key.to_string(), s)
            })
            .collect();
        let required: Vec<&str> = EXTRAS.iter().map(|e| e.key).collect();
        schemars::json_schema!({ "type": "object", "properties": properties, "required": required })
    }
}

fn text(v: Value) -> Option<String> {
    match v {
        Value::String(s) => s,
        _ => None,
    }
}

/// The extra fields of a body, read and validated (absent ones stay absent).
pub(crate) fn read(input: &mut Input) -> Vec<Field<String>> {
    EXTRAS.iter().map(|e| input.opt_text(e.key, e.label, e.max)).collect()
}

/// Set the read values on a new contact (absent and null: no value).
pub(crate) fn set_new(m: &mut contact::Model, values: Vec<Field<String>>) {
    for (e, v) in EXTRAS.iter().zip(values) {
        m.set(e.column, Value::String(v.into_option()));
    }
}

/// Apply the read values to a contact being changed (absent keeps, null clears).
pub(crate) fn apply(m: &mut contact::Model, values: Vec<Field<String>>) {
    for (e, v) in EXTRAS.iter().zip(values) {
        let current = text(m.get(e.column));
        m.set(e.column, Value::String(v.apply(current)));
    }
}
