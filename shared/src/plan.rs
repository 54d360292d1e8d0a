//! The seat planner: what an assign, a change or a revoke does to a
//! licence's seats, decided by pure rules over the licence and the
//! assignments read (no I/O). The use cases commit what it decides; the
//! model-based test and the unit tests below reach it without any storage.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::{Assignment, InvitationStatus, Language, License, Operation, Period};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Assigned,
    AlreadyAssigned,
}

/// What an assign request would do to a licence.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub results: Vec<(Outcome, Assignment)>,
    /// The licence after the request (seats taken, version bumped).
    pub license: License,
    pub new: Vec<Assignment>,
}

/// An assign request with one period and language for every address.
pub struct Ask<'a> {
    pub emails: &'a [String],
    pub period: Period,
    pub now: DateTime<Utc>,
    pub by: &'a str,
    pub language: Language,
}

/// One address of a request with its own period (already checked against
/// the term) and invitation language, as a CSV import asks.
#[derive(Clone, Debug, PartialEq)]
pub struct Wanted {
    pub email: String,
    pub period: Period,
    pub language: Language,
}

/// Decides outcomes and seats for an assign request (see [`plan_each`]).
pub fn plan(license: &License, existing: &HashMap<String, Assignment>, req: &Ask) -> Result<Plan> {
    let wanted: Vec<Wanted> = req
        .emails
        .iter()
        .map(|email| Wanted { email: email.clone(), period: req.period, language: req.language })
        .collect();
    plan_each(license, existing, &wanted, req.now, req.by)
}

/// Decides outcomes and seats for addresses each with its own period. An
/// address whose assignment was revoked or has ended gets a new one that
/// keeps the old one's record; the days the old one used stay in the
/// timeline. All or nothing: the new assignments of each period take their
/// seats in turn, and the first period that does not fit refuses the whole.
pub fn plan_each(
    license: &License,
    existing: &HashMap<String, Assignment>,
    wanted: &[Wanted],
    now: DateTime<Utc>,
    by: &str,
) -> Result<Plan> {
    let today = now.date_naive();
    let mut results = Vec::with_capacity(wanted.len());
    let mut new = Vec::new();
    let mut periods: Vec<(Period, u32)> = Vec::new();
    for w in wanted {
        match existing.get(&w.email) {
            Some(a) if a.is_current(today) => results.push((Outcome::AlreadyAssigned, a.clone())),
            previous => {
                let mut a = Assignment::new(
                    license,
                    &w.email,
                    w.period,
                    now,
                    by,
                    w.language,
                    InvitationStatus::Pending,
                );
                if let Some(old) = previous {
                    a = a.replacing(old);
                }
                match periods.iter_mut().find(|(p, _)| *p == w.period) {
                    Some((_, n)) => *n += 1,
                    None => periods.push((w.period, 1)),
                }
                results.push((Outcome::Assigned, a.clone()));
                new.push(a);
            }
        }
    }
    let mut after = license.clone();
    for (period, requested) in periods {
        take_seats(&mut after, period, requested)?;
    }
    if !new.is_empty() {
        after.version = license.version + 1;
    }
    Ok(Plan { results, license: after, new })
}

/// The licence with `assignment`'s period moved to `period`, if the seats
/// allow it on every day the new period adds (a day both periods cover
/// keeps its seat, even on a licence with more seats in use than it has).
pub fn change(license: &License, assignment: &Assignment, period: Period) -> Result<License> {
    let old = assignment.period();
    let quantities = license.quantities();
    let mut without = license.clone();
    without.seats.remove(old, 1);
    for added in added_days(old, period) {
        let available = without.seats.room(&quantities, added);
        if available < 1 {
            return Err(Error::InsufficientSeats { requested: 1, available });
        }
    }
    let mut after = without;
    after.seats.add(period, 1);
    after.version += 1;
    Ok(after)
}

/// The days of `new` that `old` does not cover (at most two runs).
fn added_days(old: Period, new: Period) -> Vec<Period> {
    if new.until < old.from || new.from > old.until {
        return vec![new];
    }
    let mut added = Vec::new();
    if new.from < old.from {
        added.extend(old.from.pred_opt().map(|end| Period::new(new.from, end)));
    }
    if new.until > old.until {
        added.extend(old.until.succ_opt().map(|start| Period::new(start, new.until)));
    }
    added
}

/// The licence with `assignment` revoked on `today`: its seat is free from
/// today on; the days before stay used.
pub fn revoke(license: &License, assignment: &Assignment, today: NaiveDate) -> License {
    let mut after = license.clone();
    after.seats.remove(assignment.period(), 1);
    if let Some(used) = assignment.used_before(today) {
        after.seats.add(used, 1);
    }
    after.version += 1;
    after
}

/// What a rename does to one licence (v3, SCIM): the old address's seat
/// ends today as a revoke ends it (the days before stay used), and the new
/// address takes the rest of its period, from today or from its start if
/// that is later, to its end; so no day's seat count changes. Where the new
/// address already holds a current seat, the old one is only revoked (and
/// the count drops by the days it had left). Answers the licence after, and
/// the new address's assignment if one is made (keeping the record of the
/// revoked or ended one it replaces).
pub fn rename(
    license: &License,
    old: &Assignment,
    holder: Option<&Assignment>,
    to: &str,
    now: DateTime<Utc>,
    by: &str,
) -> (License, Option<Assignment>) {
    let today = now.date_naive();
    let after = revoke(license, old, today);
    if holder.is_some_and(|h| h.is_current(today)) {
        return (after, None);
    }
    let rest = Period::new(old.valid_from.max(today), old.valid_until);
    let mut moved =
        Assignment::new(license, to, rest, now, by, old.language, InvitationStatus::Pending);
    if let Some(h) = holder {
        moved = moved.replacing(h);
    }
    let mut after = after;
    after.seats.add(rest, 1);
    (after, Some(moved))
}

/// Takes `n` seats over `period` (against the quantity in force on each of
/// its days), or refuses with what is available.
fn take_seats(license: &mut License, period: Period, n: u32) -> Result<()> {
    let available = license.seats.room(&license.quantities(), period);
    if n > available {
        return Err(Error::InsufficientSeats { requested: n, available });
    }
    license.seats.add(period, n);
    license.version += 1;
    Ok(())
}

/// The assignment items of a licence's pending bulk batch.
pub fn batch_assignments(license: &License) -> Vec<Assignment> {
    let Some(Operation::Batch(batch)) = &license.operation else {
        return Vec::new();
    };
    batch
        .emails
        .iter()
        .map(|email| {
            let mut a = Assignment::new(
                license,
                email,
                batch.period,
                batch.assigned_at,
                &batch.assigned_by,
                batch.language,
                InvitationStatus::Pending,
            );
            a.batch = Some(batch.id.clone());
            a.batch_version = Some(license.version);
            a
        })
        .collect()
}

/// A batch item, taking over what the item it replaces holds: the earlier
/// records, and (one level, while the batch is pending) the replaced
/// assignment itself for readers. A retried chunk keeps what the first
/// attempt kept.
pub fn batch_item(new: Assignment, existing: Option<Assignment>) -> Assignment {
    match existing {
        None => new,
        Some(old) if old.batch == new.batch => {
            Assignment { previous: old.previous, former: old.former, ..new }
        }
        Some(mut old) => {
            let mut a = new.replacing(&old);
            old.previous = None;
            a.previous = Some(Box::new(old));
            a
        }
    }
}

#[cfg(test)]
mod tests;
