use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

fn m(id: &str) -> Member {
    Member { value: id.to_string(), display: None }
}

fn ids(members: &Members) -> BTreeSet<String> {
    members.iter().map(|m| m.value).collect()
}

#[test]
fn adds_join_in_the_order_given_and_removes_of_non_members_are_no_error() {
    let before = Members::from_pages([vec![m("usr_a")]]);
    let edits = [
        GroupEdit::Add(vec![m("usr_c"), m("usr_a"), m("usr_b"), m("usr_c")]),
        GroupEdit::Remove(vec!["usr_x".into()]),
    ];
    let (after, steps) = before.apply(&edits);
    assert_eq!(ids(&after), ["usr_a", "usr_b", "usr_c"].map(String::from).into());
    assert_eq!(
        steps,
        vec![MemberStep::Join("usr_c".into()), MemberStep::Join("usr_b".into())],
        "new members in the order given, once each; usr_a was one already"
    );
}

#[test]
fn joining_and_leaving_in_one_request_is_neither() {
    let before = Members::from_pages([vec![m("usr_a")]]);
    let edits =
        [GroupEdit::Add(vec![m("usr_b")]), GroupEdit::Remove(vec!["usr_b".into(), "usr_a".into()])];
    let (after, steps) = before.apply(&edits);
    assert!(after.is_empty());
    assert_eq!(steps, vec![MemberStep::Leave("usr_a".into())]);
}

#[test]
fn a_replace_names_who_joins_in_its_order_and_who_leaves_after() {
    let before = Members::from_pages([vec![m("usr_a"), m("usr_b")]]);
    let (after, steps) = before.apply(&[GroupEdit::Replace(vec![m("usr_c"), m("usr_b")])]);
    assert_eq!(ids(&after), ["usr_b", "usr_c"].map(String::from).into());
    assert_eq!(steps, vec![MemberStep::Join("usr_c".into()), MemberStep::Leave("usr_a".into())]);
    let (empty, steps) = before.apply(&[GroupEdit::RemoveAll]);
    assert!(empty.is_empty());
    assert_eq!(steps.len(), 2);
}

#[test]
fn a_members_page_is_fixed_by_their_id() {
    assert_eq!(member_page("usr_a"), member_page("usr_a"));
    let pages: BTreeSet<u32> = (0..500).map(|i| member_page(&format!("usr_{i}"))).collect();
    assert_eq!(pages.len(), MEMBER_PAGES as usize, "ids spread over every page");
    assert!(pages.iter().all(|p| *p < MEMBER_PAGES));
}

#[test]
fn renaming_trims_and_keys_case_insensitively() {
    let g = renamed(&Group::default(), &[GroupEdit::Rename("  Sales EU ".into())]);
    assert_eq!(g.display_name, "Sales EU");
    assert_eq!(g.name_key(), group_name_key("sales eu"));
}

fn edit() -> impl Strategy<Value = GroupEdit> {
    let id = (0..12u8).prop_map(|i| format!("usr_{i}"));
    let members = proptest::collection::vec(id.clone().prop_map(|v| m(&v)), 0..6);
    prop_oneof![
        members.clone().prop_map(GroupEdit::Add),
        proptest::collection::vec(id, 0..6).prop_map(GroupEdit::Remove),
        members.prop_map(GroupEdit::Replace),
        Just(GroupEdit::RemoveAll),
    ]
}

proptest! {
    /// Whatever the edits: the steps take the members from before to after
    /// (each person at most once), and writing only the changed pages over
    /// the old ones stores exactly the members after.
    #[test]
    fn steps_and_changed_pages_take_the_members_from_before_to_after(
        start in proptest::collection::btree_set(0..12u8, 0..8),
        edits in proptest::collection::vec(edit(), 0..5),
    ) {
        let before = Members::from_pages([start.iter().map(|i| m(&format!("usr_{i}"))).collect::<Vec<_>>()]);
        let (after, steps) = before.apply(&edits);
        let mut set = ids(&before);
        let mut named = BTreeSet::new();
        for step in &steps {
            match step {
                MemberStep::Join(id) => prop_assert!(set.insert(id.clone()), "{id} joined twice"),
                MemberStep::Leave(id) => prop_assert!(set.remove(id), "{id} left, not a member"),
            }
            let id = match step { MemberStep::Join(id) | MemberStep::Leave(id) => id };
            prop_assert!(named.insert(id.clone()), "{id} named twice");
        }
        prop_assert_eq!(&set, &ids(&after));
        let mut pages: BTreeMap<u32, Vec<Member>> =
            (0..MEMBER_PAGES).map(|n| (n, before.page(n))).collect();
        for (n, members) in before.changed_pages(&after) {
            pages.insert(n, members);
        }
        prop_assert_eq!(Members::from_pages(pages.into_values()), after);
    }
}
