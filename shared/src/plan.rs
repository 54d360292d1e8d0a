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
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn license(quantity: u32) -> License {
        License::sample(quantity)
    }

    #[test]
    fn plan_is_all_or_nothing_on_seats() {
        let lic = license(3);
        let emails: Vec<String> = (0..4).map(|i| format!("u{i}@example.com")).collect();
        let now: DateTime<Utc> = "2026-06-01T10:00:00Z".parse().unwrap();
        let req = Ask {
            emails: &emails,
            period: Period::new(d("2026-06-01"), d("2026-12-31")),
            now,
            by: "admin@example.com",
            language: Language::En,
        };
        assert!(matches!(
            plan(&lic, &HashMap::new(), &req),
            Err(Error::InsufficientSeats { requested: 4, available: 3 })
        ));
        let req3 = Ask { emails: &emails[..3], ..req };
        let p = plan(&lic, &HashMap::new(), &req3).unwrap();
        assert_eq!(p.new.len(), 3);
        assert_eq!(p.license.version, 8);
        assert_eq!(p.license.seats.peak(Period::new(d("2026-06-01"), d("2026-12-31"))), 3);
    }

    #[test]
    fn current_assignments_are_already_assigned_and_ended_ones_are_replaced_keeping_their_days() {
        let mut lic = license(1);
        let now: DateTime<Utc> = "2026-06-01T10:00:00Z".parse().unwrap();
        let ended = Period::new(d("2026-01-01"), d("2026-05-31"));
        lic.seats.add(ended, 1);
        let emails = vec!["a@example.com".to_string()];
        let req = Ask {
            emails: &emails,
            period: Period::new(d("2026-06-01"), d("2026-12-31")),
            now,
            by: "x",
            language: Language::En,
        };
        let mut old = plan(&lic, &HashMap::new(), &req).unwrap().new.remove(0);
        old.valid_from = ended.from;
        old.valid_until = ended.until;
        let existing = HashMap::from([(old.email.clone(), old.clone())]);
        let p = plan(&lic, &existing, &req).unwrap();
        assert_eq!(p.results[0].0, Outcome::Assigned);
        assert_eq!(p.new[0].former.len(), 1, "the old record is kept");
        assert_eq!(
            p.license.seats.count_on(d("2026-03-01")),
            1,
            "the days the ended assignment used stay used"
        );

        let mut current = old.clone();
        current.valid_until = d("2026-12-31");
        let existing = HashMap::from([(current.email.clone(), current)]);
        let p = plan(&lic, &existing, &req).unwrap();
        assert_eq!(p.results[0].0, Outcome::AlreadyAssigned);
        assert!(p.new.is_empty());
        assert_eq!(p.license.version, lic.version, "nothing to write");
    }

    #[test]
    fn a_revoke_keeps_the_days_before_it_and_a_change_moves_the_seat() {
        let mut lic = license(1);
        let now: DateTime<Utc> = "2026-06-01T10:00:00Z".parse().unwrap();
        let emails = vec!["a@example.com".to_string()];
        let req = Ask {
            emails: &emails,
            period: Period::new(d("2026-03-01"), d("2026-12-31")),
            now,
            by: "x",
            language: Language::En,
        };
        let p = plan(&lic, &HashMap::new(), &req).unwrap();
        lic = p.license;
        let a = &p.new[0];
        let moved = change(&lic, a, Period::new(d("2026-03-01"), d("2026-06-30"))).unwrap();
        assert_eq!(moved.seats.count_on(d("2026-07-01")), 0);
        assert_eq!(moved.version, lic.version + 1);
        let revoked = revoke(&lic, a, d("2026-06-01"));
        assert_eq!(revoked.seats.count_on(d("2026-05-31")), 1, "used");
        assert_eq!(revoked.seats.count_on(d("2026-06-01")), 0, "free from today");
    }

    #[test]
    fn on_an_over_assigned_licence_shortening_works_and_extending_is_refused() {
        let mut lic = license(2);
        let now: DateTime<Utc> = "2026-06-01T10:00:00Z".parse().unwrap();
        let emails: Vec<String> = (0..2).map(|i| format!("u{i}@example.com")).collect();
        let req = Ask {
            emails: &emails,
            period: Period::new(d("2026-06-01"), d("2026-11-30")),
            now,
            by: "x",
            language: Language::En,
        };
        let p = plan(&lic, &HashMap::new(), &req).unwrap();
        lic = p.license;
        // One seat from July on: both hold one until the end of November.
        let mut q = lic.quantities();
        q.set_from(d("2026-07-01"), 1);
        lic.set_quantities(q);
        let a = &p.new[0];
        let shorter = Period::new(d("2026-06-01"), d("2026-09-30"));
        let after = change(&lic, a, shorter).expect("shortening adds no day");
        assert_eq!(after.seats.count_on(d("2026-10-01")), 1);
        // Back to November: October and November are over-assigned days.
        let mut shortened = a.clone();
        shortened.valid_until = shorter.until;
        assert!(matches!(
            change(&after, &shortened, req.period),
            Err(Error::InsufficientSeats { requested: 1, available: 0 })
        ));
        let newcomer = ["new@example.com".to_string()];
        assert!(plan(&lic, &HashMap::new(), &Ask { emails: &newcomer, ..req }).is_err());
    }
}
