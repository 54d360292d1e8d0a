//! Mail out through Amazon SES v2, beside the store: the one place that
//! holds the SES client, sends a rendered [`Mail`], and sorts SES's errors
//! into "never" (a stable code the assignment shows) and "later". The use
//! cases (`notify`, `remind`) claim, render, send through here, and record.

use std::time::Duration;

use aws_sdk_sesv2::error::SdkError;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

use crate::mail::Mail;
use crate::model::InvitationError;

const SEND_ATTEMPTS: u32 = 2;
const MAX_ERROR_TEXT: usize = 200;

/// The sender: SES, the address mails come from, and an optional
/// configuration set.
#[derive(Clone, Debug)]
pub struct Mailer {
    pub ses: aws_sdk_sesv2::Client,
    pub from: String,
    pub configuration_set: Option<String>,
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

impl Mailer {
    /// `SES_FROM_ADDRESS`, `SES_CONFIGURATION_SET`, and SES's endpoint.
    pub fn from_env() -> Self {
        let env = crate::app::env;
        Self {
            ses: crate::app::ses_client(),
            from: env("SES_FROM_ADDRESS").unwrap_or_else(|| "licensing@example.com".into()),
            configuration_set: env("SES_CONFIGURATION_SET"),
        }
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
}
