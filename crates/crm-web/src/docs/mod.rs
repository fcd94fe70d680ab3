//! The API documentation: `/api/openapi.json` (OpenAPI 3.1, built from the routes) and
//! `/docs`, our own pages drawn from that document — the reference, one page per section
//! with every operation's parameters, body, answer and a curl line — and the guides.
//! Public and offline: it holds no data and loads nothing from elsewhere.

pub mod openapi;

use askama::Template;
use axum::Json;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::http::api::{Api, Doc};
use crate::http::error::PageError;
use crate::web::{html, theme_of};

/// `GET /api/openapi.json` (and under `/api/v1`).
async fn document() -> Response {
    Json(openapi::document()).into_response()
}

pub fn api_routes() -> Api {
    Api::new().get(
        "/openapi.json",
        Doc::new("Documentation", "This API's OpenAPI 3.1 document (not in the envelope)")
            .public()
            .file("application/json"),
        document,
    )
}

pub fn page_routes() -> axum::Router<crate::AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/docs", get(index))
        .route("/docs/{slug}", get(page))
}

/// A guide: its address, title and text (HTML we write ourselves).
struct Guide {
    slug: &'static str,
    title: &'static str,
    body: fn() -> String,
}

const GUIDES: &[Guide] = &[
    Guide {
        slug: "getting-started",
        title: "Getting started",
        body: guide_start,
    },
    Guide {
        slug: "authentication",
        title: "Authentication and tokens",
        body: guide_auth,
    },
    Guide {
        slug: "pagination",
        title: "Pagination, filters and sorting",
        body: guide_lists,
    },
    Guide {
        slug: "errors",
        title: "Errors",
        body: guide_errors,
    },
    Guide {
        slug: "rate-limits",
        title: "Rate limits",
        body: guide_limits,
    },
    Guide {
        slug: "webhooks",
        title: "Webhooks",
        body: guide_webhooks,
    },
    Guide {
        slug: "versioning",
        title: "Versioning",
        body: guide_versioning,
    },
];

/// One entry of the navigation.
pub struct Link {
    pub href: String,
    pub label: String,
    pub current: bool,
}

/// A row of a parameter or field table.
pub struct Row {
    pub name: String,
    pub kind: String,
    pub required: bool,
    pub description: String,
}

/// One operation as the reference shows it.
pub struct Operation {
    pub id: String,
    pub method: String,
    pub path: String,
    pub summary: String,
    pub description: String,
    pub params: Vec<Row>,
    pub body: Vec<Row>,
    pub status: String,
    pub answer: String,
    pub fields: Vec<Row>,
    pub public: bool,
    pub admin: bool,
    pub curl: String,
}

#[derive(Template)]
#[template(path = "docs/page.html")]
struct Page {
    theme: &'static str,
    title: String,
    nav_reference: Vec<Link>,
    nav_guides: Vec<Link>,
    intro: String,
    html: String,
    operations: Vec<Operation>,
}

fn nav(current: &str) -> (Vec<Link>, Vec<Link>) {
    let reference = openapi::TAGS
        .iter()
        .map(|(tag, _)| Link {
            href: format!("/docs/{}", slug_of(tag)),
            label: tag.to_string(),
            current: slug_of(tag) == current,
        })
        .collect();
    let guides = GUIDES
        .iter()
        .map(|g| Link {
            href: format!("/docs/{}", g.slug),
            label: g.title.to_string(),
            current: g.slug == current,
        })
        .collect();
    (reference, guides)
}

fn slug_of(tag: &str) -> String {
    tag.to_lowercase().replace(' ', "-")
}

