//! Global search: one query over contacts, companies, deals, tasks and activities, each
//! group scoped to what the actor may see, with the true match count per group.

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use uuid::Uuid;

use crate::actor::Actor;
use crate::db::Db;
use crate::entities::{activity, company, deal, task};
use crate::error::{CoreError, CoreResult};
use crate::text::like_escape;
use crate::{clock, scope};

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "SearchHit")]
pub struct Hit {
    pub id: Uuid,
    pub title: String,
    pub subtitle: String,
    pub url: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[schemars(rename = "SearchGroup")]
pub struct Group {
    /// Counted up to `page::COUNT_CAP`; past it, `totalIsEstimate` is true.
    pub total: u64,
    #[serde(rename = "totalIsEstimate")]
    pub total_is_estimate: bool,
    pub results: Vec<Hit>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[schemars(rename = "SearchResults")]
pub struct Results {
    pub contacts: Group,
    pub companies: Group,
    pub deals: Group,
    pub tasks: Group,
    pub activities: Group,
}

fn like(col: impl sea_orm::ColumnTrait, pattern: &str) -> sea_orm::sea_query::SimpleExpr {
    Expr::expr(Func::lower(Expr::col(col))).like(LikeExpr::new(pattern.to_string()).escape('\\'))
}

/// Rows of `table` whose text matches: through its trigram index on SQLite (3+ characters),
/// else `lower(col) LIKE` on the given columns (pg_trgm indexes serve it on PostgreSQL).
fn text_match(db: &Db, table: &str, cols: &[sea_orm::sea_query::SimpleExpr], q: &str) -> Condition {
    if !db.is_postgres() && q.chars().count() >= 3 {
        let phrase = format!("\"{}\"", q.to_lowercase().replace('"', "\"\""));
        let sql = format!("{table}.rowid IN (SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH ?)");
        return Condition::all().add(Expr::cust_with_values(sql, [phrase]));
    }
    cols.iter().fold(Condition::any(), |c, e| c.add(e.clone()))
}

pub async fn search(db: &Db, actor: &Actor, q: &str, limit: u64) -> CoreResult<Results> {
    let q = crate::text::without_controls(q);
    let q = q.trim();
    if q.is_empty() {
        return Err(CoreError::field("q", "Type something to search for"));
    }
    if q.chars().count() > 200 {
        return Err(CoreError::field("q", "The search is too long (200 characters at most)"));
    }
    let limit = limit.clamp(1, 50);
    let pat = format!("%{}%", like_escape(&q.to_lowercase()));

    let mut cp = crate::contacts::list::ListParams::parse(&crate::query::QueryParams::new(vec![]))?;
    cp.search = Some(q.to_string());
    cp.page.limit = limit;
    let contacts = async {
        let page = crate::contacts::list::list(db, actor, &cp).await?;
        Ok(Group {
            total: page.pagination.total,
            total_is_estimate: page.pagination.total_is_estimate,
            results: page
                .items
                .into_iter()
                .map(|c| Hit {
                    id: c.id,
                    title: c.full_name(),
                    subtitle: c.email.clone(),
                    url: format!("/contacts/{}", c.id),
                })
                .collect(),
        })
    };

    let companies = company::Entity::find().filter(
        Condition::any()
            .add(Expr::col(company::Column::NameKey).like(LikeExpr::new(pat.clone()).escape('\\')))
            .add(like(company::Column::Industry, &pat))
            .add(like(company::Column::Website, &pat)),
    );
    let companies = group(
        db,
        companies,
        |q| q.order_by_asc(company::Column::NameKey),
        limit,
        |c| Hit {
            id: c.id,
            subtitle: c.industry.unwrap_or_default(),
            title: c.name,
            url: format!("/companies/{}", c.id),
        },
    );

    let cond = text_match(
        db,
        "deals",
        &[like(deal::Column::Name, &pat), like(deal::Column::Description, &pat)],
        q,
    );
    let deals = scope::visible::<deal::Entity>(actor).filter(cond);
    let deals = group(
        db,
        deals,
        |q| q.order_by_desc(deal::Column::CreatedAt),
        limit,
        |d| Hit {
            id: d.id,
            title: d.name,
            subtitle: format!(
                "{} · {}",
                d.stage.label(),
                crate::input::cents_to_decimal(d.value_cents)
            ),
            url: format!("/deals/{}", d.id),
        },
    );

    let cond = text_match(
        db,
        "tasks",
        &[like(task::Column::Title, &pat), like(task::Column::Description, &pat)],
        q,
    );
    let tasks = scope::visible::<task::Entity>(actor).filter(cond);
    let by_due = |q: sea_orm::Select<task::Entity>| {
        q.order_by_asc(task::Column::Completed)
            .order_by_asc(task::Column::DueDate)
    };
    let tasks = group(db, tasks, by_due, limit, |t| Hit {
        id: t.id,
        title: t.title,
        subtitle: format!(
            "{} · due {}",
            if t.completed { "done" } else { "open" },
            clock::local(&t.due_date).format("%Y-%m-%d")
        ),
        url: format!("/tasks/{}/edit", t.id),
    });

    let cond = text_match(
        db,
        "activities",
        &[
            like(activity::Column::Subject, &pat),
            like(activity::Column::Description, &pat),
        ],
        q,
    );
    let activities = scope::visible::<activity::Entity>(actor).filter(cond);
    let activities = group(
        db,
        activities,
        |q| q.order_by_desc(activity::Column::CreatedAt),
        limit,
        |a| Hit {
            id: a.id,
            title: a.subject,
            subtitle: a.kind.to_string(),
            url: format!("/activities/{}/edit", a.id),
        },
    );

    // the five kinds read side by side on pooled connections
    let (contacts, companies, deals, tasks, activities) =
        tokio::try_join!(contacts, companies, deals, tasks, activities)?;
    Ok(Results {
        contacts,
        companies,
        deals,
        tasks,
        activities,
    })
}

/// One kind's group: the matches of `q` counted up to the cap, and the first `limit` in
/// `order`, read side by side.
async fn group<E: EntityTrait>(
    db: &Db,
    q: sea_orm::Select<E>,
    order: impl FnOnce(sea_orm::Select<E>) -> sea_orm::Select<E>,
    limit: u64,
    hit: impl Fn(E::Model) -> Hit,
) -> CoreResult<Group> {
    let (counted, rows) = tokio::try_join!(crate::page::capped_count(db, q.clone()), async {
        Ok(order(q).limit(limit).all(&db.conn).await?)
    })?;
    Ok(Group {
        total: counted.0,
        total_is_estimate: counted.1,
        results: rows.into_iter().map(hit).collect(),
    })
}
