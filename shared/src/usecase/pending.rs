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
//! Who finishes an operation a writer left is [`finish`]'s.
//!
//! [`bulk`]: super::bulk
//! [`fanout`]: super::fanout
//! [`finish`]: super::finish

use super::retry::{MAX_ATTEMPTS, commit_unless_refused};
use crate::App;
use crate::error::{Error, Result};
use crate::model::License;
use crate::store::{MAX_TRANSACTION_ITEMS, Write};

/// Items per chunk: pairs of an item and its history entry, beside the
/// check that the operation is still pending.
pub const CHUNK: usize = (MAX_TRANSACTION_ITEMS - 1) / 2;

/// What one kind of operation feeds the driver.
pub(crate) trait Feed {
    type Item;
    /// How many items one chunk writes (each with its history entry).
    const PER_CHUNK: usize = CHUNK;
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
    for chunk in left.chunks(F::PER_CHUNK) {
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
