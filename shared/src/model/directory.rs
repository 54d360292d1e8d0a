//! A customer's directory of people, as its identity provider keeps it in
//! step over SCIM 2.0 (API.md v3, "SCIM 2.0"): who they are, whether they
//! are active, and the one address their seats are assigned to.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::emails;

/// A person's name parts, as the identity provider sends them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PersonName {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub formatted: Option<String>,
}

/// One of a person's e-mail addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryEmail {
    pub value: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default)]
    pub primary: bool,
}

/// A person of a customer's directory (absent attributes are stored as
/// null, and read back as absent).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DirectoryUser {
    /// Ours: opaque and stable (`usr_…`).
    pub id: String,
    pub customer_id: String,
    /// Unique in the customer's directory, case-insensitively; an e-mail
    /// address is kept normalised.
    pub user_name: String,
    pub external_id: Option<String>,
    pub name: Option<PersonName>,
    pub display_name: Option<String>,
    pub emails: Vec<DirectoryEmail>,
    /// As the identity provider set it; unassigned means active (the
    /// default), see [`DirectoryUser::is_active`].
    pub active: Option<bool>,
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    /// Bumped by every change: the condition of the next one.
    pub version: u64,
    /// A rename in progress: the seat address the person's seats are being
    /// moved from. It stays claimed with the new one until every licence is
    /// done, so nobody else can take it in between.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moving_from: Option<String>,
}

impl DirectoryUser {
    /// The address this person's seats are assigned to: the first valid one
    /// of the primary e-mail, the work e-mail, the first e-mail and
    /// `userName`, normalised as an assign normalises it. `None`: the
    /// person is in the directory but can hold no seat.
    pub fn seat_address(&self) -> Option<String> {
        let primary = self.emails.iter().find(|e| e.primary);
        let work = self.emails.iter().find(|e| e.kind.as_deref() == Some("work"));
        let candidates = [primary, work, self.emails.first()];
        candidates
            .into_iter()
            .flatten()
            .map(|e| e.value.as_str())
            .chain([self.user_name.as_str()])
            .find_map(emails::normalize)
    }

    /// Active unless set to false (`active` defaults to true).
    pub fn is_active(&self) -> bool {
        self.active != Some(false)
    }

    /// The seat address only while the person is active: what makes two
    /// active people's seat addresses collide.
    pub fn active_seat_address(&self) -> Option<String> {
        self.is_active().then(|| self.seat_address()).flatten()
    }

    /// The seat addresses this person holds against everyone else: the
    /// active one, and while a rename is in progress the one it moves from.
    pub fn claimed_addresses(&self) -> Vec<String> {
        let mut claimed: Vec<String> = self.active_seat_address().into_iter().collect();
        if let Some(from) = self.moving_from.as_ref().filter(|f| !claimed.contains(f)) {
            claimed.push(from.clone());
        }
        claimed
    }

    /// How `userName` is told apart: case-insensitively.
    pub fn user_name_key(&self) -> String {
        user_name_key(&self.user_name)
    }
}

/// The key of a `userName`: lower case.
pub fn user_name_key(user_name: &str) -> String {
    user_name.trim().to_lowercase()
}

/// A `userName` as kept: an e-mail address normalised (as an assign would
/// normalise it), anything else trimmed.
pub fn kept_user_name(user_name: &str) -> String {
    emails::normalize(user_name).unwrap_or_else(|| user_name.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn user(user_name: &str, emails: &[(&str, Option<&str>, bool)]) -> DirectoryUser {
        let at = "2026-12-06T21:00:00Z".parse().unwrap();
        DirectoryUser {
            id: "usr_1".into(),
            customer_id: "c1".into(),
            user_name: user_name.into(),
            external_id: None,
            name: None,
            display_name: None,
            emails: emails
                .iter()
                .map(|(value, kind, primary)| DirectoryEmail {
                    value: value.to_string(),
                    kind: kind.map(str::to_string),
                    primary: *primary,
                })
                .collect(),
            active: Some(true),
            created: at,
            last_modified: at,
            version: 1,
            moving_from: None,
        }
    }

    #[test]
    fn the_seat_address_is_the_first_valid_of_primary_work_first_and_user_name() {
        let all = [
            ("Home@Example.com", Some("home"), false),
            ("Work@Example.com", Some("work"), false),
            ("Main@Example.com", None, true),
        ];
        assert_eq!(user("u", &all).seat_address().as_deref(), Some("main@example.com"));
        assert_eq!(user("u", &all[..2]).seat_address().as_deref(), Some("work@example.com"));
        assert_eq!(user("u", &all[..1]).seat_address().as_deref(), Some("home@example.com"));
        assert_eq!(
            user("Anna@Example.com", &[]).seat_address().as_deref(),
            Some("anna@example.com")
        );
        // An invalid primary falls through to the next valid one.
        let broken = [("not an address", None, true), ("w@example.com", Some("work"), false)];
        assert_eq!(user("u", &broken).seat_address().as_deref(), Some("w@example.com"));
        assert_eq!(user("no-address", &[]).seat_address(), None);
        let mut inactive = user("Anna@Example.com", &[]);
        inactive.active = Some(false);
        assert_eq!(inactive.active_seat_address(), None);
    }

    #[test]
    fn user_names_are_told_apart_case_insensitively_and_addresses_kept_normalised() {
        assert_eq!(user_name_key(" Anna@Example.COM "), "anna@example.com");
        assert_eq!(kept_user_name(" Anna@Example.COM "), "anna@example.com");
        assert_eq!(kept_user_name(" jdoe "), "jdoe");
        assert_eq!(user_name_key("JDoe"), user_name_key("jdoe"));
    }

    proptest! {
        /// Whatever the e-mails, the seat address is one of them or the
        /// userName, normalised, and never an invalid address.
        #[test]
        fn the_seat_address_is_always_one_of_the_persons_valid_addresses(
            names in proptest::collection::vec("[a-zA-Z]{1,6}(@[a-z]{1,5}\\.de)?", 0..4),
            primary in proptest::option::of(0usize..4),
        ) {
            let emails: Vec<(String, Option<&str>, bool)> = names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), (i == 1).then_some("work"), Some(i) == primary))
                .collect();
            let borrowed: Vec<(&str, Option<&str>, bool)> =
                emails.iter().map(|(v, k, p)| (v.as_str(), *k, *p)).collect();
            let u = user("fallback@example.com", &borrowed);
            let seat = u.seat_address().expect("the userName is valid");
            let valid: Vec<String> = names
                .iter()
                .chain(["fallback@example.com".to_string()].iter())
                .filter_map(|n| emails::normalize(n))
                .collect();
            prop_assert!(valid.contains(&seat), "{seat} not in {valid:?}");
        }
    }
}
