//! The order system's EventBridge events (API.md, "Provisioning" and
//! "Hardening (v3)"): the envelope is checked (its `source`, its
//! `detail-type`) and the detail decoded and validated into a
//! [`Purchase`] or a [`LifecycleEvent`]; anything else is `invalid-event`
//! and reaches no use case.

use std::sync::OnceLock;

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::App;
use crate::emails;
use crate::error::EventError;
use crate::lifecycle::{Cancellation, QuantityChange, Renewal};
use crate::model::{self, Term};
use crate::usecase::lifecycle::{self, Change, LifecycleEvent};
use crate::usecase::provision::{self, Purchase};

pub const PURCHASED: &str = "LicensePurchased";
pub use crate::usecase::lifecycle::{CANCELLED, QUANTITY_CHANGED, RENEWED};
/// The `source` the order system puts its events on the bus with, unless
/// the deployment names another (`ORDER_SOURCE`).
pub const DEFAULT_SOURCE: &str = "licensing.orders";
pub const MAX_QUANTITY: u32 = 100_000;
/// The longest term a purchase or renewal may have.
const MAX_TERM_MONTHS: u32 = 120;
/// The longest id or text field of an order event.
const MAX_TEXT: usize = 256;

/// An order system event, decoded.
#[derive(Clone, Debug, PartialEq)]
pub enum OrderEvent {
    Purchased(Purchase),
    Lifecycle(LifecycleEvent),
}

/// The source this deployment accepts (`ORDER_SOURCE`, read once).
pub fn accepted_source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| crate::app::env("ORDER_SOURCE").unwrap_or_else(|| DEFAULT_SOURCE.into()))
}

/// `provision`'s whole handler: decode, run the use case, render its outcome.
pub async fn handle(app: &App, event: Value) -> Result<Value, EventError> {
    let rendered = match decode(&event, accepted_source())? {
        OrderEvent::Purchased(p) => serde_json::to_value(provision::purchase(app, &p).await?),
        OrderEvent::Lifecycle(e) => serde_json::to_value(lifecycle::apply(app, &e).await?),
    };
    rendered.map_err(|e| EventError::Unavailable(e.to_string()))
}

#[derive(Deserialize)]
struct Envelope {
    source: Option<String>,
    #[serde(rename = "detail-type")]
    detail_type: Option<String>,
    time: Option<DateTime<Utc>>,
    detail: Option<Value>,
}

/// Decodes an EventBridge envelope whose `source` must be `source`.
pub fn decode(event: &Value, source: &str) -> Result<OrderEvent, EventError> {
    let envelope: Envelope = typed(event)?;
    if envelope.source.as_deref() != Some(source) {
        return Err(invalid(format!("source must be {source:?}, got {:?}", envelope.source)));
    }
    let detail = envelope.detail.ok_or_else(|| invalid("the event has no detail".into()))?;
    let detail_type = envelope.detail_type.unwrap_or_default();
    if detail_type == PURCHASED {
        return purchase(&detail).map(OrderEvent::Purchased);
    }
    let time = envelope.time.ok_or_else(|| invalid("the event has no time".into()))?;
    lifecycle_event(&detail_type, &detail, time).map(OrderEvent::Lifecycle)
}

fn invalid(message: String) -> EventError {
    EventError::Invalid(message)
}

fn typed<T: DeserializeOwned>(value: &Value) -> Result<T, EventError> {
    T::deserialize(value).map_err(|e| invalid(e.to_string()))
}

