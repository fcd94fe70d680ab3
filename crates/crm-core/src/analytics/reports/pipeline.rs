//! Pipeline: deals by stage now, time in stage, win rate and velocity.

use super::*;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pipeline {
    /// Deals created in the range, per stage (every stage, in pipeline order).
    pub by_stage: Vec<StageFigure>,
    /// Average days a deal spent in each stage, over the stage changes made in the range
    /// (from entering the stage to leaving it, from stage history).
    pub average_days_in_stage: Vec<Point>,
    /// Average days from creation to won, over the deals won in the range.
    pub pipeline_velocity: f64,
}

pub(super) async fn pipeline(db: &Db, actor: &Actor, r: Range, won: &[Won]) -> CoreResult<Pipeline> {
    let (first, last) = r.days();
    let created = Tallies::read(db, actor, "deals", Some((first, last))).await?.by_key();
    let by_stage = DealStage::ALL
        .into_iter()
        .map(|s| {
            let (n, c) = created.get(s.as_str()).copied().unwrap_or_default();
            StageFigure {
                stage: s,
                label: s.label(),
                count: n,
                value: dollars(c),
            }
        })
        .collect();
    // time in a stage = this change's time − the deal's previous change's time
    let entered = "(SELECT max(p.changed_at) FROM deal_stage_history p \
                   WHERE p.deal_id = deal_stage_history.deal_id AND p.changed_at < deal_stage_history.changed_at)";
    let span = days_between(db, entered, "deal_stage_history.changed_at");
    let spans: Vec<(DealStage, Option<f64>)> = deal_stage_history::Entity::find()
        .filter(scope::child_of_visible::<deal::Entity, _>(
            actor,
            deal::Column::Id,
            deal_stage_history::Column::DealId,
        ))
        .filter(deal_stage_history::Column::FromStage.is_not_null())
        .filter(deal_stage_history::Column::ChangedAt.gte(r.from))
        .filter(deal_stage_history::Column::ChangedAt.lt(r.to))
        .select_only()
        .column(deal_stage_history::Column::FromStage)
        .column_as(span.avg().cast_as("DOUBLE PRECISION"), "d")
        .group_by(deal_stage_history::Column::FromStage)
        .into_tuple()
        .all(&db.conn)
        .await?;
    let spans: HashMap<DealStage, f64> = spans.into_iter().map(|(s, d)| (s, d.unwrap_or(0.0))).collect();
    let average_days_in_stage = DealStage::ALL
        .into_iter()
        .filter(|s| !s.is_closed())
        .map(|s| Point::new(s.label(), round1(spans.get(&s).copied().unwrap_or(0.0))))
        .collect();
    let velocity = if won.is_empty() {
        0.0
    } else {
        won.iter()
            .map(|w| Ord::max((w.0 - w.1).num_milliseconds(), 0) as f64 / 86_400_000.0)
            .sum::<f64>()
            / won.len() as f64
    };
    Ok(Pipeline {
        by_stage,
        average_days_in_stage,
        pipeline_velocity: round1(velocity),
    })
}
