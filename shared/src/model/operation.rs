//! The one pending-operation model: an operation too large for one
//! DynamoDB transaction (a bulk assign, a renewal's or cancellation's
//! fan-out) commits by putting its marker on the licence; its items are
//! then written in chunks, each only while the marker is still there, and
//! the marker is cleared. Readers see the licence and its items as they were
//! until then; writers finish it first (`usecase::pending` drives it).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{Language, License, Period};

/// The marker on the licence, by kind. Stored flattened into the licence
/// item as its `pending` (a batch) or `fanout` attribute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Operation {
    #[serde(rename = "pending")]
    Batch(PendingBatch),
    #[serde(rename = "fanout")]
    Fanout(Fanout),
    #[serde(rename = "rekey")]
    Rekey(Rekey),
    #[serde(rename = "rule")]
    Rule(RuleRun),
}

impl Operation {
    /// The operation's id (on every item and history entry it writes).
    pub fn id(&self) -> &str {
        match self {
            Self::Batch(batch) => &batch.id,
            Self::Fanout(fanout) => &fanout.id,
            Self::Rekey(rekey) => &rekey.id,
            Self::Rule(run) => &run.id,
        }
    }

    /// When it committed: the minute's finisher takes on those left long enough.
    pub fn started(&self) -> DateTime<Utc> {
        match self {
            Self::Batch(batch) => batch.assigned_at,
            Self::Fanout(fanout) => fanout.at,
            Self::Rekey(rekey) => rekey.at,
            Self::Rule(run) => run.at,
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

/// A renewal or cancellation that moves more assignment periods than one
/// transaction holds. The licence already shows the change (its commit
/// point); the assignments are being moved in transactions of 49 with their
/// history entries. Readers see `before` and the items as they were until it
/// is complete; writers finish it first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fanout {
    /// The operation's id (also on the entries and moved items it writes).
    pub id: String,
    pub at: DateTime<Utc>,
    pub change: PeriodChange,
    /// The licence before the change, as readers see it meanwhile.
    pub before: Box<License>,
}

/// A change of the reclaim policy (v3): every seat of the licence carries a
/// copy of its rule and is keyed by it in the idle index, so each is
/// rewritten. Nothing a reader sees changes meanwhile; writers finish it
/// first, so no seat is written under the old rule after the commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rekey {
    pub id: String,
    pub at: DateTime<Utc>,
}

/// v3: what the group rule does to a licence at once (a linked group's
/// membership change, a link made or ended, seats freed for those who
/// wait): decided and committed with the marker, the licence already
/// counting its seats and waiting list; the changes themselves, too many
/// for one item, are stored in `parts` numbered parts beside it, one
/// transaction's worth each, and written part by part. Readers see
/// `before` and the items as they were until it is complete.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleRun {
    /// A ULID: the entries it writes are ordered at its time.
    pub id: String,
    pub at: DateTime<Utc>,
    pub parts: u32,
    /// The licence before the change, as readers see it meanwhile.
    pub before: Box<License>,
}

/// What a lifecycle event does to the assignments' periods.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PeriodChange {
    /// A renewal: non-revoked assignments ending on `old_end` end on
    /// `new_end`; when the renewed quantity cannot hold them all, only those
    /// assigned before `first_staying` (assigned at, e-mail).
    Follow {
        old_end: NaiveDate,
        new_end: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        first_staying: Option<(DateTime<Utc>, String)>,
    },
    /// A cancellation: periods running past `last_day` end on it; those
    /// starting after it are revoked.
    Clip { last_day: NaiveDate },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> Operation {
        Operation::Batch(PendingBatch {
            id: "op1".into(),
            emails: vec!["a@example.com".into()],
            replaced: Vec::new(),
            period: License::sample(1).default_period("2026-01-01".parse().unwrap()),
            assigned_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            assigned_by: "admin@example.com".into(),
            language: Language::En,
        })
    }

    /// The marker keeps the attribute names stored before it was one type,
    /// so an operation left by an older version is still found and finished.
    #[test]
    fn the_marker_is_stored_under_its_kinds_attribute() {
        let mut license = License::sample(1);
        let plain: serde_json::Value = serde_json::to_value(&license).unwrap();
        assert!(plain.get("pending").is_none() && plain.get("fanout").is_none());
        license.operation = Some(batch());
        let item: serde_dynamo::Item = serde_dynamo::to_item(&license).unwrap();
        assert!(item.contains_key("pending") && !item.contains_key("fanout"));
        let back: License = serde_dynamo::from_item(item).unwrap();
        assert_eq!(back, license);
        let before = Box::new(License::sample(1));
        let change = PeriodChange::Clip { last_day: "2026-06-30".parse().unwrap() };
        let at = "2026-01-02T00:00:00Z".parse().unwrap();
        license.operation =
            Some(Operation::Fanout(Fanout { id: "op2".into(), at, change, before }));
        let item: serde_dynamo::Item = serde_dynamo::to_item(&license).unwrap();
        assert!(item.contains_key("fanout") && !item.contains_key("pending"));
        let back: License = serde_dynamo::from_item(item).unwrap();
        assert_eq!(back.pending_op(), Some("op2"));
        assert_eq!(back.operation.unwrap().started(), at);
    }
}
