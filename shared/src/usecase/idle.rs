//! The daily run's reclaim of idle seats (API.md v3), run by `remind`: the
//! idle index names what may be due by today (`Store::idle_due`); each is
//! read again with its licence, strongly, and the rule decides
//! (`IdleRule::step`, which the preview uses too):
//! - warn: the warning and its day in the index (its grace's end), with the
//!   history entry `assignment.reclaim-warned`; a licence's warnings in one
//!   transaction where they fit (else one by one);
//! - revoke: as an admin's revoke, by `system` with `reason: "inactive"`,
//!   all of a licence's in one transaction where they fit (else one by one);
//! - nothing (used since, exempted, ended, a rule changed): keyed afresh.
//!
//! Every write holds only while the seat is unused since it was read, so a
//! person who signs in at that moment keeps it. The person's mails follow
//! the history entries through the table's stream (`notify`, each at most
//! once, given back for a retry while SES throttles); the buyer's digest of
//! what the run freed is sent here, once per run (SES throttling waited out
//! for a few seconds: what it names is not due again).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::notify::Notifier;
use super::once::{MailRecord, Once};
use super::reclaim::keyed;
use super::revoke::revoking;
use crate::error::Result;
use crate::mail::{self, Freed};
use crate::model::{Action, Assignment, Entry, IdleStep, License, SYSTEM};
use crate::plan;
use crate::store::{LastActive, MAX_TRANSACTION_ITEMS, TxError, Write};

/// The waits between a throttled digest's attempts (the last: none, given up).
const DIGEST_RETRIES: [std::time::Duration; 3] = [
    std::time::Duration::from_secs(1),
    std::time::Duration::from_secs(4),
    std::time::Duration::ZERO,
];

/// Why the run revokes (the history entry's `reason`).
pub const INACTIVE: &str = "inactive";

/// What the reclaim part of a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdleReport {
    /// Assignments the idle index named for today.
    pub candidates: usize,
    pub warned: usize,
    pub revoked: usize,
    /// Read, not due (used since, exempted, ended): keyed afresh.
    pub rekeyed: usize,
    /// Left for the next run: a licence's operation in flight, or a write
    /// that met a change (a use at that moment).
    pub skipped: usize,
    /// Buyers' digests sent.
    pub digests: usize,
    /// Digests SES kept refusing for now (throttling) through every retry:
    /// logged as an error, which the template's alarm counts.
    pub digests_lost: usize,
}

type LicenseKey = (String, String);

