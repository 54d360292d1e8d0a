//! The `notify` function: sends the invitation of every newly assigned user,
//! triggered by the table's DynamoDB Stream. The assignment item is the
//! outbox record (written in the same commit as the assignment); each
//! invitation is claimed with a conditional update before it is sent, so a
//! record delivered twice sends once, and a failed send is reported as a
//! partial batch failure so that only that record comes back.

use std::time::Duration;

use aws_sdk_sesv2::error::SdkError;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use chrono::{SubsecRound, Utc};
use serde_json::{Value, json};

use super::retry::commit_unless_refused;
use crate::error::Error;
use crate::mail::{self, Mail};
use crate::model::{
    Action, Assignment, Entry, Invitation, InvitationError, InvitationStatus, SYSTEM, State,
};
use crate::store::{InvitationClaim, Store, Write};

const SEND_ATTEMPTS: u32 = 2;
const MAX_ERROR_TEXT: usize = 200;

#[derive(Clone, Debug)]
pub struct Notifier {
    pub store: Store,
    pub ses: aws_sdk_sesv2::Client,
    pub from: String,
    pub configuration_set: Option<String>,
    pub portal_url: String,
}

/// Why a mail was not sent.
#[derive(Debug, PartialEq, Eq)]
pub enum SendFailure {
    /// SES refused this message for good: the stable code the assignment
    /// shows, and SES's own words for the log.
    Permanent(InvitationError, String),
    /// Throttling, a network fault, SES unavailable: try again later.
    Transient(String),
}

/// The assignment a stream record is about, if it has an invitation to send.
#[derive(Debug, PartialEq, Eq)]
pub struct Pending {
    pub event_id: String,
    pub customer_id: String,
    pub license_id: String,
    pub email: String,
}

fn s<'a>(image: &'a Value, name: &str) -> Option<&'a str> {
    image.get(name)?.get("S")?.as_str()
}

impl Pending {
    /// New or changed assignment items whose invitation is pending and not
    /// claimed (our own claim writes come back through the stream too).
    pub fn from_record(record: &Value) -> Option<Self> {
        if !matches!(record.get("eventName")?.as_str()?, "INSERT" | "MODIFY") {
            return None;
        }
        let image = record.get("dynamodb")?.get("NewImage")?;
        let status = image.get("invitation")?.get("M")?.get("status")?.get("S")?.as_str()?;
        let revoked = image.get("revokedAt").and_then(|r| r.get("S")).is_some();
        if s(image, "type")? != "Assignment"
            || status != "pending"
            || revoked
            || image.get("invitationClaim").is_some()
        {
            return None;
        }
        let event_id = record
            .get("eventID")
            .and_then(Value::as_str)
            .or_else(|| record.get("dynamodb")?.get("SequenceNumber")?.as_str())?;
        Some(Self {
            event_id: event_id.to_string(),
            customer_id: s(image, "customerId")?.to_string(),
            license_id: s(image, "licenseId")?.to_string(),
            email: s(image, "email")?.to_string(),
        })
    }
}

