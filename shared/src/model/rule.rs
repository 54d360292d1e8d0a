//! The group rule of one licence (API.md v3, "Group-based assignment"),
//! pure: what a membership change does to the licence's seats and waiting
//! list, step by step. Every active member of a linked group holds a seat;
//! who does not fit waits, in order; a freed seat goes to the first who
//! waits; leaving revokes only a seat a rule gave, unless another linked
//! group still covers the person; a seat given by hand is never touched; a
//! person an admin (or a reclaim) took a rule's seat from is out of the
//! licence's rules until they leave and join again (leave every linked
//! group that covers them: leaving one of two keeps them out). A batch of steps ends
//! exactly as the same steps one by one (it is their fold), which is what
//! lets a change of 1,000 members be applied in one operation.
//!
//! What a store writes is the net of a batch ([`Standing::changes`]): who
//! gains or loses a rule's seat, starts or stops waiting, or is readmitted,
//! between the standing before and the fold after; `usecase::rule` commits
//! it as one pending operation.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a person is to the licence's rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Holding {
    /// A seat a rule gave, naming its group.
    RuleSeat { group: String },
    /// A seat an admin gave: the rules leave it alone.
    HandSeat,
    /// Taken out of the rules (an admin revoked their rule's seat, or a
    /// reclaim did) until no linked group covers them any more.
    Excluded,
}

/// One who waits for a seat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Waiter {
    pub person: String,
    /// The group that covers them (the one linked first, where several do).
    pub group: String,
}

/// One membership step of a linked group, in the order the change gave it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RuleStep {
    Join { person: String, group: String },
    Leave { person: String, group: String },
}

/// What the rule does to the licence.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Effects {
    /// Seats given, in order, with the group named.
    pub seated: Vec<(String, String)>,
    /// Revoked rule seats.
    pub revoked: Vec<String>,
    /// Who started waiting, in order.
    pub waiting: Vec<Waiter>,
    /// Who no longer waits (seated from the list, or left).
    pub unwaited: Vec<String>,
    /// Whose exclusion ended: no linked group covers them any more.
    pub readmitted: Vec<String>,
}

/// One person on a licence's waiting list, as stored: ordered by `seq`.
/// The rule's operation that put them there (`op`, committed at licence
/// version `op_version`) hides them from readers until it is complete, and
/// the one that took them off (`gone`) shows them until it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaitingEntry {
    pub customer_id: String,
    pub license_id: String,
    pub email: String,
    pub group_id: String,
    pub since: DateTime<Utc>,
    pub seq: u64,
    pub op: String,
    pub op_version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gone: Option<OpRef>,
}

/// An operation, and the licence version that committed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpRef {
    pub op: String,
    pub version: u64,
}

impl WaitingEntry {
    /// Whether a reader of `license` sees this person waiting.
    pub fn shown_with(&self, license: &super::License) -> bool {
        !license.hides(&self.op, self.op_version)
            && self.gone.as_ref().is_none_or(|g| license.hides(&g.op, g.version))
    }
}

/// A person an admin (or a reclaim) took a rule's seat from: out of the
/// licence's rules until they are assigned by hand after `at`, or no linked
/// group covers them any more.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Exclusion {
    pub customer_id: String,
    pub license_id: String,
    pub email: String,
    pub at: DateTime<Utc>,
}

/// The actor of a rule's seat and its history entries: `group:<groupId>`.
pub fn group_actor(group_id: &str) -> String {
    format!("{GROUP_ACTOR_PREFIX}{group_id}")
}

/// What a rule's `assignedBy` starts with.
pub const GROUP_ACTOR_PREFIX: &str = "group:";

/// The group a rule's seat names, if `assigned_by` is a rule's.
pub fn rule_group(assigned_by: &str) -> Option<&str> {
    assigned_by.strip_prefix(GROUP_ACTOR_PREFIX)
}

/// One net change a batch of steps makes to a licence (see
/// [`Standing::changes`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "change")]
pub enum Change {
    /// A seat the rule gives, naming the group.
    Seat { person: String, group: String },
    /// A rule's seat revoked.
    Revoke { person: String },
    /// The person starts waiting, last in line.
    Wait(Waiter),
    /// The person no longer waits (seated, or no longer covered).
    Unwait { person: String },
    /// The person's exclusion ends.
    Readmit { person: String },
}

/// A change as a run stores it: with the waiting list's number of the
/// person who starts or stops waiting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleWork {
    pub change: Change,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
}

/// The licence as its rules see it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Standing {
    /// Seats free for a rule's default period.
    pub free: u32,
    /// Who waits, first come first.
    pub waiting: Vec<Waiter>,
    /// Each person the rules know something about.
    pub people: BTreeMap<String, Holding>,
    /// For each person, the linked groups that cover them, in link order.
    pub covered_by: BTreeMap<String, Vec<String>>,
}

impl Standing {
    fn waits(&self, person: &str) -> bool {
        self.waiting.iter().any(|w| w.person == person)
    }

