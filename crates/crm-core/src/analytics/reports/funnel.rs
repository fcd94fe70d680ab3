//! Funnel: how far the range's deals got, stage by stage, and where they dropped off.

use super::*;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FunnelStage {
    pub stage: &'static str,
    pub count: i64,
    /// This stage ÷ the previous one, percent (the first is 100).
    pub conversion_rate: f64,
    pub drop_off_rate: f64,
}

pub(super) async fn funnel(db: &Db, actor: &Actor, r: Range, won: &[Won]) -> CoreResult<Vec<FunnelStage>> {
    let (first, last) = r.days();
    let contacts = Tallies::read(db, actor, "contacts", Some((first, last))).await?;
    let deals = Tallies::read(db, actor, "deals", Some((first, last))).await?;
    let counts = [
        ("New contacts", contacts.total()),
        ("Became customers", contacts.count("customer")),
        ("New deals", deals.total()),
        ("Deals won", won.len() as i64),
    ];
    Ok(counts
        .iter()
        .enumerate()
        .map(|(i, (stage, n))| {
            let prev = if i == 0 { *n } else { counts[i - 1].1 };
            FunnelStage {
                stage,
                count: *n,
                conversion_rate: if i == 0 { 100.0 } else { pct(*n, prev) },
                drop_off_rate: if i == 0 { 0.0 } else { pct(Ord::max(prev - n, 0), prev) },
            }
        })
        .collect())
}
