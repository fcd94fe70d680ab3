//! vCards: writing one contact as vCard 4.0 (RFC 6350), and reading the cards of a `.vcf`
//! file as Apple Contacts, Google Contacts and Outlook export them (vCard 2.1, 3.0 and 4.0:
//! folded lines, `item1.TEL` groups, `TYPE=` and bare parameters, quoted-printable, nested
//! cards). The content-line syntax is [`crate::ical`]'s. The contacts import turns each card
//! into a row of the CSV pipeline (`import::read`).

use crate::ical::{self, Prop, escape, push_line};

/// The fields of a contact a card carries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Card {
    pub first_name: String,
    pub last_name: String,
    /// FN: the formatted name.
    pub full_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    pub org: Option<String>,
    pub note: Option<String>,
    pub uid: Option<String>,
    /// REV, as written (`20260103T183000Z`).
    pub rev: Option<String>,
    /// The line of the file its `BEGIN:VCARD` is on.
    pub line: u64,
}

/// One card as vCard 4.0 text (CRLF, folded, escaped).
pub fn write(c: &Card) -> String {
    let mut out = String::new();
    let mut line = |head: &str, value: &str| push_line(&mut out, head, value);
    line("BEGIN", "VCARD");
    line("VERSION", "4.0");
    if let Some(uid) = &c.uid {
        line("UID", uid);
    }
    let full = if c.full_name.trim().is_empty() {
        format!("{} {}", c.first_name, c.last_name).trim().to_string()
    } else {
        c.full_name.clone()
    };
    line("FN", &escape(&full));
    line("N", &format!("{};{};;;", escape(&c.last_name), escape(&c.first_name)));
    if let Some(e) = &c.email {
        line("EMAIL;TYPE=work", &escape(e));
    }
    if let Some(p) = &c.phone {
        line("TEL;VALUE=text;TYPE=work,voice", &escape(p));
    }
    if let Some(t) = &c.title {
        line("TITLE", &escape(t));
    }
    if let Some(o) = &c.org {
        line("ORG", &escape(o));
    }
    if let Some(n) = &c.note {
        line("NOTE", &escape(n));
    }
    if let Some(r) = &c.rev {
        line("REV", r);
    }
    line("END", "VCARD");
    out
}

/// Whether a text is a vCard file (its first non-blank line opens a card).
pub fn looks_like(text: &str) -> bool {
    text.trim_start_matches('\u{feff}')
        .trim_start()
        .get(..11)
        .is_some_and(|s| s.eq_ignore_ascii_case("BEGIN:VCARD"))
}

/// The value of the preferred property of a kind (`PREF` / `TYPE=pref` / `PREF=1`), else the
/// first, as text; `tel:` URIs lose their scheme.
fn preferred(props: &[&Prop]) -> Option<String> {
    let pref = props
        .iter()
        .find(|p| p.has_type("pref") || p.param("PREF").is_some())
        .or(props.first())?;
    let v = pref.text();
    let v = v
        .strip_prefix("tel:")
        .or(v.strip_prefix("mailto:"))
        .unwrap_or(&v)
        .trim()
        .to_string();
    (!v.is_empty()).then_some(v)
}

