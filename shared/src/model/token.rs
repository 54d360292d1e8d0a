//! Provisioning tokens (API.md v3, "Provisioning tokens"): what a
//! customer's machines (its identity provider's SCIM client) authenticate
//! with. The secret is shown once; only its SHA-256 digest is kept.

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, FieldError, Result};

/// At most this many unrevoked, unexpired tokens per customer.
pub const MAX_ACTIVE_TOKENS: usize = 10;
/// A token's name: 1 to this many characters.
pub const MAX_NAME_CHARS: usize = 100;
/// The longest a token may live, and its default, in days from today.
pub const MAX_LIFETIME_DAYS: u64 = 365;
/// What every token starts with, so that secret scanners find a leaked one.
pub const TOKEN_PREFIX: &str = "lmt_";
/// Random bytes in a token.
const SECRET_BYTES: usize = 32;

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Scim,
}

impl Scope {
    pub fn parse(s: &str) -> Option<Self> {
        (s == "scim").then_some(Self::Scim)
    }
}

/// A token as stored and shown (never with its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Token {
    pub token_id: String,
    pub customer_id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// The last day it works (UTC). Stored as `lastDay`: the table's TTL
    /// attribute is `expiresAt`.
    #[serde(rename = "lastDay")]
    pub expires_at: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_by: Option<String>,
    /// The SHA-256 digest of the secret (hex), which finds the token when
    /// it is presented. Not secret, but never shown.
    pub digest: String,
}

impl Token {
    /// Counts against the limit: neither revoked nor past its last day.
    pub fn is_active(&self, today: NaiveDate) -> bool {
        self.revoked_at.is_none() && self.expires_at >= today
    }

    pub fn allows(&self, scope: Scope, today: NaiveDate) -> bool {
        self.is_active(today) && self.scopes.contains(&scope)
    }
}

/// What happened to a token, as its buyers are told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenEvent {
    Created,
    Revoked,
}

impl TokenEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "token-created",
            Self::Revoked => "token-revoked",
        }
    }
}

/// A token created or revoked, as the table's stream tells `notify`: the
/// customer's buyers get a mail, so a token nobody meant to create does not
/// go unnoticed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenNotice {
    pub event: TokenEvent,
    pub customer_id: String,
    pub token_id: String,
    pub name: String,
    /// Who created or revoked it, and when.
    pub by: String,
    pub at: DateTime<Utc>,
    pub last_day: NaiveDate,
}

/// A request to create a token, as decoded (not yet checked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewToken {
    pub name: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<NaiveDate>,
}

impl NewToken {
    /// The checked name, scopes and last day, every bad field named.
    pub fn check(&self, today: NaiveDate) -> Result<(String, Vec<Scope>, NaiveDate)> {
        let mut errors = Vec::new();
        // Counted as sent (as a JSON Schema `maxLength` counts), kept trimmed.
        let name = self.name.trim();
        let chars = self.name.chars().count();
        if chars == 0 || chars > MAX_NAME_CHARS {
            errors.push(FieldError::new("name", "must be 1 to 100 characters"));
        } else if name.is_empty() {
            errors.push(FieldError::new("name", "must not be blank"));
        } else if name.chars().any(char::is_control) {
            errors.push(FieldError::new("name", "must not contain control characters"));
        }
        let scopes: Vec<Scope> = self.scopes.iter().filter_map(|s| Scope::parse(s)).collect();
        if scopes.len() != self.scopes.len() || scopes != [Scope::Scim] {
            errors.push(FieldError::new("scopes", "must be [\"scim\"]"));
        }
        let latest = today + Days::new(MAX_LIFETIME_DAYS);
        let expires_at = self.expires_at.unwrap_or(latest);
        if expires_at <= today || expires_at > latest {
            errors.push(FieldError::new(
                "expiresAt",
                format!("must lie between tomorrow and {latest}"),
            ));
        }
        if errors.is_empty() {
            Ok((name.to_string(), scopes, expires_at))
        } else {
            Err(Error::Validation(errors))
        }
    }
}

/// A token's secret: `lmt_` and 32 random bytes from the operating system,
/// lower-case base32 without padding.
pub fn new_secret() -> Result<String> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(Error::unavailable)?;
    let text = data_encoding::BASE32_NOPAD.encode(&bytes).to_ascii_lowercase();
    Ok(format!("{TOKEN_PREFIX}{text}"))
}

/// The digest a token is stored and found under (hex SHA-256 of the whole
/// presented string).
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `presented` could be a token at all (before any read): the
/// prefix and the base32 text of 32 bytes.
pub fn looks_like_token(presented: &str) -> bool {
    presented.strip_prefix(TOKEN_PREFIX).is_some_and(|rest| {
        rest.len() == 52
            && rest.bytes().all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn ask(name: &str, scopes: &[&str], expires_at: Option<&str>) -> NewToken {
        NewToken {
            name: name.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            expires_at: expires_at.map(d),
        }
    }

    #[test]
    fn secrets_are_prefixed_base32_of_32_random_bytes() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert_ne!(a, b);
        assert!(looks_like_token(&a), "{a}");
        assert_eq!(a.len(), 4 + 52);
        assert_eq!(digest(&a).len(), 64);
        assert_ne!(digest(&a), digest(&b));
        assert!(!looks_like_token("lmt_short"));
        assert!(!looks_like_token(&a.to_uppercase()));
    }

    #[test]
    fn a_new_token_is_named_scoped_and_bounded() {
        let today = d("2026-12-06");
        let (name, scopes, until) = ask(" Okta ", &["scim"], None).check(today).unwrap();
        assert_eq!((name.as_str(), scopes, until), ("Okta", vec![Scope::Scim], d("2027-12-06")));
        assert!(ask("Okta", &["scim"], Some("2026-12-07")).check(today).is_ok());
        let Err(Error::Validation(errors)) =
            ask("", &["scim", "admin"], Some("2026-12-06")).check(today)
        else {
            panic!("refused")
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "scopes", "expiresAt"]);
        assert!(ask(&"x".repeat(101), &["scim"], None).check(today).is_err());
        assert!(ask(&format!(" {} ", "x".repeat(99)), &["scim"], None).check(today).is_err());
        assert!(ask("   ", &["scim"], None).check(today).is_err());
        assert!(ask("a\u{7}b", &["scim"], None).check(today).is_err());
        assert!(ask("Okta", &[], None).check(today).is_err());
        assert!(ask("Okta", &["scim"], Some("2027-12-07")).check(today).is_err());
    }
}
