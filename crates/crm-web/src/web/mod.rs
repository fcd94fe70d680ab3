//! The design system's server side: the page context and app-shell chrome every page
//! renders with, the shared error and confirmation pages, icons, and static assets.

pub mod assets;
pub mod charts;
pub mod icons;
pub mod org;

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};

use crate::http::session::{PageSession, SessionInfo, cookie};

/// Render a template; a template error is our bug, logged, and shown as a plain message.
pub fn render<T: Template>(t: &T) -> String {
    t.render().unwrap_or_else(|e| {
        tracing::error!("template error: {e}");
        "<!doctype html><title>Error</title><p>Something went wrong on our side.</p>".to_string()
    })
}

pub fn html<T: Template>(t: &T) -> Response {
    Html(render(t)).into_response()
}

/// The theme chosen with the toggle (cookie), or `None` to follow the system.
pub fn theme_of(headers: &axum::http::HeaderMap) -> Option<&'static str> {
    match cookie(headers, "theme").as_deref() {
        Some("dark") => Some("dark"),
        Some("light") => Some("light"),
        _ => None,
    }
}

/// Everything a signed-in page needs besides its own data.
pub struct PageCtx {
    pub session: SessionInfo,
    pub theme: Option<&'static str>,
    pub path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for PageCtx {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let PageSession(session) = PageSession::from_request_parts(parts, state).await?;
        Ok(PageCtx {
            session,
            theme: theme_of(&parts.headers),
            path: parts.uri.path().to_string(),
        })
    }
}

/// The app shell around a page: navigation, user menu, theme, CSRF token.
pub struct Chrome {
    pub title: String,
    /// The organisation's name (settings), shown as the app's brand.
    pub org_name: String,
    pub nav: &'static str,
    pub user_name: String,
    pub user_email: String,
    pub initials: String,
    pub role: &'static str,
    pub is_admin: bool,
    /// Admins and managers see User Management.
    pub manages_users: bool,
    pub csrf: String,
    pub theme: &'static str,
    pub notice: Option<String>,
    /// Where the notice's Undo posts (after a delete without JavaScript).
    pub undo: Option<String>,
}

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub icon: &'static str,
    pub key: &'static str,
}

pub const NAV: [NavItem; 7] = [
    NavItem {
        href: "/",
        label: "Dashboard",
        icon: "home",
        key: "dashboard",
    },
    NavItem {
        href: "/contacts",
        label: "Contacts",
        icon: "users",
        key: "contacts",
    },
    NavItem {
        href: "/companies",
        label: "Companies",
        icon: "building",
        key: "companies",
    },
    NavItem {
        href: "/deals",
        label: "Deals",
        icon: "dollar",
        key: "deals",
    },
    NavItem {
        href: "/tasks",
        label: "Tasks",
        icon: "check",
        key: "tasks",
    },
    NavItem {
        href: "/activities",
        label: "Activities",
        icon: "activity",
        key: "activities",
    },
    NavItem {
        href: "/reports",
        label: "Reports",
        icon: "chart",
        key: "reports",
    },
];

impl Chrome {
    pub fn new(ctx: &PageCtx, title: impl Into<String>, nav: &'static str) -> Self {
        let a = &ctx.session.actor;
        let initials: String = a
            .name
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .take(2)
            .collect::<String>()
            .to_uppercase();
        Chrome {
            title: title.into(),
            org_name: org::current().name.clone(),
            nav,
            user_name: a.name.clone(),
            user_email: a.email.clone(),
            initials,
            role: a.role.as_str(),
            is_admin: a.role == crm_core::Role::Admin,
            manages_users: a.role != crm_core::Role::Rep,
            csrf: ctx.session.csrf_token.clone(),
            theme: ctx.theme.unwrap_or(""),
            notice: None,
            undo: None,
        }
    }
    pub fn with_notice(mut self, notice: Option<String>) -> Self {
        self.notice = notice;
        self
    }
    /// `?undo=<id>` after a delete of a record at `path` (`/tasks`): the notice offers Undo,
    /// a form posting to `<path>/<id>/restore` (only a well-formed id makes one).
    pub fn with_undo(mut self, path: &str, id: Option<&str>) -> Self {
        self.undo = id
            .and_then(|i| uuid::Uuid::parse_str(i).ok())
            .map(|id| format!("{path}/{id}/restore"));
        self
    }
    pub fn nav(&self) -> &'static [NavItem] {
        &NAV
    }
    pub fn icon(&self, name: &str) -> &'static str {
        icons::get(name)
    }
}

