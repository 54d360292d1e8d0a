//! The lifecycle events of `provision` (API.md, "Licence lifecycle after
//! purchase" and "Hardening (v3)"): `LicenseRenewed`,
//! `LicenseQuantityChanged`, `LicenseCancelled`. Each names the licence by
//! its order and carries the order's sequence number: the next number is
//! applied (its record rides in the change's transaction, with the number on
//! the licence), a number ahead of the next waits parked until its
//! predecessor is applied, and a number already applied under another id is
//! stale. A redelivery answers the recorded result.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::fanout::{self, Commit};
use super::finish;
use super::retry::{Step, committed, retry_on_conflict};
use crate::App;
use crate::error::{Error, EventError, Result};
use crate::lifecycle::{self, Cancellation, Decided, QuantityChange, Renewal};
use crate::model::{Action, Entry, License, LicenseState, NextTerm, SYSTEM, State, Term};
use crate::store::{Order, OrderEvent, ParkedEvent, Write};

pub const RENEWED: &str = "LicenseRenewed";
pub const QUANTITY_CHANGED: &str = "LicenseQuantityChanged";
pub const CANCELLED: &str = "LicenseCancelled";

/// A lifecycle event, decoded and validated (`events::orders`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleEvent {
    pub order_id: String,
    /// The event's own id (`renewalId`, `changeId`, `cancellationId`).
    pub event_id: String,
    /// Its number among the order's lifecycle events (the purchase is 0).
    pub sequence: u64,
    /// When the order system issued it (the envelope's `time`).
    pub time: DateTime<Utc>,
    pub change: Change,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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

/// What an event did: applied (with its result, recorded), or parked.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum LifecycleOutcome {
    Applied(Applied),
    Parked(Parked),
}

/// `{"parked": true, "waitingFor": n}`: the number that must come first.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Parked {
    pub parked: bool,
    pub waiting_for: u64,
}

/// An applied event's result, as recorded and answered again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged, rename_all_fields = "camelCase")]
pub enum Applied {
    Renewed {
        license_id: String,
        renewal_id: String,
        term: Term,
        current_term: Term,
        #[serde(default)]
        next_term: Option<NextTerm>,
        followed: usize,
        not_followed: usize,
    },
    QuantityChanged {
        license_id: String,
        change_id: String,
        quantity: u32,
        over_assigned_seats: u32,
    },
    Cancelled {
        license_id: String,
        cancellation_id: String,
        last_day: NaiveDate,
        clipped: usize,
        revoked: usize,
    },
    /// In order, but the licence's state did not allow it: the number is
    /// used up, and every delivery of the event fails `refused`.
    Refused { refused: String },
}

/// Applies a lifecycle event in its turn, then whatever was parked behind
/// it; a refused event fails as `refused` after that.
pub async fn apply(app: &App, event: &LifecycleEvent) -> Result<LifecycleOutcome, EventError> {
    let outcome = retry_on_conflict("lifecycle event", || attempt(app, event)).await??;
    if let LifecycleOutcome::Applied(applied) = &outcome {
        apply_parked(app, &event.order_id, event.sequence + 1).await?;
        if let Applied::Refused { refused } = applied {
            return Err(EventError::Refused(refused.clone()));
        }
    }
    Ok(outcome)
}

/// Applies the events parked under `order_id` from number `next` on, in
/// order, until one is missing.
pub(crate) async fn apply_parked(
    app: &App,
    order_id: &str,
    mut next: u64,
) -> Result<(), EventError> {
    while let Some(parked) = app.store.parked(order_id, next).await? {
        let event: LifecycleEvent = serde_json::from_str(&parked.event)
            .map_err(|e| EventError::Unavailable(e.to_string()))?;
        match retry_on_conflict("parked lifecycle event", || attempt(app, &event)).await? {
            Ok(LifecycleOutcome::Applied(Applied::Refused { refused })) => {
                tracing::error!(order_id, sequence = next, refused, "a parked event was refused")
            }
            Ok(LifecycleOutcome::Applied(_)) => {}
            Ok(LifecycleOutcome::Parked(_)) => return Ok(()),
            Err(e) => {
                tracing::error!(order_id, sequence = next, kind = e.kind(), "parked event failed")
            }
        }
        app.store.unpark(order_id, next).await?;
        next += 1;
    }
    Ok(())
}

