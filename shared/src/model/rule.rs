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
//! Not wired yet: the store and the pending operation that apply it come
//! with the links of groups to licences.

use std::collections::{BTreeMap, BTreeSet};

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

    /// Applies `steps` one by one, each followed by seating whoever waits
    /// while seats are free; answers what changed.
    pub fn apply(&mut self, steps: &[RuleStep]) -> Effects {
        let mut effects = Effects::default();
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
