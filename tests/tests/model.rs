//! Model-based test: random sequences of provision, assign (single and bulk,
//! with overlapping custom periods), change, revoke and resend run against the
//! real handlers over DynamoDB Local and against a plain in-memory model of
//! the contract (`../shared/API.md`). After every step the API's answer must
//! be the one the model predicts, the licences' counts and every assignment
//! must equal the model's, and no date of any term may be over capacity.
//!
//! `make test` runs 200 sequences (about 30 s); a longer run (DynamoDB Local,
//! not the build profile, sets the pace: about 0.2 s a sequence):
//! `PROPTEST_CASES=3000 cargo test -p licensing-tests --test model`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{Days, NaiveDate};
use licensing::App;
use licensing::provision::license_id_for;
use licensing_tests::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError};
use serde_json::{Value, json};
use tokio::runtime::Runtime;

/// The people of every case. The first one buys the licences.
const PEOPLE: [&str; 6] = [
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
const DAYS: [i64; 14] = [-31, -30, -5, -1, 0, 1, 5, 10, 11, 30, 59, 60, 61, 71];

/// Terms relative to today: (start, end).
const TERMS: [(i64, i64); 4] = [(-30, 60), (-5, 10), (10, 70), (-60, -1)];

fn rt() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

/// One table for the whole run; every case is a customer of its own.
fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| rt().block_on(fresh_app()))
}

fn day(offset: i64) -> NaiveDate {
    days_from_today(offset)
}

// ---------------------------------------------------------------- operations

#[derive(Clone, Debug)]
struct Slot {
    quantity: u32,
    /// Index into [`TERMS`].
    term: usize,
}

#[derive(Clone, Debug)]
enum Op {
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
struct Case {
    slots: [Slot; 2],
    /// Whether both licences are of the same product (the buyer then gets no
    /// second automatic seat while holding one).
    same_product: bool,
    ops: Vec<Op>,
}

fn slot_strategy() -> impl Strategy<Value = Slot> {
    (
        1u32..=3,
        prop_oneof![4 => Just(0usize), 2 => Just(1), 2 => Just(2), 1 => Just(3)],
    )
        .prop_map(|(quantity, term)| Slot { quantity, term })
}

fn offset() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![2 => Just(None), 3 => proptest::sample::select(DAYS.to_vec()).prop_map(Some)]
}

/// A period's bounds, mostly in order (a reversed one is a 400).
fn bounds() -> impl Strategy<Value = (Option<i64>, Option<i64>)> {
    (offset(), offset(), proptest::bool::weighted(0.85)).prop_map(|(a, b, ordered)| match (a, b) {
        (Some(a), Some(b)) if ordered => (Some(a.min(b)), Some(a.max(b))),
        other => other,
    })
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let slot = prop_oneof![3 => Just(0usize), 2 => Just(1)];
    let person = 0..PEOPLE.len();
    // Changes, revokes and resends mostly name people who may hold a seat.
    let holder = prop_oneof![4 => 0..4usize, 1 => 4..PEOPLE.len()];
    prop_oneof![
        1 => slot.clone().prop_map(|slot| Op::Provision { slot }),
        5 => (
            slot.clone(),
            proptest::collection::vec(person.clone(), 1..=4),
            bounds(),
            any::<bool>(),
            proptest::bool::weighted(0.2),
        )
            .prop_map(|(slot, people, (from, until), paste, shout)| Op::Assign {
                slot,
                people,
                from,
                until,
                paste,
                shout
            }),
        3 => (slot.clone(), holder.clone(), bounds(), proptest::bool::weighted(0.2))
            .prop_map(|(slot, person, (from, until), shout)| Op::Change {
                slot,
                person,
                from,
                until,
                shout
            }),
        2 => (slot.clone(), holder.clone()).prop_map(|(slot, person)| Op::Revoke { slot, person }),
        1 => (slot, holder).prop_map(|(slot, person)| Op::Resend { slot, person }),
    ]
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (
        [slot_strategy(), slot_strategy()],
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(op_strategy(), 5..=15),
    )
        .prop_map(|(slots, same_product, both, ops)| {
            // The first licence exists from the start, the second one often.
            let mut all = vec![Op::Provision { slot: 0 }];
            if both {
                all.push(Op::Provision { slot: 1 });
            }
            all.extend(ops);
            Case {
                slots,
                same_product,
                ops: all,
            }
        })
}

