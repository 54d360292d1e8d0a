//! The history of a licence: one immutable entry per change, written in the
//! same transaction as the change it records.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{
    Assignment, AssignmentStatus, Invitation, License, LinkState, NextTerm, ReclaimPolicy, Term,
};

/// The actor of what nobody did by hand: provisioning, lifecycle events,
/// the buyer's automatic seat, invitation results.
pub const SYSTEM: &str = "system";

/// What an entry records (API.md, History).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    #[serde(rename = "license.purchased")]
    LicensePurchased,
    #[serde(rename = "license.renewed")]
    LicenseRenewed,
    #[serde(rename = "license.quantity-changed")]
    LicenseQuantityChanged,
    #[serde(rename = "license.cancelled")]
    LicenseCancelled,
    #[serde(rename = "license.reclaim-changed")]
    LicenseReclaimChanged,
    /// v3: a committed change left no seat free (the buyer is told).
    #[serde(rename = "license.seats-exhausted")]
    LicenseSeatsExhausted,
    /// v3: an admin linked a group to the licence (or changed its language).
    #[serde(rename = "license.group-linked")]
    LicenseGroupLinked,
    /// v3: a group's link ended (an admin unlinked it, or the group was removed).
    #[serde(rename = "license.group-unlinked")]
    LicenseGroupUnlinked,
    #[serde(rename = "assignment.created")]
    AssignmentCreated,
    #[serde(rename = "assignment.changed")]
    AssignmentChanged,
    #[serde(rename = "assignment.revoked")]
    AssignmentRevoked,
    /// v3: the daily run warned an idle seat that it will be freed.
    #[serde(rename = "assignment.reclaim-warned")]
    AssignmentReclaimWarned,
    #[serde(rename = "invitation.sent")]
    InvitationSent,
    #[serde(rename = "invitation.failed")]
    InvitationFailed,
    #[serde(rename = "invitation.resent")]
    InvitationResent,
    /// v3: the person's first use of the product (an entitlement check).
    #[serde(rename = "invitation.accepted")]
    InvitationAccepted,
    /// v3: a linked group's member found no seat free: they wait.
    #[serde(rename = "waiting.added")]
    WaitingAdded,
    /// v3: the person no longer waits (seated, or no longer covered).
    #[serde(rename = "waiting.removed")]
    WaitingRemoved,
}

impl Action {
    /// Every action, in the contract's order.
    pub const ALL: [Action; 18] = [
        Action::LicensePurchased,
        Action::LicenseRenewed,
        Action::LicenseQuantityChanged,
        Action::LicenseCancelled,
        Action::LicenseReclaimChanged,
        Action::LicenseSeatsExhausted,
        Action::LicenseGroupLinked,
        Action::LicenseGroupUnlinked,
        Action::AssignmentCreated,
        Action::AssignmentChanged,
        Action::AssignmentRevoked,
        Action::AssignmentReclaimWarned,
        Action::InvitationSent,
        Action::InvitationFailed,
        Action::InvitationResent,
        Action::InvitationAccepted,
        Action::WaitingAdded,
        Action::WaitingRemoved,
    ];

    /// Its name in the contract (`assignment.revoked`), as serde writes it.
    pub fn name(self) -> &'static str {
        match self {
            Action::LicensePurchased => "license.purchased",
            Action::LicenseRenewed => "license.renewed",
            Action::LicenseQuantityChanged => "license.quantity-changed",
            Action::LicenseCancelled => "license.cancelled",
            Action::LicenseReclaimChanged => "license.reclaim-changed",
            Action::LicenseSeatsExhausted => "license.seats-exhausted",
            Action::LicenseGroupLinked => "license.group-linked",
            Action::LicenseGroupUnlinked => "license.group-unlinked",
            Action::AssignmentCreated => "assignment.created",
            Action::AssignmentChanged => "assignment.changed",
            Action::AssignmentRevoked => "assignment.revoked",
            Action::AssignmentReclaimWarned => "assignment.reclaim-warned",
            Action::InvitationSent => "invitation.sent",
            Action::InvitationFailed => "invitation.failed",
            Action::InvitationResent => "invitation.resent",
            Action::InvitationAccepted => "invitation.accepted",
            Action::WaitingAdded => "waiting.added",
            Action::WaitingRemoved => "waiting.removed",
        }
    }
}

/// A history entry that someone hears of by mail (v3), as the table's stream
/// brings it to `notify`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryNotice {
    pub told: Told,
    pub customer_id: String,
    pub license_id: String,
    /// The person an assignment's entry is about.
    pub email: Option<String>,
    pub entry_id: String,
    pub at: DateTime<Utc>,
}

/// What an [`EntryNotice`] tells, and whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Told {
    /// The person: their idle seat will be freed unless they use it.
    ReclaimWarned,
    /// The person: their idle seat was freed.
    Reclaimed,
    /// The buyer: every seat is in use.
    SeatsExhausted,
    /// The buyer: people wait for a seat (at most once a licence a day).
    PeopleWaiting,
}

/// An assignment's period and status, as an entry shows it before and after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentState {
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub status: AssignmentStatus,
    /// v3: shown when set.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reclaim_exempt: bool,
}

