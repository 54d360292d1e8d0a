//! A customer's directory, as its identity provider keeps it over SCIM
//! (API.md v3): people created, changed and removed, and the one effect on
//! seats built so far: a person deactivated or removed loses every seat of
//! their seat address at this customer that has not ended, each licence's
//! revocation exactly an admin's (the days used stay used, an invitation
//! not sent yet is never sent), by `scim:<tokenId>`, for `deprovisioned`.
//!
//! The seats go first, then the directory: a request cut in between leaves
//! the person as they were, and the identity provider's retry revokes what
//! is left (a revoked seat is answered as it is) and then writes them.

use chrono::SubsecRound;

use super::AssignmentRef;
use super::retry::{Step, retry_on_conflict};
use super::revoke::revoke_because;
use super::tokens::Machine;
use crate::App;
use crate::error::{Error, Result};
use crate::model::{Admin, DirectoryUser, kept_user_name};
use crate::store::{DirectoryConflict, DirectoryConflictOr};

/// Why a deprovisioning revokes (the history entry's `reason`).
pub const DEPROVISIONED: &str = "deprovisioned";

/// What a person is, as the identity provider sends them (no id, no dates).
pub type Person = DirectoryUser;

/// A directory write's outcome as a step of the optimistic loop.
fn step(result: std::result::Result<(), DirectoryConflictOr>, user_name: &str) -> Result<Step<()>> {
    match result {
        Ok(()) => Ok(Step::Done(())),
        Err(DirectoryConflictOr::Conflict(DirectoryConflict::Changed)) => Ok(Step::Again),
        Err(DirectoryConflictOr::Conflict(DirectoryConflict::UserName)) => {
            Err(Error::Uniqueness(format!("userName {user_name}")))
        }
        Err(DirectoryConflictOr::Conflict(DirectoryConflict::SeatAddress)) => {
            Err(Error::Uniqueness("the seat address".into()))
        }
        Err(DirectoryConflictOr::Failed(e)) => Err(e),
    }
}

/// Adds a person to the machine's customer's directory.
pub async fn create(app: &App, m: &Machine, p: Person) -> Result<DirectoryUser> {
    let now = app.now().trunc_subsecs(0);
    let user = DirectoryUser {
        id: format!("usr_{}", ulid::Ulid::new().to_string().to_ascii_lowercase()),
        customer_id: m.customer_id.clone(),
        user_name: kept_user_name(&p.user_name),
        created: now,
        last_modified: now,
        version: 1,
        ..p
    };
    match step(app.store.save_directory_user(None, &user).await, &user.user_name)? {
        Step::Done(()) => Ok(user),
        Step::Again => Err(Error::Uniqueness(format!("the id {}", user.id))),
    }
}

/// One person of the machine's customer's directory.
pub async fn get(app: &App, m: &Machine, id: &str) -> Result<DirectoryUser> {
    app.store.directory_user(&m.customer_id, id).await?.ok_or(Error::UserNotFound)
}

/// Changes a person as `edit` says (a PUT's replacement, a PATCH's
/// operations), under the version read; a person who ends up inactive loses
/// their seats first.
pub async fn change<F>(app: &App, m: &Machine, id: &str, edit: F) -> Result<DirectoryUser>
where
    F: Fn(&DirectoryUser) -> Result<DirectoryUser>,
{
    retry_on_conflict("scim change", || async {
        let old = get(app, m, id).await?;
        let mut new = edit(&old)?;
        new.id = old.id.clone();
        new.customer_id = old.customer_id.clone();
        new.user_name = kept_user_name(&new.user_name);
        new.created = old.created;
        new.version = old.version + 1;
        new.last_modified = app.now().trunc_subsecs(0);
        if !new.active {
            // Whatever the request changed, an inactive person holds no seat.
            if let Some(address) = old.seat_address() {
                deprovision(app, m, &address).await?;
            }
        }
        let saved = step(app.store.save_directory_user(Some(&old), &new).await, &new.user_name)?;
        Ok(saved.map(|()| new.clone()))
    })
    .await
}

/// Removes a person, after their seats.
pub async fn remove(app: &App, m: &Machine, id: &str) -> Result<()> {
    retry_on_conflict("scim delete", || async {
        let old = get(app, m, id).await?;
        if let Some(address) = old.seat_address() {
            deprovision(app, m, &address).await?;
        }
        step(app.store.delete_directory_user(&old).await, &old.user_name)
    })
    .await
}

/// Revokes every non-revoked, not-ended assignment of `address` at the
/// machine's customer: the customer's licences and the address's
/// assignments on them read strongly consistently (one Query, one
/// BatchGetItem per 100 licences), then each licence's revoke. Answers how
/// many it revoked.
pub async fn deprovision(app: &App, m: &Machine, address: &str) -> Result<usize> {
    let customer = &m.customer_id;
    let ids = app.store.license_ids(customer).await?;
    let today = app.today();
    let held = app.store.assignments_of(customer, &ids, address).await?;
    let actor = Admin { customer_id: customer.clone(), name: m.actor() };
    let mut revoked = 0;
    for a in held.iter().filter(|a| a.is_current(today)) {
        let target = AssignmentRef::new(&actor, &a.license_id, &a.email);
        revoke_because(app, target, Some(DEPROVISIONED)).await?;
        revoked += 1;
    }
    if revoked > 0 {
        tracing::info!(customer_id = %customer, revoked, "seats of a deprovisioned person revoked");
    }
    Ok(revoked)
}
