//! The CSV representation of a licence's assignments (contract v2, "CSV"):
//! the export a spreadsheet opens safely, and the import a spreadsheet
//! writes back (any column order and case, `;` files, a BOM, CRLF or LF).
//! Quoting and splitting are the `csv` crate's; this module maps columns.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use lambda_http::http::StatusCode;
use lambda_http::http::header::{CONTENT_ENCODING, CONTENT_TYPE, VARY};
use lambda_http::{Body, Response};

use crate::emails;
use crate::error::{Error, FieldError, Result};
use crate::http::decode::parse_date;
use crate::model::{Assignment, Language};
use crate::usecase::assign::{AssignInput, Row};

pub const MEDIA_TYPE: &str = "text/csv";

/// The export's columns, in order.
pub const COLUMNS: [&str; 9] = [
    "email",
    "status",
    "validFrom",
    "validUntil",
    "assignedAt",
    "assignedBy",
    "revokedAt",
    "revokedBy",
    "invitationStatus",
];

/// At most this many rows per import (as many as addresses per JSON assign).
pub const MAX_ROWS: usize = emails::MAX_ADDRESSES;

/// What a spreadsheet would run as a formula; such a cell gets a `'` first.
fn is_formula_start(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')
}

/// Whether a cell, past any `'` it starts with, starts a formula.
fn needs_quote(cell: &str) -> bool {
    cell.trim_start_matches('\'').starts_with(is_formula_start)
}

/// A cell a spreadsheet shows as text, never runs: a formula start gets a
/// `'` first (and so does a cell that already is `'` + a formula start, so
/// that [`restore`] can tell the two apart).
fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    if needs_quote(cell) { format!("'{cell}").into() } else { cell.into() }
}

/// The inverse of [`defuse`], so that an exported file imports as it was.
fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_quote(cell) => rest,
        _ => cell,
    }
}

fn timestamp(t: Option<DateTime<Utc>>) -> String {
    // As the JSON answers show it.
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true)).unwrap_or_default()
}

/// The largest Lambda response (6 MB) less room for the headers and the
/// JSON envelope around the body.
pub const MAX_PAYLOAD: usize = 6 * 1024 * 1024 - 16 * 1024;

/// An export being written: RFC 4180, a header row, CRLF, one row per
/// assignment in the order pushed (the caller's: by e-mail).
pub struct Export {
    out: csv::Writer<Vec<u8>>,
    today: NaiveDate,
    rows: usize,
}

impl Export {
    pub fn new(today: NaiveDate) -> Self {
        let buffer = Vec::with_capacity(64 * 1024);
        let mut out =
            csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(buffer);
        out.write_record(COLUMNS).expect("writing to memory does not fail");
        Self { out, today, rows: 0 }
    }

    pub fn push(&mut self, a: &Assignment) {
        let cells = [
            a.email.clone(),
            a.status(self.today).as_str().to_string(),
            a.valid_from.to_string(),
            a.valid_until.to_string(),
            timestamp(Some(a.assigned_at)),
            a.assigned_by.clone(),
            timestamp(a.revoked_at),
            a.revoked_by.clone().unwrap_or_default(),
            a.invitation.status.as_str().to_string(),
        ];
        let cells = cells.iter().map(|c| defuse(c).into_owned());
        self.out.write_record(cells).expect("writing to memory does not fail");
        self.rows += 1;
    }

    /// The file's bytes.
    pub fn finish(self) -> Vec<u8> {
        self.out.into_inner().expect("writing to memory does not fail")
    }

    /// `200 text/csv; charset=utf-8`: gzip-compressed where the client
    /// accepts it, else as text if it fits an answer ([`MAX_PAYLOAD`]), else
    /// 406 `export-too-large`.
    pub fn response(self, gzip: bool) -> Result<Response<Body>> {
        let rows = self.rows;
        encode(self.finish(), rows, gzip, MAX_PAYLOAD)
    }
}

/// Every assignment as one file (see [`Export`]).
pub fn export(assignments: &[Assignment], today: NaiveDate) -> Vec<u8> {
    let mut file = Export::new(today);
    assignments.iter().for_each(|a| file.push(a));
    file.finish()
}

/// The bytes an answer's JSON envelope gives `body` (escapes included).
fn payload_len(body: &[u8]) -> usize {
    body.len()
        + body
            .iter()
            .map(|b| match b {
                b'"' | b'\\' | b'\n' | b'\r' | b'\t' => 1,
                0..=0x1f => 5,
                _ => 0,
            })
            .sum::<usize>()
}