impl AssignmentState {
    pub fn of(a: &Assignment, today: NaiveDate) -> Self {
        Self {
            valid_from: a.valid_from,
            valid_until: a.valid_until,
            status: a.status(today),
            reclaim_exempt: a.reclaim_exempt,
        }
    }
}

/// The quantity in force from a day on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuantityStep {
    pub from: NaiveDate,
    pub quantity: u32,
}

/// A licence's lifecycle facts, as an entry shows them before and after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenseState {
    pub term: Term,
    /// The term in force on the entry's day, and the renewed one ahead.
    pub current_term: Term,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_term: Option<NextTerm>,
    /// The quantity in force from the term start on, and each change after.
    pub quantities: Vec<QuantityStep>,
    pub invoice_number: String,
    pub cancelled: bool,
}

impl LicenseState {
    /// `l`'s facts as of `day` (the entry's).
    pub fn of(l: &License, day: NaiveDate) -> Self {
        let q = l.quantities();
        let mut quantities = vec![QuantityStep { from: l.term.start, quantity: q.base }];
        quantities.extend(
            q.steps
                .range(l.term.start..=l.term.end)
                .map(|(from, quantity)| QuantityStep { from: *from, quantity: *quantity }),
        );
        // A step on the first day replaces the base quantity.
        quantities.dedup_by(|b, a| {
            let same_day = a.from == b.from;
            if same_day {
                a.quantity = b.quantity;
            }
            same_day
        });
        Self {
            term: l.term,
            current_term: l.current_term(day),
            next_term: l.next_term(day),
            quantities,
            invoice_number: l.invoice_on(day).to_string(),
            cancelled: l.cancelled,
        }
    }
}

/// What an entry shows before and after the change: an assignment's period
/// and status, a licence's lifecycle facts, or an invitation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum State {
    Assignment(AssignmentState),
    License(LicenseState),
    Invitation(Invitation),
    /// v3: a licence's reclaim policy.
    Reclaim(ReclaimPolicy),
    /// v3: a group's link to the licence.
    Link(LinkState),
}

/// One change, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub customer_id: String,
    pub license_id: String,
    /// Orders the entries of a licence (time first); also the cursor.
    pub id: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: Action,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub before: Option<State>,
    #[serde(default)]
    pub after: Option<State>,
    /// The operation of several transactions (a bulk assign, a renewal or
    /// cancellation) that wrote this entry: hidden while it is pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    /// The licence version that committed that operation (see
    /// [`License::hides`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op_version: Option<u64>,
    /// Why, when the change was not an admin's own decision (v3):
    /// `deprovisioned` (an identity provider deactivated the person), …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Entry {
    /// An entry about `license`, its id unique by chance (a fresh ULID at `at`).
    pub fn new(license: &License, at: DateTime<Utc>, actor: &str, action: Action) -> Self {
        Self::on(&license.customer_id, &license.license_id, at, actor, action)
    }

    /// [`Entry::new`], by the licence's ids.
    pub fn on(
        customer_id: &str,
        license_id: &str,
        at: DateTime<Utc>,
        actor: &str,
        action: Action,
    ) -> Self {
        // Ordered by when the entry was made, to the millisecond (`at` is
        // to the second, and shifted by the clock of tests that look ahead).
        let made = Utc::now().timestamp_millis() as u64;
        let id = ulid::Ulid::from_parts(made, rand_bits()).to_string();
        Self {
            customer_id: customer_id.to_string(),
            license_id: license_id.to_string(),
            id,
            at,
            actor: actor.to_string(),
            action,
            email: None,
            before: None,
            after: None,
            op: None,
            op_version: None,
            reason: None,
        }
    }

    /// v3: the entry of a committed change from `before` (`None`: a new
    /// licence) to `after` that leaves no seat free (`availableSeats` 0 on
    /// the change's day) where one was free before: `license.seats-exhausted`,
    /// once per running out, since a licence at 0 stays there until seats
    /// are free again.
    pub fn seats_exhausted(
        before: Option<&License>,
        after: &License,
        at: DateTime<Utc>,
        actor: &str,
    ) -> Option<Self> {
        let today = at.date_naive();
        let was_free = before.is_none_or(|b| b.counts(today).available_seats > 0);
        (was_free && after.counts(today).available_seats == 0)
            .then(|| Self::new(after, at, actor, Action::LicenseSeatsExhausted))
    }

    /// This entry, saying why.
    pub fn because(self, reason: Option<&str>) -> Self {
        Self { reason: reason.map(str::to_string), ..self }
    }

    /// An entry of operation `op` (a ULID, made when the operation began):
    /// its id follows from the operation, the address and the action, so a
    /// retried step writes the same entry again, ordered at the operation's
    /// time.
    pub fn of_op(
        license: &License,
        op: &str,
        at: DateTime<Utc>,
        actor: &str,
        action: Action,
        email: &str,
    ) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(op)
            .chain_update("\n")
            .chain_update(email)
            .chain_update("\n")
            .chain_update(format!("{action:?}"))
            .finalize();
        let mut bits = [0u8; 16];
        bits[6..].copy_from_slice(&digest[..10]);
        let time =
            op.parse::<ulid::Ulid>().map_or(at.timestamp_millis() as u64, |u| u.timestamp_ms());
        let id = ulid::Ulid::from_parts(time, u128::from_be_bytes(bits));
        Self {
            id: id.to_string(),
            op: Some(op.to_string()),
            op_version: Some(license.version),
            ..Self::new(license, at, actor, action)
        }
        .about(email)
    }

    /// This entry, ordered right after `earlier` (of the same instant).
    pub fn following(mut self, earlier: &Entry) -> Self {
        let next = earlier.id.parse::<ulid::Ulid>().ok().and_then(|id| id.increment());
        if let Some(next) = next {
            self.id = next.to_string();
        }
        self
    }

    pub fn about(mut self, email: &str) -> Self {
        self.email = Some(email.to_string());
        self
    }

    pub fn before(mut self, state: State) -> Self {
        self.before = Some(state);
        self
    }

    pub fn after(mut self, state: State) -> Self {
        self.after = Some(state);
        self
    }

    /// An assignment's entry, its state before (if it existed) and after,
    /// each as of the day of the change.
    pub fn assignment(
        license: &License,
        at: DateTime<Utc>,
        actor: &str,
        action: Action,
        before: Option<&Assignment>,
        after: &Assignment,
    ) -> Self {
        let today = at.date_naive();
        let mut e = Self::new(license, at, actor, action).about(&after.email);
        e.before = before.map(|b| State::Assignment(AssignmentState::of(b, today)));
        e.after(State::Assignment(AssignmentState::of(after, today)))
    }
}

