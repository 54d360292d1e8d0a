use serde_json::{Value, json};

use super::*;

fn purchase_event() -> Value {
    json!({"version": "0", "id": "x", "detail-type": "LicensePurchased", "source": "licensing.orders",
           "account": "1", "time": "2026-11-28T14:49:43Z", "region": "eu-central-1", "resources": [],
           "detail": {"orderId": "ORD-77", "customerId": "cust-1001", "buyer": {"email": "Buyer@Example.com"},
                      "productId": "tecdoc-catalogue", "productName": "TecDoc Catalogue", "quantity": 5,
                      "term": {"start": "2026-01-01", "end": "2026-12-31"},
                      "subscription": {"id": "SUB-1001", "plan": "annual", "autoRenew": true},
                      "invoiceNumber": "INV-2026-0001"}})
}

fn change_event() -> Value {
    json!({"version": "0", "id": "y", "detail-type": "LicenseQuantityChanged", "source": "licensing.orders",
           "account": "1", "time": "2026-11-28T14:49:43Z", "region": "eu-central-1", "resources": [],
           "detail": {"orderId": "ORD-77", "changeId": "CHG-1", "sequence": 2, "quantity": 7}})
}

fn decoded(event: &Value) -> Result<OrderEvent, EventError> {
    decode(event, DEFAULT_SOURCE)
}

fn is_invalid(event: &Value) -> bool {
    matches!(decoded(event), Err(EventError::Invalid(_)))
}

fn with(mut event: Value, pointer: &str, value: Value) -> Value {
    *event.pointer_mut(pointer).unwrap_or_else(|| panic!("{pointer}")) = value;
    event
}

#[test]
fn accepts_the_contract_example() {
    let Ok(OrderEvent::Purchased(p)) = decoded(&purchase_event()) else { panic!() };
    assert_eq!(p.quantity, 5);
    assert_eq!(p.buyer.email, "Buyer@Example.com");
}

#[test]
fn rejects_invalid_purchases() {
    let cases: Vec<(&str, Value)> = vec![
        ("/detail/quantity", json!(0)),
        ("/detail/quantity", json!(100_001)),
        ("/detail/quantity", json!("5")),
        ("/detail/term/end", json!("2025-12-31")),
        ("/detail/term/end", json!("2036-01-01")),
        ("/detail/buyer/email", json!("not-an-address")),
        ("/detail/orderId", json!("")),
        ("/detail/orderId", json!("ORD#1")),
        ("/detail/customerId", json!("cust#1")),
        ("/detail/customerId", json!("-cust")),
        ("/detail/productName", json!("TecDoc\u{0007}Catalogue")),
        ("/detail/invoiceNumber", json!("INV\r\n2026")),
        ("/detail/subscription/plan", json!("annual\u{0000}")),
        ("/detail-type", json!("SomethingElse")),
        ("/source", json!("someone.else")),
    ];
    for (pointer, value) in cases {
        let event = with(purchase_event(), pointer, value.clone());
        assert!(is_invalid(&event), "{pointer} = {value}");
    }
    let mut missing = purchase_event();
    missing["detail"].as_object_mut().unwrap().remove("productId");
    assert!(is_invalid(&missing));
    let mut bare = purchase_event();
    bare.as_object_mut().unwrap().remove("source");
    assert!(is_invalid(&bare), "no source");
    // The longest term is 10 years to the day before.
    let ten_years = with(purchase_event(), "/detail/term/end", json!("2035-12-31"));
    assert!(decoded(&ten_years).is_ok());
    assert!(decoded(&with(purchase_event(), "/detail/quantity", json!(100_000))).is_ok());
}

#[test]
fn the_source_is_the_deployments() {
    let ours = with(purchase_event(), "/source", json!("acme.orders"));
    assert!(decode(&ours, "acme.orders").is_ok());
    assert!(matches!(decode(&purchase_event(), "acme.orders"), Err(EventError::Invalid(_))));
}

#[test]
fn lifecycle_events_carry_their_number_and_time() {
    let Ok(OrderEvent::Lifecycle(e)) = decoded(&change_event()) else { panic!() };
    assert_eq!((e.sequence, e.event_id.as_str()), (2, "CHG-1"));
    assert_eq!(e.time.to_rfc3339(), "2026-11-28T14:49:43+00:00");
    for sequence in [json!(0), json!(-1), json!("2"), json!(1.5)] {
        assert!(
            is_invalid(&with(change_event(), "/detail/sequence", sequence.clone())),
            "{sequence}"
        );
    }
    let mut unnumbered = change_event();
    unnumbered["detail"].as_object_mut().unwrap().remove("sequence");
    assert!(is_invalid(&unnumbered), "no sequence");
    let mut untimed = change_event();
    untimed.as_object_mut().unwrap().remove("time");
    assert!(is_invalid(&untimed), "no time");
    assert!(is_invalid(&with(change_event(), "/detail/changeId", json!("C\u{001b}1"))));
}

#[test]
fn failures_name_their_kind() {
    let kinds = [
        EventError::Invalid(String::new()).kind(),
        EventError::Stale(String::new()).kind(),
        EventError::OrderConflict(String::new()).kind(),
        EventError::Refused(String::new()).kind(),
    ];
    assert_eq!(kinds, ["invalid-event", "stale", "order-conflict", "refused"]);
}
