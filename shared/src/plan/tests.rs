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

fn seat_of(lic: &License, email: &str, period: Period, now: DateTime<Utc>) -> Assignment {
    Assignment::new(lic, email, period, now, "x", Language::En, InvitationStatus::Sent)
}

proptest::proptest! {
    /// A rename moves a seat without changing any day's seat count; where
    /// the new address already holds a current seat, the old one's days from
    /// today on are freed and nothing else changes.
    #[test]
    fn a_rename_changes_no_days_seat_count(
        from in 0i64..120,
        length in 0i64..200,
        today in 0i64..150,
        holder in 0u8..3,
    ) {
        let start = d("2026-02-01");
        let day = |n: i64| start + chrono::Duration::days(n);
        let now: DateTime<Utc> = day(today).and_hms_opt(9, 30, 0).unwrap().and_utc();
        let period = Period::new(day(from), day(from + length));
        proptest::prop_assume!(period.until >= now.date_naive());
        let mut lic = license(5);
        lic.seats.add(period, 1);
        let old = seat_of(&lic, "old@example.com", period, now);
        let ended = Period::new(d("2026-01-01"), d("2026-01-20"));
        let held = match holder {
            0 => None,
            1 => Some(seat_of(&lic, "new@example.com", ended, now)),
            _ => Some(seat_of(&lic, "new@example.com", Period::new(day(0), day(300)), now)),
        };
        if let Some(h) = &held {
            lic.seats.add(h.period(), 1);
        }
        let (after, moved) = rename(&lic, &old, held.as_ref(), "new@example.com", now, "scim:t");
        proptest::prop_assert_eq!(after.version, lic.version + 1);
        for n in -40..400 {
            let (before_n, after_n) = (lic.seats.count_on(day(n)), after.seats.count_on(day(n)));
            if holder == 2 && day(n) >= now.date_naive() && period.contains(day(n)) {
                proptest::prop_assert_eq!(after_n + 1, before_n, "day {}", n);
            } else {
                proptest::prop_assert_eq!(after_n, before_n, "day {}", n);
            }
        }
        match moved {
            None => proptest::prop_assert_eq!(holder, 2),
            Some(m) => {
                proptest::prop_assert_eq!(m.email.as_str(), "new@example.com");
                proptest::prop_assert_eq!(m.valid_until, period.until);
                proptest::prop_assert_eq!(m.valid_from, period.from.max(now.date_naive()));
                proptest::prop_assert_eq!(m.invitation.status, InvitationStatus::Pending);
                proptest::prop_assert_eq!(m.former.len(), usize::from(holder == 1));
            }
        }
    }
}
