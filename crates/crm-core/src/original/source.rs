//! The original app's database as we read it: the tables and columns the import needs
//! (checked before anything is read) and one SELECT per table with every value cast to a
//! stable type, read through [`Row`].

use std::collections::BTreeSet;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, TryGetable};

use crate::error::{CoreError, CoreResult};

#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Text,
    Int,
    Float,
    Bool,
    Time,
}

impl Kind {
    fn sql(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Int => "bigint",
            Kind::Float => "float8",
            Kind::Bool => "boolean",
            Kind::Time => "timestamp(3)",
        }
    }
}

/// A table of the original schema (spec/data-model.md) and the columns we read from it.
pub(crate) struct Table {
    pub name: &'static str,
    /// How the report names it.
    pub label: &'static str,
    pub columns: &'static [(&'static str, Kind)],
    /// Rows are read in this order, so "the first of two duplicates" is stable.
    pub order: &'static str,
}

use Kind::{Bool, Float, Int, Text, Time};

pub(crate) const USER: Table = Table {
    name: "User",
    label: "users",
    columns: &[
        ("id", Text),
        ("email", Text),
        ("password", Text),
        ("name", Text),
        ("role", Text),
        ("avatar", Text),
        ("bio", Text),
        ("isActive", Bool),
        ("emailVerified", Time),
        ("twoFactorEnabled", Bool),
        ("twoFactorSecret", Text),
        ("lastSignInIp", Text),
        ("lastSignInAt", Time),
        ("createdAt", Time),
        ("updatedAt", Time),
    ],
    order: r#""createdAt", "id""#,
};

pub(crate) const COMPANY: Table = Table {
    name: "Company",
    label: "companies",
    columns: &[
        ("id", Text),
        ("name", Text),
        ("industry", Text),
        ("website", Text),
        ("phone", Text),
        ("address", Text),
        ("employeeCount", Int),
        ("revenue", Float),
        ("createdAt", Time),
        ("updatedAt", Time),
    ],
    order: r#""createdAt", "id""#,
};

pub(crate) const CONTACT: Table = Table {
    name: "Contact",
    label: "contacts",
    columns: &[
        ("id", Text),
        ("firstName", Text),
        ("lastName", Text),
        ("email", Text),
        ("phoneNumber", Text),
        ("status", Text),
        ("jobTitle", Text),
        ("companyId", Text),
        ("userId", Text),
        ("createdAt", Time),
        ("updatedAt", Time),
    ],
    order: r#""createdAt", "id""#,
};

pub(crate) const ACTIVITY: Table = Table {
    name: "Activity",
    label: "activities",
    columns: &[
        ("id", Text),
        ("type", Text),
        ("subject", Text),
        ("description", Text),
        ("contactId", Text),
        ("userId", Text),
        ("createdAt", Time),
        ("updatedAt", Time),
    ],
    order: r#""createdAt", "id""#,
};

pub(crate) const TASK: Table = Table {
    name: "Task",
    label: "tasks",
    columns: &[
        ("id", Text),
        ("title", Text),
        ("description", Text),
        ("dueDate", Time),
        ("priority", Text),
        ("completed", Bool),
        ("completedAt", Time),
        ("contactId", Text),
        ("userId", Text),
        ("createdAt", Time),
        ("updatedAt", Time),
    ],
    order: r#""createdAt", "id""#,
};

pub(crate) const DEAL: Table = Table {
    name: "Deal",
    label: "deals",
    columns: &[
        ("id", Text),
        ("name", Text),
        ("value", Float),
        ("stage", Text),
        ("expectedCloseDate", Time),
        ("actualCloseDate", Time),
        ("status", Text),
        ("probability", Int),
        ("description", Text),
        ("contactId", Text),
        ("companyId", Text),
        ("userId", Text),
        ("createdAt", Time),
        ("updatedAt", Time),
    ],
    order: r#""createdAt", "id""#,
};

pub(crate) const DEAL_STAGE_HISTORY: Table = Table {
    name: "DealStageHistory",
    label: "deal stage history",
    columns: &[
        ("id", Text),
        ("dealId", Text),
        ("fromStage", Text),
        ("toStage", Text),
        ("changedAt", Time),
    ],
    order: r#""changedAt", "id""#,
};

pub(crate) const BACKUP_CODE: Table = Table {
    name: "TwoFactorBackupCode",
    label: "backup codes",
    columns: &[
        ("id", Text),
        ("userId", Text),
        ("code", Text),
        ("used", Bool),
        ("createdAt", Time),
    ],
    order: r#""createdAt", "id""#,
};

