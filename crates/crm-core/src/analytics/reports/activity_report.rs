//! Activity: activities by type and over time, the weekday × hour heatmap, top contacts and companies.

use super::*;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivityMetrics {
    pub total: i64,
    pub by_type: Vec<Point>,
    pub over_time: Vec<Point>,
    /// 7 rows (Monday first) × 24 hours, in the organisation's zone.
    pub heatmap: Vec<Vec<i64>>,
    /// Top ten by number of activities in the range.
    pub top_contacts: Vec<Ranked>,
    pub top_companies: Vec<Ranked>,
}

/// Activities the actor may see, created in the range.
pub(super) fn activities_in(actor: &Actor, r: Range) -> sea_orm::Select<activity::Entity> {
    scope::visible::<activity::Entity>(actor)
        .filter(activity::Column::CreatedAt.gte(r.from))
        .filter(activity::Column::CreatedAt.lt(r.to))
}

/// Top ten contacts by activities created in the range.
pub(super) async fn top_contacts_by_activity(db: &Db, actor: &Actor, r: Range) -> CoreResult<Vec<Ranked>> {
    let rows: Vec<(Uuid, i64)> = top_ten(activities_in(actor, r), activity::Column::ContactId, count_rows())
        .into_tuple()
        .all(&db.conn)
        .await?;
    contacts_ranked(db, actor, rows, |n| n as f64).await
}

/// Top ten companies (through the contacts' current company) by activities in the range.
pub(super) async fn top_companies_by_activity(db: &Db, actor: &Actor, r: Range) -> CoreResult<Vec<Ranked>> {
    let with_company = activities_in(actor, r)
        .join(
            JoinType::InnerJoin,
            activity::Entity::belongs_to(contact::Entity)
                .from(activity::Column::ContactId)
                .to(contact::Column::Id)
                .into(),
        )
        .filter(contact::Column::CompanyId.is_not_null());
    let rows: Vec<(Uuid, i64)> = top_ten(with_company, contact::Column::CompanyId, count_rows())
        .into_tuple()
        .all(&db.conn)
        .await?;
    ranked(db, rows, |n| n as f64).await
}

pub(super) async fn activity(db: &Db, actor: &Actor, r: Range, g: &str) -> CoreResult<ActivityMetrics> {
    let (first, last) = r.days();
    // independent reads: run them side by side on pooled connections
    let (t, hours, top_contacts, top_companies) = tokio::try_join!(
        Tallies::read(db, actor, "activities", Some((first, last))),
        Tallies::read(db, actor, "activity_hours", Some((first, last))),
        top_contacts_by_activity(db, actor, r),
        top_companies_by_activity(db, actor, r),
    )?;
    let by_key = t.by_key();
    let by_type = crate::ActivityType::NAMES
        .into_iter()
        .map(|k| Point::new(k, by_key.get(k).map(|v| v.0).unwrap_or(0) as f64))
        .collect();
    let per_day = t.per_day(|_| true);
    let mut heatmap = vec![vec![0i64; 24]; 7];
    for (d, k, n, _) in &hours.cells {
        if let Ok(h) = k.parse::<usize>()
            && h < 24
        {
            heatmap[d.weekday().num_days_from_monday() as usize][h] += n;
        }
    }
    Ok(ActivityMetrics {
        total: t.total(),
        by_type,
        over_time: series(first, last, g, true, |d| per_day.get(&d).copied().unwrap_or(0) as f64),
        heatmap,
        top_contacts,
        top_companies,
    })
}
