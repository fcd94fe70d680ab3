//! The JSON API's operations: each is added with its route and its documentation in one
//! call ([`Api::get`], [`Api::post`], …), so the OpenAPI document (`crate::docs`) lists
//! exactly what the router serves — an operation cannot be routed without being described.

use std::sync::OnceLock;

use axum::Router;
use axum::handler::Handler;
use schemars::{JsonSchema, Schema, SchemaGenerator};

use crate::AppState;

/// A JSON Schema, made when the document is built.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn schema_of<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

/// A query parameter.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub description: &'static str,
    /// `string`, `integer`, `number`, `boolean`, or `uuid` / `date` / `date-time` (strings).
    pub kind: &'static str,
    /// The allowed values, when they are a list.
    pub values: &'static [&'static str],
}

pub const fn param(name: &'static str, kind: &'static str, description: &'static str) -> Param {
    Param {
        name,
        description,
        kind,
        values: &[],
    }
}

pub const fn one_of(name: &'static str, values: &'static [&'static str], description: &'static str) -> Param {
    Param {
        name,
        description,
        kind: "string",
        values,
    }
}

/// A property of a request body.
#[derive(Clone, Copy, Debug)]
pub struct BodyField {
    pub name: &'static str,
    pub kind: &'static str,
    pub required: bool,
    pub description: &'static str,
    pub values: &'static [&'static str],
}

pub const fn field(name: &'static str, kind: &'static str, description: &'static str) -> BodyField {
    BodyField {
        name,
        kind,
        required: false,
        description,
        values: &[],
    }
}

pub const fn required(name: &'static str, kind: &'static str, description: &'static str) -> BodyField {
    BodyField {
        name,
        kind,
        required: true,
        description,
        values: &[],
    }
}

/// An optional string property with a list of values.
pub const fn body_field(name: &'static str, values: &'static [&'static str]) -> BodyField {
    BodyField {
        name,
        kind: "string",
        required: false,
        description: "",
        values,
    }
}

/// What the document says of one operation.
#[derive(Clone)]
pub struct Doc {
    pub tag: &'static str,
    pub summary: String,
    pub description: String,
    pub query: Vec<Param>,
    pub body: Vec<BodyField>,
    /// The schema of `data` in a successful answer (`None`: `null` or not JSON).
    pub data: Option<SchemaFn>,
    /// A list: `data` is an array of this schema, with `pagination`.
    pub paged: bool,
    /// The status of success.
    pub status: u16,
    /// Needs no session or token.
    pub public: bool,
    /// A file instead of JSON: its media type.
    pub file: Option<&'static str>,
    /// Admins only (others get 403).
    pub admin: bool,
}

impl Doc {
    pub fn new(tag: &'static str, summary: impl Into<String>) -> Doc {
        Doc {
            tag,
            summary: summary.into(),
            description: String::new(),
            query: vec![],
            body: vec![],
            data: None,
            paged: false,
            status: 200,
            public: false,
            file: None,
            admin: false,
        }
    }
    pub fn describe(mut self, text: impl Into<String>) -> Doc {
        self.description = text.into();
        self
    }
    pub fn data<T: JsonSchema>(mut self) -> Doc {
        self.data = Some(schema_of::<T>);
        self
    }
    /// A page of `T` with `pagination`.
    pub fn page<T: JsonSchema>(mut self) -> Doc {
        self.data = Some(schema_of::<T>);
        self.paged = true;
        self
    }
    pub fn query(mut self, params: &[Param]) -> Doc {
        self.query.extend_from_slice(params);
        self
    }
    pub fn body(mut self, fields: &[BodyField]) -> Doc {
        self.body.extend_from_slice(fields);
        self
    }
    pub fn status(mut self, status: u16) -> Doc {
        self.status = status;
        self
    }
    pub fn public(mut self) -> Doc {
        self.public = true;
        self
    }
    pub fn admin(mut self) -> Doc {
        self.admin = true;
        self
    }
    pub fn file(mut self, media_type: &'static str) -> Doc {
        self.file = Some(media_type);
        self
    }
}

/// One documented operation.
#[derive(Clone)]
pub struct Op {
    /// Lower case: `get`, `post`, `put`, `patch`, `delete`.
    pub method: &'static str,
    /// Under `/api/v1`, e.g. `/contacts/{id}`.
    pub path: String,
    pub doc: Doc,
}

/// Routes and their documentation, built together.
#[derive(Default)]
pub struct Api {
    router: Router<AppState>,
    ops: Vec<Op>,
}

macro_rules! method {
    ($name:ident, $routing:path) => {
        pub fn $name<H, T>(mut self, path: &str, doc: Doc, handler: H) -> Api
        where
            H: Handler<T, AppState>,
            T: 'static,
        {
            self.router = self.router.route(path, $routing(handler));
            self.ops.push(Op {
                method: stringify!($name),
                path: path.to_string(),
                doc,
            });
            self
        }
    };
}

impl Api {
    pub fn new() -> Api {
        Api::default()
    }
    method!(get, axum::routing::get);
    method!(post, axum::routing::post);
    method!(put, axum::routing::put);
    method!(patch, axum::routing::patch);
    method!(delete, axum::routing::delete);

    pub fn merge(mut self, other: Api) -> Api {
        self.router = self.router.merge(other.router);
        self.ops.extend(other.ops);
        self
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<Op>) {
        (self.router, self.ops)
    }
}

/// Keep the operations for the document ([`operations`]); every router built has the same.
pub fn publish(ops: Vec<Op>) {
    let _ = OPS.set(ops);
}

static OPS: OnceLock<Vec<Op>> = OnceLock::new();

/// Every operation of the API, in the order the domains add them (empty before the first
/// router is built).
pub fn operations() -> &'static [Op] {
    OPS.get().map(Vec::as_slice).unwrap_or(&[])
}

/// `page`, `limit` and `cursor` of every list.
pub const PAGING: &[Param] = &[
    param(
        "cursor",
        "string",
        "A previous page's `pagination.nextCursor`: the rows after it (instead of `page`); as fast at any depth.",
    ),
    param("page", "integer", "The page, from 1 (default 1)."),
    param(
        "limit",
        "integer",
        "Rows per page, 1 to 200 (default 50; companies 10).",
    ),
];

/// `search` of the lists that have one.
pub const SEARCH: Param = param(
    "search",
    "string",
    "Words to find (at most 200 characters); `q` is an alias.",
);
pub const ORDER: Param = one_of("order", &["asc", "desc"], "Sort direction.");

/// JSON built by hand that has the shape of `T` (a superset of its fields): documented with
/// `T`'s schema. For answers that add to a typed view (a contact with its whole company).
#[derive(serde::Serialize)]
#[serde(transparent)]
pub struct Shaped<T>(pub serde_json::Value, #[serde(skip)] std::marker::PhantomData<T>);

impl<T> Shaped<T> {
    pub fn new(v: serde_json::Value) -> Self {
        Shaped(v, std::marker::PhantomData)
    }
}

impl<T: JsonSchema> JsonSchema for Shaped<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        T::json_schema(g)
    }
}
