//! The OpenAPI 3.1 document, built from the operations the router serves
//! (`http::api::operations`) and the JSON Schemas of the typed views (schemars, as they
//! serialize). Paths are under the server `/api/v1`; `/api` is the same API.

use std::collections::BTreeMap;

use schemars::generate::{Contract, SchemaSettings};
use serde_json::{Map, Value, json};

use crate::http::api::{BodyField, Op, Param, operations};

/// The tags in reference order, with what each section is about.
pub const TAGS: &[(&str, &str)] = &[
    ("Contacts", "The people you sell to."),
    ("Companies", "The organisations they work for."),
    ("Deals", "Opportunities and the pipeline board."),
    ("Tasks", "To-dos with a due date, about a contact or personal."),
    (
        "Activities",
        "Calls, e-mails, meetings and notes logged against a contact.",
    ),
    ("Search", "One search over every kind of record."),
    ("Dashboard", "The dashboard's figures."),
    ("Reports", "Reports over a date range, as JSON or CSV."),
    ("Export", "Lists as CSV files."),
    ("Import", "CSV imports and their progress."),
    (
        "Calendar",
        "A private calendar feed of one's tasks, meetings and closing deals.",
    ),
    ("Authentication", "Signing in and out, sign-up and password reset."),
    (
        "Account",
        "One's profile, password, two-factor sign-in, sessions and API tokens.",
    ),
    (
        "Admin",
        "Users, invitations and the audit log (admins; managers for reps).",
    ),
    ("Organisation", "Settings of the whole organisation."),
    ("Webhooks", "Outbound webhooks (admins)."),
    ("Documentation", "This document."),
];

fn settings() -> SchemaSettings {
    let mut s = SchemaSettings::draft2020_12();
    s.definitions_path = "/components/schemas".into();
    s.contract = Contract::Serialize;
    s.meta_schema = None;
    s
}

/// `GET`, `POST`… and the path as one id: `get /contacts/{id}` → `getContactsById`.
pub fn operation_id(op: &Op) -> String {
    let mut id = op.method.to_string();
    for part in op.path.split('/').filter(|p| !p.is_empty()) {
        let (by, word) = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) => ("By", name),
            None => ("", part),
        };
        id.push_str(by);
        let mut upper = true;
        for c in word.chars() {
            if c.is_ascii_alphanumeric() {
                if upper {
                    id.extend(c.to_uppercase());
                } else {
                    id.push(c);
                }
                upper = false;
            } else {
                upper = true;
            }
        }
    }
    id
}

/// The names in `{…}` of a path.
pub fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|p| p.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
        .collect()
}

fn simple_schema(kind: &str, values: &[&str]) -> Value {
    let mut s = match kind {
        "uuid" => json!({"type": "string", "format": "uuid"}),
        "date" => json!({"type": "string", "format": "date"}),
        "date-time" => json!({"type": "string", "format": "date-time"}),
        "array" => json!({"type": "array"}),
        other => json!({ "type": other }),
    };
    if !values.is_empty() {
        s["enum"] = json!(values);
    }
    s
}

fn query_param(p: &Param) -> Value {
    json!({
        "name": p.name,
        "in": "query",
        "required": false,
        "description": p.description,
        "schema": simple_schema(p.kind, p.values),
    })
}

fn body_schema(fields: &[BodyField]) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .map(|f| {
            let mut s = simple_schema(f.kind, f.values);
            if !f.description.is_empty() {
                s["description"] = json!(f.description);
            }
            (f.name.to_string(), s)
        })
        .collect();
    let required: Vec<&str> = fields.iter().filter(|f| f.required).map(|f| f.name).collect();
    let mut s = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        s["required"] = json!(required);
    }
    s
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    })
}

/// The whole document, built once, at its first request: the router (`http::router`)
/// publishes the operations before it serves anything, and they never change.
pub fn document() -> &'static Value {
    static DOC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    DOC.get_or_init(build)
}

