//! The `assign` function: `POST /licenses/{id}/assignments` (bulk, all or
//! nothing) and `POST /licenses/{id}/assignments/{email}/invitation`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use lambda_http::{http::StatusCode, Body, Request, RequestExt, Response};
use serde::Serialize;
use serde_json::Value;

use super::{
    backoff, check_license_id, check_period, commit_result, complete_batch, load_assignment,
    path_email, serve, Commit, MAX_ATTEMPTS,
};
use crate::emails::{self, Parsed, MAX_ADDRESSES};
use crate::error::{Error, Result};
use crate::http::identity::Admin;
use crate::http::request::{json_object, Fields, Route};
use crate::http::{json, respond};
use crate::model::{
    Assignment, AssignmentView, Invitation, InvitationStatus, Language, License, LicenseStatus,
    LicenseView, PendingBatch, Period,
};
use crate::store::{Claim, TxError, Write, MAX_TRANSACTION_ITEMS, STALE_CLAIM_SECONDS};
use crate::App;

pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
const MAX_IDEMPOTENCY_KEY: usize = 255;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let body = json_object(&req, false);
    let key = idempotency_key(&req);
    let fingerprint = fingerprint(&req);
    let deadline = req.lambda_context_ref().map(|c| c.deadline);
    serve(app, req, |route, caller| async move {
        match route {
            Route::Assign(id) => {
                let admin = caller.admin()?;
                let run = async {
                    let input = parse(body?)?;
                    assign(app, &admin, &id, &input).await
                };
                match key? {
                    None => run.await,
                    Some(key) => idempotent(app, &admin, &key, &fingerprint, deadline, run).await,
                }
            }
            Route::ResendInvitation(id, email) => resend(app, &caller.admin()?, &id, &email).await,
            _ => Err(Error::RouteNotFound),
        }
    })
    .await
}

/// The optional `Idempotency-Key` header: 1 to 255 visible ASCII characters.
fn idempotency_key(req: &Request) -> Result<Option<String>> {
    let Some(value) = req.headers().get(IDEMPOTENCY_HEADER) else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(k)
            if !k.is_empty()
                && k.len() <= MAX_IDEMPOTENCY_KEY
                && k.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Ok(Some(k.to_string()))
        }
        _ => Err(Error::field(
            "Idempotency-Key",
            format!("must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"),
        )),
    }
}

/// What makes two requests "the same": method, path and the exact body.
fn fingerprint(req: &Request) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(req.method().as_str());
    hash.update(b" ");
    hash.update(req.uri().path());
    hash.update(b"\n");
    hash.update(req.body().as_ref());
    hex::encode(hash.finalize())
}

