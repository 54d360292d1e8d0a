//! Revoke: the seat is free from today on, the days used stay used, and an
//! invitation not sent yet never goes out.

use super::retry::{Step, committed};
use super::{AssignmentRef, on_assignment};
use crate::App;
use crate::error::Result;
use crate::model::{Assignment, Invitation, InvitationError, InvitationStatus};
use crate::plan;
use crate::store::Write;

/// The revoked assignment (unchanged if it was revoked already).
pub async fn revoke(app: &App, target: AssignmentRef<'_>) -> Result<Assignment> {
    on_assignment("revoke", app, target, |license, mut a| async move {
        if a.is_revoked() {
            return Ok(Step::Done(a));
        }
        let now = app.now();
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
                by: target.admin.name.clone(),
                invitation: a.invitation.status,
            },
        ];
        Ok(committed(app.store.transact(&writes).await)?.map(|()| {
            a.revoked_at = Some(now);
            a.revoked_by = Some(target.admin.name.clone());
            if a.invitation.status == InvitationStatus::Pending {
                a.invitation = Invitation::failed(InvitationError::NotSent);
            }
            a
        }))
    })
    .await
}
