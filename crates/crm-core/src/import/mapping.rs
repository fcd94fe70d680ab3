//! Column → field mapping. Headers are recognised from the layouts of common exports
//! (Google Contacts, Outlook, HubSpot, Salesforce, plus plain names); a mapping sent by the
//! user overrides the suggestion column by column.

use serde::Serialize;

use super::Kind;
use crate::error::{CoreError, CoreResult};

/// A field a column can be mapped to.
#[derive(Debug, Clone, Copy, Serialize, schemars::JsonSchema)]
pub struct FieldDef {
    pub key: &'static str,
    pub label: &'static str,
    #[serde(skip)]
    aliases: &'static [&'static str],
    /// Several columns may feed it (the first non-empty cell wins), e.g. business and mobile phone.
    #[serde(skip)]
    several: bool,
}

const fn def(key: &'static str, label: &'static str, aliases: &'static [&'static str], several: bool) -> FieldDef {
    FieldDef {
        key,
        label,
        aliases,
        several,
    }
}

/// Aliases are compared after [`normalise`] (lower-case letters and digits only), best first.
const CONTACT_FIELDS: [FieldDef; 7] = [
    def(
        "firstName",
        "First name",
        &["firstname", "givenname", "first", "forename", "fname"],
        false,
    ),
    def(
        "lastName",
        "Last name",
        &["lastname", "familyname", "surname", "last", "lname"],
        false,
    ),
    def(
        "fullName",
        "Full name (split into first and last)",
        &["name", "fullname", "contactname", "displayname", "contact"],
        false,
    ),
    def(
        "email",
        "Email",
        &[
            "email",
            "emailaddress",
            "email1value",
            "emailaddress1",
            "primaryemail",
            "workemail",
            "email1",
            "mail",
        ],
        false,
    ),
    def(
        "phoneNumber",
        "Phone number",
        &[
            "phone",
            "phonenumber",
            "phone1value",
            "businessphone",
            "mobilephone",
            "mobile",
            "mobilephonenumber",
            "workphone",
            "primaryphone",
            "telephone",
            "tel",
            "homephone",
            "phone2value",
        ],
        true,
    ),
    def(
        "company",
        "Company (matched by name or created)",
        &[
            "company",
            "companyname",
            "accountname",
            "organization1name",
            "organizationname",
            "organization",
            "organisation",
            "account",
            "employer",
        ],
        false,
    ),
    def(
        "status",
        "Status (lead or customer)",
        &["status", "leadstatus", "lifecyclestage", "contactstatus"],
        false,
    ),
];

const COMPANY_FIELDS: [FieldDef; 7] = [
    def(
        "name",
        "Company name",
        &[
            "companyname",
            "name",
            "accountname",
            "company",
            "organizationname",
            "organization",
            "organisation",
            "account",
        ],
        false,
    ),
    def("industry", "Industry", &["industry", "sector"], false),
    def(
        "website",
        "Website",
        &[
            "website",
            "websiteurl",
            "url",
            "web",
            "homepage",
            "webpage",
            "companydomainname",
            "domain",
        ],
        false,
    ),
    def(
        "phone",
        "Phone",
        &[
            "phone",
            "phonenumber",
            "companyphone",
            "mainphone",
            "businessphone",
            "telephone",
        ],
        false,
    ),
    def(
        "address",
        "Address",
        &[
            "address",
            "streetaddress",
            "street",
            "billingstreet",
            "billingaddress",
            "address1",
            "companyaddress",
            "businessstreet",
        ],
        false,
    ),
    def(
        "employeeCount",
        "Employees",
        &["employeecount", "employees", "numberofemployees", "headcount"],
        false,
    ),
    def("revenue", "Annual revenue", &["revenue", "annualrevenue"], false),
];

/// The contact's fields: the fixed ones, with the optional text fields of
/// `contacts::fields::EXTRAS` after the phone number.
static CONTACTS: std::sync::LazyLock<Vec<FieldDef>> = std::sync::LazyLock::new(|| {
    let extras = crate::contacts::fields::EXTRAS
        .iter()
        .map(|e| def(e.key, e.label, e.import_headers, false));
    let at = CONTACT_FIELDS
        .iter()
        .position(|f| f.key == "phoneNumber")
        .map_or(0, |i| i + 1);
    let mut all = CONTACT_FIELDS.to_vec();
    all.splice(at..at, extras);
    all
});

pub fn fields(kind: Kind) -> &'static [FieldDef] {
    match kind {
        Kind::Contacts => &CONTACTS,
        Kind::Companies => &COMPANY_FIELDS,
    }
}

pub fn is_field(kind: Kind, key: &str) -> bool {
    fields(kind).iter().any(|f| f.key == key)
}

/// "E-mail 1 - Value" → "email1value".
pub fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect()
}

/// The field of each column (None = ignored).
pub type Mapping = Vec<Option<&'static str>>;

/// The suggested field of each column: every field takes the column with its best alias
/// (several columns when the field allows fallbacks); other columns stay unmapped.
pub fn suggest(kind: Kind, headers: &[String]) -> Mapping {
    let norm: Vec<String> = headers.iter().map(|h| normalise(h)).collect();
    let mut out: Mapping = vec![None; headers.len()];
    for f in fields(kind) {
        let mut hits: Vec<(usize, usize)> = norm
            .iter()
            .enumerate()
            .filter(|(i, _)| out[*i].is_none())
            .filter_map(|(i, h)| f.aliases.iter().position(|a| a == h).map(|rank| (rank, i)))
            .collect();
        hits.sort();
        let take = if f.several { hits.len() } else { hits.len().min(1) };
        for (_, i) in hits.into_iter().take(take) {
            out[i] = Some(f.key);
        }
    }
    out
}