/// Messages for `?done=` after a redirect (fixed texts: the URL cannot inject words).
pub fn notice(done: Option<&str>, n: Option<&str>) -> Option<String> {
    let n = n.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    Some(match done? {
        "created" => "Saved.".to_string(),
        "updated" => "Changes saved.".to_string(),
        "logged" => "Activity logged.".to_string(),
        "invited" => "Invitation sent.".to_string(),
        "invite-resent" => "Invitation sent again; the earlier link no longer works.".to_string(),
        "invite-revoked" => "Invitation revoked.".to_string(),
        "welcome" => "Welcome to the team.".to_string(),
        "task-added" => "Task added.".to_string(),
        "deleted" => "Deleted.".to_string(),
        "restored" => "Restored.".to_string(),
        "demo-removed" => "Demo data removed.".to_string(),
        "bulk-deleted" => format!("Deleted {n} record{}.", if n == 1 { "" } else { "s" }),
        _ => return None,
    })
}

#[derive(Template)]
#[template(path = "web/error.html")]
pub struct ErrorPage<'a> {
    pub title: &'a str,
    pub message: &'a str,
    pub status: u16,
}

/// What an error page says, kept on its response: the session layer draws it again inside
/// the app frame (navigation, search, user menu) for a signed-in user.
#[derive(Clone)]
pub struct ErrorInfo {
    pub title: &'static str,
    pub message: String,
    pub status: axum::http::StatusCode,
}

#[derive(Template)]
#[template(path = "web/error_framed.html")]
struct FramedError {
    chrome: Chrome,
    title: &'static str,
    message: String,
    status: u16,
}

