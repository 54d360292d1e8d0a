use proptest::prelude::*;

use super::*;

fn join(person: &str, group: &str) -> RuleStep {
    RuleStep::Join { person: person.into(), group: group.into() }
}

fn leave(person: &str, group: &str) -> RuleStep {
    RuleStep::Leave { person: person.into(), group: group.into() }
}

fn waiting(s: &Standing) -> Vec<&str> {
    s.waiting.iter().map(|w| w.person.as_str()).collect()
}

#[test]
fn who_does_not_fit_waits_in_order_and_a_freed_seat_goes_to_the_first() {
    let mut s = Standing { free: 2, ..Standing::default() };
    let e = s.apply(&[join("a", "g"), join("b", "g"), join("c", "g"), join("d", "g")]);
    assert_eq!(e.seated, [("a".into(), "g".into()), ("b".into(), "g".into())]);
    assert_eq!(waiting(&s), ["c", "d"]);
    let e = s.apply(&[leave("a", "g")]);
    assert_eq!(e.revoked, ["a"]);
    assert_eq!(e.seated, [("c".into(), "g".into())], "the first who waits");
    assert_eq!(waiting(&s), ["d"]);
    let e = s.apply(&[leave("d", "g")]);
    assert_eq!((e.unwaited, waiting(&s).len()), (vec!["d".to_string()], 0));
}

#[test]
fn a_seat_given_by_hand_is_left_alone() {
    let mut s = Standing { free: 0, ..Standing::default() };
    s.people.insert("a".into(), Holding::HandSeat);
    let e = s.apply(&[join("a", "g"), leave("a", "g")]);
    assert_eq!(e, Effects::default());
    assert_eq!(s.people["a"], Holding::HandSeat);
}

#[test]
fn leaving_one_of_two_linked_groups_keeps_the_seat_named_by_the_other() {
    let mut s = Standing { free: 1, ..Standing::default() };
    s.apply(&[join("a", "first"), join("a", "second")]);
    assert_eq!(s.people["a"], Holding::RuleSeat { group: "first".into() }, "the one linked first");
    let e = s.apply(&[leave("a", "first")]);
    assert!(e.revoked.is_empty());
    assert_eq!(s.people["a"], Holding::RuleSeat { group: "second".into() });
    assert_eq!(s.apply(&[leave("a", "second")]).revoked, ["a"]);
}

#[test]
fn an_excluded_person_is_out_of_the_rules_until_they_leave_and_join_again() {
    let mut s = Standing { free: 3, ..Standing::default() };
    s.people.insert("a".into(), Holding::Excluded);
    s.covered_by.insert("a".into(), vec!["g".into()]);
    assert!(s.apply(&[join("a", "h")]).seated.is_empty());
    let e = s.apply(&[leave("a", "g"), join("a", "g")]);
    assert_eq!(e, Effects::default(), "h still covers them: still out");
    let e = s.apply(&[leave("a", "g"), leave("a", "h"), join("a", "h")]);
    assert_eq!(e.readmitted, ["a"]);
    assert_eq!(e.seated, [("a".into(), "h".into())]);
}

fn steps() -> impl Strategy<Value = Vec<RuleStep>> {
    let person = (0..6u8).prop_map(|p| format!("p{p}"));
    let group = (0..2u8).prop_map(|g| format!("g{g}"));
    let step = (person, group, any::<bool>()).prop_map(|(p, g, joins)| {
        if joins {
            RuleStep::Join { person: p, group: g }
        } else {
            RuleStep::Leave { person: p, group: g }
        }
    });
    proptest::collection::vec(step, 0..30)
}

proptest! {
    /// Whatever the steps, from any free count, with a hand seat and an
    /// excluded person about: seats are neither made nor lost, nobody both
    /// holds and waits, a seat is free only while nobody waits, those who
    /// wait keep their order, each covered person who is in the rules holds
    /// a seat or waits, and nobody the rules no longer cover does.
    #[test]
    fn seats_are_kept_the_waiting_keep_their_order_and_cover_decides(
        free in 0u32..4,
        steps in steps(),
        split in 0usize..30,
    ) {
        let mut s = Standing { free, ..Standing::default() };
        s.people.insert("p4".into(), Holding::HandSeat);
        s.people.insert("p5".into(), Holding::Excluded);
        let held = |s: &Standing| s.rule_seats().len() as u32 + s.free;
        let before = held(&s);
        // In two batches, to also start from a standing with people waiting.
        let (first, second) = steps.split_at(split.min(steps.len()));
        let e1 = s.apply(first);
        let order: Vec<String> = s.waiting.iter().map(|w| w.person.clone()).collect();
        let e2 = s.apply(second);
        prop_assert_eq!(held(&s), before, "seats made or lost");
        for w in &s.waiting {
            prop_assert!(!s.people.contains_key(&w.person), "{} holds and waits", w.person);
        }
        prop_assert!(s.waiting.is_empty() || s.free == 0);
        // Those who waited after the first batch and waited all through the second keep their
        // order, ahead of everyone who started waiting since (one who left and came back is
        // one of those).
        let still: Vec<&String> = order
            .iter()
            .filter(|p| s.waits(p) && !e2.unwaited.contains(p))
            .collect();
        let now: Vec<&String> = s.waiting.iter().map(|w| &w.person).collect();
        prop_assert_eq!(&now[..still.len()], &still[..]);
        for (person, groups) in &s.covered_by {
            let in_rules = !groups.is_empty() && !matches!(s.people.get(person), Some(Holding::HandSeat | Holding::Excluded));
            let seated_or_waits = matches!(s.people.get(person), Some(Holding::RuleSeat { .. })) || s.waits(person);
            prop_assert_eq!(in_rules, seated_or_waits, "{} covered by {:?}", person, groups);
        }
        prop_assert_eq!(s.people.get("p4"), Some(&Holding::HandSeat), "a hand seat is never touched");
        prop_assert!(!e1.revoked.contains(&"p4".to_string()) && !e2.revoked.contains(&"p4".to_string()));
    }
}

