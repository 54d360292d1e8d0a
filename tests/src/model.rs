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
    /// `LicenseRenewed`: the next term starts `gap` days after the day after
    /// the end (a gap > 0 is invalid), lasts `days`, maybe with a quantity.
    Renew {
        slot: usize,
        gap: i64,
        days: i64,
        quantity: Option<u32>,
    },
    /// `LicenseQuantityChanged` from today on.
    Quantity {
        slot: usize,
        quantity: u32,
    },
    /// `LicenseCancelled` with this last day (an offset from today).
    Cancel {
        slot: usize,
        last_day: i64,
    },
}

impl Op {
    /// An order system event rather than an HTTP request.
    pub fn is_event(&self) -> bool {
        matches!(
            self,
            Op::Provision { .. } | Op::Renew { .. } | Op::Quantity { .. } | Op::Cancel { .. }
        )
    }
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
    /// `assignedAt` as the API showed it (a renewal with fewer seats keeps
    /// the earliest assigned going; the time is the API's to choose).
    pub assigned_at: String,
}

/// A history entry: action, address, actor.
pub type MEntry = (&'static str, Option<String>, String);

#[derive(Clone, Debug)]
pub struct MLicence {
    pub id: String,
    pub product: String,
    /// The quantity in force from each day on (the first from the start).
    pub quantities: Vec<(NaiveDate, u32)>,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// The terms bought: the purchase's, then each renewal's.
    pub terms: Vec<(NaiveDate, NaiveDate)>,
    pub cancelled: bool,
    /// A seat decrease (or a smaller renewal) happened: days may hold more
    /// than their quantity, until admins free seats.
    pub shrunk: bool,
    /// The entries of each step that recorded any, oldest first.
    pub history: Vec<Vec<MEntry>>,
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

    pub fn quantity_on(&self, d: NaiveDate) -> u32 {
        self.quantities
            .iter()
            .rev()
            .find(|(from, _)| *from <= d)
            .map_or(self.quantities[0].1, |q| q.1)
    }

    /// The quantity the licence shows today.
    pub fn quantity(&self, today: NaiveDate) -> u32 {
        self.quantity_on(today.clamp(self.start, self.end))
    }

    /// The fewest seats free on any day of `from ..= until` (leaving out `except`).
    pub fn room(&self, from: NaiveDate, until: NaiveDate, except: Option<&str>) -> u32 {
        from.iter_days()
            .take_while(|d| *d <= until)
            .map(|d| self.quantity_on(d).saturating_sub(self.count_on(d, except)))
            .min()
            .unwrap_or(0)
    }

    /// (assignedSeats, availableSeats, assignedUsers, overAssignedSeats) as
    /// the contract defines them.
    pub fn counts(&self, today: NaiveDate) -> (u32, u32, u32, u32) {
        let users =
            self.assignments.values().filter(|a| !a.revoked && a.until >= today).count() as u32;
        let from = today.max(self.start);
        if from > self.end {
            return (0, self.quantity(today), users, 0);
        }
        let seats = self.peak(from, self.end, None);
        let over = from
            .iter_days()
            .take_while(|d| *d <= self.end)
            .map(|d| self.count_on(d, None).saturating_sub(self.quantity_on(d)))
            .max()
            .unwrap_or(0);
        let available = if over > 0 { 0 } else { self.room(from, self.end, None) };
        (seats, available, users, over)
    }

    /// The term in force `today` (v3): the last one started by then, else the first.
    pub fn current_term(&self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let started = self.terms.iter().rev().find(|(start, _)| *start <= today);
        *started.unwrap_or(&self.terms[0])
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
            quantities: vec![(day(s), self.case.slots[slot].quantity)],
            start: day(s),
            end: day(e),
            terms: vec![(day(s), day(e))],
            cancelled: false,
            shrunk: false,
            history: vec![vec![("license.purchased", None, "system".into())]],
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
                    assigned_at: String::new(),
                },
            );
            l.buyer_assigned = true;
            l.history[0].push(("assignment.created", Some(buyer.into()), "system".into()));
        }
        l.exhausted(None, today, "system");
        let assigned = l.buyer_assigned;
        self.licences[slot] = Some(l);
        assigned
    }

    /// The licence in `slot` where it holds an assignment of `person` (revoked
    /// or not); else the 404 the API answers for what is missing.
    fn holding(&mut self, slot: usize, person: usize) -> Result<&mut MLicence, Expected> {
        let Some(l) = self.licences[slot].as_mut() else {
            return Err(Expected::Problem(404, "license-not-found"));
        };
        if !l.assignments.contains_key(PEOPLE[person]) {
            return Err(Expected::Problem(404, "assignment-not-found"));
        }
        Ok(l)
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
                let available = without.room(from, until, None);
                let requested = new.len() as u32;
                if requested > available {
                    return Insufficient(requested, available);
                }
                let free_before = l.counts(today).1;
                *l = without;
                let by = || admin_name.clone();
                l.history.push(
                    new.iter().map(|e| ("assignment.created", Some(e.to_string()), by())).collect(),
                );
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
                            assigned_at: String::new(),
                        },
                    );
                }
                l.exhausted(Some(free_before), today, &admin_name);
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
                // Only the days the new period adds need a free seat.
                let mut added = Vec::new();
                if until < a.from || from > a.until {
                    added.push((from, until));
                } else {
                    if from < a.from {
                        added.push((from, a.from.pred_opt().unwrap()));
                    }
                    if until > a.until {
                        added.push((a.until.succ_opt().unwrap(), until));
                    }
                }
                for (f, u) in added {
                    let available = l.room(f, u, Some(email));
                    if available < 1 {
                        return Insufficient(1, available);
                    }
                }
                let free_before = l.counts(today).1;
                let a = l.assignments.get_mut(email).unwrap();
                a.from = from;
                a.until = until;
                l.history.push(vec![(
                    "assignment.changed",
                    Some(email.into()),
                    admin_name.clone(),
                )]);
                l.exhausted(Some(free_before), today, &admin_name);
                Status(200)
            }
            Op::Revoke { slot, person } => match self.holding(*slot, *person) {
                Err(missing) => missing,
                Ok(l) => {
                    let a = l.assignments.get_mut(PEOPLE[*person]).unwrap();
                    if !a.revoked {
                        // The days before today stay used.
                        let last = today.pred_opt().unwrap().min(a.until);
                        if a.from <= last {
                            l.used.push((a.from, last));
                        }
                        if a.invitation == "pending" {
                            a.invitation = "failed";
                        }
                        let email = PEOPLE[*person].to_string();
                        l.history.push(vec![("assignment.revoked", Some(email), admin_name)]);
                    }
                    a.revoked = true;
                    Status(200)
                }
            },
            Op::Resend { slot, person } => match self.holding(*slot, *person) {
                Err(missing) => missing,
                Ok(l) => {
                    let a = l.assignments.get_mut(PEOPLE[*person]).unwrap();
                    if a.revoked {
                        Problem(409, "assignment-revoked")
                    } else if a.invited && a.invitation != "failed" {
                        // Within 10 minutes of the last invitation (a sequence
                        // runs in seconds); a failed one may be resent at once.
                        Problem(429, "rate-limited")
                    } else {
                        a.invitation = "pending";
                        a.invited = true;
                        let email = PEOPLE[*person].to_string();
                        l.history.push(vec![("invitation.resent", Some(email), admin_name)]);
                        Status(202)
                    }
                }
            },
            Op::Renew { .. } | Op::Quantity { .. } | Op::Cancel { .. } => unreachable!("events"),
        }
    }

    /// Applies a lifecycle event to the model: the fields of its result that
    /// the API must answer, or why it fails.
    pub fn event(&mut self, op: &Op) -> Result<Vec<(&'static str, u64)>, Refused> {
        let today = self.today;
        let slot = match op {
            Op::Renew { slot, .. } | Op::Quantity { slot, .. } | Op::Cancel { slot, .. } => *slot,
            _ => unreachable!("HTTP"),
        };
        let l = self.licences[slot].as_mut().ok_or(Refused::UnknownOrder)?;
        let free_before = l.counts(today).1;
        let result = Self::apply_event(l, op, today);
        if result.is_ok() {
            l.exhausted(Some(free_before), today, "system");
        }
        result
    }

    fn apply_event(
        l: &mut MLicence,
        op: &Op,
        today: NaiveDate,
    ) -> Result<Vec<(&'static str, u64)>, Refused> {
        match *op {
            Op::Renew { gap, days, quantity, .. } => l.renew(gap, days, quantity),
            Op::Quantity { quantity, .. } => {
                if today > l.end {
                    return Err(Refused::Invalid);
                }
                let from = today.max(l.start);
                l.quantities.retain(|(d, _)| *d < from);
                l.quantities.push((from, quantity));
                l.shrunk = true;
                l.history.push(vec![("license.quantity-changed", None, "system".into())]);
                let (_, _, _, over) = l.counts(today);
                Ok(vec![
                    ("quantity", u64::from(l.quantity(today))),
                    ("overAssignedSeats", u64::from(over)),
                ])
            }
            Op::Cancel { last_day, .. } => l.cancel(day(last_day)),
            _ => unreachable!(),
        }
    }
}