/// An error page as the signed-in user's page: inside the app frame.
pub fn in_frame(res: Response, ctx: &PageCtx) -> Response {
    let Some(e) = res.extensions().get::<ErrorInfo>().cloned() else {
        return res;
    };
    let page = FramedError {
        chrome: Chrome::new(ctx, e.title, ""),
        title: e.title,
        message: e.message,
        status: e.status.as_u16(),
    };
    let mut out = (e.status, Html(render(&page))).into_response();
    for name in [axum::http::header::ALLOW, axum::http::header::CONNECTION] {
        if let Some(v) = res.headers().get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

/// The no-JS confirmation page for a destructive action (with JS, a dialog asks instead).
#[derive(Template)]
#[template(path = "web/confirm.html")]
pub struct ConfirmPage {
    pub chrome: Chrome,
    pub heading: String,
    pub text: String,
    pub action: String,
    pub button: String,
    pub cancel: String,
    /// Hidden fields to resubmit (e.g. the selected ids).
    pub hidden: Vec<(String, String)>,
}

impl ConfirmPage {
    /// "Delete <What>": asks before one record is deleted; `action` posts the confirmation.
    pub fn delete(
        ctx: &PageCtx,
        what: &str,
        nav: &'static str,
        text: String,
        action: String,
        cancel: String,
    ) -> Response {
        let heading = format!("Delete {what}");
        html(&ConfirmPage {
            chrome: Chrome::new(ctx, heading.clone(), nav),
            heading,
            text,
            action,
            button: "Delete".into(),
            cancel,
            hidden: vec![],
        })
    }
}

/// The answer to a posted record form: on success a redirect to `to(saved)`; a record that
/// is missing or not the actor's to change is the error page; any other error draws the
/// form again (400) with the submitted values and each message next to its field.
pub async fn after_save<T, P>(
    result: crm_core::CoreResult<T>,
    form: &crate::http::body::FormPairs,
    to: impl FnOnce(T) -> String,
    redraw: impl AsyncFnOnce(FormState) -> Result<P, crate::http::error::PageError>,
) -> crate::http::error::PageResult
where
    P: Template,
{
    match result {
        Ok(saved) => Ok(axum::response::Redirect::to(&to(saved)).into_response()),
        Err(e @ (crm_core::CoreError::NotFound(_) | crm_core::CoreError::Forbidden(_))) => Err(e.into()),
        Err(e) => {
            let page = redraw(FormState::from_pairs(&form.0).with_error(e)).await?;
            Ok((axum::http::StatusCode::BAD_REQUEST, html(&page)).into_response())
        }
    }
}

/// What a form shows: the submitted values (kept on error) and one message per field.
#[derive(Debug, Default)]
pub struct FormState {
    pub values: std::collections::HashMap<String, String>,
    pub errors: std::collections::BTreeMap<String, String>,
    pub message: Option<String>,
}

impl FormState {
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        FormState {
            values: pairs.iter().cloned().collect(),
            ..Default::default()
        }
    }
    /// An edit form filled from the record's API view: each key's value as text (a null
    /// is empty), so a field reads back what the API says.
    pub fn from_view(view: &impl serde::Serialize, keys: impl IntoIterator<Item = &'static str>) -> Self {
        use serde_json::Value;
        let v = serde_json::to_value(view).unwrap_or_default();
        let text = |x: &Value| match x {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        FormState {
            values: keys.into_iter().map(|k| (k.to_string(), text(&v[k]))).collect(),
            ..Default::default()
        }
    }
    /// An amount the API gives in dollars, as a money field shows it (`1300.25`).
    pub fn dollars(v: f64) -> String {
        crm_core::input::cents_to_decimal((v * 100.0).round() as i64)
    }
    /// The same with one value set (a field shown otherwise than the API gives it).
    pub fn with(mut self, key: &str, value: String) -> Self {
        self.values.insert(key.to_string(), value);
        self
    }
    pub fn with_error(mut self, e: crm_core::CoreError) -> Self {
        match e {
            crm_core::CoreError::Validation { message, fields } => {
                // one error reads as itself; several point to the fields
                self.message = Some(if fields.len() > 1 {
                    format!("Check the {} fields marked below", fields.len())
                } else {
                    message
                });
                self.errors = fields;
            }
            other => self.message = Some(crate::http::error::public_message(&other)),
        }
        self
    }
    pub fn v(&self, key: &str) -> &str {
        self.values.get(key).map(|s| s.as_str()).unwrap_or("")
    }
    pub fn err(&self, key: &str) -> Option<&str> {
        self.errors.get(key).map(|s| s.as_str())
    }
    pub fn is(&self, key: &str, value: &str) -> bool {
        self.v(key) == value
    }
}

/// A list page's link: `path` with its filters, then the sort (unless newest first) and
/// the page (unless the first).
pub fn list_url(
    path: &str,
    mut pairs: Vec<(&str, String)>,
    sort: &str,
    dir: crm_core::query::SortDir,
    page: u64,
) -> String {
    if sort != "createdAt" || dir != crm_core::query::SortDir::Desc {
        pairs.push(("sort", sort.to_string()));
        pairs.push(("order", dir.as_str().to_string()));
    }
    if page > 1 {
        pairs.push(("page", page.to_string()));
    }
    format!("{path}{}", query_string(&pairs))
}

/// A query string from pairs, skipping empty values.
pub fn query_string(pairs: &[(&str, String)]) -> String {
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", serde_urlencoded::to_string(kept).unwrap_or_default())
    }
}

/// `12345` → `12,345`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An RFC 3339 timestamp on the organisation's wall clock.
pub fn local(rfc3339: &str) -> Option<chrono::DateTime<crm_core::clock::Tz>> {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .map(|t| crm_core::clock::local(&t.to_utc()))
}

/// The date pattern of the organisation's format.
fn date_pattern() -> &'static str {
    match org::current().date_format.as_str() {
        "dmy" => "%-d %b %Y",
        "ymd" => "%Y-%m-%d",
        _ => "%b %-d, %Y",
    }
}

/// `Jan 5, 2026` from an RFC 3339 timestamp: its day in the organisation's zone.
pub fn short_date(rfc3339: &str) -> String {
    local(rfc3339)
        .map(|t| t.format(date_pattern()).to_string())
        .unwrap_or_default()
}