/// An id or text field: 1 to 256 characters, not blank, no control
/// characters; `key` also refuses `#` (ids end up in keys).
fn text(field: &str, value: &str, key: bool) -> Result<(), EventError> {
    if value.trim().is_empty() || value.len() > MAX_TEXT {
        return Err(invalid(format!("{field} must be 1 to {MAX_TEXT} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(format!("{field} must not contain control characters")));
    }
    if key && value.contains('#') {
        return Err(invalid(format!("{field} must not contain '#'")));
    }
    Ok(())
}

fn quantity(quantity: u32) -> Result<u32, EventError> {
    if (1..=MAX_QUANTITY).contains(&quantity) {
        Ok(quantity)
    } else {
        Err(invalid(format!("quantity must be 1 to {MAX_QUANTITY}")))
    }
}

/// A term that ends on or after its start and lasts at most 10 years.
fn term(t: &Term) -> Result<(), EventError> {
    if t.end < t.start {
        return Err(invalid("term.end is before term.start".into()));
    }
    let limit = t.start.checked_add_months(Months::new(MAX_TERM_MONTHS)).unwrap_or(NaiveDate::MAX);
    if t.end >= limit {
        return Err(invalid("a term lasts at most 10 years".into()));
    }
    Ok(())
}

fn purchase(detail: &Value) -> Result<Purchase, EventError> {
    let p: Purchase = typed(detail)?;
    for (field, value, key) in [
        ("orderId", &p.order_id, true),
        ("customerId", &p.customer_id, true),
        ("productId", &p.product_id, false),
        ("productName", &p.product_name, false),
        ("invoiceNumber", &p.invoice_number, false),
        ("subscription.id", &p.subscription.id, false),
        ("subscription.plan", &p.subscription.plan, false),
    ] {
        text(field, value, key)?;
    }
    // The same shape as the `custom:customer_id` claim that must reach it.
    if !model::is_customer_id(&p.customer_id) {
        return Err(invalid("customerId must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$".into()));
    }
    quantity(p.quantity)?;
    term(&p.term)?;
    if emails::normalize(&p.buyer.email).is_none() {
        return Err(invalid("buyer.email is not a valid e-mail address".into()));
    }
    Ok(p)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RenewedDetail {
    order_id: String,
    renewal_id: String,
    sequence: Option<i64>,
    term: Term,
    invoice_number: String,
    #[serde(default)]
    quantity: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct QuantityChangedDetail {
    order_id: String,
    change_id: String,
    sequence: Option<i64>,
    quantity: u32,
    #[serde(default)]
    invoice_number: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CancelledDetail {
    order_id: String,
    cancellation_id: String,
    sequence: Option<i64>,
    last_day: NaiveDate,
}

/// The lifecycle event of `detail_type`, issued at `time`.
fn lifecycle_event(
    detail_type: &str,
    detail: &Value,
    time: DateTime<Utc>,
) -> Result<LifecycleEvent, EventError> {
    let (order_id, (id_field, event_id), sequence, change) = match detail_type {
        RENEWED => {
            let d: RenewedDetail = typed(detail)?;
            text("invoiceNumber", &d.invoice_number, false)?;
            d.quantity.map(quantity).transpose()?;
            term(&d.term)?;
            let renewal =
                Renewal { term: d.term, invoice_number: d.invoice_number, quantity: d.quantity };
            (d.order_id, ("renewalId", d.renewal_id), d.sequence, Change::Renewed(renewal))
        }
        QUANTITY_CHANGED => {
            let d: QuantityChangedDetail = typed(detail)?;
            if let Some(invoice) = &d.invoice_number {
                text("invoiceNumber", invoice, false)?;
            }
            let change = QuantityChange {
                quantity: quantity(d.quantity)?,
                invoice_number: d.invoice_number,
            };
            (d.order_id, ("changeId", d.change_id), d.sequence, Change::QuantityChanged(change))
        }
        CANCELLED => {
            let d: CancelledDetail = typed(detail)?;
            let cancellation = Cancellation { last_day: d.last_day };
            let id = ("cancellationId", d.cancellation_id);
            (d.order_id, id, d.sequence, Change::Cancelled(cancellation))
        }
        other => return Err(invalid(format!("unknown detail-type {other:?}"))),
    };
    text("orderId", &order_id, true)?;
    text(id_field, &event_id, true)?;
    let sequence = match sequence {
        Some(n) if n >= 1 => n as u64,
        _ => return Err(invalid("detail.sequence must be a number from 1".into())),
    };
    Ok(LifecycleEvent { order_id, event_id, sequence, time, change })
}

#[cfg(test)]
mod tests;