/// Runs `run` at most once per key and body within 24 hours; a retry gets
/// the first response back, byte for byte. Failures worth retrying (5xx)
/// give the key back.
async fn idempotent(
    app: &App,
    admin: &Admin,
    key: &str,
    fingerprint: &str,
    deadline_ms: Option<u64>,
    run: impl std::future::Future<Output = Result<Response<Body>>>,
) -> Result<Response<Body>> {
    let now = app.now().timestamp();
    let customer = &admin.customer_id;
    // The claim outlives this invocation by a second at most (a deadline that
    // has passed already is no deadline: a context built without one).
    let latest = now + STALE_CLAIM_SECONDS;
    let stale_at = deadline_ms
        .map(|ms| ms.div_ceil(1000) as i64 + 1)
        .filter(|&at| at > now)
        .map_or(latest, |at| at.min(latest));
    match app
        .store
        .claim_idempotency(customer, key, fingerprint, now, stale_at)
        .await?
    {
        Claim::Mismatch => Err(Error::IdempotencyConflict),
        Claim::InProgress { retry_after } => Err(Error::IdempotencyInProgress { retry_after }),
        Claim::Replay { status, body } => {
            let content_type = if status >= 400 {
                "application/problem+json"
            } else {
                "application/json"
            };
            Ok(Response::builder()
                .status(status)
                .header("content-type", content_type)
                .header("idempotent-replayed", "true")
                .body(Body::Text(body))
                .expect("valid status and headers"))
        }
        Claim::Started => {
            let response = respond(run.await);
            let status = response.status().as_u16();
            // Answers worth retrying (5xx, and 429: a limit that passes) give
            // the key back; every other answer is the request's for good.
            let stored = match response.body() {
                Body::Text(text) if status < 500 && status != 429 => {
                    app.store
                        .complete_idempotency(customer, key, fingerprint, now, status, text)
                        .await
                }
                _ => app.store.release_idempotency(customer, key).await,
            };
            if let Err(e) = stored {
                tracing::warn!(error = %e, "could not record the idempotency key");
            }
            Ok(response)
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct AssignInput {
    pub emails: Vec<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub language: Language,
    pub dry_run: bool,
}

pub fn parse(body: serde_json::Map<String, Value>) -> Result<AssignInput> {
    let mut f = Fields::new(
        body,
        &["emails", "validFrom", "validUntil", "language", "dryRun"],
    );
    let parsed: Option<Parsed> = match f.take("emails") {
        Some(Value::String(text)) => Some(emails::parse_paste(&text)),
        Some(Value::Array(items)) => {
            match items.iter().map(Value::as_str).collect::<Option<Vec<_>>>() {
                Some(entries) => Some(emails::parse_entries(entries)),
                None => {
                    f.fail("emails", "must be text or an array of strings");
                    None
                }
            }
        }
        Some(_) => {
            f.fail("emails", "must be text or an array of strings");
            None
        }
        None => {
            f.fail("emails", "is required");
            None
        }
    };
    let valid_from = f.date("validFrom");
    let valid_until = f.date("validUntil");
    let language = match f.take("language") {
        None => Language::En,
        Some(Value::String(s)) if s == "en" => Language::En,
        Some(Value::String(s)) if s == "de" => Language::De,
        Some(_) => {
            f.fail("language", "must be \"en\" or \"de\"");
            Language::En
        }
    };
    let dry_run = f.bool("dryRun").unwrap_or(false);
    if let Some(p) = &parsed {
        if p.too_many {
            f.fail(
                "emails",
                format!("at most {MAX_ADDRESSES} distinct addresses per request (more were given)"),
            );
        } else if p.distinct() == 0 {
            f.fail("emails", "at least one e-mail address is required");
        }
    }
    if let (Some(from), Some(until)) = (valid_from, valid_until) {
        if from > until {
            f.fail("validFrom", "must not be after validUntil");
        }
    }
    f.finish()?;
    let parsed = parsed.expect("present when there are no field errors");
    if !parsed.invalid.is_empty() {
        return Err(Error::InvalidEmails(parsed.invalid));
    }
    Ok(AssignInput {
        emails: parsed.valid,
        valid_from,
        valid_until,
        language,
        dry_run,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Assigned,
    AlreadyAssigned,
}

/// What an assign request would do to a licence: decided by pure rules.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub results: Vec<(Outcome, Assignment)>,
    /// The licence after the request (seats taken, version bumped).
    pub license: License,
    pub new: Vec<Assignment>,
}

pub struct Ask<'a> {
    pub emails: &'a [String],
    pub period: Period,
    pub now: DateTime<Utc>,
    pub by: &'a str,
    pub language: Language,
}

/// Decides outcomes and seats for an assign request (no I/O). An address
/// whose assignment was revoked or has ended gets a new one that keeps the
/// old one's record; the days the old one used stay in the timeline.
pub fn plan(license: &License, existing: &HashMap<String, Assignment>, req: &Ask) -> Result<Plan> {
    let today = req.now.date_naive();
    let mut results = Vec::with_capacity(req.emails.len());
    let mut new = Vec::new();
    for email in req.emails {
        match existing.get(email) {
            Some(a) if a.is_current(today) => results.push((Outcome::AlreadyAssigned, a.clone())),
            previous => {
                let mut a = Assignment::new(
                    license,
                    email,
                    req.period,
                    req.now,
                    req.by,
                    req.language,
                    InvitationStatus::Pending,
                );
                if let Some(old) = previous {
                    a = a.replacing(old);
                }
                results.push((Outcome::Assigned, a.clone()));
                new.push(a);
            }
        }
    }
    let mut after = license.clone();
    let requested = new.len() as u32;
    if requested > 0 {
        let available = after.seats.available(license.quantity, req.period);
        if requested > available {
            return Err(Error::InsufficientSeats {
                requested,
                available,
            });
        }
        after.seats.add(req.period, requested);
        after.version += 1;
    }
    Ok(Plan {
        results,
        license: after,
        new,
    })
}

#[derive(Serialize)]
struct ResultView {
    email: String,
    outcome: Outcome,
    assignment: AssignmentView,
}

#[derive(Serialize)]
struct AssignResponse {
    results: Vec<ResultView>,
    license: LicenseView,
}

fn answer(plan: &Plan, today: NaiveDate, status: StatusCode) -> Response<Body> {
    let results = plan
        .results
        .iter()
        .map(|(outcome, a)| ResultView {
            email: a.email.clone(),
            outcome: *outcome,
            assignment: a.view(today),
        })
        .collect();
    let mut license = plan.license.clone();
    license.pending = None;
    json(
        status,
        &AssignResponse {
            results,
            license: license.view(today),
        },
    )
}

/// The addresses a request puts through assign, against the customer's
/// budget for the current minute (`App::assign_budget`).
struct Budget {
    customer_id: String,
    window: i64,
    addresses: u32,
    limit: u32,
    retry_after: u32,
}

impl Budget {
    fn of(app: &App, customer_id: &str, addresses: usize) -> Self {
        let now = app.now().timestamp();
        let window = now - now.rem_euclid(60);
        Self {
            customer_id: customer_id.to_string(),
            window,
            addresses: addresses as u32,
            limit: app.assign_budget,
            retry_after: (window + 60 - now).clamp(1, 60) as u32,
        }
    }

    fn write(&self) -> Write {
        Write::Budget {
            customer_id: self.customer_id.clone(),
            window: self.window,
            addresses: self.addresses,
            limit: self.limit,
        }
    }

    fn exceeded(&self) -> Error {
        Error::RateLimited {
            retry_after: self.retry_after,
        }
    }

    /// Counts the request on its own, for a request that commits nothing.
    async fn charge(&self, app: &App) -> Result<()> {
        let fits = app
            .store
            .charge_budget(&self.customer_id, self.window, self.addresses, self.limit)
            .await?;
        if fits {
            Ok(())
        } else {
            Err(self.exceeded())
        }
    }
}

async fn assign(
    app: &App,
    admin: &Admin,
    license_id: &str,
    input: &AssignInput,
) -> Result<Response<Body>> {
    check_license_id(license_id)?;
    let budget = Budget::of(app, &admin.customer_id, input.emails.len());
    let read = || {
        app.store
            .license_and_assignments(&admin.customer_id, license_id, &input.emails)
    };
    // A dry run commits nothing: it is counted on its own, alongside the read.
    let mut first_read = if input.dry_run {
        let (read, charged) = tokio::join!(read(), budget.charge(app));
        charged?;
        Some(read)
    } else {
        None
    };
    for attempt in 0..MAX_ATTEMPTS {
        let (license, existing) = match first_read.take() {
            Some(read) => read?,
            None => read().await?,
        };
        let license = license.ok_or(Error::LicenseNotFound)?;
        if license.pending.is_some() {
            complete_batch(app, &license, None).await?;
            continue;
        }
        let now = app.now();
        let today = now.date_naive();
        if license.status(today) == LicenseStatus::Expired {
            return Err(Error::LicenseNotActive);
        }
        let default = license.default_period(today);
        let period = Period::new(
            input.valid_from.unwrap_or(default.from),
            input.valid_until.unwrap_or(default.until),
        );
        let period = check_period(&license.term, period, today)?;
        let request = Ask {
            emails: &input.emails,
            period,
            now,
            by: &admin.name,
            language: input.language,
        };
        let plan = plan(&license, &existing, &request)?;
        if input.dry_run {
            return Ok(answer(&plan, today, StatusCode::OK));
        }
        if plan.new.is_empty() {
            budget.charge(app).await?;
            return Ok(answer(&plan, today, StatusCode::OK));
        }
        if let Commit::Done(()) = commit(app, &license, &existing, &plan, &budget).await? {
            return Ok(answer(&plan, today, StatusCode::CREATED));
        }
        backoff(attempt).await;
    }
    Err(Error::Unavailable(
        "assign kept conflicting with concurrent requests".into(),
    ))
}

/// Items of a commit besides the assignments: the licence and the budget.
const COMMIT_OVERHEAD: usize = 2;

/// Commits a plan: in one transaction when it fits, otherwise by reserving
/// the seats on the licence (the commit point) and finishing the batch. The
/// budget rides in the commit's transaction, so it costs no round trip.
async fn commit(
    app: &App,
    before: &License,
    existing: &HashMap<String, Assignment>,
    plan: &Plan,
    budget: &Budget,
) -> Result<Commit<()>> {
    let mut license = plan.license.clone();
    let single = plan.new.len() + COMMIT_OVERHEAD <= MAX_TRANSACTION_ITEMS;
    if !single {
        let first = &plan.new[0];
        license.pending = Some(PendingBatch {
            id: ulid::Ulid::new().to_string(),
            emails: plan.new.iter().map(|a| a.email.clone()).collect(),
            replaced: Vec::new(),
            period: first.period(),
            assigned_at: first.assigned_at,
            assigned_by: first.assigned_by.clone(),
            language: first.language,
        });
    }
    let mut writes = Vec::with_capacity(MAX_TRANSACTION_ITEMS);
    writes.push(Write::License {
        license: license.clone(),
        expected_version: Some(before.version),
    });
    writes.push(budget.write());
    if single {
        writes.extend(plan.new.iter().cloned().map(Write::Assignment));
    }
    match app.store.transact(&writes).await {
        Err(TxError::Condition(failed)) if failed.contains(&1) => Err(budget.exceeded()),
        result => match commit_result(result)? {
            Commit::Retry => Ok(Commit::Retry),
            Commit::Done(()) if single => Ok(Commit::Done(())),
            Commit::Done(()) => {
                complete_batch(app, &license, Some(existing)).await?;
                Ok(Commit::Done(()))
            }
        },
    }
}

/// How long after an invitation another may be asked for (API.md, Limits).
pub const RESEND_COOLDOWN_SECONDS: i64 = 600;

async fn resend(
    app: &App,
    admin: &Admin,
    license_id: &str,
    raw_email: &str,
) -> Result<Response<Body>> {
    check_license_id(license_id)?;
    let email = path_email(raw_email);
    for attempt in 0..MAX_ATTEMPTS {
        let lookup = email.as_deref().unwrap_or("-");
        let Some((license, assignment)) = load_assignment(app, admin, license_id, lookup).await?
        else {
            continue;
        };
        let mut a = assignment
            .filter(|_| email.is_some())
            .ok_or(Error::AssignmentNotFound)?;
        if a.is_revoked() {
            return Err(Error::AssignmentRevoked);
        }
        let now = app.now();
        if let Some(wait) = resend_wait(&a, now) {
            return Err(Error::RateLimited { retry_after: wait });
        }
        let writes = [Write::Reinvite {
            customer_id: license.customer_id.clone(),
            license_id: license.license_id.clone(),
            email: a.email.clone(),
            at: now,
            invited_before: a.invited_at,
        }];
        if let Commit::Done(()) = commit_result(app.store.transact(&writes).await)? {
            a.invitation = Invitation::new(InvitationStatus::Pending);
            a.invited_at = Some(now);
            return Ok(json(StatusCode::ACCEPTED, &a.view(app.today())));
        }
        backoff(attempt).await;
    }
    Err(Error::Unavailable("resend kept conflicting".into()))
}

/// Seconds until `a`'s invitation may be asked for again, if it must wait:
/// 10 minutes after the last one (a failed one may be resent at once).
pub fn resend_wait(a: &Assignment, now: DateTime<Utc>) -> Option<u32> {
    if a.invitation.status == InvitationStatus::Failed {
        return None;
    }
    let last = a
        .invited_at
        .or(a.invitation.sent_at)
        .or((a.invitation.status != InvitationStatus::None).then_some(a.assigned_at))?;
    let wait = (last - now).num_seconds() + RESEND_COOLDOWN_SECONDS;
    (wait > 0).then_some(wait as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::Timeline;
    use crate::model::{Subscription, Term};
    use serde_json::json;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn license(quantity: u32) -> License {
        License {
            license_id: "lic_1".into(),
            customer_id: "c1".into(),
            product_id: "p".into(),
            product_name: "P".into(),
            quantity,
            term: Term {
                start: d("2026-01-01"),
                end: d("2026-12-31"),
            },
            subscription: Subscription {
                id: "S".into(),
                plan: "annual".into(),
                auto_renew: true,
            },
            invoice_number: "I".into(),
            order_id: "O".into(),
            created_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            seats: Timeline::default(),
            version: 7,
            pending: None,
        }
    }

    fn body(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn parse_rejects_unknown_and_client_owned_fields() {
        let err = parse(body(
            json!({"emails": "a@example.com", "quantity": 3, "status": "x"}),
        ))
        .unwrap_err();
        let Error::Validation(errors) = err else {
            panic!()
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(
            fields.contains(&"quantity") && fields.contains(&"status"),
            "{fields:?}"
        );
    }

    #[test]
    fn parse_reports_invalid_entries_as_typed() {
        let err = parse(body(json!({"emails": "ok@example.com; nope ;x@"}))).unwrap_err();
        assert!(matches!(err, Error::InvalidEmails(v) if v == ["nope", "x@"]));
    }

    #[test]
    fn parse_limits_addresses() {
        let many: Vec<String> = (0..1001).map(|i| format!("u{i}@example.com")).collect();
        assert!(matches!(
            parse(body(json!({"emails": many}))),
            Err(Error::Validation(_))
        ));
        let ok: Vec<String> = (0..1000).map(|i| format!("u{i}@example.com")).collect();
        assert_eq!(
            parse(body(json!({"emails": ok}))).unwrap().emails.len(),
            1000
        );
        assert!(matches!(
            parse(body(json!({"emails": " ;\n"}))),
            Err(Error::Validation(_))
        ));
        assert!(matches!(
            parse(body(json!({"emails": 5}))),
            Err(Error::Validation(_))
        ));
        assert!(matches!(
            parse(body(json!({"emails": "a@example.com", "dryRun": "yes"}))),
            Err(Error::Validation(_))
        ));
    }

    #[test]
    fn plan_is_all_or_nothing_on_seats() {
        let lic = license(3);
        let emails: Vec<String> = (0..4).map(|i| format!("u{i}@example.com")).collect();
        let now: DateTime<Utc> = "2026-06-01T10:00:00Z".parse().unwrap();
        let req = Ask {
            emails: &emails,
            period: Period::new(d("2026-06-01"), d("2026-12-31")),
            now,
            by: "admin@example.com",
            language: Language::En,
        };
        assert!(matches!(
            plan(&lic, &HashMap::new(), &req),
            Err(Error::InsufficientSeats {
                requested: 4,
                available: 3
            })
        ));
        let req3 = Ask {
            emails: &emails[..3],
            ..req
        };
        let p = plan(&lic, &HashMap::new(), &req3).unwrap();
        assert_eq!(p.new.len(), 3);
        assert_eq!(p.license.version, 8);
        assert_eq!(
            p.license
                .seats
                .peak(Period::new(d("2026-06-01"), d("2026-12-31"))),
            3
        );
    }

    #[test]
    fn current_assignments_are_already_assigned_and_ended_ones_are_replaced_keeping_their_days() {
        let mut lic = license(1);
        let now: DateTime<Utc> = "2026-06-01T10:00:00Z".parse().unwrap();
        let ended = Period::new(d("2026-01-01"), d("2026-05-31"));
        lic.seats.add(ended, 1);
        let emails = vec!["a@example.com".to_string()];
        let req = Ask {
            emails: &emails,
            period: Period::new(d("2026-06-01"), d("2026-12-31")),
            now,
            by: "x",
            language: Language::En,
        };
        let mut old = plan(&lic, &HashMap::new(), &req).unwrap().new.remove(0);
        old.valid_from = ended.from;
        old.valid_until = ended.until;
        let existing = HashMap::from([(old.email.clone(), old.clone())]);
        let p = plan(&lic, &existing, &req).unwrap();
        assert_eq!(p.results[0].0, Outcome::Assigned);
        assert_eq!(p.new[0].former.len(), 1, "the old record is kept");
        assert_eq!(
            p.license.seats.count_on(d("2026-03-01")),
            1,
            "the days the ended assignment used stay used"
        );

        let mut current = old.clone();
        current.valid_until = d("2026-12-31");
        let existing = HashMap::from([(current.email.clone(), current)]);
        let p = plan(&lic, &existing, &req).unwrap();
        assert_eq!(p.results[0].0, Outcome::AlreadyAssigned);
        assert!(p.new.is_empty());
        assert_eq!(p.license.version, lic.version, "nothing to write");
    }
}
