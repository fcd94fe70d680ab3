//! Writing imported rows, the same way for every table: a row whose id is absent is
//! inserted; a stored row is replaced only when the source changed it later than we did
//! (so a second run changes nothing and edits made here are kept); a row whose unique key
//! (e-mail, company name) already belongs to another stored row is linked to that row
//! instead, or — for keys marked [`OnConflict::Clear`] — imported without the key.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
};
use uuid::Uuid;

use crate::entities::{activity, backup_code, company, contact, deal, deal_stage_history, sign_in_history, task, user};
use crate::error::CoreResult;

const CHUNK: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnConflict {
    /// The source row is the stored row: link to it, change nothing.
    Match,
    /// Keep the source row, without this value.
    Clear,
}

pub(crate) struct Key<C> {
    pub column: C,
    pub value: Option<String>,
    pub what: &'static str,
    pub on_conflict: OnConflict,
}

/// What the writer needs to know about a table.
pub(crate) trait Imported: EntityTrait {
    fn id(m: &Self::Model) -> Uuid;
    fn id_column() -> Self::Column;
    /// When the row last changed; `None` for rows that never change.
    fn changed(m: &Self::Model) -> Option<DateTime<Utc>>;
    /// Unique keys besides the id, always in the same order.
    fn keys(_m: &Self::Model) -> Vec<Key<Self::Column>> {
        vec![]
    }
    /// Drop the value of an [`OnConflict::Clear`] key.
    fn clear(_m: &mut Self::Model, _column: Self::Column) {}
}

/// One source row mapped to our table, with a label for the report's notes.
pub(crate) struct Mapped<M> {
    pub source_id: String,
    pub label: String,
    pub model: M,
    /// May the row be created when it is not stored? (`false`: only keep it if it is.)
    pub insert: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub matched: u64,
    /// Source id → the id of the stored row it became (its own or a matched one).
    pub ids: HashMap<String, Uuid>,
    /// Source ids linked to a row that was already there.
    pub matched_sources: Vec<String>,
    /// Source ids whose row this run created.
    pub created_sources: Vec<String>,
    pub notes: Vec<String>,
}

pub(crate) async fn upsert<E, C>(conn: &C, rows: Vec<Mapped<E::Model>>) -> CoreResult<Outcome>
where
    E: Imported,
    E::Model: IntoActiveModel<E::ActiveModel> + Clone,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    C: ConnectionTrait,
{
    let mut out = Outcome::default();
    let Some(first) = rows.first() else {
        return Ok(out);
    };
    let key_columns: Vec<E::Column> = E::keys(&first.model).into_iter().map(|k| k.column).collect();

    // what is stored already: by id, and the owners of the incoming rows' unique keys
    let mut existing: HashMap<Uuid, E::Model> = HashMap::new();
    let ids: Vec<Uuid> = rows.iter().map(|r| E::id(&r.model)).collect();
    for chunk in ids.chunks(CHUNK) {
        for m in E::find()
            .filter(E::id_column().is_in(chunk.iter().copied()))
            .all(conn)
            .await?
        {
            existing.insert(E::id(&m), m);
        }
    }
    let mut owners: HashMap<(usize, String), Uuid> = HashMap::new();
    for (k, column) in key_columns.iter().enumerate() {
        let values: Vec<String> = rows
            .iter()
            .filter_map(|r| E::keys(&r.model).into_iter().nth(k).and_then(|key| key.value))
            .collect();
        for chunk in values.chunks(CHUNK) {
            for m in E::find().filter(column.is_in(chunk.iter().cloned())).all(conn).await? {
                register::<E>(&mut owners, &m);
            }
        }
    }
    for m in existing.values() {
        register::<E>(&mut owners, m);
    }

    let mut inserts = Vec::new();
    let mut updates = Vec::new();
    for Mapped {
        source_id,
        label,
        mut model,
        insert,
    } in rows
    {
        let id = E::id(&model);
        let taken: Vec<(Key<E::Column>, Uuid)> = E::keys(&model)
            .into_iter()
            .enumerate()
            .filter_map(|(k, key)| {
                let owner = key.value.as_ref().and_then(|v| owners.get(&(k, v.clone()))).copied();
                owner.filter(|o| *o != id).map(|o| (key, o))
            })
            .collect();
        let matched = taken.iter().find(|(k, _)| k.on_conflict == OnConflict::Match);
        if let Some(old) = existing.get(&id) {
            out.ids.insert(source_id, id);
            if E::changed(&model) <= E::changed(old) {
                out.unchanged += 1;
                continue;
            }
            if let Some((key, _)) = matched {
                out.notes.push(format!(
                    "{label}: not updated, its {} {:?} now belongs to another record",
                    key.what,
                    key.value.as_deref().unwrap_or("")
                ));
                out.unchanged += 1;
                continue;
            }
            clear_taken::<E>(&mut out.notes, &label, &mut model, &taken);
            unregister::<E>(&mut owners, old);
            register::<E>(&mut owners, &model);
            updates.push(model);
            out.updated += 1;
        } else if !insert {
            continue;
        } else if let Some((key, owner)) = matched {
            out.notes.push(format!(
                "{label}: {} {:?} is already used here; linked to the existing record",
                key.what,
                key.value.as_deref().unwrap_or("")
            ));
            out.ids.insert(source_id.clone(), *owner);
            out.matched_sources.push(source_id);
            out.matched += 1;
        } else {
            clear_taken::<E>(&mut out.notes, &label, &mut model, &taken);
            register::<E>(&mut owners, &model);
            out.created_sources.push(source_id.clone());
            out.ids.insert(source_id, id);
            inserts.push(model);
            out.created += 1;
        }
    }

    for chunk in inserts.chunks(CHUNK) {
        let models = chunk.iter().map(|m| m.clone().into_active_model().reset_all());
        E::insert_many(models).exec_without_returning(conn).await?;
    }
    for m in updates {
        m.into_active_model().reset_all().update(conn).await?;
    }
    Ok(out)
}

