//! The fixed vocabularies: user role, contact status, deal stage and status, task priority,
//! activity type. In code each is an enum, so a misspelt value does not compile; in the
//! database, in JSON and in CSV each is its lowercase name (a TEXT column, the same on
//! SQLite and PostgreSQL and in raw SQL), mapped by `DeriveValueType` through `FromStr` /
//! `Display`. A stored name that is not in the list fails the read loudly.

/// What input readers and import mappings need of a vocabulary.
pub trait Vocab: Sized + Copy + 'static {
    /// The wire names, in order.
    const NAMES: &'static [&'static str];
    fn parse(s: &str) -> Option<Self>;
    fn as_str(self) -> &'static str;
}

/// One vocabulary: the enum, its wire names and labels, `ALL`/`NAMES`, `parse`, `as_str`,
/// `label`, and the serde and database mappings.
macro_rules! vocab {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal : $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sea_orm::DeriveValueType)]
        #[sea_orm(value_type = "String")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: [$name; [$($wire),+].len()] = [$($name::$variant),+];
            /// The wire names, in order (for validation messages and `<select>`s).
            pub const NAMES: [&'static str; [$($wire),+].len()] = [$($wire),+];

            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }
            /// What a person reads.
            pub const fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label),+
                }
            }
        }

        impl Vocab for $name {
            const NAMES: &'static [&'static str] = &[$($wire),+];
            fn parse(s: &str) -> Option<Self> {
                $name::parse(s)
            }
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = sea_orm::sea_query::ValueTypeErr;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s).ok_or(sea_orm::sea_query::ValueTypeErr)
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "type": "string", "enum": [$($wire),+] })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&s).ok_or_else(|| serde::de::Error::unknown_variant(&s, &[$($wire),+]))
            }
        }
    };
}

vocab!(
    /// A user's role: admins do everything, managers read all and write their own, reps
    /// see only their own records.
    Role {
        Admin = "admin": "Administrator",
        Manager = "manager": "Manager",
        Rep = "rep": "Sales Representative",
    }
);

vocab!(
    /// Where a contact stands.
    ContactStatus {
        Lead = "lead": "Lead",
        Customer = "customer": "Customer",
    }
);

vocab!(
    /// A deal's place in the pipeline, in pipeline order.
    DealStage {
        Lead = "lead": "Lead / Prospecting",
        Qualified = "qualified": "Qualified",
        Proposal = "proposal": "Proposal",
        Negotiation = "negotiation": "Negotiation",
        ClosedWon = "closed_won": "Closed Won",
        ClosedLost = "closed_lost": "Closed Lost",
    }
);

vocab!(
    /// A deal's outcome; always follows the stage ([`DealStage::status`]).
    DealStatus {
        Open = "open": "Open",
        Won = "won": "Won",
        Lost = "lost": "Lost",
    }
);

vocab!(
    /// How urgent a task is.
    TaskPriority {
        Low = "low": "Low",
        Medium = "medium": "Medium",
        High = "high": "High",
    }
);

vocab!(
    /// What kind of touch an activity records.
    ActivityType {
        Call = "call": "Call",
        Email = "email": "Email",
        Meeting = "meeting": "Meeting",
        Note = "note": "Note",
    }
);

impl Default for ContactStatus {
    /// A new contact is a lead.
    fn default() -> Self {
        ContactStatus::Lead
    }
}

impl DealStage {
    /// The status a deal in this stage has.
    pub const fn status(self) -> DealStatus {
        match self {
            DealStage::ClosedWon => DealStatus::Won,
            DealStage::ClosedLost => DealStatus::Lost,
            _ => DealStatus::Open,
        }
    }

    pub const fn is_closed(self) -> bool {
        matches!(self, DealStage::ClosedWon | DealStage::ClosedLost)
    }

    /// The probability a new deal gets in this stage when none is given.
    pub const fn default_probability(self) -> i32 {
        match self {
            DealStage::Lead => 10,
            DealStage::Qualified => 25,
            DealStage::Proposal => 50,
            DealStage::Negotiation => 75,
            DealStage::ClosedWon => 100,
            DealStage::ClosedLost => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in DealStage::ALL {
            assert_eq!(DealStage::parse(s.as_str()), Some(s));
            assert_eq!(s.to_string(), s.as_str());
        }
        assert_eq!(DealStage::NAMES[4], "closed_won");
        assert_eq!(Role::parse("Admin"), None, "names are exact");
        assert_eq!(serde_json::to_value(ActivityType::Meeting).unwrap(), "meeting");
        assert_eq!(DealStage::ClosedLost.status(), DealStatus::Lost);
        assert_eq!("x".parse::<TaskPriority>().ok(), None);
    }
}
