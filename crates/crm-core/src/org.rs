//! Organisation settings, edited by admins: the organisation's name (shown in the app
//! shell), its currency (ISO 4217: every amount is shown in it), its time zone (IANA: what
//! a day is, see `clock`), its date format and the day its weeks start ("this week" on the
//! dashboard and in reports). One JSON row in `app_settings` under `org`; every instance
//! reads it. The zone's offsets are also written to `tz_offsets`, from which the database
//! tallies records by the organisation's days; changing the zone rebuilds the tallies in
//! the same transaction.

use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, Set, TransactionTrait};
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct OrgSettings {
    pub name: String,
    pub currency: String,
    pub time_zone: String,
    pub date_format: String,
    pub week_start: String,
}

impl Default for OrgSettings {
    fn default() -> Self {
        OrgSettings {
            name: "CRM".into(),
            currency: "USD".into(),
            time_zone: "UTC".into(),
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
    /// The time zone (UTC when the stored name is unknown).
    pub fn zone(&self) -> clock::Tz {
        clock::parse_zone(&self.time_zone).unwrap_or(clock::Tz::UTC)
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

/// Partial update by an admin (`name`, `currency`, `timeZone`, `dateFormat`, `weekStart`),
/// audited.
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
    let zone = match input.opt_text("timeZone", "Time zone", 64) {
        Field::Value(z) => match clock::parse_zone(&z) {
            Some(tz) => Field::Value(tz.name().to_string()),
            None => {
                input.error(
                    "timeZone",
                    "Time zone must be an IANA name such as Europe/Berlin or America/New_York",
                );
                Field::Absent
            }
        },
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
    if let Field::Value(z) = zone {
        after.time_zone = z;
    }
    if let Field::Value(f) = format {
        after.date_format = f;
    }
    if let Field::Value(w) = week {
        after.week_start = w.to_lowercase();
    }
    let txn = db.conn.begin().await?;
    save(&txn, &after, before.zone() != after.zone()).await?;
    let changes = audit::diff(
        &serde_json::to_value(&before).unwrap_or_default(),
        &serde_json::to_value(&after).unwrap_or_default(),
    );
    audit::record(&txn, Some(actor), "update", "settings", None, Some(changes)).await?;
    txn.commit().await?;
    Ok(after)
}

/// Write the settings; with `new_zone`, also the zone's offsets and the tallies by its days.
async fn save(txn: &DatabaseTransaction, s: &OrgSettings, new_zone: bool) -> CoreResult<()> {
    app_setting::Entity::delete_by_id(KEY.to_string()).exec(txn).await?;
    app_setting::ActiveModel {
        key: Set(KEY.into()),
        value: Set(serde_json::to_string(s).unwrap_or_default()),
        updated_at: Set(clock::now()),
    }
    .insert(txn)
    .await?;
    if new_zone {
        txn.execute_unprepared("DELETE FROM tz_offsets").await?;
        for chunk in clock::offsets(s.zone()).chunks(200) {
            let mut q = Query::insert();
            q.into_table(Alias::new("tz_offsets"))
                .columns([Alias::new("starts"), Alias::new("minutes")]);
            for (t, m) in chunk {
                q.values_panic([(*t).into(), (*m).into()]);
            }
            txn.execute(&q).await?;
        }
        let rows = crate::migration::rebuild_tallies_in(txn).await?;
        tracing::info!(zone = %s.time_zone, rows, "tallies rebuilt for the organisation's time zone");
    }
    Ok(())
}

/// At start-up: a database whose settings never named a time zone takes `CRM_TIMEZONE`
/// (the setting's initial value, contract.md); an unknown name is an error.
pub async fn adopt_initial_zone(db: &Db, name: Option<&str>) -> anyhow::Result<()> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(());
    };
    let Some(tz) = clock::parse_zone(name) else {
        anyhow::bail!("CRM_TIMEZONE={name} is not an IANA time zone (such as Europe/Berlin or America/New_York)");
    };
    let stored = app_setting::Entity::find_by_id(KEY.to_string()).one(&db.conn).await?;
    let named = stored
        .as_ref()
        .and_then(|r| serde_json::from_str::<serde_json::Value>(&r.value).ok())
        .is_some_and(|v| v.get("timeZone").is_some());
    if named {
        return Ok(());
    }
    let mut s = get(db).await?;
    s.time_zone = tz.name().to_string();
    let txn = db.conn.begin().await?;
    save(&txn, &s, tz != clock::Tz::UTC).await?;
    txn.commit().await?;
    Ok(())
}