type Attempt = Step<Result<LifecycleOutcome, EventError>>;

/// One optimistic attempt at an event.
async fn attempt(app: &App, event: &LifecycleEvent) -> Result<Attempt> {
    let Some(order) = app.store.order(&event.order_id).await? else {
        let guard = Write::OrderUnknown { order_id: event.order_id.clone() };
        return park(app, event, 0, guard).await;
    };
    let detail_type = event.change.detail_type();
    let (record, license) = tokio::join!(
        app.store.order_event(&event.order_id, detail_type, &event.event_id),
        app.store.license(&order.customer_id, &order.license_id),
    );
    let license =
        license?.ok_or_else(|| Error::Unavailable("an order without its licence".into()))?;
    if let Some(record) = record? {
        return answer_again(app, &license, &record, event).await;
    }
    let next = license.lifecycle_sequence + 1;
    if event.sequence < next {
        let stale =
            format!("number {} of order {} is applied already", event.sequence, order.order_id);
        return Ok(Step::Done(Err(EventError::Stale(stale))));
    }
    if event.sequence > next {
        let guard = Write::LicenseAt {
            customer_id: license.customer_id.clone(),
            license_id: license.license_id.clone(),
            version: license.version,
        };
        return park(app, event, next, guard).await;
    }
    if license.is_pending() {
        finish::finish(app, &license).await?;
        return Ok(Step::Again);
    }
    let applied = match decide(app, &license, event).await? {
        Ok(decided) => commit(app, &order, &license, event, decided).await?,
        Err(reason) => refuse(app, &license, event, reason).await?,
    };
    Ok(applied.map(|a| Ok(LifecycleOutcome::Applied(a))))
}

/// A redelivery of an applied event: its recorded result (once the change
/// is complete), unless the same id came with another number.
async fn answer_again(
    app: &App,
    license: &License,
    record: &OrderEvent,
    event: &LifecycleEvent,
) -> Result<Attempt> {
    if let Some(n) = record.sequence.filter(|n| *n != event.sequence) {
        let stale = format!("{} was applied as number {n}, not {}", event.event_id, event.sequence);
        return Ok(Step::Done(Err(EventError::Stale(stale))));
    }
    finish::finish(app, license).await?;
    let applied = serde_json::from_str(&record.result).map_err(Error::unavailable)?;
    Ok(Step::Done(Ok(LifecycleOutcome::Applied(applied))))
}

/// Parks `event` until `waiting_for` is applied, while `guard` holds (the
/// order still unknown, or the licence unchanged since it was read).
async fn park(
    app: &App,
    event: &LifecycleEvent,
    waiting_for: u64,
    guard: Write,
) -> Result<Attempt> {
    let parked = ParkedEvent {
        order_id: event.order_id.clone(),
        sequence: event.sequence,
        event_id: event.event_id.clone(),
        parked_at: app.now(),
        event: serde_json::to_string(event).map_err(Error::unavailable)?,
    };
    match app.store.transact(&[Write::Parked(parked), guard]).await {
        Ok(()) => {
            tracing::warn!(
                order_id = event.order_id,
                sequence = event.sequence,
                waiting_for,
                "event parked"
            );
            Ok(Step::Done(Ok(LifecycleOutcome::Parked(Parked { parked: true, waiting_for }))))
        }
        // The guard failed (the order or the licence moved on: read again),
        // or another event is parked under this number.
        Err(crate::store::TxError::Condition(failed)) if failed == [0] => {
            let stale = format!("another event is parked as number {}", event.sequence);
            Ok(Step::Done(Err(EventError::Stale(stale))))
        }
        Err(e) => committed(Err(e)).map(|_| Step::Again),
    }
}

