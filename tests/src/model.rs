//! A plain in-memory model of the contract (`../shared/API.md`): what the
//! API must answer to each operation and what a client must then read. The
//! model-based test (`tests/tests/model.rs`) runs random sequences against it
//! and against the real handlers on DynamoDB Local.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use licensing::provision::license_id_for;

use crate::days_from_today;

pub fn day(offset: i64) -> NaiveDate {
    days_from_today(offset)
}

/// The people of every case. The first one buys the licences.
pub const PEOPLE: [&str; 6] = [
    "ann@example.com",
    "ben@example.com",
    "cy@example.com",
    "dee@example.com",
    "eve@example.com",
    "fay@example.com",
];

/// Day offsets from today that periods are made of: term bounds, the days
/// around them and around today, so periods overlap, touch, fall outside the
/// term or end in the past.
pub const DAYS: [i64; 14] = [-31, -30, -5, -1, 0, 1, 5, 10, 11, 30, 59, 60, 61, 71];

/// Terms relative to today: (start, end).
pub const TERMS: [(i64, i64); 4] = [(-30, 60), (-5, 10), (10, 70), (-60, -1)];

// ---------------------------------------------------------------- operations

#[derive(Clone, Debug)]
pub struct Slot {
    pub quantity: u32,
    /// Index into [`TERMS`].
    pub term: usize,
}

#[derive(Clone, Debug)]
pub enum Op {
    Provision {
        slot: usize,
    },
    Assign {
        slot: usize,
        /// Indexes into [`PEOPLE`]; duplicates count once.
        people: Vec<usize>,
        from: Option<i64>,
        until: Option<i64>,
        /// Send the addresses as pasted text (else as a JSON array).
        paste: bool,
        /// Upper-case the addresses as typed.
        shout: bool,
    },
    Change {
        slot: usize,
        person: usize,
        from: Option<i64>,
        until: Option<i64>,
        shout: bool,
    },
    Revoke {
        slot: usize,
        person: usize,
    },
    Resend {
        slot: usize,
        person: usize,
    },
}

#[derive(Clone, Debug)]
pub struct Case {
    pub slots: [Slot; 2],
    /// Whether both licences are of the same product (the buyer then gets no
    /// second automatic seat while holding one).
    pub same_product: bool,
    pub ops: Vec<Op>,
}

// --------------------------------------------------------------------- model

#[derive(Clone, Debug, PartialEq)]
pub struct MAssignment {
    pub from: NaiveDate,
    pub until: NaiveDate,
    pub revoked: bool,
    pub invitation: &'static str,
    /// An invitation was asked for (assign or resend): a resend waits 10 minutes.
    pub invited: bool,
    pub by: String,
}

#[derive(Clone, Debug)]
pub struct MLicence {
    pub id: String,
    pub product: String,
    pub quantity: u32,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub buyer_assigned: bool,
    pub assignments: BTreeMap<String, MAssignment>,
    /// Days that stay used although no current assignment holds them: the
    /// part of a revoked period before its revocation, ended periods of
    /// addresses assigned afresh.
    pub used: Vec<(NaiveDate, NaiveDate)>,
}

impl MLicence {
    pub fn expired(&self, today: NaiveDate) -> bool {
        self.end < today
    }

    /// Non-revoked periods covering `d`, leaving out `except`, plus the
    /// days that stay used.
    pub fn count_on(&self, d: NaiveDate, except: Option<&str>) -> u32 {
        let current = self
            .assignments
            .iter()
            .filter(|(e, a)| {
                Some(e.as_str()) != except && !a.revoked && a.from <= d && d <= a.until
            })
            .count();
        let used = self.used.iter().filter(|(f, u)| *f <= d && d <= *u).count();
        (current + used) as u32
    }

    pub fn peak(&self, from: NaiveDate, until: NaiveDate, except: Option<&str>) -> u32 {
        from.iter_days()
            .take_while(|d| *d <= until)
            .map(|d| self.count_on(d, except))
            .max()
            .unwrap_or(0)
    }

