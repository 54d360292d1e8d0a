//! The bulk protocol: an assign too large for one transaction stays all or
//! nothing. The request reserves its seats on the licence item with a
//! `pending` batch (the commit point); the assignment items and their
//! history entries are then written in transactions of 49 pairs, each only
//! while the batch is still pending, and the marker is cleared. Readers hide a pending batch; any writer that meets
//! one finishes it first, so a crashed request never stays half-done.

use std::collections::HashMap;

use super::retry::commit_unless_refused;
use crate::App;
use crate::error::Result;
use crate::model::{Action, Assignment, AssignmentState, Entry, License, PendingBatch, State};
use crate::plan;
use crate::store::{MAX_TRANSACTION_ITEMS, Write};

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
    let pairs = (MAX_TRANSACTION_ITEMS - 1) / 2;
    for chunk in plan::batch_assignments(license).chunks(pairs) {
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
        writes.push(Write::StillPending {
            customer_id: license.customer_id.clone(),
            license_id: license.license_id.clone(),
            op: batch.id.clone(),
        });
        for a in chunk {
            let item = plan::batch_item(a.clone(), existing.remove(&a.email));
            writes.extend([
                Write::Entry(created(license, &batch.id, &item)),
                Write::Assignment(item),
            ]);
        }
        // Someone else finished the batch already: nothing left to do.
        if !commit_unless_refused(&app.store, &writes).await? {
            return Ok(());
        }
    }
    let mut done = license.clone();
    done.pending = None;
    done.version += 1;
    let clear = [Write::License { license: done, expected_version: Some(license.version) }];
    // A failed condition: another writer cleared it (or moved on) first.
    commit_unless_refused(&app.store, &clear).await.map(|_| ())
}

/// The history entry of a batch item: the same one however often its chunk
/// is written.
fn created(license: &License, op: &str, a: &Assignment) -> Entry {
    let (at, by) = (a.assigned_at, &a.assigned_by);
    let state = State::Assignment(AssignmentState::of(a, at.date_naive()));
    Entry::of_op(license, op, at, by, Action::AssignmentCreated, &a.email).after(state)
}
