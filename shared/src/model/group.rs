//! Groups of a customer's directory, as its identity provider pushes them
//! over SCIM 2.0 (API.md v3, "Group-based assignment"): a name unique in
//! the directory and up to [`MAX_MEMBERS`] members, each one of the
//! directory's people. The membership is kept in [`MEMBER_PAGES`] pages, a
//! member's page fixed by a hash of their id: a change rewrites only the
//! pages it touches, and every change, whatever its size, is one
//! transaction (see `store::groups`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// At most this many members a group.
pub const MAX_MEMBERS: usize = 10_000;

/// How many pages a group's membership is spread over. With [`MAX_MEMBERS`]
/// members of the longest display name, a page stays far below DynamoDB's
/// 400 KB an item, and all of them below its 4 MB a transaction.
pub const MEMBER_PAGES: u32 = 32;

/// The longest `display` a member may carry.
pub const MAX_DISPLAY: usize = 256;

/// A group, without its members (they are in their pages).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Group {
    /// Ours: opaque and stable (`grp_…`).
    pub id: String,
    pub customer_id: String,
    /// Unique in the customer's directory, case-insensitively.
    pub display_name: String,
    pub external_id: Option<String>,
    /// How many members it has.
    pub member_count: usize,
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    /// Bumped by every change: the condition of the next one.
    pub version: u64,
    /// The version that last wrote each member page (absent: none did, so
    /// the page is not there either). A page read with another version
    /// than its group's record says was read across a change.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub page_versions: Vec<u64>,
    /// The licences it is linked to (each also names it, see `model::link`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
}

impl Group {
    /// The version that last wrote page `n` (0: never written).
    pub fn page_version(&self, n: u32) -> u64 {
        self.page_versions.get(n as usize).copied().unwrap_or(0)
    }

    /// Records that `version` wrote the pages `written`.
    pub fn wrote_pages(&mut self, written: impl IntoIterator<Item = u32>, version: u64) {
        self.page_versions.resize(MEMBER_PAGES as usize, 0);
        for n in written {
            self.page_versions[n as usize] = version;
        }
    }

    /// How `displayName` is told apart: case-insensitively.
    pub fn name_key(&self) -> String {
        group_name_key(&self.display_name)
    }
}

/// The key of a `displayName`: trimmed, lower case.
pub fn group_name_key(display_name: &str) -> String {
    display_name.trim().to_lowercase()
}

/// One member: a person of the directory, by our id, and the name the
/// identity provider shows for them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

/// The page a member is kept in: FNV-1a of their id, fixed forever.
pub fn member_page(user_id: &str) -> u32 {
    crate::model::fnv1a(user_id) % MEMBER_PAGES
}

/// A group's members, by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Members(BTreeMap<String, Option<String>>);

/// What a membership change did to one person, in the order the request
/// gave it: the order a group rule applies them in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MemberStep {
    Join(String),
    Leave(String),
}

/// One edit of a group, as a SCIM request spells it (PUT, PATCH, POST).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupEdit {
    Rename(String),
    ExternalId(Option<String>),
    /// These join (those already members keep their place).
    Add(Vec<Member>),
    /// These leave (those who are not members are no error).
    Remove(Vec<String>),
    /// Everyone leaves.
    RemoveAll,
    /// The members become exactly these.
    Replace(Vec<Member>),
}

impl Members {
    /// From the pages as stored.
    pub fn from_pages(pages: impl IntoIterator<Item = Vec<Member>>) -> Self {
        Self(pages.into_iter().flatten().map(|m| (m.value, m.display)).collect())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, user_id: &str) -> bool {
        self.0.contains_key(user_id)
    }

