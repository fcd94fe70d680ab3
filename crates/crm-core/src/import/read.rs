//! Reading an uploaded file into a table of text cells: the encoding (UTF-8 with or without
//! BOM, or Windows-1252/Latin-1, detected or chosen), the delimiter (comma, semicolon, tab or
//! pipe, sniffed from the header line), quoted fields with embedded newlines, CRLF. Every
//! problem with the file as a whole is a [`CoreError::Validation`] with a sentence a person
//! can act on, raised before anything is written.

use crate::error::{CoreError, CoreResult};

/// How the bytes of the file are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 when the bytes are valid UTF-8, else Windows-1252.
    Auto,
    Utf8,
    /// Windows-1252, which also reads Latin-1 (ISO-8859-1) text.
    Windows1252,
}

impl Encoding {
    pub fn parse(s: &str) -> CoreResult<Encoding> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(Encoding::Auto),
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "windows-1252" | "cp1252" | "latin1" | "latin-1" | "iso-8859-1" => Ok(Encoding::Windows1252),
            _ => Err(CoreError::field(
                "encoding",
                "Encoding must be one of: auto, utf-8, windows-1252",
            )),
        }
    }
}

/// One data record: the line it starts on (1 = the header line) and its cells.
#[derive(Debug, Clone)]
pub struct Record {
    pub line: u64,
    pub cells: Vec<String>,
}

/// A parsed file: header cells, data records (blank ones dropped) and how it was read.
#[derive(Debug, Clone)]
pub struct Table {
    pub headers: Vec<String>,
    pub records: Vec<Record>,
    pub delimiter: u8,
    pub encoding: &'static str,
    pub format: Format,
}

/// What kind of file a table was read from: the upload is sniffed, not trusted by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Vcard,
}

impl Table {
    pub fn delimiter_name(&self) -> &'static str {
        match self.delimiter {
            b';' => "semicolon",
            b'\t' => "tab",
            b'|' => "pipe",
            _ => "comma",
        }
    }
}

/// "50 MB", "2 KB", "900 bytes".
pub fn size_text(bytes: u64) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MB", bytes / (1024 * 1024))
    } else if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else if bytes >= 1024 {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// 413, as the contract says for a body over its limit.
pub fn too_large(max: u64) -> CoreError {
    CoreError::TooLarge(format!(
        "The file is larger than the import limit of {}",
        size_text(max)
    ))
}

fn bad(message: impl Into<String>) -> CoreError {
    CoreError::field("file", message)
}

/// The text of the file in the chosen (or detected) encoding, without a BOM.
pub fn decode(bytes: &[u8], encoding: Encoding) -> CoreResult<(String, &'static str)> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(bad(
            "This file is UTF-16 text; save it as \"CSV UTF-8\" (or plain CSV) and upload it again",
        ));
    }
    if bytes.contains(&0) {
        return Err(bad(
            "This is not a CSV file: it contains binary data. Export your contacts as CSV and upload that file",
        ));
    }
    let (bytes, had_bom) = match bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        Some(rest) => (rest, true),
        None => (bytes, false),
    };
    match encoding {
        Encoding::Utf8 => match std::str::from_utf8(bytes) {
            Ok(s) => Ok((s.to_string(), "utf-8")),
            Err(e) => {
                let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
                Err(bad(format!(
                    "Line {line} is not valid UTF-8; choose the Windows-1252 encoding for this file"
                )))
            }
        },
        Encoding::Windows1252 => Ok((win1252(bytes), "windows-1252")),
        Encoding::Auto => match std::str::from_utf8(bytes) {
            Ok(s) => Ok((s.to_string(), "utf-8")),
            Err(_) if !had_bom => Ok((win1252(bytes), "windows-1252")),
            Err(_) => Ok((String::from_utf8_lossy(bytes).into_owned(), "utf-8")),
        },
    }
}

fn win1252(bytes: &[u8]) -> String {
    let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
    text.into_owned()
}

/// The delimiter of the header line (outside quotes): the most frequent of `, ; \t |`.
pub fn sniff(text: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0), (b'|', 0)];
    let mut quoted = false;
    for c in text.bytes() {
        match c {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            _ if !quoted => {
                for (d, n) in counts.iter_mut() {
                    if *d == c {
                        *n += 1;
                    }
                }
            }
            _ => {}
        }
    }
    // ties go to the earlier (more common) delimiter
    let mut best = counts[0];
    for c in counts {
        if c.1 > best.1 {
            best = c;
        }
    }
    best.0
}

