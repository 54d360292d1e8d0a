//! Renewals and cancellations that move more periods than one transaction
//! holds (the fan-out), cut by DynamoDB faults at every step of the
//! protocol: until the change is complete, what an admin can read (the
//! licence, every assignment, the whole history) is exactly what it was
//! before; the event's redelivery (EventBridge retries a failed invocation)
//! or the next writer finishes it; afterwards every moved period and its
//! history entry is there exactly once. At 10,000 assignments too. On a
//! DynamoDB Local of this suite's own (see `own_dynamodb_endpoint`).

use licensing::App;
use licensing::error::EventError;
use licensing_tests::proxy::{self, Fault, Proxy};
use licensing_tests::*;
use serde_json::{Value, json};

const TX: &str = "TransactWriteItems";

/// Everything an admin can read of a licence.
#[derive(Debug, PartialEq)]
struct Readable {
    license: Value,
    assignments: Vec<Value>,
    history: Vec<Value>,
}

async fn readable(app: &App, id: &str) -> Readable {
    let a = Client::admin(app, CUSTOMER);
    let license = past_503(|| a.license(id)).await;
    assert_eq!(license.status, 200, "{:?}", license.body);
    Readable {
        license: license.body,
        assignments: a.all_assignments(id).await,
        history: a.all_history(id, "", 100).await,
    }
}

/// A fresh table (assign budget out of the way) with a licence ending in 30
/// days: the buyer and `n` addresses on default periods, one seat to spare.
/// The app's client is patient: only the proxy's faults are under test, not
/// how long a crowded DynamoDB Local takes (the functions' own timeouts are
/// the faults suite's subject).
async fn seeded(n: usize) -> (App, String, String) {
    let mut app = patient_app_of_own().await;
    app.assign_budget = u32::MAX;
    let quantity = n as u32 + 2;
    let (order, id) =
        ordered(&app, CUSTOMER, quantity, days_from_today(-30), days_from_today(30)).await;
    let emails: Vec<String> = (0..n).map(|i| format!("u{i:05}@example.com")).collect();
    let admin = Client::admin(&app, CUSTOMER);
    for part in emails.chunks(1000) {
        // All or nothing: a 503 from a stalled DynamoDB Local is retried.
        let answer = past_503(|| admin.assign(&id, json!(part))).await;
        assert_eq!(answer.status, 201, "{:?}", answer.body);
    }
    (app, order, id)
}

fn renewed(order: &str) -> Value {
    renewal(order, "REN-1", days_from_today(31), days_from_today(395), None)
}

/// After a complete renewal: every period on the new end, each move
/// recorded once, the licence renewed once.
fn assert_renewed(r: &Readable, n: usize) {
    let end = json!(days_from_today(395));
    assert_eq!(r.license["term"]["end"], end);
    assert_eq!(r.assignments.len(), n + 1);
    assert!(r.assignments.iter().all(|a| a["validUntil"] == end), "every period moved");
    let count = |action: &str| r.history.iter().filter(|e| e["action"] == action).count();
    assert_eq!((count("license.renewed"), count("assignment.changed")), (1, n + 1));
    let mut moved: Vec<&str> = r
        .history
        .iter()
        .filter(|e| e["action"] == "assignment.changed")
        .map(|e| e["email"].as_str().unwrap())
        .collect();
    moved.sort();
    moved.dedup();
    assert_eq!(moved.len(), n + 1, "one entry per address");
}

/// `event` delivered through a fault proxy whose `pass`-th commit (0: the
/// commit point; then the chunks of 49; last: clearing the marker) and every
/// one after it get `fault`; then the proxy heals and idles. The proxy, the
/// app behind it, and what the delivery answered.
async fn delivered_through_cut(
    direct: &App,
    event: Value,
    pass: usize,
    fault: Fault,
) -> (Proxy, App, Result<Value, EventError>) {
    let proxy = Proxy::start(own_dynamodb_endpoint()).await;
    let via = patient_app_at(&proxy.url, direct.store.table());
    proxy.fail_after(TX, pass, fault);
    let failed = deliver(&via, event).await;
    proxy.reset();
    proxy.idle().await;
    (proxy, via, failed)
}

/// A renewal of `n` + 1 periods through the proxy, whose `pass`-th commit
/// and every one after it get `fault`; then readers, and the redelivery.
async fn renewal_cut(n: usize, pass: usize, fault: Fault) {
    let (direct, order, id) = seeded(n).await;
    let before = readable(&direct, &id).await;
    let what = format!("cut at commit {pass} ({fault:?})");
    let (proxy, _, failed) = delivered_through_cut(&direct, renewed(&order), pass, fault).await;
    assert!(matches!(failed, Err(EventError::Unavailable(_))), "{what}: {failed:?}");
    assert!(proxy.faulted(TX) > 0, "{what}: the fault was reached");
    assert!(readable(&direct, &id).await == before, "{what}: readers see the licence as it was");
    let result = deliver(&direct, renewed(&order)).await.expect("the redelivery finishes it");
    assert_eq!(result["followed"], n + 1, "{what}");
    assert_renewed(&readable(&direct, &id).await, n);
    assert_eq!(deliver(&direct, renewed(&order)).await.unwrap(), result, "{what}: applied once");
}

