//! Model-based test: random sequences of provision, assign (single and bulk,
//! with overlapping custom periods), change, revoke, resend and the lifecycle
//! events (renewal, seat change, cancellation) run against the real handlers
//! over DynamoDB Local and against a plain in-memory model of the contract
//! (`../shared/API.md`). After every step the API's answer must be the one
//! the model predicts, the licences' counts and every assignment must equal
//! the model's, the history must hold exactly the model's entries in order,
//! and no date of any term may be over capacity (unless seats were taken
//! away, which revokes nobody).
//!
//! `make test` runs 200 sequences (about 30 s); a longer run (DynamoDB Local,
//! not the build profile, sets the pace: about 0.2 s a sequence):
//! `PROPTEST_CASES=3000 cargo test -p licensing-tests --test model`.

use std::sync::OnceLock;

use chrono::{Days, NaiveDate};
use licensing::App;
use licensing::error::EventError;
use licensing_tests::model::*;
use licensing_tests::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError};
use serde_json::{Value, json};
use tokio::runtime::Runtime;

fn rt() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
    })
}

/// One table for the whole run; every case is a customer of its own.
fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| rt().block_on(fresh_app()))
}

fn slot_strategy() -> impl Strategy<Value = Slot> {
    (1u32..=3, prop_oneof![4 => Just(0usize), 2 => Just(1), 2 => Just(2), 1 => Just(3)])
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
        1 => (slot.clone(), holder).prop_map(|(slot, person)| Op::Resend { slot, person }),
        1 => (
            slot.clone(),
            prop_oneof![4 => Just(0i64), 1 => Just(1)],
            prop_oneof![Just(1i64), Just(30), Just(90)],
            proptest::option::weighted(0.5, 1u32..=3),
        )
            .prop_map(|(slot, gap, days, quantity)| Op::Renew { slot, gap, days, quantity }),
        1 => (slot.clone(), 1u32..=3).prop_map(|(slot, quantity)| Op::Quantity { slot, quantity }),
        1 => (slot, proptest::sample::select(DAYS.to_vec()))
            .prop_map(|(slot, last_day)| Op::Cancel { slot, last_day }),
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
            Case { slots, same_product, ops: all }
        })
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
    if shout { email.to_uppercase() } else { email.to_string() }
}

