//! What a person's directory record does to their seats at one customer
//! (API.md v3, "Effects on seats"): a deactivation revokes every current or
//! future seat of their seat address, a rename moves each to the new
//! address. Both read the customer's licences and then the address's item
//! on each, strongly consistently (so a seat assigned a moment before is
//! seen; the e-mail index could lag), and then commit each licence's change
//! on its own, all or nothing, several licences at a time. Each change is
//! conditioned on the licence as read; one that meets a concurrent writer
//! reads that licence again. A request cut in between leaves some licences
//! done and the rest as they were, and a retry does the rest: a revoked
//! seat is answered as it is.

use std::collections::HashMap;

use futures_util::stream::{self, StreamExt, TryStreamExt};

use super::AssignmentRef;
use super::finish;
use super::retry::{Step, retry_on_conflict};
use super::revoke::{RENAMED, rename, revoke_because};
use super::tokens::Machine;
use crate::App;
use crate::error::Result;
use crate::model::{Admin, Assignment, License};

/// Why a deprovisioning revokes (the history entry's `reason`).
pub const DEPROVISIONED: &str = "deprovisioned";

/// How many licences one request changes at a time: enough to make 300
/// licences quick, few enough to leave the table's capacity to others.
const CONCURRENT_LICENCES: usize = 8;

/// One licence's seat of the address: the licence and the assignment, and
/// the other address's assignment there (for a rename).
type Held = (License, Assignment, Option<Assignment>);

/// The current seats of `address` at the customer (the licences first,
/// then the address's items, with those of `other` beside them). A licence
/// with a bulk batch pending is finished first and everything read again,
/// so that the batch's seats are seen.
async fn seats_of(
    app: &App,
    customer: &str,
    address: &str,
    other: Option<&str>,
) -> Result<Vec<Held>> {
    retry_on_conflict("read a person's seats", || async {
        let licenses = app.store.licenses_to_write(customer).await?;
        let pending: Vec<&License> = licenses.iter().filter(|l| l.is_pending()).collect();
        if !pending.is_empty() {
            for license in pending {
                finish::finish_for_request(app, license).await?;
            }
            return Ok(Step::Again);
        }
        let ids: Vec<String> = licenses.iter().map(|l| l.license_id.clone()).collect();
        let addresses: Vec<&str> = [Some(address), other].into_iter().flatten().collect();
        let mut found: HashMap<(String, String), Assignment> = HashMap::new();
        for a in app.store.assignments_of_each(customer, &ids, &addresses).await? {
            found.insert((a.license_id.clone(), a.email.clone()), a);
        }
        let today = app.today();
        let held = licenses.into_iter().filter_map(|license| {
            let id = license.license_id.clone();
            let a = found.remove(&(id.clone(), address.to_string()))?;
            let theirs = other.and_then(|o| found.remove(&(id, o.to_string())));
            a.is_current(today).then_some((license, a, theirs))
        });
        Ok(Step::Done(held.collect()))
    })
    .await
}

/// Revokes every current or future seat of `address` at the machine's
/// customer, by `scim:<tokenId>`, for `deprovisioned`. Answers how many.
pub async fn deprovision(app: &App, m: &Machine, address: &str) -> Result<usize> {
    revoke_all(app, m, address, DEPROVISIONED).await
}

async fn revoke_all(app: &App, m: &Machine, address: &str, reason: &str) -> Result<usize> {
    let actor = Admin { customer_id: m.customer_id.clone(), name: m.actor() };
    let held = seats_of(app, &m.customer_id, address, None).await?;
    let revoked = on_each(held, |(license, a, _)| {
        let actor = &actor;
        async move {
            let license_id = license.license_id.clone();
            let target = AssignmentRef::new(actor, &license_id, &a.email);
            revoke_because(app, target, Some(reason), Some((license, a.clone()))).await.map(drop)
        }
    })
    .await?;
    if revoked > 0 {
        tracing::info!(customer_id = %m.customer_id, revoked, reason, "a person's seats revoked");
    }
    Ok(revoked)
}

/// Moves every current or future seat of `from` at the machine's customer
/// to `to` for the rest of its period, by `scim:<tokenId>`, for `renamed`;
/// with no address to move to, the seats are revoked. Answers how many.
pub async fn move_seats(app: &App, m: &Machine, from: &str, to: Option<&str>) -> Result<usize> {
    let Some(to) = to else {
        return revoke_all(app, m, from, RENAMED).await;
    };
    let actor = Admin { customer_id: m.customer_id.clone(), name: m.actor() };
    let held = seats_of(app, &m.customer_id, from, Some(to)).await?;
    let moved = on_each(held, |(license, a, theirs)| {
        let actor = &actor;
        async move {
            let license_id = license.license_id.clone();
            let target = AssignmentRef::new(actor, &license_id, &a.email);
            rename(app, target, to, Some((license, a.clone(), theirs))).await.map(drop)
        }
    })
    .await?;
    if moved > 0 {
        tracing::info!(customer_id = %m.customer_id, moved, "a renamed person's seats moved");
    }
    Ok(moved)
}

/// Runs `change` on every seat, [`CONCURRENT_LICENCES`] at a time, up to
/// the first error. Answers how many there were.
async fn on_each<F, Fut>(held: Vec<Held>, change: F) -> Result<usize>
where
    F: Fn(Held) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let n = held.len();
    let changes = stream::iter(held).map(change).buffer_unordered(CONCURRENT_LICENCES);
    changes.try_collect::<Vec<()>>().await?;
    Ok(n)
}
