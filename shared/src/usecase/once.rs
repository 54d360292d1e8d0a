//! A mail sent at most once, whatever the number of runs or redeliveries:
//! its record (under the customer, named by what it is about and an id) is
//! claimed before the mail goes to SES and says afterwards how it ended. A
//! claim is never taken over: a run that died holding it may have sent the
//! mail. A failure worth retrying gives the claim back. The reminders and
//! the buyers' notices about provisioning tokens both send this way.

use chrono::{SubsecRound, Utc};

use super::notify::Notifier;
use crate::error::Result;
use crate::mail::Mail;
use crate::mailer::SendFailure;
use crate::store::Settled;

/// How one mail ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Once {
    Sent,
    /// Recorded already: sent, failed for good, or held by another run.
    Already,
    /// Refused by SES for good (recorded; not tried again).
    Failed,
    /// Not sent for now (throttling, SES unreachable): given back for a retry.
    Deferred,
}

/// Which mail: the customer, what it is about (a licence, a token), and its
/// id among that one's mails.
pub struct MailRecord<'a> {
    pub customer_id: &'a str,
    pub about: &'a str,
    pub id: &'a str,
}

impl Notifier {
    /// Claims the record of `mail` to `to`, sends it, and records how it ended.
    pub async fn send_once(&self, record: &MailRecord<'_>, to: &str, mail: &Mail) -> Result<Once> {
        let MailRecord { customer_id, about, id } = *record;
        let claim_id = ulid::Ulid::new().to_string();
        let now = Utc::now().trunc_subsecs(0).timestamp();
        let store = &self.store;
        if !store.claim_reminder(customer_id, about, id, &claim_id, now).await? {
            return Ok(Once::Already);
        }
        match self.mailer.send(to, mail).await {
            Ok(message_id) => {
                store
                    .settle_reminder(customer_id, about, id, &claim_id, Settled::Sent, &message_id)
                    .await?;
                Ok(Once::Sent)
            }
            Err(SendFailure::Permanent(code, detail)) => {
                tracing::warn!(%about, error = ?code, %detail, "mail refused");
                let code = format!("{code:?}");
                store
                    .settle_reminder(customer_id, about, id, &claim_id, Settled::Failed, &code)
                    .await?;
                Ok(Once::Failed)
            }
            Err(SendFailure::Transient(reason)) => {
                tracing::warn!(%about, %reason, "mail not sent yet; given back");
                store.release_reminder(customer_id, about, id, &claim_id).await?;
                Ok(Once::Deferred)
            }
        }
    }
}
