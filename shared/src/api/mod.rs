//! One handler per Lambda function. Each decodes the request, asks the store
//! and the pure rules, and answers; none formats keys or status codes itself.

pub mod assign;
pub mod change;
pub mod list;
pub mod revoke;

use std::collections::HashMap;
use std::time::Duration;

use chrono::NaiveDate;
use lambda_http::{Body, Request, Response};

use crate::emails;
use crate::error::{Error, FieldError, Result};
use crate::http::identity::{self, Admin, Caller};
use crate::http::request::{self, Route};
use crate::http::respond;
use crate::model::{Assignment, InvitationStatus, License, Period, Term};
use crate::store::{TxError, Write, MAX_TRANSACTION_ITEMS};
use crate::App;

/// How often an operation re-reads and retries when another request changed
/// the same licence between its read and its commit.
pub(crate) const MAX_ATTEMPTS: u32 = 40;

/// Routing, identity and problem mapping around one function's operations.
pub(crate) async fn serve<F, Fut>(app: &App, req: Request, dispatch: F) -> Response<Body>
where
    F: FnOnce(Route, Caller) -> Fut,
    Fut: std::future::Future<Output = Result<Response<Body>>>,
{
    let route = request::route(&req);
    let (operation, license_id) = match &route {
        // Only ids that could be ours: a path is caller input, not a log line.
        Ok(r) => (
            r.name(),
            r.license_id()
                .filter(|id| check_license_id(id).is_ok())
                .map(str::to_string),
        ),
        Err(_) => ("unknown-route", None),
    };
    let mut customer = None;
    let result = async {
        let route = route?;
        if let Route::Preflight(allowed) = route {
            return Ok(preflight(allowed));
        }
        let caller = identity::caller(&req, app.auth)?;
        customer = caller.customer_id.clone();
        dispatch(route, caller).await
    }
    .await;
    // The problem's slug, or "ok": what an operator filters on.
    let outcome = match &result {
        Ok(_) => "ok",
        Err(e) => crate::http::problem::describe(e).0,
    };
    let response = respond(result);
    // One line per request; never tokens, bodies or e-mail addresses.
    tracing::info!(
        operation,
        license_id = license_id.as_deref(),
        customer_id = customer.as_deref(),
        status = response.status().as_u16(),
        outcome,
        "request handled"
    );
    response
}

/// `OPTIONS`: 204 with the path's methods. Browsers send it without a token
/// before a cross-origin request; API Gateway adds the CORS headers (for the
/// configured origins only) to this answer, so it needs no identity.
fn preflight(allowed: &[&str]) -> Response<Body> {
    Response::builder()
        .status(lambda_http::http::StatusCode::NO_CONTENT)
        .header("allow", allowed.join(", "))
        .body(Body::Empty)
        .expect("static headers are valid")
}

/// Licence ids are opaque, but never anything that could bend a key.
pub(crate) fn check_license_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::LicenseNotFound)
    }
}

/// The e-mail of a path segment, normalised like stored addresses.
pub(crate) fn path_email(raw: &str) -> Option<String> {
    emails::normalize(raw)
}

/// Checks a requested access period against the contract's rules.
pub fn check_period(term: &Term, period: Period, today: NaiveDate) -> Result<Period> {
    let mut errors = Vec::new();
    if period.from < term.start || period.from > term.end {
        errors.push(FieldError::new(
            "validFrom",
            format!(
                "must lie inside the licence term {} .. {}",
                term.start, term.end
            ),
        ));
    }
    if period.until > term.end || period.until < term.start {
        errors.push(FieldError::new(
            "validUntil",
            format!(
                "must lie inside the licence term {} .. {}",
                term.start, term.end
            ),
        ));
    }
    if period.from > period.until {
        errors.push(FieldError::new("validFrom", "must not be after validUntil"));
    }
    if period.until < today {
        errors.push(FieldError::new(
            "validUntil",
            format!("must not be before today ({today})"),
        ));
    }
    if errors.is_empty() {
        Ok(period)
    } else {
        Err(Error::Validation(errors))
    }
}