/// What the event does to the licence as read (the pure rules of
/// [`crate::lifecycle`]); `Err(reason)` when its state does not allow it.
async fn decide(
    app: &App,
    license: &License,
    event: &LifecycleEvent,
) -> Result<Result<Decided, String>> {
    let all = || app.store.all_assignments(&license.customer_id, &license.license_id);
    let decided =
        match &event.change {
            Change::Renewed(r) => lifecycle::renew(license, r, &all().await?),
            Change::Cancelled(c) => lifecycle::cancel(license, c, &all().await?),
            Change::QuantityChanged(q) => {
                lifecycle::change_quantity(license, q, event.time.date_naive())
                    .map(|license| Decided { license, change: None, moves: Vec::new(), stayed: 0 })
            }
        };
    Ok(decided.map(|mut d| {
        d.license.lifecycle_sequence = event.sequence;
        d
    }))
}

fn record(event: &LifecycleEvent, applied: &Applied) -> Result<OrderEvent> {
    Ok(OrderEvent {
        order_id: event.order_id.clone(),
        detail_type: event.change.detail_type().to_string(),
        event_id: event.event_id.clone(),
        sequence: Some(event.sequence),
        result: serde_json::to_string(applied).map_err(Error::unavailable)?,
    })
}

/// Commits a decided change with its record and the licence's entry.
async fn commit(
    app: &App,
    order: &Order,
    license: &License,
    event: &LifecycleEvent,
    decided: Decided,
) -> Result<Step<Applied>> {
    let at = app.now();
    let applied = result(event, license, &decided, app.today());
    // The operation's id orders its entries; the licence's entry is the first.
    let op = ulid::Ulid::new().to_string();
    let day = at.date_naive();
    let entry = Entry { id: op.clone(), ..Entry::new(license, at, SYSTEM, event.change.action()) }
        .before(State::License(LicenseState::of(license, day)))
        .after(State::License(LicenseState::of(&decided.license, day)));
    debug_assert_eq!(order.license_id, license.license_id);
    let record = record(event, &applied)?;
    let commit = Commit { before: license, decided, op, at, entry, record };
    Ok(fanout::commit(app, commit).await?.map(|()| applied))
}

/// Records a refusal: the number is used up (so the events after it are
/// not held back), and the licence is otherwise unchanged.
async fn refuse(
    app: &App,
    license: &License,
    event: &LifecycleEvent,
    reason: String,
) -> Result<Step<Applied>> {
    let applied = Applied::Refused { refused: reason };
    let mut after = license.clone();
    after.version += 1;
    after.lifecycle_sequence = event.sequence;
    let writes = [
        Write::License { license: after, expected_version: Some(license.version) },
        Write::OrderEvent(record(event, &applied)?),
    ];
    Ok(committed(app.store.transact(&writes).await)?.map(|()| applied))
}

/// The invocation's answer.
fn result(event: &LifecycleEvent, before: &License, d: &Decided, today: NaiveDate) -> Applied {
    let l = &d.license;
    let license_id = l.license_id.clone();
    match &event.change {
        Change::Renewed(_) => Applied::Renewed {
            license_id,
            renewal_id: event.event_id.clone(),
            term: l.term,
            current_term: l.current_term(today),
            next_term: l.next_term(today),
            followed: d.moves.len(),
            not_followed: d.stayed,
        },
        Change::QuantityChanged(_) => Applied::QuantityChanged {
            license_id,
            change_id: event.event_id.clone(),
            quantity: l.quantity_on(today),
            over_assigned_seats: l.counts(today).over_assigned_seats,
        },
        Change::Cancelled(c) => {
            let revoked = d.moves.iter().filter(|(_, m)| *m == lifecycle::Move::Revoke).count();
            Applied::Cancelled {
                license_id,
                cancellation_id: event.event_id.clone(),
                last_day: c.last_day.min(before.term.end),
                clipped: d.moves.len() - revoked,
                revoked,
            }
        }
    }
}