fn card_of(props: &[Prop], line: u64) -> Card {
    let of = |name: &str| props.iter().filter(|p| p.name == name).collect::<Vec<_>>();
    let first_text = |name: &str| {
        of(name)
            .first()
            .map(|p| p.text().trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let n = of("N").first().map(|p| p.components()).unwrap_or_default();
    let part = |i: usize| n.get(i).map(|s| s.trim().to_string()).unwrap_or_default();
    Card {
        first_name: part(1),
        last_name: part(0),
        full_name: first_text("FN").unwrap_or_default(),
        email: preferred(&of("EMAIL")),
        phone: preferred(&of("TEL")),
        title: first_text("TITLE"),
        org: of("ORG")
            .first()
            .and_then(|p| p.components().into_iter().next())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
        note: first_text("NOTE"),
        uid: first_text("UID"),
        rev: first_text("REV"),
        line,
    }
}

/// Every top-level card of a file, in order. A card nested in another (vCard 2.1 `AGENT`)
/// is not a card of the file; text outside cards is ignored.
pub fn parse(text: &str) -> Vec<Card> {
    let mut cards = Vec::new();
    let mut depth = 0usize;
    let mut current: Vec<Prop> = Vec::new();
    let mut start = 0;
    for p in ical::parse(text.trim_start_matches('\u{feff}')) {
        let is = |v: &str| p.value.trim().eq_ignore_ascii_case(v);
        if p.name == "BEGIN" && is("VCARD") {
            depth += 1;
            if depth == 1 {
                start = p.line;
                current.clear();
            }
        } else if p.name == "END" && is("VCARD") {
            if depth == 1 {
                cards.push(card_of(&current, start));
            }
            depth = depth.saturating_sub(1);
        } else if depth == 1 {
            current.push(p);
        }
    }
    cards
}

/// The vCard of a contact the actor may see: (file name, card).
pub async fn of_contact(db: &crate::Db, actor: &crate::Actor, id: uuid::Uuid) -> crate::CoreResult<(String, String)> {
    let d = crate::contacts::list::get(db, actor, id).await?;
    let c = d.contact;
    let updated = chrono::DateTime::parse_from_rfc3339(&c.updated_at)
        .map(|t| ical::utc(&t.with_timezone(&chrono::Utc)))
        .ok();
    let card = Card {
        full_name: c.full_name(),
        first_name: c.first_name,
        last_name: c.last_name,
        email: Some(c.email),
        phone: c.phone_number,
        title: c.extra.get("jobTitle").map(str::to_string),
        org: d.company.map(|co| co.name),
        note: None,
        uid: Some(format!("urn:uuid:{}", c.id)),
        rev: updated,
        line: 0,
    };
    let file = format!("{}.vcf", crate::text::file_slug(&card.full_name, "contact"));
    Ok((file, write(&card)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_round_trips() {
        let c = Card {
            first_name: "Ada, Countess".into(),
            last_name: "Lovelace; King".into(),
            full_name: "Ada Lovelace".into(),
            email: Some("ada@example.com".into()),
            phone: Some("+44 20 7946 0001".into()),
            title: Some("Chief Analyst\nR&D".into()),
            org: Some("Analytical; Engines".into()),
            note: None,
            uid: Some("urn:uuid:0190a6b4-0000-7000-8000-000000000001".into()),
            rev: Some("20260103T183000Z".into()),
            line: 1,
        };
        let text = write(&c);
        assert!(text.ends_with("END:VCARD\r\n"));
        let back = parse(&text);
        assert_eq!(back, vec![c]);
    }

    #[test]
    fn reads_apple_google_and_outlook_cards() {
        let file = "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//macOS 14.0//EN\r\nN:Hopper;Grace;Brewster;;\r\n\
            FN:Grace Hopper\r\nORG:Navy Labs;Research;\r\nTITLE:Rear Admiral\r\n\
            EMAIL;type=INTERNET;type=HOME:home@example.com\r\nEMAIL;type=INTERNET;type=WORK;type=pref:grace@ex\r\n ample.com\r\n\
            item1.TEL;type=pref:+1 555 010 2000\r\nitem1.X-ABLabel:_$!<Mobile>!$_\r\n\
            PHOTO;ENCODING=b;TYPE=JPEG:AAAA\r\n BBBB\r\nEND:VCARD\r\n\
            BEGIN:VCARD\nVERSION:2.1\nN;LANGUAGE=en-us;CHARSET=utf-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen\nFN:J\nEMAIL;PREF;INTERNET:jm@example.com\n\
            NOTE;ENCODING=QUOTED-PRINTABLE:line one=0D=0A=\nline two\nAGENT:\nBEGIN:VCARD\nFN:Agent Smith\nEND:VCARD\nEND:VCARD\n";
        let cards = parse(file);
        assert_eq!(cards.len(), 2);
        let g = &cards[0];
        assert_eq!((g.first_name.as_str(), g.last_name.as_str()), ("Grace", "Hopper"));
        assert_eq!(g.email.as_deref(), Some("grace@example.com"));
        assert_eq!(g.phone.as_deref(), Some("+1 555 010 2000"));
        assert_eq!(g.org.as_deref(), Some("Navy Labs"));
        assert_eq!(g.line, 1);
        let o = &cards[1];
        assert_eq!(o.first_name, "Jürgen");
        assert_eq!(o.full_name, "J");
        assert_eq!(o.email.as_deref(), Some("jm@example.com"));
        assert_eq!(o.note.as_deref(), Some("line one\r\nline two"));
    }
}