// --------------------------------------------------------------------- model

#[derive(Clone, Debug, PartialEq)]
struct MAssignment {
    from: NaiveDate,
    until: NaiveDate,
    revoked: bool,
    invitation: &'static str,
    /// An invitation was asked for (assign or resend): a resend waits 10 minutes.
    invited: bool,
    by: String,
}

#[derive(Clone, Debug)]
struct MLicence {
    id: String,
    product: String,
    quantity: u32,
    start: NaiveDate,
    end: NaiveDate,
    buyer_assigned: bool,
    assignments: BTreeMap<String, MAssignment>,
    /// Days that stay used although no current assignment holds them: the
    /// part of a revoked period before its revocation, ended periods of
    /// addresses assigned afresh.
    used: Vec<(NaiveDate, NaiveDate)>,
}

impl MLicence {
    fn expired(&self, today: NaiveDate) -> bool {
        self.end < today
    }

    /// Non-revoked periods covering `d`, leaving out `except`, plus the
    /// days that stay used.
    fn count_on(&self, d: NaiveDate, except: Option<&str>) -> u32 {
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

    fn peak(&self, from: NaiveDate, until: NaiveDate, except: Option<&str>) -> u32 {
        from.iter_days()
            .take_while(|d| *d <= until)
            .map(|d| self.count_on(d, except))
            .max()
            .unwrap_or(0)
    }

    /// (assignedSeats, availableSeats, assignedUsers) as the contract defines them.
    fn counts(&self, today: NaiveDate) -> (u32, u32, u32) {
        let from = today.max(self.start);
        let seats = if from > self.end {
            0
        } else {
            self.peak(from, self.end, None)
        };
        let users = self
            .assignments
            .values()
            .filter(|a| !a.revoked && a.until >= today)
            .count() as u32;
        (seats, self.quantity.saturating_sub(seats), users)
    }

    fn status(&self, today: NaiveDate) -> &'static str {
        if self.start > today {
            "upcoming"
        } else if self.end < today {
            "expired"
        } else {
            "active"
        }
    }

    /// The contract's period rules; `Err` is a 400.
    fn check_period(&self, from: NaiveDate, until: NaiveDate, today: NaiveDate) -> bool {
        from >= self.start
            && from <= self.end
            && until >= self.start
            && until <= self.end
            && from <= until
            && until >= today
    }
}

struct Model {
    today: NaiveDate,
    customer: String,
    admin_name: String,
    case: Case,
    licences: [Option<MLicence>; 2],
}

/// What the API must answer.
#[derive(Debug, PartialEq)]
enum Expected {
    Status(u16),
    Problem(u16, &'static str),
    /// 409 insufficient-seats with `requested` and `available`.
    Insufficient(u32, u32),
}

fn order(customer: &str, slot: usize) -> String {
    format!("ORD-{customer}-{slot}")
}

fn assignment_status(a: &MAssignment, today: NaiveDate) -> &'static str {
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
    fn product(&self, slot: usize) -> String {
        if self.case.same_product {
            "product-shared".into()
        } else {
            format!("product-{slot}")
        }
    }

    fn licence_id(&self, slot: usize) -> String {
        license_id_for(&self.customer, &order(&self.customer, slot))
    }

