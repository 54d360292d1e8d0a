//! A licence's life after purchase, decided by pure rules over the licence
//! and its assignments (no I/O): a renewal, a change of the quantity, a
//! cancellation. The use case (`usecase::lifecycle`) commits what these
//! decide, in one transaction or as a fan-out.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Assignment, BoughtTerm, License, Period, PeriodChange, SYSTEM, Term, Undo};

/// `a` after the move `m` of the operation `op` (committed at licence
/// version `version`) at `at`: its new end, or revoked by `system`, and what
/// it was, for readers until the operation is complete. Its invitation is
/// the caller's (whether a revocation cancels it depends on a claim).
pub fn moved(a: &Assignment, m: Move, op: &str, version: u64, at: DateTime<Utc>) -> Assignment {
    let mut after = a.clone();
    let mut undo =
        Undo { op: op.to_string(), version, valid_until: a.valid_until, invitation: None };
    match m {
        Move::EndOn(until) => after.valid_until = until,
        Move::Revoke => {
            undo.invitation = Some(a.invitation.clone());
            after.revoked_at = Some(at);
            after.revoked_by = Some(SYSTEM.to_string());
        }
    }
    after.undo = Some(undo);
    after
}

/// `LicenseRenewed`: the next term, its invoice, and a quantity from its start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Renewal {
    pub term: Term,
    pub invoice_number: String,
    pub quantity: Option<u32>,
}

/// `LicenseQuantityChanged`: a quantity from the day the order system issued it on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuantityChange {
    pub quantity: u32,
    pub invoice_number: Option<String>,
}

/// `LicenseCancelled`: the licence's last day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cancellation {
    pub last_day: NaiveDate,
}

/// What a change of periods does to one assignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    /// Its period now ends on this day.
    EndOn(NaiveDate),
    /// Revoked by `system`: it would start after the licence's last day.
    Revoke,
}

/// A lifecycle event decided: the licence after it and the assignments it
/// moves (each as it was, with its move).
#[derive(Clone, Debug, PartialEq)]
pub struct Decided {
    pub license: License,
    pub change: Option<PeriodChange>,
    pub moves: Vec<(Assignment, Move)>,
    /// Assignments that kept their old end (a renewal with fewer seats).
    pub stayed: usize,
}

impl PeriodChange {
    /// What this change does to `a`, as `a` was before it; `None`: nothing.
    pub fn apply(&self, a: &Assignment) -> Option<Move> {
        if a.is_revoked() {
            return None;
        }
        match self {
            PeriodChange::Follow { old_end, new_end, first_staying } => {
                let follows = first_staying.as_ref().is_none_or(|limit| key(a) < key_of(limit));
                (a.valid_until == *old_end && follows).then_some(Move::EndOn(*new_end))
            }
            PeriodChange::Clip { last_day } if a.valid_until > *last_day => {
                Some(if a.valid_from > *last_day { Move::Revoke } else { Move::EndOn(*last_day) })
            }
            PeriodChange::Clip { .. } => None,
        }
    }
}

/// The order in which a renewal with fewer seats keeps assignments going:
/// the earliest assigned first (the address breaks ties).
fn key(a: &Assignment) -> (DateTime<Utc>, &str) {
    (a.assigned_at, &a.email)
}

fn key_of(limit: &(DateTime<Utc>, String)) -> (DateTime<Utc>, &str) {
    (limit.0, &limit.1)
}

/// The day after `date` (the calendar ends long after any licence).
fn next(date: NaiveDate) -> NaiveDate {
    date.succ_opt().unwrap_or(date)
}

