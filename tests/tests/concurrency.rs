//! Concurrent requests can never oversubscribe a licence. On a DynamoDB
//! Local of this suite's own (see `own_dynamodb_endpoint`).

use std::sync::Arc;

use licensing::App;
use licensing_tests::*;
use serde_json::{Value, json};

/// `n` assigns of one address each, all at once: (created, refused, other).
async fn racing_assigns(
    app: &Arc<App>,
    id: &str,
    n: usize,
    body: impl Fn(usize) -> Value,
) -> (usize, usize, usize) {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (app, id, body) = (app.clone(), id.to_string(), body(i));
            tokio::spawn(async move { Client::admin(&app, CUSTOMER).assign_body(&id, body).await })
        })
        .collect();
    let (mut created, mut refused, mut other) = (0, 0, 0);
    for t in tasks {
        let answer = t.await.unwrap();
        match (answer.status, answer.slug()) {
            (201, _) => created += 1,
            (409, "insufficient-seats") => refused += 1,
            _ => {
                eprintln!("{} {}", answer.status, answer.body);
                other += 1
            }
        }
    }
    (created, refused, other)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_parallel_assigns_for_five_free_seats() {
    let app = Arc::new(patient_app_of_own().await);
    let id = licence(&app, CUSTOMER, 6).await; // the buyer holds one: 5 free
    let one = |i| json!({"emails": format!("racer{i:02}@example.com")});
    assert_eq!(racing_assigns(&app, &id, 30, one).await, (5, 25, 0));
    let a = Client::admin(&app, CUSTOMER);
    let license = a.license(&id).await.body;
    let counts = [&license["assignedSeats"], &license["availableSeats"], &license["assignedUsers"]];
    assert_eq!(counts, [&json!(6), &json!(0), &json!(6)]);
    assert_eq!(a.all_assignments(&id).await.len(), 6, "the licence and its assignment items agree");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn extensions_and_assigns_racing_for_the_last_seat() {
    let app = Arc::new(patient_app_of_own().await);
    let id = licence(&app, CUSTOMER, 2).await;
    let a = Client::admin(&app, CUSTOMER);
    // The second seat is used until day 10 only; after that it is the last free one.
    let short = json!({"emails": "short@example.com", "validUntil": days_from_today(10)});
    assert_eq!(a.assign_body(&id, short).await.status, 201);
    let extend = {
        let (app, id) = (app.clone(), id.clone());
        tokio::spawn(async move {
            let until = json!({"validUntil": days_from_today(200)});
            Client::admin(&app, CUSTOMER).change(&id, "short@example.com", until).await
        })
    };
    let late =
        |i| json!({"emails": format!("late{i}@example.com"), "validFrom": days_from_today(11)});
    let (created, _, other) = racing_assigns(&app, &id, 5, late).await;
    assert_eq!(other, 0);
    let extended = usize::from(extend.await.unwrap().status == 200);
    assert_eq!(created + extended, 1, "exactly one request gets the last seat");
    assert_eq!(a.license(&id).await.body["availableSeats"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_revoke_and_change_end_consistent() {
    let app = Arc::new(patient_app_of_own().await);
    let id = licence(&app, CUSTOMER, 3).await;
    let a = Client::admin(&app, CUSTOMER);
    a.assign(&id, "x@example.com").await;
    let (revoke, change) = tokio::join!(
        a.revoke(&id, "x@example.com"),
        a.change(&id, "x@example.com", json!({"validUntil": days_from_today(5)})),
    );
    assert_eq!(revoke.status, 200);
    assert!(change.status == 200 || change.slug() == "assignment-revoked", "{:?}", change.body);
    let license = a.license(&id).await.body;
    assert_eq!(license["assignedUsers"], 1, "only the buyer holds a seat");
    assert_eq!(license["availableSeats"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_parallel_assigns_for_ten_free_seats() {
    let app = Arc::new(patient_app_of_own().await);
    // A DynamoDB Local that has just started (its JVM not yet warm) is slow
    // under this crowd; warm it up.
    let warm = licence(&app, CUSTOMER, 500).await;
    let a = Client::admin(&app, CUSTOMER);
    for i in 0..40 {
        assert_eq!(a.assign(&warm, format!("warm{i}@example.com")).await.status, 201);
    }
    let id = licence(&app, CUSTOMER, 11).await; // the buyer holds one: 10 free
    let one = |i| json!({"emails": format!("crowd{i:03}@example.com")});
    assert_eq!(racing_assigns(&app, &id, 200, one).await, (10, 190, 0));
    assert_eq!(Client::admin(&app, CUSTOMER).all_assignments(&id).await.len(), 11);
}