fn rand_bits() -> u128 {
    ulid::Ulid::new().random()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_spelled_as_the_contract_says() {
        for (action, text) in [
            (Action::LicensePurchased, "license.purchased"),
            (Action::LicenseQuantityChanged, "license.quantity-changed"),
            (Action::AssignmentRevoked, "assignment.revoked"),
            (Action::InvitationResent, "invitation.resent"),
            (Action::LicenseSeatsExhausted, "license.seats-exhausted"),
            (Action::InvitationAccepted, "invitation.accepted"),
            (Action::AssignmentReclaimWarned, "assignment.reclaim-warned"),
        ] {
            assert_eq!(serde_json::to_value(action).unwrap(), text);
        }
    }

    #[test]
    fn running_out_of_seats_is_recorded_once_until_seats_are_free_again() {
        let at: DateTime<Utc> = "2026-06-01T10:00:00Z".parse().unwrap();
        let year = crate::model::Period::new(at.date_naive(), "2026-12-31".parse().unwrap());
        let with = |used: u32| {
            let mut l = License::sample(2);
            l.seats.add(year, used);
            l
        };
        let exhausted = |before: Option<&License>, after: &License| {
            Entry::seats_exhausted(before, after, at, "x").map(|e| e.action)
        };
        assert_eq!(exhausted(Some(&with(1)), &with(2)), Some(Action::LicenseSeatsExhausted));
        assert_eq!(exhausted(Some(&with(2)), &with(2)), None, "at 0 already: told before");
        assert_eq!(exhausted(Some(&with(0)), &with(1)), None, "one still free");
        assert_eq!(exhausted(None, &with(2)), Some(Action::LicenseSeatsExhausted), "bought full");
        // A seat that ends before the term does: free from then on, not today.
        let mut ending = with(1);
        ending
            .seats
            .add(crate::model::Period::new(at.date_naive(), "2026-06-30".parse().unwrap()), 1);
        assert_eq!(exhausted(Some(&with(1)), &ending), Some(Action::LicenseSeatsExhausted));
    }

    #[test]
    fn entries_of_an_operation_have_stable_ids_in_time_order() {
        let l = License::sample(3);
        let at: DateTime<Utc> = "2026-06-01T10:00:00Z".parse().unwrap();
        let a = Entry::of_op(&l, "b1", at, "x", Action::AssignmentCreated, "a@example.com");
        let again = Entry::of_op(&l, "b1", at, "x", Action::AssignmentCreated, "a@example.com");
        let other = Entry::of_op(&l, "b1", at, "x", Action::AssignmentCreated, "b@example.com");
        assert_eq!(a, again);
        assert_ne!(a.id, other.id);
        let later = Entry::new(&l, at, "x", Action::LicenseRenewed);
        assert!(later.id > a.id && later.id > other.id, "ids sort by when they were made");
        let op = ulid::Ulid::new().to_string();
        let of_op = Entry::of_op(&l, &op, at, "x", Action::AssignmentChanged, "a@example.com");
        assert_eq!(of_op.id[..10], op[..10], "at the operation's time");
    }

    #[test]
    fn states_read_back_as_what_they_were() {
        let l = License::sample(3);
        for state in [
            State::License(LicenseState::of(&l, l.term.start)),
            State::Invitation(Invitation::new(super::super::InvitationStatus::Sent)),
        ] {
            let json = serde_json::to_value(&state).unwrap();
            assert_eq!(serde_json::from_value::<State>(json).unwrap(), state);
        }
    }
}