    fn provision(&mut self, slot: usize) -> bool {
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
                && other
                    .assignments
                    .get(buyer)
                    .is_some_and(|a| !a.revoked && a.until >= today)
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
    fn apply(&mut self, op: &Op) -> Expected {
        use Expected::*;
        let today = self.today;
        let admin_name = self.admin_name.clone();
        match op {
            Op::Provision { .. } => unreachable!("not HTTP"),
            Op::Assign {
                slot,
                people,
                from,
                until,
                ..
            } => {
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
                        !l.assignments
                            .get(*e)
                            .is_some_and(|a| !a.revoked && a.until >= today)
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
                let available = without
                    .quantity
                    .saturating_sub(without.peak(from, until, None));
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
            Op::Change {
                slot,
                person,
                from,
                until,
                ..
            } => {
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

// ------------------------------------------------------------------ checking

macro_rules! ensure {
    ($cond:expr_2021, $($fmt:tt)*) => {
        if !$cond {
            return Err(format!($($fmt)*));
        }
    };
}

fn shouted(email: &str, shout: bool) -> String {
    if shout {
        email.to_uppercase()
    } else {
        email.to_string()
    }
}

/// The HTTP request of an operation.
fn request_of(model: &Model, op: &Op) -> (&'static str, String, Option<Value>) {
    let date = |o: &Option<i64>| o.map(|o| json!(day(o)));
    match op {
        Op::Provision { .. } => unreachable!(),
        Op::Assign {
            slot,
            people,
            from,
            until,
            paste,
            shout,
        } => {
            let typed: Vec<String> = people.iter().map(|&p| shouted(PEOPLE[p], *shout)).collect();
            let mut body = serde_json::Map::new();
            body.insert(
                "emails".into(),
                if *paste {
                    json!(typed.join(";\n "))
                } else {
                    json!(typed)
                },
            );
            if let Some(f) = date(from) {
                body.insert("validFrom".into(), f);
            }
            if let Some(u) = date(until) {
                body.insert("validUntil".into(), u);
            }
            (
                "POST",
                format!("/licenses/{}/assignments", model.licence_id(*slot)),
                Some(Value::Object(body)),
            )
        }
        Op::Change {
            slot,
            person,
            from,
            until,
            shout,
        } => {
            let mut body = serde_json::Map::new();
            if let Some(f) = date(from) {
                body.insert("validFrom".into(), f);
            }
            if let Some(u) = date(until) {
                body.insert("validUntil".into(), u);
            }
            (
                "PATCH",
                format!(
                    "/licenses/{}/assignments/{}",
                    model.licence_id(*slot),
                    shouted(PEOPLE[*person], *shout)
                ),
                Some(Value::Object(body)),
            )
        }
        Op::Revoke { slot, person } => (
            "DELETE",
            format!(
                "/licenses/{}/assignments/{}",
                model.licence_id(*slot),
                PEOPLE[*person]
            ),
            None,
        ),
        Op::Resend { slot, person } => (
            "POST",
            format!(
                "/licenses/{}/assignments/{}/invitation",
                model.licence_id(*slot),
                PEOPLE[*person]
            ),
            None,
        ),
    }
}

fn check_counts(l: &MLicence, view: &Value, today: NaiveDate, what: &str) -> Result<(), String> {
    let (seats, available, users) = l.counts(today);
    let got = (
        view["quantity"].as_u64(),
        view["assignedSeats"].as_u64(),
        view["availableSeats"].as_u64(),
        view["assignedUsers"].as_u64(),
        view["status"].as_str(),
    );
    let want = (
        Some(u64::from(l.quantity)),
        Some(u64::from(seats)),
        Some(u64::from(available)),
        Some(u64::from(users)),
        Some(l.status(today)),
    );
    ensure!(
        got == want,
        "{what}: licence counts (quantity, assignedSeats, availableSeats, assignedUsers, status) are {got:?}, the model says {want:?}"
    );
    Ok(())
}

/// The answer of one operation against the model's prediction.
fn check_answer(
    model: &Model,
    op: &Op,
    expected: &Expected,
    answer: &Answer,
) -> Result<(), String> {
    let got = match answer.status {
        s if s < 300 => Expected::Status(s),
        409 if answer.slug() == "insufficient-seats" => Expected::Insufficient(
            answer.body["requested"].as_u64().unwrap_or(0) as u32,
            answer.body["available"].as_u64().unwrap_or(0) as u32,
        ),
        s => Expected::Problem(
            s,
            match answer.slug() {
                "validation-error" => "validation-error",
                "license-not-found" => "license-not-found",
                "assignment-not-found" => "assignment-not-found",
                "license-not-active" => "license-not-active",
                "assignment-revoked" => "assignment-revoked",
                "rate-limited" => "rate-limited",
                _ => "unexpected",
            },
        ),
    };
    ensure!(
        &got == expected,
        "answer {got:?} ({}), the model says {expected:?}",
        answer.body
    );
    let today = model.today;
    match (op, expected) {
        (Op::Assign { slot, people, .. }, Expected::Status(_)) => {
            let l = model.licences[*slot].as_ref().unwrap();
            let mut emails: Vec<&str> = Vec::new();
            for &p in people {
                if !emails.contains(&PEOPLE[p]) {
                    emails.push(PEOPLE[p]);
                }
            }
            let results = answer.body["results"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let got: Vec<&str> = results.iter().filter_map(|r| r["email"].as_str()).collect();
            ensure!(got == emails, "results for {got:?}, asked for {emails:?}");
            for r in &results {
                let a = &l.assignments[r["email"].as_str().unwrap()];
                let view = &r["assignment"];
                ensure!(
                    view["validFrom"] == json!(a.from) && view["validUntil"] == json!(a.until),
                    "result {r} against the model's {a:?}"
                );
                let outcome = r["outcome"].as_str().unwrap_or("");
                ensure!(
                    outcome == "assigned" || outcome == "already_assigned",
                    "outcome {outcome}"
                );
            }
            check_counts(l, &answer.body["license"], today, "the assign answer")?;
        }
        (Op::Change { slot, person, .. }, Expected::Status(_))
        | (Op::Revoke { slot, person }, Expected::Status(_))
        | (Op::Resend { slot, person }, Expected::Status(_)) => {
            let l = model.licences[*slot].as_ref().unwrap();
            let email = PEOPLE[*person];
            let a = &l.assignments[email];
            ensure!(
                answer.body["email"] == email
                    && answer.body["validFrom"] == json!(a.from)
                    && answer.body["validUntil"] == json!(a.until)
                    && answer.body["status"] == assignment_status(a, today),
                "answer {} against the model's {a:?}",
                answer.body
            );
        }
        _ => {}
    }
    Ok(())
}

/// Everything a client can read, against the model.
async fn check_state(app: &App, model: &Model, token: &str) -> Result<(), String> {
    let today = model.today;
    let listed = Client::with_token(app, token)
        .send("GET", "/licenses?status=all", None)
        .await;
    ensure!(listed.status == 200, "GET /licenses: {:?}", listed.body);
    let listed = listed.body["licenses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let provisioned: Vec<&MLicence> = model.licences.iter().flatten().collect();
    ensure!(
        listed.len() == provisioned.len(),
        "GET /licenses lists {} licences, the model has {}",
        listed.len(),
        provisioned.len()
    );
    for l in provisioned {
        let view = listed
            .iter()
            .find(|v| v["licenseId"] == l.id.as_str())
            .ok_or_else(|| format!("{} is not listed", l.id))?;
        check_counts(l, view, today, &format!("GET /licenses, {}", l.id))?;
        let found = Client::admin(app, &model.customer)
            .all_assignments(&l.id)
            .await;
        let emails: Vec<&str> = found.iter().filter_map(|a| a["email"].as_str()).collect();
        let want: Vec<&str> = l.assignments.keys().map(String::as_str).collect();
        ensure!(
            emails == want,
            "assignments of {}: {emails:?}, the model has {want:?}",
            l.id
        );
        for a in &found {
            let m = &l.assignments[a["email"].as_str().unwrap()];
            let got = (
                a["validFrom"].clone(),
                a["validUntil"].clone(),
                a["status"].as_str(),
                a["revokedAt"].is_null(),
                a["revokedBy"].is_null(),
                a["invitation"]["status"].as_str(),
                a["assignedBy"].as_str(),
            );
            let want = (
                json!(m.from),
                json!(m.until),
                Some(assignment_status(m, today)),
                !m.revoked,
                !m.revoked,
                Some(m.invitation),
                Some(m.by.as_str()),
            );
            ensure!(got == want, "assignment {a} against the model's {m:?}");
        }
        // Never over capacity, by the API's own data: count on every date of the term.
        let periods: Vec<(NaiveDate, NaiveDate)> = found
            .iter()
            .filter(|a| a["revokedAt"].is_null())
            .map(|a| {
                (
                    a["validFrom"].as_str().unwrap().parse().unwrap(),
                    a["validUntil"].as_str().unwrap().parse().unwrap(),
                )
            })
            .collect();
        let mut d = l.start;
        while d <= l.end {
            let n = periods.iter().filter(|(f, u)| *f <= d && d <= *u).count() as u32;
            ensure!(
                n <= l.quantity,
                "{} has {n} seats taken on {d}, quantity {}",
                l.id,
                l.quantity
            );
            d = d + Days::new(1);
        }
    }
    Ok(())
}

async fn run(case: Case) -> Result<(), String> {
    let app = app();
    let customer = format!("cust-{}", ulid::Ulid::new().to_string().to_lowercase());
    let token = admin(&customer);
    let mut model = Model {
        today: today(),
        admin_name: format!("admin@{customer}.example.com"),
        customer,
        case: case.clone(),
        licences: [None, None],
    };
    for (step, op) in case.ops.iter().enumerate() {
        let context = |e: String| format!("step {step} {op:?}: {e}");
        match op {
            Op::Provision { slot } => {
                let (s, e) = TERMS[case.slots[*slot].term];
                let mut event = purchase(
                    &order(&model.customer, *slot),
                    &model.customer,
                    PEOPLE[0],
                    case.slots[*slot].quantity,
                    day(s),
                    day(e),
                );
                event["detail"]["productId"] = json!(model.product(*slot));
                let got = licensing::provision::handle(app, event)
                    .await
                    .map_err(|e| context(format!("provision failed: {e}")))?;
                let buyer_assigned = model.provision(*slot);
                ensure!(
                    got.license_id == model.licence_id(*slot)
                        && got.buyer_assigned == buyer_assigned,
                    "step {step} {op:?}: provision answered {got:?}, the model says buyer seat {buyer_assigned}"
                );
            }
            _ => {
                let (method, path, body) = request_of(&model, op);
                let expected = model.apply(op);
                let answer = Client::with_token(app, token.clone())
                    .send(method, &path, body)
                    .await;
                check_answer(&model, op, &expected, &answer).map_err(context)?;
            }
        }
        check_state(app, &model, &token).await.map_err(context)?;
    }
    // A licence read alone, and the default list (active and upcoming only).
    let listed = Client::with_token(app, token.clone())
        .send("GET", "/licenses", None)
        .await;
    let listed = listed.body["licenses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for l in model.licences.iter().flatten() {
        let one = Client::with_token(app, token.clone())
            .send("GET", &format!("/licenses/{}", l.id), None)
            .await;
        ensure!(one.status == 200, "GET /licenses/{}: {:?}", l.id, one.body);
        check_counts(
            l,
            &one.body,
            model.today,
            &format!("GET /licenses/{}", l.id),
        )?;
        let in_default = listed.iter().any(|v| v["licenseId"] == l.id.as_str());
        let expired = l.expired(model.today);
        ensure!(
            in_default != expired,
            "GET /licenses lists {} ({}): {in_default}",
            l.id,
            l.status(model.today)
        );
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

proptest! {
    #![proptest_config(Config {
        cases: cases(),
        max_shrink_time: 120_000,
        ..Config::default()
    })]

    #[test]
    fn the_api_behaves_like_the_model(case in case_strategy()) {
        let started = today();
        app(); // made outside the runtime's block_on
        let result = rt().block_on(run(case));
        // A run across midnight (UTC) compares against yesterday's model.
        prop_assume!(today() == started);
        result.map_err(TestCaseError::fail)?;
    }
}
