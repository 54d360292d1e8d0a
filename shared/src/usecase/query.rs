//! What readers see: a customer's licences, one licence, a page of a
//! licence's assignments, a user's own seats. An operation still being
//! written is hidden: a bulk batch's items show what they replaced, a
//! fan-out's licence and items show what they were.

use std::collections::{BTreeSet, HashMap};

use super::known_license_id;
use crate::App;
use crate::error::{Error, Result};
use crate::model::{Admin, Assignment, AssignmentStatus, License, LicenseStatus};

/// A customer's licences of these statuses, by product name, then term start.
pub async fn licenses(app: &App, admin: &Admin, wanted: &[LicenseStatus]) -> Result<Vec<License>> {
    let today = app.today();
    let mut licenses: Vec<License> = app
        .store
        .licenses(&admin.customer_id)
        .await?
        .into_iter()
        .map(|l| l.visible())
        .filter(|l| wanted.contains(&l.status(today)))
        .collect();
    licenses.sort_by(|a, b| {
        (&a.product_name, &a.term.start, &a.license_id).cmp(&(
            &b.product_name,
            &b.term.start,
            &b.license_id,
        ))
    });
    Ok(licenses)
}

pub async fn license(app: &App, admin: &Admin, license_id: &str) -> Result<License> {
    known_license_id(license_id)?;
    let license = app.store.license(&admin.customer_id, license_id).await?;
    Ok(license.ok_or(Error::LicenseNotFound)?.visible())
}

/// Which assignments, how many, from where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub status: Option<AssignmentStatus>,
    pub limit: usize,
    /// The e-mail after which the page starts.
    pub after: Option<String>,
}

pub const MAX_PAGE: usize = 100;

/// One page in e-mail order, and whether there is more after it.
pub struct Page {
    pub assignments: Vec<Assignment>,
    pub more: bool,
}

pub async fn assignments(
    app: &App,
    admin: &Admin,
    license_id: &str,
    request: PageRequest,
) -> Result<Page> {
    known_license_id(license_id)?;
    let today = app.today();
    let customer = &admin.customer_id;
    let limit = request.limit;
    // Read one more than asked for, to know whether there is a next page;
    // with a filter, whole pages (most items may not match).
    let page_size = if request.status.is_some() { MAX_PAGE + 1 } else { limit + 1 } as i32;
    let mut after = request.after;
    // The licence before the items (not in parallel): an operation of
    // several transactions that this licence does not show as complete
    // stays hidden on every item read after it (`Assignment::into_visible`),
    // so a page never shows half of one.
    let license = app.store.license(customer, license_id).await?;
    let license = license.ok_or(Error::LicenseNotFound)?;
    let mut page =
        app.store.assignments_page(customer, license_id, after.as_deref(), Some(page_size)).await?;
    let mut found = Vec::with_capacity(limit + 1);
    loop {
        let (items, more) = page;
        let last = items.last().map(|a| a.email.clone());
        let visible = items.into_iter().filter_map(|item| item.into_visible(&license));
        found.extend(
            visible
                .filter(|a| request.status.is_none_or(|s| a.status(today) == s))
                .take(limit + 1 - found.len()),
        );
        if found.len() > limit || !more {
            break;
        }
        after = last;
        page = app
            .store
            .assignments_page(customer, license_id, after.as_deref(), Some(page_size))
            .await?;
    }
    let more = found.len() > limit;
    found.truncate(limit);
    Ok(Page { assignments: found, more })
}

/// Every assignment of a licence (every status), in e-mail order, each
/// handed to `each` as its Query page (1 MB) arrives, so that a large
/// licence is never held in memory twice. The licence is read first (see
/// [`assignments`]); its assignments then as they may be seen.
pub async fn each_assignment(
    app: &App,
    admin: &Admin,
    license_id: &str,
    each: impl FnMut(Assignment),
) -> Result<()> {
    known_license_id(license_id)?;
    let customer = &admin.customer_id;
    // The export budget is counted in parallel with the licence's read.
    let budget = super::budget::Budget::export(app, customer);
    let (charged, license) =
        tokio::join!(budget.charge(app), app.store.license(customer, license_id));
    charged?;
    let license = license?.ok_or(Error::LicenseNotFound)?;
    each_visible(app, &license, each).await
}

/// Every assignment of `license` (read before them) as readers may see it,
/// page after page, in e-mail order.
pub(crate) async fn each_visible(
    app: &App,
    license: &License,
    mut each: impl FnMut(Assignment),
) -> Result<()> {
    let (customer, license_id) = (&license.customer_id, &license.license_id);
    let mut after: Option<String> = None;
    loop {
        let (items, more) =
            app.store.assignments_page(customer, license_id, after.as_deref(), None).await?;
        after = items.last().map(|a| a.email.clone());
        items.into_iter().filter_map(|item| item.into_visible(license)).for_each(&mut each);
        if !more {
            return Ok(());
        }
    }
}

/// A user's current seats across customers, each with its licence, by
/// product name.
pub async fn my_seats(app: &App, email: &str) -> Result<Vec<(Assignment, License)>> {
    let today = app.today();
    let mine: Vec<Assignment> = app
        .store
        .assignments_of_user(email)
        .await?
        .into_iter()
        // A fan-out may have moved one that readers must still see as it was.
        .filter(|a| a.is_current(today) || a.undo.is_some())
        .collect();
    let ids: BTreeSet<(String, String)> =
        mine.iter().map(|a| (a.customer_id.clone(), a.license_id.clone())).collect();
    let ids: Vec<_> = ids.into_iter().collect();
    let licenses: HashMap<String, License> = app
        .store
        .licenses_by_id(&ids, false)
        .await?
        .into_iter()
        .map(|l| (l.license_id.clone(), l))
        .collect();
    let mut seats: Vec<(Assignment, License)> = mine
        .into_iter()
        .filter_map(|a| {
            let license = licenses.get(&a.license_id)?;
            let a = a.into_visible(license)?;
            a.is_current(today).then(|| (a, license.visible()))
        })
        .collect();
    seats.sort_by(|(a, x), (b, y)| {
        (&x.product_name, &a.license_id).cmp(&(&y.product_name, &b.license_id))
    });
    Ok(seats)
}
