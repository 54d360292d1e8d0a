//! The lifecycle events of `provision` (API.md, "Licence lifecycle after
//! purchase"): `LicenseRenewed`, `LicenseQuantityChanged`,
//! `LicenseCancelled`. Each names the licence by its order, is applied once
//! (its record rides in the change's transaction) and answers the same
//! result when delivered again.

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use super::fanout::{self, Commit};
use super::finish_pending;
use super::provision::ProvisionError;
use super::retry::{Step, retry_on_conflict};
use crate::App;
use crate::error::{Error, Result};
use crate::lifecycle::{self, Cancellation, Decided, QuantityChange, Renewal};
use crate::model::{Action, Entry, License, LicenseState, SYSTEM, State, Term};
use crate::store::{Order, OrderEvent};

pub const RENEWED: &str = "LicenseRenewed";
pub const QUANTITY_CHANGED: &str = "LicenseQuantityChanged";
pub const CANCELLED: &str = "LicenseCancelled";

/// A lifecycle event, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct LifecycleEvent {
    pub order_id: String,
    /// The event's own id (`renewalId`, `changeId`, `cancellationId`).
    pub event_id: String,
    pub change: Change,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Renewed(Renewal),
    QuantityChanged(QuantityChange),
    Cancelled(Cancellation),
}