impl Notifier {
    /// Warns and reclaims what is due on `today` (at `now`).
    pub async fn reclaim_idle(&self, today: NaiveDate, now: DateTime<Utc>) -> Result<IdleReport> {
        let ids = self.store.idle_due(today).await?;
        let mut report = IdleReport { candidates: ids.len(), ..IdleReport::default() };
        if ids.is_empty() {
            return Ok(report);
        }
        let keys: BTreeSet<LicenseKey> =
            ids.iter().map(|(c, l, _)| (c.clone(), l.clone())).collect();
        let keys: Vec<LicenseKey> = keys.into_iter().collect();
        let (licenses, seats) = tokio::join!(
            self.store.licenses_by_id(&keys, true),
            self.store.assignments_by_id(&ids),
        );
        let mut by_license: BTreeMap<LicenseKey, Vec<Assignment>> = BTreeMap::new();
        for a in seats? {
            by_license.entry((a.customer_id.clone(), a.license_id.clone())).or_default().push(a);
        }
        let mut freed: BTreeMap<(String, String), Vec<Freed>> = BTreeMap::new();
        for license in licenses? {
            let key = (license.customer_id.clone(), license.license_id.clone());
            let seats = by_license.remove(&key).unwrap_or_default();
            if license.is_pending() {
                // Its finisher comes first; the seats stay in the index.
                report.skipped += seats.len();
                continue;
            }
            let revoked = self.reclaim_on(&license, seats, today, now, &mut report).await?;
            if let (Some(buyer), false) = (&license.buyer, revoked.is_empty()) {
                let to = (license.customer_id.clone(), buyer.clone());
                freed.entry(to).or_default().extend(revoked.iter().map(|a| Freed {
                    product_name: license.product_name.clone(),
                    invoice_number: license.invoice_on(today).to_string(),
                    email: a.email.clone(),
                    last_used: a.last_active_on,
                }));
            }
        }
        let run = ulid::Ulid::new().to_string();
        for ((customer_id, buyer), seats) in freed {
            let id = format!("reclaimed#{today}#{run}#{buyer}");
            let record = MailRecord { customer_id: &customer_id, about: "RECLAIM", id: &id };
            let digest = mail::render_reclaim_digest(&seats, &self.portal_url);
            // What the digest names is freed already: a later run would not find
            // it again, so SES throttling is waited out here, a few times.
            for wait in DIGEST_RETRIES {
                match self.send_once(&record, &buyer, &digest).await? {
                    Once::Sent => report.digests += 1,
                    Once::Deferred if !wait.is_zero() => {
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    Once::Deferred => {
                        tracing::error!(%customer_id, "a reclaim digest not sent: SES kept refusing for now");
                        report.digests_lost += 1;
                    }
                    Once::Already | Once::Failed => {}
                }
                break;
            }
        }
        Ok(report)
    }

    /// One licence's due seats: warned, keyed afresh, or revoked. Answers
    /// the seats it revoked.
    async fn reclaim_on(
        &self,
        license: &License,
        seats: Vec<Assignment>,
        today: NaiveDate,
        now: DateTime<Utc>,
        report: &mut IdleReport,
    ) -> Result<Vec<Assignment>> {
        let (mut warn, mut rekey, mut revoke) = (Vec::new(), Vec::new(), Vec::new());
        for a in seats {
            match license.reclaim.step(&a, today) {
                Some(IdleStep::Revoke { .. }) => revoke.push(a),
                Some(IdleStep::Warn) => {
                    let entry = Entry::assignment(
                        license,
                        now,
                        SYSTEM,
                        Action::AssignmentReclaimWarned,
                        Some(&a),
                        &a,
                    );
                    warn.push(vec![keyed(license, &a, Some(now), today), Write::Entry(entry)]);
                }
                None => rekey.push(vec![keyed(license, &a, None, today)]),
            }
        }
        report.warned += self.write_each(warn, &mut report.skipped).await?;
        report.rekeyed += self.write_each(rekey, &mut report.skipped).await?;
        self.revoke_idle(license, revoke, now, report).await
    }

    /// Writes each group of writes (one seat's), as many groups to a
    /// transaction as fit; a transaction refused because one seat changed
    /// since it was read (a use at that moment) is written again group by
    /// group, so only that seat is left (`skipped`). Answers how many
    /// groups were written.
    async fn write_each(&self, groups: Vec<Vec<Write>>, skipped: &mut usize) -> Result<usize> {
        let mut written = 0;
        let per = groups.first().map_or(1, Vec::len).max(1);
        for chunk in groups.chunks(MAX_TRANSACTION_ITEMS / per) {
            let all: Vec<Write> = chunk.iter().flatten().cloned().collect();
            match self.store.transact(&all).await {
                Ok(()) => {
                    written += chunk.len();
                    continue;
                }
                Err(TxError::Failed(e)) => return Err(e),
                Err(_) if chunk.len() == 1 => {
                    *skipped += 1;
                    continue;
                }
                Err(_) => {}
            }
            for group in chunk {
                match self.store.transact(group).await {
                    Ok(()) => written += 1,
                    Err(TxError::Failed(e)) => return Err(e),
                    Err(_) => *skipped += 1,
                }
            }
        }
        Ok(written)
    }

    /// Revokes idle seats of one licence: all in one transaction where they
    /// fit and nobody used one meanwhile, else one by one on the licence as
    /// it is then.
    async fn revoke_idle(
        &self,
        license: &License,
        seats: Vec<Assignment>,
        now: DateTime<Utc>,
        report: &mut IdleReport,
    ) -> Result<Vec<Assignment>> {
        if seats.is_empty() {
            return Ok(seats);
        }
        let writes = revocations(license, &seats, now);
        if writes.len() <= MAX_TRANSACTION_ITEMS {
            match self.store.transact(&writes).await {
                Ok(()) => {
                    report.revoked += seats.len();
                    return Ok(seats);
                }
                Err(TxError::Failed(e)) => return Err(e),
                Err(_) => {}
            }
        }
        let (customer, id) = (&license.customer_id, &license.license_id);
        let mut revoked = Vec::new();
        for a in seats {
            let Some(license) = self.store.license(customer, id).await? else { break };
            let ids = [(a.customer_id.clone(), a.license_id.clone(), a.email.clone())];
            let now_seat = self.store.assignments_by_id(&ids).await?.pop();
            let due = |s: &Assignment| {
                matches!(license.reclaim.step(s, now.date_naive()), Some(IdleStep::Revoke { .. }))
            };
            let Some(seat) = now_seat.filter(|s| !license.is_pending() && due(s)) else {
                report.skipped += 1;
                continue;
            };
            match self
                .store
                .transact(&revocations(&license, std::slice::from_ref(&seat), now))
                .await
            {
                Ok(()) => {
                    report.revoked += 1;
                    revoked.push(seat);
                }
                Err(TxError::Failed(e)) => return Err(e),
                Err(_) => report.skipped += 1,
            }
        }
        Ok(revoked)
    }
}

/// The writes that revoke `seats` of `license` for inactivity: the licence
/// once (its seats freed from today), each seat only while still unused,
/// with its history entry (and, for a rule's seat, its person out of the
/// licence's rules).
fn revocations(license: &License, seats: &[Assignment], now: DateTime<Utc>) -> Vec<Write> {
    let mut after = license.clone();
    let mut writes = Vec::with_capacity(1 + 2 * seats.len());
    for a in seats {
        after = plan::revoke(&after, a, now.date_naive());
        after.version = license.version + 1;
        let (_, seat_writes) = revoking(license, a, now, SYSTEM, Some(INACTIVE));
        writes.extend(seat_writes.into_iter().map(|w| match w {
            Write::Revoke { customer_id, license_id, email, at, by, invitation, undo, .. } => {
                let unused = Some(LastActive(a.last_active_on));
                Write::Revoke { customer_id, license_id, email, at, by, invitation, undo, unused }
            }
            other => other,
        }));
        // A rule's seat reclaimed: its person is out of the licence's rules.
        writes.extend(super::rule::exclusion(a, now));
    }
    writes.insert(0, Write::License { license: after, expected_version: Some(license.version) });
    writes
}
