//! The `provision` function: an EventBridge `LicensePurchased` event becomes a
//! licence, and the buyer gets one seat. Idempotent on `orderId`. The
//! lifecycle events after the purchase go to [`super::lifecycle`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::App;
use crate::capacity::Timeline;
use crate::emails;
use crate::error::Error;
use crate::model::{
    Action, Assignment, Entry, InvitationStatus, Language, License, LicenseState, LicenseStatus,
    SYSTEM, State, Subscription, Term,
};
use crate::store::{Order, TxError, Write};

pub const DETAIL_TYPE: &str = "LicensePurchased";
/// What `assignedBy` says for the buyer's automatic seat.
pub const SYSTEM_ASSIGNER: &str = SYSTEM;
pub(crate) const MAX_QUANTITY: u32 = 100_000;

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Buyer {
    pub email: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Purchase {
    pub order_id: String,
    pub customer_id: String,
    pub buyer: Buyer,
    pub product_id: String,
    pub product_name: String,
    pub quantity: u32,
    pub term: Term,
    pub subscription: Subscription,
    pub invoice_number: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provisioned {
    pub license_id: String,
    pub buyer_assigned: bool,
}

/// Why an event was refused; the invocation fails with this message.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("invalid event: {0}")]
    Invalid(String),
    /// A lifecycle event for an order that was not provisioned (yet).
    #[error("unknown order: {0}")]
    UnknownOrder(String),
    #[error("provisioning failed, retry: {0}")]
    Unavailable(String),
}

impl From<Error> for ProvisionError {
    fn from(e: Error) -> Self {
        Self::Unavailable(e.to_string())
    }
}

/// The licence id of an order: derived from customer and order, so every
/// delivery of the same purchase names the same licence (and examples and
/// demo data can name it ahead of time). ULID-shaped, opaque to clients.
pub fn license_id_for(customer_id: &str, order_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(customer_id)
        .chain_update("\n")
        .chain_update(order_id)
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    format!("lic_{}", ulid::Ulid::from_bytes(bytes))
}

/// Any event of the order system, by its `detail-type`: a purchase, or a
/// lifecycle event. Answers the invocation's JSON result.
pub async fn handle_event(app: &App, event: Value) -> Result<Value, ProvisionError> {
    let detail_type = event.get("detail-type").and_then(Value::as_str);
    match (detail_type, event.get("detail")) {
        (Some(t), Some(detail)) if t != DETAIL_TYPE => {
            let event = super::lifecycle::parse(t, detail)?;
            super::lifecycle::handle(app, &event).await
        }
        _ => {
            let provisioned = handle(app, event).await?;
            serde_json::to_value(provisioned)
                .map_err(|e| ProvisionError::Unavailable(e.to_string()))
        }
    }
}

/// Validates an EventBridge envelope (or a bare detail) into a purchase.
pub fn parse(event: &Value) -> Result<Purchase, ProvisionError> {
    let invalid = |m: String| ProvisionError::Invalid(m);
    let detail = match event.get("detail") {
        Some(detail) => {
            match event.get("detail-type").and_then(Value::as_str) {
                Some(DETAIL_TYPE) => {}
                other => {
                    return Err(invalid(format!(
                        "detail-type must be {DETAIL_TYPE}, got {other:?}"
                    )));
                }
            }
            detail
        }
        None => event,
    };
    let purchase: Purchase =
        serde_json::from_value(detail.clone()).map_err(|e| invalid(e.to_string()))?;
    let nonblank = [
        ("orderId", &purchase.order_id),
        ("customerId", &purchase.customer_id),
        ("productId", &purchase.product_id),
        ("productName", &purchase.product_name),
        ("invoiceNumber", &purchase.invoice_number),
        ("subscription.id", &purchase.subscription.id),
    ];
    for (field, value) in nonblank {
        if value.trim().is_empty() || value.len() > 256 {
            return Err(invalid(format!("{field} must be 1 to 256 characters")));
        }
    }
    if purchase.order_id.contains('#') {
        return Err(invalid("orderId must not contain '#'".into()));
    }
    // The same shape as the `custom:customer_id` claim that must reach it.
    if !crate::model::is_customer_id(&purchase.customer_id) {
        return Err(invalid("customerId must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$".into()));
    }
    if purchase.quantity < 1 || purchase.quantity > MAX_QUANTITY {
        return Err(invalid(format!("quantity must be 1 to {MAX_QUANTITY}")));
    }
    if purchase.term.end < purchase.term.start {
        return Err(invalid("term.end is before term.start".into()));
    }
    if emails::normalize(&purchase.buyer.email).is_none() {
        return Err(invalid("buyer.email is not a valid e-mail address".into()));
    }
    Ok(purchase)
}

pub async fn handle(app: &App, event: Value) -> Result<Provisioned, ProvisionError> {
    let purchase = parse(&event)?;
    if let Some(order) = app.store.order(&purchase.order_id).await? {
        return Ok(order.into());
    }
    let buyer = emails::normalize(&purchase.buyer.email).expect("validated");
    let now = app.now();
    let today = now.date_naive();
    let mut license = purchase.license(&buyer, now);
    let seat = if license.status(today) == LicenseStatus::Expired
        || buyer_holds_a_seat(app, &purchase, &buyer, today).await?
    {
        None
    } else {
        let period = license.default_period(today);
        license.seats.add(period, 1);
        Some(Assignment::new(
            &license,
            &buyer,
            period,
            now,
            SYSTEM_ASSIGNER,
            Language::En,
            InvitationStatus::None,
        ))
    };
    let order = Order {
        order_id: purchase.order_id.clone(),
        customer_id: purchase.customer_id.clone(),
        license_id: license.license_id.clone(),
        buyer_assigned: seat.is_some(),
    };
    let purchased = Entry::new(&license, now, SYSTEM, Action::LicensePurchased)
        .after(State::License(LicenseState::of(&license)));
    let mut writes = vec![Write::Order(order.clone()), Write::Entry(purchased.clone())];
    if let Some(seat) = seat {
        let created =
            Entry::assignment(&license, now, SYSTEM, Action::AssignmentCreated, None, &seat)
                .following(&purchased);
        writes.extend([Write::Assignment(seat), Write::Entry(created)]);
    }
    writes.push(Write::License { license, expected_version: None });
    match app.store.transact(&writes).await {
        Ok(()) => Ok(order.into()),
        // The same order was provisioned concurrently: answer with that licence.
        Err(TxError::Condition(_)) | Err(TxError::Busy) => {
            let order = app.store.order(&purchase.order_id).await?.ok_or_else(|| {
                ProvisionError::Unavailable("order write conflicted, retry".into())
            })?;
            Ok(order.into())
        }
        Err(TxError::Failed(e)) => Err(e.into()),
    }
}

/// Whether the buyer already holds a current seat of this product at this
/// customer, decided on strongly consistent reads of the table (the index
/// lags): the customer's licences of the product, then the buyer's
/// assignments on them.
async fn buyer_holds_a_seat(
    app: &App,
    purchase: &Purchase,
    buyer: &str,
    today: chrono::NaiveDate,
) -> Result<bool, ProvisionError> {
    let customer = &purchase.customer_id;
    let same_product = app.store.license_ids_of_product(customer, &purchase.product_id).await?;
    if same_product.is_empty() {
        return Ok(false);
    }
    let held = app.store.assignments_of(customer, &same_product, buyer).await?;
    Ok(held.iter().any(|a| a.is_current(today)))
}

impl Purchase {
    /// The licence this purchase creates, without seats yet.
    fn license(&self, buyer: &str, now: chrono::DateTime<chrono::Utc>) -> License {
        License {
            license_id: license_id_for(&self.customer_id, &self.order_id),
            customer_id: self.customer_id.clone(),
            product_id: self.product_id.clone(),
            product_name: self.product_name.clone(),
            quantity: self.quantity,
            quantity_steps: Default::default(),
            term: self.term,
            terms: Vec::new(),
            cancelled: false,
            subscription: self.subscription.clone(),
            invoice_number: self.invoice_number.clone(),
            order_id: self.order_id.clone(),
            buyer: Some(buyer.to_string()),
            created_at: now,
            seats: Timeline::default(),
            version: 1,
            pending: None,
            fanout: None,
        }
    }
}

impl From<Order> for Provisioned {
    fn from(order: Order) -> Self {
        Self { license_id: order.license_id, buyer_assigned: order.buyer_assigned }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({"version": "0", "id": "x", "detail-type": "LicensePurchased", "source": "licensing.orders",
               "account": "1", "time": "2026-11-28T14:49:43Z", "region": "eu-central-1", "resources": [],
               "detail": {"orderId": "ORD-77", "customerId": "cust-1001", "buyer": {"email": "Buyer@Example.com"},
                          "productId": "tecdoc-catalogue", "productName": "TecDoc Catalogue", "quantity": 5,
                          "term": {"start": "2026-01-01", "end": "2026-12-31"},
                          "subscription": {"id": "SUB-1001", "plan": "annual", "autoRenew": true},
                          "invoiceNumber": "INV-2026-0001"}})
    }

    #[test]
    fn licence_ids_are_stable_per_customer_and_order() {
        // The demo licence of `make dev` (events/demo/01-tecdoc-catalogue.json).
        assert_eq!(license_id_for("cust-1001", "ORD-77"), "lic_6CGKN22FHMWP935DWKR78NWDA8");
        assert_ne!(license_id_for("cust-1001", "ORD-77"), license_id_for("cust-1002", "ORD-77"));
        assert_ne!(license_id_for("cust-1001", "ORD-7"), license_id_for("cust-1001", "ORD-77"));
    }

    #[test]
    fn accepts_the_contract_example() {
        let p = parse(&event()).unwrap();
        assert_eq!(p.quantity, 5);
        assert_eq!(p.buyer.email, "Buyer@Example.com");
    }

    #[test]
    fn rejects_invalid_events() {
        let cases: Vec<(&str, Value)> = vec![
            ("/detail/quantity", json!(0)),
            ("/detail/quantity", json!("5")),
            ("/detail/term/end", json!("2025-12-31")),
            ("/detail/buyer/email", json!("not-an-address")),
            ("/detail/orderId", json!("")),
            ("/detail/customerId", json!("cust#1")),
            ("/detail/customerId", json!("-cust")),
            ("/detail-type", json!("SomethingElse")),
        ];
        for (pointer, value) in cases {
            let mut e = event();
            *e.pointer_mut(pointer).unwrap() = value;
            assert!(matches!(parse(&e), Err(ProvisionError::Invalid(_))), "{pointer}");
        }
        let mut missing = event();
        missing["detail"].as_object_mut().unwrap().remove("productId");
        assert!(matches!(parse(&missing), Err(ProvisionError::Invalid(_))));
    }
}
