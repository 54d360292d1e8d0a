//! Revoke: the seat is free from today on, the days used stay used, and an
//! invitation not sent yet never goes out. A rename (v3, SCIM) is a revoke
//! whose seat goes on under the new address, in the same transaction.

use chrono::{DateTime, Utc};

use super::retry::{Step, committed, retry_on_conflict};
use super::{AssignmentRef, Known, licence_and_assignments, on_known_assignment};
use crate::App;
use crate::error::Result;
use crate::model::{Action, Assignment, Entry, Invitation, InvitationError, License};
use crate::plan;
use crate::store::{OnRevoke, Write};

/// The revoked assignment (unchanged if it was revoked already). Its
/// invitation, if still pending, ends `not-sent`; unless a `notify` run is
/// sending it at this moment, which then records what it did.
pub async fn revoke(app: &App, target: AssignmentRef<'_>) -> Result<Assignment> {
    revoke_because(app, target, None, None).await
}

/// [`revoke`], with the reason its history entry gives (v3: an identity
/// provider's deprovisioning), deciding first on what the caller knows.
pub async fn revoke_because(
    app: &App,
    target: AssignmentRef<'_>,
    reason: Option<&str>,
    known: Known,
) -> Result<Assignment> {
    on_known_assignment("revoke", app, target, known, |license, a| async move {
        if a.is_revoked() {
            return Ok(Step::Done(a));
        }
        let now = app.now();
        let by = &target.admin.name;
        let (revoked, mut writes) = revoking(&license, &a, now, by, reason);
        if reason.is_none() {
            // An admin's own revoke of a rule's seat: out of the licence's rules.
            writes.extend(super::rule::exclusion(&a, now));
        }
        writes.insert(
            0,
            Write::License {
                license: plan::revoke(&license, &a, now.date_naive()),
                expected_version: Some(license.version),
            },
        );
        let done = committed(app.store.transact(&writes).await)?;
        if let Step::Done(()) = done {
            Box::pin(super::rule::seats_freed(app, &license)).await;
        }
        Ok(done.map(|()| revoked))
    })
    .await
}

/// Why a rename revokes and assigns (the history entries' `reason`).
pub const RENAMED: &str = "renamed";

/// What a rename's first attempt may decide on: the licence, then the old
/// address's assignment and the new one's (if any), read in that order.
pub type KnownMove = Option<(License, Assignment, Option<Assignment>)>;

/// Moves the seat of `target` to the address `to` for the rest of its
/// period (see [`plan::rename`]) in one transaction, both history entries
/// saying `renamed`; the new address is invited as an assign invites. A
/// seat that is revoked or has ended already stays as it is, so a retried
/// rename changes nothing more. Answers whether it moved (or revoked) one.
pub async fn rename(
    app: &App,
    target: AssignmentRef<'_>,
    to: &str,
    known: KnownMove,
) -> Result<bool> {
    let known = std::sync::Mutex::new(known.filter(|(license, ..)| !license.is_pending()));
    let addresses = [target.email.to_string(), to.to_string()];
    retry_on_conflict("rename", || async {
        let first = known.lock().ok().and_then(|mut k| k.take());
        let (license, a, holder) = match first {
            Some(read) => read,
            None => match licence_and_assignments(app, target.admin, target.license_id, &addresses)
                .await?
            {
                Step::Again => return Ok(Step::Again),
                Step::Done((license, mut found)) => match found.remove(target.email) {
                    Some(a) => (license, a, found.remove(to)),
                    None => return Ok(Step::Done(false)),
                },
            },
        };
        let now = app.now();
        if !a.is_current(now.date_naive()) {
            return Ok(Step::Done(false));
        }
        let by = &target.admin.name;
        let (after, moved) = plan::rename(&license, &a, holder.as_ref(), to, now, by);
        let (_, mut writes) = revoking(&license, &a, now, by, Some(RENAMED));
        writes
            .insert(0, Write::License { license: after, expected_version: Some(license.version) });
        if let Some(moved) = moved {
            let created =
                Entry::assignment(&license, now, by, Action::AssignmentCreated, None, &moved)
                    .because(Some(RENAMED));
            let created = match writes.last() {
                Some(Write::Entry(revoked)) => created.following(revoked),
                _ => created,
            };
            writes.extend([Write::Assignment(moved), Write::Entry(created)]);
        }
        Ok(committed(app.store.transact(&writes).await)?.map(|()| true))
    })
    .await
}

/// The revoke of `a` on `license` (its item and its history entry), and
/// the assignment as it will be.
pub(crate) fn revoking(
    license: &License,
    a: &Assignment,
    now: DateTime<Utc>,
    by: &str,
    reason: Option<&str>,
) -> (Assignment, Vec<Write>) {
    let invitation = OnRevoke::of(a, now.timestamp());
    let mut revoked = a.clone();
    revoked.revoked_at = Some(now);
    revoked.revoked_by = Some(by.to_string());
    if let OnRevoke::Cancel { .. } = invitation {
        revoked.invitation = Invitation::failed(InvitationError::NotSent);
    }
    let entry = Entry::assignment(license, now, by, Action::AssignmentRevoked, Some(a), &revoked)
        .because(reason);
    let writes = vec![
        Write::Revoke {
            customer_id: license.customer_id.clone(),
            license_id: license.license_id.clone(),
            email: a.email.clone(),
            at: now,
            by: by.to_string(),
            invitation,
            undo: None,
            unused: None,
        },
        Write::Entry(entry),
    ];
    (revoked, writes)
}
