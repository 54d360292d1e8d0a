//! `provision`: idempotent on the order, validated, one buyer seat per product.

use licensing::provision::handle;
use licensing_tests::*;
use serde_json::json;

#[tokio::test]
async fn provisioning_is_idempotent_and_validates() {
    let app = fresh_app().await;
    let buy = |order: &str, buyer: &str, quantity: u32| {
        purchase(order, CUSTOMER, buyer, quantity, days_from_today(-1), days_from_today(30))
    };
    let event = buy("ORD-77", "Buyer@Example.com", 5);
    let first = handle(&app, event.clone()).await.unwrap();
    assert_eq!(handle(&app, event.clone()).await.unwrap(), first);
    assert!(first.buyer_assigned);
    let a = Client::admin(&app, CUSTOMER);
    let count =
        || async { a.licenses("status=all").await.body["licenses"].as_array().unwrap().len() };
    assert_eq!(count().await, 1);
    // The buyer already holds this product at this customer: no second seat.
    let mut second = buy("ORD-78", "buyer@example.com", 2);
    second["detail"]["productId"] = event["detail"]["productId"].clone();
    assert!(!handle(&app, second).await.unwrap().buyer_assigned);
    let mut bad = buy("ORD-79", "b@example.com", 0);
    assert!(handle(&app, bad.clone()).await.is_err());
    bad["detail"]["quantity"] = json!(3);
    bad["detail"]["term"]["end"] = json!(days_from_today(-2));
    assert!(handle(&app, bad).await.is_err());
    assert_eq!(count().await, 2);
    // Delivered concurrently, the same order still yields one licence.
    let event = buy("ORD-80", "c@example.com", 2);
    let (x, y) = tokio::join!(handle(&app, event.clone()), handle(&app, event.clone()));
    assert_eq!(x.unwrap().license_id, y.unwrap().license_id);
    assert_eq!(count().await, 3);
}