fn encode(body: Vec<u8>, rows: usize, gzip: bool, limit: usize) -> Result<Response<Body>> {
    let answer = Response::builder()
        .status(StatusCode::OK)
        .header(CONTENT_TYPE, "text/csv; charset=utf-8")
        .header(VARY, "accept, accept-encoding");
    let answer = if gzip {
        use std::io::Write;
        let mut zipped = flate2::write::GzEncoder::new(
            Vec::with_capacity(body.len() / 6),
            flate2::Compression::fast(),
        );
        zipped.write_all(&body).map_err(Error::unavailable)?;
        let zipped = zipped.finish().map_err(Error::unavailable)?;
        // Base64 in the envelope: four bytes for three.
        if zipped.len().div_ceil(3) * 4 > limit {
            return Err(Error::ExportTooLarge { rows });
        }
        answer.header(CONTENT_ENCODING, "gzip").body(Body::Binary(zipped))
    } else {
        if payload_len(&body) > limit {
            return Err(Error::ExportTooLarge { rows });
        }
        let text = String::from_utf8(body).expect("cells are UTF-8");
        answer.body(Body::Text(text))
    };
    Ok(answer.expect("static headers are valid"))
}

/// The columns an import reads; any other is ignored.
#[derive(Default)]
struct Header {
    email: Option<usize>,
    valid_from: Option<usize>,
    valid_until: Option<usize>,
    language: Option<usize>,
}

impl Header {
    fn of(record: &[String]) -> Result<Self> {
        let mut header = Header::default();
        let mut errors = Vec::new();
        for (i, name) in record.iter().enumerate() {
            let slot = match name.trim().to_ascii_lowercase().as_str() {
                "email" => &mut header.email,
                "validfrom" => &mut header.valid_from,
                "validuntil" => &mut header.valid_until,
                "language" => &mut header.language,
                _ => continue,
            };
            if slot.replace(i).is_some() {
                errors.push(FieldError::new(
                    "row 1",
                    format!("the column {} appears twice", name.trim()),
                ));
            }
        }
        if header.email.is_none() {
            errors.push(FieldError::new(
                "row 1",
                "the header row must name an email column (and may name validFrom, validUntil, language)",
            ));
        }
        if errors.is_empty() { Ok(header) } else { Err(Error::Validation(errors)) }
    }
}

impl Header {
    /// A row's period and language cells (empty: the defaults), each bad one
    /// named in `errors`.
    fn period_and_language<'a>(
        &self,
        n: usize,
        cell: &impl Fn(Option<usize>) -> &'a str,
        errors: &mut Vec<FieldError>,
    ) -> (Option<NaiveDate>, Option<NaiveDate>, Language) {
        let mut date = |name: &str, column: Option<usize>| match cell(column) {
            "" => None,
            c => date_cell(c).or_else(|| {
                errors.push(FieldError::new(
                    format!("row {n}: {name}"),
                    "must be a date YYYY-MM-DD (or DD.MM.YYYY)",
                ));
                None
            }),
        };
        let valid_from = date("validFrom", self.valid_from);
        let valid_until = date("validUntil", self.valid_until);
        let language = match cell(self.language).to_ascii_lowercase().as_str() {
            "" | "en" => Language::En,
            "de" => Language::De,
            _ => {
                errors.push(FieldError::new(format!("row {n}: language"), "must be en or de"));
                Language::En
            }
        };
        (valid_from, valid_until, language)
    }
}

/// `;` when the header row uses it (what spreadsheets write in German
/// locales) and holds no `,`; otherwise `,`.
fn separator(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    if header.contains(';') && !header.contains(',') { b';' } else { b',' }
}

/// A date cell: `YYYY-MM-DD`, or `DD.MM.YYYY` as a German spreadsheet
/// saves dates back.
fn date_cell(cell: &str) -> Option<NaiveDate> {
    parse_date(cell).or_else(|| NaiveDate::parse_from_str(cell, "%d.%m.%Y").ok())
}

/// The records of a CSV text, each with the row a spreadsheet shows for it
/// (its first line; the header is row 1). csv-core's state machine does the
/// reading (quotes, escaped quotes, CR, LF, CRLF); empty lines are skipped.
/// The reader alone, not the `csv` crate's buffered one: the import runs in
/// `assign`, whose binary has the least room.
struct Records<'a> {
    reader: csv_core::Reader,
    input: &'a [u8],
    line: usize,
}

impl<'a> Records<'a> {
    fn new(text: &'a str, delimiter: u8) -> Self {
        let reader = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
        Self { reader, input: text.as_bytes(), line: 1 }
    }
}

