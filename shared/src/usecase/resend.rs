//! Resend: the invitation again, at most every 10 minutes (a failed one at
//! once).

use chrono::{DateTime, NaiveTime, Utc};

use super::retry::committed;
use super::{AssignmentRef, on_assignment};
use crate::App;
use crate::error::{Error, Result};
use crate::model::{
    Action, Assignment, Entry, Invitation, InvitationError, InvitationStatus, State,
};
use crate::store::Write;

/// How long after an invitation another may be asked for (API.md, Limits).
pub const RESEND_COOLDOWN_SECONDS: i64 = 600;

/// The assignment, its invitation pending again.
pub async fn resend(app: &App, target: AssignmentRef<'_>) -> Result<Assignment> {
    on_assignment("resend", app, target, |license, mut a| async move {
        a.ensure_not_revoked()?;
        let now = app.now();
        if let Some(wait) = wait(&a, now) {
            return Err(Error::RateLimited { retry_after: wait });
        }
        let pending = Invitation::new(InvitationStatus::Pending);
        let entry = Entry::new(&license, now, &target.admin.name, Action::InvitationResent)
            .about(&a.email)
            .before(State::Invitation(a.invitation.clone()))
            .after(State::Invitation(pending));
        let writes = [
            Write::Reinvite {
                customer_id: license.customer_id.clone(),
                license_id: license.license_id.clone(),
                email: a.email.clone(),
                at: now,
                invited_before: a.invited_at,
            },
            Write::Entry(entry),
        ];
        Ok(committed(app.store.transact(&writes).await)?.map(|()| {
            a.invitation = Invitation::new(InvitationStatus::Pending);
            a.invited_at = Some(now);
            a
        }))
    })
    .await
}

/// Seconds until `a`'s invitation may be asked for again, if it must wait:
/// 10 minutes after the last one (a failed one may be resent at once, one
/// over the address's daily limit the next day (UTC); the buyer's automatic
/// seat never had one).
pub fn wait(a: &Assignment, now: DateTime<Utc>) -> Option<u32> {
    let last = a
        .invited_at
        .or(a.invitation.sent_at)
        .or((a.invitation.status != InvitationStatus::None).then_some(a.assigned_at));
    if a.invitation.status == InvitationStatus::Failed {
        if a.invitation.error != Some(InvitationError::RecipientLimit) {
            return None;
        }
        let tomorrow = last?.date_naive().succ_opt()?.and_time(NaiveTime::MIN).and_utc();
        let wait = (tomorrow - now).num_seconds();
        return (wait > 0).then_some(wait as u32);
    }
    let last = last?;
    let wait = (last - now).num_seconds() + RESEND_COOLDOWN_SECONDS;
    (wait > 0).then_some(wait as u32)
}
