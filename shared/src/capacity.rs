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
mod tests {
    use super::*;
    use chrono::Days;
    use proptest::prelude::*;

    fn day(n: u64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + Days::new(n)
    }

    fn period(a: u64, b: u64) -> Period {
        Period::new(day(a.min(b)), day(a.max(b)))
    }

    /// The naive model: count every period on every date.
    fn naive_count(periods: &[Period], date: NaiveDate) -> u32 {
        periods.iter().filter(|p| p.contains(date)).count() as u32
    }

    fn naive_peak(periods: &[Period], range: Period) -> u32 {
        range
            .from
            .iter_days()
            .take_while(|d| *d <= range.until)
            .map(|d| naive_count(periods, d))
            .max()
            .unwrap_or(0)
    }

    fn timeline(periods: &[Period]) -> Timeline {
        let mut t = Timeline::default();
        for p in periods {
            t.add(*p, 1);
        }
        t
    }

    fn schedule(base: u32, steps: &[(u64, u32)]) -> Quantities {
        let mut q = Quantities::constant(base);
        for (d, n) in steps {
            q.steps.insert(day(*d), *n);
        }
        q
    }

    #[test]
    fn a_lower_quantity_from_a_day_on_counts_from_that_day() {
        let t = timeline(&[period(0, 99), period(0, 99), period(0, 49)]);
        let mut q = Quantities::constant(3);
        q.set_from(day(50), 1);
        assert_eq!(q.on(day(49)), 3);
        assert_eq!(q.on(day(50)), 1);
        assert_eq!(t.room(&q, period(0, 49)), 0);
        assert_eq!(t.over(&q, period(0, 49)), 0);
        assert_eq!(t.over(&q, period(40, 99)), 1, "two periods, one seat from day 50");
        q.set_from(day(60), 3);
        q.set_from(day(55), 2);
        assert_eq!(q.steps.len(), 2, "a step replaces the later ones: {q:?}");
        assert_eq!(t.over(&q, period(0, 99)), 1);
        q.set_from(day(0), 3);
        assert!(q.steps.is_empty(), "back to the base quantity: {q:?}");
    }

    #[test]
    fn five_seats_buyer_takes_one() {
        let mut t = Timeline::default();
        t.add(period(0, 364), 1);
        assert_eq!(t.available(5, period(0, 364)), 4);
        assert_eq!(t.holders_from(day(10)), 1);
    }

    #[test]
    fn a_seat_is_free_again_after_its_period_ends() {
        let t = timeline(&[period(0, 9), period(10, 19)]);
        assert_eq!(t.peak(period(0, 19)), 1);
        assert_eq!(t.count_on(day(9)), 1);
        assert_eq!(t.count_on(day(10)), 1);
        assert_eq!(t.holders_from(day(10)), 1);
        assert_eq!(t.holders_from(day(20)), 0);
    }

    #[test]
    fn inclusive_ends_overlap_on_the_shared_day() {
        let t = timeline(&[period(0, 10), period(10, 20)]);
        assert_eq!(t.peak(period(0, 20)), 2);
        assert_eq!(t.peak(period(11, 20)), 1);
        assert_eq!(t.peak(period(0, 9)), 1);
    }

    #[test]
    fn removing_restores_the_previous_timeline() {
        let mut t = timeline(&[period(0, 10)]);
        let before = t.clone();
        t.add(period(3, 7), 2);
        t.remove(period(3, 7), 2);
        assert_eq!(t, before);
    }