/// One test per cut, so they run in parallel and each stays short:
/// `name: addresses, pass, fault;`.
macro_rules! renewal_cuts {
    ($($(#[$doc:meta])* $name:ident: $n:expr, $pass:expr, $fault:expr;)*) => {$(
        $(#[$doc])*
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            renewal_cut($n, $pass, $fault).await;
        }
    )*};
}

renewal_cuts! {
    // 150 addresses and the buyer: the commit point, four chunks (49, 49, 49, 4),
    // the clearing: commits 0 to 5.
    renewal_cut_at_the_commit_point: 150, 0, Fault::Drop;
    renewal_cut_before_the_first_chunk: 150, 1, Fault::Drop;
    renewal_answer_lost_after_a_chunk: 150, 2, Fault::DropAfterForward;
    renewal_throttled_after_two_chunks: 150, 3, Fault::Throttle;
    renewal_unreachable_before_the_last_chunk: 150, 4, Fault::Unreachable;
    renewal_cut_at_the_clearing: 150, 5, Fault::Drop;
    /// 10,000 assignments: about 200 commits of 49 moves; cut in the middle.
    a_renewal_of_ten_thousand_cut_in_the_middle_is_finished_by_the_retry: 10_000, 100, Fault::Drop;
}

/// Not the redelivery but the next admin's write finishes the renewal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_writer_finishes_a_renewal_cut_short() {
    let (direct, order, id) = seeded(150).await;
    let (_, _, failed) = delivered_through_cut(&direct, renewed(&order), 2, Fault::Drop).await;
    assert!(failed.is_err());
    let admin = Client::admin(&direct, CUSTOMER);
    // Again after any 503: `operation-pending` while it finishes the renewal, or a call past
    // the client's timeout on a crowded DynamoDB Local, which the contract says to retry.
    let late = past_503(|| admin.assign(&id, "late@example.com")).await;
    assert_eq!(late.status, 201, "{:?}", late.body);
    assert_eq!(late.body["license"]["term"]["end"], json!(days_from_today(395)));
    let mut after = readable(&direct, &id).await;
    after.assignments.retain(|a| a["email"] != "late@example.com");
    after.history.retain(|e| e["email"] != "late@example.com");
    assert_renewed(&after, 150);
}

/// A cancellation cut after its first chunk: readers see the licence as it
/// was (nobody clipped, nobody revoked) until the redelivery finishes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancellation_cut_short_is_invisible_until_finished() {
    let (direct, order, id) = seeded(100).await;
    let later = json!({"emails": "later@example.com", "validFrom": days_from_today(20)});
    assert_eq!(Client::admin(&direct, CUSTOMER).assign_body(&id, later).await.status, 201);
    let before = readable(&direct, &id).await;
    let event = cancellation(&order, "CAN-1", days_from_today(10));
    let (_, _, failed) = delivered_through_cut(&direct, event.clone(), 2, Fault::Drop).await;
    assert!(failed.is_err());
    assert!(readable(&direct, &id).await == before, "as it was");
    let result = deliver(&direct, event).await.unwrap();
    assert_eq!((result["clipped"].as_u64(), result["revoked"].as_u64()), (Some(101), Some(1)));
    let after = readable(&direct, &id).await;
    assert_eq!(after.license["cancelled"], true);
    let clipped =
        after.assignments.iter().filter(|a| a["validUntil"] == json!(days_from_today(10)));
    assert_eq!(clipped.count(), 101);
    let revoked = after.assignments.iter().find(|a| a["email"] == "later@example.com").unwrap();
    assert_eq!(revoked["revokedBy"], "system");
}

/// A writer that meets another operation's fan-out spends about 2 s at most
/// finishing it (API.md v3, "Bounded requests"): then 503
/// `operation-pending` with `Retry-After`; what it finished stays, and the
/// event's redelivery completes the rest. Every transaction here takes a
/// second (a slow network through the proxy), so the 150 moves' four chunks
/// and the clearing would take five.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_spends_at_most_two_seconds_on_another_operations_fan_out() {
    let (direct, order, id) = seeded(150).await;
    let (proxy, via, failed) =
        delivered_through_cut(&direct, renewed(&order), 1, Fault::Drop).await;
    assert!(failed.is_err(), "cut after the commit point");
    proxy.set(proxy::Rule {
        operation: Some(TX.into()),
        pass: 0,
        fault: Fault::Delay(std::time::Duration::from_secs(1)),
    });
    // Finishing all of it would take 5 s: the request gives up after 2 (the
    // bench measures how long it takes against a 10,000-period renewal).
    let late = Client::admin(&via, CUSTOMER).assign(&id, "late@example.com").await;
    assert_eq!((late.status, late.slug()), (503, "operation-pending"), "{:?}", late.body);
    assert_eq!(late.headers["retry-after"], "2");
    proxy.reset();
    proxy.idle().await;
    let result = deliver(&direct, renewed(&order)).await.expect("the redelivery finishes it");
    assert_eq!(result["followed"], 151);
    assert_renewed(&readable(&direct, &id).await, 150);
    let late = Client::admin(&direct, CUSTOMER).assign(&id, "late@example.com").await;
    assert_eq!(late.status, 201, "{:?}", late.body);
}