    /// (assignedSeats, availableSeats, assignedUsers) as the contract defines them.
    pub fn counts(&self, today: NaiveDate) -> (u32, u32, u32) {
        let from = today.max(self.start);
        let seats = if from > self.end { 0 } else { self.peak(from, self.end, None) };
        let users =
            self.assignments.values().filter(|a| !a.revoked && a.until >= today).count() as u32;
        (seats, self.quantity.saturating_sub(seats), users)
    }

    pub fn status(&self, today: NaiveDate) -> &'static str {
        if self.start > today {
            "upcoming"
        } else if self.end < today {
            "expired"
        } else {
            "active"
        }
    }

    /// The contract's period rules; `Err` is a 400.
    pub fn check_period(&self, from: NaiveDate, until: NaiveDate, today: NaiveDate) -> bool {
        from >= self.start
            && from <= self.end
            && until >= self.start
            && until <= self.end
            && from <= until
            && until >= today
    }
}

pub struct Model {
    pub today: NaiveDate,
    pub customer: String,
    pub admin_name: String,
    pub case: Case,
    pub licences: [Option<MLicence>; 2],
}

/// What the API must answer.
#[derive(Debug, PartialEq)]
pub enum Expected {
    Status(u16),
    Problem(u16, &'static str),
    /// 409 insufficient-seats with `requested` and `available`.
    Insufficient(u32, u32),
}

pub fn order(customer: &str, slot: usize) -> String {
    format!("ORD-{customer}-{slot}")
}

pub fn assignment_status(a: &MAssignment, today: NaiveDate) -> &'static str {
    if a.revoked {
        "revoked"
    } else if a.from > today {
        "scheduled"
    } else if a.until < today {
        "expired"
    } else {
        "active"
    }
}

impl Model {
    pub fn product(&self, slot: usize) -> String {
        if self.case.same_product { "product-shared".into() } else { format!("product-{slot}") }
    }

    pub fn licence_id(&self, slot: usize) -> String {
        license_id_for(&self.customer, &order(&self.customer, slot))
    }

    pub fn provision(&mut self, slot: usize) -> bool {
        if let Some(l) = &self.licences[slot] {
            return l.buyer_assigned;
        }
        let today = self.today;
        let (s, e) = TERMS[self.case.slots[slot].term];
        let product = self.product(slot);
        let mut l = MLicence {
            id: self.licence_id(slot),
            product: product.clone(),
            quantity: self.case.slots[slot].quantity,
            start: day(s),
            end: day(e),
            buyer_assigned: false,
            assignments: BTreeMap::new(),
            used: Vec::new(),
        };
        let buyer = PEOPLE[0];
        let holds_one = self.licences.iter().flatten().any(|other| {
            other.product == product
                && other.assignments.get(buyer).is_some_and(|a| !a.revoked && a.until >= today)
        });
        if !l.expired(today) && !holds_one {
            l.assignments.insert(
                buyer.into(),
                MAssignment {
                    from: today.max(l.start),
                    until: l.end,
                    revoked: false,
                    invitation: "none",
                    invited: false,
                    by: "system".into(),
                },
            );
            l.buyer_assigned = true;
        }
        let assigned = l.buyer_assigned;
        self.licences[slot] = Some(l);
        assigned
    }

