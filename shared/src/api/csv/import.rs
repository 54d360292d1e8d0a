//! The import: a header row naming the columns (any order and case), then
//! one address per row with its own period and language.

use chrono::NaiveDate;

use super::{MAX_ROWS, restore};
use crate::emails;
use crate::error::{Error, FieldError, Result};
use crate::http::decode::parse_date;
use crate::model::Language;
use crate::usecase::assign::{AssignInput, Row};

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
pub(super) fn separator(text: &str) -> u8 {
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
