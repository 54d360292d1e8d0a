//! A licence: the purchase facts, its status, and the seat timeline that
//! makes every capacity question a single-item read.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{BoughtTerm, GroupLink, Operation, Period, ReclaimPolicy, Term};
use crate::capacity::{Quantities, Timeline};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub id: String,
    pub plan: String,
    pub auto_renew: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LicenseStatus {
    Upcoming,
    Active,
    Expired,
}

impl LicenseStatus {
    pub fn of(term: &Term, today: NaiveDate) -> Self {
        if term.start > today {
            Self::Upcoming
        } else if term.end < today {
            Self::Expired
        } else {
            Self::Active
        }
    }
}

/// A licence as stored: the purchase facts plus the seat timeline that makes
/// capacity checks a single-item read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct License {
    pub license_id: String,
    pub customer_id: String,
    pub product_id: String,
    pub product_name: String,
    /// The quantity in force from the term start (the purchase's).
    pub quantity: u32,
    /// Later quantities, each in force from its date on (renewals, seat changes).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub quantity_steps: BTreeMap<NaiveDate, u32>,
    /// The whole span: from the first term's start to the current end.
    pub term: Term,
    /// The terms bought, oldest first: the purchase's, then each renewal's,
    /// each with its invoice. Empty until the first renewal: then `term`
    /// alone, with `invoice_number`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<BoughtTerm>,
    #[serde(default)]
    pub cancelled: bool,
    pub subscription: Subscription,
    /// The latest invoice (the purchase's, a renewal's or a seat change's);
    /// what readers see is the invoice of the term in force ([`License::invoice_on`]).
    pub invoice_number: String,
    pub order_id: String,
    /// The buyer's address, who gets the reminders before a term ends that
    /// does not renew (absent in items stored before reminders existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Non-revoked access periods of all assignments, as a timeline.
    pub seats: Timeline,
    /// Bumped by every write that changes the licence's assignments; the
    /// optimistic-concurrency token of the capacity check.
    pub version: u64,
    /// An operation too large for one transaction, still being written
    /// (stored as `pending` or `fanout`, by its kind).
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<Operation>,
    /// The number of the last lifecycle event applied (the purchase is 0).
    #[serde(default)]
    pub lifecycle_sequence: u64,
    /// v3: the policy for seats nobody uses (off unless an admin set one).
    #[serde(default, skip_serializing_if = "ReclaimPolicy::is_off")]
    pub reclaim: ReclaimPolicy,
    /// v3: the groups linked to it, in the order they were linked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupLink>,
    /// v3: how many people wait for a seat of it (see `model::rule`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub waiting: u32,
    /// v3: the number the next person to wait gets: the waiting list's order.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub waiting_seq: u64,
    /// v3: the day the group rules run again for everyone their linked
    /// groups cover (a renewal left rule seats behind that end the day
    /// before: their people get a seat again or wait).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_recheck_on: Option<NaiveDate>,
}

fn is_zero<N: Default + PartialEq>(n: &N) -> bool {
    *n == N::default()
}

impl License {
    pub fn status(&self, today: NaiveDate) -> LicenseStatus {
        LicenseStatus::of(&self.term, today)
    }

    /// The quantity in force on each day.
    pub fn quantities(&self) -> Quantities {
        Quantities { base: self.quantity, steps: self.quantity_steps.clone() }
    }

    pub fn set_quantities(&mut self, q: Quantities) {
        self.quantity = q.base;
        self.quantity_steps = q.steps;
    }

    /// The quantity in force `today` (the first or last day's outside the term).
    pub fn quantity_on(&self, today: NaiveDate) -> u32 {
        let day = today.clamp(self.term.start, self.term.end.max(self.term.start));
        self.quantities().on(day)
    }

    /// The id of the operation still being written (a bulk batch, a
    /// renewal's or cancellation's fan-out): what readers hide.
    pub fn pending_op(&self) -> Option<&str> {
        self.operation.as_ref().map(Operation::id)
    }

    /// Whether a reader that read this licence must not see yet what the
    /// operation `op`, committed at licence version `version`, wrote: it is
    /// still pending, or it came after this read.
    pub fn hides(&self, op: &str, version: u64) -> bool {
        self.pending_op() == Some(op) || version > self.version
    }

