//! `Idempotency-Key` on assign: one execution per key and body, the first
//! response replayed, conflicts and stale claims handled.

use licensing::store::STALE_CLAIM_SECONDS;
use licensing_tests::*;
use serde_json::json;

#[tokio::test]
async fn a_retry_replays_the_first_response_without_doing_anything_again() {
    let (app, id) = licensed(5).await;
    let a = Client::admin(&app, CUSTOMER);
    let body = json!({"emails": "k1@example.com, k2@example.com"});
    let first = a.assign_with_key(&id, "key-1", &body).await;
    assert_eq!(first.status, 201);
    let second = a.assign_with_key(&id, "key-1", &body).await;
    assert_eq!(second.status, 201, "the first status, not 200 already_assigned");
    assert_eq!(raw(&second), raw(&first));
    assert_eq!(second.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(a.all_assignments(&id).await.len(), 3);

    let other_body = a.assign_with_key(&id, "key-1", &json!({"emails": "k3@example.com"})).await;
    assert_eq!((other_body.status, other_body.slug()), (422, "idempotency-conflict"));
    assert_eq!(a.all_assignments(&id).await.len(), 3);

    // Keys are scoped per customer.
    let foreign_id = licence(&app, OTHER_CUSTOMER, 5).await;
    let foreign =
        Client::admin(&app, OTHER_CUSTOMER).assign_with_key(&foreign_id, "key-1", &body).await;
    assert_eq!(foreign.status, 201);

    // A refused request is replayed as refused, even after seats were freed.
    let big = json!({"emails": "a@example.com,b@example.com,c@example.com"});
    let refused = a.assign_with_key(&id, "key-2", &big).await;
    assert_eq!(refused.slug(), "insufficient-seats");
    a.revoke(&id, "k1@example.com").await;
    let replayed = a.assign_with_key(&id, "key-2", &big).await;
    assert_eq!((replayed.status, raw(&replayed)), (409, raw(&refused)));
    assert_eq!(replayed.content_type, "application/problem+json");

    for bad in ["", &"x".repeat(256)] {
        let answer = a.assign_with_key(&id, bad, &body).await;
        assert_eq!((answer.status, answer.slug()), (400, "validation-error"), "{bad:?}");
    }
}

#[tokio::test]
async fn a_running_request_blocks_retries_until_its_claim_is_stale() {
    let (app, id) = licensed(5).await;
    let a = Client::admin(&app, CUSTOMER);
    let body = json!({"emails": "late@example.com"});
    let path = format!("/licenses/{id}/assignments");
    // What the first request of `assign_with_key` is fingerprinted as.
    let fingerprint =
        licensing::http::idempotency::fingerprint(&a.request("POST", &path, Some(&body)));
    let now = chrono::Utc::now().timestamp();
    let claim = |key: &'static str, at: i64, stale_at: i64| {
        let (app, fingerprint) = (&app, &fingerprint);
        async move {
            app.store.claim_idempotency(CUSTOMER, key, fingerprint, at, stale_at).await.unwrap()
        }
    };
    // A request that is running right now holds the key...
    claim("busy", now, now + STALE_CLAIM_SECONDS).await;
    let blocked = a.assign_with_key(&id, "busy", &body).await;
    assert_eq!((blocked.status, blocked.slug()), (409, "idempotency-in-progress"));
    // Retry-After says when the claim goes stale at the latest.
    let retry_after: i64 = blocked.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(
        (STALE_CLAIM_SECONDS - 2..=STALE_CLAIM_SECONDS).contains(&retry_after),
        "{retry_after}"
    );
    assert_eq!(a.all_assignments(&id).await.len(), 1, "never a second execution");
    // ...but one that died long ago does not block the key forever.
    claim("dead", now - STALE_CLAIM_SECONDS - 5, now - 5).await;
    assert_eq!(a.assign_with_key(&id, "dead", &body).await.status, 201);
}
