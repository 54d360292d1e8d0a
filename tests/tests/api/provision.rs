//! `provision`: idempotent on the order, validated, one buyer seat per product.

use licensing::error::EventError;
use licensing_tests::*;
use serde_json::json;

#[tokio::test]
async fn provisioning_is_idempotent_and_validates() {
    let app = fresh_app().await;
    let buy = |order: &str, buyer: &str, quantity: u32| {
        purchase(order, CUSTOMER, buyer, quantity, days_from_today(-1), days_from_today(30))
    };
    let event = buy("ORD-77", "Buyer@Example.com", 5);
    let first = provision(&app, event.clone()).await.unwrap();
    assert_eq!(provision(&app, event.clone()).await.unwrap(), first);
    assert!(first.buyer_assigned);
    let a = Client::admin(&app, CUSTOMER);
    let count =
        || async { a.licenses("status=all").await.body["licenses"].as_array().unwrap().len() };
    assert_eq!(count().await, 1);
    // The buyer already holds this product at this customer: no second seat.
    let mut second = buy("ORD-78", "buyer@example.com", 2);
    second["detail"]["productId"] = event["detail"]["productId"].clone();
    assert!(!provision(&app, second).await.unwrap().buyer_assigned);
    let mut bad = buy("ORD-79", "b@example.com", 0);
    assert!(provision(&app, bad.clone()).await.is_err());
    bad["detail"]["quantity"] = json!(3);
    bad["detail"]["term"]["end"] = json!(days_from_today(-2));
    assert!(provision(&app, bad).await.is_err());
    assert_eq!(count().await, 2);
    // Delivered concurrently, the same order still yields one licence.
    let event = buy("ORD-80", "c@example.com", 2);
    let (x, y) = tokio::join!(provision(&app, event.clone()), provision(&app, event.clone()));
    assert_eq!(x.unwrap().license_id, y.unwrap().license_id);
    assert_eq!(count().await, 3);
}

/// A known `orderId` with other facts is another purchase: v2 answered the
/// first customer's licence to it.
#[tokio::test]
async fn a_known_order_with_other_facts_is_a_conflict() {
    let app = fresh_app().await;
    let order = format!("ORD-{}", ulid::Ulid::new());
    let buy =
        || purchase(&order, CUSTOMER, "b@example.com", 3, days_from_today(-1), days_from_today(30));
    let first = provision(&app, buy()).await.unwrap();
    let conflicts = [
        ("/detail/customerId", json!(OTHER_CUSTOMER)),
        ("/detail/productId", json!("another-product")),
        ("/detail/quantity", json!(4)),
        ("/detail/term/end", json!(days_from_today(31))),
        ("/detail/buyer/email", json!("c@example.com")),
    ];
    for (pointer, value) in conflicts {
        let mut event = buy();
        *event.pointer_mut(pointer).unwrap() = value;
        let answer = provision(&app, event).await;
        assert!(matches!(answer, Err(EventError::OrderConflict(_))), "{pointer}: {answer:?}");
    }
    let other = Client::admin(&app, OTHER_CUSTOMER);
    assert!(other.licenses("status=all").await.body["licenses"].as_array().unwrap().is_empty());
    // The same purchase later, after a renewal, still answers its licence
    // (the buyer's address in another case is the same buyer).
    let renewed = renewal(&order, "REN-1", days_from_today(31), days_from_today(60), None);
    deliver(&app, renewed).await.unwrap();
    let mut again = buy();
    again["detail"]["buyer"]["email"] = json!("B@Example.com");
    assert_eq!(provision(&app, again).await.unwrap(), first);
}
