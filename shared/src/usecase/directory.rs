//! A customer's directory, as its identity provider keeps it over SCIM
//! (API.md v3): people created, changed and removed, and what that does to
//! their seats at this customer (see [`super::deprovision`]): a person
//! deactivated or removed loses every seat of their seat address that has
//! not ended, by `scim:<tokenId>`, for `deprovisioned`; a person whose seat
//! address changes has each such seat moved to the new one, for `renamed`.
//!
//! A deactivation revokes first and then writes the person: a request cut
//! in between leaves the person as they were, and the identity provider's
//! retry revokes what is left (a revoked seat is answered as it is) and
//! then writes them. A rename writes the person first, with both addresses
//! claimed and the old one recorded, then moves the seats, then lets the
//! old address go: whatever comes next for the person completes it first.

use chrono::SubsecRound;

use super::deprovision::{deprovision, move_seats};
use super::retry::{Step, retry_on_conflict};
use super::rule;
use super::tokens::Machine;
use crate::App;
use crate::error::{Error, Result};
use crate::model::{DirectoryUser, kept_user_name};
use crate::store::{DirectoryConflict, DirectoryConflictOr};

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
    if !crate::model::is_resource_id(id) {
        return Err(Error::UserNotFound);
    }
    app.store.directory_user(&m.customer_id, id).await?.ok_or(Error::UserNotFound)
}

/// Changes a person as `edit` says (a PUT's replacement, a PATCH's
/// operations), under the version read. A person who ends up inactive loses
/// their seats first. A person whose seat address changes keeps both
/// addresses claimed while their seats move (the record says where from),
/// and then only the new one; a rename cut in between is completed by the
/// next change or removal of the person, the identity provider's retry
/// first of all.
pub async fn change<F>(app: &App, m: &Machine, id: &str, edit: F) -> Result<DirectoryUser>
where
    F: Fn(&DirectoryUser) -> Result<DirectoryUser>,
{
    retry_on_conflict("scim change", || async {
        let old = get(app, m, id).await?;
        if old.moving_from.is_some() {
            complete_move(app, m, &old).await?;
            return Ok(Step::Again);
        }
        let mut new = edit(&old)?;
        new.id = old.id.clone();
        new.customer_id = old.customer_id.clone();
        new.user_name = kept_user_name(&new.user_name);
        new.created = old.created;
        new.version = old.version + 1;
        new.last_modified = app.now().trunc_subsecs(0);
        new.moving_from = None;
        let from = old.active_seat_address();
        if !new.is_active() {
            // Whatever the request changed, an inactive person holds no seat,
            // and waits for none (v3).
            if let Some(address) = &from {
                deprovision(app, m, address).await?;
                Box::pin(rule::person(app, &m.customer_id, &old.id, address, false)).await?;
            }
        } else if let Some(from) = from.clone().filter(|f| new.seat_address().as_ref() != Some(f)) {
            new.moving_from = Some(from);
            return match step(
                app.store.save_directory_user(Some(&old), &new).await,
                &new.user_name,
            )? {
                Step::Done(()) => complete_move(app, m, &new).await,
                Step::Again => Ok(Step::Again),
            };
        }
        let saved = step(app.store.save_directory_user(Some(&old), &new).await, &new.user_name)?;
        if let (Step::Done(()), None, Some(address)) = (&saved, &from, new.active_seat_address()) {
            // Active again (or able to hold a seat at last): their linked groups' rules seat them.
            Box::pin(rule::person(app, &m.customer_id, &new.id, &address, true)).await?;
        }
        Ok(saved.map(|()| new.clone()))
    })
    .await
}

/// Moves the seats of a person whose rename is in progress to their seat
/// address now, then lets the old address go.
async fn complete_move(app: &App, m: &Machine, u: &DirectoryUser) -> Result<Step<DirectoryUser>> {
    let Some(from) = &u.moving_from else { return Ok(Step::Done(u.clone())) };
    move_seats(app, m, from, u.active_seat_address().as_deref()).await?;
    let done = DirectoryUser { moving_from: None, version: u.version + 1, ..u.clone() };
    let saved = step(app.store.save_directory_user(Some(u), &done).await, &u.user_name)?;
    Ok(saved.map(|()| done))
}

/// Removes a person, after their seats (and a rename in progress).
pub async fn remove(app: &App, m: &Machine, id: &str) -> Result<()> {
    retry_on_conflict("scim delete", || async {
        let old = get(app, m, id).await?;
        if old.moving_from.is_some() {
            complete_move(app, m, &old).await?;
            return Ok(Step::Again);
        }
        if let Some(address) = old.active_seat_address() {
            deprovision(app, m, &address).await?;
            Box::pin(rule::person(app, &m.customer_id, &old.id, &address, false)).await?;
        }
        step(app.store.delete_directory_user(&old).await, &old.user_name)
    })
    .await
}
