//! The pending-operation protocol, written once (the model is
//! [`crate::model::Operation`]). An operation too large for one transaction
//! commits by putting its marker on the licence, in the same transaction as
//! the licence's change. The driver then writes what the operation feeds it
//! in chunks, each chunk one transaction that holds only while the marker is
//! still there, and clears the marker under the licence's version. Any
//! writer that meets a marker finishes the operation first, and so does the
//! minute's finisher, so a crashed writer never leaves it half-done; every
//! chunk is safe to write twice.
//!
//! Each kind only says what is left and what a chunk writes: [`bulk`]'s
//! batch of new assignments, [`fanout`]'s moves of a renewal or cancellation.
//!
//! [`bulk`]: super::bulk
//! [`fanout`]: super::fanout

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::retry::{MAX_ATTEMPTS, commit_unless_refused};
use super::{bulk, fanout};
use crate::App;
use crate::error::{Error, Result};
use crate::model::{License, Operation};
use crate::store::{MAX_TRANSACTION_ITEMS, Write};

/// Items per chunk: pairs of an item and its history entry, beside the
/// check that the operation is still pending.
pub const CHUNK: usize = (MAX_TRANSACTION_ITEMS - 1) / 2;

/// What one kind of operation feeds the driver.
pub(crate) trait Feed {
    type Item;
    /// What is left to write, as far as this writer can tell: read strongly
    /// unless the writer that committed it still knows it.
    async fn left(&mut self, app: &App) -> Result<Vec<Self::Item>>;
    /// The writes of one chunk of what is left (without the pending check).
    async fn writes(&mut self, app: &App, chunk: &[Self::Item]) -> Result<Vec<Write>>;
}

/// Writes what `feed` has left in chunks, while `license`'s operation is
/// still pending, then clears the marker. Several writers may run it at
/// once: a refused chunk means another one got further, so this one reads
/// again what is left, or stops when the operation is over.
pub(crate) async fn drive<F: Feed>(app: &App, license: &License, mut feed: F) -> Result<()> {
    let Some(op) = license.pending_op() else {
        return Ok(());
    };
    let (customer, id) = (&license.customer_id, &license.license_id);
    for _round in 0..MAX_ATTEMPTS {
        if !wrote_all(app, license, op, &mut feed).await? {
            match app.store.license(customer, id).await? {
                Some(now) if now.pending_op() == Some(op) => continue,
                _ => return Ok(()),
            }
        }
        let mut done = license.clone();
        done.operation = None;
        done.version += 1;
        let clear = [Write::License { license: done, expected_version: Some(license.version) }];
        // Refused: another writer cleared it first.
        commit_unless_refused(&app.store, &clear).await?;
        return Ok(());
    }
    Err(Error::Unavailable(format!("operation {op} kept being refused")))
}

/// One pass over what is left; `false` when a chunk was refused.
async fn wrote_all<F: Feed>(app: &App, license: &License, op: &str, feed: &mut F) -> Result<bool> {
    let left = feed.left(app).await?;
    for chunk in left.chunks(CHUNK) {
        let mut writes = Vec::with_capacity(MAX_TRANSACTION_ITEMS);
        writes.push(Write::StillPending {
            customer_id: license.customer_id.clone(),
            license_id: license.license_id.clone(),
            op: op.to_string(),
        });
        writes.extend(feed.writes(app, chunk).await?);
        if !commit_unless_refused(&app.store, &writes).await? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Finishes whatever operation is pending on `license`: every writer does
/// that before it decides anything.
pub(crate) async fn finish(app: &App, license: &License) -> Result<()> {
    match &license.operation {
        Some(Operation::Batch(_)) => drive(app, license, bulk::Batch::read(license)).await,
        Some(Operation::Fanout(f)) => drive(app, license, fanout::Moves::read(license, f)).await,
        None => Ok(()),
    }
}

/// How long an HTTP request may spend finishing another operation's work
/// (API.md v3, "Bounded requests").
pub const FINISHING_BUDGET: Duration = Duration::from_secs(2);
/// What a request that ran out of it tells its client to wait, in seconds.
pub const OPERATION_PENDING_RETRY_AFTER: u32 = 2;

/// [`finish`] for an HTTP request. A fan-out (a renewal's or cancellation's
/// moves, without bound in size) gets at most [`FINISHING_BUDGET`], then 503
/// `operation-pending`: what it finished stays done (every chunk is its own
/// conditional transaction, so one cut short by the deadline is either
/// written or not), and the next finisher queries only what is left to
/// move, so every attempt makes progress. A bulk batch a crashed request
/// left (1000 addresses at most, some twenty transactions) is finished
/// whole: its completion writes every chunk again, so cutting it would let
/// no attempt get further than the last.
pub(crate) async fn finish_for_request(app: &App, license: &License) -> Result<()> {
    if let Some(Operation::Batch(_)) = license.operation {
        return finish(app, license).await;
    }
    match tokio::time::timeout(FINISHING_BUDGET, finish(app, license)).await {
        Ok(finished) => finished,
        Err(_) => {
            tracing::warn!(license_id = %license.license_id, "operation still pending after the finishing budget");
            Err(Error::OperationPending { retry_after: OPERATION_PENDING_RETRY_AFTER })
        }
    }
}

/// How old a pending operation must be before the minute's finisher takes
/// it on: its own request or invocation is done with it by then, or dead.
pub const STALLED_AFTER_SECONDS: i64 = 30;

/// The minute's finisher: every operation still pending that started over
/// [`STALLED_AFTER_SECONDS`] before `now` (its writer died, and no request
/// came by), finished. Answers how many it finished.
pub async fn finish_stalled(app: &App, now: DateTime<Utc>) -> Result<u32> {
    let before = now - chrono::Duration::seconds(STALLED_AFTER_SECONDS);
    let mut finished = 0;
    for (customer_id, license_id) in app.store.stalled_operations(before).await? {
        // Read again, strongly: the index may be behind.
        let Some(license) = app.store.license(&customer_id, &license_id).await? else {
            continue;
        };
        if license.operation.is_some() {
            finish(app, &license).await?;
            tracing::info!(%license_id, "finished an operation its writer left");
            finished += 1;
        }
    }
    Ok(finished)
}
