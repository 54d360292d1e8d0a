//! Contract v3's "one meaning per request" and "answers that are not kept".

use licensing_tests::*;
use serde_json::json;

/// Every answer, whatever its route, status or author, is neither cached
/// nor sniffed.
#[tokio::test]
async fn every_answer_is_no_store_and_nosniff() {
    let app = fresh_app().await;
    let id = licence(&app, CUSTOMER, 5).await;
    let a = Client::admin(&app, CUSTOMER);
    let answers = [
        a.licenses("").await,
        a.license(&id).await,
        a.assign(&id, "anna@example.com").await,
        a.export_csv(&id).await,
        a.send("GET", "/nowhere", None).await,
        a.send("OPTIONS", "/licenses", None).await,
        Client::anonymous(&app).licenses("").await,
        Client::admin(&app, OTHER_CUSTOMER).license(&id).await,
    ];
    for answer in answers {
        let header = |name: &str| answer.headers.get(name).map(|v| v.to_str().unwrap().to_string());
        assert_eq!(header("cache-control").as_deref(), Some("no-store"), "{answer:?}");
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"), "{answer:?}");
    }
}

/// `?dryRun=false&dryRun=true` has no one meaning: 400, and nothing is done.
#[tokio::test]
async fn a_repeated_query_parameter_is_refused() {
    let app = fresh_app().await;
    let id = licence(&app, CUSTOMER, 5).await;
    let a = Client::admin(&app, CUSTOMER);
    let path = format!("/licenses/{id}/assignments?dryRun=true&dryRun=false");
    let answer = a.send("POST", &path, Some(json!({"emails": "anna@example.com"}))).await;
    assert_eq!((answer.status, answer.slug()), (400, "validation-error"), "{:?}", answer.body);
    assert_eq!(answer.body["errors"][0]["field"], "dryRun");
    assert_eq!(a.assignment(&id, "anna@example.com").await, None, "nothing assigned");
    let listed = a.licenses("status=all&status=active").await;
    assert_eq!((listed.status, listed.slug()), (400, "validation-error"));
    // Order does not matter, and single parameters still work.
    let paged = |q: &'static str| a.assignments(&id, q);
    assert_eq!(paged("limit=1&status=all").await.body, paged("status=all&limit=1").await.body);
}

/// An Idempotency-Key replays only the same request: the same bytes sent as
/// another media type are another request.
#[tokio::test]
async fn an_idempotency_key_replays_only_the_same_content_type() {
    let app = fresh_app().await;
    let id = licence(&app, CUSTOMER, 5).await;
    let a = Client::admin(&app, CUSTOMER);
    let body = json!({"emails": "anna@example.com"});
    let first = a.assign_with_key(&id, "key-1", &body).await;
    assert_eq!(first.status, 201);
    assert_eq!(a.assign_with_key(&id, "key-1", &body).await.status, 201, "replayed");
    let path = format!("/licenses/{id}/assignments");
    let mut as_csv = a.request("POST", &path, Some(&body));
    as_csv.headers_mut().insert("content-type", "text/csv".parse().unwrap());
    as_csv.headers_mut().insert("idempotency-key", "key-1".parse().unwrap());
    let answer = send(&app, as_csv).await;
    assert_eq!((answer.status, answer.slug()), (422, "idempotency-conflict"), "{:?}", answer.body);
}
