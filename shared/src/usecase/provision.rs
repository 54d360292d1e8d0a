//! The purchase (`LicensePurchased`): a licence for the customer, and the
//! buyer gets one seat. Applied once per `orderId`: a redelivery answers the
//! same licence, a different purchase under a known `orderId` is an
//! `order-conflict`. Lifecycle events that came before it are applied
//! right after it.

use serde::{Deserialize, Serialize};

use super::lifecycle;
use crate::App;
use crate::capacity::Timeline;
use crate::emails;
use crate::error::EventError;
use crate::model::{
    Action, Assignment, Entry, InvitationStatus, Language, License, LicenseState, LicenseStatus,
    SYSTEM, State, Subscription, Term,
};
use crate::store::{Order, PurchaseFacts, TxError, Write};

/// What `assignedBy` says for the buyer's automatic seat.
pub const SYSTEM_ASSIGNER: &str = SYSTEM;

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Buyer {
    pub email: String,
}

/// A purchase, as `events::orders` decoded and validated it.
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

/// Applies a purchase once, then the lifecycle events parked for its order.
pub async fn purchase(app: &App, purchase: &Purchase) -> Result<Provisioned, EventError> {
    let buyer = emails::normalize(&purchase.buyer.email)
        .ok_or_else(|| EventError::Invalid("buyer.email is not a valid e-mail address".into()))?;
    let facts = purchase.facts(&buyer);
    let order = match app.store.order(&purchase.order_id).await? {
        Some(order) => order,
        None => create(app, purchase, &buyer, facts.clone()).await?,
    };
    if let Some(first) = &order.purchase
        && *first != facts
    {
        return Err(EventError::OrderConflict(format!(
            "order {} is known with another customer, product, quantity, term or buyer",
            purchase.order_id
        )));
    }
    if order.purchase.is_none() && order.customer_id != purchase.customer_id {
        return Err(EventError::OrderConflict(format!(
            "order {} is known for another customer",
            purchase.order_id
        )));
    }
    lifecycle::apply_parked(app, &order.order_id, 1).await?;
    Ok(order.into())
}

/// Writes the licence, the buyer's seat and the order in one transaction;
/// the order as stored (a concurrent delivery may have come first).
async fn create(
    app: &App,
    purchase: &Purchase,
    buyer: &str,
    facts: PurchaseFacts,
) -> Result<Order, EventError> {
    let now = app.now();
    let today = now.date_naive();
    let mut license = purchase.license(buyer, now);
    let seat = if license.status(today) == LicenseStatus::Expired
        || buyer_holds_a_seat(app, purchase, buyer, today).await?
    {
        None
    } else {
        let period = license.default_period(today);
        license.seats.add(period, 1);
        let none = InvitationStatus::None;
        Some(Assignment::new(&license, buyer, period, now, SYSTEM_ASSIGNER, Language::En, none))
    };
    let order = Order {
        order_id: purchase.order_id.clone(),
        customer_id: purchase.customer_id.clone(),
        license_id: license.license_id.clone(),
        buyer_assigned: seat.is_some(),
        purchase: Some(facts),
    };
    let purchased = Entry::new(&license, now, SYSTEM, Action::LicensePurchased)
        .after(State::License(LicenseState::of(&license, today)));
    let mut writes = vec![Write::Order(order.clone()), Write::Entry(purchased.clone())];
    if let Some(seat) = seat {
        let created =
            Entry::assignment(&license, now, SYSTEM, Action::AssignmentCreated, None, &seat)
                .following(&purchased);
        writes.extend([Write::Assignment(seat), Write::Entry(created)]);
    }
    if let Some(exhausted) = Entry::seats_exhausted(None, &license, now, SYSTEM) {
        let last = match writes.last() {
            Some(Write::Entry(last)) => last.clone(),
            _ => purchased.clone(),
        };
        writes.push(Write::Entry(exhausted.following(&last)));
    }
    writes.push(Write::License { license, expected_version: None });
    match app.store.transact(&writes).await {
        Ok(()) => Ok(order),
        // The same order was provisioned concurrently: compare with that one.
        Err(TxError::Condition(_)) | Err(TxError::Busy) => {
            let order = app.store.order(&purchase.order_id).await?;
            order.ok_or_else(|| EventError::Unavailable("order write conflicted, retry".into()))
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
) -> Result<bool, EventError> {
    let customer = &purchase.customer_id;
    let same_product = app.store.license_ids_of_product(customer, &purchase.product_id).await?;
    if same_product.is_empty() {
        return Ok(false);
    }
    let held = app.store.assignments_of(customer, &same_product, buyer).await?;
    Ok(held.iter().any(|a| a.is_current(today)))
}

impl Purchase {
    /// What a redelivery of this purchase must repeat.
    fn facts(&self, buyer: &str) -> PurchaseFacts {
        PurchaseFacts {
            customer_id: self.customer_id.clone(),
            product_id: self.product_id.clone(),
            quantity: self.quantity,
            term: self.term,
            buyer: buyer.to_string(),
        }
    }

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
            operation: None,
            lifecycle_sequence: 0,
            reclaim: Default::default(),
            groups: Vec::new(),
            waiting: 0,
            waiting_seq: 0,
            rule_recheck_on: None,
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

    #[test]
    fn licence_ids_are_stable_per_customer_and_order() {
        // The demo licence of `make dev` (events/demo/01-tecdoc-catalogue.json).
        assert_eq!(license_id_for("cust-1001", "ORD-77"), "lic_6CGKN22FHMWP935DWKR78NWDA8");
        assert_ne!(license_id_for("cust-1001", "ORD-77"), license_id_for("cust-1002", "ORD-77"));
        assert_ne!(license_id_for("cust-1001", "ORD-7"), license_id_for("cust-1001", "ORD-77"));
    }
}