fn short(text: impl Into<String>) -> String {
    let mut text = text.into();
    if text.len() > MAX_ERROR_TEXT {
        let mut cut = MAX_ERROR_TEXT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

/// `text` with every word that holds an `@` (an e-mail address SES names,
/// such as the recipient the sandbox refuses) replaced by `<address>`: the
/// log keeps SES's reason, never a person's address.
pub fn without_addresses(text: &str) -> String {
    text.split(' ')
        .map(|word| if word.contains('@') { "<address>" } else { word })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Sorts SES errors into "never" (with the code the assignment shows) and "later".
pub fn classify(error: &SdkError<SendEmailError>, from: &str) -> SendFailure {
    match error {
        SdkError::ServiceError(e) => {
            let message = e.err().meta().message().unwrap_or("").to_string();
            let code = e.err().meta().code().unwrap_or("SES error");
            // For the log only, and without the addresses SES may name in it.
            let detail = short(format!("{code}: {}", without_addresses(&message)));
            let lower = message.to_ascii_lowercase();
            match e.err() {
                // "Email address is not verified. The following identities
                // failed the check: <addresses>" names the sender when it is
                // ours, else a recipient (the SES sandbox).
                SendEmailError::MessageRejected(_)
                    if lower.contains("not verified")
                        && lower.contains(&from.to_ascii_lowercase()) =>
                {
                    SendFailure::Permanent(InvitationError::SenderNotVerified, detail)
                }
                SendEmailError::MailFromDomainNotVerifiedException(_) => {
                    SendFailure::Permanent(InvitationError::SenderNotVerified, detail)
                }
                SendEmailError::BadRequestException(_) => {
                    SendFailure::Permanent(InvitationError::InvalidAddress, detail)
                }
                SendEmailError::MessageRejected(_) | SendEmailError::NotFoundException(_) => {
                    SendFailure::Permanent(InvitationError::Rejected, detail)
                }
                // Throttling, quota, a paused or suspended account: an
                // operator or time fixes these; the invitation waits.
                _ => SendFailure::Transient(detail),
            }
        }
        other => SendFailure::Transient(short(format!("SES unreachable: {other}"))),
    }
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
            ses: crate::app::ses_client(),
            from: env("SES_FROM_ADDRESS").unwrap_or_else(|| "licensing@example.com".into()),
            configuration_set: env("SES_CONFIGURATION_SET"),
            portal_url: env("PORTAL_URL").unwrap_or_else(|| "https://portal.example.com".into()),
        }
    }

    /// Handles a DynamoDB Streams event; answers the records to retry as
    /// `{"batchItemFailures": [{"itemIdentifier": <sequence number>}]}`.
    pub async fn handle(&self, event: &Value) -> Value {
        let mut failures = Vec::new();
        let records = event.get("Records").and_then(Value::as_array).cloned().unwrap_or_default();
        for record in &records {
            let Some(pending) = Pending::from_record(record) else {
                continue;
            };
            if let Err(reason) = self.deliver(&pending).await {
                tracing::warn!(license_id = %pending.license_id, %reason, "invitation not sent yet; will retry");
                let id = record
                    .get("dynamodb")
                    .and_then(|d| d.get("SequenceNumber"))
                    .and_then(Value::as_str)
                    .unwrap_or(&pending.event_id);
                failures.push(json!({ "itemIdentifier": id }));
            }
        }
        json!({ "batchItemFailures": failures })
    }

    /// Claims, sends and records one invitation. `Err`: retry the record.
    pub async fn deliver(&self, p: &Pending) -> Result<(), String> {
        let now = Utc::now().trunc_subsecs(0);
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
        let outcome = self.render_and_send(&assignment).await;
        let (invitation, message_id) = match outcome {
            Ok(id) => (
                Invitation { status: InvitationStatus::Sent, sent_at: Some(now), error: None },
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
        self.send(&assignment.email, &mail).await
    }

    /// Sends `mail` to `to` through SES, trying once more after a failure
    /// worth retrying; the SES message id.
    pub async fn send(&self, to: &str, mail: &Mail) -> Result<String, SendFailure> {
        let content = |text: &str| {
            Content::builder().data(text).charset("UTF-8").build().map_err(|e| {
                SendFailure::Permanent(InvitationError::Rejected, short(e.to_string()))
            })
        };
        let message = Message::builder()
            .subject(content(&mail.subject)?)
            .body(Body::builder().text(content(&mail.text)?).html(content(&mail.html)?).build())
            .build();
        let mut last = SendFailure::Transient("not attempted".into());
        for attempt in 0..SEND_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
            let result = self
                .ses
                .send_email()
                .from_email_address(&self.from)
                .destination(Destination::builder().to_addresses(to).build())
                .content(EmailContent::builder().simple(message.clone()).build())
                .set_configuration_set_name(self.configuration_set.clone())
                .send()
                .await;
            match result {
                Ok(out) => return Ok(out.message_id.unwrap_or_default()),
                Err(e) => match classify(&e, &self.from) {
                    SendFailure::Transient(reason) => last = SendFailure::Transient(reason),
                    permanent => return Err(permanent),
                },
            }
        }
        Err(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ses_text_reaches_the_log_without_addresses() {
        let ses = "Email address is not verified. The following identities failed the check in region EU-CENTRAL-1: anna.schmidt@example.com, <bob@example.com>";
        let logged = without_addresses(ses);
        assert!(!logged.contains('@'), "{logged}");
        assert!(logged.starts_with("Email address is not verified."), "{logged}");
        assert_eq!(without_addresses("Throttling: rate exceeded"), "Throttling: rate exceeded");
    }

    #[test]
    fn revoked_assignments_are_not_picked_up() {
        let mut r = record("MODIFY", "pending", false);
        r["dynamodb"]["NewImage"]["revokedAt"] = json!({"S": "2026-11-29T10:00:00Z"});
        assert!(Pending::from_record(&r).is_none());
        r["dynamodb"]["NewImage"]["revokedAt"] = json!({"NULL": true});
        assert!(Pending::from_record(&r).is_some());
    }

    fn record(event: &str, status: &str, claimed: bool) -> Value {
        let mut image = json!({
            "PK": {"S": "CUSTOMER#c1"}, "SK": {"S": "ASSIGNMENT#lic_1#a@example.com"},
            "type": {"S": "Assignment"}, "customerId": {"S": "c1"}, "licenseId": {"S": "lic_1"},
            "email": {"S": "a@example.com"}, "invitation": {"M": {"status": {"S": status}}}
        });
        if claimed {
            image["invitationClaim"] = json!({"M": {"id": {"S": "x"}, "at": {"N": "1"}}});
        }
        json!({"eventID": "e1", "eventName": event, "eventSource": "aws:dynamodb",
               "dynamodb": {"SequenceNumber": "100", "NewImage": image}})
    }

    #[test]
    fn only_unclaimed_pending_assignments_are_picked_up() {
        let p = Pending::from_record(&record("INSERT", "pending", false)).unwrap();
        assert_eq!(
            (p.event_id.as_str(), p.customer_id.as_str(), p.email.as_str()),
            ("e1", "c1", "a@example.com")
        );
        assert!(Pending::from_record(&record("MODIFY", "pending", false)).is_some());
        assert!(Pending::from_record(&record("MODIFY", "pending", true)).is_none());
        assert!(Pending::from_record(&record("MODIFY", "sent", false)).is_none());
        assert!(Pending::from_record(&record("INSERT", "none", false)).is_none());
        assert!(Pending::from_record(&record("REMOVE", "pending", false)).is_none());
        assert!(Pending::from_record(&json!({"eventName": "INSERT"})).is_none());
    }
}
