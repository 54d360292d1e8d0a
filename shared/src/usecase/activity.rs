//! Activity (API.md v3): a product asks, when a person signs in, whether
//! they hold a seat of it today, and the answer records that they used it.
//!
//! The person's seats of the product come from the e-mail index (a revoked
//! seat stops entitling once the index has it, within a couple of seconds,
//! as for `/me/licenses`); the licences are read only for seats a bulk
//! request or a renewal's fan-out wrote, whose visibility depends on their
//! licence. The activity is one conditional update of the seat answered
//! with, at most once a day; the first one accepts the invitation.

use std::collections::{BTreeSet, HashMap};

use crate::App;
use crate::error::Result;
use crate::model::{Assignment, Entitlement, License, entitlement};

/// Who asks, as their verified token says.
pub struct Person<'a> {
    pub email: &'a str,
    /// The customer the token names (`custom:customer_id`), if any: only its
    /// seats count.
    pub customer_id: Option<&'a str>,
}

/// The person's entitlement to `product` today, recording their activity on
/// the seat it answers with.
pub async fn check(app: &App, person: Person<'_>, product: &str) -> Result<Entitlement> {
    let today = app.today();
    let seats = app.store.assignments_of_user_for(person.email, product).await?;
    let seats = visible(app, seats).await?;
    let (answer, seat) = entitlement(product, person.customer_id, &seats, today);
    if let Some(seat) = seat.filter(|s| s.last_active_on != Some(today)) {
        record(app, seat, today).await?;
    }
    Ok(answer)
}

/// Records today's use of `seat` (as the index read it). When the write
/// finds the seat changed since (its reclaim rule rewritten, or exempted),
/// it reads the seat again, strongly, and records on what it finds.
async fn record(app: &App, seat: &Assignment, today: chrono::NaiveDate) -> Result<()> {
    if app.store.record_activity(seat, today, app.now()).await? {
        return Ok(());
    }
    let id = [(seat.customer_id.clone(), seat.license_id.clone(), seat.email.clone())];
    let again = app.store.assignments_by_id(&id).await?;
    if let Some(now) = again.first().filter(|a| !a.is_revoked() && a.last_active_on < Some(today)) {
        app.store.record_activity(now, today, app.now()).await?;
    }
    Ok(())
}

/// The seats as readers may see them: those a pending operation wrote
/// (a bulk batch, a renewal's fan-out) as their licence says; the others
/// as they are, without reading their licence.
async fn visible(app: &App, seats: Vec<Assignment>) -> Result<Vec<Assignment>> {
    let today = app.today();
    // A revoked or ended batch item stays so; a fan-out's undo may bring one back.
    let depends = |a: &Assignment| (a.batch.is_some() && a.is_current(today)) || a.undo.is_some();
    let ids: BTreeSet<(String, String)> = seats
        .iter()
        .filter(|a| depends(a))
        .map(|a| (a.customer_id.clone(), a.license_id.clone()))
        .collect();
    if ids.is_empty() {
        return Ok(seats);
    }
    let ids: Vec<_> = ids.into_iter().collect();
    let licenses: HashMap<String, License> = app
        .store
        .licenses_by_id(&ids, false)
        .await?
        .into_iter()
        .map(|l| (l.license_id.clone(), l))
        .collect();
    Ok(seats
        .into_iter()
        .filter_map(|a| match licenses.get(&a.license_id) {
            Some(license) if depends(&a) => a.into_visible(license),
            None if depends(&a) => None,
            _ => Some(a),
        })
        .collect())
}
