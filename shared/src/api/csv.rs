//! The CSV representation of a licence's assignments (contract v2, "CSV"):
//! the export a spreadsheet opens safely, and the import a spreadsheet
//! writes back (any column order and case, `;` files, a BOM, CRLF or LF).
//! Quoting and splitting are the `csv` crate's; this module maps columns.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use lambda_http::http::StatusCode;
use lambda_http::http::header::{CONTENT_ENCODING, CONTENT_TYPE, VARY};
use lambda_http::{Body, Response};

use crate::emails;
use crate::error::{Error, Result};
use crate::model::Assignment;

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
            a.invitation_shown().status.as_str().to_string(),
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

mod import;
pub use import::import;

#[cfg(test)]
mod tests;
