//! Revoke: the seat is free from today on, the days used stay used, and an
//! invitation not sent yet never goes out.

use super::retry::{Step, committed};
use super::{AssignmentRef, on_assignment};
use crate::App;
use crate::error::Result;
use crate::model::{Action, Assignment, Entry, Invitation, InvitationError};
use crate::plan;
use crate::store::{OnRevoke, Write};

/// The revoked assignment (unchanged if it was revoked already). Its
/// invitation, if still pending, ends `not-sent`; unless a `notify` run is
/// sending it at this moment, which then records what it did.
pub async fn revoke(app: &App, target: AssignmentRef<'_>) -> Result<Assignment> {
    revoke_because(app, target, None).await
}

/// [`revoke`], with the reason its history entry gives (v3: an identity
/// provider's deprovisioning).
pub async fn revoke_because(
    app: &App,
    target: AssignmentRef<'_>,
    reason: Option<&str>,
) -> Result<Assignment> {
    on_assignment("revoke", app, target, |license, a| async move {
        if a.is_revoked() {
            return Ok(Step::Done(a));
        }
        let now = app.now();
        let by = &target.admin.name;
        let invitation = OnRevoke::of(&a, now.timestamp());
        let mut revoked = a.clone();
        revoked.revoked_at = Some(now);
        revoked.revoked_by = Some(by.clone());
        if let OnRevoke::Cancel { .. } = invitation {
            revoked.invitation = Invitation::failed(InvitationError::NotSent);
        }
        let entry =
            Entry::assignment(&license, now, by, Action::AssignmentRevoked, Some(&a), &revoked)
                .because(reason);
        let writes = [
            Write::License {
                license: plan::revoke(&license, &a, now.date_naive()),
                expected_version: Some(license.version),
            },
            Write::Revoke {
                customer_id: license.customer_id.clone(),
                license_id: license.license_id.clone(),
                email: a.email.clone(),
                at: now,
                by: by.clone(),
                invitation,
                undo: None,
            },
            Write::Entry(entry),
        ];
        Ok(committed(app.store.transact(&writes).await)?.map(|()| revoked))
    })
    .await
}