/// The HTTP request of an operation.
fn request_of(model: &Model, op: &Op) -> (&'static str, String, Option<Value>) {
    let date = |o: &Option<i64>| o.map(|o| json!(day(o)));
    match op {
        Op::Provision { .. } | Op::Renew { .. } | Op::Quantity { .. } | Op::Cancel { .. } => {
            unreachable!("events")
        }
        Op::Assign { slot, people, from, until, paste, shout } => {
            let typed: Vec<String> = people.iter().map(|&p| shouted(PEOPLE[p], *shout)).collect();
            let mut body = serde_json::Map::new();
            body.insert(
                "emails".into(),
                if *paste { json!(typed.join(";\n ")) } else { json!(typed) },
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
        Op::Change { slot, person, from, until, shout } => {
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
            format!("/licenses/{}/assignments/{}", model.licence_id(*slot), PEOPLE[*person]),
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
    let (seats, available, users, over) = l.counts(today);
    let counts =
        ["quantity", "assignedSeats", "availableSeats", "assignedUsers", "overAssignedSeats"];
    let got = (counts.map(|field| view[field].as_u64()), view["status"].as_str());
    let model = [l.quantity(today), seats, available, users, over];
    let want = (model.map(|n| Some(u64::from(n))), Some(l.status(today)));
    ensure!(
        got == want,
        "{what}: licence counts (quantity, assignedSeats, availableSeats, assignedUsers, overAssignedSeats, status) are {got:?}, the model says {want:?}"
    );
    let (start, end) = l.current_term(today);
    let terms = (view["term"].clone(), view["currentTerm"].clone(), view["cancelled"].as_bool());
    let want = (
        json!({"start": l.start, "end": l.end}),
        json!({"start": start, "end": end}),
        Some(l.cancelled),
    );
    ensure!(
        terms == want,
        "{what}: (term, currentTerm, cancelled) are {terms:?}, the model says {want:?}"
    );
    Ok(())
}

/// The history of a licence against the model's: the same entries, in the
/// order of the steps (the entries of one step in any order).
async fn check_history(app: &App, model: &Model, l: &MLicence) -> Result<(), String> {
    let mut listed = Client::admin(app, &model.customer).all_history(&l.id, "", 100).await;
    listed.reverse();
    let got: Vec<MEntry> = listed
        .iter()
        .map(|e| {
            let action = ACTIONS.iter().find(|a| e["action"] == **a).copied().unwrap_or("unknown");
            (
                action,
                e["email"].as_str().map(String::from),
                e["actor"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    let mut at = 0;
    for (n, group) in l.history.iter().enumerate() {
        let Some(part) = got.get(at..at + group.len()) else {
            return Err(format!(
                "{}: history has {} entries, the model {} steps: {got:?}",
                l.id,
                got.len(),
                l.history.len()
            ));
        };
        let (mut part, mut want) = (part.to_vec(), group.clone());
        part.sort();
        want.sort();
        ensure!(part == want, "{}: history step {n}: {part:?}, the model says {want:?}", l.id);
        at += group.len();
    }
    ensure!(
        at == got.len(),
        "{}: {} entries more than the model: {:?}",
        l.id,
        got.len() - at,
        &got[at..]
    );
    Ok(())
}

const ACTIONS: [&str; 11] = [
    "license.purchased",
    "license.seats-exhausted",
    "license.renewed",
    "license.quantity-changed",
    "license.cancelled",
    "assignment.created",
    "assignment.changed",
    "assignment.revoked",
    "invitation.sent",
    "invitation.failed",
    "invitation.resent",
];

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
    ensure!(&got == expected, "answer {got:?} ({}), the model says {expected:?}", answer.body);
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
            let results = answer.body["results"].as_array().cloned().unwrap_or_default();
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

/// Everything a client can read, against the model (which learns each
/// assignment's `assignedAt`).
async fn check_state(app: &App, model: &mut Model, token: &str) -> Result<(), String> {
    let today = model.today;
    let listed = Client::with_token(app, token).send("GET", "/licenses?status=all", None).await;
    ensure!(listed.status == 200, "GET /licenses: {:?}", listed.body);
    let listed = listed.body["licenses"].as_array().cloned().unwrap_or_default();
    let mut learned = Vec::new();
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
        let found = Client::admin(app, &model.customer).all_assignments(&l.id).await;
        let emails: Vec<&str> = found.iter().filter_map(|a| a["email"].as_str()).collect();
        let want: Vec<&str> = l.assignments.keys().map(String::as_str).collect();
        ensure!(emails == want, "assignments of {}: {emails:?}, the model has {want:?}", l.id);
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
            let at = a["assignedAt"].as_str().unwrap_or("").to_string();
            learned.push((l.id.clone(), a["email"].as_str().unwrap().to_string(), at));
        }
        check_history(app, model, l).await?;
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
        while d <= l.end && !l.shrunk {
            let n = periods.iter().filter(|(f, u)| *f <= d && d <= *u).count() as u32;
            let quantity = l.quantity_on(d);
            ensure!(n <= quantity, "{} has {n} seats taken on {d}, quantity {quantity}", l.id);
            d = d + Days::new(1);
        }
    }
    for (id, email, at) in learned {
        let l = model.licences.iter_mut().flatten().find(|l| l.id == id).unwrap();
        l.assignments.get_mut(&email).unwrap().assigned_at = at;
    }
    Ok(())
}

/// A lifecycle event, and its answer against the model's.
async fn check_event(app: &App, model: &mut Model, op: &Op, step: usize) -> Result<(), String> {
    let order_id = |slot: &usize| order(&model.customer, *slot);
    let (Op::Renew { slot, .. } | Op::Quantity { slot, .. } | Op::Cancel { slot, .. }) = op else {
        unreachable!()
    };
    if model.licences[*slot].is_none() {
        // Before its purchase an event is parked, not failed (v3); its
        // parking is tested in tests/api/lifecycle.rs, so the model skips it.
        return Ok(());
    }
    let id = format!("EV-{step}");
    let event = match op {
        Op::Renew { slot, gap, days, quantity } => {
            let l = model.licences[*slot].as_ref();
            let start = l.map_or(day(0), |l| l.end) + Days::new(1 + *gap as u64);
            let end = start + Days::new(*days as u64 - 1);
            renewal(&order_id(slot), &id, start, end, *quantity)
        }
        Op::Quantity { slot, quantity } => quantity_change(&order_id(slot), &id, *quantity),
        Op::Cancel { slot, last_day } => cancellation(&order_id(slot), &id, day(*last_day)),
        _ => unreachable!(),
    };
    let got = licensing_tests::deliver(app, event).await;
    match (model.event(op), got) {
        (Ok(want), Ok(result)) => {
            for (field, value) in want {
                ensure!(
                    result[field] == value,
                    "{field} is {}, the model says {value}",
                    result[field]
                );
            }
            Ok(())
        }
        // Well-formed and in order, but not for the licence as it is.
        (Err(Refused::Invalid), Err(EventError::Refused(_))) => Ok(()),
        (want, got) => Err(format!("answered {got:?}, the model says {want:?}")),
    }
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
                let got = provision(app, event)
                    .await
                    .map_err(|e| context(format!("provision failed: {e}")))?;
                let buyer_assigned = model.provision(*slot);
                ensure!(
                    got.license_id == model.licence_id(*slot)
                        && got.buyer_assigned == buyer_assigned,
                    "step {step} {op:?}: provision answered {got:?}, the model says buyer seat {buyer_assigned}"
                );
            }
            op if op.is_event() => check_event(app, &mut model, op, step).await.map_err(context)?,
            _ => {
                let (method, path, body) = request_of(&model, op);
                let expected = model.apply(op);
                let answer = Client::with_token(app, token.clone()).send(method, &path, body).await;
                check_answer(&model, op, &expected, &answer).map_err(context)?;
            }
        }
        check_state(app, &mut model, &token).await.map_err(context)?;
    }
    // A licence read alone, and the default list (active and upcoming only).
    let listed = Client::with_token(app, token.clone()).send("GET", "/licenses", None).await;
    let listed = listed.body["licenses"].as_array().cloned().unwrap_or_default();
    for l in model.licences.iter().flatten() {
        let one = Client::with_token(app, token.clone())
            .send("GET", &format!("/licenses/{}", l.id), None)
            .await;
        ensure!(one.status == 200, "GET /licenses/{}: {:?}", l.id, one.body);
        check_counts(l, &one.body, model.today, &format!("GET /licenses/{}", l.id))?;
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
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(200)
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