impl Iterator for Records<'_> {
    type Item = (usize, Vec<String>);

    fn next(&mut self) -> Option<Self::Item> {
        while let [first @ (b'\r' | b'\n'), rest @ ..] = self.input {
            self.line += usize::from(*first == b'\n');
            self.input = rest;
        }
        let row = self.line;
        let (mut out, mut ends) = (vec![0u8; 256], vec![0usize; 16]);
        let (mut nout, mut nend) = (0, 0);
        loop {
            let (result, nin, o, e) =
                self.reader.read_record(self.input, &mut out[nout..], &mut ends[nend..]);
            let (read, rest) = self.input.split_at(nin);
            self.line += read.iter().filter(|b| **b == b'\n').count();
            self.input = rest;
            (nout, nend) = (nout + o, nend + e);
            match result {
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::OutputFull => out.resize(out.len() * 2, 0),
                csv_core::ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
                csv_core::ReadRecordResult::Record => break,
                csv_core::ReadRecordResult::End => return None,
            }
        }
        let mut start = 0;
        let fields = ends[..nend]
            .iter()
            .map(|&end| {
                // Fields of a UTF-8 text, cut at ASCII bytes: UTF-8 still.
                let field = String::from_utf8_lossy(&out[start..end]).into_owned();
                start = end;
                field
            })
            .collect();
        Some((row, fields))
    }
}

