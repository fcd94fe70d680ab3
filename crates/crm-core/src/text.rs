//! Normalisation of user-typed keys used for uniqueness and search.

/// E-mail as stored and compared: trimmed and lower-cased. A control character (never in
/// a valid address, and a NUL no PostgreSQL text can hold) becomes U+FFFD, so the key still
/// matches no one and can be looked up and logged.
pub fn email_key(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect::<String>()
        .to_lowercase()
}

/// Phone as compared for uniqueness: digits only, with a leading `+` kept.
pub fn phone_key(s: &str) -> String {
    let t = s.trim();
    let mut out = String::with_capacity(t.len());
    if t.starts_with('+') {
        out.push('+');
    }
    out.extend(t.chars().filter(|c| c.is_ascii_digit()));
    out
}

/// Company name as compared for uniqueness: trimmed, inner spaces collapsed, lower-cased.
pub fn name_key(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Escape `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A search or filter value with control characters turned into spaces: a NUL cannot be
/// stored or matched by PostgreSQL, and no control character is ever meant in a filter.
pub fn without_controls(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(char::is_control) {
        s.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .into()
    } else {
        s.into()
    }
}

/// A file name made of a record's name: ASCII letters and digits joined by `-`, at most 60
/// characters; `fallback` when nothing is left ("Réunion, Q3" → `R-union-Q3`).
pub fn file_slug(s: &str, fallback: &str) -> String {
    let words: Vec<String> = s
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect();
    let slug: String = words.join("-").chars().take(60).collect();
    let slug = slug.trim_end_matches('-').to_string();
    if slug.is_empty() { fallback.to_string() } else { slug }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn keys() {
        assert_eq!(email_key("  A@B.com "), "a@b.com");
        assert_eq!(phone_key("+1 (555) 000-0000"), "+15550000000");
        assert_eq!(name_key("  Acme   Corp "), "acme corp");
        assert_eq!(like_escape("50%_a\\"), "50\\%\\_a\\\\");
    }
}
