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