/// `Jan 5, 2026 14:30` (`:ss` with `seconds`): a moment on the organisation's wall clock.
pub fn date_time(rfc3339: &str, seconds: bool) -> String {
    let time = if seconds { "%H:%M:%S" } else { "%H:%M" };
    local(rfc3339)
        .map(|t| t.format(&format!("{} {time}", date_pattern())).to_string())
        .unwrap_or_default()
}

/// `2026-01-05`: a timestamp's day in the organisation's zone, as a date field's value.
pub fn date_value(rfc3339: &str) -> String {
    local(rfc3339)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// `$1,234.56` — in the organisation's currency (`€1,234.56`, `¥1,235`).
pub fn money(v: f64) -> String {
    let settings = org::current();
    let (symbol, minor) = settings.money_style();
    let sign = if v < 0.0 { "-" } else { "" };
    if minor == 0 {
        return format!("{sign}{symbol}{}", thousands(v.abs().round() as u64));
    }
    let cents = (v.abs() * 100.0).round() as u64;
    format!("{sign}{symbol}{}.{:02}", thousands(cents / 100), cents % 100)
}

/// A record page's timeline (`web/timeline.html`): the events, the kind shown, where the
/// filter links lead and what to say when there is nothing.
pub struct Timeline {
    pub events: Vec<crm_core::contacts::timeline::Event>,
    /// One of `timeline::FILTERS`, or empty for all.
    pub show: String,
    /// The record page's path, e.g. `/deals/<id>`.
    pub base: String,
    pub empty: &'static str,
}

impl Timeline {
    /// The newest 100 events of `subject` the actor may see, of the kind `?show=` names.
    pub async fn load(
        db: &crm_core::Db,
        actor: &crm_core::Actor,
        subject: crm_core::contacts::timeline::Subject,
        q: &crm_core::query::QueryParams,
        base: String,
        empty: &'static str,
    ) -> crm_core::CoreResult<Timeline> {
        let show = q
            .get("show")
            .filter(|s| crm_core::contacts::timeline::FILTERS.contains(s))
            .unwrap_or("")
            .to_string();
        let filter = (!show.is_empty()).then_some(show.as_str());
        let events = crm_core::contacts::timeline::timeline(db, actor, subject, filter, 100).await?;
        Ok(Timeline {
            events,
            show,
            base,
            empty,
        })
    }
    /// No events (a page's tab that does not show the timeline).
    pub fn none(base: String, empty: &'static str) -> Timeline {
        Timeline {
            events: vec![],
            show: String::new(),
            base,
            empty,
        }
    }
    pub fn url(&self, kind: &str) -> String {
        if kind.is_empty() {
            format!("{}#timeline", self.base)
        } else {
            format!("{}?show={kind}#timeline", self.base)
        }
    }
    pub fn icon(&self, e: &crm_core::contacts::timeline::Event) -> &'static str {
        match e.icon.as_str() {
            "call" => "phone",
            "email" => "mail",
            "meeting" => "calendar",
            "note" => "note",
            "done" | "task" => "check",
            "deal" | "stage" => "dollar",
            _ => "edit",
        }
    }
    pub fn when(&self, s: &str) -> String {
        crate::activities::pages::when(s)
    }
}

/// The composer of a record page (`web/composer.html`): log an activity on a contact, or
/// add a task, and come back to `back`.
pub struct Composer {
    pub contact_id: uuid::Uuid,
    /// On a deal's page the activity is about that deal.
    pub deal_id: Option<uuid::Uuid>,
    /// Otherwise the contact's open deals to choose from.
    pub deals: Vec<(uuid::Uuid, String)>,
    pub back: String,
    /// Now, as a `datetime-local` value on the organisation's wall clock: the default time
    /// of a new activity.
    pub now: String,
}

impl Composer {
    pub fn new(contact_id: uuid::Uuid, back: String) -> Self {
        Composer {
            contact_id,
            deal_id: None,
            deals: vec![],
            back,
            now: crm_core::clock::local(&crm_core::clock::now())
                .format("%Y-%m-%dT%H:%M")
                .to_string(),
        }
    }
}

