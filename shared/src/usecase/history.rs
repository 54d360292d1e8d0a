//! A licence's history, newest first, as readers may see it: the entries of
//! an operation still being written (a bulk batch, a fan-out) are hidden
//! until it is complete, like the changes they record. The licence is read
//! before the entries, so an operation that completes while they are read
//! shows all of its entries or none.

use super::known_license_id;
use super::query::MAX_PAGE;
use crate::App;
use crate::error::{Error, Result};
use crate::model::{Admin, Entry};
use crate::store::HistoryQuery;

/// Which entries, how many, from where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryRequest {
    /// Only the entries about this (normalised) address.
    pub email: Option<String>,
    pub limit: usize,
    /// The id of the entry after which (older than which) the page starts.
    pub before: Option<String>,
}

/// One page, newest first, and whether there are older entries.
pub struct HistoryPage {
    pub entries: Vec<Entry>,
    pub more: bool,
}

pub async fn history(
    app: &App,
    admin: &Admin,
    license_id: &str,
    request: HistoryRequest,
) -> Result<HistoryPage> {
    known_license_id(license_id)?;
    let limit = request.limit.min(MAX_PAGE);
    let mut query = HistoryQuery {
        customer_id: &admin.customer_id,
        license_id,
        email: request.email.as_deref(),
        before: request.before.clone(),
        // One more than asked for, to know whether there is a next page.
        limit: (limit + 1) as i32,
    };
    // The licence first: an operation it does not show as complete was not
    // (see `License::hides`), whatever the entries read after it show.
    let license = app.store.license(&admin.customer_id, license_id).await?;
    let license = license.ok_or(Error::LicenseNotFound)?;
    let (mut page, mut more) = app.store.history_page(&query).await?;
    let mut found = Vec::with_capacity(limit + 1);
    loop {
        let last = page.last().map(|e| e.id.clone());
        let visible = page.into_iter().filter(|e| {
            e.op.as_ref().is_none_or(|op| !license.hides(op, e.op_version.unwrap_or(0)))
        });
        found.extend(visible.take(limit + 1 - found.len()));
        if found.len() > limit || !more {
            break;
        }
        query.before = last;
        (page, more) = app.store.history_page(&query).await?;
    }
    let more = found.len() > limit;
    found.truncate(limit);
    Ok(HistoryPage { entries: found, more })
}
