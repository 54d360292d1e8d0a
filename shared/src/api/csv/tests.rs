use super::import::separator;
use super::*;
use crate::model::Language;
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
    assert_eq!(rows, [("a@x.example".to_string(), Some(3)), ("b@x.example".to_string(), Some(5))]);
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
    flate2::read::GzDecoder::new(body_of(&zipped).as_slice()).read_to_end(&mut unzipped).unwrap();
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