/// A short, jittered pause before retrying a conflicting commit.
/// Exponential backoff with "equal jitter" (half fixed, half random, capped
/// at 160 ms): under a crowd of writers on one licence the retries spread out
/// instead of arriving together and conflicting again.
pub(crate) async fn backoff(attempt: u32) {
    let cap = 5u64 << attempt.min(5);
    let random = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()))
        .unwrap_or(0);
    let wait = cap / 2 + random % (cap / 2 + 1);
    tokio::time::sleep(Duration::from_millis(wait)).await;
}

/// The commit of one optimistic attempt.
pub(crate) enum Commit<T> {
    Done(T),
    Retry,
}

pub(crate) fn commit_result(result: std::result::Result<(), TxError>) -> Result<Commit<()>> {
    match result {
        Ok(()) => Ok(Commit::Done(())),
        Err(TxError::Condition(_)) | Err(TxError::Busy) => Ok(Commit::Retry),
        Err(TxError::Failed(e)) => Err(e),
    }
}

/// The assignment items of a pending bulk batch.
pub(crate) fn batch_assignments(license: &License) -> Vec<Assignment> {
    let Some(batch) = &license.pending else {
        return Vec::new();
    };
    batch
        .emails
        .iter()
        .map(|email| {
            let mut a = Assignment::new(
                license,
                email,
                batch.period,
                batch.assigned_at,
                &batch.assigned_by,
                batch.language,
                InvitationStatus::Pending,
            );
            a.batch = Some(batch.id.clone());
            a
        })
        .collect()
}

/// Finishes a bulk batch whose seats are reserved on `license`: writes its
/// assignment items (each chunk only while the batch is still pending, so a
/// late writer can never overwrite later changes), then clears the marker.
/// Whoever meets a pending batch calls this first, so a crashed request is
/// finished by the next one instead of staying half-written.
///
/// `known`: the assignments the batch replaces, when the caller has just read
/// them (the request that reserved the batch); others read them per chunk.
pub(crate) async fn complete_batch(
    app: &App,
    license: &License,
    known: Option<&HashMap<String, Assignment>>,
) -> Result<()> {
    let Some(batch) = &license.pending else {
        return Ok(());
    };
    let assignments = batch_assignments(license);
    for chunk in assignments.chunks(MAX_TRANSACTION_ITEMS - 1) {
        // The assignments a chunk replaces stay readable inside the new items
        // until the batch is complete (a retried chunk keeps what it kept).
        let mut existing = match known {
            Some(known) => chunk
                .iter()
                .filter_map(|a| Some((a.email.clone(), known.get(&a.email)?.clone())))
                .collect(),
            None => {
                let emails: Vec<String> = chunk.iter().map(|a| a.email.clone()).collect();
                app.store
                    .license_and_assignments(&license.customer_id, &license.license_id, &emails)
                    .await?
                    .1
            }
        };
        let chunk = chunk
            .iter()
            .cloned()
            .map(|a| match existing.remove(&a.email) {
                None => a,
                // A retried chunk keeps what the first attempt kept.
                Some(old) if old.batch == a.batch => Assignment {
                    previous: old.previous,
                    former: old.former,
                    ..a
                },
                Some(mut old) => {
                    let mut a = a.replacing(&old);
                    // One level only: the record of older ones is in `former`.
                    old.previous = None;
                    a.previous = Some(Box::new(old));
                    a
                }
            });
        let mut writes = Vec::with_capacity(MAX_TRANSACTION_ITEMS);
        writes.push(Write::BatchStillPending {
            customer_id: license.customer_id.clone(),
            license_id: license.license_id.clone(),
            batch_id: batch.id.clone(),
        });
        writes.extend(chunk.map(Write::Assignment));
        let mut attempt = 0;
        loop {
            match app.store.transact(&writes).await {
                Ok(()) => break,
                // Someone else finished the batch already.
                Err(TxError::Condition(_)) => return Ok(()),
                Err(TxError::Busy) if attempt < MAX_ATTEMPTS => {
                    backoff(attempt).await;
                    attempt += 1;
                }
                Err(TxError::Busy) => {
                    return Err(Error::Unavailable("batch chunk kept conflicting".into()))
                }
                Err(TxError::Failed(e)) => return Err(e),
            }
        }
    }
    let mut done = license.clone();
    done.pending = None;
    done.version += 1;
    let clear = [Write::License {
        license: done,
        expected_version: Some(license.version),
    }];
    let mut attempt = 0;
    loop {
        match app.store.transact(&clear).await {
            Ok(()) | Err(TxError::Condition(_)) => return Ok(()),
            Err(TxError::Busy) if attempt < MAX_ATTEMPTS => {
                backoff(attempt).await;
                attempt += 1;
            }
            Err(TxError::Busy) => {
                return Err(Error::Unavailable(
                    "batch completion kept conflicting".into(),
                ))
            }
            Err(TxError::Failed(e)) => return Err(e),
        }
    }
}

