//! Telling a customer's buyers that a provisioning token was created or
//! revoked (API.md v3), so that a token nobody meant to create does not go
//! unnoticed. The token's own record is the outbox: the table's stream
//! brings its creation and its revocation to `notify`, and each buyer gets
//! each mail at most once (`super::once`).

use std::collections::BTreeSet;

use super::notify::Notifier;
use super::once::{MailRecord, Once};
use crate::mail::{self, TokenMail};
use crate::model::{TokenEvent, TokenNotice};

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
