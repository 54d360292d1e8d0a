//! Telling a customer's buyers that a provisioning token was created or
//! revoked (API.md v3), so that a token nobody meant to create does not go
//! unnoticed. The token's own record is the outbox: the table's stream
//! brings its creation and its revocation to `notify`, and each buyer gets
//! each mail at most once (`super::once`). Likewise history entries that
//! someone hears of (v3): a seat the daily run warned or revoked for
//! inactivity (its person), a licence whose seats ran out, or people
//! waiting for its seats (its buyer, at most once a licence a day).

use std::collections::BTreeSet;

use super::notify::Notifier;
use super::once::{MailRecord, Once};
use crate::mail::{self, TokenMail};
use crate::model::{EntryNotice, TokenEvent, TokenNotice, Told, WebhookDisabled};

impl Notifier {
    /// Mails every buyer of the customer's licences about `n`. `Err`: a
    /// mail to retry (the stream record comes back; the buyers mailed
    /// already are not mailed again).
    pub async fn tell_buyers(&self, n: &TokenNotice) -> Result<(), String> {
        let licenses = self.store.licenses(&n.customer_id).await.map_err(|e| e.to_string())?;
        let buyers: BTreeSet<String> = licenses.into_iter().filter_map(|l| l.buyer).collect();
        let mail = mail::render_token_mail(&TokenMail {
            created: n.event == TokenEvent::Created,
            name: &n.name,
            by: &n.by,
            at: n.at,
            last_day: n.last_day,
            portal_url: &self.portal_url,
        });
        let mut deferred = 0;
        for buyer in &buyers {
            let id = format!("{}#{buyer}", n.event.as_str());
            let record = MailRecord { customer_id: &n.customer_id, about: &n.token_id, id: &id };
            if self.send_once(&record, buyer, &mail).await.map_err(|e| e.to_string())?
                == Once::Deferred
            {
                deferred += 1;
            }
        }
        if buyers.is_empty() {
            tracing::warn!(customer_id = %n.customer_id, token_id = %n.token_id, "no buyer to tell about a token");
        }
        if deferred > 0 { Err(format!("{deferred} token mail(s) not sent yet")) } else { Ok(()) }
    }
}

impl Notifier {
    /// Mails every buyer of the customer's licences that deliveries
    /// disabled one of its webhook endpoints, once per disabling. `Err`: a
    /// mail to retry.
    pub async fn tell_webhook_disabled(&self, n: &WebhookDisabled) -> Result<(), String> {
        let licenses = self.store.licenses(&n.customer_id).await.map_err(|e| e.to_string())?;
        let buyers: BTreeSet<String> = licenses.into_iter().filter_map(|l| l.buyer).collect();
        let mail = mail::render_webhook_disabled(n, &self.portal_url);
        let mut deferred = 0;
        for buyer in &buyers {
            let id = format!("webhook-disabled#{}#{buyer}", n.at.timestamp_millis());
            let record = MailRecord { customer_id: &n.customer_id, about: &n.webhook_id, id: &id };
            if self.send_once(&record, buyer, &mail).await.map_err(|e| e.to_string())?
                == Once::Deferred
            {
                deferred += 1;
            }
        }
        if deferred > 0 { Err(format!("{deferred} webhook mail(s) not sent yet")) } else { Ok(()) }
    }
}

impl Notifier {
    /// The mail of a history entry (v3): to the person of a seat warned or
    /// revoked for inactivity, in their invitation language; to the buyer of
    /// a licence whose seats ran out. Once per entry; `Err` while SES
    /// throttles, so that the stream delivers it again.
    pub async fn tell_of_entry(&self, n: &EntryNotice) -> Result<(), String> {
        let key = [(n.customer_id.clone(), n.license_id.clone())];
        let ids: Vec<_> = n
            .email
            .iter()
            .map(|e| (n.customer_id.clone(), n.license_id.clone(), e.clone()))
            .collect();
        // The licence and (for a person's mail) the seat, read side by side.
        let (license, seat) = tokio::join!(
            self.store.licenses_by_id(&key, false),
            self.store.assignments_by_id(&ids)
        );
        let Some(license) = license.map_err(|e| e.to_string())?.into_iter().next() else {
            return Ok(());
        };
        let seat = seat.map_err(|e| e.to_string())?.into_iter().next();
        let (to, mail) = match (n.told, &n.email) {
            (Told::SeatsExhausted, _) => {
                let Some(buyer) = license.buyer.clone() else { return Ok(()) };
                let today = n.at.date_naive();
                let mail = mail::render_seats_exhausted(&mail::SeatsExhausted {
                    product_name: &license.product_name,
                    invoice_number: license.invoice_on(today),
                    quantity: license.quantity_on(today),
                    portal_url: &self.portal_url,
                });
                (buyer, mail)
            }
            (Told::PeopleWaiting, _) => {
                let Some(buyer) = license.buyer.clone() else { return Ok(()) };
                let mail = mail::render_people_waiting(&mail::PeopleWaiting {
                    product_name: &license.product_name,
                    invoice_number: license.invoice_on(n.at.date_naive()),
                    waiting: license.waiting.max(1),
                    portal_url: &self.portal_url,
                });
                (buyer, mail)
            }
            (told, Some(email)) => {
                let Some(seat) = seat else { return Ok(()) };
                let grace = license.reclaim.grace_days.unwrap_or(crate::model::DEFAULT_GRACE_DAYS);
                // The run on the grace's last day may come before the person does.
                let use_by = (told == Told::ReclaimWarned)
                    .then(|| n.at.date_naive() + chrono::Duration::days(i64::from(grace) - 1));
                let mail = mail::render_idle(&mail::Idle {
                    language: seat.language,
                    product_name: &license.product_name,
                    email,
                    last_used: seat.last_active_on,
                    use_by,
                    portal_url: &self.portal_url,
                });
                (email.clone(), mail)
            }
            (_, None) => return Ok(()),
        };
        let kind = match n.told {
            Told::ReclaimWarned => "idle-warned",
            Told::Reclaimed => "idle-revoked",
            Told::SeatsExhausted => "seats-exhausted",
            Told::PeopleWaiting => "people-waiting",
        };
        // People waiting: one mail a licence a day, whoever started waiting.
        let id = match n.told {
            Told::PeopleWaiting => format!("{kind}#{}#{to}", n.at.date_naive()),
            _ => format!("{kind}#{}#{to}", n.entry_id),
        };
        let record = MailRecord { customer_id: &n.customer_id, about: &n.license_id, id: &id };
        match self.send_once(&record, &to, &mail).await.map_err(|e| e.to_string())? {
            Once::Deferred => Err(format!("{kind} mail to {to} not sent yet")),
            _ => Ok(()),
        }
    }
}