async fn index(headers: HeaderMap) -> Response {
    let (nav_reference, nav_guides) = nav("");
    let mut body = String::from(
        "<p>Everything the app does is in this JSON API: the pages use the same rules, the same \
         validation and the same permissions. The machine-readable description is \
         <a href=\"/api/openapi.json\">/api/openapi.json</a> (OpenAPI 3.1); these pages are drawn from it.</p>\
         <h2>Guides</h2><ul class=\"docs-list\">",
    );
    for g in GUIDES {
        body.push_str(&format!("<li><a href=\"/docs/{}\">{}</a></li>", g.slug, g.title));
    }
    body.push_str("</ul><h2>Reference</h2><ul class=\"docs-list\">");
    for (tag, about) in openapi::TAGS {
        body.push_str(&format!(
            "<li><a href=\"/docs/{}\">{}</a> <span class=\"muted\">{}</span></li>",
            slug_of(tag),
            tag,
            about
        ));
    }
    body.push_str("</ul>");
    html(&Page {
        theme: theme_of(&headers).unwrap_or(""),
        title: "API documentation".into(),
        nav_reference,
        nav_guides,
        intro: String::new(),
        html: body,
        operations: vec![],
    })
}

async fn page(headers: HeaderMap, Path(slug): Path<String>) -> Result<Response, PageError> {
    let (nav_reference, nav_guides) = nav(&slug);
    let theme = theme_of(&headers).unwrap_or("");
    if let Some(g) = GUIDES.iter().find(|g| g.slug == slug) {
        return Ok(html(&Page {
            theme,
            title: g.title.into(),
            nav_reference,
            nav_guides,
            intro: String::new(),
            html: (g.body)(),
            operations: vec![],
        }));
    }
    let Some((tag, about)) = openapi::TAGS.iter().find(|(t, _)| slug_of(t) == slug) else {
        return Err(PageError(crm_core::CoreError::NotFound(
            "There is no such page in the documentation.".into(),
        )));
    };
    Ok(html(&Page {
        theme,
        title: tag.to_string(),
        nav_reference,
        nav_guides,
        intro: about.to_string(),
        html: String::new(),
        operations: operations_of(tag),
    }))
}

/// The operations of one section, from the document.
fn operations_of(tag: &str) -> Vec<Operation> {
    let doc = openapi::document();
    let schemas = &doc["components"]["schemas"];
    let mut out = vec![];
    let Some(paths) = doc["paths"].as_object() else {
        return out;
    };
    for op in crate::http::api::operations().iter().filter(|o| o.doc.tag == tag) {
        let o = &paths[&op.path][op.method];
        let param_rows = o["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| Row {
                        name: p["name"].as_str().unwrap_or("").into(),
                        kind: format!("{} · {}", p["in"].as_str().unwrap_or(""), type_of(&p["schema"])),
                        required: p["required"].as_bool().unwrap_or(false),
                        description: p["description"].as_str().unwrap_or("").into(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let body_schema = &o["requestBody"]["content"]["application/json"]["schema"];
        // the body's fields in the order the operation lists them
        let body = op
            .doc
            .body
            .iter()
            .map(|f| Row {
                name: f.name.into(),
                kind: type_of(&body_schema["properties"][f.name]),
                required: f.required,
                description: f.description.into(),
            })
            .collect();
        let status = op.doc.status.to_string();
        let ok = &o["responses"][&status];
        let (answer, fields) = match op.doc.file {
            Some(media) => (format!("A file ({media})."), vec![]),
            None => {
                let data = &ok["content"]["application/json"]["schema"]["properties"]["data"];
                let (what, item) = if op.doc.paged {
                    ("A page of", &data["items"])
                } else {
                    ("", data)
                };
                let name = ref_name(item).unwrap_or("");
                let answer = match (name.is_empty(), op.doc.paged) {
                    (true, _) if item.as_object().is_none_or(|m| m.is_empty()) => {
                        "`data`: see the example below or null.".to_string()
                    }
                    (true, _) => format!("`data`: {}.", type_of(item)),
                    (false, true) => format!("{what} {name}, with `pagination`."),
                    (false, false) => format!("`data` is a {name}."),
                };
                (answer, rows_of(item, schemas))
            }
        };
        out.push(Operation {
            id: openapi::operation_id(op),
            method: op.method.to_uppercase(),
            path: format!("/api/v1{}", op.path),
            summary: op.doc.summary.clone(),
            description: op.doc.description.clone(),
            params: param_rows,
            body,
            status,
            answer,
            fields,
            public: op.doc.public,
            admin: op.doc.admin,
            curl: curl(op, body_schema),
        });
    }
    out
}

/// Text with `code` spans, escaped for HTML (descriptions come from doc comments).
pub fn inline(text: &str) -> String {
    let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut out = String::new();
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("<code>{part}</code>"));
        } else {
            out.push_str(part);
        }
    }
    out
}