    /// Whether a writer must finish an earlier operation first.
    pub fn is_pending(&self) -> bool {
        self.pending_op().is_some()
    }

    /// The licence as readers may see it: as it was before a fan-out still
    /// being written, and without the seats of a batch still being written.
    pub fn visible(&self) -> License {
        let mut visible = self.clone();
        match visible.operation.take() {
            Some(Operation::Fanout(fanout)) => *fanout.before,
            Some(Operation::Rule(run)) => *run.before,
            // Rewrites only what the idle index reads: nothing shown changes.
            Some(Operation::Rekey(_)) => visible,
            Some(Operation::Batch(batch)) => {
                visible.seats.remove(batch.period, batch.emails.len() as u32);
                for old in &batch.replaced {
                    visible.seats.add(*old, 1);
                }
                visible
            }
            None => visible,
        }
    }

    /// The default access period of a new assignment: from today (or the term
    /// start if later) to the end of the term.
    pub fn default_period(&self, today: NaiveDate) -> Period {
        Period::new(today.max(self.term.start), self.term.end)
    }

    /// The seat counts the contract defines, from `today` to the end of the
    /// term, against the quantity in force on each day (of the licence as
    /// stored: readers count [`License::visible`]).
    pub fn counts(&self, today: NaiveDate) -> SeatCounts {
        let rest_of_term = Period::new(today.max(self.term.start), self.term.end);
        let holders = self.seats.holders_from(today);
        if rest_of_term.from > rest_of_term.until {
            let quantity = self.quantity_on(today);
            return SeatCounts {
                assigned_seats: 0,
                available_seats: quantity,
                assigned_users: holders,
                over_assigned_seats: 0,
            };
        }
        let quantities = self.quantities();
        let over = self.seats.over(&quantities, rest_of_term);
        SeatCounts {
            assigned_seats: self.seats.peak(rest_of_term),
            available_seats: if over > 0 { 0 } else { self.seats.room(&quantities, rest_of_term) },
            assigned_users: holders,
            over_assigned_seats: over,
        }
    }
}

#[cfg(any(test, feature = "local"))]
impl License {
    /// A licence of `quantity` seats for 2026, no seats taken, for the unit
    /// tests of the rules over it and the model check (tests/tests/protocols.rs).
    pub fn sample(quantity: u32) -> Self {
        Self {
            license_id: "lic_1".into(),
            customer_id: "c1".into(),
            product_id: "p".into(),
            product_name: "P".into(),
            quantity,
            quantity_steps: BTreeMap::new(),
            term: Term { start: "2026-01-01".parse().unwrap(), end: "2026-12-31".parse().unwrap() },
            terms: Vec::new(),
            cancelled: false,
            subscription: Subscription { id: "S".into(), plan: "annual".into(), auto_renew: true },
            invoice_number: "I".into(),
            order_id: "O".into(),
            buyer: Some("buyer@example.com".into()),
            created_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            seats: Timeline::default(),
            version: 7,
            operation: None,
            lifecycle_sequence: 0,
            reclaim: ReclaimPolicy::default(),
            groups: Vec::new(),
            waiting: 0,
            waiting_seq: 0,
            rule_recheck_on: None,
        }
    }
}

/// `assignedSeats`: the peak overlap from today to the end of the term;
/// `availableSeats`: what can still be assigned for the rest of the term;
/// `assignedUsers`: non-revoked assignments that have not ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeatCounts {
    pub assigned_seats: u32,
    pub available_seats: u32,
    pub assigned_users: u32,
    /// Seats in use beyond the quantity on the worst day from today on.
    pub over_assigned_seats: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn license_status_follows_the_term() {
        use LicenseStatus::*;
        let term = Term { start: d("2026-01-01"), end: d("2026-12-31") };
        for (day, status) in [
            ("2025-12-31", Upcoming),
            ("2026-01-01", Active),
            ("2026-12-31", Active),
            ("2027-01-01", Expired),
        ] {
            assert_eq!(LicenseStatus::of(&term, d(day)), status, "{day}");
        }
    }
}
