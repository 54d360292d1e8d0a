//! The use cases: each takes typed input and answers a typed outcome or an
//! [`Error`], speaking domain, never HTTP. They read what they need, let the
//! pure rules (`plan`, `model`) decide, and commit through the store under
//! the optimistic loop of [`retry`]. The HTTP handlers (`api`), `provision`
//! and `notify` call them.

pub mod assign;
pub mod budget;
pub mod bulk;
pub mod change;
pub mod fanout;
pub mod history;
pub mod lifecycle;
pub mod notify;
pub mod provision;
pub mod query;
pub mod remind;
pub mod resend;
pub mod retry;
pub mod revoke;

use crate::App;
use crate::emails;
use crate::error::{Error, Result};
use crate::model::{self, Admin, Assignment, License};
use retry::{Step, retry_on_conflict};

/// `Err(LicenseNotFound)` for an id this API could never have issued.
pub(crate) fn known_license_id(id: &str) -> Result<()> {
    if model::is_license_id(id) { Ok(()) } else { Err(Error::LicenseNotFound) }
}

/// One assignment of the caller's customer, as an operation on it names it.
#[derive(Clone, Copy, Debug)]
pub struct AssignmentRef<'a> {
    pub admin: &'a Admin,
    pub license_id: &'a str,
    /// As given (a path segment): normalised before it is looked up.
    pub email: &'a str,
}

impl<'a> AssignmentRef<'a> {
    pub fn new(admin: &'a Admin, license_id: &'a str, email: &'a str) -> Self {
        Self { admin, license_id, email }
    }
}

/// A licence and the assignment of one address on it, read strongly
/// consistently, for a change of that assignment. A pending bulk batch is
/// finished first (then: read again). An address that is no valid address
/// has no assignment.
pub(crate) async fn licence_and_assignment(
    app: &App,
    target: AssignmentRef<'_>,
) -> Result<Step<(License, Assignment)>> {
    let AssignmentRef { admin, license_id, .. } = target;
    known_license_id(license_id)?;
    let email = emails::normalize(target.email);
    let lookup = email.as_deref().unwrap_or("-");
    let (license, mut found) = app
        .store
        .license_and_assignments(&admin.customer_id, license_id, &[lookup.to_string()])
        .await?;
    let license = license.ok_or(Error::LicenseNotFound)?;
    if license.is_pending() {
        finish_pending_for_request(app, &license).await?;
        return Ok(Step::Again);
    }
    let assignment =
        found.remove(lookup).filter(|_| email.is_some()).ok_or(Error::AssignmentNotFound)?;
    Ok(Step::Done((license, assignment)))
}

/// How long an HTTP request may spend finishing another operation's work
/// (API.md v3, "Bounded requests").
pub const FINISHING_BUDGET: std::time::Duration = std::time::Duration::from_secs(2);
/// What a request that ran out of it tells its client to wait, in seconds.
pub const OPERATION_PENDING_RETRY_AFTER: u32 = 2;

/// [`finish_pending`] for an HTTP request. A fan-out (a renewal's or
/// cancellation's moves, without bound in size) gets at most
/// [`FINISHING_BUDGET`], then 503 `operation-pending`: what it finished
/// stays done (every chunk is its own conditional transaction, so one cut
/// short by the deadline is either written or not), and the next finisher
/// queries only what is left to move, so every attempt makes progress. A
/// bulk batch a crashed request left (1000 addresses at most, some twenty
/// transactions) is finished whole: its completion writes every chunk
/// again, so cutting it would let no attempt get further than the last.
pub(crate) async fn finish_pending_for_request(app: &App, license: &License) -> Result<()> {
    if license.pending.is_some() {
        return finish_pending(app, license).await;
    }
    match tokio::time::timeout(FINISHING_BUDGET, finish_pending(app, license)).await {
        Ok(finished) => finished,
        Err(_) => {
            tracing::warn!(license_id = %license.license_id, "operation still pending after the finishing budget");
            Err(Error::OperationPending { retry_after: OPERATION_PENDING_RETRY_AFTER })
        }
    }
}

/// How old a pending operation must be before the minute's finisher takes
/// it on: its own request or invocation is done with it by then, or dead.
pub const STALLED_AFTER_SECONDS: i64 = 30;

/// The minute's finisher: every operation still pending that started over
/// [`STALLED_AFTER_SECONDS`] before `now` (its writer died, and no request
/// came by), finished. Answers how many it finished.
pub async fn finish_stalled(app: &App, now: chrono::DateTime<chrono::Utc>) -> Result<u32> {
    let before = now - chrono::Duration::seconds(STALLED_AFTER_SECONDS);
    let mut finished = 0;
    for (customer_id, license_id) in app.store.stalled_operations(before).await? {
        // Read again, strongly: the index may be behind.
        let Some(license) = app.store.license(&customer_id, &license_id).await? else {
            continue;
        };
        if license.pending.is_some() || license.fanout.is_some() {
            finish_pending(app, &license).await?;
            tracing::info!(%license_id, "finished an operation its writer left");
            finished += 1;
        }
    }
    Ok(finished)
}

/// Finishes the operation still being written on `license` (a bulk batch,
/// a renewal's or cancellation's fan-out): every writer does that before it
/// decides anything, so a crashed operation never stays half-done.
pub(crate) async fn finish_pending(app: &App, license: &License) -> Result<()> {
    if license.pending.is_some() {
        bulk::complete(app, license, None).await
    } else {
        fanout::complete(app, license).await
    }
}

/// The optimistic loop of an operation on one assignment: read the licence
/// and the assignment, let `decide` decide and commit, again on a conflict.
pub(crate) async fn on_assignment<T, F, Fut>(
    what: &str,
    app: &App,
    target: AssignmentRef<'_>,
    decide: F,
) -> Result<T>
where
    F: Fn(License, Assignment) -> Fut,
    Fut: Future<Output = Result<Step<T>>>,
{
    retry_on_conflict(what, || async {
        match licence_and_assignment(app, target).await? {
            Step::Done((license, assignment)) => decide(license, assignment).await,
            Step::Again => Ok(Step::Again),
        }
    })
    .await
}