    /// Seats whoever waits while seats are free (seats freed since the
    /// last step go to those who came first), then applies `steps` one by
    /// one, each followed by the same; answers what changed.
    pub fn apply(&mut self, steps: &[RuleStep]) -> Effects {
        let mut effects = Effects::default();
        self.fill(&mut effects);
        for step in steps {
            self.step(step, &mut effects);
            self.fill(&mut effects);
        }
        effects
    }

    /// Gives free seats to those who wait, in order.
    pub fn fill(&mut self, effects: &mut Effects) {
        while self.free > 0 && !self.waiting.is_empty() {
            let first = self.waiting.remove(0);
            self.free -= 1;
            self.people
                .insert(first.person.clone(), Holding::RuleSeat { group: first.group.clone() });
            effects.unwaited.push(first.person.clone());
            effects.seated.push((first.person, first.group));
        }
    }

    fn step(&mut self, step: &RuleStep, effects: &mut Effects) {
        match step {
            RuleStep::Join { person, group } => {
                let groups = self.covered_by.entry(person.clone()).or_default();
                if !groups.contains(group) {
                    groups.push(group.clone());
                }
                let named = groups[0].clone();
                if self.people.contains_key(person) || self.waits(person) {
                    return;
                }
                if self.free > 0 {
                    self.free -= 1;
                    self.people.insert(person.clone(), Holding::RuleSeat { group: named.clone() });
                    effects.seated.push((person.clone(), named));
                } else {
                    let waiter = Waiter { person: person.clone(), group: named };
                    self.waiting.push(waiter.clone());
                    effects.waiting.push(waiter);
                }
            }
            RuleStep::Leave { person, group } => {
                let groups = self.covered_by.entry(person.clone()).or_default();
                groups.retain(|g| g != group);
                let still = groups.first().cloned();
                if still.is_none() && self.people.get(person) == Some(&Holding::Excluded) {
                    self.people.remove(person);
                    effects.readmitted.push(person.clone());
                }
                match (still, self.people.get(person).cloned()) {
                    (Some(other), Some(Holding::RuleSeat { .. })) => {
                        // Still covered: the seat stays, named by who covers them now.
                        self.people.insert(person.clone(), Holding::RuleSeat { group: other });
                    }
                    (Some(other), None) => {
                        if let Some(w) = self.waiting.iter_mut().find(|w| w.person == *person) {
                            w.group = other;
                        }
                    }
                    (None, Some(Holding::RuleSeat { .. })) => {
                        self.people.remove(person);
                        self.free += 1;
                        effects.revoked.push(person.clone());
                    }
                    (None, None) if self.waits(person) => {
                        self.waiting.retain(|w| w.person != *person);
                        effects.unwaited.push(person.clone());
                    }
                    _ => {}
                }
            }
        }
    }

    /// What `steps` change, net, from this standing to their fold (which
    /// it answers too): seats revoked, seats given (in the order given),
    /// people who stop waiting, who start (in the order they started), and
    /// exclusions ended. A person seated and gone again within the batch
    /// changes nothing; a seat named by another group as someone's first
    /// cover leaves keeps its item as it is (the rules see one seat).
    pub fn changes(&self, steps: &[RuleStep]) -> (Standing, Vec<Change>) {
        let mut after = self.clone();
        let effects = after.apply(steps);
        let held =
            |s: &Standing, p: &str| matches!(s.people.get(p), Some(Holding::RuleSeat { .. }));
        let mut out = Vec::new();
        let before_people = self.people.keys().chain(after.people.keys());
        let mut seen = BTreeSet::new();
        for person in before_people {
            if seen.insert(person.clone()) && held(self, person) && !held(&after, person) {
                out.push(Change::Revoke { person: person.clone() });
            }
        }
        let mut given = BTreeSet::new();
        for (person, _) in &effects.seated {
            if !held(self, person) && given.insert(person.clone()) {
                if let Some(Holding::RuleSeat { group }) = after.people.get(person) {
                    out.push(Change::Seat { person: person.clone(), group: group.clone() });
                }
            }
        }
        let still: BTreeSet<&str> = after.waiting.iter().map(|w| w.person.as_str()).collect();
        let was: BTreeSet<&str> = self.waiting.iter().map(|w| w.person.as_str()).collect();
        for w in &self.waiting {
            if !still.contains(w.person.as_str()) {
                out.push(Change::Unwait { person: w.person.clone() });
            }
        }
        for w in &after.waiting {
            if !was.contains(w.person.as_str()) {
                out.push(Change::Wait(w.clone()));
            }
        }
        for person in &effects.readmitted {
            if self.people.get(person) == Some(&Holding::Excluded)
                && after.people.get(person) != Some(&Holding::Excluded)
            {
                out.push(Change::Readmit { person: person.clone() });
            }
        }
        (after, out)
    }

    /// Everyone who holds a seat the rules gave.
    pub fn rule_seats(&self) -> BTreeSet<&str> {
        self.people
            .iter()
            .filter(|(_, h)| matches!(h, Holding::RuleSeat { .. }))
            .map(|(p, _)| p.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests;
