//! iCalendar (RFC 5545) text, and the content-line syntax vCard (RFC 2425/6350) shares with
//! it: writing (TEXT escaping of `\ ; , newline`, lines folded at 75 octets, CRLF) and
//! reading (unfolding, `group.NAME;PARAM=a,b:value`, quoted-printable of vCard 2.1,
//! unescaping). [`crate::vcard`] and [`crate::calendar`] build on it; the tests read the
//! feed back with [`parse`].

use chrono::{DateTime, NaiveDate, Utc};

/// One property of a content line. The name is upper-cased and without its group
/// (`item1.TEL` → `TEL`); parameter names are upper-cased, and a bare parameter of vCard 2.1
/// (`TEL;WORK;PREF:`) is read as `TYPE=WORK`, `TYPE=PREF`.
#[derive(Debug, Clone, PartialEq)]
pub struct Prop {
    pub name: String,
    pub params: Vec<(String, String)>,
    /// The value as written (still escaped), quoted-printable already decoded.
    pub value: String,
    /// The line of the file it starts on (1-based).
    pub line: u64,
}

impl Prop {
    /// The first value of a parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether one of its `TYPE` values is `t` (`TYPE=work,pref`, `type=pref`, bare `PREF`).
    pub fn has_type(&self, t: &str) -> bool {
        self.params
            .iter()
            .filter(|(k, _)| k == "TYPE")
            .flat_map(|(_, v)| v.split(','))
            .any(|v| v.trim().eq_ignore_ascii_case(t))
    }

    /// The value as TEXT (unescaped).
    pub fn text(&self) -> String {
        unescape(&self.value)
    }

    /// A structured value (`N`, `ORG`, `ADR`): split at unescaped `;`, each part unescaped.
    pub fn components(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut chars = self.value.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    cur.push('\\');
                    if let Some(n) = chars.next() {
                        cur.push(n);
                    }
                }
                ';' => out.push(unescape(&std::mem::take(&mut cur))),
                _ => cur.push(c),
            }
        }
        out.push(unescape(&cur));
        out
    }
}

/// TEXT escaping: `\` `;` `,` and line breaks (CRLF, CR or LF become `\n`).
pub fn escape(s: &str) -> String {
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out
}

/// The reverse of [`escape`] (`\N` too; an unknown escape keeps its character).
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Append one content line (`head` = name and parameters, `value` already escaped), folded
/// so that no line is longer than 75 octets (never inside a UTF-8 character), ending CRLF.
pub fn push_line(out: &mut String, head: &str, value: &str) {
    let mut len = 0;
    for c in head.chars().chain(std::iter::once(':')).chain(value.chars()) {
        let n = c.len_utf8();
        if len + n > 75 {
            out.push_str("\r\n ");
            len = 1;
        }
        out.push(c);
        len += n;
    }
    out.push_str("\r\n");
}

/// An instant as a UTC DATE-TIME: `20260103T183000Z`.
pub fn utc(t: &DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A DATE: `20260103`.
pub fn date(d: &NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// Whether the parameters of a logical line (the part before the value) announce
/// quoted-printable (vCard 2.1: `NOTE;ENCODING=QUOTED-PRINTABLE:`).
fn is_qp(head: &str) -> bool {
    head.to_ascii_uppercase().contains("QUOTED-PRINTABLE")
}

/// The index of the first `:` outside a quoted parameter value.
fn value_start(line: &str) -> Option<usize> {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// Split at `;` outside quotes.
fn split_params(head: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut quoted, mut start) = (false, 0);
    for (i, c) in head.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push(&head[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&head[start..]);
    out
}

/// Decode quoted-printable (`=41`, soft line breaks already joined); the bytes are read as
/// UTF-8, or as Windows-1252 when they are not UTF-8 (Outlook's older exports).
fn decode_qp(s: &str) -> String {
    let b = s.as_bytes();
    let mut bytes = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit() {
            let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            bytes.push(hex(b[i + 1]) * 16 + hex(b[i + 2]));
            i += 3;
            continue;
        }
        bytes.push(b[i]);
        i += 1;
    }
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(e.as_bytes())
            .0
            .into_owned(),
    }
}

/// Read content lines: unfold (a line starting with a space or tab continues the previous
/// one; a quoted-printable value ending in `=` continues on the next line), then split each
/// into name, parameters and value. Lines without a `:` are skipped.
pub fn parse(text: &str) -> Vec<Prop> {
    let mut logical: Vec<(u64, String)> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let line_no = i as u64 + 1;
        if let Some(last) = logical.last_mut() {
            if (raw.starts_with(' ') || raw.starts_with('\t')) && !last.1.is_empty() {
                last.1.push_str(&raw[1..]);
                continue;
            }
            let head_end = value_start(&last.1).unwrap_or(0);
            if is_qp(&last.1[..head_end]) && last.1.ends_with('=') {
                last.1.pop();
                last.1.push_str(raw);
                continue;
            }
        }
        logical.push((line_no, raw.to_string()));
    }
    logical
        .into_iter()
        .filter_map(|(line, l)| {
            let at = value_start(&l)?;
            let (head, value) = (&l[..at], &l[at + 1..]);
            let mut parts = split_params(head).into_iter();
            let name = parts.next()?.trim();
            let name = name.rsplit('.').next().unwrap_or(name).to_ascii_uppercase();
            if name.is_empty() {
                return None;
            }
            let params: Vec<(String, String)> = parts
                .filter(|p| !p.trim().is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (k.trim().to_ascii_uppercase(), v.trim().trim_matches('"').to_string()),
                    None => ("TYPE".to_string(), p.trim().to_string()),
                })
                .collect();
            let qp = params
                .iter()
                .any(|(k, v)| k == "ENCODING" && v.eq_ignore_ascii_case("QUOTED-PRINTABLE"))
                || params.iter().any(|(_, v)| v.eq_ignore_ascii_case("QUOTED-PRINTABLE"));
            let value = if qp { decode_qp(value) } else { value.to_string() };
            Some(Prop {
                name,
                params,
                value,
                line,
            })
        })
        .collect()
}

