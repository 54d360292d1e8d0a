//! The `notify` function: sends the invitation of every newly assigned user,
//! triggered by the table's DynamoDB Stream. The assignment item is the
//! outbox record (written in the same commit as the assignment); each
//! invitation is claimed with a conditional update before it is sent, so a
//! record delivered twice sends once, and a failed send is reported as a
//! partial batch failure so that only that record comes back. It reads
//! claim → render → send (`crate::mailer`) → record; the stream's records
//! are decoded at the edge (`crate::events::stream`).

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;

use super::retry::{Step, commit_unless_refused, retry_on_conflict};
use crate::error::Error;
use crate::mail;
pub use crate::mailer::{Mailer, SendFailure};
use crate::model::{
    Action, Assignment, Entry, Invitation, InvitationError, InvitationStatus, SYSTEM, State,
};
use crate::store::{InvitationClaim, Slot, Store, Write};

/// What `notify` and `remind` work with: the table, the mailer, and the
/// portal's sign-in link for the mails.
#[derive(Clone, Debug)]
pub struct Notifier {
    pub store: Store,
    pub mailer: Mailer,
    pub portal_url: String,
    /// The webhook queue and the event bus, where the history's entries go
    /// out as events (`None`: no webhooks configured, as in some tests).
    pub outbound: Option<crate::outbound::Outbound>,
}

/// The assignment a stream record is about, if it has an invitation to send.
#[derive(Debug, PartialEq, Eq)]
pub struct Pending {
    pub event_id: String,
    pub customer_id: String,
    pub license_id: String,
    pub email: String,
}

/// What the minute's sweep of waiting invitations did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Swept {
    /// Sent, refused, waiting anew or settled otherwise.
    pub processed: u32,
    /// Left for the next sweep (claimed elsewhere, or a failure to retry).
    pub retry: u32,
    /// Operations (bulk batches, fan-outs) their writer left, finished.
    pub finished: u32,
    /// Licences with a rule's run or people waiting, settled (v3).
    pub settled: u32,
}

/// Records how a claimed invitation ended, with its history entry, only
/// while `claim_id` still holds it (`false`: the claim was lost meanwhile,
/// to a resend or a run that took a stale claim over).
pub async fn record(
    store: &Store,
    a: &Assignment,
    claim_id: &str,
    outcome: &Invitation,
    message_id: Option<String>,
) -> crate::error::Result<bool> {
    let action = match outcome.status {
        InvitationStatus::Sent => Action::InvitationSent,
        _ => Action::InvitationFailed,
    };
    // When the entry is written, like every entry's `at` (it files the
    // history); SES's send time is in the entry's `after`.
    let at = Utc::now().trunc_subsecs(0);
    let entry = Entry::on(&a.customer_id, &a.license_id, at, SYSTEM, action)
        .about(&a.email)
        .after(State::Invitation(outcome.clone()));
    let writes = [
        Write::InvitationOutcome {
            customer_id: a.customer_id.clone(),
            license_id: a.license_id.clone(),
            email: a.email.clone(),
            claim_id: claim_id.to_string(),
            outcome: outcome.clone(),
            message_id,
        },
        Write::Entry(entry),
    ];
    commit_unless_refused(store, &writes).await
}

impl Notifier {
    /// `SES_FROM_ADDRESS`, `SES_CONFIGURATION_SET`, `PORTAL_URL`, `TABLE_NAME`.
    pub fn from_env() -> Self {
        let app = crate::App::from_env();
        let env = crate::app::env;
        Self {
            store: app.store,
            mailer: Mailer::from_env(),
            portal_url: env("PORTAL_URL").unwrap_or_else(|| "https://portal.example.com".into()),
            outbound: env("WEBHOOK_QUEUE_URL").map(|_| crate::outbound::Outbound::from_env()),
        }
    }

    /// The entries as events, to the bus and their customers' endpoints
    /// (`usecase::outbox`). `Err`: retry them all.
    pub async fn publish(&self, entries: &[crate::model::Entry]) -> Result<(), String> {
        let Some(outbound) = &self.outbound else { return Ok(()) };
        let now = Utc::now();
        let out = super::outbox::publish(&self.store, outbound, entries, now)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(events = out.events, jobs = out.jobs, "entries out as events");
        Ok(())
    }

    /// Claims, sends and records one invitation. `Err`: retry the record.
    pub async fn deliver(&self, p: &Pending) -> Result<(), String> {
        self.deliver_at(p, Utc::now().trunc_subsecs(0)).await
    }

