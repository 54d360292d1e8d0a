//! The paste parser's unit and property tests.
use super::*;
use proptest::prelude::*;

#[test]
fn mixed_separators_spaces_and_empty_entries() {
    let p = parse_paste(
        " anna@example.com,bob@example.com;\r\n carl@example.com\n\n;,\tdora@example.com\r",
    );
    assert_eq!(
        p.valid,
        ["anna@example.com", "bob@example.com", "carl@example.com", "dora@example.com"]
    );
    assert!(p.invalid.is_empty());
}

#[test]
fn display_names_with_separators_inside_quotes() {
    let p = parse_paste(
        "\"Schmidt, Anna\" <Anna.Schmidt@Example.com>; Bob Meier <bob@example.com>, \"Doe; Jane\" <jane@example.com>",
    );
    assert_eq!(p.valid, ["anna.schmidt@example.com", "bob@example.com", "jane@example.com"]);
}

#[test]
fn duplicates_count_once_case_insensitively() {
    let p = parse_paste("A@example.com, a@EXAMPLE.com\nAnna <a@example.com>");
    assert_eq!(p.valid, ["a@example.com"]);
}

#[test]
fn invalid_entries_are_reported_as_typed() {
    let p = parse_paste("ok@example.com, not-an-email ; @example.com,anna@, a@b, x@@example.com");
    assert_eq!(p.valid, ["ok@example.com"]);
    assert_eq!(p.invalid, ["not-an-email", "@example.com", "anna@", "a@b", "x@@example.com"]);
}

#[test]
fn idn_domains_become_punycode() {
    assert_eq!(normalize("jörg@müller.de").as_deref(), None, "non-ASCII local part");
    assert_eq!(normalize("joerg@Müller.de").as_deref(), Some("joerg@xn--mller-kva.de"));
}

#[test]
fn length_limits() {
    let local64 = "a".repeat(64);
    assert!(normalize(&format!("{local64}@example.com")).is_some());
    assert!(normalize(&format!("{}@example.com", "a".repeat(65))).is_none());
    let long_domain = format!("{0}.{0}.{0}.{0}.com", "b".repeat(63));
    assert!(normalize(&format!("a@{long_domain}")).is_none(), "over 254 in all");
}

#[test]
fn malformed_structures_are_invalid() {
    for bad in [
        "a..b@example.com",
        ".a@example.com",
        "a.@example.com",
        "a b@example.com",
        "a@-example.com",
        "a@example..com",
        "a@example.com.",
        "a@[1.2.3.4]",
        "a@example.123",
        "<a@example.com",
        "Anna a@example.com>",
        "\"q\"@example.com",
    ] {
        assert!(address_of(bad).and_then(normalize).is_none(), "{bad} accepted");
    }
}

#[test]
fn unbalanced_quote_does_not_swallow_following_lines() {
    let p = parse_paste("\"Schmidt, Anna <anna@example.com>\nbob@example.com");
    assert_eq!(p.valid, ["anna@example.com", "bob@example.com"]);
    let p = parse_paste("\"Schmidt, Anna\nbob@example.com");
    assert_eq!(p.valid, ["bob@example.com"]);
    assert_eq!(p.invalid, ["\"Schmidt, Anna"]);
}

#[test]
fn a_paste_past_the_limit_stops_at_the_first_entry_beyond_it() {
    let mut text: String = (0..MAX_ADDRESSES).map(|i| format!("u{i}@example.com, ")).collect();
    // Duplicates never count, however many.
    for _ in 0..50_000 {
        text.push_str("U0@Example.com;");
    }
    let p = parse_paste(&text);
    assert!(!p.too_many);
    assert_eq!(p.valid.len(), MAX_ADDRESSES);
    // One more distinct entry is one too many; nothing after it is read
    // (the invalid entry behind it would otherwise be reported).
    text.push_str("one-more@example.com\nnot-an-address");
    let p = parse_paste(&text);
    assert!(p.too_many);
    assert_eq!(p.distinct(), MAX_ADDRESSES);
    assert!(p.invalid.is_empty());
}

#[test]
fn entries_come_out_lazily() {
    let mut entries = split_entries("a@x.de, b@x.de\n\"unbalanced");
    assert_eq!(entries.next(), Some("a@x.de"));
    assert_eq!(entries.next(), Some("b@x.de"));
    assert_eq!(entries.next(), Some("\"unbalanced"));
    assert_eq!(entries.next(), None);
}

fn address() -> impl Strategy<Value = String> {
    ("[a-z0-9]{1,10}(\\.[a-z0-9_+-]{1,8})?", "[a-z0-9]{1,10}", "[a-z]{2,6}")
        .prop_map(|(l, d, t)| format!("{l}@{d}.{t}"))
}

proptest! {
    /// However valid addresses are joined, cased and padded, they come back
    /// normalised, once each, in order.
    #[test]
    fn separators_and_noise_round_trip(
        addrs in prop::collection::vec(address(), 1..20),
        seps in prop::collection::vec(prop::sample::select(vec![",", ";", "\n", "\r\n", "\r", " , ", "\t;\t", ",,", ";\n"]), 20),
        upper in prop::collection::vec(any::<bool>(), 20),
    ) {
        let mut text = String::new();
        for (i, a) in addrs.iter().enumerate() {
            let a = if upper[i] { a.to_uppercase() } else { a.clone() };
            if i % 3 == 1 { text.push_str(&format!("\"Name, {i}\" <{a}>")) } else { text.push_str(&a) }
            text.push_str(seps[i]);
        }
        let mut expected: Vec<String> = Vec::new();
        for a in &addrs { if !expected.contains(a) { expected.push(a.clone()); } }
        let parsed = parse_paste(&text);
        prop_assert!(parsed.invalid.is_empty(), "{:?}", parsed.invalid);
        prop_assert_eq!(parsed.valid, expected);
    }

    /// Arbitrary input never panics, and whatever is accepted is normalised
    /// and within the contract's limits.
    #[test]
    fn arbitrary_text_is_safe(text in "\\PC{0,200}") {
        let parsed = parse_paste(&text);
        for a in &parsed.valid {
            prop_assert!(a.len() <= MAX_ADDRESS);
            prop_assert!(a.is_ascii());
            prop_assert_eq!(a.clone(), a.to_lowercase());
            let (local, _) = a.rsplit_once('@').unwrap();
            prop_assert!(local.len() <= MAX_LOCAL_PART);
        }
    }
}
