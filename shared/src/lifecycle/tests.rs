use super::*;
use crate::model::{InvitationStatus, Language};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A 2026 licence of `quantity` seats with `n` default assignments, the
/// i-th assigned i minutes after midnight.
fn licence_with(quantity: u32, n: usize) -> (License, Vec<Assignment>) {
    let mut l = License::sample(quantity);
    let all: Vec<Assignment> = (0..n)
        .map(|i| {
            let at = "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
                + chrono::Duration::minutes(i as i64);
            let period = l.term.period();
            Assignment::new(
                &l,
                &format!("u{i}@example.com"),
                period,
                at,
                "x",
                Language::En,
                InvitationStatus::Sent,
            )
        })
        .collect();
    l.seats.add(l.term.period(), n as u32);
    (l, all)
}

fn renewal(quantity: Option<u32>) -> Renewal {
    Renewal {
        term: Term { start: d("2027-01-01"), end: d("2027-12-31") },
        invoice_number: "INV-2027".into(),
        quantity,
    }
}

#[test]
fn a_renewal_moves_default_periods_to_the_new_end() {
    let (l, all) = licence_with(5, 3);
    let r = renew(&l, &renewal(None), &all).unwrap();
    assert_eq!(r.moves.len(), 3);
    assert_eq!(r.license.term, Term { start: d("2026-01-01"), end: d("2027-12-31") });
    assert_eq!(r.license.seats.count_on(d("2027-06-01")), 3);
    assert_eq!(r.license.invoice_number, "INV-2027");
    // December 2026: the purchase's term is in force, the renewal is ahead.
    let december = d("2026-12-01");
    assert_eq!(r.license.current_term(december), l.term);
    assert_eq!(r.license.invoice_on(december), "I");
    let next = r.license.next_term(december).unwrap();
    assert_eq!((next.start, next.end), (d("2027-01-01"), d("2027-12-31")));
    assert_eq!((next.invoice_number.as_str(), next.quantity), ("INV-2027", 5));
    // From its first day the renewal is current, and nothing is ahead.
    let january = d("2027-01-01");
    assert_eq!(r.license.current_term(january), renewal(None).term);
    assert_eq!(r.license.invoice_on(january), "INV-2027");
    assert_eq!(r.license.next_term(january), None);
    // Before the licence starts its first term is current; after it, its last.
    assert_eq!(r.license.current_term(d("2025-06-01")), l.term);
    assert_eq!(r.license.current_term(d("2030-01-01")), renewal(None).term);
    assert_eq!(r.stayed, 0);
}

#[test]
fn a_renewal_with_fewer_seats_keeps_the_earliest_assigned_going() {
    let (l, all) = licence_with(5, 4);
    let r = renew(&l, &renewal(Some(2)), &all).unwrap();
    let moved: Vec<&str> = r.moves.iter().map(|(a, _)| a.email.as_str()).collect();
    assert_eq!(moved, ["u0@example.com", "u1@example.com"]);
    assert_eq!(r.stayed, 2);
    assert_eq!(r.license.quantity_on(d("2026-12-31")), 5);
    assert_eq!(r.license.quantity_on(d("2027-01-01")), 2);
    assert_eq!(r.license.seats.over(&r.license.quantities(), r.license.term.period()), 0);
    let change = r.change.unwrap();
    assert_eq!(change.apply(&all[1]), Some(Move::EndOn(d("2027-12-31"))));
    assert_eq!(change.apply(&all[2]), None);
}

#[test]
fn renewals_that_do_not_follow_are_refused() {
    let (l, all) = licence_with(5, 1);
    for (start, end) in
        [("2027-01-02", "2027-12-31"), ("2026-01-01", "2027-12-31"), ("2027-01-01", "2026-12-31")]
    {
        let r = Renewal { term: Term { start: d(start), end: d(end) }, ..renewal(None) };
        assert!(renew(&l, &r, &all).is_err(), "{start} .. {end}");
    }
    let mut cancelled = l.clone();
    cancelled.cancelled = true;
    assert!(renew(&cancelled, &renewal(None), &all).is_err());
}

#[test]
fn a_cancellation_clips_running_periods_and_revokes_later_ones() {
    let (mut l, mut all) = licence_with(5, 2);
    all[1].valid_from = d("2026-10-01");
    l.seats = crate::capacity::Timeline::default();
    l.seats.add(all[0].period(), 1);
    l.seats.add(all[1].period(), 1);
    let c = cancel(&l, &Cancellation { last_day: d("2026-06-30") }, &all).unwrap();
    assert_eq!(c.moves[0].1, Move::EndOn(d("2026-06-30")));
    assert_eq!(c.moves[1].1, Move::Revoke);
    assert!(c.license.cancelled);
    assert_eq!(c.license.term.end, d("2026-06-30"));
    assert_eq!(c.license.seats.count_on(d("2026-06-30")), 1);
    assert_eq!(c.license.seats.count_on(d("2026-10-01")), 0);
}

#[test]
fn a_quantity_change_holds_from_today_and_replaces_renewed_quantities_ahead() {
    let (l, all) = licence_with(5, 0);
    let renewed = renew(&l, &renewal(Some(8)), &all).unwrap().license;
    let today = d("2026-06-01");
    let c = QuantityChange { quantity: 2, invoice_number: None };
    let after = change_quantity(&renewed, &c, today).unwrap();
    assert_eq!(after.quantity_on(d("2026-05-31")), 5);
    assert_eq!(after.quantity_on(today), 2);
    assert_eq!(after.quantity_on(d("2027-06-01")), 2, "the renewal's 8 is replaced");
    assert!(change_quantity(&l, &c, d("2027-01-01")).is_err(), "after the end");
}