/// "Firefox on Windows" from a user agent: what a person recognises of a session or a
/// sign-in (the raw string stays in the cell's tooltip).
pub fn device(ua: Option<&str>) -> String {
    let Some(ua) = ua.filter(|u| !u.trim().is_empty()) else {
        return "Unknown device".into();
    };
    let has = |s: &str| ua.contains(s);
    let browser = if has("Edg/") {
        "Edge"
    } else if has("OPR/") || has("Opera") {
        "Opera"
    } else if has("Firefox/") || has("FxiOS") {
        "Firefox"
    } else if has("Chrome/") || has("CriOS") || has("Chromium/") {
        "Chrome"
    } else if has("Safari/") {
        "Safari"
    } else if let Some((tool, _)) = ua.split_once('/') {
        // curl/8.5, python-requests/2.31, reqwest …: the client's own name
        return tool.chars().take(40).collect();
    } else {
        "Unknown browser"
    };
    let os = if has("iPhone") || has("iPad") {
        "iOS"
    } else if has("Android") {
        "Android"
    } else if has("Windows") {
        "Windows"
    } else if has("Mac OS X") || has("Macintosh") {
        "macOS"
    } else if has("CrOS") {
        "ChromeOS"
    } else if has("Linux") {
        "Linux"
    } else {
        return browser.to_string();
    };
    format!("{browser} on {os}")
}

/// `Deal Value (EUR)`: a money field's label names the organisation's currency.
pub fn in_currency(label: &str) -> String {
    format!("{label} ({})", org::current().currency)
}

/// Whole dollars (`$184,500`): cards, board totals and side columns show no cents.
pub fn money_whole(v: f64) -> String {
    let s = money(v.round());
    s.strip_suffix(".00").map(str::to_string).unwrap_or(s)
}

/// The pagination bar of every list.
pub struct Pager {
    pub range: String,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub page: u64,
    pub pages: u64,
}

impl Pager {
    pub fn new(p: &crm_core::page::Pagination, url: impl Fn(u64) -> String) -> Self {
        let (a, b) = p.range();
        Pager {
            range: if p.total == 0 {
                "No results".into()
            } else {
                let more = if p.total_is_estimate { "+" } else { "" };
                format!("{}–{} of {}{more}", thousands(a), thousands(b), thousands(p.total))
            },
            prev: (p.page > 1).then(|| url(p.page - 1)),
            // a list that pages by cursor: "Next" follows it (as fast at page 10,000 as at 2)
            next: match &p.next_cursor {
                Some(c) => {
                    let next = url(p.page + 1);
                    let sep = if next.contains('?') { '&' } else { '?' };
                    Some(format!("{next}{sep}cursor={c}"))
                }
                None => (p.page < p.total_pages).then(|| url(p.page + 1)),
            },
            page: p.page,
            pages: p.total_pages.max(1),
        }
    }
}

/// The direction a click on column `col` sorts by: a new column ascending (creation dates
/// newest first), the current column flipped.
pub fn next_dir(current: &str, dir: crm_core::query::SortDir, col: &str) -> crm_core::query::SortDir {
    use crm_core::query::SortDir;
    match (current == col, dir) {
        (true, SortDir::Asc) => SortDir::Desc,
        (true, SortDir::Desc) => SortDir::Asc,
        (false, _) if col == "createdAt" => SortDir::Desc,
        (false, _) => SortDir::Asc,
    }
}

/// `aria-sort` of column `col` when the list is sorted by `current` in `dir`.
pub fn aria_sort(current: &str, dir: crm_core::query::SortDir, col: &str) -> &'static str {
    match (current == col, dir) {
        (false, _) => "none",
        (true, crm_core::query::SortDir::Asc) => "ascending",
        (true, crm_core::query::SortDir::Desc) => "descending",
    }
}

#[cfg(test)]
mod tests {
    use super::device;
    #[test]
    fn devices_are_named_as_people_know_them() {
        let chrome_mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
        assert_eq!(device(Some(chrome_mac)), "Chrome on macOS");
        let ff_win = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(device(Some(ff_win)), "Firefox on Windows");
        let safari_ios = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(device(Some(safari_ios)), "Safari on iOS");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0";
        assert_eq!(device(Some(edge)), "Edge on Windows");
        assert_eq!(device(Some("curl/8.5.0")), "curl");
        assert_eq!(device(None), "Unknown device");
    }
}
