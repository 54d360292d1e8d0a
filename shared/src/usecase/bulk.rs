//! The bulk protocol: an assign too large for one transaction stays all or
//! nothing. The request reserves its seats on the licence item with a
//! `pending` batch (the commit point); the assignment items are then written
//! in transactions of 99, each only while the batch is still pending, and
//! the marker is cleared. Readers hide a pending batch; any writer that meets
//! one finishes it first, so a crashed request never stays half-done.

use std::collections::HashMap;

use super::retry::{Step, retry_on_conflict};
use crate::App;
use crate::error::Result;
use crate::model::{Assignment, License, PendingBatch};
use crate::plan;
use crate::store::{MAX_TRANSACTION_ITEMS, TxError, Write};

/// The pending batch that reserves `new` (all of one request: one period,
/// author and language).
pub fn batch_of(new: &[Assignment]) -> PendingBatch {
    let first = &new[0];
    PendingBatch {
        id: ulid::Ulid::new().to_string(),
        emails: new.iter().map(|a| a.email.clone()).collect(),
        replaced: Vec::new(),
        period: first.period(),
        assigned_at: first.assigned_at,
        assigned_by: first.assigned_by.clone(),
        language: first.language,
    }
}

/// Finishes the bulk batch reserved on `license`: writes its items, then
/// clears the marker. `known`: the assignments the batch replaces, when the
/// caller has just read them (the request that reserved it); others are read
/// per chunk.
pub async fn complete(
    app: &App,
    license: &License,
    known: Option<&HashMap<String, Assignment>>,
) -> Result<()> {
    let Some(batch) = &license.pending else {
        return Ok(());
    };
    for chunk in plan::batch_assignments(license).chunks(MAX_TRANSACTION_ITEMS - 1) {
        let mut existing = match known {
            Some(known) => chunk
                .iter()
                .filter_map(|a| Some((a.email.clone(), known.get(&a.email)?.clone())))
                .collect(),
            None => {
                let emails: Vec<String> = chunk.iter().map(|a| a.email.clone()).collect();
                let (_, found) = app
                    .store
                    .license_and_assignments(&license.customer_id, &license.license_id, &emails)
                    .await?;
                found
            }
        };
        let mut writes = Vec::with_capacity(MAX_TRANSACTION_ITEMS);
        writes.push(Write::BatchStillPending {
            customer_id: license.customer_id.clone(),
            license_id: license.license_id.clone(),
            batch_id: batch.id.clone(),
        });
        writes.extend(
            chunk
                .iter()
                .map(|a| Write::Assignment(plan::batch_item(a.clone(), existing.remove(&a.email)))),
        );
        // Someone else finished the batch already: nothing left to do.
        if !write_while_pending(app, &writes).await? {
            return Ok(());
        }
    }
    let mut done = license.clone();
    done.pending = None;
    done.version += 1;
    let clear = [Write::License { license: done, expected_version: Some(license.version) }];
    // A failed condition: another writer cleared it (or moved on) first.
    write_while_pending(app, &clear).await.map(|_| ())
}

/// Commits `writes`, retrying only on conflicts; `false` when a condition
/// failed (the batch is no longer pending).
async fn write_while_pending(app: &App, writes: &[Write]) -> Result<bool> {
    retry_on_conflict("batch completion", || async {
        match app.store.transact(writes).await {
            Ok(()) => Ok(Step::Done(true)),
            Err(TxError::Condition(_)) => Ok(Step::Done(false)),
            Err(TxError::Busy) => Ok(Step::Again),
            Err(TxError::Failed(e)) => Err(e),
        }
    })
    .await
}
