//! The use cases: each takes typed input and answers a typed outcome or an
//! [`Error`], speaking domain, never HTTP. They read what they need, let the
//! pure rules (`plan`, `model`) decide, and commit through the store under
//! the optimistic loop of [`retry`]. The HTTP handlers (`api`), `provision`
//! and `notify` call them.

pub mod assign;
pub mod budget;
pub mod bulk;
pub mod change;
pub mod directory;
pub mod fanout;
pub mod finish;
pub mod history;
pub mod lifecycle;
pub mod notices;
pub mod notify;
pub mod once;
pub mod pending;
pub mod provision;
pub mod query;
pub mod remind;
pub mod resend;
pub mod retry;
pub mod revoke;
pub mod tokens;

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
        finish::finish_for_request(app, &license).await?;
        return Ok(Step::Again);
    }
    let assignment =
        found.remove(lookup).filter(|_| email.is_some()).ok_or(Error::AssignmentNotFound)?;
    Ok(Step::Done((license, assignment)))
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
