//! An assignment: one user's seat on one licence, its status, and the
//! invitation mail it owes (the assignment item is that mail's outbox).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{License, Period};

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

    /// As shown (the inverse of [`Self::parse`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
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
    /// The person used the product (v3: their first entitlement check).
    Accepted,
}

impl InvitationStatus {
    /// As stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::None => "none",
            Self::Accepted => "accepted",
        }
    }
}

/// Why an invitation is `failed`: a short stable code, never SES's own text
/// (which goes to the log).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InvitationError {
    /// SES refused the message (also: a recipient not verified in the SES sandbox).
    Rejected,
    /// SES found the address unusable.
    InvalidAddress,
    /// The sender identity is not verified in SES.
    SenderNotVerified,
    /// The assignment was revoked (or its licence is gone) before the mail was sent.
    NotSent,
    /// The address had all the invitation mails it may get today (5 from one
    /// customer, 20 from all together); it may be resent the next day.
    RecipientLimit,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub status: InvitationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "error_code")]
    pub error: Option<InvitationError>,
    /// When the person first used the product (status `accepted`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<DateTime<Utc>>,
}

/// Stored errors of older versions were SES's text: they read as `rejected`.
fn error_code<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<InvitationError>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    Ok(text.map(|t| {
        serde_json::from_value(serde_json::Value::String(t)).unwrap_or(InvitationError::Rejected)
    }))
}

impl Invitation {
    pub fn new(status: InvitationStatus) -> Self {
        Self { status, sent_at: None, error: None, accepted_at: None }
    }

    pub fn failed(error: InvitationError) -> Self {
        Self {
            status: InvitationStatus::Failed,
            sent_at: None,
            error: Some(error),
            accepted_at: None,
        }
    }
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
    /// The licence version that reserved that batch: a reader whose licence
    /// is older does not see the batch yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_version: Option<u64>,
    /// The ended or revoked assignment of the same address that this batch
    /// item replaced: what readers see until the batch is complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Box<Assignment>>,
    /// When the last invitation was asked for (the assignment, or a resend):
    /// the resend cooldown counts from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invited_at: Option<DateTime<Utc>>,
    /// Earlier assignments of this address on this licence (revoked or
    /// ended ones that this one replaced), oldest first: reassigning never
    /// loses who assigned and who revoked before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub former: Vec<FormerAssignment>,
    /// A `notify` run that is sending the invitation (see `store::invitations`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation_claim: Option<InvitationClaimRecord>,
    /// What the last renewal or cancellation fan-out changed on this item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undo: Option<Undo>,
    /// The last day the person used the product (v3: an entitlement check
    /// records it, at most once a day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active_on: Option<NaiveDate>,
    /// v3: when the person first used the product. Kept beside the
    /// invitation, not in it, so that an invitation mail being sent at that
    /// moment records its outcome without undoing the acceptance; readers
    /// see it as the invitation's (see [`Assignment::invitation_shown`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<DateTime<Utc>>,
    /// v3: when the daily run warned that the seat, unused, will be freed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reclaim_warned_at: Option<DateTime<Utc>>,
    /// v3: never reclaimed for inactivity (an admin's choice, e.g. for
    /// parental leave).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reclaim_exempt: bool,
    /// v3: the licence's reclaim rule while it is on, as this seat was last
    /// written with: the idle index's day is worked out from the seat alone
    /// (see [`super::IdleRule::due_on`]). A change of the policy rewrites it
    /// on every seat (`usecase::reclaim`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reclaim_rule: Option<super::IdleRule>,
}

/// An assignment as it was before a fan-out moved it (see
/// [`super::Fanout`]): readers see this until the fan-out is complete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Undo {
    pub op: String,
    /// The licence version that committed the fan-out: a reader whose
    /// licence is older sees the item as it was.
    #[serde(default)]
    pub version: u64,
    pub valid_until: NaiveDate,
    /// The fan-out revoked it: it was not revoked, with this invitation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation: Option<Invitation>,
}

/// Who holds an invitation while sending it, since when (epoch seconds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationClaimRecord {
    pub id: String,
    pub at: i64,
}