/// Reads an import: a header row, then one address per row, each with its
/// own period and language (empty cells take the defaults). Every bad row is
/// named (`row N` is the row a spreadsheet shows, the header being row 1);
/// invalid addresses answer `invalid-emails`. Reading stops after
/// [`MAX_ROWS`] rows: a longer file is refused without reading it all.
pub fn import(body: &[u8], dry_run: bool) -> Result<AssignInput> {
    let text = std::str::from_utf8(body).map_err(|_| Error::field("body", "must be UTF-8"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Records::new(text, separator(text));
    let header = match records.next() {
        Some((_, names)) => Header::of(&names)?,
        None => return Err(Error::field("body", "a CSV file with a header row is required")),
    };
    let mut rows: Vec<Row> = Vec::new();
    let mut errors = Vec::new();
    let mut invalid = Vec::new();
    let mut invalid_rows = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (n, record) in records {
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if rows.len() + invalid.len() == MAX_ROWS {
            return Err(Error::field("body", format!("at most {MAX_ROWS} rows per import")));
        }
        let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).map(|c| c.trim()).unwrap_or("");
        let typed = restore(cell(header.email));
        let Some(email) = emails::parse_one(typed) else {
            invalid.push(typed.to_string());
            invalid_rows
                .push(FieldError::new(format!("row {n}: email"), "is not a valid e-mail address"));
            continue;
        };
        let (valid_from, valid_until, language) = header.period_and_language(n, &cell, &mut errors);
        if let Some(first) = seen.insert(email.clone(), n) {
            errors.push(FieldError::new(
                format!("row {n}: email"),
                format!("the same address as row {first}"),
            ));
            continue;
        }
        rows.push(Row { email, valid_from, valid_until, language, row: Some(n) });
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    if !invalid.is_empty() {
        return Err(Error::InvalidEmails { entries: invalid, rows: invalid_rows });
    }
    if rows.is_empty() {
        return Err(Error::field("body", "at least one row with an e-mail address is required"));
    }
    Ok(AssignInput { rows, dry_run })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formula_starts_are_defused_and_restored() {
        for (cell, shown) in [
            ("=1+1@x.example", "'=1+1@x.example"),
            ("+49@x.example", "'+49@x.example"),
            ("-x@x.example", "'-x@x.example"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("anna@example.com", "anna@example.com"),
            ("o'brien@example.com", "o'brien@example.com"),
            ("", ""),
        ] {
            assert_eq!(defuse(cell), shown);
            assert_eq!(restore(shown), cell);
        }
        // A `'` a person typed before anything harmless stays; one before a
        // formula start is told apart from the export's.
        assert_eq!(restore("'anna@example.com"), "'anna@example.com");
        assert_eq!(defuse("'=x"), "''=x");
        assert_eq!(restore("''=x"), "'=x");
    }

    #[test]
    fn the_separator_is_the_headers() {
        assert_eq!(separator("email;validFrom\r\na@x.example;"), b';');
        assert_eq!(separator("email,validFrom\na;b@x.example,"), b',');
        assert_eq!(separator("email\na;b"), b',');
    }

    #[test]
    fn rows_are_numbered_as_a_spreadsheet_shows_them() {
        let input = import(b"email\n\n\"quoted\nname\" <a@x.example>\nb@x.example\n", false);
        let rows: Vec<_> = input.unwrap().rows.into_iter().map(|r| (r.email, r.row)).collect();
        assert_eq!(
            rows,
            [("a@x.example".to_string(), Some(3)), ("b@x.example".to_string(), Some(5))]
        );
    }

    #[test]
    fn an_import_stops_reading_after_the_last_row_it_may_take() {
        let mut body = String::from("email\n");
        for i in 0..MAX_ROWS {
            body.push_str(&format!("u{i}@x.example\n"));
        }
        assert_eq!(import(body.as_bytes(), true).unwrap().rows.len(), MAX_ROWS);
        // A broken row after the limit is never read: the limit answers.
        body.push_str("x@x.example\n\"unterminated");
        let Err(Error::Validation(errors)) = import(body.as_bytes(), true) else { panic!() };
        assert_eq!(errors[0].field, "body");
    }

    fn body_of(answer: &Response<Body>) -> Vec<u8> {
        match answer.body() {
            Body::Text(t) => t.as_bytes().to_vec(),
            Body::Binary(b) => b.clone(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn an_answer_too_large_for_text_needs_gzip() {
        let row = "anna.schmidt@example.com,active,2026-11-28,2026-12-31,2026-11-28T14:49:43Z,buyer@example.com,,,sent\r\n";
        let body: Vec<u8> = row.repeat(100).into_bytes();
        // The envelope escapes CR and LF: two bytes more a row.
        assert_eq!(payload_len(&body), body.len() + 200);
        let limit = body.len() + 100;
        let refused = encode(body.clone(), 100, false, limit).unwrap_err();
        assert_eq!(refused, Error::ExportTooLarge { rows: 100 });
        let text = encode(body.clone(), 100, false, body.len() + 200).unwrap();
        assert_eq!(body_of(&text), body);
        assert!(text.headers().get(CONTENT_ENCODING).is_none());
        let zipped = encode(body.clone(), 100, true, limit).unwrap();
        assert_eq!(zipped.headers()[CONTENT_ENCODING], "gzip");
        let mut unzipped = Vec::new();
        use std::io::Read;
        flate2::read::GzDecoder::new(body_of(&zipped).as_slice())
            .read_to_end(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, body);
        assert!(body_of(&zipped).len() * 10 < body.len(), "repeated rows compress well");
        assert!(matches!(encode(body, 100, true, 10), Err(Error::ExportTooLarge { .. })));
    }

    proptest! {
        #[test]
        fn restore_undoes_defuse(cell in "\\PC{0,12}|[=+@\t\r-]\\PC{0,8}") {
            let shown = defuse(&cell);
            prop_assert_eq!(restore(&shown), cell.as_str());
            let first = shown.chars().next();
            prop_assert!(!first.is_some_and(is_formula_start), "never starts a formula");
        }

        #[test]
        fn an_export_reads_back_cell_for_cell(
            locals in proptest::collection::btree_set("[=+a-z0-9-][a-z0-9+_'=-]{0,10}", 1..20),
        ) {
            let at = chrono::DateTime::parse_from_rfc3339("2026-11-28T14:49:43Z").unwrap().to_utc();
            let license = crate::model::License::sample(100);
            let period = license.term.period();
            let assignments: Vec<Assignment> = locals
                .iter()
                .map(|l| {
                    Assignment::new(
                        &license,
                        &format!("{l}@x.example"),
                        period,
                        at,
                        "admin, \"the\" buyer",
                        Language::En,
                        crate::model::InvitationStatus::Pending,
                    )
                })
                .collect();
            let file = export(&assignments, at.date_naive());
            let mut reader = csv::Reader::from_reader(file.as_slice());
            prop_assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), COLUMNS.to_vec());
            let back: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
            prop_assert_eq!(back.len(), assignments.len());
            for (record, a) in back.iter().zip(&assignments) {
                prop_assert_eq!(restore(&record[0]), a.email.as_str());
                prop_assert_eq!(&record[5], "admin, \"the\" buyer");
                prop_assert_eq!(&record[4], "2026-11-28T14:49:43Z");
            }
            // And the file imports as the same addresses.
            let input = import(&file, false).unwrap();
            let emails: Vec<String> = input.rows.into_iter().map(|r| r.email).collect();
            prop_assert_eq!(emails, assignments.iter().map(|a| a.email.clone()).collect::<Vec<_>>());
        }
    }
}