impl Change {
    pub fn detail_type(&self) -> &'static str {
        match self {
            Change::Renewed(_) => RENEWED,
            Change::QuantityChanged(_) => QUANTITY_CHANGED,
            Change::Cancelled(_) => CANCELLED,
        }
    }

    fn action(&self) -> Action {
        match self {
            Change::Renewed(_) => Action::LicenseRenewed,
            Change::QuantityChanged(_) => Action::LicenseQuantityChanged,
            Change::Cancelled(_) => Action::LicenseCancelled,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RenewedDetail {
    order_id: String,
    renewal_id: String,
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
    quantity: u32,
    #[serde(default)]
    invoice_number: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CancelledDetail {
    order_id: String,
    cancellation_id: String,
    last_day: NaiveDate,
}

fn detail<T: serde::de::DeserializeOwned>(detail: &Value) -> Result<T, ProvisionError> {
    serde_json::from_value(detail.clone()).map_err(|e| ProvisionError::Invalid(e.to_string()))
}

/// An id or invoice number: 1 to 256 characters, no `#` (ids end up in keys).
fn check_text(field: &str, value: &str) -> Result<(), ProvisionError> {
    if value.trim().is_empty() || value.len() > 256 || value.contains('#') {
        return Err(ProvisionError::Invalid(format!(
            "{field} must be 1 to 256 characters without '#'"
        )));
    }
    Ok(())
}

fn check_quantity(quantity: u32) -> Result<u32, ProvisionError> {
    if (1..=super::provision::MAX_QUANTITY).contains(&quantity) {
        Ok(quantity)
    } else {
        let max = super::provision::MAX_QUANTITY;
        Err(ProvisionError::Invalid(format!("quantity must be 1 to {max}")))
    }
}

/// Validates the detail of a lifecycle event of this `detail_type`.
pub fn parse(detail_type: &str, value: &Value) -> Result<LifecycleEvent, ProvisionError> {
    let (order_id, event_id, change) = match detail_type {
        RENEWED => {
            let d: RenewedDetail = detail(value)?;
            check_text("invoiceNumber", &d.invoice_number)?;
            d.quantity.map(check_quantity).transpose()?;
            if d.term.end < d.term.start {
                return Err(ProvisionError::Invalid("term.end is before term.start".into()));
            }
            let renewal =
                Renewal { term: d.term, invoice_number: d.invoice_number, quantity: d.quantity };
            (d.order_id, ("renewalId", d.renewal_id), Change::Renewed(renewal))
        }
        QUANTITY_CHANGED => {
            let d: QuantityChangedDetail = detail(value)?;
            if let Some(invoice) = &d.invoice_number {
                check_text("invoiceNumber", invoice)?;
            }
            let change = QuantityChange {
                quantity: check_quantity(d.quantity)?,
                invoice_number: d.invoice_number,
            };
            (d.order_id, ("changeId", d.change_id), Change::QuantityChanged(change))
        }
        CANCELLED => {
            let d: CancelledDetail = detail(value)?;
            let cancellation = Cancellation { last_day: d.last_day };
            (d.order_id, ("cancellationId", d.cancellation_id), Change::Cancelled(cancellation))
        }
        other => return Err(ProvisionError::Invalid(format!("unknown detail-type {other:?}"))),
    };
    check_text("orderId", &order_id)?;
    check_text(event_id.0, &event_id.1)?;
    Ok(LifecycleEvent { order_id, event_id: event_id.1, change })
}

/// Applies a lifecycle event once; a redelivery answers the same result
/// (and finishes the change if a crash left it half-done).
pub async fn handle(app: &App, event: &LifecycleEvent) -> Result<Value, ProvisionError> {
    let order = app.store.order(&event.order_id).await?.ok_or_else(|| {
        ProvisionError::UnknownOrder(format!(
            "order {} is not known (yet); nothing was written",
            event.order_id
        ))
    })?;
    let applied = retry_on_conflict("lifecycle event", || attempt(app, &order, event)).await?;
    applied.map_err(ProvisionError::Invalid)
}

/// One optimistic attempt: `Done(Err(reason))` when the event is invalid
/// for the licence as it is.
async fn attempt(
    app: &App,
    order: &Order,
    event: &LifecycleEvent,
) -> Result<Step<Result<Value, String>>> {
    let detail_type = event.change.detail_type();
    let (record, license) = tokio::join!(
        app.store.order_event(&event.order_id, detail_type, &event.event_id),
        app.store.license(&order.customer_id, &order.license_id),
    );
    let license =
        license?.ok_or_else(|| Error::Unavailable("an order without its licence".into()))?;
    if let Some(record) = record? {
        finish_pending(app, &license).await?;
        let result = serde_json::from_str(&record.result).map_err(Error::unavailable)?;
        return Ok(Step::Done(Ok(result)));
    }
    if license.is_pending() {
        finish_pending(app, &license).await?;
        return Ok(Step::Again);
    }
    let decided = match decide(app, &license, &event.change).await? {
        Ok(decided) => decided,
        Err(reason) => return Ok(Step::Done(Err(reason))),
    };
    let result = result(event, &license, &decided, app.today());
    let at = app.now();
    // The operation's id orders its entries; the licence's entry is the first.
    let op = ulid::Ulid::new().to_string();
    let entry = Entry { id: op.clone(), ..Entry::new(&license, at, SYSTEM, event.change.action()) }
        .before(State::License(LicenseState::of(&license)))
        .after(State::License(LicenseState::of(&decided.license)));
    let record = OrderEvent {
        order_id: event.order_id.clone(),
        detail_type: detail_type.to_string(),
        event_id: event.event_id.clone(),
        result: result.to_string(),
    };
    let commit = Commit { before: &license, decided, op, at, entry, record };
    Ok(fanout::commit(app, commit).await?.map(|()| Ok(result)))
}

/// What the event does to the licence as read (the pure rules of
/// [`crate::lifecycle`]); `Err(reason)` when it is invalid for it.
async fn decide(app: &App, license: &License, change: &Change) -> Result<Result<Decided, String>> {
    let all = || app.store.all_assignments(&license.customer_id, &license.license_id);
    Ok(match change {
        Change::Renewed(r) => lifecycle::renew(license, r, &all().await?),
        Change::Cancelled(c) => lifecycle::cancel(license, c, &all().await?),
        Change::QuantityChanged(q) => lifecycle::change_quantity(license, q, app.today())
            .map(|license| Decided { license, change: None, moves: Vec::new(), stayed: 0 }),
    })
}

/// The invocation's answer.
fn result(event: &LifecycleEvent, before: &License, d: &Decided, today: NaiveDate) -> Value {
    let l = &d.license;
    let id = &l.license_id;
    match &event.change {
        Change::Renewed(_) => json!({
            "licenseId": id, "renewalId": event.event_id, "term": l.term,
            "currentTerm": l.current_term(), "followed": d.moves.len(), "notFollowed": d.stayed,
        }),
        Change::QuantityChanged(_) => json!({
            "licenseId": id, "changeId": event.event_id,
            "quantity": l.quantity_on(today), "overAssignedSeats": l.counts(today).over_assigned_seats,
        }),
        Change::Cancelled(c) => {
            let revoked = d.moves.iter().filter(|(_, m)| *m == lifecycle::Move::Revoke).count();
            json!({
                "licenseId": id, "cancellationId": event.event_id,
                "lastDay": c.last_day.min(before.term.end),
                "clipped": d.moves.len() - revoked, "revoked": revoked,
            })
        }
    }
}