/// What an assignment that was replaced by a new one of the same address leaves behind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FormerAssignment {
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub assigned_at: DateTime<Utc>,
    pub assigned_by: String,
    #[serde(default)]
    pub revoked_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub revoked_by: Option<String>,
}

impl Assignment {
    /// A new assignment of `email` to `license`, invitation in `invitation`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        license: &License,
        email: &str,
        period: Period,
        assigned_at: DateTime<Utc>,
        assigned_by: &str,
        language: Language,
        invitation: InvitationStatus,
    ) -> Self {
        Self {
            license_id: license.license_id.clone(),
            customer_id: license.customer_id.clone(),
            product_id: license.product_id.clone(),
            email: email.to_string(),
            valid_from: period.from,
            valid_until: period.until,
            assigned_at,
            assigned_by: assigned_by.to_string(),
            revoked_at: None,
            revoked_by: None,
            invitation: Invitation::new(invitation),
            language,
            batch: None,
            batch_version: None,
            previous: None,
            invited_at: (invitation == InvitationStatus::Pending).then_some(assigned_at),
            former: Vec::new(),
            invitation_claim: None,
            undo: None,
            last_active_on: None,
            accepted_at: None,
            reclaim_warned_at: None,
            reclaim_exempt: false,
            reclaim_rule: license.reclaim.rule(),
        }
    }

    /// This new assignment, taking over the record of `old` (the revoked or
    /// ended assignment of the same address it replaces).
    pub fn replacing(mut self, old: &Assignment) -> Self {
        self.former = old.former.clone();
        self.former.push(FormerAssignment {
            valid_from: old.valid_from,
            valid_until: old.valid_until,
            assigned_at: old.assigned_at,
            assigned_by: old.assigned_by.clone(),
            revoked_at: old.revoked_at,
            revoked_by: old.revoked_by.clone(),
        });
        self
    }

    pub fn period(&self) -> Period {
        Period::new(self.valid_from, self.valid_until)
    }

    /// The days of the period before `date`, if any: what a revocation on
    /// `date` leaves used in the licence's timeline.
    pub fn used_before(&self, date: NaiveDate) -> Option<Period> {
        let last = date.pred_opt()?.min(self.valid_until);
        (self.valid_from <= last).then(|| Period::new(self.valid_from, last))
    }

    /// What a reader that read the licence as `seen` (before this item) may
    /// see of it: the item itself, or, while the operation that wrote it is
    /// hidden from `seen` (still pending, or newer than `seen`), the
    /// assignment a batch item replaces (or nothing), or the item as it was
    /// before a fan-out moved it.
    pub fn into_visible(mut self, seen: &License) -> Option<Assignment> {
        if let Some(batch) = &self.batch
            && seen.hides(batch, self.batch_version.unwrap_or(0))
        {
            return self.previous.map(|p| *p);
        }
        match self.undo.take() {
            Some(undo) if seen.hides(&undo.op, undo.version) => {
                let mut before = self;
                before.valid_until = undo.valid_until;
                if let Some(invitation) = undo.invitation {
                    before.revoked_at = None;
                    before.revoked_by = None;
                    before.invitation = invitation;
                }
                Some(before)
            }
            undo => Some(Assignment { undo, ..self }),
        }
    }

    /// The invitation as readers see it: `accepted` (with `acceptedAt`) once
    /// the person used the product, whatever the mail did.
    pub fn invitation_shown(&self) -> Invitation {
        match self.accepted_at {
            Some(at) => Invitation {
                status: InvitationStatus::Accepted,
                accepted_at: Some(at),
                ..self.invitation.clone()
            },
            None => self.invitation.clone(),
        }
    }

    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }

    /// `assignment-revoked` for an operation a revoked assignment refuses.
    pub fn ensure_not_revoked(&self) -> crate::error::Result<()> {
        if self.is_revoked() { Err(crate::error::Error::AssignmentRevoked) } else { Ok(()) }
    }

    pub fn status(&self, today: NaiveDate) -> AssignmentStatus {
        AssignmentStatus::of(&self.period(), self.is_revoked(), today)
    }

    /// Holds a seat now or later: neither revoked nor ended.
    pub fn is_current(&self, today: NaiveDate) -> bool {
        !self.is_revoked() && self.valid_until >= today
    }
}

#[cfg(test)]
mod tests;