    /// Every member, in id order.
    pub fn iter(&self) -> impl Iterator<Item = Member> + '_ {
        self.0
            .iter()
            .map(|(value, display)| Member { value: value.clone(), display: display.clone() })
    }

    /// These members, those without a `display` shown as `name` says (where
    /// it knows them).
    pub fn shown_as(mut self, name: impl Fn(&str) -> Option<String>) -> Self {
        for (id, display) in self.0.iter_mut().filter(|(_, d)| d.is_none()) {
            *display = name(id);
        }
        self
    }

    /// The members of page `n`, in id order.
    pub fn page(&self, n: u32) -> Vec<Member> {
        self.iter().filter(|m| member_page(&m.value) == n).collect()
    }

    /// The pages whose members differ between `self` and `new`, each with
    /// its members in `new` (empty: the page goes).
    pub fn changed_pages(&self, new: &Members) -> Vec<(u32, Vec<Member>)> {
        let touched: std::collections::BTreeSet<u32> = self
            .0
            .iter()
            .filter(|(id, display)| new.0.get(*id) != Some(display))
            .chain(new.0.iter().filter(|(id, display)| self.0.get(*id) != Some(display)))
            .map(|(id, _)| member_page(id))
            .collect();
        touched.into_iter().map(|n| (n, new.page(n))).collect()
    }

    /// Applies `edits` in order: the members after them, and who joined and
    /// who left, in the order the edits name them (a person who joins and
    /// leaves in one request does neither).
    pub fn apply(&self, edits: &[GroupEdit]) -> (Members, Vec<MemberStep>) {
        let mut now = self.clone();
        for edit in edits {
            match edit {
                GroupEdit::Add(added) => {
                    for m in added {
                        // A member already there keeps their display, unless one is sent.
                        let display =
                            m.display.clone().or_else(|| now.0.get(&m.value).cloned().flatten());
                        now.0.insert(m.value.clone(), display);
                    }
                }
                GroupEdit::Remove(ids) => {
                    for id in ids {
                        now.0.remove(id);
                    }
                }
                GroupEdit::RemoveAll => now.0.clear(),
                GroupEdit::Replace(members) => {
                    now.0 = members.iter().map(|m| (m.value.clone(), m.display.clone())).collect();
                }
                GroupEdit::Rename(_) | GroupEdit::ExternalId(_) => {}
            }
        }
        let steps = self.steps_to(&now, edits);
        (now, steps)
    }

    /// Who joined and who left between `self` and `after`, in the order the
    /// edits first name them.
    fn steps_to(&self, after: &Members, edits: &[GroupEdit]) -> Vec<MemberStep> {
        let mut named: Vec<&str> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for edit in edits {
            let ids: Vec<&str> = match edit {
                GroupEdit::Add(ms) | GroupEdit::Replace(ms) => {
                    ms.iter().map(|m| m.value.as_str()).collect()
                }
                GroupEdit::Remove(ids) => ids.iter().map(String::as_str).collect(),
                GroupEdit::RemoveAll => self.0.keys().map(String::as_str).collect(),
                GroupEdit::Rename(_) | GroupEdit::ExternalId(_) => Vec::new(),
            };
            named.extend(ids.into_iter().filter(|id| seen.insert(*id)));
        }
        // Replaced away without being named: left, in id order after the rest.
        named.extend(self.0.keys().map(String::as_str).filter(|id| seen.insert(*id)));
        named
            .into_iter()
            .filter_map(|id| match (self.contains(id), after.contains(id)) {
                (false, true) => Some(MemberStep::Join(id.to_string())),
                (true, false) => Some(MemberStep::Leave(id.to_string())),
                _ => None,
            })
            .collect()
    }
}

/// The group's name and external id after `edits`.
pub fn renamed(group: &Group, edits: &[GroupEdit]) -> Group {
    let mut g = group.clone();
    for edit in edits {
        match edit {
            GroupEdit::Rename(name) => g.display_name = name.trim().to_string(),
            GroupEdit::ExternalId(id) => g.external_id = id.clone(),
            _ => {}
        }
    }
    g
}

#[cfg(test)]
mod tests;
