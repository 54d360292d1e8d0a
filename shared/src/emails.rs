//! What a person pastes into the e-mail field, turned into login names.
//!
//! Entries are separated by commas, semicolons and line breaks; a separator
//! inside a quoted display name or inside `<...>` does not split. Each entry is
//! either a bare address or `Display Name <address>`. Addresses are trimmed,
//! lower-cased, and IDN domains are stored in their punycode form.

use email_address::{EmailAddress, Options};

pub const MAX_ADDRESSES: usize = 1000;
pub const MAX_LOCAL_PART: usize = 64;
pub const MAX_ADDRESS: usize = 254;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Normalised addresses in the order first seen, without duplicates.
    pub valid: Vec<String>,
    /// Entries that are not addresses, as typed (trimmed), without duplicates.
    pub invalid: Vec<String>,
    /// More than [`MAX_ADDRESSES`] distinct entries: parsing stopped at the
    /// first one past the limit (`valid` and `invalid` hold what came before).
    pub too_many: bool,
}

impl Parsed {
    pub fn distinct(&self) -> usize {
        self.valid.len() + self.invalid.len()
    }
}

/// Splits pasted text into trimmed, non-empty entries, lazily: a caller that
/// stops early pays only for what it read.
pub fn split_entries(text: &str) -> impl Iterator<Item = &str> {
    Entries {
        text,
        chars: text.char_indices(),
        start: 0,
        done: false,
    }
    .map(|e| e.trim_matches(|c: char| c == ' ' || c == '\t'))
    .filter(|e| !e.is_empty())
}

struct Entries<'a> {
    text: &'a str,
    chars: std::str::CharIndices<'a>,
    start: usize,
    done: bool,
}

impl<'a> Iterator for Entries<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.done {
            return None;
        }
        let mut in_quotes = false;
        let mut in_angle = false;
        let mut escaped = false;
        for (i, c) in self.chars.by_ref() {
            if escaped {
                escaped = false;
                continue;
            }
            let ends_entry = match c {
                '\\' if in_quotes => {
                    escaped = true;
                    false
                }
                '"' if !in_angle => {
                    in_quotes = !in_quotes;
                    false
                }
                '<' if !in_quotes => {
                    in_angle = true;
                    false
                }
                '>' if !in_quotes => {
                    in_angle = false;
                    false
                }
                // A line break always ends an entry, so one unbalanced quote
                // cannot swallow the rest of a pasted list.
                '\r' | '\n' => true,
                ',' | ';' => !in_quotes && !in_angle,
                _ => false,
            };
            if ends_entry {
                let entry = &self.text[self.start..i];
                self.start = i + c.len_utf8();
                return Some(entry);
            }
        }
        self.done = true;
        Some(&self.text[self.start..])
    }
}

/// The address an entry names: `Name <addr>` → `addr`, otherwise the entry.
fn address_of(entry: &str) -> Option<&str> {
    match (entry.rfind('<'), entry.ends_with('>')) {
        (Some(open), true) => {
            let display = &entry[..open];
            let addr = &entry[open + 1..entry.len() - 1];
            // The display name may not itself hold an unquoted address part.
            if display.contains('>') || (display.contains('<') && !display.contains('"')) {
                return None;
            }
            Some(addr.trim())
        }
        (None, false) if !entry.contains('>') => Some(entry),
        _ => None,
    }
}

/// Normalises one address, or says it is not valid.
pub fn normalize(address: &str) -> Option<String> {
    let address = address.trim();
    let (local, domain) = address.rsplit_once('@')?;
    if local.is_empty() || local.len() > MAX_LOCAL_PART || !local.is_ascii() {
        return None;
    }
    let local_ok = local
        .split('.')
        .all(|atom| !atom.is_empty() && atom.chars().all(is_atext));
    if !local_ok {
        return None;
    }
    if domain.is_empty() || domain.ends_with('.') || domain.chars().any(char::is_whitespace) {
        return None;
    }
    let domain = idna::domain_to_ascii(domain).ok()?;
    let labels: Vec<&str> = domain.split('.').collect();
    let tld = labels.last()?;
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && !tld.chars().all(|c| c.is_ascii_digit());
    if !domain_ok {
        return None;
    }
    let normalized = format!("{}@{}", local.to_ascii_lowercase(), domain);
    if normalized.len() > MAX_ADDRESS {
        return None;
    }
    let options = Options::default()
        .without_display_text()
        .without_domain_literal()
        .with_required_tld();
    EmailAddress::parse_with_options(&normalized, options).ok()?;
    Some(normalized)
}

