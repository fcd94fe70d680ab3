//! Sales: won and lost deals in the range, revenue over time, top contacts and companies.

use super::*;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Sales {
    pub won_count: i64,
    pub won_value: f64,
    pub lost_count: i64,
    pub lost_value: f64,
    pub average_deal_size: f64,
    pub win_rate: f64,
    /// Value of deals won per bucket of their close date.
    pub revenue: Vec<Point>,
}

pub(super) async fn sales(db: &Db, actor: &Actor, r: Range, g: &str, won: &[Won]) -> CoreResult<Sales> {
    let (lost_count, lost_cents): (i64, Option<i64>) = closed_in(actor, crate::DealStatus::Lost, r)
        .select_only()
        .column_as(count_rows(), "n")
        .column_as(crate::deals::value_sum(), "s")
        .into_tuple()
        .one(&db.conn)
        .await?
        .unwrap_or((0, None));
    let won_cents: i64 = won.iter().map(|w| w.2).sum();
    let won_count = won.len() as i64;
    let mut per_day: HashMap<NaiveDate, i64> = HashMap::new();
    for w in won {
        *per_day.entry(clock::local(&w.0).date_naive()).or_default() += w.2;
    }
    let (first, last) = r.days();
    Ok(Sales {
        won_count,
        won_value: dollars(won_cents),
        lost_count,
        lost_value: dollars(lost_cents.unwrap_or(0)),
        average_deal_size: if won_count == 0 {
            0.0
        } else {
            (won_cents as f64 / won_count as f64).round() / 100.0
        },
        win_rate: pct(won_count, won_count + lost_count),
        revenue: series(first, last, g, true, |d| dollars(per_day.get(&d).copied().unwrap_or(0))),
    })
}