fn ref_name(s: &Value) -> Option<&str> {
    s["$ref"].as_str().and_then(|r| r.rsplit('/').next())
}

fn resolve<'a>(s: &'a Value, schemas: &'a Value) -> &'a Value {
    match ref_name(s) {
        Some(n) => &schemas[n],
        None => s,
    }
}

/// A short type for a table: `string (uuid)`, `ContactView`, `array of TaskView`, `lead | customer`.
fn type_of(s: &Value) -> String {
    if let Some(n) = ref_name(s) {
        return n.to_string();
    }
    if let Some(values) = s["enum"].as_array() {
        return values.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" | ");
    }
    if let Some(any) = s["anyOf"].as_array().or(s["oneOf"].as_array()) {
        return any.iter().map(type_of).collect::<Vec<_>>().join(" or ");
    }
    let t = match &s["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" or "),
        _ => "any".into(),
    };
    if t == "array" {
        return format!("array of {}", type_of(&s["items"]));
    }
    match s["format"].as_str() {
        Some(f) => format!("{t} ({f})"),
        None => t,
    }
}

/// The properties of an object schema (following one `$ref`) as table rows.
fn rows_of(s: &Value, schemas: &Value) -> Vec<Row> {
    let s = resolve(s, schemas);
    let required: Vec<&str> = s["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut rows: Vec<Row> = s["properties"]
        .as_object()
        .map(|props| {
            props
                .iter()
                .map(|(k, v)| Row {
                    name: k.clone(),
                    kind: type_of(v),
                    required: required.contains(&k.as_str()),
                    description: v["description"].as_str().unwrap_or("").to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    // a flattened part (`allOf`), e.g. a contact's optional fields
    if let Some(parts) = s["allOf"].as_array() {
        for p in parts {
            rows.extend(rows_of(p, schemas));
        }
    }
    rows
}

/// A curl line with a bearer token and, for a body, an example of its required fields.
fn curl(op: &crate::http::api::Op, body: &Value) -> String {
    let path = op.path.replace("{id}", "$ID").replace("{delivery}", "$DELIVERY_ID");
    let mut line = String::from("curl");
    if op.method != "get" {
        line.push_str(&format!(" -X {}", op.method.to_uppercase()));
    }
    if !op.doc.public {
        line.push_str(" -H \"Authorization: Bearer $CRM_TOKEN\"");
    }
    if let Some(props) = body["properties"].as_object() {
        let required: Vec<&str> = body["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let example: serde_json::Map<String, Value> = props
            .iter()
            .filter(|(k, _)| required.is_empty() || required.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), example_of(k, v)))
            .collect();
        line.push_str(&format!(
            " -H \"Content-Type: application/json\" -d '{}'",
            Value::Object(example)
        ));
    }
    line.push_str(&format!(" \"$CRM_URL/api/v1{path}\""));
    line
}

fn example_of(name: &str, s: &Value) -> Value {
    if let Some(first) = s["enum"].as_array().and_then(|v| v.first()) {
        return first.clone();
    }
    match (s["type"].as_str(), s["format"].as_str()) {
        (_, Some("uuid")) => Value::String("0193a1b2-0000-7000-8000-000000000000".into()),
        (_, Some("date-time")) => Value::String("2026-12-31T17:00:00Z".into()),
        (_, Some("date")) => Value::String("2026-12-31".into()),
        (Some("integer"), _) => Value::from(1),
        (Some("number"), _) => Value::from(1500),
        (Some("boolean"), _) => Value::Bool(true),
        (Some("array"), _) => Value::Array(vec![]),
        _ => Value::String(
            match name {
                "email" => "ada@example.com",
                "firstName" => "Ada",
                "lastName" => "Lovelace",
                "name" => "Analytical Engines",
                "title" => "Send the proposal",
                "subject" => "Discovery call",
                "password" => "a long passphrase",
                "url" => "https://example.com/hooks/crm",
                _ => "…",
            }
            .into(),
        ),
    }
}

fn guide_start() -> String {
    r#"<p>1. Sign in to the app, open <a href="/settings#tokens">Settings → API tokens</a> and create a token. Its secret is shown once: keep it like a password.</p>
<p>2. Call the API with it as a bearer token. Every path below is under <code>/api/v1</code> (<code>/api</code> answers the same).</p>
<pre><code>export CRM_URL=https://crm.example.com
export CRM_TOKEN=crm_…
curl -H "Authorization: Bearer $CRM_TOKEN" "$CRM_URL/api/v1/contacts?limit=5"</code></pre>
<p>3. Every answer is an envelope: <code>{"data": …, "error": null}</code> on success and <code>{"data": null, "error": "…"}</code> when something is wrong; lists add <code>pagination</code>.</p>
<pre><code>curl -X POST -H "Authorization: Bearer $CRM_TOKEN" -H "Content-Type: application/json" \
  -d '{"firstName":"Ada","lastName":"Lovelace","email":"ada@example.com"}' \
  "$CRM_URL/api/v1/contacts"</code></pre>
<p>A token acts as its user: a rep's token sees and changes only that rep's records, exactly as in the app. The <a href="/docs/contacts">reference</a> lists every operation; <a href="/api/openapi.json">/api/openapi.json</a> describes them for code generators and test tools.</p>"#
        .into()
}

fn guide_auth() -> String {
    r#"<h2>Bearer tokens</h2>
<p>For scripts and integrations. Create one under Settings → API tokens (or <code>POST /api/v1/auth/tokens {"name","expiresInDays"?}</code>); send it as <code>Authorization: Bearer &lt;token&gt;</code>. Only its SHA-256 is stored. Revoking it (<code>DELETE /api/v1/auth/tokens/{id}</code>) takes effect at once on the instance that revoked it and within 5 seconds on the others. An administrator changing your role, deactivating you or resetting your password revokes your tokens.</p>
<h2>Browser sessions</h2>
<p>The app's pages use a session cookie (<code>crm_session</code>, HttpOnly, SameSite=Lax) set by <code>POST /api/v1/auth/signin</code>. With the cookie, every POST, PUT, PATCH and DELETE must send the session's CSRF token in <code>X-CSRF-Token</code>; <code>GET /api/v1/auth/session</code> returns it. Sessions expire after 7 idle days and 30 days at most.</p>
<h2>Two-factor sign-in</h2>
<p>When a user has it on, <code>signin</code> answers <code>"twoFactorRequired": true</code> and a half-open session that only <code>POST /api/v1/auth/2fa/verify {"code"}</code> accepts (a TOTP code or a backup code). Tokens are not affected: a token is already a second factor's result.</p>
<h2>Roles</h2>
<p>Admins read and change everything; managers read everything and change their own records; reps see only their own. A record outside the caller's scope answers 404, one they may see but not change answers 403; refusals are written to the audit log.</p>"#
        .into()
}

fn guide_lists() -> String {
    r#"<p>Lists take <code>page</code> (from 1) and <code>limit</code> (1 to 200, default 50) and answer with:</p>
<pre><code>"pagination": {"page": 1, "limit": 50, "total": 1234, "totalPages": 25, "totalIsEstimate": false}</code></pre>
<p>For deep pages, follow cursors: a full page's <code>pagination</code> carries <code>nextCursor</code>; send it back as <code>cursor</code> (with the same filters, sort and <code>limit</code>) for the rows after it. A cursor page costs the same at row 50 and at row 500,000, while <code>page</code> numbers read and skip every row before theirs; the last page has no <code>nextCursor</code>. Rows added or removed meanwhile never make a cursor walk repeat or skip a row that stays.</p>
<p>Counting is bounded: past 2,000 matching rows a list stops counting, <code>total</code> is 2,000 and <code>totalIsEstimate</code> is <code>true</code> (the pages say “2,000+”). Lists without a search or company filter take exact totals from tallies at any size.</p>
<p><code>search</code> (or <code>q</code>) matches words in the list's text fields. Filters are named after the fields (<code>status</code>, <code>stage</code>, <code>priority</code>, <code>type</code>, <code>contactId</code>, <code>companyId</code>, <code>userId</code>, date ranges); <code>all</code> or an empty value means no filter. <code>sort</code> and <code>order</code> (<code>asc</code>|<code>desc</code>) choose the order; ties are broken by id, so pages never repeat or skip a row. An unknown filter value is a 400 that lists the allowed ones. The <a href="/docs/contacts">reference</a> lists each list's filters.</p>
<p>Exports (<code>/api/v1/&lt;kind&gt;/export</code>) take the same filters and stream every matching row as CSV.</p>
<p>Reads are current. Repeated contact reads (<code>GET /api/v1/contacts</code> and <code>/api/v1/contacts/{id}</code>) are answered from memory for up to a second, and a change to contacts, companies or users ends that: at once on the instance that made it (its answer comes after), within the milliseconds PostgreSQL takes to tell the other instances, and only a change written into an SQLite file by another program can take the second to show.</p>"#
        .into()
}

fn guide_errors() -> String {
    r#"<p>Every error of the API, whatever raises it, is the envelope with a sentence for a person:</p>
<pre><code>HTTP/1.1 400 Bad Request
{"data": null, "error": "Check the 2 fields marked below",
 "fieldErrors": {"email": "Email is required", "status": "Status must be one of: lead, customer"}}</code></pre>
<div class="table-wrap"><table class="table"><thead><tr><th>Status</th><th>Means</th></tr></thead><tbody>
<tr><td>400</td><td>The request is not valid; <code>fieldErrors</code> names each field. Nothing was written.</td></tr>
<tr><td>401</td><td>No session or token, or it has expired or was revoked.</td></tr>
<tr><td>403</td><td>Signed in, but not allowed (a role, or a record that is not yours to change).</td></tr>
<tr><td>404</td><td>No such record that you may see, or no such endpoint.</td></tr>
<tr><td>405</td><td>The path exists but not with this method (<code>Allow</code> lists the methods).</td></tr>
<tr><td>408</td><td>The request took longer than 30 seconds (uploads: 10 minutes).</td></tr>
<tr><td>409</td><td>A conflict, e.g. the last active admin cannot be removed.</td></tr>
<tr><td>413</td><td>The body is larger than 2 MB (imports: the configured limit).</td></tr>
<tr><td>429</td><td>Too many attempts: <code>Retry-After</code> says when to try again.</td></tr>
<tr><td>500</td><td>Our fault: logged with its cause; the answer says nothing of it.</td></tr>
<tr><td>503</td><td>The database cannot be reached right now; try again.</td></tr>
</tbody></table></div>"#
        .into()
}

fn guide_limits() -> String {
    use crate::http::ratelimit as r;
    let rules = [
        (r::SIGNIN_IP, "Failed sign-ins per client address"),
        (r::SIGNIN_ACCOUNT, "Failed sign-ins per account, from any address"),
        (r::TWO_FA_ACCOUNT, "Wrong two-factor codes per account"),
        (r::TWO_FA_IP, "Wrong two-factor codes per client address"),
        (r::TWO_FA_SETUP, "Two-factor setup, disable and new codes per user"),
        (r::SIGNUP, "Sign-ups per client address"),
        (r::FORGOT, "Password reset mails per client address"),
        (r::RESET, "Password resets per client address"),
        (r::VERIFY, "E-mail confirmations per client address"),
        (r::RESEND, "Confirmation mails sent again per client address"),
        (r::SSO_START, "Single sign-ons started per client address"),
    ];
    let mut rows = String::new();
    for (rule, what) in rules {
        let secs = rule.window.as_secs();
        let window = if secs % 3600 == 0 {
            format!("{} h", secs / 3600)
        } else {
            format!("{} min", secs / 60)
        };
        rows.push_str(&format!(
            "<tr><td>{what}</td><td class=\"num\">{}</td><td>{window}</td></tr>",
            rule.limit
        ));
    }
    format!(
        r#"<p>The limits protect accounts, not throughput: reads and writes of records are not limited. A refused request answers 429 with <code>Retry-After</code> (seconds) and <code>RateLimit-Limit</code> / <code>RateLimit-Remaining</code> / <code>RateLimit-Reset</code>. With Redis configured every instance counts together; without it each counts alone.</p>
<div class="table-wrap"><table class="table"><thead><tr><th>What</th><th class="num">At most</th><th>Per</th></tr></thead><tbody>{rows}</tbody></table></div>"#
    )
}

fn guide_webhooks() -> String {
    let events = crm_core::webhooks::EVENTS
        .iter()
        .map(|e| format!("<code>{e}</code>"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"<p>Admins add endpoints under <a href="/admin/webhooks">Admin → Webhooks</a> or with <code>POST /api/v1/webhooks {{"url","events":[…],"description"?}}</code>. The answer holds the endpoint's <code>secret</code> once. Events: {events}; <code>"*"</code> subscribes to all.</p>
<p>Each delivery is a POST of</p>
<pre><code>{{"id": "…", "type": "deal.stage_changed", "createdAt": "2026-11-30T12:00:00.000Z",
 "data": {{ …the record as the API returns it… }}, "previous": {{ …old values of changed fields… }}}}</code></pre>
<p>with <code>X-CRM-Event</code>, <code>X-CRM-Delivery</code> (the same on every retry of one delivery: use it to ignore repeats) and <code>X-CRM-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256&gt;</code> of <code>"&lt;t&gt;.&lt;raw body&gt;"</code> keyed by the secret. Check it before trusting the body, and refuse an old <code>t</code>:</p>
<pre><code>expected = hex(hmac_sha256(secret, t + "." + raw_body))
valid = constant_time_equal(expected, v1) and abs(now - t) &lt; 300</code></pre>
<p>Answer 2xx within 10 seconds. Anything else is retried with exponential backoff (10 s, 20 s, … at most an hour apart) for 24 hours; an endpoint that fails for 24 hours is disabled and the admins get an e-mail. Events are queued in the same transaction as the change, so none is lost on a restart, and each goes out once however many instances run. Addresses on loopback, private and link-local networks are refused.</p>"#
    )
}

fn guide_versioning() -> String {
    r#"<p><code>/api/v1</code> is the stable prefix; <code>/api</code> answers the same so existing clients keep working.</p>
<p>Within v1 changes are additive only: new endpoints, new optional parameters and body fields, new fields in answers, new event types. Clients must ignore fields they do not know. Nothing is removed or renamed, and no meaning changes, within v1.</p>
<p>A removal happens only in a new version (<code>/api/v2</code>), announced on the old endpoints with <code>Deprecation</code> and <code>Sunset</code> headers (RFC 9745, RFC 8594) at least six months before the old version stops answering.</p>"#
        .into()
}