fn build() -> Value {
    let mut generator = settings().into_generator();
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for op in operations() {
        let mut parameters: Vec<Value> = path_params(&op.path)
            .into_iter()
            .map(|name| {
                json!({
                    "name": name,
                    "in": "path",
                    "required": true,
                    "schema": {"type": "string", "format": "uuid"},
                })
            })
            .collect();
        parameters.extend(op.doc.query.iter().map(query_param));
        let data = op
            .doc
            .data
            .map(|f| serde_json::to_value(f(&mut generator)).unwrap_or(Value::Null));
        let success = match (op.doc.file, data) {
            (Some(media), _) => {
                let schema = if media == "application/json" {
                    json!({"type": "object"})
                } else {
                    json!({"type": "string"})
                };
                json!({"description": "The file.", "content": { media: {"schema": schema} }})
            }
            (None, data) => {
                let data = match (data, op.doc.paged) {
                    (Some(d), true) => json!({"type": "array", "items": d}),
                    (Some(d), false) => d,
                    (None, _) => json!({}),
                };
                let mut properties = json!({"data": data, "error": {"type": "null"}});
                let mut required = vec!["data", "error"];
                if op.doc.paged {
                    properties["pagination"] = json!({"$ref": "#/components/schemas/Pagination"});
                    required.push("pagination");
                }
                json!({
                    "description": "Success: the result in `data`.",
                    "content": {"application/json": {"schema": {
                        "type": "object", "required": required, "properties": properties,
                    }}},
                })
            }
        };
        let mut responses = Map::new();
        responses.insert(op.doc.status.to_string(), success);
        // any operation may meet these (a token that is not valid is refused even where
        // none is needed; a record may be gone; a body may be too large)
        let errors = ["400", "401", "403", "404", "409", "413", "429", "503"];
        for code in errors {
            responses.insert(code.into(), json!({ "$ref": format!("#/components/responses/{code}") }));
        }
        let mut operation = json!({
            "operationId": operation_id(op),
            "tags": [op.doc.tag],
            "summary": op.doc.summary,
            "parameters": parameters,
            "responses": responses,
        });
        if !op.doc.description.is_empty() {
            operation["description"] = json!(op.doc.description);
        }
        if op.doc.admin {
            operation["x-admin-only"] = json!(true);
        }
        if !op.doc.body.is_empty() {
            operation["requestBody"] = json!({
                "required": true,
                "content": {"application/json": {"schema": body_schema(&op.doc.body)}},
            });
        }
        if op.doc.public {
            operation["security"] = json!([]);
        }
        paths
            .entry(op.path.clone())
            .or_default()
            .insert(op.method.to_string(), operation);
    }
    generator.subschema_for::<crm_core::page::Pagination>();
    let mut schemas = generator.take_definitions(true);
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object",
            "required": ["data", "error"],
            "properties": {
                "data": {"type": "null"},
                "error": {"type": "string", "description": "What went wrong, for a person."},
                "fieldErrors": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "One message per invalid field.",
                },
            },
        }),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "CRM Contact Manager API",
            "version": "1",
            "description": "The JSON API of the CRM. Every answer is an envelope: `{\"data\": …, \"error\": null}` on success, `{\"data\": null, \"error\": \"…\"}` on failure (with `fieldErrors` for invalid fields); lists add `pagination`. Guides at /docs.",
        },
        "servers": [{"url": "/api/v1", "description": "The stable prefix (/api is an alias)."}],
        "tags": TAGS.iter().map(|(name, description)| json!({"name": name, "description": description})).collect::<Vec<_>>(),
        "security": [{"bearerToken": []}, {"sessionCookie": [], "csrfToken": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                "400": error_response("The request is not valid: `error` says why, `fieldErrors` per field. Nothing was written."),
                "401": error_response("Not signed in, or the token has expired or was revoked."),
                "403": error_response("Signed in, but not allowed to do this."),
                "404": error_response("No such record that the caller may see."),
                "409": error_response("The change conflicts with the data as it is (e.g. the last active admin)."),
                "413": error_response("The body is larger than allowed (2 MB; imports: the configured limit)."),
                "429": error_response("Too many attempts: `Retry-After` says when to try again."),
                "503": error_response("The database cannot be reached right now: try again in a moment."),
            },
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token from Settings → API tokens (or POST /auth/tokens).",
                },
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": crate::http::session::COOKIE,
                    "description": "The browser's session, set by signing in.",
                },
                "csrfToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRF-Token",
                    "description": "With the session cookie, every POST, PUT, PATCH and DELETE sends the session's CSRF token (GET /auth/session).",
                },
            },
        },
    })
}
