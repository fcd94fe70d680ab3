//! Keyset ("cursor") pages: a list's order is a few keys and the id; a cursor holds the
//! values of the last row a page showed, and the next page is the rows after it in that
//! order — found through the order's index however deep, where `OFFSET` reads and drops
//! every row before. `nextCursor` in the pagination leads on; `cursor` asks for the page.
//!
//! Nullable text keys are ordered as `COALESCE(col, '')`, so an empty value sorts the same
//! on SQLite and PostgreSQL and a cursor can stand on it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, SimpleExpr};
use sea_orm::{Condition, EntityTrait, IntoSimpleExpr, Order, QueryOrder, Select};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::error::{CoreError, CoreResult};

/// How a key's value is carried in a cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// Text that may be NULL: ordered and compared as `COALESCE(col, '')`.
    OptText,
    Time,
    Int,
    Bool,
}

/// One key of an order: a column of the list's entity.
#[derive(Clone, Debug)]
pub struct Key<C> {
    pub col: C,
    pub expr: SimpleExpr,
    pub desc: bool,
    pub kind: Kind,
}

impl<C: IntoSimpleExpr + Copy> Key<C> {
    pub fn new(col: C, desc: bool, kind: Kind) -> Key<C> {
        let expr = match kind {
            Kind::OptText => Func::coalesce([col.into_simple_expr(), Expr::val("")]).into(),
            _ => col.into_simple_expr(),
        };
        Key { col, expr, desc, kind }
    }
}

/// A list's order: its keys, then the id (in `id_desc` order) so that no two rows tie.
#[derive(Clone, Debug)]
pub struct Keyset<E: EntityTrait> {
    pub keys: Vec<Key<E::Column>>,
    pub id: E::Column,
    pub id_desc: bool,
}

/// Where a page starts: after the row with these key values and this id.
#[derive(Clone, Debug, PartialEq)]
pub struct Cursor {
    pub values: Vec<Value>,
    pub id: Uuid,
}

fn bad() -> CoreError {
    CoreError::field("cursor", "Invalid cursor: use the nextCursor of the previous page")
}

impl Cursor {
    pub fn encode(&self) -> String {
        let mut all = self.values.clone();
        all.push(json!(self.id));
        URL_SAFE_NO_PAD.encode(Value::Array(all).to_string())
    }

    pub fn decode(s: &str) -> CoreResult<Cursor> {
        let bytes = URL_SAFE_NO_PAD.decode(s.trim()).map_err(|_| bad())?;
        let Ok(Value::Array(mut all)) = serde_json::from_slice::<Value>(&bytes) else {
            return Err(bad());
        };
        let id = all.pop().and_then(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok()));
        Ok(Cursor {
            values: all,
            id: id.ok_or_else(bad)?,
        })
    }
}

impl<E: EntityTrait> Keyset<E> {
    pub fn new(keys: Vec<Key<E::Column>>, id: E::Column, id_desc: bool) -> Keyset<E> {
        Keyset { keys, id, id_desc }
    }

    /// `q` in this order.
    pub fn order(&self, mut q: Select<E>) -> Select<E> {
        for k in &self.keys {
            q = q.order_by(k.expr.clone(), if k.desc { Order::Desc } else { Order::Asc });
        }
        q.order_by(self.id, if self.id_desc { Order::Desc } else { Order::Asc })
    }

    /// The cursor after `m`: its values of the keys (as the keys compare them) and its id.
    pub fn cursor_of(&self, m: &E::Model) -> Cursor {
        use sea_orm::{ModelTrait, Value as V};
        let json = |v: V| match v {
            V::String(s) => Value::String(s.unwrap_or_default()),
            V::ChronoDateTimeUtc(Some(t)) => time(&t),
            V::BigInt(Some(n)) => json!(n),
            V::Int(Some(n)) => json!(n),
            V::Bool(Some(b)) => Value::Bool(b),
            _ => Value::Null,
        };
        Cursor {
            values: self.keys.iter().map(|k| json(m.get(k.col))).collect(),
            id: match m.get(self.id) {
                V::Uuid(Some(id)) => id,
                _ => Uuid::nil(),
            },
        }
    }