/// An address someone else vouched for (an identity provider's verified
/// `email` claim): valid, trimmed and ASCII lower-cased, and nothing else.
/// Unlike [`normalize`], no Unicode mapping is applied: a look-alike such as
/// KELVIN SIGN (U+212A) or a fullwidth letter is refused rather than folded
/// into the ASCII address it resembles. A non-ASCII domain must already be in
/// the canonical form its punycode stands for.
pub fn normalize_exact(address: &str) -> Option<String> {
    let trimmed = address.trim();
    let normalized = normalize(trimmed)?;
    let (local, domain) = trimmed.rsplit_once('@')?;
    let (n_local, n_domain) = normalized.rsplit_once('@')?;
    let domain = domain.to_ascii_lowercase();
    let same_domain = if domain.is_ascii() {
        domain == n_domain
    } else {
        let (unicode, result) = idna::domain_to_unicode(n_domain);
        result.is_ok() && unicode == domain
    };
    (local.to_ascii_lowercase() == n_local && same_domain).then_some(normalized)
}

fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c)
}

/// Parses entries (already split) into valid and invalid ones, in time
/// linear in their number, and stops at the first distinct entry past
/// [`MAX_ADDRESSES`]: a request that is refused anyway costs no more.
pub fn parse_entries<'a>(entries: impl IntoIterator<Item = &'a str>) -> Parsed {
    let mut parsed = Parsed::default();
    let mut seen_valid = std::collections::HashSet::new();
    let mut seen_invalid = std::collections::HashSet::new();
    for entry in entries {
        let entry = entry.trim_matches(|c: char| c == ' ' || c == '\t');
        if entry.is_empty() || seen_invalid.contains(entry) {
            continue;
        }
        match address_of(entry).and_then(normalize) {
            Some(addr) => {
                if seen_valid.contains(&addr) {
                    continue;
                }
                if parsed.distinct() == MAX_ADDRESSES {
                    parsed.too_many = true;
                    break;
                }
                seen_valid.insert(addr.clone());
                parsed.valid.push(addr);
            }
            None => {
                if parsed.distinct() == MAX_ADDRESSES {
                    parsed.too_many = true;
                    break;
                }
                seen_invalid.insert(entry);
                parsed.invalid.push(entry.to_string());
            }
        }
    }
    parsed
}

/// Parses what a person pasted.
pub fn parse_paste(text: &str) -> Parsed {
    parse_entries(split_entries(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn mixed_separators_spaces_and_empty_entries() {
        let p = parse_paste(
            " anna@example.com,bob@example.com;\r\n carl@example.com\n\n;,\tdora@example.com\r",
        );
        assert_eq!(
            p.valid,
            [
                "anna@example.com",
                "bob@example.com",
                "carl@example.com",
                "dora@example.com"
            ]
        );
        assert!(p.invalid.is_empty());
    }

    #[test]
    fn display_names_with_separators_inside_quotes() {
        let p = parse_paste("\"Schmidt, Anna\" <Anna.Schmidt@Example.com>; Bob Meier <bob@example.com>, \"Doe; Jane\" <jane@example.com>");
        assert_eq!(
            p.valid,
            [
                "anna.schmidt@example.com",
                "bob@example.com",
                "jane@example.com"
            ]
        );
    }

    #[test]
    fn duplicates_count_once_case_insensitively() {
        let p = parse_paste("A@example.com, a@EXAMPLE.com\nAnna <a@example.com>");
        assert_eq!(p.valid, ["a@example.com"]);
    }

    #[test]
    fn invalid_entries_are_reported_as_typed() {
        let p =
            parse_paste("ok@example.com, not-an-email ; @example.com,anna@, a@b, x@@example.com");
        assert_eq!(p.valid, ["ok@example.com"]);
        assert_eq!(
            p.invalid,
            [
                "not-an-email",
                "@example.com",
                "anna@",
                "a@b",
                "x@@example.com"
            ]
        );
    }

    #[test]
    fn idn_domains_become_punycode() {
        assert_eq!(
            normalize("jörg@müller.de").as_deref(),
            None,
            "non-ASCII local part"
        );
        assert_eq!(
            normalize("joerg@Müller.de").as_deref(),
            Some("joerg@xn--mller-kva.de")
        );
    }

    #[test]
    fn length_limits() {
        let local64 = "a".repeat(64);
        assert!(normalize(&format!("{local64}@example.com")).is_some());
        assert!(normalize(&format!("{}@example.com", "a".repeat(65))).is_none());
        let long_domain = format!("{0}.{0}.{0}.{0}.com", "b".repeat(63));
        assert!(
            normalize(&format!("a@{long_domain}")).is_none(),
            "over 254 in all"
        );
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
            assert!(
                address_of(bad).and_then(normalize).is_none(),
                "{bad} accepted"
            );
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
        let mut text: String = (0..MAX_ADDRESSES)
            .map(|i| format!("u{i}@example.com, "))
            .collect();
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
        (
            "[a-z0-9]{1,10}(\\.[a-z0-9_+-]{1,8})?",
            "[a-z0-9]{1,10}",
            "[a-z]{2,6}",
        )
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
}
