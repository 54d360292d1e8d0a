//! Concurrent requests can never oversubscribe a licence.

use std::sync::Arc;

use licensing_tests::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_parallel_assigns_for_five_free_seats() {
    let app = Arc::new(fresh_app().await);
    let id = licence(&app, CUSTOMER, 6).await; // the buyer holds one: 5 free
    let mut tasks = Vec::new();
    for i in 0..30 {
        let (app, id) = (app.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({"emails": format!("racer{i:02}@example.com")});
            call(
                &app,
                "POST",
                &format!("/licenses/{id}/assignments"),
                &admin(CUSTOMER),
                Some(body),
            )
            .await
        }));
    }
    let mut created = 0;
    let mut refused = 0;
    for t in tasks {
        let answer = t.await.unwrap();
        match answer.status {
            201 => created += 1,
            409 => {
                assert_eq!(answer.slug(), "insufficient-seats");
                refused += 1;
            }
            other => panic!("unexpected {other}: {:?}", answer.body),
        }
    }
    assert_eq!((created, refused), (5, 25));
    let license = call(
        &app,
        "GET",
        &format!("/licenses/{id}"),
        &admin(CUSTOMER),
        None,
    )
    .await;
    assert_eq!(license.body["assignedSeats"], 6);
    assert_eq!(license.body["availableSeats"], 0);
    assert_eq!(license.body["assignedUsers"], 6);
    let items = all_assignments(&app, CUSTOMER, &id).await;
    assert_eq!(items.len(), 6, "the licence and its assignment items agree");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn extensions_and_assigns_racing_for_the_last_seat() {
    let app = Arc::new(fresh_app().await);
    let id = licence(&app, CUSTOMER, 2).await;
    let a = admin(CUSTOMER);
    let path = format!("/licenses/{id}/assignments");
    // The second seat is used until day 10 only; after that it is the last free one.
    let first = call(
        &app,
        "POST",
        &path,
        &a,
        Some(json!({"emails": "short@example.com", "validUntil": days_from_today(10)})),
    )
    .await;
    assert_eq!(first.status, 201);
    let extend = {
        let (app, path) = (app.clone(), path.clone());
        tokio::spawn(async move {
            call(
                &app,
                "PATCH",
                &format!("{path}/short@example.com"),
                &admin(CUSTOMER),
                Some(json!({"validUntil": days_from_today(200)})),
            )
            .await
        })
    };
    let mut assigns = Vec::new();
    for i in 0..5 {
        let (app, path) = (app.clone(), path.clone());
        assigns.push(tokio::spawn(async move {
            call(&app, "POST", &path, &admin(CUSTOMER), Some(json!({"emails": format!("late{i}@example.com"), "validFrom": days_from_today(11)}))).await
        }));
    }
    let mut winners = usize::from(extend.await.unwrap().status == 200);
    for t in assigns {
        let answer = t.await.unwrap();
        assert!(
            answer.status == 201 || answer.slug() == "insufficient-seats",
            "{:?}",
            answer.body
        );
        winners += usize::from(answer.status == 201);
    }
    assert_eq!(winners, 1, "exactly one request gets the last seat");
    let license = call(&app, "GET", &format!("/licenses/{id}"), &a, None).await;
    assert_eq!(license.body["availableSeats"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_revoke_and_change_end_consistent() {
    let app = Arc::new(fresh_app().await);
    let id = licence(&app, CUSTOMER, 3).await;
    let path = format!("/licenses/{id}/assignments");
    call(
        &app,
        "POST",
        &path,
        &admin(CUSTOMER),
        Some(json!({"emails": "x@example.com"})),
    )
    .await;
    let item = format!("{path}/x@example.com");
    let a = admin(CUSTOMER);
    let (revoke, change) = tokio::join!(
        call(&app, "DELETE", &item, &a, None),
        call(
            &app,
            "PATCH",
            &item,
            &a,
            Some(json!({"validUntil": days_from_today(5)}))
        ),
    );
    assert_eq!(revoke.status, 200);
    assert!(
        change.status == 200 || change.slug() == "assignment-revoked",
        "{:?}",
        change.body
    );
    let license = call(
        &app,
        "GET",
        &format!("/licenses/{id}"),
        &admin(CUSTOMER),
        None,
    )
    .await;
    assert_eq!(
        license.body["assignedUsers"], 1,
        "only the buyer holds a seat"
    );
    assert_eq!(license.body["availableSeats"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_parallel_assigns_for_ten_free_seats() {
    let app = Arc::new(fresh_app().await);
    let id = licence(&app, CUSTOMER, 11).await; // the buyer holds one: 10 free
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let (app, id) = (app.clone(), id.clone());
            tokio::spawn(async move {
                let body = json!({"emails": format!("crowd{i:03}@example.com")});
                call(
                    &app,
                    "POST",
                    &format!("/licenses/{id}/assignments"),
                    &admin(CUSTOMER),
                    Some(body),
                )
                .await
            })
        })
        .collect();
    let (mut created, mut refused, mut errors) = (0, 0, 0);
    for t in tasks {
        let answer = t.await.unwrap();
        match (answer.status, answer.slug()) {
            (201, _) => created += 1,
            (409, "insufficient-seats") => refused += 1,
            _ => {
                eprintln!("{} {}", answer.status, answer.body);
                errors += 1
            }
        }
    }
    assert_eq!((created, refused, errors), (10, 190, 0));
    assert_eq!(all_assignments(&app, CUSTOMER, &id).await.len(), 11);
}
