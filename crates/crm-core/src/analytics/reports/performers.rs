//! Performers: owners ranked by won value, deals and activities in the range.

use super::*;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Performer {
    pub user_id: Uuid,
    pub name: String,
    pub won_value: f64,
    pub won_deals: i64,
    pub activities: i64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Performers {
    pub people: Vec<Performer>,
    /// Deals created in the range, per company / contact.
    pub top_companies_by_deal_value: Vec<Ranked>,
    pub top_contacts_by_deal_value: Vec<Ranked>,
    pub top_contacts_by_activity: Vec<Ranked>,
    /// The ten biggest deals won in the range.
    pub biggest_deals_won: Vec<crate::deals::DealView>,
}

pub(super) async fn performers(
    db: &Db,
    actor: &Actor,
    r: Range,
    won: &[Won],
    by_activity: Option<Vec<Ranked>>,
) -> CoreResult<Performers> {
    let (first, last) = r.days();
    let mut people: HashMap<Uuid, Performer> = HashMap::new();
    let entry = |people: &mut HashMap<Uuid, Performer>, u: Uuid| {
        people.entry(u).or_insert_with(|| Performer {
            user_id: u,
            name: String::new(),
            won_value: 0.0,
            won_deals: 0,
            activities: 0,
        });
    };
    for (_, _, cents, owner) in won {
        if let Some(u) = owner {
            entry(&mut people, *u);
            if let Some(p) = people.get_mut(u) {
                p.won_value += dollars(*cents);
                p.won_deals += 1;
            }
        }
    }
    for (u, n) in tally_by_owner(db, actor, "activities", first, last).await? {
        entry(&mut people, u);
        if let Some(p) = people.get_mut(&u) {
            p.activities = n;
        }
    }
    let names = crate::accounts::users::names(db, people.keys().copied()).await?;
    let mut people: Vec<Performer> = people
        .into_values()
        .map(|mut p| {
            p.name = names.get(&p.user_id).cloned().unwrap_or_else(|| "Former user".into());
            p.won_value = (p.won_value * 100.0).round() / 100.0;
            p
        })
        .collect();
    people.sort_by(|a, b| {
        b.won_value
            .total_cmp(&a.won_value)
            .then(b.activities.cmp(&a.activities))
            .then(a.name.cmp(&b.name))
    });
    people.truncate(10);

    let created = || {
        scope::visible::<deal::Entity>(actor)
            .filter(deal::Column::CreatedAt.gte(r.from))
            .filter(deal::Column::CreatedAt.lt(r.to))
    };
    let top_by = |col: deal::Column| top_ten(created().filter(col.is_not_null()), col, crate::deals::value_sum());
    let biggest = closed_in(actor, crate::DealStatus::Won, r)
        .order_by_desc(deal::Column::ValueCents)
        .order_by_asc(deal::Column::Id)
        .limit(10);
    let (companies, contacts, by_activity, biggest) = tokio::try_join!(
        async { Ok::<Vec<(Uuid, i64)>, CoreError>(top_by(deal::Column::CompanyId).into_tuple().all(&db.conn).await?) },
        async { Ok::<Vec<(Uuid, i64)>, CoreError>(top_by(deal::Column::ContactId).into_tuple().all(&db.conn).await?) },
        async {
            match by_activity {
                Some(ranked) => Ok(ranked),
                None => top_contacts_by_activity(db, actor, r, probe_range(db, actor, r).await?.as_deref()).await,
            }
        },
        async { Ok::<_, CoreError>(biggest.all(&db.conn).await?) },
    )?;
    Ok(Performers {
        people,
        top_companies_by_deal_value: ranked(db, companies, dollars).await?,
        top_contacts_by_deal_value: contacts_ranked(db, actor, contacts, dollars).await?,
        top_contacts_by_activity: by_activity,
        biggest_deals_won: crate::deals::views(db, actor, biggest).await?,
    })
}
