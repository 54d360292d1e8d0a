//! `POST /licenses/{id}/assignments`: all or nothing, over time, validated.

use licensing_tests::*;
use serde_json::json;

use crate::seats;

#[tokio::test]
async fn assigning_again_is_already_assigned_and_takes_no_seat() {
    let (app, id) = licensed(3).await;
    let a = Client::admin(&app, CUSTOMER);
    assert_eq!(a.assign(&id, ["x@example.com"].as_slice()).await.status, 201);
    let again = a.assign(&id, "X@example.com").await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["results"][0]["outcome"], "already_assigned");
    assert_eq!(seats(&again.body["license"]), (2, 1, 2));
    let mixed = a.assign(&id, "x@example.com, y@example.com").await;
    assert_eq!(mixed.status, 201);
    let outcomes = [&mixed.body["results"][0]["outcome"], &mixed.body["results"][1]["outcome"]];
    assert_eq!(outcomes, [&json!("already_assigned"), &json!("assigned")]);
}

#[tokio::test]
async fn insufficient_seats_and_invalid_emails_write_nothing() {
    let (app, id) = licensed(3).await;
    let a = Client::admin(&app, CUSTOMER);
    let too_many = a.assign(&id, "a@example.com,b@example.com,c@example.com").await;
    assert_eq!((too_many.status, too_many.slug()), (409, "insufficient-seats"));
    assert_eq!(too_many.content_type, "application/problem+json");
    assert_eq!((&too_many.body["requested"], &too_many.body["available"]), (&json!(3), &json!(2)));
    let invalid = a.assign(&id, "a@example.com; not an address ;b@").await;
    assert_eq!((invalid.status, invalid.slug()), (400, "invalid-emails"));
    assert_eq!(invalid.body["invalidEmails"], json!(["not an address", "b@"]));
    assert_eq!(a.all_assignments(&id).await.len(), 1, "only the buyer");
}

#[tokio::test]
async fn dry_run_answers_the_same_shape_without_writing() {
    let (app, id) = licensed(3).await;
    let a = Client::admin(&app, CUSTOMER);
    let dry = a.assign_body(&id, json!({"emails": "a@example.com", "dryRun": true})).await;
    assert_eq!(dry.status, 200);
    assert_eq!(dry.body["results"][0]["outcome"], "assigned");
    assert_eq!(seats(&dry.body["license"]), (2, 1, 2), "the licence as it would be");
    assert_eq!(a.all_assignments(&id).await.len(), 1);
    let three = "a@example.com,b@example.com,c@example.com";
    let dry_full = a.assign_body(&id, json!({"emails": three, "dryRun": true})).await;
    assert_eq!(dry_full.slug(), "insufficient-seats");
}

#[tokio::test]
async fn capacity_is_checked_over_time() {
    let app = fresh_app().await;
    let id = licence(&app, CUSTOMER, 2).await; // buyer holds one seat for the whole term
    let a = Client::admin(&app, CUSTOMER);
    let early = json!({"emails": "early@example.com", "validUntil": days_from_today(10)});
    assert_eq!(a.assign_body(&id, early).await.status, 201);
    // The second seat is free again after day 10...
    let later = a
        .assign_body(&id, json!({"emails": "late@example.com", "validFrom": days_from_today(11)}))
        .await;
    assert_eq!(later.status, 201, "{:?}", later.body);
    assert_eq!(later.body["results"][0]["assignment"]["status"], "scheduled");
    // ...but not on day 10.
    let day10 = json!({"emails": "overlap@example.com", "validFrom": days_from_today(10), "validUntil": days_from_today(10)});
    assert_eq!(a.assign_body(&id, day10).await.slug(), "insufficient-seats");
    // Extending the early one into the later one's period is refused.
    let until = |days| json!({"validUntil": days_from_today(days)});
    let extend = a.change(&id, "early@example.com", until(11)).await;
    assert_eq!((extend.status, extend.slug()), (409, "insufficient-seats"));
    // Shortening is fine.
    assert_eq!(a.change(&id, "early@example.com", until(5)).await.status, 200);
    assert_eq!(seats(&a.license(&id).await.body), (2, 0, 3));
    // Revoking frees the seat at once.
    assert_eq!(a.revoke(&id, "late@example.com").await.status, 200);
    assert_eq!(seats(&a.license(&id).await.body), (2, 0, 2), "early still holds today");
    let overlap = json!({"emails": "overlap@example.com", "validFrom": days_from_today(10)});
    assert_eq!(a.assign_body(&id, overlap).await.status, 201);
}

#[tokio::test]
async fn periods_must_lie_inside_the_term_and_not_end_in_the_past() {
    let (app, id) = licensed(5).await;
    let a = Client::admin(&app, CUSTOMER);
    let cases = [
        json!({"emails": "a@example.com", "validFrom": days_from_today(-31)}),
        json!({"emails": "a@example.com", "validUntil": days_from_today(366)}),
        json!({"emails": "a@example.com", "validFrom": days_from_today(5), "validUntil": days_from_today(4)}),
        json!({"emails": "a@example.com", "validFrom": days_from_today(-10), "validUntil": days_from_today(-1)}),
        json!({"emails": "a@example.com", "validFrom": "2026-02-30"}),
        json!({"emails": "a@example.com", "validFrom": "tomorrow"}),
        json!({"emails": "a@example.com", "validUntil": 20261231}),
        json!({"emails": "a@example.com", "language": "fr"}),
        json!({"emails": "a@example.com", "quantity": 9}),
        json!({"emails": "a@example.com", "customerId": "cust-2002"}),
        json!({"emails": 42}),
        json!({"emails": ["a@example.com", 3]}),
        json!({}),
    ];
    for body in cases {
        let answer = a.assign_body(&id, body.clone()).await;
        assert_eq!(
            (answer.status, answer.slug()),
            (400, "validation-error"),
            "{body}: {:?}",
            answer.body
        );
        assert!(!answer.body["errors"].as_array().unwrap().is_empty(), "{body}");
    }
    // A start in the past inside the term is allowed.
    let past_start = a
        .assign_body(&id, json!({"emails": "p@example.com", "validFrom": days_from_today(-5)}))
        .await;
    assert_eq!(past_start.status, 201, "{:?}", past_start.body);
    let path = format!("/licenses/{id}/assignments");
    let huge = format!("{{\"emails\": \"{}\"}}", "a".repeat(300 * 1024));
    let nested = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    for raw in ["{", "[1,2]", "\"text\"", "null", "", &huge, &nested] {
        let answer = send(&app, request("POST", &path, a.token.as_deref(), Some(raw))).await;
        assert_eq!(
            (answer.status, answer.slug()),
            (400, "validation-error"),
            "{}",
            &raw[..raw.len().min(20)]
        );
    }
    assert_eq!(a.all_assignments(&id).await.len(), 2);
}