/// Parse the whole file. Refuses (with a message, writing nothing) a file over `max` bytes,
/// binary data, an empty file, a file without a header row or without data rows, and a row
/// with more (non-empty) cells than the header has columns.
pub fn parse(bytes: &[u8], encoding: Encoding, max: u64) -> CoreResult<Table> {
    if bytes.len() as u64 > max {
        return Err(too_large(max));
    }
    let (text, encoding) = decode(bytes, encoding)?;
    if text.trim().is_empty() {
        return Err(bad("The file is empty"));
    }
    if crate::vcard::looks_like(&text) {
        return vcards(&text, encoding);
    }
    let delimiter = sniff(&text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut headers: Option<Vec<String>> = None;
    let mut records = Vec::new();
    // csv's own line numbers are off after CRLF; count the newlines before each record
    let bytes = text.as_bytes();
    let (mut at, mut line) = (0usize, 1u64);
    for rec in reader.records() {
        let rec = rec.map_err(|e| bad(format!("The file could not be read as CSV: {e}")))?;
        let mut start = rec.position().map(|p| p.byte() as usize).unwrap_or(at).min(bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > at {
            line += bytes[at..start].iter().filter(|b| **b == b'\n').count() as u64;
            at = start;
        }
        let cells: Vec<String> = rec.iter().map(|c| c.to_string()).collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue; // blank lines and rows of empty cells carry nothing
        }
        match &headers {
            None => {
                check_header(&cells)?;
                headers = Some(cells.iter().map(|c| c.trim().to_string()).collect());
            }
            Some(h) => {
                if cells.len() > h.len() && cells[h.len()..].iter().any(|c| !c.trim().is_empty()) {
                    return Err(bad(format!(
                        "Line {line} has {} columns but the header has {}; check the delimiter and the quoting of that line",
                        cells.len(),
                        h.len()
                    )));
                }
                let mut cells = cells;
                cells.truncate(h.len());
                if (records.len() + 1) * h.len() > MAX_CELLS {
                    return Err(bad(format!(
                        "The file has more than {MAX_CELLS} cells; split it into smaller files (about {} rows each)",
                        MAX_CELLS / h.len().max(1)
                    )));
                }
                records.push(Record { line, cells });
            }
        }
    }
    let headers = headers.ok_or_else(|| bad("The file is empty"))?;
    if records.is_empty() {
        return Err(bad("The file has a header row but no data rows"));
    }
    Ok(Table {
        headers,
        records,
        delimiter,
        encoding,
        format: Format::Csv,
    })
}

/// The columns a vCard file is read into: the cells of a CSV file under headers the mapping
/// knows, so that the rest of the import (mapping, validation, duplicates, errors.csv) is the
/// same for both.
pub const VCARD_HEADERS: [&str; 7] = [
    "First Name",
    "Last Name",
    "Full Name",
    "Email",
    "Phone",
    "Job Title",
    "Company",
];

/// A `.vcf` file (one or many cards) as a table: one record per card, on the line of its
/// `BEGIN:VCARD`. A card without a name fails its row like a CSV row without one.
fn vcards(text: &str, encoding: &'static str) -> CoreResult<Table> {
    let cards = crate::vcard::parse(text);
    if cards.is_empty() {
        return Err(bad("The file has no complete vCard (BEGIN:VCARD … END:VCARD)"));
    }
    if cards.len() * VCARD_HEADERS.len() > MAX_CELLS {
        return Err(bad(format!(
            "The file has more than {} cards; split it into smaller files",
            MAX_CELLS / VCARD_HEADERS.len()
        )));
    }
    let records = cards
        .into_iter()
        .map(|c| Record {
            line: c.line,
            cells: vec![
                c.first_name,
                c.last_name,
                c.full_name,
                c.email.unwrap_or_default(),
                c.phone.unwrap_or_default(),
                c.title.unwrap_or_default(),
                c.org.unwrap_or_default(),
            ],
        })
        .collect();
    Ok(Table {
        headers: VCARD_HEADERS.iter().map(|h| h.to_string()).collect(),
        records,
        delimiter: b',',
        encoding,
        format: Format::Vcard,
    })
}

/// The first line must name the columns: it may not hold e-mail addresses or numbers, and
/// at least one cell must be a name.
/// Limits that keep one upload from taking the server's memory (every cell is held while
/// the job runs).
pub const MAX_COLUMNS: usize = 200;
pub const MAX_CELLS: usize = 10_000_000;

fn check_header(cells: &[String]) -> CoreResult<()> {
    let no_header = || {
        bad(
            "The file has no header row: its first line must name the columns (for example First Name, Last Name, Email)",
        )
    };
    let named = cells.iter().filter(|c| !c.trim().is_empty()).count();
    if named == 0 {
        return Err(no_header());
    }
    if cells.len() > MAX_COLUMNS {
        return Err(bad(format!(
            "The file has {} columns; at most {MAX_COLUMNS} can be imported. Remove the columns you do not need",
            cells.len()
        )));
    }
    for c in cells {
        let c = c.trim();
        if c.contains('@') || (!c.is_empty() && c.chars().all(|ch| ch.is_ascii_digit() || " +-().".contains(ch))) {
            return Err(no_header());
        }
    }
    let mut seen = std::collections::HashSet::new();
    for c in cells.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        if !seen.insert(c.to_lowercase()) {
            return Err(bad(format!(
                "The header names the column \"{c}\" twice; give every column its own name"
            )));
        }
    }
    Ok(())
}

