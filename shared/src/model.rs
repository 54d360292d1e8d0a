//! Plain domain types and the status rules. No AWS type appears here.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::capacity::Timeline;

/// The contract's shape of a customer id (`custom:customer_id`, an order's
/// `customerId`): `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`. It prefixes keys, so
/// nothing else may reach one.
pub fn is_customer_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// An inclusive range of calendar dates: `from ..= until`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Period {
    pub from: NaiveDate,
    pub until: NaiveDate,
}

impl Period {
    pub fn new(from: NaiveDate, until: NaiveDate) -> Self {
        Self { from, until }
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.until
    }

    pub fn within(&self, outer: &Period) -> bool {
        outer.from <= self.from && self.until <= outer.until
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Term {
    pub fn period(&self) -> Period {
        Period::new(self.start, self.end)
    }
}

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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AssignmentStatus {
    Scheduled,
    Active,
    Expired,
    Revoked,
}

impl AssignmentStatus {
    pub fn of(period: &Period, revoked: bool, today: NaiveDate) -> Self {
        if revoked {
            Self::Revoked
        } else if period.from > today {
            Self::Scheduled
        } else if period.until < today {
            Self::Expired
        } else {
            Self::Active
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "scheduled" => Self::Scheduled,
            "active" => Self::Active,
            "expired" => Self::Expired,
            "revoked" => Self::Revoked,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    De,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvitationStatus {
    Pending,
    Sent,
    Failed,
    None,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub status: InvitationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Invitation {
    pub fn new(status: InvitationStatus) -> Self {
        Self {
            status,
            sent_at: None,
            error: None,
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
    /// Assignments that the batch replaces (ended ones assigned afresh): their
    /// old periods were taken out of the timeline with the reservation.
    #[serde(default)]
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

    pub fn view(&self, today: NaiveDate) -> LicenseView {
        let seats = self.visible_seats();
        let rest_of_term = Period::new(today.max(self.term.start), self.term.end);
        let assigned_seats = if rest_of_term.from > rest_of_term.until {
            0
        } else {
            seats.peak(rest_of_term)
        };
        LicenseView {
            license_id: self.license_id.clone(),
            product_id: self.product_id.clone(),
            product_name: self.product_name.clone(),
            quantity: self.quantity,
            assigned_seats,
            available_seats: self.quantity.saturating_sub(assigned_seats),
            assigned_users: seats.holders_from(today),
            term: self.term,
            subscription: self.subscription.clone(),
            invoice_number: self.invoice_number.clone(),
            order_id: self.order_id.clone(),
            status: self.status(today),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenseView {
    pub license_id: String,
    pub product_id: String,
    pub product_name: String,
    pub quantity: u32,
    pub assigned_seats: u32,
    pub available_seats: u32,
    pub assigned_users: u32,
    pub term: Term,
    pub subscription: Subscription,
    pub invoice_number: String,
    pub order_id: String,
    pub status: LicenseStatus,
}

/// One user's seat on one licence, keyed by the normalised e-mail address.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    pub license_id: String,
    pub customer_id: String,
    pub product_id: String,
    pub email: String,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub assigned_at: DateTime<Utc>,
    pub assigned_by: String,
    #[serde(default)]
    pub revoked_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub revoked_by: Option<String>,
    pub invitation: Invitation,
    pub language: Language,
    /// The bulk batch that wrote this item, if any (see [`PendingBatch`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    /// The ended or revoked assignment of the same address that this batch
    /// item replaced: what readers see until the batch is complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Box<Assignment>>,
}

impl Assignment {
    pub fn period(&self) -> Period {
        Period::new(self.valid_from, self.valid_until)
    }

    /// What readers may see of this item while `hidden` (the licence's
    /// pending batch, if any) is still being written: the item itself, the
    /// assignment it replaces, or nothing.
    pub fn visible(&self, hidden: Option<&str>) -> Option<&Assignment> {
        if self.batch.is_some() && self.batch.as_deref() == hidden {
            self.previous.as_deref()
        } else {
            Some(self)
        }
    }

    /// [`Assignment::visible`], by value.
    pub fn into_visible(self, hidden: Option<&str>) -> Option<Assignment> {
        if self.batch.is_some() && self.batch.as_deref() == hidden {
            self.previous.map(|p| *p)
        } else {
            Some(self)
        }
    }

    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }

    pub fn status(&self, today: NaiveDate) -> AssignmentStatus {
        AssignmentStatus::of(&self.period(), self.is_revoked(), today)
    }

    /// Holds a seat now or later: neither revoked nor ended.
    pub fn is_current(&self, today: NaiveDate) -> bool {
        !self.is_revoked() && self.valid_until >= today
    }

    pub fn view(&self, today: NaiveDate) -> AssignmentView {
        AssignmentView {
            license_id: self.license_id.clone(),
            email: self.email.clone(),
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            status: self.status(today),
            assigned_at: self.assigned_at,
            assigned_by: self.assigned_by.clone(),
            revoked_at: self.revoked_at,
            revoked_by: self.revoked_by.clone(),
            invitation: self.invitation.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentView {
    pub license_id: String,
    pub email: String,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub status: AssignmentStatus,
    pub assigned_at: DateTime<Utc>,
    pub assigned_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    pub invitation: Invitation,
}

/// The caller's own seat, as `GET /me/licenses` lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MyLicenseView {
    #[serde(flatten)]
    pub assignment: AssignmentView,
    pub product_id: String,
    pub product_name: String,
    pub term: Term,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn license_status_follows_the_term() {
        let term = Term {
            start: d("2026-01-01"),
            end: d("2026-12-31"),
        };
        assert_eq!(
            LicenseStatus::of(&term, d("2025-12-31")),
            LicenseStatus::Upcoming
        );
        assert_eq!(
            LicenseStatus::of(&term, d("2026-01-01")),
            LicenseStatus::Active
        );
        assert_eq!(
            LicenseStatus::of(&term, d("2026-12-31")),
            LicenseStatus::Active
        );
        assert_eq!(
            LicenseStatus::of(&term, d("2027-01-01")),
            LicenseStatus::Expired
        );
    }

    #[test]
    fn assignment_status_is_inclusive_and_revocation_wins() {
        let p = Period::new(d("2026-03-01"), d("2026-03-31"));
        assert_eq!(
            AssignmentStatus::of(&p, false, d("2026-02-28")),
            AssignmentStatus::Scheduled
        );
        assert_eq!(
            AssignmentStatus::of(&p, false, d("2026-03-01")),
            AssignmentStatus::Active
        );
        assert_eq!(
            AssignmentStatus::of(&p, false, d("2026-03-31")),
            AssignmentStatus::Active
        );
        assert_eq!(
            AssignmentStatus::of(&p, false, d("2026-04-01")),
            AssignmentStatus::Expired
        );
        assert_eq!(
            AssignmentStatus::of(&p, true, d("2026-03-15")),
            AssignmentStatus::Revoked
        );
    }
}