    /// The rows after `c`: `k1 ≷= v1 AND ((k1 ≷ v1) OR (k1 = v1 AND k2 ≷ v2) OR … OR (all
    /// equal AND id ≷ id))`.
    pub fn after(&self, c: &Cursor) -> CoreResult<Condition> {
        if c.values.len() != self.keys.len() {
            return Err(bad());
        }
        let mut values: Vec<SimpleExpr> = Vec::new();
        for (k, v) in self.keys.iter().zip(&c.values) {
            values.push(match (k.kind, v) {
                (Kind::Time, Value::String(s)) => {
                    let t: DateTime<Utc> = s.parse().map_err(|_| bad())?;
                    Expr::val(t)
                }
                (Kind::Text | Kind::OptText, Value::String(s)) => Expr::val(s.clone()),
                (Kind::Int, Value::Number(n)) => Expr::val(n.as_i64().ok_or_else(bad)?),
                (Kind::Bool, Value::Bool(b)) => Expr::val(*b),
                _ => return Err(bad()),
            });
        }
        let beyond = |e: SimpleExpr, v: SimpleExpr, desc: bool| if desc { e.lt(v) } else { e.gt(v) };
        let reached = |e: SimpleExpr, v: SimpleExpr, desc: bool| if desc { e.lte(v) } else { e.gte(v) };
        let mut any = Condition::any();
        for i in 0..=self.keys.len() {
            let mut all = Condition::all();
            for (k, v) in self.keys.iter().zip(&values).take(i) {
                all = all.add(k.expr.clone().eq(v.clone()));
            }
            all = all.add(match self.keys.get(i) {
                Some(k) => beyond(k.expr.clone(), values[i].clone(), k.desc),
                None => beyond(self.id.into_simple_expr(), Expr::val(c.id), self.id_desc),
            });
            any = any.add(all);
        }
        // the first key's bound on its own as well: a range the order's index can seek to
        // (an OR of the cases alone makes the planners walk the index from its start)
        Ok(match (self.keys.first(), values.first()) {
            (Some(k), Some(v)) => Condition::all()
                .add(reached(k.expr.clone(), v.clone(), k.desc))
                .add(any),
            _ => any,
        })
    }
}

/// A page of `q` in `order`: after `cursor` when there is one, else at the page's offset;
/// and the cursor of its last row when the page is full (there may be more).
pub async fn fetch<E: EntityTrait>(
    db: &crate::Db,
    q: Select<E>,
    order: &Keyset<E>,
    req: crate::page::PageReq,
    cursor: Option<&Cursor>,
) -> CoreResult<(Vec<E::Model>, Option<String>)> {
    use sea_orm::{QueryFilter, QuerySelect};
    let q = order.order(q);
    let q = match cursor {
        Some(c) => q.filter(order.after(c)?),
        None => q.offset(req.offset()),
    };
    // one row more than the page tells whether there is a next one
    let mut rows = q.limit(req.limit + 1).all(&db.conn).await?;
    let next = next_after(&mut rows, req.limit, order);
    Ok((rows, next))
}

/// A list's page of `q` in `order` and its pagination (the total counted up to the cap),
/// the count and the page read side by side.
pub async fn page<E: EntityTrait>(
    db: &crate::Db,
    q: Select<E>,
    order: &Keyset<E>,
    req: crate::page::PageReq,
    cursor: Option<&Cursor>,
) -> CoreResult<(Vec<E::Model>, crate::page::Pagination)> {
    let (total, (rows, next)) = tokio::try_join!(
        crate::page::capped_count(db, q.clone()),
        fetch(db, q, order, req, cursor)
    )?;
    let mut pagination = crate::page::Pagination::capped(req, total);
    pagination.next_cursor = next;
    Ok((rows, pagination))
}

/// Cut `rows` (read with one extra) to the page; the cursor of its last row when the extra
/// one shows there is more.
pub fn next_after<E: EntityTrait>(rows: &mut Vec<E::Model>, limit: u64, order: &Keyset<E>) -> Option<String> {
    if rows.len() as u64 <= limit {
        return None;
    }
    rows.truncate(limit as usize);
    rows.last().map(|last| order.cursor_of(last).encode())
}

/// The cursor value of a time key (RFC 3339, every digit the database gave).
fn time(t: &DateTime<Utc>) -> Value {
    Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let c = Cursor {
            values: vec![json!("Ada"), json!("")],
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(Cursor::decode("not a cursor").is_err());
        assert!(Cursor::decode(&URL_SAFE_NO_PAD.encode("[1]")).is_err());
    }
}
