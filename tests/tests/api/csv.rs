//! CSV (contract v2): `GET /licenses/{id}/assignments` with `Accept: text/csv`
//! exports every assignment; `POST` with `Content-Type: text/csv` imports
//! rows, each with its own period, through the same rules as a JSON assign.

use licensing_tests::*;
use serde_json::{Value, json};

use crate::{result_emails, seats};

const HEADER: &str =
    "email,status,validFrom,validUntil,assignedAt,assignedBy,revokedAt,revokedBy,invitationStatus";

/// The text of a CSV answer.
fn text(answer: &Answer) -> &str {
    answer.body.as_str().expect("a text body")
}

/// The rows of an export, each split at commas (the tests' cells hold none).
fn rows(answer: &Answer) -> Vec<Vec<String>> {
    let body = text(answer);
    assert!(body.ends_with("\r\n"), "CRLF after every row");
    body.trim_end_matches("\r\n")
        .split("\r\n")
        .map(|line| line.split(',').map(str::to_string).collect())
        .collect()
}

fn field_errors(answer: &Answer) -> Vec<String> {
    answer.body["errors"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_export_has_every_assignment_in_email_order_and_defuses_formulas() {
    let (app, id) = licensed(6).await;
    let a = Client::admin(&app, CUSTOMER);
    let pasted = "zoe@example.com, =1+1@x.example, -minus@example.com, anna@example.com";
    assert_eq!(a.assign(&id, pasted).await.status, 201);
    assert_eq!(a.revoke(&id, "zoe@example.com").await.status, 200);

    let export = a.export_csv(&id).await;
    assert_eq!(export.status, 200);
    assert_eq!(export.content_type, "text/csv; charset=utf-8");
    let rows = rows(&export);
    assert_eq!(rows[0].join(","), HEADER);
    let emails: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    // Sorted by the stored address; formula starts get a `'`.
    assert_eq!(
        emails,
        [
            "'-minus@example.com",
            "'=1+1@x.example",
            "anna@example.com",
            "buyer@cust-1001.example.com",
            "zoe@example.com"
        ]
    );
    let json = a.all_assignments(&id).await;
    for (row, view) in rows[1..].iter().zip(&json) {
        let cell = |v: &Value| v.as_str().unwrap_or("").to_string();
        let expected = [
            cell(&view["email"]),
            cell(&view["status"]),
            cell(&view["validFrom"]),
            cell(&view["validUntil"]),
            cell(&view["assignedAt"]),
            cell(&view["assignedBy"]),
            cell(&view["revokedAt"]),
            cell(&view["revokedBy"]),
            cell(&view["invitation"]["status"]),
        ];
        let unprefixed: Vec<String> = row
            .iter()
            .map(|c| c.strip_prefix('\'').filter(|_| c.starts_with("'=") || c.starts_with("'-")))
            .zip(row)
            .map(|(s, c)| s.unwrap_or(c).to_string())
            .collect();
        assert_eq!(unprefixed, expected, "the same values as the JSON list");
    }
    let zoe = rows.iter().find(|r| r[0] == "zoe@example.com").unwrap();
    assert_eq!((zoe[1].as_str(), zoe[7].as_str()), ("revoked", "admin@cust-1001.example.com"));
    assert!(!zoe[6].is_empty(), "revokedAt");

    // A JSON list of the same licence is unchanged by the new media type.
    let page = a.assignments(&id, "").await;
    assert_eq!((page.status, page.content_type.as_str()), (200, "application/json"));
}

#[tokio::test]
async fn the_export_is_gzip_compressed_where_the_client_accepts_it() {
    let (app, id) = licensed(30).await;
    let a = Client::admin(&app, CUSTOMER);
    assert_eq!(a.assign(&id, numbered("user", 25, 0)).await.status, 201);
    let plain = a.export_csv(&id).await;
    let mut req = a.request("GET", &format!("/licenses/{id}/assignments"), None);
    req.headers_mut().insert("accept", "text/csv".parse().unwrap());
    req.headers_mut().insert("accept-encoding", "br;q=1.0, gzip;q=0.8, *;q=0.1".parse().unwrap());
    let response = licensing::api::list::handle(&app, req).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    let lambda_http::Body::Binary(zipped) = response.body() else { panic!("a binary body") };
    let mut unzipped = String::new();
    use std::io::Read;
    flate2::read::GzDecoder::new(zipped.as_slice()).read_to_string(&mut unzipped).unwrap();
    assert_eq!(unzipped, text(&plain));
    assert!(zipped.len() * 3 < unzipped.len(), "{} of {}", zipped.len(), unzipped.len());
    // `q=0` refuses gzip: the text as before.
    let mut req = a.request("GET", &format!("/licenses/{id}/assignments"), None);
    req.headers_mut().insert("accept", "text/csv".parse().unwrap());
    req.headers_mut().insert("accept-encoding", "gzip;q=0".parse().unwrap());
    let response = licensing::api::list::handle(&app, req).await;
    assert!(response.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn the_export_is_for_the_licence_admin_of_the_licence_only() {
    let (app, id) = licensed(3).await;
    let other = Client::admin(&app, "cust-2002").export_csv(&id).await;
    assert_eq!((other.status, other.slug()), (404, "license-not-found"));
    let user = Client::user(&app, "anna@example.com", CUSTOMER).export_csv(&id).await;
    assert_eq!(user.status, 403);
    let missing = Client::admin(&app, CUSTOMER).export_csv("lic_01J0000000000000000000000").await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn an_import_takes_a_period_and_language_per_row_in_any_column_order() {
    let (app, id) = licensed(5).await;
    let a = Client::admin(&app, CUSTOMER);
    let (from, until) = (days_from_today(3), days_from_today(60));
    let default_until = a.license(&id).await.body["term"]["end"].as_str().unwrap().to_string();
    // A UTF-8 BOM, `;` as Excel writes it in German locales, CRLF, quoted
    // fields, a German date, columns in another order and case, one ignored.
    let csv = format!(
        "\u{feff}Language;EMAIL;Note;validuntil;ValidFrom\r\n\
         de;\"Schmidt, Anna\" <Anna@Example.com>;\"a note; with a separator\";{until};{from}\r\n\
         ;bob@example.com;;;\r\n\
         ;;;;\r\n\
         EN;carl@example.com;x;{};\r\n",
        until.format("%d.%m.%Y")
    );
    let done = a.import_csv(&id, &csv, "", None).await;
    assert_eq!(done.status, 201, "{:?}", done.body);
    assert_eq!(done.content_type, "application/json");
    assert_eq!(result_emails(&done), ["anna@example.com", "bob@example.com", "carl@example.com"]);
    let anna = a.assignment(&id, "anna@example.com").await.unwrap();
    assert_eq!(
        (anna["validFrom"].clone(), anna["validUntil"].clone()),
        (json!(from), json!(until))
    );
    let bob = a.assignment(&id, "bob@example.com").await.unwrap();
    assert_eq!(bob["validFrom"], json!(today()));
    assert_eq!(bob["validUntil"], json!(default_until));
    let carl = a.assignment(&id, "carl@example.com").await.unwrap();
    assert_eq!(carl["validUntil"], json!(until));
    assert_eq!(seats(&done.body["license"]), (4, 1, 4));
    // The invitations go out in each row's language.
    let items = app.store.assignments_page(CUSTOMER, &id, None, None).await.unwrap().0;
    let language = |e: &str| items.iter().find(|a| a.email == e).unwrap().language;
    assert_eq!(language("anna@example.com"), licensing::model::Language::De);
    assert_eq!(language("carl@example.com"), licensing::model::Language::En);
    // The history names the admin for each row, as a JSON assign does.
    let history = a.all_history(&id, "", 100).await;
    let created: Vec<&Value> =
        history.iter().filter(|e| e["action"] == "assignment.created").collect();
    assert_eq!(created.len(), 4, "the buyer and three rows");
    assert!(created.iter().take(3).all(|e| e["actor"] == "admin@cust-1001.example.com"));
}

#[tokio::test]
async fn an_exported_file_imports_as_it_was() {
    let (app, id) = licensed(6).await;
    let a = Client::admin(&app, CUSTOMER);
    assert_eq!(a.assign(&id, "=1+1@x.example, anna@example.com").await.status, 201);
    let export = a.export_csv(&id).await;
    let (other_app, other) = licensed(6).await;
    let b = Client::admin(&other_app, CUSTOMER);
    let again = b.import_csv(&other, text(&export), "", None).await;
    assert_eq!(again.status, 201, "{:?}", again.body);
    let emails = result_emails(&again);
    assert_eq!(emails, ["=1+1@x.example", "anna@example.com", "buyer@cust-1001.example.com"]);
    let outcomes: Vec<&Value> =
        again.body["results"].as_array().unwrap().iter().map(|r| &r["outcome"]).collect();
    assert_eq!(outcomes, [&json!("assigned"), &json!("assigned"), &json!("already_assigned")]);
}

#[tokio::test]
async fn a_dry_run_import_answers_without_writing_and_a_refusal_writes_nothing() {
    let (app, id) = licensed(3).await;
    let a = Client::admin(&app, CUSTOMER);
    let (soon, later) = (days_from_today(1), days_from_today(20));
    let csv =
        format!("email,validFrom,validUntil\na@example.com,{soon},{later}\nb@example.com,,\n");
    let preview = a.import_csv(&id, &csv, "dryRun=true", None).await;
    assert_eq!(preview.status, 200, "{:?}", preview.body);
    assert_eq!(preview.body["results"][0]["assignment"]["validUntil"], json!(later));
    assert_eq!(seats(&preview.body["license"]), (3, 0, 3));
    assert_eq!(a.all_assignments(&id).await.len(), 1, "a dry run writes nothing");
    // The query parameter makes a JSON request a dry run too.
    let path = format!("/licenses/{id}/assignments?dryRun=true");
    let json_preview = a.send("POST", &path, Some(json!({"emails": "q@example.com"}))).await;
    assert_eq!(json_preview.status, 200);
    assert_eq!(a.all_assignments(&id).await.len(), 1, "a dry run writes nothing");
    let bad = a.import_csv(&id, &csv, "dryRun=maybe", None).await;
    assert_eq!((bad.status, bad.slug()), (400, "validation-error"));

    // Two seats are free over the whole term; a third row that overlaps
    // both refuses the whole file, even with its own period.
    let full = format!("{csv}c@example.com,{soon},{soon}\n");
    let refused = a.import_csv(&id, &full, "", None).await;
    assert_eq!((refused.status, refused.slug()), (409, "insufficient-seats"), "{:?}", refused.body);
    assert_eq!(a.all_assignments(&id).await.len(), 1, "all or nothing");
    // Periods that do not overlap share a seat.
    let after = days_from_today(21);
    let fits = format!("{csv}c@example.com,{after},\n");
    let fits = a.import_csv(&id, &fits, "", None).await;
    assert_eq!(fits.status, 201, "{:?}", fits.body);
}

#[tokio::test]
async fn every_bad_row_is_named_and_nothing_is_written() {
    let (app, id) = licensed(10).await;
    let a = Client::admin(&app, CUSTOMER);
    let past = days_from_today(-400);
    let csv = format!(
        "email,validFrom,validUntil,language\n\
         ok@example.com,,,\n\
         later@example.com,2026-13-01,,\n\
         past@example.com,,{past},\n\
         lang@example.com,,,fr\n\
         OK@example.com,,,\n"
    );
    let refused = a.import_csv(&id, &csv, "", None).await;
    assert_eq!((refused.status, refused.slug()), (400, "validation-error"));
    let fields = field_errors(&refused);
    // What the file itself gets wrong, every row of it; the term is checked
    // once the file reads well.
    let expected = ["row 3: validFrom", "row 5: language", "row 6: email"];
    assert_eq!(fields, expected, "{:?}", refused.body);
    let csv = format!(
        "email,validUntil\nok@example.com,\npast@example.com,{past}\nlater@example.com,2099-01-01\n"
    );
    let refused = a.import_csv(&id, &csv, "", None).await;
    assert_eq!((refused.status, refused.slug()), (400, "validation-error"));
    let named: std::collections::BTreeSet<String> = field_errors(&refused).into_iter().collect();
    let expected = ["row 3: validFrom", "row 3: validUntil", "row 4: validUntil"].map(String::from);
    assert_eq!(named, expected.into_iter().collect(), "{:?}", refused.body);
    let invalid =
        a.import_csv(&id, "email\nnot an address\nfine@example.com\nb@\n", "", None).await;
    assert_eq!((invalid.status, invalid.slug()), (400, "invalid-emails"));
    assert_eq!(invalid.body["invalidEmails"], json!(["not an address", "b@"]));
    assert_eq!(field_errors(&invalid), ["row 2: email", "row 4: email"]);

    let no_email = a.import_csv(&id, "mail,validFrom\nx@example.com,\n", "", None).await;
    assert_eq!((no_email.status, field_errors(&no_email)), (400, vec!["row 1".to_string()]));
    let empty = a.import_csv(&id, "email\n\n", "", None).await;
    assert_eq!(empty.status, 400);
    let mut many = String::from("email\n");
    for i in 0..1001 {
        many.push_str(&format!("u{i}@example.com\n"));
    }
    let too_many = a.import_csv(&id, &many, "dryRun=true", None).await;
    assert_eq!((too_many.status, field_errors(&too_many)), (400, vec!["body".to_string()]));
    assert_eq!(a.all_assignments(&id).await.len(), 1, "only the buyer");
}

#[tokio::test]
async fn an_import_is_idempotent_by_key_and_a_dry_run_is_another_request() {
    let (app, id) = licensed(5).await;
    let a = Client::admin(&app, CUSTOMER);
    let csv = "email\na@example.com\nb@example.com\n";
    let first = a.import_csv(&id, csv, "", Some("import-1")).await;
    assert_eq!(first.status, 201);
    let replay = a.import_csv(&id, csv, "", Some("import-1")).await;
    assert_eq!((replay.status, &replay.body), (201, &first.body));
    assert!(replay.headers.contains_key("idempotent-replayed"));
    let dry = a.import_csv(&id, csv, "dryRun=true", Some("import-1")).await;
    assert_eq!((dry.status, dry.slug()), (422, "idempotency-conflict"));
    assert_eq!(a.all_assignments(&id).await.len(), 3);
}

/// At most 10 CSV exports a customer a minute (v3): the 11th waits, and
/// another customer's exports are not counted against it.
#[tokio::test]
async fn csv_exports_are_ten_a_minute_per_customer() {
    let app = fresh_app().await;
    let id = licence(&app, CUSTOMER, 3).await;
    let other = licence(&app, OTHER_CUSTOMER, 3).await;
    let a = Client::admin(&app, CUSTOMER);
    // Early in a minute, so that all eleven fall into one window.
    let second = chrono::Utc::now().timestamp().rem_euclid(60);
    if second > 50 {
        tokio::time::sleep(std::time::Duration::from_secs((61 - second) as u64)).await;
    }
    for n in 1..=10 {
        assert_eq!(a.export_csv(&id).await.status, 200, "export {n}");
    }
    let refused = a.export_csv(&id).await;
    assert_eq!((refused.status, refused.slug()), (429, "rate-limited"));
    let wait: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(Client::admin(&app, OTHER_CUSTOMER).export_csv(&other).await.status, 200);
    // The next minute has room again.
    assert_eq!(Client::admin(&app.later(60), CUSTOMER).export_csv(&id).await.status, 200);
}
