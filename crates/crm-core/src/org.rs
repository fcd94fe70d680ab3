//! Organisation settings, edited by admins: the organisation's name (shown in the app
//! shell), its currency (ISO 4217: every amount is shown in it), its date format and the
//! day its weeks start ("this week" on the dashboard and in reports). One
//! JSON row in `app_settings` under `org`; every instance reads it.

use sea_orm::{ActiveModelTrait, EntityTrait, Set, TransactionTrait};
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::db::Db;
use crate::entities::app_setting;
use crate::error::CoreResult;
use crate::input::{Field, Input};
use crate::{audit, clock};

const KEY: &str = "org";

/// ISO 4217 codes offered, with the symbol amounts are written with and their minor
/// units (0 for yen and won).
pub const CURRENCIES: [(&str, &str, u32); 24] = [
    ("USD", "$", 2),
    ("EUR", "€", 2),
    ("GBP", "£", 2),
    ("CAD", "CA$", 2),
    ("AUD", "A$", 2),
    ("NZD", "NZ$", 2),
    ("CHF", "CHF ", 2),
    ("SEK", "SEK ", 2),
    ("NOK", "NOK ", 2),
    ("DKK", "DKK ", 2),
    ("PLN", "PLN ", 2),
    ("CZK", "CZK ", 2),
    ("JPY", "¥", 0),
    ("CNY", "CN¥", 2),
    ("INR", "₹", 2),
    ("KRW", "₩", 0),
    ("SGD", "S$", 2),
    ("HKD", "HK$", 2),
    ("BRL", "R$", 2),
    ("MXN", "MX$", 2),
    ("ZAR", "R ", 2),
    ("TRY", "₺", 2),
    ("ILS", "₪", 2),
    ("AED", "AED ", 2),
];

/// Date formats: `mdy` (Nov 30, 2026), `dmy` (30 Nov 2026), `ymd` (2026-11-30).
pub const DATE_FORMATS: [&str; 3] = ["mdy", "dmy", "ymd"];

/// The day "this week" starts on.
pub const WEEK_STARTS: [&str; 2] = ["monday", "sunday"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OrgSettings {
    pub name: String,
    pub currency: String,
    pub date_format: String,
    pub week_start: String,
}

impl Default for OrgSettings {
    fn default() -> Self {
        OrgSettings {
            name: "CRM".into(),
            currency: "USD".into(),
            date_format: "mdy".into(),
            week_start: "monday".into(),
        }
    }
}

impl OrgSettings {
    /// The first day of the week that holds `day`.
    pub fn week_of(&self, day: chrono::NaiveDate) -> chrono::NaiveDate {
        use chrono::Datelike;
        let back = match self.week_start.as_str() {
            "sunday" => day.weekday().num_days_from_sunday(),
            _ => day.weekday().num_days_from_monday(),
        };
        day - chrono::Duration::days(back as i64)
    }
    /// (symbol, minor units) of the currency.
    pub fn money_style(&self) -> (&'static str, u32) {
        CURRENCIES
            .iter()
            .find(|(c, _, _)| *c == self.currency)
            .map(|(_, s, d)| (*s, *d))
            .unwrap_or(("$", 2))
    }
}

pub async fn get(db: &Db) -> CoreResult<OrgSettings> {
    Ok(app_setting::Entity::find_by_id(KEY.to_string())
        .one(&db.conn)
        .await?
        .and_then(|r| serde_json::from_str(&r.value).ok())
        .unwrap_or_default())
}

/// Partial update by an admin (`name`, `currency`, `dateFormat`, `weekStart`), audited.
pub async fn update(db: &Db, actor: &Actor, mut input: Input) -> CoreResult<OrgSettings> {
    crate::admin::require(db, actor, crate::admin::UserAction::Update).await?;
    let name = match input.opt_text("name", "Organisation name", 100) {
        Field::Null => {
            input.error("name", "Organisation name is required");
            Field::Absent
        }
        other => other,
    };
    let codes: Vec<&str> = CURRENCIES.iter().map(|c| c.0).collect();
    let currency = match input.opt_text("currency", "Currency", 3) {
        Field::Value(c) if !codes.contains(&c.to_uppercase().as_str()) => {
            input.error("currency", format!("Currency must be one of: {}", codes.join(", ")));
            Field::Absent
        }
        other => other,
    };
    let format = match input.opt_text("dateFormat", "Date format", 3) {
        Field::Value(f) if !DATE_FORMATS.contains(&f.as_str()) => {
            input.error("dateFormat", "Date format must be one of: mdy, dmy, ymd");
            Field::Absent
        }
        other => other,
    };
    let week = match input.opt_text("weekStart", "Week start", 6) {
        Field::Value(w) if !WEEK_STARTS.contains(&w.to_lowercase().as_str()) => {
            input.error("weekStart", "Week start must be monday or sunday");
            Field::Absent
        }
        other => other,
    };
    input.finish()?;
    let before = get(db).await?;
    let mut after = before.clone();
    if let Field::Value(n) = name {
        after.name = n;
    }
    if let Field::Value(c) = currency {
        after.currency = c.to_uppercase();
    }
    if let Field::Value(f) = format {
        after.date_format = f;
    }
    if let Field::Value(w) = week {
        after.week_start = w.to_lowercase();
    }
    let txn = db.conn.begin().await?;
    app_setting::Entity::delete_by_id(KEY.to_string()).exec(&txn).await?;
    app_setting::ActiveModel {
        key: Set(KEY.into()),
        value: Set(serde_json::to_string(&after).unwrap_or_default()),
        updated_at: Set(clock::now()),
    }
    .insert(&txn)
    .await?;
    let changes = audit::diff(
        &serde_json::to_value(&before).unwrap_or_default(),
        &serde_json::to_value(&after).unwrap_or_default(),
    );
    audit::record(&txn, Some(actor), "update", "settings", None, Some(changes)).await?;
    txn.commit().await?;
    Ok(after)
}