/// One record as a CSV line (for errors.csv), with the file's own cells.
pub fn record_line(cells: &[String]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(vec![]);
    let _ = w.write_record(cells);
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default().trim_end().to_string()
}

/// The cells of a line written by [`record_line`].
pub fn split_line(line: &str) -> Vec<String> {
    let mut rd = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    match rd.records().next() {
        Some(Ok(rec)) => rec.iter().map(|c| c.to_string()).collect(),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bom_semicolons_crlf_and_embedded_newlines() {
        let file = "\u{feff}First Name;Last Name;Notes\r\nAnn;Lee;\"two\r\nlines; here\"\r\n\r\nBo;Ng;x\r\n";
        let t = parse(file.as_bytes(), Encoding::Auto, 1000).unwrap();
        assert_eq!(t.delimiter, b';');
        assert_eq!(t.headers, vec!["First Name", "Last Name", "Notes"]);
        assert_eq!(t.records.len(), 2);
        assert_eq!(t.records[0].cells[2], "two\r\nlines; here");
        assert_eq!(t.records[0].line, 2);
        assert_eq!(t.records[1].line, 5);
    }

    #[test]
    fn windows_1252_is_detected() {
        let mut file = b"Name,City\n".to_vec();
        file.extend_from_slice(b"M\xfcller,Jos\xe9 \x80\n");
        let t = parse(&file, Encoding::Auto, 1000).unwrap();
        assert_eq!(t.encoding, "windows-1252");
        assert_eq!(t.records[0].cells, vec!["Müller", "José €"]);
        assert!(parse(&file, Encoding::Utf8, 1000).is_err());
    }

    #[test]
    fn tabs_are_sniffed() {
        let t = parse(b"a\tb\tc,d\n1\t2\t3,4\n", Encoding::Auto, 100).unwrap();
        assert_eq!(t.headers, vec!["a", "b", "c,d"]);
    }

    #[test]
    fn refuses_bad_files() {
        let msg = |r: CoreResult<Table>| r.unwrap_err().to_string();
        assert_eq!(msg(parse(b"", Encoding::Auto, 100)), "The file is empty");
        assert!(msg(parse(b"\x89PNG\0\0", Encoding::Auto, 100)).contains("binary"));
        assert!(msg(parse(b"a@b.co,Ann\n", Encoding::Auto, 100)).contains("no header"));
        assert!(msg(parse(b"a,b\n1,2,3\n", Encoding::Auto, 100)).starts_with("Line 2 has 3 columns"));
        assert!(
            parse(b"a,b\n1,2,\n", Encoding::Auto, 100).is_ok(),
            "an empty extra cell is fine"
        );
        assert!(msg(parse(b"a,b\n1,2\n", Encoding::Auto, 5)).contains("larger than"));
        assert!(msg(parse(b"a,b\n", Encoding::Auto, 100)).contains("no data rows"));
    }
}