/// A renewal of `license`, whose assignments are `all`.
pub fn renew(license: &License, r: &Renewal, all: &[Assignment]) -> Result<Decided, String> {
    let terms = license.bought_terms();
    let current = terms.last().expect("a licence has a term").term();
    if license.cancelled {
        return Err("the licence was cancelled; it cannot be renewed".into());
    }
    if r.term.end < r.term.start {
        return Err("term.end is before term.start".into());
    }
    if r.term.start > next(license.term.end) {
        return Err(format!(
            "term.start {} leaves a gap after the current end {}",
            r.term.start, license.term.end
        ));
    }
    if r.term.start <= current.start || r.term.end <= license.term.end {
        return Err(format!(
            "the renewed term {} .. {} must follow the current term {} .. {}",
            r.term.start, r.term.end, current.start, license.term.end
        ));
    }
    let old_end = license.term.end;
    let mut after = license.clone();
    after.terms = terms;
    let invoice_number = Some(r.invoice_number.clone());
    after.terms.push(BoughtTerm { start: r.term.start, end: r.term.end, invoice_number });
    after.term.end = r.term.end;
    after.invoice_number = r.invoice_number.clone();
    let mut quantities = license.quantities();
    if let Some(q) = r.quantity {
        quantities.set_from(r.term.start, q);
    }
    after.set_quantities(quantities.clone());
    let mut eligible: Vec<&Assignment> =
        all.iter().filter(|a| !a.is_revoked() && a.valid_until == old_end).collect();
    eligible.sort_by(|a, b| key(a).cmp(&key(b)));
    // Nothing runs past the old end yet: the new days hold what the
    // quantity in force on each of them allows.
    let room = after.seats.room(&quantities, Period::new(next(old_end), r.term.end)) as usize;
    let followers = eligible.len().min(room);
    let first_staying = eligible.get(followers).map(|a| (a.assigned_at, a.email.clone()));
    if first_staying.is_some() && !license.groups.is_empty() {
        // Seats that do not follow end with the old term: the day after, the
        // group rules run again for those they gave (`usecase::rule`).
        after.rule_recheck_on = Some(next(old_end));
    }
    let change = PeriodChange::Follow { old_end, new_end: r.term.end, first_staying };
    Ok(decided(after, change, all, eligible.len() - followers))
}

/// A new quantity from `day` on (the date of the event's `time`; from the
/// term start for a licence that had not started), renewed terms ahead
/// included. Its invoice, if any, becomes the invoice of the term in force
/// on that day.
pub fn change_quantity(
    license: &License,
    c: &QuantityChange,
    day: NaiveDate,
) -> Result<License, String> {
    if day > license.term.end {
        return Err(format!("the licence's term ended on {}", license.term.end));
    }
    let mut after = license.clone();
    let mut quantities = license.quantities();
    let from = day.max(license.term.start);
    if from == license.term.start {
        quantities = crate::capacity::Quantities::constant(c.quantity);
    } else {
        quantities.set_from(from, c.quantity);
    }
    after.set_quantities(quantities);
    if let Some(invoice) = &c.invoice_number {
        after.invoice_number = invoice.clone();
        if let Some(term) = after.terms.iter_mut().rev().find(|t| t.start <= from) {
            term.invoice_number = Some(invoice.clone());
        }
    }
    after.version += 1;
    Ok(after)
}

/// A cancellation of `license`, whose assignments are `all`.
pub fn cancel(license: &License, c: &Cancellation, all: &[Assignment]) -> Result<Decided, String> {
    if c.last_day < license.term.start {
        return Err(format!(
            "lastDay {} is before the term start {}",
            c.last_day, license.term.start
        ));
    }
    let mut after = license.clone();
    after.cancelled = true;
    if c.last_day >= license.term.end {
        after.version += 1;
        return Ok(Decided { license: after, change: None, moves: Vec::new(), stayed: 0 });
    }
    after.term.end = c.last_day;
    let mut terms = license.bought_terms();
    terms.retain(|t| t.start <= c.last_day);
    if let Some(last) = terms.last_mut() {
        last.end = last.end.min(c.last_day);
    }
    after.terms = terms;
    let mut quantities = license.quantities();
    let _after_the_end = quantities.steps.split_off(&next(c.last_day));
    after.set_quantities(quantities);
    Ok(decided(after, PeriodChange::Clip { last_day: c.last_day }, all, 0))
}

/// The licence after `change` moved what it moves among `all`.
fn decided(mut after: License, change: PeriodChange, all: &[Assignment], stayed: usize) -> Decided {
    let moves: Vec<(Assignment, Move)> =
        all.iter().filter_map(|a| Some((a.clone(), change.apply(a)?))).collect();
    for (a, m) in &moves {
        after.seats.remove(a.period(), 1);
        if let Move::EndOn(end) = m {
            after.seats.add(Period::new(a.valid_from, *end), 1);
        }
    }
    after.version += 1;
    Decided { license: after, change: Some(change), moves, stayed }
}

#[cfg(test)]
mod tests;