/// Why the model says a lifecycle event fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    UnknownOrder,
    Invalid,
}

impl MLicence {
    /// v3: a committed change that leaves no seat free today, where one was
    /// free before it (`None`: a new licence), records `license.seats-exhausted`
    /// with the change's entries.
    fn exhausted(&mut self, free_before: Option<u32>, today: NaiveDate, actor: &str) {
        if free_before.is_none_or(|n| n > 0) && self.counts(today).1 == 0 {
            let group = self.history.last_mut().expect("the change's entries");
            group.push(("license.seats-exhausted", None, actor.into()));
        }
    }

    fn renew(
        &mut self,
        gap: i64,
        days: i64,
        quantity: Option<u32>,
    ) -> Result<Vec<(&'static str, u64)>, Refused> {
        if self.cancelled || gap > 0 {
            return Err(Refused::Invalid);
        }
        let old_end = self.end;
        let start = old_end.succ_opt().unwrap();
        let end = start + chrono::Days::new(days as u64 - 1);
        if let Some(q) = quantity {
            self.quantities.retain(|(d, _)| *d < start);
            self.quantities.push((start, q));
            self.shrunk = true;
        }
        self.end = end;
        self.terms.push((start, end));
        let mut eligible: Vec<(String, String)> = self
            .assignments
            .iter()
            .filter(|(_, a)| !a.revoked && a.until == old_end)
            .map(|(e, a)| (a.assigned_at.clone(), e.clone()))
            .collect();
        eligible.sort();
        let room = self.room(start, end, None) as usize;
        let followers = eligible.len().min(room);
        let mut group = vec![("license.renewed", None, "system".to_string())];
        for (_, email) in &eligible[..followers] {
            self.assignments.get_mut(email).unwrap().until = end;
            group.push(("assignment.changed", Some(email.clone()), "system".into()));
        }
        self.history.push(group);
        Ok(vec![
            ("followed", followers as u64),
            ("notFollowed", (eligible.len() - followers) as u64),
        ])
    }

    fn cancel(&mut self, last_day: NaiveDate) -> Result<Vec<(&'static str, u64)>, Refused> {
        if last_day < self.start {
            return Err(Refused::Invalid);
        }
        self.cancelled = true;
        let mut group = vec![("license.cancelled", None, "system".to_string())];
        let (mut clipped, mut revoked) = (0, 0);
        if last_day < self.end {
            self.end = last_day;
            self.terms.retain(|(s, _)| *s <= last_day);
            let last = self.terms.last_mut().unwrap();
            last.1 = last.1.min(last_day);
            self.quantities.retain(|(d, _)| *d <= last_day);
            for (email, a) in
                self.assignments.iter_mut().filter(|(_, a)| !a.revoked && a.until > last_day)
            {
                if a.from > last_day {
                    a.revoked = true;
                    if a.invitation == "pending" {
                        a.invitation = "failed";
                    }
                    revoked += 1;
                    group.push(("assignment.revoked", Some(email.clone()), "system".into()));
                } else {
                    a.until = last_day;
                    clipped += 1;
                    group.push(("assignment.changed", Some(email.clone()), "system".into()));
                }
            }
        }
        self.history.push(group);
        Ok(vec![("clipped", clipped), ("revoked", revoked)])
    }
}
