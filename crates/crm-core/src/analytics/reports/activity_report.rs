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

/// Top ten contacts by activities created in the range (`probe`: see [`probe_period`]).
pub(super) async fn top_contacts_by_activity(
    db: &Db,
    actor: &Actor,
    r: Range,
    probe: Option<&str>,
) -> CoreResult<Vec<Ranked>> {
    let q = activities_in(actor, r);
    let rows = top_ten_by_activity(db, "contact", q, activity::Column::ContactId, probe).await?;
    contacts_ranked(db, actor, rows, |n| n as f64).await
}

/// Top ten companies (through the contacts' current company) by activities in the range.
pub(super) async fn top_companies_by_activity(
    db: &Db,
    actor: &Actor,
    r: Range,
    probe: Option<&str>,
) -> CoreResult<Vec<Ranked>> {
    let with_company = activities_in(actor, r)
        .join(
            JoinType::InnerJoin,
            activity::Entity::belongs_to(contact::Entity)
                .from(activity::Column::ContactId)
                .to(contact::Column::Id)
                .into(),
        )
        .filter(contact::Column::CompanyId.is_not_null());
    let rows = top_ten_by_activity(db, "company", with_company, contact::Column::CompanyId, probe).await?;
    ranked(db, rows, |n| n as f64).await
}

/// Up to this many activities in the range, the range is grouped per key at once.
const GROUP_AT_ONCE: i64 = 50_000;
/// Keys probed per statement, and at most in all before grouping the range instead.
const PROBE_BATCH: u64 = 100;
const PROBE_LIMIT: usize = 1_000;

/// Whose counts (the `period` of `activity_reach`) the rankings over the days `first..=last`,
/// with `in_range` of the actor's activities, probe — or none: group the range. Only a large
/// range is probed (grouping is cheap up to [`GROUP_AT_ONCE`]): inside one month, that
/// month's counts (they bound the range's closely, so the walk ends soon); otherwise the
/// all-time counts ('') when the range holds at least half of the actor's activities (a
/// year, say) — only then can they end the walk early; a quarter of several years' is grouped.
pub(super) async fn probe_period(
    db: &Db,
    actor: &Actor,
    (first, last): (NaiveDate, NaiveDate),
    in_range: i64,
) -> CoreResult<Option<String>> {
    if in_range <= GROUP_AT_ONCE {
        return Ok(None);
    }
    if (first.year(), first.month()) == (last.year(), last.month()) {
        return Ok(Some(first.format("%Y-%m").to_string()));
    }
    let all = crate::tallies::total(db, actor, "activities", None).await?;
    Ok((in_range * 2 >= all).then(String::new))
}

/// [`probe_period`] for the actor's activities in `r`, from the tallies.
pub(super) async fn probe_range(db: &Db, actor: &Actor, r: Range) -> CoreResult<Option<String>> {
    let days = r.days();
    let in_range = crate::tallies::total(db, actor, "activities", Some(days)).await?;
    probe_period(db, actor, days, in_range).await
}

/// The ten keys (contacts or companies, `kind` in `activity_reach`) with the most of the
/// range's activities `q` (already in the actor's scope), most first, ties by id — as
/// `top_ten` groups them. With `probe` (a period holding the range), the range is not
/// grouped: the keys are probed in batches in the order of their count in that period (an
/// upper bound of the range's), and the walk stops when the next bound cannot beat the
/// tenth; bounds too flat to stop within [`PROBE_LIMIT`] keys fall back to grouping.
async fn top_ten_by_activity<C: ColumnTrait>(
    db: &Db,
    kind: &str,
    q: sea_orm::Select<activity::Entity>,
    key: C,
    probe: Option<&str>,
) -> CoreResult<Vec<(Uuid, i64)>> {
    use crate::entities::activity_reach as reach;
    let grouped =
        || async { Ok::<_, CoreError>(top_ten(q.clone(), key, count_rows()).into_tuple().all(&db.conn).await?) };
    let Some(period) = probe else {
        return grouped().await;
    };
    // would a key with this bound beat the tenth of `top` (sorted most first, ties by id)?
    let may_enter = |top: &[(Uuid, i64)], id: Uuid, bound: i64| {
        top.len() < 10 || bound > top[9].1 || (bound == top[9].1 && id < top[9].0)
    };
    let mut top: Vec<(Uuid, i64)> = Vec::new();
    let mut after: Option<(i64, Uuid)> = None;
    let mut probed = 0;
    loop {
        let mut candidates = reach::Entity::find()
            .filter(reach::Column::Kind.eq(kind))
            .filter(reach::Column::Period.eq(period))
            .filter(reach::Column::N.gt(0));
        if let Some((n, id)) = after {
            candidates = candidates.filter(reach::Column::N.lte(n)).filter(
                sea_orm::Condition::any()
                    .add(reach::Column::N.lt(n))
                    .add(reach::Column::N.eq(n).and(reach::Column::Id.gt(id))),
            );
        }
        let batch: Vec<(Uuid, i64)> = candidates
            .select_only()
            .column(reach::Column::Id)
            .column(reach::Column::N)
            .order_by_desc(reach::Column::N)
            .order_by_asc(reach::Column::Id)
            .limit(PROBE_BATCH)
            .into_tuple()
            .all(&db.conn)
            .await?;
        let live: Vec<Uuid> = batch
            .iter()
            .take_while(|(id, bound)| may_enter(&top, *id, *bound))
            .map(|c| c.0)
            .collect();
        if !live.is_empty() {
            let counted: Vec<(Uuid, i64)> = q
                .clone()
                .filter(key.is_in(live.iter().copied()))
                .select_only()
                .column(key)
                .column_as(count_rows(), "n")
                .group_by(key)
                .into_tuple()
                .all(&db.conn)
                .await?;
            top.extend(counted);
            top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            top.truncate(10);
            probed += live.len();
        }
        // a key that cannot enter ends the walk: every later bound is lower, or equal with a higher id
        if live.len() < batch.len() || (batch.len() as u64) < PROBE_BATCH {
            return Ok(top);
        }
        if probed >= PROBE_LIMIT {
            return grouped().await;
        }
        after = batch.last().map(|&(id, n)| (n, id));
    }
}

pub(super) async fn activity(db: &Db, actor: &Actor, r: Range, g: &str) -> CoreResult<ActivityMetrics> {
    let (first, last) = r.days();
    // the range's tallies decide how the rankings are found; then the independent reads run
    // side by side on pooled connections
    let t = Tallies::read(db, actor, "activities", Some((first, last))).await?;
    let probe = probe_period(db, actor, (first, last), t.total()).await?;
    let (hours, top_contacts, top_companies) = tokio::try_join!(
        Tallies::read(db, actor, "activity_hours", Some((first, last))),
        top_contacts_by_activity(db, actor, r, probe.as_deref()),
        top_companies_by_activity(db, actor, r, probe.as_deref()),
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
