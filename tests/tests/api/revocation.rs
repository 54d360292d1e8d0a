//! A revocation keeps the days already used, a reassignment keeps the old
//! record (contract v2, Revoke).

use licensing_tests::*;
use serde_json::json;

#[tokio::test]
async fn a_revocation_keeps_the_days_already_used() {
    let app = fresh_app().await;
    // One seat, from 30 days ago; the buyer gives theirs back today (a
    // revocation on the first day of a period frees all of it).
    let id = licence(&app, CUSTOMER, 1).await;
    let a = Client::admin(&app, CUSTOMER);
    a.revoke(&id, &format!("buyer@{CUSTOMER}.example.com")).await;
    let back_then = |email: &str, until: i64| json!({"emails": email, "validFrom": days_from_today(-20), "validUntil": days_from_today(until)});
    let anna = a.assign_body(&id, back_then("anna@example.com", 100)).await;
    assert_eq!(anna.status, 201, "{:?}", anna.body);
    assert_eq!(a.revoke(&id, "anna@example.com").await.status, 200);
    // Anna's seat is free from today on...
    assert_eq!(a.license(&id).await.body["availableSeats"], 1);
    let from_today =
        json!({"emails": "dora@example.com", "validUntil": days_from_today(10), "dryRun": true});
    assert_eq!(a.assign_body(&id, from_today).await.status, 200);
    // ...but the 20 days she used cannot be given to anybody again.
    let backdated = a.assign_body(&id, back_then("bob@example.com", 10)).await;
    assert_eq!(
        (backdated.status, backdated.slug()),
        (409, "insufficient-seats"),
        "{:?}",
        backdated.body
    );
    assert_eq!(backdated.body["available"], 0);
}

#[tokio::test]
async fn reassigning_a_revoked_address_keeps_the_revocation_on_record() {
    let (app, id) = licensed(3).await;
    let a = Client::admin(&app, CUSTOMER);
    a.assign(&id, "anna@example.com").await;
    a.revoke(&id, "anna@example.com").await;
    let again = a.assign(&id, "anna@example.com").await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body["results"][0]["assignment"]["status"], "active");
    let (_, found) = app
        .store
        .license_and_assignments(CUSTOMER, &id, &["anna@example.com".to_string()])
        .await
        .unwrap();
    let former = &found["anna@example.com"].former;
    assert_eq!(former.len(), 1);
    let by = format!("admin@{CUSTOMER}.example.com");
    assert_eq!(former[0].revoked_by.as_deref(), Some(by.as_str()));
    assert!(former[0].revoked_at.is_some());
}

#[tokio::test]
async fn the_buyers_seat_is_decided_without_the_index() {
    // A table without GSI1: any read of the index fails the invocation.
    let app = app_without_index().await;
    let buy = |order: &str| {
        let mut e = purchase(
            order,
            CUSTOMER,
            "Buyer@Example.com",
            5,
            days_from_today(-1),
            days_from_today(300),
        );
        e["detail"]["productId"] = json!("same-product");
        e
    };
    let first = provision(&app, buy("ORD-A")).await.expect("provisioned");
    assert!(first.buyer_assigned);
    // The buyer already holds a seat of this product: no second one.
    let second = provision(&app, buy("ORD-B")).await.expect("provisioned");
    assert!(!second.buyer_assigned);
}

async fn app_without_index() -> licensing::App {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let table = format!("noindex-{}", ulid::Ulid::new().to_string().to_lowercase());
    let client = dynamodb_client();
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key =
        |n: &str, k| KeySchemaElement::builder().attribute_name(n).key_type(k).build().unwrap();
    client
        .create_table()
        .table_name(&table)
        .attribute_definitions(attr("PK"))
        .attribute_definitions(attr("SK"))
        .key_schema(key("PK", KeyType::Hash))
        .key_schema(key("SK", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    licensing::App::new(
        licensing::store::Store::new(client, table),
        licensing::http::identity::AuthMode::Verified,
    )
}
