//! Seat capacity over time.
//!
//! The contract's rule: at no date may more than `quantity` non-revoked
//! assignments have overlapping access periods. A licence keeps the periods of
//! its non-revoked assignments as a timeline (how many periods start and end on
//! each date), so the check needs the licence item only, however many
//! assignments it has: its size is bounded by the number of distinct dates in
//! the term, not by the number of users.
//!
//! The quantity may change over time (a renewal with fewer seats, a seat
//! change mid-term): [`Quantities`] is the number of seats in force on each
//! day, and every capacity question compares the two day by day.

use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Included};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::model::Period;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    /// Number of periods whose first day is the key.
    starts: BTreeMap<NaiveDate, u32>,
    /// Number of periods whose last day is the key.
    ends: BTreeMap<NaiveDate, u32>,
}

impl Timeline {
    pub fn add(&mut self, period: Period, n: u32) {
        if n == 0 {
            return;
        }
        *self.starts.entry(period.from).or_default() += n;
        *self.ends.entry(period.until).or_default() += n;
    }

    /// Takes `n` periods out again. Removing what was never added is a bug in
    /// the caller; it saturates rather than corrupting the counts.
    pub fn remove(&mut self, period: Period, n: u32) {
        fn dec(map: &mut BTreeMap<NaiveDate, u32>, key: NaiveDate, n: u32) {
            if let Some(v) = map.get_mut(&key) {
                *v = v.saturating_sub(n);
                if *v == 0 {
                    map.remove(&key);
                }
            }
        }
        dec(&mut self.starts, period.from, n);
        dec(&mut self.ends, period.until, n);
    }

    /// How many periods include `date`.
    pub fn count_on(&self, date: NaiveDate) -> u32 {
        let started: u32 = self.starts.range(..=date).map(|(_, n)| n).sum();
        let ended: u32 = self.ends.range(..date).map(|(_, n)| n).sum();
        started - ended
    }

    /// The largest number of periods that overlap on any date of `range`.
    pub fn peak(&self, range: Period) -> u32 {
        if range.from > range.until {
            return 0;
        }
        let mut count = i64::from(self.count_on(range.from));
        let mut peak = count;
        // Dates inside the range where the count can change: a period starts
        // on d, or one ended the day before d.
        let mut changes: BTreeMap<NaiveDate, i64> = BTreeMap::new();
        for (&d, &n) in self.starts.range((Excluded(range.from), Included(range.until))) {
            *changes.entry(d).or_default() += i64::from(n);
        }
        for (&d, &n) in self.ends.range(range.from..range.until) {
            if let Some(next) = d.succ_opt() {
                *changes.entry(next).or_default() -= i64::from(n);
            }
        }
        for delta in changes.values() {
            count += delta;
            peak = peak.max(count);
        }
        peak as u32
    }

    /// Periods that have not ended before `today`: active and scheduled ones.
    pub fn holders_from(&self, today: NaiveDate) -> u32 {
        let all: u32 = self.starts.values().sum();
        let ended: u32 = self.ends.range(..today).map(|(_, n)| n).sum();
        all - ended
    }

    /// Seats still free on every date of `range` for `quantity` seats.
    pub fn available(&self, quantity: u32, range: Period) -> u32 {
        quantity.saturating_sub(self.peak(range))
    }

    /// How many more periods covering all of `range` fit under the quantity
    /// in force on each of its days.
    pub fn room(&self, quantities: &Quantities, range: Period) -> u32 {
        quantities
            .segments(range)
            .map(|(part, quantity)| self.available(quantity, part))
            .min()
            .unwrap_or(0)
    }

    /// The most seats in use beyond the quantity in force on any day of
    /// `range` (0 when every day fits).
    pub fn over(&self, quantities: &Quantities, range: Period) -> u32 {
        quantities
            .segments(range)
            .map(|(part, quantity)| self.peak(part).saturating_sub(quantity))
            .max()
            .unwrap_or(0)
    }

    /// `range` as the longest stretches of days with the same number of
    /// periods and the same quantity in force: consecutive, covering all of
    /// `range`, neighbours differing in one of the two (`GET …/usage`).
    pub fn usage(&self, quantities: &Quantities, range: Period) -> Vec<UsageStep> {
        if range.from > range.until {
            return Vec::new();
        }
        let within = (Excluded(range.from), Included(range.until));
        let mut cuts: BTreeMap<NaiveDate, i64> = BTreeMap::from([(range.from, 0)]);
        for (&d, &n) in self.starts.range(within) {
            *cuts.entry(d).or_default() += i64::from(n);
        }
        for (&d, &n) in self.ends.range(range.from..range.until) {
            *cuts.entry(d.succ_opt().expect("before range.until")).or_default() -= i64::from(n);
        }
        for &d in quantities.steps.range(within).map(|(d, _)| d) {
            cuts.entry(d).or_default();
        }
        let mut used = i64::from(self.count_on(range.from));
        let mut steps: Vec<UsageStep> = Vec::new();
        let firsts: Vec<(NaiveDate, i64)> = cuts.into_iter().collect();
        for (i, &(from, delta)) in firsts.iter().enumerate() {
            if i > 0 {
                used += delta;
            }
            let until = firsts.get(i + 1).and_then(|(d, _)| d.pred_opt()).unwrap_or(range.until);
            let (used, quantity) = (used as u32, quantities.on(from));
            match steps.last_mut() {
                Some(last) if (last.used, last.quantity) == (used, quantity) => {
                    last.period.until = until;
                }
                _ => steps.push(UsageStep { period: Period::new(from, until), used, quantity }),
            }
        }
        steps
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }
}

/// The number of seats in force on each day: `base` from the first day,
/// then each step's quantity from its date on.
/// Days with the same seats in use and the same quantity in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsageStep {
    pub period: Period,
    pub used: u32,
    pub quantity: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quantities {
    pub base: u32,
    pub steps: BTreeMap<NaiveDate, u32>,
}

impl Quantities {
    pub fn constant(base: u32) -> Self {
        Self { base, steps: BTreeMap::new() }
    }

    pub fn on(&self, date: NaiveDate) -> u32 {
        self.steps.range(..=date).next_back().map_or(self.base, |(_, q)| *q)
    }

    /// `quantity` from `date` on, replacing every later step.
    pub fn set_from(&mut self, date: NaiveDate, quantity: u32) {
        let _later = self.steps.split_off(&date);
        if self.on(date) != quantity {
            self.steps.insert(date, quantity);
        }
    }

    /// `range` cut where the quantity changes, each part with its quantity.
    pub fn segments(&self, range: Period) -> impl Iterator<Item = (Period, u32)> + '_ {
        let inside = self.steps.range((Excluded(range.from), Included(range.until)));
        let mut starts: Vec<NaiveDate> = vec![range.from];
        starts.extend(inside.map(|(d, _)| *d));
        let ends: Vec<NaiveDate> = starts
            .iter()
            .skip(1)
            .filter_map(|d| d.pred_opt())
            .chain(std::iter::once(range.until))
            .collect();
        let valid = range.from <= range.until;
        starts
            .into_iter()
            .zip(ends)
            .filter(move |_| valid)
            .map(|(from, until)| (Period::new(from, until), self.on(from)))
    }
}

#[cfg(test)]
mod tests;
