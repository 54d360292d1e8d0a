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
    Entries { text, chars: text.char_indices(), start: 0, done: false }
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
    let local_ok = local.split('.').all(|atom| !atom.is_empty() && atom.chars().all(is_atext));
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
    let options =
        Options::default().without_display_text().without_domain_literal().with_required_tld();
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

/// One entry (an address, or `Name <address>`), normalised, or `None`.
pub fn parse_one(entry: &str) -> Option<String> {
    address_of(entry.trim()).and_then(normalize)
}

/// Parses what a person pasted.
pub fn parse_paste(text: &str) -> Parsed {
    parse_entries(split_entries(text))
}

#[cfg(test)]
mod tests;
