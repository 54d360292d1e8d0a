//! Telling a customer's buyers that a provisioning token was created or
//! revoked (API.md v3), so that a token nobody meant to create does not go
//! unnoticed. The token's own record is the outbox: the table's stream
//! brings its creation and its revocation to `notify`, and each buyer gets
//! each mail at most once (`super::once`). Likewise the daily run's
//! history entries of a seat warned or revoked for inactivity (v3) bring the
//! person their mail.

use std::collections::BTreeSet;

use super::notify::Notifier;
use super::once::{MailRecord, Once};
use crate::mail::{self, TokenMail};
use crate::model::{IdleNotice, TokenEvent, TokenNotice};

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
    /// The mail of a seat warned or revoked for inactivity, to its person in
    /// their invitation language, once per history entry; `Err` while SES
    /// throttles, so that the stream delivers it again.
    pub async fn tell_idle(&self, n: &IdleNotice) -> Result<(), String> {
        let key = [(n.customer_id.clone(), n.license_id.clone())];
        let id = [(n.customer_id.clone(), n.license_id.clone(), n.email.clone())];
        let (license, seat) =
            tokio::join!(self.store.licenses_by_id(&key, false), self.store.assignments_by_id(&id));
        let (Some(license), Some(seat)) =
            (license.map_err(|e| e.to_string())?.pop(), seat.map_err(|e| e.to_string())?.pop())
        else {
            return Ok(());
        };
        let grace = license.reclaim.grace_days.unwrap_or(crate::model::DEFAULT_GRACE_DAYS);
        let use_by = n.warned.then(|| {
            let day = n.at.date_naive() + chrono::Duration::days(i64::from(grace));
            day.pred_opt().unwrap_or(day)
        });
        let mail = mail::render_idle(&mail::Idle {
            language: seat.language,
            product_name: &license.product_name,
            email: &n.email,
            last_used: seat.last_active_on,
            use_by,
            portal_url: &self.portal_url,
        });
        let kind = if n.warned { "idle-warned" } else { "idle-revoked" };
        let id = format!("{kind}#{}#{}", n.entry_id, n.email);
        let record = MailRecord { customer_id: &n.customer_id, about: &n.license_id, id: &id };
        match self.send_once(&record, &n.email, &mail).await.map_err(|e| e.to_string())? {
            Once::Deferred => Err(format!("{kind} mail to {} not sent yet", n.email)),
            _ => Ok(()),
        }
    }
}
