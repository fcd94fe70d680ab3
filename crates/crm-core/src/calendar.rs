//! Calendars: a user's personal feed (`/calendar/<secret>.ics`, subscribed to from Google,
//! Apple or Outlook calendars) and one meeting as a downloadable invitation.
//!
//! The feed's secret is its credential: one per user, stored only as its SHA-256 (like
//! sessions and API tokens); creating it again replaces it, revoking deletes it. The feed is
//! read with the owner's [`Actor`] through [`scope::visible`] at every poll, so it shows what
//! they may see now (an inactive user's feed answers nothing), and only their own records:
//! open tasks with a due date, meetings of the past year and ahead, open deals' expected close
//! dates. Days are the organisation's (`org::get` → `clock::in_zone`): a task due at the
//! start of a day and a deal's close date are all-day entries on that date; other times are
//! written in UTC.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::accounts::{hash_token, random_token, users};
use crate::activities::{ContactName, contact_names};
use crate::actor::Actor;
use crate::db::Db;
use crate::entities::{activity, calendar_feed as feed, deal, task};
use crate::error::{CoreError, CoreResult};
use crate::ical::{self, Event, When};
use crate::{clock, org, scope};

/// At most this many entries of each kind in a feed (the nearest ones).
const LIMIT: u64 = 2000;
/// Meetings of the past year (and those ahead) are in the feed.
const PAST_DAYS: i64 = 365;
/// A meeting's length: activities record when they happened, not for how long.
const MEETING_LENGTH: Duration = Duration::hours(1);

/// The feed's address for a secret.
pub fn url(base_url: &str, secret: &str) -> String {
    format!("{}/calendar/{secret}.ics", base_url.trim_end_matches('/'))
}

/// The host of the base URL, for UIDs (`task-<id>@crm.example.com`).
pub fn host(base_url: &str) -> String {
    let rest = base_url.split_once("://").map(|(_, r)| r).unwrap_or(base_url);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    if host.is_empty() {
        "localhost".into()
    } else {
        host.to_string()
    }
}

