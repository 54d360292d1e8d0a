//! A licence: the purchase facts, its status, and the seat timeline that
//! makes every capacity question a single-item read.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{Language, Period, Term};
use crate::capacity::Timeline;

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

/// A bulk assignment too large for one DynamoDB transaction. Its seats are
/// already reserved in the licence's timeline; the assignment items are being
/// written. Readers hide it until it is complete, writers finish it first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingBatch {
    pub id: String,
    pub emails: Vec<String>,
    /// Periods that older versions took out of the timeline with the
    /// reservation (ended assignments assigned afresh). Used days now stay in
    /// the timeline, so new batches leave this empty; it is kept so that a
    /// batch reserved by an older version is still hidden correctly.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaced: Vec<Period>,
    pub period: Period,
    pub assigned_at: DateTime<Utc>,
    pub assigned_by: String,
    pub language: Language,
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
    pub quantity: u32,
    pub term: Term,
    pub subscription: Subscription,
    pub invoice_number: String,
    pub order_id: String,
    pub created_at: DateTime<Utc>,
    /// Non-revoked access periods of all assignments, as a timeline.
    pub seats: Timeline,
    /// Bumped by every write that changes the licence's assignments; the
    /// optimistic-concurrency token of the capacity check.
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingBatch>,
}

impl License {
    pub fn status(&self, today: NaiveDate) -> LicenseStatus {
        LicenseStatus::of(&self.term, today)
    }

    /// The timeline as readers may see it: without a batch still being written.
    pub fn visible_seats(&self) -> Timeline {
        let mut seats = self.seats.clone();
        if let Some(batch) = &self.pending {
            seats.remove(batch.period, batch.emails.len() as u32);
            for old in &batch.replaced {
                seats.add(*old, 1);
            }
        }
        seats
    }

    /// The default access period of a new assignment: from today (or the term
    /// start if later) to the end of the term.
    pub fn default_period(&self, today: NaiveDate) -> Period {
        Period::new(today.max(self.term.start), self.term.end)
    }

    /// The seat counts the contract defines, as readers see them (a batch
    /// still being written is not counted yet).
    pub fn counts(&self, today: NaiveDate) -> SeatCounts {
        let seats = self.visible_seats();
        let rest_of_term = Period::new(today.max(self.term.start), self.term.end);
        let assigned_seats =
            if rest_of_term.from > rest_of_term.until { 0 } else { seats.peak(rest_of_term) };
        SeatCounts {
            assigned_seats,
            available_seats: self.quantity.saturating_sub(assigned_seats),
            assigned_users: seats.holders_from(today),
        }
    }
}

#[cfg(test)]
impl License {
    /// A licence of `quantity` seats for 2026, no seats taken, for the unit
    /// tests of the rules over it.
    pub fn sample(quantity: u32) -> Self {
        Self {
            license_id: "lic_1".into(),
            customer_id: "c1".into(),
            product_id: "p".into(),
            product_name: "P".into(),
            quantity,
            term: Term { start: "2026-01-01".parse().unwrap(), end: "2026-12-31".parse().unwrap() },
            subscription: Subscription { id: "S".into(), plan: "annual".into(), auto_renew: true },
            invoice_number: "I".into(),
            order_id: "O".into(),
            created_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            seats: Timeline::default(),
            version: 7,
            pending: None,
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
