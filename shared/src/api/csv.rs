//! The CSV representation of a licence's assignments (contract v2, "CSV"):
//! the export a spreadsheet opens safely, and the import a spreadsheet
//! writes back (any column order and case, `;` files, a BOM, CRLF or LF).
//! Quoting and splitting are the `csv` crate's; this module maps columns.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use lambda_http::http::{StatusCode, header::CONTENT_TYPE};
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

/// Every assignment as one RFC 4180 file (header row, CRLF), in the order
/// given (the caller's: by e-mail).
pub fn export(assignments: &[Assignment], today: NaiveDate) -> Vec<u8> {
    // About 110 bytes a row for common addresses: one allocation mostly.
    let buffer = Vec::with_capacity(128 * (assignments.len() + 1));
    let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(buffer);
    let written: csv::Result<()> = (|| {
        out.write_record(COLUMNS)?;
        for a in assignments {
            let cells = [
                a.email.clone(),
                a.status(today).as_str().to_string(),
                a.valid_from.to_string(),
                a.valid_until.to_string(),
                timestamp(Some(a.assigned_at)),
                a.assigned_by.clone(),
                timestamp(a.revoked_at),
                a.revoked_by.clone().unwrap_or_default(),
                a.invitation.status.as_str().to_string(),
            ];
            out.write_record(cells.iter().map(|c| defuse(c).into_owned()))?;
        }
        out.flush()?;
        Ok(())
    })();
    written.expect("writing to memory does not fail");
    out.into_inner().expect("flushed above")
}

/// `200 text/csv; charset=utf-8` with every assignment (see [`export`]).
pub fn response(assignments: &[Assignment], today: NaiveDate) -> Response<Body> {
    let body = String::from_utf8(export(assignments, today)).expect("cells are UTF-8");
    Response::builder()
        .status(StatusCode::OK)
        .header(CONTENT_TYPE, "text/csv; charset=utf-8")
        .body(Body::Text(body))
        .expect("a valid response")
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
    fn of(record: &csv::StringRecord) -> Result<Self> {
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

/// The row a spreadsheet shows for a record: its position's line, past the
/// empty lines the reader skipped before it.
fn row_number(text: &str, position: Option<&csv::Position>) -> usize {
    let Some(p) = position else { return 0 };
    let skipped = text.as_bytes()[p.byte() as usize..]
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .filter(|b| **b == b'\n')
        .count();
    p.line() as usize + skipped
}

/// Reads an import: a header row, then one address per row, each with its
/// own period and language (empty cells take the defaults). Every bad row is
/// named (`row N` is the row a spreadsheet shows, the header being row 1);
/// invalid addresses answer `invalid-emails`. Reading stops after
/// [`MAX_ROWS`] rows: a longer file is refused without reading it all.
pub fn import(body: &[u8], dry_run: bool) -> Result<AssignInput> {
    let text = std::str::from_utf8(body).map_err(|_| Error::field("body", "must be UTF-8"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator(text))
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(record)) => Header::of(&record)?,
        Some(Err(e)) => return Err(Error::field("row 1", e.to_string())),
        None => return Err(Error::field("body", "a CSV file with a header row is required")),
    };
    let mut rows: Vec<Row> = Vec::new();
    let mut errors = Vec::new();
    let mut invalid = Vec::new();
    let mut invalid_rows = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for record in records {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            Error::Validation(vec![FieldError::new(format!("row {line}"), "is not valid CSV")])
        })?;
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if rows.len() + invalid.len() == MAX_ROWS {
            return Err(Error::field("body", format!("at most {MAX_ROWS} rows per import")));
        }
        let n = row_number(text, record.position());
        let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).map(str::trim).unwrap_or("");
        let typed = restore(cell(header.email));
        let Some(email) = emails::parse_one(typed) else {
            invalid.push(typed.to_string());
            invalid_rows
                .push(FieldError::new(format!("row {n}: email"), "is not a valid e-mail address"));
            continue;
        };
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
        let valid_from = date("validFrom", header.valid_from);
        let valid_until = date("validUntil", header.valid_until);
        let language = match cell(header.language).to_ascii_lowercase().as_str() {
            "" | "en" => Language::En,
            "de" => Language::De,
            _ => {
                errors.push(FieldError::new(format!("row {n}: language"), "must be en or de"));
                Language::En
            }
        };
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