    proptest! {
        #[test]
        fn peak_and_counts_match_the_naive_model(
            raw in prop::collection::vec((0u64..60, 0u64..60), 0..25),
            (a, b) in (0u64..70, 0u64..70),
        ) {
            let periods: Vec<Period> = raw.iter().map(|(x, y)| period(*x, *y)).collect();
            let t = timeline(&periods);
            let range = period(a, b);
            prop_assert_eq!(t.peak(range), naive_peak(&periods, range));
            prop_assert_eq!(t.count_on(day(a)), naive_count(&periods, day(a)));
            let holders = periods.iter().filter(|p| p.until >= day(a)).count() as u32;
            prop_assert_eq!(t.holders_from(day(a)), holders);
        }

        /// The usage steps are the per-day counts and quantities, run-length
        /// encoded: every day of the range in exactly one step, neighbours
        /// differing.
        #[test]
        fn usage_steps_match_the_naive_model(
            raw in prop::collection::vec((0u64..60, 0u64..60), 0..20),
            changes in prop::collection::vec((1u64..60, 0u32..8), 0..4),
            (a, b) in (0u64..70, 0u64..70),
        ) {
            let periods: Vec<Period> = raw.iter().map(|(x, y)| period(*x, *y)).collect();
            let t = timeline(&periods);
            let mut q = Quantities::constant(3);
            for (d, n) in &changes {
                q.set_from(day(*d), *n);
            }
            let range = period(a, b);
            let steps = t.usage(&q, range);
            let mut days = Vec::new();
            for s in &steps {
                prop_assert!(s.period.from <= s.period.until);
                for d in s.period.from.iter_days().take_while(|d| *d <= s.period.until) {
                    days.push((d, s.used, s.quantity));
                }
            }
            let naive: Vec<_> = range.from.iter_days().take_while(|d| *d <= range.until)
                .map(|d| (d, naive_count(&periods, d), q.on(d))).collect();
            prop_assert_eq!(days, naive);
            for w in steps.windows(2) {
                prop_assert!((w[0].used, w[0].quantity) != (w[1].used, w[1].quantity));
            }
        }

        #[test]
        fn add_then_remove_is_identity(
            raw in prop::collection::vec((0u64..60, 0u64..60), 0..15),
            (a, b, n) in (0u64..60, 0u64..60, 1u32..5),
        ) {
            let periods: Vec<Period> = raw.iter().map(|(x, y)| period(*x, *y)).collect();
            let mut t = timeline(&periods);
            let before = t.clone();
            t.add(period(a, b), n);
            t.remove(period(a, b), n);
            prop_assert_eq!(t, before);
        }

        /// With a quantity that changes over time, room and over-assignment
        /// agree with counting every day against the quantity of that day.
        #[test]
        fn room_and_over_match_the_naive_model_with_changing_quantities(
            raw in prop::collection::vec((0u64..60, 0u64..60), 0..25),
            base in 0u32..6,
            steps in prop::collection::vec((0u64..70, 0u32..6), 0..4),
            (a, b) in (0u64..70, 0u64..70),
        ) {
            let periods: Vec<Period> = raw.iter().map(|(x, y)| period(*x, *y)).collect();
            let t = timeline(&periods);
            let q = schedule(base, &steps);
            let range = period(a, b);
            let days = || range.from.iter_days().take_while(|d| *d <= range.until);
            let naive_room = days()
                .map(|d| q.on(d).saturating_sub(naive_count(&periods, d)))
                .min()
                .unwrap();
            let naive_over = days()
                .map(|d| naive_count(&periods, d).saturating_sub(q.on(d)))
                .max()
                .unwrap();
            prop_assert_eq!(t.room(&q, range), naive_room);
            prop_assert_eq!(t.over(&q, range), naive_over);
            let parts: Vec<(Period, u32)> = q.segments(range).collect();
            prop_assert_eq!(parts.first().unwrap().0.from, range.from);
            prop_assert_eq!(parts.last().unwrap().0.until, range.until);
            for w in parts.windows(2) {
                prop_assert_eq!(w[0].0.until.succ_opt().unwrap(), w[1].0.from);
            }
        }

        /// Admitting periods one by one only while they fit the quantity of
        /// every day never lets any day exceed its quantity.
        #[test]
        fn admission_never_oversubscribes_a_changing_quantity(
            raw in prop::collection::vec((0u64..60, 0u64..60), 0..40),
            base in 1u32..6,
            steps in prop::collection::vec((0u64..60, 0u32..6), 0..4),
        ) {
            let q = schedule(base, &steps);
            let mut t = Timeline::default();
            let mut admitted = Vec::new();
            for (x, y) in raw {
                let p = period(x, y);
                if t.room(&q, p) >= 1 {
                    t.add(p, 1);
                    admitted.push(p);
                }
            }
            for d in (0..70).map(day) {
                prop_assert!(naive_count(&admitted, d) <= q.on(d), "{d}");
            }
        }

        /// Admitting periods one by one only while they fit never lets any
        /// date exceed the quantity (the invariant every write relies on).
        #[test]
        fn admission_never_oversubscribes(
            raw in prop::collection::vec((0u64..60, 0u64..60), 0..40),
            quantity in 1u32..6,
        ) {
            let mut t = Timeline::default();
            let mut admitted = Vec::new();
            for (x, y) in raw {
                let p = period(x, y);
                if t.available(quantity, p) >= 1 {
                    t.add(p, 1);
                    admitted.push(p);
                }
            }
            prop_assert!(naive_peak(&admitted, period(0, 70)) <= quantity);
        }
    }
}
