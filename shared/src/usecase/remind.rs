//! The `remind` function: once a day, the reminders before a licence's term
//! ends without renewal (to its buyer, 30 and 7 days before) and before a
//! person's access ends while the licence goes on (7 days before), through
//! SES with the invitation's guarantees: claimed before it is sent, so that
//! overlapping runs send it once; given back after a failure worth retrying,
//! so that it is never lost; never taken over from a run that died holding
//! it, so that it goes out at most once.
//!
//! Nothing is scanned: GSI2 holds each candidate under the day it is first
//! due, and a run reads the days of its look-back window (a catch-up after a
//! missed day is the same read), then the candidates' licences, then the
//! assignments that may be due, then the records of what is due.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate, Utc};
use serde::Serialize;

use super::idle::IdleReport;
use super::notify::Notifier;
use super::once::{MailRecord, Once};
use crate::error::Result;
use crate::mail::{self, Mail};
use crate::model::{Language, License};
use crate::reminders::{self, LOOKBACK_DAYS, Reminder};
use crate::store::{Candidate, Store};

/// What a run did, as the function answers it (and logs it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub today: Option<NaiveDate>,
    /// Licences and assignments GSI2 named for the window.
    pub candidates: usize,
    /// Reminders due today.
    pub due: usize,
    pub sent: usize,
    /// Due but recorded already: sent, failed for good, or held by another run.
    pub already: usize,
    /// Refused by SES for good (recorded; not tried again).
    pub failed: usize,
    /// Not sent for now (throttling, SES unreachable): given back for a retry.
    pub deferred: usize,
    /// Lifecycle events parked for over a day, waiting for a predecessor
    /// that has not come (logged as an error, which the template's alarm
    /// counts).
    pub parked_over_a_day: usize,
    /// v3: the reclaim of idle seats (`usecase::idle`).
    pub reclaim: IdleReport,
}

/// A licence by (customer id, licence id).
type Key = (String, String);

fn licence_of(c: &Candidate) -> Key {
    (c.customer_id.clone(), c.license_id.clone())
}

/// One due reminder with its licence and recipient.
struct Due<'a> {
    license: &'a License,
    reminder: Reminder,
    to: String,
    language: Language,
}

impl Notifier {
    /// Sends every reminder due on `today` that has not gone out yet.
    pub async fn remind(&self, today: NaiveDate) -> Result<Report> {
        let from = today.checked_sub_days(Days::new(LOOKBACK_DAYS)).unwrap_or(today);
        // The day's run, at this time of day, a day ago.
        let a_day_ago = today.and_time(Utc::now().time()).and_utc() - chrono::Duration::days(1);
        let (candidates, parked) = tokio::join!(
            self.store.reminder_candidates(from, today),
            self.store.parked_since_before(a_day_ago),
        );
        let candidates = candidates?;
        let mut report = Report {
            today: Some(today),
            candidates: candidates.len(),
            parked_over_a_day: parked?,
            ..Report::default()
        };
        if report.parked_over_a_day > 0 {
            let parked = report.parked_over_a_day;
            tracing::error!(parked, "lifecycle events parked for over a day");
        }
        // The licences first (consistent), then what their state says may be
        // due: an operation in flight hides its items, as for every reader.
        let ids: BTreeSet<Key> = candidates.iter().map(licence_of).collect();
        let ids: Vec<Key> = ids.into_iter().collect();
        let licenses: BTreeMap<Key, License> = self
            .store
            .licenses_by_id(&ids, true)
            .await?
            .into_iter()
            .map(|l| ((l.customer_id.clone(), l.license_id.clone()), l))
            .collect();
        let due = self.due(today, &candidates, &licenses).await?;
        report.due = due.len();
        let keys: Vec<(String, String, String)> = due
            .iter()
            .map(|d| (d.license.customer_id.clone(), d.license.license_id.clone(), d.reminder.id()))
            .collect();
        let recorded = self.store.reminders_recorded(&keys).await?;
        for d in &due {
            let (l, id) = (d.license, d.reminder.id());
            if recorded.contains(&Store::reminder_record(&l.customer_id, &l.license_id, &id)) {
                report.already += 1;
                continue;
            }
            self.deliver_reminder(d, &mut report).await?;
        }
        // The day's run, at this time of day.
        let now = today.and_time(Utc::now().time()).and_utc();
        report.reclaim = self.reclaim_idle(today, now).await?;
        Ok(report)
    }

    /// The reminders due on `today` among the candidates: the buyers' of the
    /// licences named, and the people's of the assignments whose projected
    /// end makes them possibly due (read again, consistently, to decide).
    async fn due<'a>(
        &self,
        today: NaiveDate,
        candidates: &[Candidate],
        licenses: &'a BTreeMap<Key, License>,
    ) -> Result<Vec<Due<'a>>> {
        let mut due = Vec::new();
        let named: BTreeSet<Key> =
            candidates.iter().filter(|c| c.assignment.is_none()).map(licence_of).collect();
        for key in &named {
            let Some(l) = licenses.get(key) else { continue };
            let reminder = reminders::term_reminder(&l.visible(), today);
            if let (Some(reminder), Some(to)) = (reminder, l.buyer.clone()) {
                due.push(Due { license: l, reminder, to, language: Language::En });
            }
        }
        let maybe: Vec<(String, String, String)> = candidates
            .iter()
            .filter_map(|c| {
                let (email, until) = c.assignment.as_ref()?;
                let l = licenses.get(&licence_of(c))?;
                let left = (*until - today).num_days();
                (*until < l.term.end && (0..=reminders::ACCESS_DAYS as i64).contains(&left))
                    .then(|| (c.customer_id.clone(), c.license_id.clone(), email.clone()))
            })
            .collect();
        for a in self.store.assignments_by_id(&maybe).await? {
            let Some(l) = licenses.get(&(a.customer_id.clone(), a.license_id.clone())) else {
                continue;
            };
            let Some(a) = a.into_visible(l) else { continue };
            if let Some(reminder) = reminders::access_reminder(l, &a, today) {
                due.push(Due { license: l, reminder, to: a.email.clone(), language: a.language });
            }
        }
        Ok(due)
    }

    /// Claims, sends and records one reminder.
    async fn deliver_reminder(&self, d: &Due<'_>, report: &mut Report) -> Result<()> {
        let (l, id) = (d.license, d.reminder.id());
        let record = MailRecord { customer_id: &l.customer_id, about: &l.license_id, id: &id };
        match self.send_once(&record, &d.to, &self.mail_of(d)).await? {
            Once::Sent => report.sent += 1,
            Once::Already => report.already += 1,
            Once::Failed => report.failed += 1,
            Once::Deferred => report.deferred += 1,
        }
        Ok(())
    }

    fn mail_of(&self, d: &Due) -> Mail {
        let l = d.license;
        match &d.reminder {
            Reminder::TermEnds { days, end, losing } => mail::render_term_ends(&mail::TermEnds {
                product_name: &l.product_name,
                invoice_number: &l.invoice_number,
                end: *end,
                days: *days,
                losing: *losing,
                portal_url: &self.portal_url,
            }),
            Reminder::AccessEnds { email, until } => mail::render_access_ends(&mail::AccessEnds {
                language: d.language,
                product_name: &l.product_name,
                email,
                valid_until: *until,
                portal_url: &self.portal_url,
            }),
        }
    }
}