fn register<E: Imported>(owners: &mut HashMap<(usize, String), Uuid>, m: &E::Model) {
    for (k, key) in E::keys(m).into_iter().enumerate() {
        if let Some(v) = key.value {
            owners.insert((k, v), E::id(m));
        }
    }
}

fn unregister<E: Imported>(owners: &mut HashMap<(usize, String), Uuid>, m: &E::Model) {
    for (k, key) in E::keys(m).into_iter().enumerate() {
        if let Some(v) = key.value
            && owners.get(&(k, v.clone())) == Some(&E::id(m))
        {
            owners.remove(&(k, v));
        }
    }
}

fn clear_taken<E: Imported>(
    notes: &mut Vec<String>,
    label: &str,
    model: &mut E::Model,
    taken: &[(Key<E::Column>, Uuid)],
) {
    for (key, _) in taken.iter().filter(|(k, _)| k.on_conflict == OnConflict::Clear) {
        notes.push(format!(
            "{label}: {} {:?} is already used by another record; imported without it",
            key.what,
            key.value.as_deref().unwrap_or("")
        ));
        E::clear(model, key.column);
    }
}

macro_rules! imported {
    ($module:ident, changed: |$m:ident| $changed:expr) => {
        impl Imported for $module::Entity {
            fn id(m: &$module::Model) -> Uuid {
                m.id
            }
            fn id_column() -> $module::Column {
                $module::Column::Id
            }
            fn changed($m: &$module::Model) -> Option<DateTime<Utc>> {
                $changed
            }
        }
    };
}

imported!(activity, changed: |m| Some(m.updated_at));
imported!(task, changed: |m| Some(m.updated_at));
imported!(deal, changed: |m| Some(m.updated_at));
imported!(deal_stage_history, changed: |_m| None);
imported!(sign_in_history, changed: |_m| None);
// a code used in the original becomes used here; one used here stays used
imported!(backup_code, changed: |m| m.used_at);

impl Imported for user::Entity {
    fn id(m: &user::Model) -> Uuid {
        m.id
    }
    fn id_column() -> user::Column {
        user::Column::Id
    }
    /// Accounts are brought in once: a later run never changes one (its password, 2FA,
    /// role and active state belong to this app from then on).
    fn changed(_m: &user::Model) -> Option<DateTime<Utc>> {
        None
    }
    fn keys(m: &user::Model) -> Vec<Key<user::Column>> {
        vec![Key {
            column: user::Column::Email,
            value: Some(m.email.clone()),
            what: "e-mail",
            on_conflict: OnConflict::Match,
        }]
    }
}

impl Imported for company::Entity {
    fn id(m: &company::Model) -> Uuid {
        m.id
    }
    fn id_column() -> company::Column {
        company::Column::Id
    }
    fn changed(m: &company::Model) -> Option<DateTime<Utc>> {
        Some(m.updated_at)
    }
    fn keys(m: &company::Model) -> Vec<Key<company::Column>> {
        vec![Key {
            column: company::Column::NameKey,
            value: Some(m.name_key.clone()),
            what: "name",
            on_conflict: OnConflict::Match,
        }]
    }
}

impl Imported for contact::Entity {
    fn id(m: &contact::Model) -> Uuid {
        m.id
    }
    fn id_column() -> contact::Column {
        contact::Column::Id
    }
    fn changed(m: &contact::Model) -> Option<DateTime<Utc>> {
        Some(m.updated_at)
    }
    fn keys(m: &contact::Model) -> Vec<Key<contact::Column>> {
        vec![
            Key {
                column: contact::Column::Email,
                value: Some(m.email.clone()),
                what: "e-mail",
                on_conflict: OnConflict::Match,
            },
            Key {
                column: contact::Column::PhoneKey,
                value: m.phone_key.clone(),
                what: "phone number",
                on_conflict: OnConflict::Clear,
            },
        ]
    }
    fn clear(m: &mut contact::Model, column: contact::Column) {
        if matches!(column, contact::Column::PhoneKey) {
            m.phone_number = None;
            m.phone_key = None;
            m.search_text = crate::contacts::search_text(&m.first_name, &m.last_name, &m.email, None);
        }
    }
}
