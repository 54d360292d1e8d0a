//! Links from a customer's groups to its licences (API.md v3, "Group-based
//! assignment"): a licence admin links a group of the directory to a
//! licence, and the licence keeps the link (with the invitation language of
//! its seats) while the group keeps the licence's id. Both sides are
//! written in one transaction, so neither names a link the other lacks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Group, Language, License};

/// At most this many groups linked to one licence.
pub const MAX_LINKS_PER_LICENSE: usize = 10;

/// At most this many licences linked to one group (a group's removal
/// unlinks them all in its own transaction).
pub const MAX_LINKS_PER_GROUP: usize = 20;

/// A group linked to a licence, as the licence keeps it, in the order the
/// groups were linked (where two cover a person, the first names the seat).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupLink {
    pub group_id: String,
    pub linked_at: DateTime<Utc>,
    /// The language of the invitations its members' seats send.
    pub language: Language,
}

/// What a link looks like in the licence's history: the group (by id and the
/// name it had then) and the language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkState {
    pub group_id: String,
    pub display_name: String,
    pub language: Language,
}

impl LinkState {
    pub fn of(group: &Group, language: Language) -> Self {
        Self { group_id: group.id.clone(), display_name: group.display_name.clone(), language }
    }
}

/// Why a link cannot be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkRefusal {
    /// The licence has [`MAX_LINKS_PER_LICENSE`] groups already.
    LicenseFull,
    /// The group is linked to [`MAX_LINKS_PER_GROUP`] licences already.
    GroupFull,
}

/// What linking `group` to `license` with `language` changes: `None` when it
/// is linked with that language already; else the licence's link as it
/// was (if the language changes) and both sides afterwards.
pub fn link(
    license: &License,
    group: &Group,
    language: Language,
    now: DateTime<Utc>,
) -> Result<Option<LinkChange>, LinkRefusal> {
    let existing = license.groups.iter().find(|l| l.group_id == group.id);
    if existing.is_some_and(|l| l.language == language) {
        return Ok(None);
    }
    let mut new_license = license.clone();
    let mut new_group = group.clone();
    match new_license.groups.iter_mut().find(|l| l.group_id == group.id) {
        Some(l) => l.language = language,
        None => {
            if license.groups.len() >= MAX_LINKS_PER_LICENSE {
                return Err(LinkRefusal::LicenseFull);
            }
            let linked_elsewhere = group.licenses.contains(&license.license_id);
            if !linked_elsewhere && group.licenses.len() >= MAX_LINKS_PER_GROUP {
                return Err(LinkRefusal::GroupFull);
            }
            new_license.groups.push(GroupLink {
                group_id: group.id.clone(),
                linked_at: now,
                language,
            });
        }
    }
    if !new_group.licenses.contains(&license.license_id) {
        new_group.licenses.push(license.license_id.clone());
    }
    Ok(Some(LinkChange {
        before: existing.map(|l| LinkState::of(group, l.language)),
        license: new_license,
        group: new_group,
    }))
}

/// Both sides of a link as it is to be written, and what it was before.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkChange {
    pub before: Option<LinkState>,
    pub license: License,
    pub group: Group,
}

/// The licence without its link to `group_id` (`None`: it has none).
pub fn unlinked(license: &License, group_id: &str) -> Option<License> {
    let at = license.groups.iter().position(|l| l.group_id == group_id)?;
    let mut new = license.clone();
    new.groups.remove(at);
    Some(new)
}

/// The group without its link to `license_id`.
pub fn without_license(group: &Group, license_id: &str) -> Group {
    let mut new = group.clone();
    new.licenses.retain(|id| id != license_id);
    new
}

#[cfg(test)]
mod tests {
    use super::*;

    fn licence(id: &str) -> License {
        License { license_id: id.into(), ..License::sample(5) }
    }

    fn group(id: &str) -> Group {
        Group {
            id: id.into(),
            customer_id: "c".into(),
            display_name: id.into(),
            ..Group::default()
        }
    }

    #[test]
    fn a_link_is_kept_on_both_sides_once_and_a_new_language_replaces_the_old() {
        let now = Utc::now();
        let first = link(&licence("l1"), &group("g1"), Language::En, now).unwrap().unwrap();
        assert_eq!(first.before, None);
        assert_eq!(first.license.groups.len(), 1);
        assert_eq!(first.group.licenses, ["l1"]);
        assert_eq!(link(&first.license, &first.group, Language::En, now), Ok(None));
        let german = link(&first.license, &first.group, Language::De, now).unwrap().unwrap();
        assert_eq!(german.before.map(|b| b.language), Some(Language::En));
        assert_eq!(german.license.groups.len(), 1);
        assert_eq!(german.license.groups[0].language, Language::De);
        assert_eq!(german.license.groups[0].linked_at, first.license.groups[0].linked_at);
        assert_eq!(german.group.licenses, ["l1"]);
        let gone = unlinked(&german.license, "g1").unwrap();
        assert!(gone.groups.is_empty());
        assert_eq!(unlinked(&gone, "g1"), None);
        assert!(without_license(&german.group, "l1").licenses.is_empty());
    }

    #[test]
    fn links_stop_at_their_limits() {
        let now = Utc::now();
        let mut l = licence("l1");
        for i in 0..MAX_LINKS_PER_LICENSE {
            l = link(&l, &group(&format!("g{i}")), Language::En, now).unwrap().unwrap().license;
        }
        assert_eq!(link(&l, &group("one-more"), Language::En, now), Err(LinkRefusal::LicenseFull));
        let mut g = group("g");
        for i in 0..MAX_LINKS_PER_GROUP {
            g = link(&licence(&format!("l{i}")), &g, Language::En, now).unwrap().unwrap().group;
        }
        let refused = link(&licence("one-more"), &g, Language::En, now);
        assert_eq!(refused, Err(LinkRefusal::GroupFull));
        // A full group may still change the language of a link it has.
        let mut linked = licence("l0");
        linked.groups.push(GroupLink {
            group_id: "g".into(),
            linked_at: now,
            language: Language::En,
        });
        assert!(link(&linked, &g, Language::De, now).unwrap().is_some());
    }
}
