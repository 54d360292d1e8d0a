//! The fan-out protocol: a renewal or cancellation that moves more
//! assignment periods than one transaction holds stays all or nothing for
//! readers, like the bulk assign. The licence item takes the change with a
//! `fanout` marker that keeps the licence as it was (the commit point, with
//! the event's record and the licence's history entry); the moves are then
//! written in transactions of 49 (each move with its history entry, each
//! transaction only while the fan-out is still pending), and the marker is
//! cleared. Readers see the licence and the items as they were until then;
//! any writer that meets the marker finishes the fan-out first.

use chrono::{DateTime, Utc};

use super::retry::{MAX_ATTEMPTS, Step, commit_unless_refused, committed};
use super::revoke::on_revoke;
use crate::App;
use crate::error::{Error, Result};
use crate::lifecycle::{self, Decided, Move};
use crate::model::{
    Action, Assignment, AssignmentState, Entry, Fanout, Invitation, InvitationError, License,
    SYSTEM, State,
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

/// Items of the commit besides the moves: licence, event record, entry.
const COMMIT_OVERHEAD: usize = 3;

/// Commits a lifecycle change: in one transaction when its moves fit, else
/// as a fan-out finished before this returns.
pub async fn commit(app: &App, c: Commit<'_>) -> Result<Step<()>> {
    let Decided { mut license, change, moves, .. } = c.decided;
    let single = COMMIT_OVERHEAD + 2 * moves.len() <= MAX_TRANSACTION_ITEMS;
    if let (false, Some(change)) = (single, change) {
        let before = Box::new(c.before.clone());
        license.fanout = Some(Fanout { id: c.op.clone(), at: c.at, change, before });
    }
    let mut writes = vec![
        Write::License { license: license.clone(), expected_version: Some(c.before.version) },
        Write::OrderEvent(c.record),
        Write::Entry(Entry {
            op: Some(c.op.clone()),
            op_version: Some(license.version),
            ..c.entry
        }),
    ];
    if single {
        for (a, m) in &moves {
            writes.extend(move_writes(&license, &c.op, c.at, a, *m));
        }
    }
    match committed(app.store.transact(&writes).await)? {
        // The moves just decided are what is left: no need to read them again.
        Step::Done(()) if license.fanout.is_some() => {
            finish(app, &license, Some(moves)).await?;
            Ok(Step::Done(()))
        }
        step => Ok(step),
    }
}

/// Finishes the fan-out pending on `license`: moves what is left, in
/// chunks, then clears the marker. Safe to run by several writers at once.
pub async fn complete(app: &App, license: &License) -> Result<()> {
    finish(app, license, None).await
}

/// [`complete`], with what is left to move when the caller knows it.
async fn finish(
    app: &App,
    license: &License,
    mut known: Option<Vec<(Assignment, Move)>>,
) -> Result<()> {
    let Some(fanout) = &license.fanout else {
        return Ok(());
    };
    let (customer, id) = (&license.customer_id, &license.license_id);
    for _round in 0..MAX_ATTEMPTS {
        let left = match known.take() {
            Some(left) => left,
            None => app
                .store
                .all_assignments(customer, id)
                .await?
                .into_iter()
                .filter(|a| a.undo.as_ref().is_none_or(|u| u.op != fanout.id))
                .filter_map(|a| fanout.change.apply(&a).map(|m| (a, m)))
                .collect(),
        };
        if !moved_all(app, license, fanout, &left).await? {
            // Refused: another writer moved some of them, or finished it all.
            match app.store.license(customer, id).await? {
                Some(now) if now.fanout.as_ref().is_some_and(|f| f.id == fanout.id) => continue,
                _ => return Ok(()),
            }
        }
        let mut done = license.clone();
        done.fanout = None;
        done.version += 1;
        let clear = [Write::License { license: done, expected_version: Some(license.version) }];
        // Refused: another writer cleared it first.
        commit_unless_refused(&app.store, &clear).await?;
        return Ok(());
    }
    Err(Error::Unavailable(format!("fan-out {} kept being refused", fanout.id)))
}

/// Writes `left` in chunks while the fan-out is pending; `false` when a
/// chunk was refused.
async fn moved_all(
    app: &App,
    license: &License,
    fanout: &Fanout,
    left: &[(Assignment, Move)],
) -> Result<bool> {
    for chunk in left.chunks((MAX_TRANSACTION_ITEMS - 1) / 2) {
        let mut writes = Vec::with_capacity(MAX_TRANSACTION_ITEMS);
        writes.push(Write::StillPending {
            customer_id: license.customer_id.clone(),
            license_id: license.license_id.clone(),
            op: fanout.id.clone(),
        });
        for (a, m) in chunk {
            writes.extend(move_writes(license, &fanout.id, fanout.at, a, *m));
        }
        if !commit_unless_refused(&app.store, &writes).await? {
            return Ok(false);
        }
    }
    Ok(true)
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
            (Write::Move { customer_id, license_id, email, until, undo }, Action::AssignmentChanged)
        }
        Move::Revoke => {
            let invitation = on_revoke(a, at.timestamp());
            if let OnRevoke::Cancel { .. } = invitation {
                after.invitation = Invitation::failed(InvitationError::NotSent);
            }
            let by = SYSTEM.to_string();
            let undo = Some(undo);
            let revoke = Write::Revoke { customer_id, license_id, email, at, by, invitation, undo };
            (revoke, Action::AssignmentRevoked)
        }
    };
    let entry = Entry::of_op(license, op, at, SYSTEM, action, &a.email)
        .before(State::Assignment(AssignmentState::of(a, today)))
        .after(State::Assignment(AssignmentState::of(&after, today)));
    [write, Write::Entry(entry)]
}
