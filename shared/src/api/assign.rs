//! The `assign` function: `POST /licenses/{id}/assignments` (all or nothing,
//! optionally idempotent) and `POST /licenses/{id}/assignments/{email}/invitation`.

use lambda_http::{Body, Request, Response, http::StatusCode};
use serde_json::{Map, Value};

use super::csv;
use super::views::{self, AssignResponse, AssignmentView, LicenseView, ResultView};
use crate::App;
use crate::emails::{self, MAX_ADDRESSES, Parsed};
use crate::error::{Error, Result};
use crate::http::decode::{Fields, body_bytes, json_object, names_media_type, param, query};
use crate::http::idempotency::Idempotency;
use crate::http::request::Route;
use crate::http::{json, serve};
use crate::model::Language;
use crate::usecase::AssignmentRef;
use crate::usecase::assign::{AssignInput, Assigned, assign};
use crate::usecase::resend::resend;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    serve(app, &req, |route, caller, req| async move {
        match route {
            Route::Assign(id) => {
                let admin = caller.admin()?;
                let (input, idempotency) = (decode(req), Idempotency::of(req));
                let write = async { Ok(render(&assign(app, &admin, &id, &input?).await?)) };
                match idempotency? {
                    None => write.await,
                    Some(key) => key.run(app, &admin.customer_id, write).await,
                }
            }
            Route::ResendInvitation(id, email) => {
                let admin = caller.admin()?;
                let resent = resend(app, AssignmentRef::new(&admin, &id, &email)).await?;
                Ok(views::assignment(StatusCode::ACCEPTED, &resent, app.today()))
            }
            _ => Err(Error::RouteNotFound),
        }
    })
    .await
}

/// A JSON request, or a CSV import (`Content-Type: text/csv`); `?dryRun=true`
/// makes either a dry run (so does `dryRun` in a JSON body).
fn decode(req: &Request) -> Result<AssignInput> {
    let dry_run = match param(&query(req)?, "dryRun") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(Error::field("dryRun", "must be true or false")),
    };
    let mut input = if names_media_type(req, "content-type", csv::MEDIA_TYPE) {
        csv::import(body_bytes(req)?, dry_run)?
    } else {
        parse(json_object(req, false)?)?
    };
    input.dry_run |= dry_run;
    Ok(input)
}

/// 201 when something was assigned, else 200 (nothing new, or a dry run).
fn render(done: &Assigned) -> Response<Body> {
    let results = done
        .results
        .iter()
        .map(|(outcome, a)| ResultView {
            email: a.email.clone(),
            outcome: *outcome,
            assignment: AssignmentView::of(a, done.today),
        })
        .collect();
    let status = if done.created { StatusCode::CREATED } else { StatusCode::OK };
    let license = LicenseView::of(&done.license, done.today);
    json(status, &AssignResponse { results, license })
}

pub fn parse(body: Map<String, Value>) -> Result<AssignInput> {
    let mut f = Fields::new(body, &["emails", "validFrom", "validUntil", "language", "dryRun"]);
    let parsed = emails_field(&mut f);
    let valid_from = f.date("validFrom");
    let valid_until = f.date("validUntil");
    let language = language_field(&mut f);
    let dry_run = f.bool("dryRun").unwrap_or(false);
    if let (Some(from), Some(until)) = (valid_from, valid_until) {
        if from > until {
            f.fail("validFrom", "must not be after validUntil");
        }
    }
    f.finish()?;
    let parsed = parsed.expect("present when there are no field errors");
    if !parsed.invalid.is_empty() {
        return Err(Error::InvalidEmails { entries: parsed.invalid, rows: Vec::new() });
    }
    Ok(AssignInput::uniform(parsed.valid, valid_from, valid_until, language, dry_run))
}

/// `emails`: pasted text, or an array with one entry per element.
fn emails_field(f: &mut Fields) -> Option<Parsed> {
    const SHAPE: &str = "must be text or an array of strings";
    let parsed = match f.take("emails") {
        Some(Value::String(text)) => emails::parse_paste(&text),
        Some(Value::Array(items)) => {
            match items.iter().map(Value::as_str).collect::<Option<Vec<_>>>() {
                Some(entries) => emails::parse_entries(entries),
                None => {
                    f.fail("emails", SHAPE);
                    return None;
                }
            }
        }
        Some(_) => {
            f.fail("emails", SHAPE);
            return None;
        }
        None => {
            f.fail("emails", "is required");
            return None;
        }
    };
    if parsed.too_many {
        f.fail(
            "emails",
            format!("at most {MAX_ADDRESSES} distinct addresses per request (more were given)"),
        );
    } else if parsed.distinct() == 0 {
        f.fail("emails", "at least one e-mail address is required");
    }
    Some(parsed)
}

/// `language`: `"en"` (the default) or `"de"`.
pub(super) fn language_field(f: &mut Fields) -> Language {
    match f.take("language") {
        None => Language::En,
        Some(Value::String(s)) if s == "en" => Language::En,
        Some(Value::String(s)) if s == "de" => Language::De,
        Some(_) => {
            f.fail("language", "must be \"en\" or \"de\"");
            Language::En
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn parse_rejects_unknown_and_client_owned_fields() {
        let err = parse(body(json!({"emails": "a@example.com", "quantity": 3, "status": "x"})))
            .unwrap_err();
        let Error::Validation(errors) = err else { panic!() };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"quantity") && fields.contains(&"status"), "{fields:?}");
    }

    #[test]
    fn parse_reports_invalid_entries_as_typed() {
        let err = parse(body(json!({"emails": "ok@example.com; nope ;x@"}))).unwrap_err();
        assert!(matches!(err, Error::InvalidEmails { entries, .. } if entries == ["nope", "x@"]));
    }

    #[test]
    fn parse_limits_addresses() {
        let many: Vec<String> = (0..1001).map(|i| format!("u{i}@example.com")).collect();
        assert!(matches!(parse(body(json!({"emails": many}))), Err(Error::Validation(_))));
        let ok: Vec<String> = (0..1000).map(|i| format!("u{i}@example.com")).collect();
        assert_eq!(parse(body(json!({"emails": ok}))).unwrap().rows.len(), 1000);
        assert!(matches!(parse(body(json!({"emails": " ;\n"}))), Err(Error::Validation(_))));
        assert!(matches!(parse(body(json!({"emails": 5}))), Err(Error::Validation(_))));
        assert!(matches!(
            parse(body(json!({"emails": "a@example.com", "dryRun": "yes"}))),
            Err(Error::Validation(_))
        ));
    }
}