/// When an event happens: a whole day (or days), or from an instant (to an instant).
#[derive(Debug, Clone, PartialEq)]
pub enum When {
    /// All-day, on this date (of the organisation's zone).
    Day(NaiveDate),
    /// From `start` to `end` (none: a moment, as RFC 5545 reads a DTSTART alone).
    At {
        start: DateTime<Utc>,
        end: Option<DateTime<Utc>>,
    },
}

/// One VEVENT.
#[derive(Debug, Clone)]
pub struct Event {
    /// `<kind>-<uuid>@<host>`: stable, so a client updates the entry it has.
    pub uid: String,
    /// DTSTAMP: when the record last changed.
    pub stamp: DateTime<Utc>,
    pub when: When,
    pub summary: String,
    pub description: Option<String>,
    /// The record's page.
    pub url: Option<String>,
    /// CATEGORIES (one word: task, meeting, deal).
    pub category: &'static str,
}

/// A whole VCALENDAR: `name` is X-WR-CALNAME; `method` e.g. `PUBLISH` for a download.
pub fn calendar(name: &str, method: Option<&str>, events: &[Event]) -> String {
    let mut out = String::new();
    let mut line = |head: &str, value: &str| push_line(&mut out, head, value);
    line("BEGIN", "VCALENDAR");
    line("VERSION", "2.0");
    line("PRODID", "-//CRM Contact Manager//Calendar//EN");
    line("CALSCALE", "GREGORIAN");
    if let Some(m) = method {
        line("METHOD", m);
    }
    line("X-WR-CALNAME", &escape(name));
    // RFC 7986 and its older spelling: how often clients should poll
    line("REFRESH-INTERVAL;VALUE=DURATION", "PT15M");
    line("X-PUBLISHED-TTL", "PT15M");
    for e in events {
        line("BEGIN", "VEVENT");
        line("UID", &escape(&e.uid));
        line("DTSTAMP", &utc(&e.stamp));
        match &e.when {
            When::Day(d) => {
                line("DTSTART;VALUE=DATE", &date(d));
                line("DTEND;VALUE=DATE", &date(&d.succ_opt().unwrap_or(*d)));
                line("TRANSP", "TRANSPARENT");
            }
            When::At { start, end } => {
                line("DTSTART", &utc(start));
                if let Some(end) = end {
                    line("DTEND", &utc(end));
                }
            }
        }
        line("SUMMARY", &escape(&e.summary));
        if let Some(d) = e.description.as_deref().filter(|d| !d.is_empty()) {
            line("DESCRIPTION", &escape(d));
        }
        if let Some(u) = &e.url {
            line("URL", u);
        }
        line("CATEGORIES", &escape(e.category));
        line("END", "VEVENT");
    }
    line("END", "VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_unescapes() {
        let s = "a\\b;c,d\r\ne";
        assert_eq!(escape(s), "a\\\\b\\;c\\,d\\ne");
        assert_eq!(unescape(&escape(s)), "a\\b;c,d\ne");
    }

    #[test]
    fn folds_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        let value = "é".repeat(100);
        push_line(&mut out, "SUMMARY", &value);
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        let back = parse(&out);
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].text(), value);
    }

    #[test]
    fn reads_groups_params_and_quoted_printable() {
        let text = "item1.TEL;type=CELL;type=pref:+1 555\r\n\
                    NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:Caf=C3=A9 =\r\nau lait\r\n\
                    N:Lee\\;Jr;Ann;;;\r\nTEL;WORK;VOICE:123\r\nX-Q;LABEL=\"a:b\":v\r\n";
        let p = parse(text);
        assert_eq!(p[0].name, "TEL");
        assert!(p[0].has_type("pref") && p[0].has_type("cell"));
        assert_eq!(p[1].text(), "Café au lait");
        assert_eq!(p[2].components(), vec!["Lee;Jr", "Ann", "", "", ""]);
        assert!(p[3].has_type("WORK"));
        assert_eq!(p[4].param("label"), Some("a:b"));
        assert_eq!(p[4].value, "v");
    }
}