    /// Applies an HTTP operation to the model and says what the API must answer.
    pub fn apply(&mut self, op: &Op) -> Expected {
        use Expected::*;
        let today = self.today;
        let admin_name = self.admin_name.clone();
        match op {
            Op::Provision { .. } => unreachable!("not HTTP"),
            Op::Assign { slot, people, from, until, .. } => {
                let (from, until) = (from.map(day), until.map(day));
                if let (Some(f), Some(u)) = (from, until) {
                    if f > u {
                        return Problem(400, "validation-error");
                    }
                }
                let Some(l) = self.licences[*slot].as_mut() else {
                    return Problem(404, "license-not-found");
                };
                if l.expired(today) {
                    return Problem(409, "license-not-active");
                }
                let from = from.unwrap_or(today.max(l.start));
                let until = until.unwrap_or(l.end);
                if !l.check_period(from, until, today) {
                    return Problem(400, "validation-error");
                }
                let mut emails: Vec<&str> = Vec::new();
                for &p in people {
                    if !emails.contains(&PEOPLE[p]) {
                        emails.push(PEOPLE[p]);
                    }
                }
                let new: Vec<&str> = emails
                    .iter()
                    .copied()
                    .filter(|e| {
                        !l.assignments.get(*e).is_some_and(|a| !a.revoked && a.until >= today)
                    })
                    .collect();
                if new.is_empty() {
                    return Status(200);
                }
                // Ended assignments that the new ones replace keep their days.
                let mut without = l.clone();
                for e in &new {
                    if let Some(old) = without.assignments.remove(*e) {
                        if !old.revoked {
                            without.used.push((old.from, old.until));
                        }
                    }
                }
                let available = without.quantity.saturating_sub(without.peak(from, until, None));
                let requested = new.len() as u32;
                if requested > available {
                    return Insufficient(requested, available);
                }
                *l = without;
                for e in new {
                    l.assignments.insert(
                        e.into(),
                        MAssignment {
                            from,
                            until,
                            revoked: false,
                            invitation: "pending",
                            invited: true,
                            by: admin_name.clone(),
                        },
                    );
                }
                Status(201)
            }
            Op::Change { slot, person, from, until, .. } => {
                if from.is_none() && until.is_none() {
                    return Problem(400, "validation-error");
                }
                let Some(l) = self.licences[*slot].as_mut() else {
                    return Problem(404, "license-not-found");
                };
                let email = PEOPLE[*person];
                let Some(a) = l.assignments.get(email).cloned() else {
                    return Problem(404, "assignment-not-found");
                };
                if a.revoked {
                    return Problem(409, "assignment-revoked");
                }
                if l.expired(today) {
                    return Problem(409, "license-not-active");
                }
                let from = from.map(day).unwrap_or(a.from);
                let until = until.map(day).unwrap_or(a.until);
                if !l.check_period(from, until, today) {
                    return Problem(400, "validation-error");
                }
                if (from, until) == (a.from, a.until) {
                    return Status(200);
                }
                let available = l.quantity.saturating_sub(l.peak(from, until, Some(email)));
                if available < 1 {
                    return Insufficient(1, available);
                }
                let a = l.assignments.get_mut(email).unwrap();
                a.from = from;
                a.until = until;
                Status(200)
            }
            Op::Revoke { slot, person } => {
                let Some(l) = self.licences[*slot].as_mut() else {
                    return Problem(404, "license-not-found");
                };
                match l.assignments.get_mut(PEOPLE[*person]) {
                    None => Problem(404, "assignment-not-found"),
                    Some(a) => {
                        if !a.revoked {
                            // The days before today stay used.
                            let last = today.pred_opt().unwrap().min(a.until);
                            if a.from <= last {
                                l.used.push((a.from, last));
                            }
                            if a.invitation == "pending" {
                                a.invitation = "failed";
                            }
                        }
                        a.revoked = true;
                        Status(200)
                    }
                }
            }
            Op::Resend { slot, person } => {
                let Some(l) = self.licences[*slot].as_mut() else {
                    return Problem(404, "license-not-found");
                };
                match l.assignments.get_mut(PEOPLE[*person]) {
                    None => Problem(404, "assignment-not-found"),
                    Some(a) if a.revoked => Problem(409, "assignment-revoked"),
                    // Within 10 minutes of the last invitation (a sequence
                    // runs in seconds); a failed one may be resent at once.
                    Some(a) if a.invited && a.invitation != "failed" => {
                        Problem(429, "rate-limited")
                    }
                    Some(a) => {
                        a.invitation = "pending";
                        a.invited = true;
                        Status(202)
                    }
                }
            }
        }
    }
}
