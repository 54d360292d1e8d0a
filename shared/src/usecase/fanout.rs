//! A renewal's or cancellation's fan-out as a pending operation (see
//! [`super::pending`]): a change that moves more assignment periods than one
//! transaction holds commits on the licence with a fan-out marker that keeps
//! the licence as it was (with the event's record and the licence's history
//! entry); the moves, each with its history entry, are then written in
//! chunks. Readers see the licence and the items as they were until then.

use chrono::{DateTime, Utc};

use super::pending::{self, Feed};
use super::retry::{Step, committed};
use crate::App;
use crate::error::Result;
use crate::lifecycle::{self, Decided, Move};
use crate::model::{
    Action, Assignment, AssignmentState, Entry, Fanout, Invitation, InvitationError, License,
    Operation, SYSTEM, State,
};
use crate::store::{MAX_TRANSACTION_ITEMS, OnRevoke, OrderEvent, Write};

/// A decided lifecycle change, ready to commit.
pub struct Commit<'a> {
    /// The licence as read (its version is the commit's condition).
    pub before: &'a License,
    pub decided: Decided,
    /// The operation's id: on its entries and on every item it moves.
    pub op: String,
    pub at: DateTime<Utc>,
    /// The licence's own history entry.
    pub entry: Entry,
    pub record: OrderEvent,
}

/// Items of the commit besides the moves: licence, event record, entry, and
/// (v3) the entry of seats running out.
const COMMIT_OVERHEAD: usize = 4;

/// Commits a lifecycle change: in one transaction when its moves fit, else
/// as a fan-out finished before this returns.
pub async fn commit(app: &App, c: Commit<'_>) -> Result<Step<()>> {
    let Decided { mut license, change, moves, .. } = c.decided;
    let single = COMMIT_OVERHEAD + 2 * moves.len() <= MAX_TRANSACTION_ITEMS;
    if let (false, Some(change)) = (single, change) {
        let before = Box::new(c.before.clone());
        license.operation =
            Some(Operation::Fanout(Fanout { id: c.op.clone(), at: c.at, change, before }));
    }
    let entry = Entry { op: Some(c.op.clone()), op_version: Some(license.version), ..c.entry };
    // v3: a lifecycle event that leaves no seat free is recorded (the buyer is told).
    let exhausted = Entry::seats_exhausted(Some(c.before), &license, c.at, SYSTEM).map(|e| {
        Write::Entry(Entry {
            op: entry.op.clone(),
            op_version: entry.op_version,
            ..e.following(&entry)
        })
    });
    let mut writes = vec![
        Write::License { license: license.clone(), expected_version: Some(c.before.version) },
        Write::OrderEvent(c.record),
        Write::Entry(entry),
    ];
    writes.extend(exhausted);
    if single {
        for (a, m) in &moves {
            writes.extend(move_writes(&license, &c.op, c.at, a, *m));
        }
    }
    match committed(app.store.transact(&writes).await)? {
        // The moves just decided are what is left: no need to read them again.
        Step::Done(()) => {
            if let Some(Operation::Fanout(fanout)) = &license.operation {
                let feed = Moves { license: &license, fanout, known: Some(moves) };
                pending::drive(app, &license, feed).await?;
            }
            Ok(Step::Done(()))
        }
        step => Ok(step),
    }
}

/// What a fan-out has left to move: the items its change still applies to
/// and that it has not moved yet (read strongly, unless the writer that
/// committed it still knows them).
pub(crate) struct Moves<'a> {
    license: &'a License,
    fanout: &'a Fanout,
    known: Option<Vec<(Assignment, Move)>>,
}

impl<'a> Moves<'a> {
    /// The fan-out pending on `license`, for a writer that finishes it.
    pub fn read(license: &'a License, fanout: &'a Fanout) -> Self {
        Self { license, fanout, known: None }
    }
}

impl Feed for Moves<'_> {
    type Item = (Assignment, Move);

    async fn left(&mut self, app: &App) -> Result<Vec<(Assignment, Move)>> {
        if let Some(known) = self.known.take() {
            return Ok(known);
        }
        let (customer, id, op) =
            (&self.license.customer_id, &self.license.license_id, &self.fanout.id);
        Ok(app
            .store
            .all_assignments(customer, id)
            .await?
            .into_iter()
            .filter(|a| a.undo.as_ref().is_none_or(|u| &u.op != op))
            .filter_map(|a| self.fanout.change.apply(&a).map(|m| (a, m)))
            .collect())
    }

    async fn writes(&mut self, _app: &App, chunk: &[(Assignment, Move)]) -> Result<Vec<Write>> {
        let (license, op, at) = (self.license, &self.fanout.id, self.fanout.at);
        Ok(chunk.iter().flat_map(|(a, m)| move_writes(license, op, at, a, *m)).collect())
    }
}

/// One move and its history entry (the same entry however often a chunk is
/// written). The item keeps what it was, for readers until the end.
fn move_writes(
    license: &License,
    op: &str,
    at: DateTime<Utc>,
    a: &Assignment,
    m: Move,
) -> [Write; 2] {
    let (customer_id, license_id, email) =
        (license.customer_id.clone(), license.license_id.clone(), a.email.clone());
    let mut after = lifecycle::moved(a, m, op, license.version, at);
    let undo = after.undo.clone().expect("a moved item keeps what it was");
    let today = at.date_naive();
    let (write, action) = match m {
        Move::EndOn(until) => {
            let idle_due = after.reclaim_rule.and_then(|rule| rule.due_on(&after));
            let write = Write::Move { customer_id, license_id, email, until, undo, idle_due };
            (write, Action::AssignmentChanged)
        }
        Move::Revoke => {
            let invitation = OnRevoke::of(a, at.timestamp());
            if let OnRevoke::Cancel { .. } = invitation {
                after.invitation = Invitation::failed(InvitationError::NotSent);
            }
            let by = SYSTEM.to_string();
            let undo = Some(undo);
            let revoke = Write::Revoke {
                customer_id,
                license_id,
                email,
                at,
                by,
                invitation,
                undo,
                unused: None,
            };
            (revoke, Action::AssignmentRevoked)
        }
    };
    let entry = Entry::of_op(license, op, at, SYSTEM, action, &a.email)
        .before(State::Assignment(AssignmentState::of(a, today)))
        .after(State::Assignment(AssignmentState::of(&after, today)));
    [write, Write::Entry(entry)]
}