/// The suggestion with the user's choices applied. `overrides` maps a column (by header
/// text) to a field key, or to nothing (`None`, `""`) to ignore the column.
pub fn with_overrides(kind: Kind, headers: &[String], overrides: &[(String, Option<String>)]) -> CoreResult<Mapping> {
    let mut m = suggest(kind, headers);
    for (column, field) in overrides {
        let i = headers
            .iter()
            .position(|h| h == column.trim())
            .ok_or_else(|| CoreError::field("mapping", format!("The file has no column named \"{column}\"")))?;
        m[i] = match field.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(key) => Some(field_key(kind, key)?),
        };
    }
    Ok(m)
}

/// The static key of a field name, or a message listing the fields.
pub fn field_key(kind: Kind, key: &str) -> CoreResult<&'static str> {
    fields(kind)
        .iter()
        .find(|f| f.key == key)
        .map(|f| f.key)
        .ok_or_else(|| {
            let keys: Vec<&str> = fields(kind).iter().map(|f| f.key).collect();
            CoreError::field(
                "mapping",
                format!("Unknown field \"{key}\"; the fields are: {}", keys.join(", ")),
            )
        })
}

/// Parse the API's `mapping` JSON: `{"<column header>": "<field>" | null, …}`.
pub fn parse_json(text: &str) -> CoreResult<Vec<(String, Option<String>)>> {
    let bad = || CoreError::field("mapping", "mapping must be a JSON object of column name → field name");
    let v: serde_json::Value = serde_json::from_str(text).map_err(|_| bad())?;
    let obj = v.as_object().ok_or_else(bad)?;
    obj.iter()
        .map(|(k, v)| match v {
            serde_json::Value::Null => Ok((k.clone(), None)),
            serde_json::Value::String(s) => Ok((k.clone(), Some(s.clone()))),
            _ => Err(bad()),
        })
        .collect()
}

/// Refuse a mapping that leaves a required field without a column.
pub fn check_required(kind: Kind, m: &Mapping) -> CoreResult<()> {
    let has = |k: &str| m.contains(&Some(k));
    let missing = match kind {
        Kind::Contacts if !has("email") => Some("Email"),
        Kind::Contacts if !has("fullName") && !has("firstName") => Some("First name"),
        Kind::Contacts if !has("fullName") && !has("lastName") => Some("Last name"),
        Kind::Companies if !has("name") => Some("Company name"),
        _ => None,
    };
    match missing {
        Some(label) => Err(CoreError::field(
            "mapping",
            format!("No column is mapped to {label}; choose which column holds it"),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn recognises_common_exports() {
        let google = hs(&[
            "Name",
            "Given Name",
            "Family Name",
            "E-mail 1 - Value",
            "Phone 1 - Value",
            "Organization 1 - Name",
            "Organization 1 - Title",
        ]);
        assert_eq!(
            suggest(Kind::Contacts, &google),
            vec![
                Some("fullName"),
                Some("firstName"),
                Some("lastName"),
                Some("email"),
                Some("phoneNumber"),
                Some("company"),
                Some("jobTitle")
            ]
        );
        let outlook = hs(&[
            "Title",
            "First Name",
            "Last Name",
            "Company",
            "Job Title",
            "Business Phone",
            "Mobile Phone",
            "E-mail Address",
        ]);
        assert_eq!(
            suggest(Kind::Contacts, &outlook),
            vec![
                None,
                Some("firstName"),
                Some("lastName"),
                Some("company"),
                Some("jobTitle"),
                Some("phoneNumber"),
                Some("phoneNumber"),
                Some("email")
            ]
        );
        let sf = hs(&[
            "FirstName",
            "LastName",
            "Email",
            "Phone",
            "Account Name",
            "Title",
            "Lead Status",
        ]);
        assert!(suggest(Kind::Contacts, &sf).iter().all(|f| f.is_some()));
        let hubspot = hs(&[
            "First Name",
            "Last Name",
            "Email",
            "Phone Number",
            "Company Name",
            "Lifecycle Stage",
        ]);
        assert!(suggest(Kind::Contacts, &hubspot).iter().all(|f| f.is_some()));
        assert_eq!(
            suggest(Kind::Companies, &hs(&["Account Name", "Website", "Employees"])),
            vec![Some("name"), Some("website"), Some("employeeCount")]
        );
    }

    #[test]
    fn overrides_and_required() {
        let h = hs(&["Mail", "Who"]);
        let m = with_overrides(Kind::Contacts, &h, &[("Who".into(), Some("fullName".into()))]).unwrap();
        assert_eq!(m, vec![Some("email"), Some("fullName")]);
        assert!(check_required(Kind::Contacts, &m).is_ok());
        assert!(with_overrides(Kind::Contacts, &h, &[("Nope".into(), None)]).is_err());
        assert!(with_overrides(Kind::Contacts, &h, &[("Who".into(), Some("shoeSize".into()))]).is_err());
        let m = with_overrides(Kind::Contacts, &h, &[("Mail".into(), None)]).unwrap();
        assert!(
            check_required(Kind::Contacts, &m)
                .unwrap_err()
                .to_string()
                .contains("Email")
        );
    }
}
