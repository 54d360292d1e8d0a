//! A bulk assign as a pending operation (see [`super::pending`]): an assign
//! too large for one transaction reserves its seats on the licence with a
//! batch marker (the commit point); its assignment items and their history
//! entries are then written in chunks. Readers hide a pending batch.

use std::collections::HashMap;

use super::pending::Feed;
use crate::App;
use crate::error::Result;
use crate::model::{Action, Assignment, AssignmentState, Entry, License, PendingBatch, State};
use crate::plan;
use crate::store::Write;

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

/// What a batch has left to write: its assignment items, each taking over
/// the item of the same address it replaces. The request that reserved it
/// knows those already; any other writer reads them per chunk.
pub(crate) struct Batch<'a> {
    license: &'a License,
    op: &'a str,
    known: Option<&'a HashMap<String, Assignment>>,
}

impl<'a> Batch<'a> {
    /// The batch pending on `license`, for a writer that finishes it.
    pub fn read(license: &'a License) -> Self {
        Self { license, op: license.pending_op().unwrap_or_default(), known: None }
    }

    /// The batch the caller has just reserved, with the items it read.
    pub fn known(license: &'a License, known: &'a HashMap<String, Assignment>) -> Self {
        Self { known: Some(known), ..Self::read(license) }
    }
}

impl Feed for Batch<'_> {
    type Item = Assignment;

    /// All of the batch, every time: its items are written whole again,
    /// the same however often.
    async fn left(&mut self, _app: &App) -> Result<Vec<Assignment>> {
        Ok(plan::batch_assignments(self.license))
    }

    async fn writes(&mut self, app: &App, chunk: &[Assignment]) -> Result<Vec<Write>> {
        let license = self.license;
        let mut existing = match self.known {
            Some(known) => chunk
                .iter()
                .filter_map(|a| Some((a.email.clone(), known.get(&a.email)?.clone())))
                .collect(),
            None => {
                let emails: Vec<String> = chunk.iter().map(|a| a.email.clone()).collect();
                let (customer, id) = (&license.customer_id, &license.license_id);
                app.store.license_and_assignments(customer, id, &emails).await?.1
            }
        };
        let mut writes = Vec::with_capacity(2 * chunk.len());
        for a in chunk {
            let item = plan::batch_item(a.clone(), existing.remove(&a.email));
            writes
                .extend([Write::Entry(created(license, self.op, &item)), Write::Assignment(item)]);
        }
        Ok(writes)
    }
}

/// The history entry of a batch item: the same one however often its chunk
/// is written.
pub(crate) fn created(license: &License, op: &str, a: &Assignment) -> Entry {
    let (at, by) = (a.assigned_at, &a.assigned_by);
    let state = State::Assignment(AssignmentState::of(a, at.date_naive()));
    Entry::of_op(license, op, at, by, Action::AssignmentCreated, &a.email).after(state)
}