    /// [`Notifier::deliver`] at `now`: claim, take the address's slot (or
    /// wait for its window, or fail on its day's limit), send, record.
    async fn deliver_at(&self, p: &Pending, now: DateTime<Utc>) -> Result<(), String> {
        // Unique per attempt: a live claim is never shared, not even by a
        // second delivery of the same record.
        let claim_id = format!("{}/{}", p.event_id, ulid::Ulid::new());
        let claim = self
            .store
            .claim_invitation(&p.customer_id, &p.license_id, &p.email, &claim_id, now.timestamp())
            .await
            .map_err(|e| e.to_string())?;
        let assignment = match claim {
            InvitationClaim::Claimed(assignment) => *assignment,
            InvitationClaim::Settled => return Ok(()),
            // Being sent by another run, or by one that died: look again later.
            InvitationClaim::Busy => return Err("claimed by another run".into()),
        };
        match self.slot(p, now).await.map_err(|e| e.to_string())? {
            Slot::Granted => {}
            Slot::WaitUntil(due) => return self.wait(p, &claim_id, due).await,
            Slot::OverDailyLimit => {
                let failed = Invitation::failed(InvitationError::RecipientLimit);
                record(&self.store, &assignment, &claim_id, &failed, None)
                    .await
                    .map_err(|e| e.to_string())?;
                tracing::info!(license_id = %p.license_id, "invitation over the address's daily limit");
                return Ok(());
            }
        }
        let outcome = self.render_and_send(&assignment).await;
        if outcome.is_err() {
            // No mail went out: the slot is the next one's.
            self.store
                .give_back_invitation_slot(&p.customer_id, &p.license_id, &p.email, now)
                .await
                .map_err(|e| e.to_string())?;
        }
        let (invitation, message_id) = match outcome {
            Ok(id) => (
                Invitation { sent_at: Some(now), ..Invitation::new(InvitationStatus::Sent) },
                Some(id),
            ),
            Err(SendFailure::Permanent(code, detail)) => {
                // SES's words stay in the log; the assignment shows the code.
                tracing::warn!(license_id = %p.license_id, error = ?code, %detail, "invitation refused");
                (Invitation::failed(code), None)
            }
            Err(SendFailure::Transient(reason)) => {
                if let Err(e) = self.store.release_invitation(&assignment, &claim_id).await {
                    tracing::warn!(error = %e, "could not release the claim; it goes stale");
                }
                return Err(reason);
            }
        };
        record(&self.store, &assignment, &claim_id, &invitation, message_id)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(license_id = %p.license_id, status = ?invitation.status, "invitation processed");
        Ok(())
    }

    /// The address's slot for this invitation, again when another mail to
    /// it was being counted at the same moment.
    async fn slot(&self, p: &Pending, now: DateTime<Utc>) -> crate::error::Result<Slot> {
        retry_on_conflict("invitation slot", || async {
            let slot = self
                .store
                .take_invitation_slot(&p.customer_id, &p.license_id, &p.email, now)
                .await?;
            Ok(slot.map_or(Step::Again, Step::Done))
        })
        .await
    }

    /// Parks the claimed invitation until its window has passed; the
    /// minute's sweep ([`Notifier::send_waiting`]) sends it then.
    async fn wait(&self, p: &Pending, claim_id: &str, due: DateTime<Utc>) -> Result<(), String> {
        let parked = self
            .store
            .wait_for_window(&p.customer_id, &p.license_id, &p.email, claim_id, due)
            .await;
        match parked {
            Ok(_) => {
                tracing::info!(license_id = %p.license_id, %due, "invitation waits for its window");
                Ok(())
            }
            Err(e) => Err(format!("could not park the invitation: {e:?}")),
        }
    }

    /// The minute's run: finishes the operations their writers left (so a
    /// renewal's fan-out never waits for the next request), gives the seats
    /// that are free to those who wait (v3), then sends the invitations
    /// whose window has passed by `now`.
    pub async fn every_minute(&self, now: DateTime<Utc>) -> crate::error::Result<Swept> {
        let app = crate::App::new(self.store.clone(), crate::http::identity::AuthMode::Verified);
        // Acting at `now`, the run's time (the use cases read the app's clock).
        let app = app.later((now - chrono::Utc::now()).num_seconds());
        let finished = super::finish::finish_stalled(&app, now).await?;
        let settled = super::rule::settle_waiting(&app).await?;
        Ok(Swept { finished, settled, ..self.send_waiting(now).await? })
    }

    /// Sends the invitations whose window has passed by `now` (each claimed
    /// like any other, so a stream delivery at the same moment sends it once).
    pub async fn send_waiting(&self, now: DateTime<Utc>) -> crate::error::Result<Swept> {
        let mut swept = Swept::default();
        for w in self.store.waiting_invitations(now).await? {
            let p = Pending {
                event_id: format!("waiting/{}", w.due),
                customer_id: w.customer_id.clone(),
                license_id: w.license_id.clone(),
                email: w.email.clone(),
            };
            match self.deliver_at(&p, now).await {
                Ok(()) => {
                    // Settled otherwise (revoked, resent, gone): off the list.
                    // Sent or waiting anew, it is off already (the condition
                    // on the wait's time fails).
                    self.store.stop_waiting(&w).await?;
                    swept.processed += 1;
                }
                Err(reason) => {
                    tracing::warn!(license_id = %w.license_id, %reason, "waiting invitation not sent yet");
                    swept.retry += 1;
                }
            }
        }
        Ok(swept)
    }

    /// The invitation of `assignment`, rendered with its licence and sent.
    async fn render_and_send(&self, assignment: &Assignment) -> Result<String, SendFailure> {
        // Read again, as late as possible before SES: a revoke that came after
        // the claim stops the mail here (the same round trip as the licence).
        let a = assignment;
        let (license, mut now) = self
            .store
            .license_and_assignments(&a.customer_id, &a.license_id, std::slice::from_ref(&a.email))
            .await
            .map_err(|e: Error| SendFailure::Transient(e.to_string()))?;
        if now.remove(&a.email).is_none_or(|current| current.is_revoked()) {
            let gone = "the assignment was revoked (or is gone) before its mail went out";
            return Err(SendFailure::Permanent(InvitationError::NotSent, gone.into()));
        }
        let license = license.ok_or_else(|| {
            SendFailure::Permanent(InvitationError::NotSent, "the licence no longer exists".into())
        })?;
        let mail = mail::render(&mail::Invitation {
            language: assignment.language,
            product_name: &license.product_name,
            email: &assignment.email,
            valid_from: assignment.valid_from,
            valid_until: assignment.valid_until,
            portal_url: &self.portal_url,
        });
        self.mailer.send(&assignment.email, &mail).await
    }
}