#[test]
fn the_net_changes_of_a_batch_leave_out_what_came_and_went() {
    let mut s = Standing { free: 1, ..Standing::default() };
    s.people.insert("gone".into(), Holding::RuleSeat { group: "g".into() });
    s.people.insert("out".into(), Holding::Excluded);
    s.covered_by.insert("gone".into(), vec!["g".into()]);
    s.covered_by.insert("out".into(), vec!["g".into()]);
    s.waiting.push(Waiter { person: "w".into(), group: "g".into() });
    s.covered_by.insert("w".into(), vec!["g".into()]);
    let steps = [
        join("a", "g"),
        leave("a", "g"),
        leave("gone", "g"),
        join("b", "g"),
        join("c", "g"),
        leave("out", "g"),
    ];
    let (after, changes) = s.changes(&steps);
    assert_eq!(
        changes,
        [
            Change::Revoke { person: "gone".into() },
            Change::Seat { person: "w".into(), group: "g".into() },
            Change::Seat { person: "b".into(), group: "g".into() },
            Change::Unwait { person: "w".into() },
            Change::Wait(Waiter { person: "c".into(), group: "g".into() }),
            Change::Readmit { person: "out".into() },
        ]
    );
    assert_eq!(after.rule_seats(), ["b", "w"].into_iter().collect());
    assert_eq!(s.free, 1, "the standing itself is left as it was");
}

proptest! {
    /// Applying the net changes to the standing before gives the fold's seats
    /// and waiting list: what the store writes is what one by one would be.
    #[test]
    fn net_changes_replayed_give_the_fold(
        free in 0u32..4,
        steps in proptest::collection::vec((0usize..5, 0usize..2, any::<bool>()), 0..30),
    ) {
        let people = ["a", "b", "c", "d", "e"];
        let groups = ["g", "h"];
        let steps: Vec<RuleStep> = steps
            .into_iter()
            .map(|(p, g, j)| if j { join(people[p], groups[g]) } else { leave(people[p], groups[g]) })
            .collect();
        let s = Standing { free, ..Standing::default() };
        let (after, changes) = s.changes(&steps);
        let mut seats: BTreeSet<String> = BTreeSet::new();
        let mut waiting: Vec<String> = Vec::new();
        for c in changes {
            match c {
                Change::Seat { person, .. } => prop_assert!(seats.insert(person)),
                Change::Revoke { person } => prop_assert!(seats.remove(&person)),
                Change::Wait(w) => waiting.push(w.person),
                Change::Unwait { person } => waiting.retain(|p| *p != person),
                Change::Readmit { .. } => {}
            }
        }
        let fold: BTreeSet<String> = after.rule_seats().into_iter().map(str::to_string).collect();
        prop_assert_eq!(seats, fold);
        let fold_waiting: Vec<String> = after.waiting.iter().map(|w| w.person.clone()).collect();
        prop_assert_eq!(waiting, fold_waiting);
        prop_assert!(after.rule_seats().len() as u32 <= free);
    }
}

#[test]
fn seats_freed_outside_the_rules_go_to_those_who_wait_before_anyone_new() {
    let mut s = Standing { free: 1, ..Standing::default() };
    s.waiting.push(Waiter { person: "w".into(), group: "g".into() });
    let (_, changes) = s.changes(&[]);
    assert_eq!(
        changes,
        [
            Change::Seat { person: "w".into(), group: "g".into() },
            Change::Unwait { person: "w".into() }
        ]
    );
    let e = s.apply(&[join("new", "g")]);
    assert_eq!(e.seated, [("w".into(), "g".into())], "the one who waited first");
    assert_eq!(waiting(&s), ["new"]);
}