/// Loads a licence and one assignment for a change, finishing any pending
/// batch first. `Ok(None)` means "read again".
pub(crate) async fn load_assignment(
    app: &App,
    admin: &Admin,
    license_id: &str,
    email: &str,
) -> Result<Option<(License, Option<Assignment>)>> {
    let (license, mut found) = app
        .store
        .license_and_assignments(&admin.customer_id, license_id, &[email.to_string()])
        .await?;
    let license = license.ok_or(Error::LicenseNotFound)?;
    if license.pending.is_some() {
        complete_batch(app, &license, None).await?;
        return Ok(None);
    }
    Ok(Some((license, found.remove(email))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Days;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn term() -> Term {
        Term {
            start: d("2026-01-01"),
            end: d("2026-12-31"),
        }
    }

    fn fields(result: Result<Period>) -> Vec<String> {
        match result {
            Err(Error::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn periods_inside_the_term_that_have_not_ended_are_accepted() {
        let today = d("2026-06-15");
        let p = Period::new(d("2026-01-01"), d("2026-12-31"));
        assert_eq!(check_period(&term(), p, today), Ok(p));
        let one_day = Period::new(today, today);
        assert_eq!(check_period(&term(), one_day, today), Ok(one_day));
    }

    #[test]
    fn each_broken_rule_names_its_field() {
        let today = d("2026-06-15");
        let t = term();
        assert_eq!(
            fields(check_period(
                &t,
                Period::new(d("2025-12-31"), d("2026-03-01")),
                today
            )),
            ["validFrom", "validUntil"]
        );
        assert_eq!(
            fields(check_period(
                &t,
                Period::new(d("2026-07-01"), d("2027-01-01")),
                today
            )),
            ["validUntil"]
        );
        assert_eq!(
            fields(check_period(
                &t,
                Period::new(d("2026-07-02"), d("2026-07-01")),
                today
            )),
            ["validFrom"]
        );
        assert_eq!(
            fields(check_period(
                &t,
                Period::new(d("2026-01-01"), d("2026-06-14")),
                today
            )),
            ["validUntil"]
        );
    }

    proptest! {
        /// Whatever is accepted lies inside the term, is ordered, and has not ended.
        #[test]
        fn accepted_periods_obey_every_rule(a in 0u64..500, b in 0u64..500, t in 0u64..500) {
            let base = d("2025-10-01");
            let (from, until, today) = (base + Days::new(a), base + Days::new(b), base + Days::new(t));
            if let Ok(p) = check_period(&term(), Period::new(from, until), today) {
                prop_assert!(p.within(&term().period()));
                prop_assert!(p.from <= p.until);
                prop_assert!(p.until >= today);
            } else {
                let ok = from >= term().start && until <= term().end && from <= until && until >= today;
                prop_assert!(!ok, "a valid period was refused");
            }
        }

        /// Exactly one status applies, revocation wins, the others follow the dates.
        #[test]
        fn assignment_status_is_a_function_of_dates(a in 0u64..100, len in 0u64..50, t in 0u64..150, revoked: bool) {
            use crate::model::AssignmentStatus as S;
            let base = d("2026-01-01");
            let p = Period::new(base + Days::new(a), base + Days::new(a + len));
            let today = base + Days::new(t);
            let status = S::of(&p, revoked, today);
            let expected = if revoked { S::Revoked } else if today < p.from { S::Scheduled } else if today > p.until { S::Expired } else { S::Active };
            prop_assert_eq!(status, expected);
        }
    }
}
