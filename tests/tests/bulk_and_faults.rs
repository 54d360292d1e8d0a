//! Requests larger than one transaction stay all-or-nothing for every reader,
//! and a failing DynamoDB answers 503 without details.

use licensing::App;
use licensing::http::identity::AuthMode;
use licensing::model::{Language, Operation, PendingBatch, Period};
use licensing::plan::{Ask, plan};
use licensing::store::{Store, Write};
use licensing_tests::*;
use serde_json::json;

fn addresses(n: usize, tag: &str) -> Vec<String> {
    (0..n).map(|i| format!("{tag}{i:04}@example.com")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_addresses_are_assigned_all_or_nothing() {
    let _heavy = HEAVY_WRITES.acquire().await.unwrap();
    let (app, id) = licensed(1000).await;
    let a = Client::admin(&app, CUSTOMER);
    // 1000 new ones need 1000 seats but only 999 are free: nothing is written.
    let refused = a.assign(&id, addresses(1000, "u").join("\n")).await;
    assert_eq!((refused.status, refused.slug()), (409, "insufficient-seats"), "{:?}", refused.body);
    assert_eq!(refused.body["available"], 999);
    assert_eq!(a.all_assignments(&id).await.len(), 1);
    // 999 fit: all of them are written, across several transactions.
    let body = json!({"emails": addresses(999, "u")});
    let ok = a.assign_with_key(&id, "bulk-999", &body).await;
    assert_eq!(ok.status, 201, "{:?}", ok.body["detail"]);
    assert_eq!(ok.body["results"].as_array().unwrap().len(), 999);
    assert_eq!(ok.body["license"]["availableSeats"], 0);
    let license = a.license(&id).await;
    assert_eq!(license.body["assignedUsers"], 1000);
    assert!(license.body.get("pending").is_none());
    assert_eq!(a.all_assignments(&id).await.len(), 1000);
    // A retry with the key replays the whole (multi-part) first response.
    let replay = a.assign_with_key(&id, "bulk-999", &body).await;
    assert_eq!((replay.status, raw(&replay)), (201, raw(&ok)));
    let again = a.assign_body(&id, body).await;
    assert_eq!(again.status, 200, "all already assigned");
}

/// A licence of 300 seats with a request that crashed after reserving 250
/// of them (the commit point) and writing only its first 99 items.
async fn crashed_batch() -> (App, String) {
    let (app, id) = licensed(300).await;
    let before = app.store.license(CUSTOMER, &id).await.unwrap().unwrap();
    let emails = addresses(250, "b");
    let now = app.now();
    let period = before.default_period(app.today());
    let planned = plan(
        &before,
        &Default::default(),
        &Ask { emails: &emails, period, now, by: "crashed@example.com", language: Language::De },
    )
    .unwrap();
    let mut reserved = planned.license.clone();
    reserved.operation = Some(Operation::Batch(PendingBatch {
        id: "batch-1".into(),
        emails: emails.clone(),
        replaced: Vec::new(),
        period: Period::new(period.from, period.until),
        assigned_at: now,
        assigned_by: "crashed@example.com".into(),
        language: Language::De,
    }));
    app.store
        .transact(&[Write::License { license: reserved, expected_version: Some(before.version) }])
        .await
        .unwrap();
    let partial: Vec<Write> = planned
        .new
        .iter()
        .take(99)
        .cloned()
        .map(|mut x| {
            x.batch = Some("batch-1".into());
            Write::Assignment(x)
        })
        .collect();
    app.store.transact(&partial).await.unwrap();
    (app, id)
}

/// A request that crashed after reserving its seats (the commit point) but
/// before writing all items: readers see the state before it, the next
/// writer finishes it, and then everyone sees the state after it.
#[tokio::test]
async fn a_half_written_batch_is_invisible_and_finished_by_the_next_writer() {
    let _heavy = HEAVY_WRITES.acquire().await.unwrap();
    let (app, id) = crashed_batch().await;
    let a = Client::admin(&app, CUSTOMER);
    let seen = a.license(&id).await;
    assert_eq!(seen.body["assignedUsers"], 1, "readers see the state before the batch");
    assert_eq!(a.all_assignments(&id).await.len(), 1);
    let me = Client::user(&app, "b0000@example.com", CUSTOMER).my_licenses().await;
    assert!(me.body["licenses"].as_array().unwrap().is_empty());

    // The next writer on the licence finishes the batch first, then writes.
    let next = past_pending(|| a.assign(&id, "next@example.com")).await;
    assert_eq!(next.status, 201, "{:?}", next.body);
    assert_eq!(a.license(&id).await.body["assignedUsers"], 252);
    assert_eq!(a.all_assignments(&id).await.len(), 252);
    let stored = app.store.license(CUSTOMER, &id).await.unwrap().unwrap();
    assert!(stored.operation.is_none());
}

/// v3: with no request coming by, the minute's run finishes what a crashed
/// writer left, once it is over 30 s old (before, a live writer may still
/// be at it).
#[tokio::test]
async fn a_half_written_batch_is_finished_by_the_minutes_run() {
    let _heavy = HEAVY_WRITES.acquire().await.unwrap();
    let (app, id) = crashed_batch().await;
    let minute = notifier(&app, ses_endpoint());
    let now = chrono::Utc::now();
    assert_eq!(minute.every_minute(now).await.unwrap().finished, 0, "still its writer's");
    let stored = app.store.license(CUSTOMER, &id).await.unwrap().unwrap();
    assert!(stored.operation.is_some());
    let later = now + chrono::Duration::seconds(60);
    assert_eq!(minute.every_minute(later).await.unwrap().finished, 1);
    let a = Client::admin(&app, CUSTOMER);
    assert_eq!(a.license(&id).await.body["assignedUsers"], 251);
    assert_eq!(a.all_assignments(&id).await.len(), 251);
    assert!(app.store.license(CUSTOMER, &id).await.unwrap().unwrap().operation.is_none());
    assert_eq!(minute.every_minute(later).await.unwrap().finished, 0, "nothing left");
}

#[tokio::test]
async fn dynamodb_unreachable_is_a_503_without_details() {
    dynamodb_endpoint();
    let client =
        licensing::app::dynamodb_client_at(Some(format!("http://127.0.0.1:{}", free_port())));
    let app = App::new(Store::new(client, "nowhere"), AuthMode::Verified);
    let a = Client::admin(&app, CUSTOMER);
    for (method, path, body) in [
        ("GET", "/licenses".to_string(), None),
        (
            "POST",
            "/licenses/lic_x/assignments".to_string(),
            Some(json!({"emails": "a@example.com"})),
        ),
        ("DELETE", "/licenses/lic_x/assignments/a@example.com".to_string(), None),
    ] {
        let answer = a.send(method, &path, body).await;
        assert_eq!(answer.status, 503, "{method} {path}");
        assert_eq!(answer.slug(), "service-unavailable");
        assert_eq!(answer.headers.get("retry-after").unwrap(), "1");
        let text = answer.body.to_string();
        assert!(
            !text.contains("dispatch") && !text.contains("Connect") && !text.contains("127.0.0.1"),
            "{text}"
        );
    }
    let provision = provision(
        &app,
        purchase("ORD-1", CUSTOMER, "b@example.com", 1, days_from_today(0), days_from_today(9)),
    )
    .await;
    assert!(provision.is_err());
}
