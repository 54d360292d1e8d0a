//! Finishing what another writer left: every writer that meets a pending
//! operation drives it to its end first ([`finish`]), an HTTP request for a
//! bounded time, and the minute's run those left long enough. Each kind is
//! driven by the one driver of [`super::pending`].

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{bulk, fanout, pending, reclaim, rule};
use crate::App;
use crate::error::{Error, Result};
use crate::model::{License, Operation};

/// Finishes whatever operation is pending on `license`: every writer does
/// that before it decides anything.
pub(crate) async fn finish(app: &App, license: &License) -> Result<()> {
    match &license.operation {
        Some(Operation::Batch(_)) => pending::drive(app, license, bulk::Batch::read(license)).await,
        Some(Operation::Fanout(f)) => {
            pending::drive(app, license, fanout::Moves::read(license, f)).await
        }
        Some(Operation::Rekey(_)) => pending::drive(app, license, reclaim::Seats { license }).await,
        Some(Operation::Rule(run)) => {
            pending::drive(app, license, rule::Run::read(license, run)).await
        }
        None => Ok(()),
    }
}

/// How long an HTTP request may spend finishing another operation's work
/// (API.md v3, "Bounded requests").
pub const FINISHING_BUDGET: Duration = Duration::from_secs(2);
/// What a request that ran out of it tells its client to wait, in seconds.
pub const OPERATION_PENDING_RETRY_AFTER: u32 = 2;

/// [`finish`] for an HTTP request. A fan-out (a renewal's or cancellation's
/// moves, without bound in size) gets at most [`FINISHING_BUDGET`], then 503
/// `operation-pending`: what it finished stays done (every chunk is its own
/// conditional transaction, so one cut short by the deadline is either
/// written or not), and the next finisher queries only what is left to
/// move, so every attempt makes progress. A bulk batch a crashed request
/// left (1000 addresses at most, some twenty transactions) is finished
/// whole: its completion writes every chunk again, so cutting it would let
/// no attempt get further than the last.
pub(crate) async fn finish_for_request(app: &App, license: &License) -> Result<()> {
    if let Some(Operation::Batch(_)) = license.operation {
        return finish(app, license).await;
    }
    match tokio::time::timeout(FINISHING_BUDGET, finish(app, license)).await {
        Ok(finished) => finished,
        Err(_) => {
            tracing::warn!(license_id = %license.license_id, "operation still pending after the finishing budget");
            Err(Error::OperationPending { retry_after: OPERATION_PENDING_RETRY_AFTER })
        }
    }
}

/// How old a pending operation must be before the minute's finisher takes
/// it on: its own request or invocation is done with it by then, or dead.
pub const STALLED_AFTER_SECONDS: i64 = 30;

/// The minute's finisher: every operation still pending that started over
/// [`STALLED_AFTER_SECONDS`] before `now` (its writer died, and no request
/// came by), finished. Answers how many it finished.
pub async fn finish_stalled(app: &App, now: DateTime<Utc>) -> Result<u32> {
    let before = now - chrono::Duration::seconds(STALLED_AFTER_SECONDS);
    let mut finished = 0;
    for (customer_id, license_id) in app.store.stalled_operations(before).await? {
        // Read again, strongly: the index may be behind.
        let Some(license) = app.store.license(&customer_id, &license_id).await? else {
            continue;
        };
        if license.operation.is_some() {
            finish(app, &license).await?;
            tracing::info!(%license_id, "finished an operation its writer left");
            finished += 1;
        }
    }
    Ok(finished)
}
