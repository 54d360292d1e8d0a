//! The use cases: each takes typed input and answers a typed outcome or an
//! [`Error`], speaking domain, never HTTP. They read what they need, let the
//! pure rules (`plan`, `model`) decide, and commit through the store under
//! the optimistic loop of [`retry`]. The HTTP handlers (`api`), `provision`
//! and `notify` call them.

pub mod activity;
pub mod assign;
pub mod budget;
pub mod bulk;
pub mod change;
pub mod deliver;
pub mod deprovision;
pub mod directory;
pub mod fanout;
pub mod finish;
pub mod groups;
pub mod history;
pub mod idle;
pub mod lifecycle;
pub mod links;
pub mod notices;
pub mod notify;
pub mod once;
pub mod outbox;
pub mod pending;
pub mod provision;
pub mod query;
pub mod reclaim;
pub mod remind;
pub mod resend;
pub mod retry;
pub mod revoke;
pub mod rule;
pub mod tokens;
pub mod webhooks;

use std::collections::HashMap;

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
    let email = emails::normalize(target.email);
    let lookup = [email.as_deref().unwrap_or("-").to_string()];
    let read = licence_and_assignments(app, target.admin, target.license_id, &lookup);
    Ok(match read.await? {
        Step::Done((license, mut found)) => {
            let assignment = found
                .remove(&lookup[0])
                .filter(|_| email.is_some())
                .ok_or(Error::AssignmentNotFound)?;
            Step::Done((license, assignment))
        }
        Step::Again => Step::Again,
    })
}

/// A licence of the caller's customer and the assignments of `emails`
/// (normalised already) on it, read strongly consistently, the licence
/// first; a pending bulk batch is finished first (then: read again).
pub(crate) async fn licence_and_assignments(
    app: &App,
    admin: &Admin,
    license_id: &str,
    emails: &[String],
) -> Result<Step<(License, HashMap<String, Assignment>)>> {
    known_license_id(license_id)?;
    let (license, found) =
        app.store.license_and_assignments(&admin.customer_id, license_id, emails).await?;
    let license = license.ok_or(Error::LicenseNotFound)?;
    if license.is_pending() {
        finish::finish_for_request(app, &license).await?;
        return Ok(Step::Again);
    }
    Ok(Step::Done((license, found)))
}

/// A licence and an assignment on it that the caller has read already (the
/// licence first, both strongly consistently): the first attempt of an
/// operation decides on them instead of reading them again.
pub(crate) type Known = Option<(License, Assignment)>;

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
    on_known_assignment(what, app, target, None, decide).await
}

/// [`on_assignment`], deciding first on what the caller knows (unless its
/// licence has an operation pending, which a read finishes first).
pub(crate) async fn on_known_assignment<T, F, Fut>(
    what: &str,
    app: &App,
    target: AssignmentRef<'_>,
    known: Known,
    decide: F,
) -> Result<T>
where
    F: Fn(License, Assignment) -> Fut,
    Fut: Future<Output = Result<Step<T>>>,
{
    let known = std::sync::Mutex::new(known.filter(|(license, _)| !license.is_pending()));
    retry_on_conflict(what, || async {
        let first = known.lock().ok().and_then(|mut k| k.take());
        let read = match first {
            Some(read) => Step::Done(read),
            None => licence_and_assignment(app, target).await?,
        };
        match read {
            Step::Done((license, assignment)) => decide(license, assignment).await,
            Step::Again => Ok(Step::Again),
        }
    })
    .await
}