/// Make (or replace) the actor's feed; the secret is returned this once.
pub async fn create(db: &Db, actor: &Actor) -> CoreResult<String> {
    let secret = random_token();
    let txn = db.conn.begin().await?;
    feed::Entity::delete_by_id(actor.id).exec(&txn).await?;
    feed::ActiveModel {
        user_id: Set(actor.id),
        token_hash: Set(hash_token(&secret)),
        created_at: Set(clock::now()),
    }
    .insert(&txn)
    .await?;
    crate::audit::record(
        &txn,
        Some(actor),
        "create",
        "calendar_feed",
        Some(actor.id.to_string()),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(secret)
}

/// Delete the actor's feed (its URL answers 404 from now on); not found when there is none.
pub async fn revoke(db: &Db, actor: &Actor) -> CoreResult<()> {
    let txn = db.conn.begin().await?;
    let res = feed::Entity::delete_by_id(actor.id).exec(&txn).await?;
    if res.rows_affected == 0 {
        return Err(CoreError::not_found("Calendar feed"));
    }
    crate::audit::record(
        &txn,
        Some(actor),
        "delete",
        "calendar_feed",
        Some(actor.id.to_string()),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// When the actor's feed was made, if they have one.
pub async fn since(db: &Db, actor: &Actor) -> CoreResult<Option<DateTime<Utc>>> {
    Ok(feed::Entity::find_by_id(actor.id)
        .one(&db.conn)
        .await?
        .map(|f| f.created_at))
}

fn name_of(c: Option<&ContactName>) -> Option<String> {
    c.map(|c| format!("{} {}", c.first_name, c.last_name).trim().to_string())
}

/// Lines of a description, the empty ones left out.
fn lines(parts: &[Option<String>]) -> Option<String> {
    let text: Vec<&str> = parts
        .iter()
        .flatten()
        .map(|s| s.as_str())
        .filter(|s| !s.is_empty())
        .collect();
    (!text.is_empty()).then(|| text.join("\n"))
}

/// A meeting as an event: from when it happened, an hour long, with the contact's name.
fn meeting_event(a: &activity::Model, contact: Option<&ContactName>, base_url: &str, host: &str) -> Event {
    let who = name_of(contact);
    Event {
        uid: format!("meeting-{}@{host}", a.id),
        stamp: a.updated_at,
        when: When::At {
            start: a.created_at,
            end: Some(a.created_at + MEETING_LENGTH),
        },
        summary: match &who {
            Some(w) => format!("{} ({w})", a.subject),
            None => a.subject.clone(),
        },
        description: lines(&[who.map(|w| format!("Meeting with {w}")), a.description.clone()]),
        url: contact.map(|c| format!("{base_url}/contacts/{}", c.id)),
        category: "meeting",
    }
}

/// The feed of the user whose secret this is, or `None` (unknown secret, inactive user).
pub async fn feed(db: &Db, secret: &str, base_url: &str) -> CoreResult<Option<String>> {
    let Some(f) = feed::Entity::find()
        .filter(feed::Column::TokenHash.eq(hash_token(secret)))
        .one(&db.conn)
        .await?
    else {
        return Ok(None);
    };
    let Some(user) = users::find(db, f.user_id).await?.filter(|u| u.is_active) else {
        return Ok(None);
    };
    let actor = users::actor_of(&user);
    let settings = org::get(db).await?;
    let name = format!("{} · {}", settings.name, user.name);
    let events = clock::in_zone(settings.zone(), events(db, &actor, base_url)).await?;
    Ok(Some(ical::calendar(&name, None, &events)))
}

/// The actor's own entries, read through their scope.
async fn events(db: &Db, actor: &Actor, base_url: &str) -> CoreResult<Vec<Event>> {
    let base_url = base_url.trim_end_matches('/');
    let host = host(base_url);
    let tasks = scope::visible::<task::Entity>(actor)
        .filter(task::Column::UserId.eq(actor.id))
        .filter(task::Column::Completed.eq(false))
        .order_by_asc(task::Column::DueDate)
        .limit(LIMIT)
        .all(&db.conn)
        .await?;
    let meetings = scope::visible::<activity::Entity>(actor)
        .filter(activity::Column::UserId.eq(actor.id))
        .filter(activity::Column::Kind.eq("meeting"))
        .filter(activity::Column::CreatedAt.gte(clock::now() - Duration::days(PAST_DAYS)))
        .order_by_asc(activity::Column::CreatedAt)
        .limit(LIMIT)
        .all(&db.conn)
        .await?;
    let deals = scope::visible::<deal::Entity>(actor)
        .filter(deal::Column::UserId.eq(actor.id))
        .filter(deal::Column::Status.eq(crate::DealStatus::Open))
        .order_by_asc(deal::Column::ExpectedCloseDate)
        .limit(LIMIT)
        .all(&db.conn)
        .await?;
    let ids: Vec<Uuid> = tasks
        .iter()
        .filter_map(|t| t.contact_id)
        .chain(meetings.iter().map(|m| m.contact_id))
        .chain(deals.iter().map(|d| d.contact_id))
        .collect();
    let names: HashMap<Uuid, ContactName> = contact_names(db, actor, ids).await?;
    let mut out = Vec::with_capacity(tasks.len() + meetings.len() + deals.len());
    for t in tasks {
        let contact = t.contact_id.and_then(|id| names.get(&id));
        let local = clock::local(&t.due_date).date_naive();
        let when = if clock::day_start(local) == t.due_date {
            When::Day(local)
        } else {
            When::At {
                start: t.due_date,
                end: None,
            }
        };
        out.push(Event {
            uid: format!("task-{}@{host}", t.id),
            stamp: t.updated_at,
            when,
            summary: t.title.clone(),
            description: lines(&[
                Some(format!("Task · {} priority", t.priority)),
                name_of(contact).map(|n| format!("Contact: {n}")),
                t.description.clone(),
            ]),
            url: Some(format!("{base_url}/tasks/{}/edit", t.id)),
            category: "task",
        });
    }
    for m in &meetings {
        out.push(meeting_event(m, names.get(&m.contact_id), base_url, &host));
    }
    for d in deals {
        let contact = names.get(&d.contact_id);
        out.push(Event {
            uid: format!("deal-{}@{host}", d.id),
            stamp: d.updated_at,
            when: When::Day(clock::local(&d.expected_close_date).date_naive()),
            summary: format!("Expected close: {}", d.name),
            description: lines(&[
                Some(format!(
                    "Deal · stage {} · {}% probability",
                    d.stage.as_str().replace('_', " "),
                    d.probability
                )),
                name_of(contact).map(|n| format!("Contact: {n}")),
                d.description.clone(),
            ]),
            url: Some(format!("{base_url}/deals/{}", d.id)),
            category: "deal",
        });
    }
    Ok(out)
}

/// One meeting the actor may see, as an invitation to import: (file name, calendar text).
pub async fn meeting(db: &Db, actor: &Actor, id: Uuid, base_url: &str) -> CoreResult<(String, String)> {
    let a = scope::get_visible::<activity::Entity>(db, actor, id, "Activity").await?;
    if a.kind != "meeting" {
        return Err(CoreError::bad_request("Only a meeting can be added to a calendar"));
    }
    let names = contact_names(db, actor, vec![a.contact_id]).await?;
    let base_url = base_url.trim_end_matches('/');
    let settings = org::get(db).await?;
    let event = meeting_event(&a, names.get(&a.contact_id), base_url, &host(base_url));
    let file = format!("{}.ics", crate::text::file_slug(&a.subject, "meeting"));
    Ok((file, ical::calendar(&settings.name, Some("PUBLISH"), &[event])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_base_urls() {
        assert_eq!(host("https://crm.example.com"), "crm.example.com");
        assert_eq!(host("http://localhost:3000/"), "localhost");
        assert_eq!(host("http://[::1]:8080/crm"), "::1");
        assert_eq!(url("https://x.io/", "abc"), "https://x.io/calendar/abc.ics");
    }
}