pub(crate) const SIGN_IN_HISTORY: Table = Table {
    name: "SignInHistory",
    label: "sign-in history",
    columns: &[
        ("id", Text),
        ("userId", Text),
        ("ipAddress", Text),
        ("userAgent", Text),
        ("success", Bool),
        ("failureReason", Text),
        ("createdAt", Time),
    ],
    order: r#""createdAt", "id""#,
};

pub(crate) const ALL: [&Table; 9] = [
    &USER,
    &COMPANY,
    &CONTACT,
    &ACTIVITY,
    &TASK,
    &DEAL,
    &DEAL_STAGE_HISTORY,
    &BACKUP_CODE,
    &SIGN_IN_HISTORY,
];

/// Refuse a source that is not the original app's database, naming every table and
/// column that is missing.
pub(crate) async fn check(conn: &impl ConnectionTrait) -> CoreResult<()> {
    let rows = conn
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
             WHERE table_schema = current_schema()",
        ))
        .await?;
    let mut present = BTreeSet::new();
    for r in rows {
        present.insert((r.try_get::<String>("", "t")?, r.try_get::<String>("", "c")?));
    }
    let problems = missing(&present);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CoreError::bad_request(format!(
            "source database is not the original CRM: {}",
            problems.join("; ")
        )))
    }
}

fn missing(present: &BTreeSet<(String, String)>) -> Vec<String> {
    let mut problems = Vec::new();
    for t in ALL {
        if !present.iter().any(|(table, _)| table == t.name) {
            problems.push(format!("table \"{}\" is missing", t.name));
            continue;
        }
        for (c, _) in t.columns {
            if !present.contains(&(t.name.to_string(), c.to_string())) {
                problems.push(format!("column \"{}\".\"{c}\" is missing", t.name));
            }
        }
    }
    problems
}

/// Every row of `t`, in its stable order.
pub(crate) async fn read(conn: &impl ConnectionTrait, t: &'static Table) -> CoreResult<Vec<Row>> {
    let cols: Vec<String> = t
        .columns
        .iter()
        .map(|(c, k)| format!("\"{c}\"::{} AS \"{c}\"", k.sql()))
        .collect();
    let sql = format!("SELECT {} FROM \"{}\" ORDER BY {}", cols.join(", "), t.name, t.order);
    let rows = conn
        .query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?;
    Ok(rows.into_iter().map(|r| Row { table: t.name, r }).collect())
}

/// One source row; each getter names the table and column when a value is unreadable.
pub(crate) struct Row {
    table: &'static str,
    r: QueryResult,
}

impl Row {
    fn get<T: TryGetable>(&self, c: &str) -> CoreResult<T> {
        self.r.try_get::<T>("", c).map_err(|e| {
            CoreError::Internal(anyhow::anyhow!(
                "source column \"{}\".\"{c}\" could not be read: {e}",
                self.table
            ))
        })
    }
    pub fn text(&self, c: &str) -> CoreResult<String> {
        self.get(c)
    }
    /// Optional text: blank becomes `None` (the original stores "" and NULL alike).
    pub fn opt_text(&self, c: &str) -> CoreResult<Option<String>> {
        Ok(self
            .get::<Option<String>>(c)?
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()))
    }
    pub fn boolean(&self, c: &str) -> CoreResult<bool> {
        self.get(c)
    }
    pub fn opt_int(&self, c: &str) -> CoreResult<Option<i64>> {
        self.get(c)
    }
    pub fn opt_float(&self, c: &str) -> CoreResult<Option<f64>> {
        self.get(c)
    }
    /// The original writes UTC into `TIMESTAMP(3)` columns.
    pub fn time(&self, c: &str) -> CoreResult<DateTime<Utc>> {
        Ok(self.get::<chrono::NaiveDateTime>(c)?.and_utc().trunc_subsecs(3))
    }
    pub fn opt_time(&self, c: &str) -> CoreResult<Option<DateTime<Utc>>> {
        Ok(self
            .get::<Option<chrono::NaiveDateTime>>(c)?
            .map(|t| t.and_utc().trunc_subsecs(3)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn names_what_is_missing() {
        let mut present = BTreeSet::new();
        for t in ALL {
            for (c, _) in t.columns {
                present.insert((t.name.to_string(), c.to_string()));
            }
        }
        assert!(missing(&present).is_empty());
        present.retain(|(t, c)| t != "Deal" && !(t == "Contact" && c == "jobTitle"));
        assert_eq!(
            missing(&present),
            vec![
                "column \"Contact\".\"jobTitle\" is missing".to_string(),
                "table \"Deal\" is missing".to_string()
            ]
        );
    }
}
