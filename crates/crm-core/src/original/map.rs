//! One source row → one of our rows. Ids are kept when they are UUIDs and derived
//! deterministically otherwise; values are normalised with the same helpers our own
//! writes use (e-mail and phone keys, company name key, money as cents, enums).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::source::Row;
use super::upsert::Mapped;
use crate::accounts::twofactor;
use crate::contacts;
use crate::crypto::SecretBox;
use crate::entities::{activity, backup_code, company, contact, deal, deal_stage_history, sign_in_history, task, user};
use crate::error::CoreResult;
use crate::text::{email_key, name_key, phone_key};
use crate::vocab::{ActivityType, ContactStatus, DealStage, Role, TaskPriority, Vocab};

/// Our id for a source row: the same UUID when the source id is one (contacts, companies,
/// deals … in the original), otherwise a UUID derived from table and id (users' CUIDs), so
/// every run maps a row to the same id.
pub(crate) fn target_id(table: &str, source_id: &str) -> Uuid {
    if let Ok(u) = Uuid::parse_str(source_id.trim()) {
        return u;
    }
    let digest = Sha256::new()
        .chain_update(b"crm-import-original\0")
        .chain_update(table.as_bytes())
        .chain_update(b"\0")
        .chain_update(source_id.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// What mapping needs from the tables already imported, and the notes it collects.
pub(crate) struct Ctx<'a> {
    pub keys: &'a SecretBox,
    pub users: HashMap<String, Uuid>,
    /// Source users linked to an account that was already here: their 2FA codes stay out.
    pub matched_users: HashSet<String>,
    /// Source users whose account this run created: only they get the original's backup
    /// codes (a later run must not bring back codes a user has replaced here).
    pub new_users: HashSet<String>,
    /// Accounts an admin deleted here (audit log): a later run does not bring them back.
    pub deleted_users: HashSet<Uuid>,
    pub user_emails: HashMap<String, String>,
    pub companies: HashMap<String, Uuid>,
    pub contacts: HashMap<String, Uuid>,
    pub deals: HashMap<String, Uuid>,
    pub notes: Vec<String>,
}

impl<'a> Ctx<'a> {
    pub fn new(keys: &'a SecretBox) -> Self {
        Ctx {
            keys,
            users: HashMap::new(),
            matched_users: HashSet::new(),
            new_users: HashSet::new(),
            deleted_users: HashSet::new(),
            user_emails: HashMap::new(),
            companies: HashMap::new(),
            contacts: HashMap::new(),
            deals: HashMap::new(),
            notes: Vec::new(),
        }
    }

    /// An optional reference: `None` when empty; dropped with a note when it points nowhere.
    fn link(&mut self, what: &str, map: Refs, label: &str, source: Option<String>) -> Option<Uuid> {
        let source = source?;
        let found = match map {
            Refs::Users => self.users.get(&source),
            Refs::Companies => self.companies.get(&source),
        }
        .copied();
        if found.is_none() {
            self.notes
                .push(format!("{label}: {what} {source:?} was not found; left empty"));
        }
        found
    }

    /// A value from a fixed set, or `default` with a note.
    fn one_of<T: Vocab>(&mut self, label: &str, what: &str, raw: &str, default: T) -> T {
        match T::parse(&raw.trim().to_lowercase()) {
            Some(v) => v,
            None => {
                let name = default.as_str();
                self.notes
                    .push(format!("{label}: unknown {what} {raw:?}; imported as {name:?}"));
                default
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Refs {
    Users,
    Companies,
}

/// Dollars (a float in the original) → integer cents.
fn cents(dollars: f64) -> Option<i64> {
    dollars.is_finite().then(|| (dollars * 100.0).round() as i64)
}

fn mapped<M>(source_id: String, label: String, model: M) -> CoreResult<Option<Mapped<M>>> {
    Ok(Some(Mapped {
        source_id,
        label,
        model,
        insert: true,
    }))
}

pub(crate) fn user(r: &Row, cx: &mut Ctx) -> CoreResult<Option<Mapped<user::Model>>> {
    let sid = r.text("id")?;
    let email = email_key(&r.text("email")?);
    let label = format!("user {email}");
    if cx.deleted_users.contains(&target_id("User", &sid)) {
        cx.notes.push(format!(
            "{label}: deleted here by an admin; not brought back (their records have no owner)"
        ));
        return Ok(None);
    }
    let role = cx.one_of(&label, "role", &r.text("role")?, Role::Rep);
    let name = match r.text("name")?.trim() {
        "" => email.split('@').next().unwrap_or("").to_string(),
        n => n.to_string(),
    };
    let password_hash = r.text("password")?;
    if !password_hash.starts_with("$2") {
        cx.notes.push(format!(
            "{label}: the password is not a bcrypt hash; the user must reset it"
        ));
    }
    let secret = r
        .opt_text("twoFactorSecret")?
        .and_then(|s| twofactor::importable_secret(&s));
    let (two_factor_enabled, two_factor_secret) = match (r.boolean("twoFactorEnabled")?, secret) {
        (false, _) => (false, None),
        (true, Some(b32)) => (true, Some(cx.keys.seal(&b32)?)),
        (true, None) => {
            cx.notes.push(format!(
                "{label}: the 2FA secret cannot produce codes (the original app generated it wrongly); \
                 two-factor authentication is off until the user sets it up again"
            ));
            (false, None)
        }
    };
    cx.user_emails.insert(sid.clone(), email.clone());
    let model = user::Model {
        id: target_id("User", &sid),
        email,
        password_hash,
        name,
        role,
        avatar: r.opt_text("avatar")?,
        bio: r.opt_text("bio")?,
        is_active: r.boolean("isActive")?,
        email_verified_at: r.opt_time("emailVerified")?,
        two_factor_enabled,
        two_factor_secret,
        two_factor_last_step: None,
        last_sign_in_ip: r.opt_text("lastSignInIp")?,
        last_sign_in_at: r.opt_time("lastSignInAt")?,
        last_sign_in_method: None,
        failed_sign_ins: 0,
        locked_until: None,
        is_demo: false,
        invited_at: None,
        invited_by: None,
        created_at: r.time("createdAt")?,
        updated_at: r.time("updatedAt")?,
    };
    mapped(sid, label, model)
}

pub(crate) fn company(r: &Row, _cx: &mut Ctx) -> CoreResult<Option<Mapped<company::Model>>> {
    let sid = r.text("id")?;
    let name = r.text("name")?.trim().to_string();
    let label = format!("company {name:?}");
    let model = company::Model {
        id: target_id("Company", &sid),
        name_key: name_key(&name),
        name,
        industry: r.opt_text("industry")?,
        website: r.opt_text("website")?,
        phone: r.opt_text("phone")?,
        address: r.opt_text("address")?,
        employee_count: r.opt_int("employeeCount")?,
        revenue_cents: r.opt_float("revenue")?.and_then(cents),
        is_demo: false,
        created_at: r.time("createdAt")?,
        updated_at: r.time("updatedAt")?,
    };
    mapped(sid, label, model)
}

pub(crate) fn contact(r: &Row, cx: &mut Ctx) -> CoreResult<Option<Mapped<contact::Model>>> {
    let sid = r.text("id")?;
    let (first, last) = (
        r.text("firstName")?.trim().to_string(),
        r.text("lastName")?.trim().to_string(),
    );
    let email = email_key(&r.text("email")?);
    let label = format!("contact {email}");
    let phone = r.opt_text("phoneNumber")?;
    let key = phone
        .as_deref()
        .map(phone_key)
        .filter(|k| k.chars().any(|c| c.is_ascii_digit()));
    let status = cx.one_of(&label, "status", &r.text("status")?, ContactStatus::Lead);
    let mut model = contact::Model {
        id: target_id("Contact", &sid),
        search_text: contacts::search_text(&first, &last, &email, phone.as_deref()),
        first_name: first,
        last_name: last,
        email,
        phone_number: phone,
        phone_key: key,
        status,
        company_id: cx.link("company", Refs::Companies, &label, r.opt_text("companyId")?),
        user_id: cx.link("owner", Refs::Users, &label, r.opt_text("userId")?),
        is_demo: false,
        created_at: r.time("createdAt")?,
        updated_at: r.time("updatedAt")?,
        ..Default::default()
    };
    for e in contacts::fields::EXTRAS {
        if let Some(column) = e.original {
            sea_orm::ModelTrait::set(&mut model, e.column, sea_orm::Value::String(r.opt_text(column)?));
        }
    }
    mapped(sid, label, model)
}

/// The contact a record hangs on; without one the record is skipped with a note.
fn parent_contact(r: &Row, cx: &mut Ctx, label: &str) -> CoreResult<Option<Uuid>> {
    let id = r.text("contactId")?;
    let found = cx.contacts.get(&id).copied();
    if found.is_none() {
        cx.notes
            .push(format!("{label}: its contact {id:?} was not found; skipped"));
    }
    Ok(found)
}

pub(crate) fn activity(r: &Row, cx: &mut Ctx) -> CoreResult<Option<Mapped<activity::Model>>> {
    let sid = r.text("id")?;
    let label = format!("activity {sid}");
    let Some(contact_id) = parent_contact(r, cx, &label)? else {
        return Ok(None);
    };
    let model = activity::Model {
        id: target_id("Activity", &sid),
        kind: cx.one_of(&label, "type", &r.text("type")?, ActivityType::Note),
        subject: r.text("subject")?.trim().to_string(),
        description: r.opt_text("description")?,
        contact_id,
        user_id: cx.link("owner", Refs::Users, &label, r.opt_text("userId")?),
        deal_id: None,
        is_demo: false,
        created_at: r.time("createdAt")?,
        updated_at: r.time("updatedAt")?,
    };
    mapped(sid, label, model)
}

pub(crate) fn task(r: &Row, cx: &mut Ctx) -> CoreResult<Option<Mapped<task::Model>>> {
    let sid = r.text("id")?;
    let label = format!("task {sid}");
    let Some(contact_id) = parent_contact(r, cx, &label)? else {
        return Ok(None);
    };
    let model = task::Model {
        id: target_id("Task", &sid),
        title: r.text("title")?.trim().to_string(),
        description: r.opt_text("description")?,
        due_date: r.time("dueDate")?,
        priority: cx.one_of(&label, "priority", &r.text("priority")?, TaskPriority::Medium),
        completed: r.boolean("completed")?,
        completed_at: r.opt_time("completedAt")?,
        contact_id: Some(contact_id),
        user_id: cx.link("owner", Refs::Users, &label, r.opt_text("userId")?),
        is_demo: false,
        created_at: r.time("createdAt")?,
        updated_at: r.time("updatedAt")?,
    };
    mapped(sid, label, model)
}

pub(crate) fn deal(r: &Row, cx: &mut Ctx) -> CoreResult<Option<Mapped<deal::Model>>> {
    let sid = r.text("id")?;
    let label = format!("deal {sid}");
    let Some(contact_id) = parent_contact(r, cx, &label)? else {
        return Ok(None);
    };
    let stage = cx.one_of(&label, "stage", &r.text("stage")?, DealStage::Lead);
    let updated_at: DateTime<Utc> = r.time("updatedAt")?;
    // our rule: a closed deal has a close date, an open one none (status follows stage)
    let actual_close_date = match (stage.is_closed(), r.opt_time("actualCloseDate")?) {
        (false, _) => None,
        (_, Some(t)) => Some(t),
        (_, None) => Some(updated_at),
    };
    let value = r.opt_float("value")?.and_then(cents).unwrap_or_else(|| {
        cx.notes
            .push(format!("{label}: its value is not a number; imported as 0"));
        0
    });
    let model = deal::Model {
        id: target_id("Deal", &sid),
        name: r.text("name")?.trim().to_string(),
        value_cents: value,
        status: stage.status(),
        stage,
        expected_close_date: r.time("expectedCloseDate")?,
        actual_close_date,
        probability: r.opt_int("probability")?.unwrap_or(0).clamp(0, 100) as i32,
        description: r.opt_text("description")?,
        contact_id,
        company_id: cx.link("company", Refs::Companies, &label, r.opt_text("companyId")?),
        user_id: cx.link("owner", Refs::Users, &label, r.opt_text("userId")?),
        is_demo: false,
        created_at: r.time("createdAt")?,
        updated_at,
    };
    mapped(sid, label, model)
}

pub(crate) fn stage_change(r: &Row, cx: &mut Ctx) -> CoreResult<Option<Mapped<deal_stage_history::Model>>> {
    let sid = r.text("id")?;
    let label = format!("stage change {sid}");
    let deal_id = r.text("dealId")?;
    let Some(deal) = cx.deals.get(&deal_id).copied() else {
        cx.notes
            .push(format!("{label}: its deal {deal_id:?} was not found; skipped"));
        return Ok(None);
    };
    let from_stage = r
        .opt_text("fromStage")?
        .map(|s| cx.one_of(&label, "stage", &s, DealStage::Lead));
    let model = deal_stage_history::Model {
        id: target_id("DealStageHistory", &sid),
        deal_id: deal,
        from_stage,
        to_stage: cx.one_of(&label, "stage", &r.text("toStage")?, DealStage::Lead),
        changed_by: None,
        changed_at: r.time("changedAt")?,
    };
    mapped(sid, label, model)
}

/// The original stored backup codes in plain text; here they are keyed hashes, usable
/// exactly like ours. Codes of a user linked to an existing account are left out (that
/// account keeps its own second factor).
pub(crate) fn backup_code(r: &Row, cx: &mut Ctx) -> CoreResult<Option<Mapped<backup_code::Model>>> {
    let sid = r.text("id")?;
    let source_user = r.text("userId")?;
    let label = format!("backup code {sid}");
    if cx.matched_users.contains(&source_user) {
        return Ok(None);
    }
    let Some(user_id) = cx.users.get(&source_user).copied() else {
        cx.notes.push(format!("{label}: its user was not found; skipped"));
        return Ok(None);
    };
    let created_at = r.time("createdAt")?;
    let model = backup_code::Model {
        id: target_id("TwoFactorBackupCode", &sid),
        user_id,
        code_hash: twofactor::backup_code_hash(cx.keys, &r.text("code")?),
        // when it was used is not recorded; its creation time stands in
        used_at: r.boolean("used")?.then_some(created_at),
        created_at,
    };
    Ok(Some(Mapped {
        insert: cx.new_users.contains(&source_user),
        source_id: sid,
        label,
        model,
    }))
}

pub(crate) fn sign_in(r: &Row, cx: &mut Ctx) -> CoreResult<Option<Mapped<sign_in_history::Model>>> {
    let sid = r.text("id")?;
    let source_user = r.text("userId")?;
    let label = format!("sign-in {sid}");
    let model = sign_in_history::Model {
        id: target_id("SignInHistory", &sid),
        user_id: cx.users.get(&source_user).copied(),
        email: cx.user_emails.get(&source_user).cloned().unwrap_or_default(),
        ip_address: r.text("ipAddress")?,
        user_agent: r.opt_text("userAgent")?,
        success: r.boolean("success")?,
        failure_reason: r.opt_text("failureReason")?,
        method: "password".into(),
        created_at: r.time("createdAt")?,
    };
    mapped(sid, label, model)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn ids_are_kept_or_derived_the_same_way_every_time() {
        let u = "7d444840-9dc0-11d1-b245-5ffdce74fad2";
        assert_eq!(target_id("Contact", u).to_string(), u);
        let a = target_id("User", "ckx1q2w3e4r5t6y7u8i9o0p1");
        assert_eq!(a, target_id("User", "ckx1q2w3e4r5t6y7u8i9o0p1"));
        assert_ne!(a, target_id("User", "ckx1q2w3e4r5t6y7u8i9o0p2"));
        assert_ne!(a, target_id("SignInHistory", "ckx1q2w3e4r5t6y7u8i9o0p1"));
        assert_eq!(a.get_version_num(), 8);
    }
    #[test]
    fn money_in_cents() {
        assert_eq!(cents(1234.56), Some(123_456));
        assert_eq!(cents(0.1 + 0.2), Some(30));
        assert_eq!(cents(f64::NAN), None);
    }
}
