//! A licence's reclaim policy (API.md v3): set by its admins, recorded in
//! the licence's history. (The daily run that warns and reclaims idle seats
//! reads it.)

use chrono::{DateTime, NaiveDate, Utc};

use super::retry::{Step, committed, retry_on_conflict};
use super::{finish, known_license_id, query};
use crate::App;
use crate::error::{Error, Result};
use crate::model::{Action, Admin, Entry, IdleStep, License, ReclaimAsk, State};
use crate::store::Write;

/// The licence with the policy `ask` makes of its own; unchanged (and
/// nothing written) when it is that already.
pub async fn set_policy(
    app: &App,
    admin: &Admin,
    license_id: &str,
    ask: ReclaimAsk,
) -> Result<License> {
    known_license_id(license_id)?;
    retry_on_conflict("reclaim policy", || async {
        let license = app
            .store
            .license(&admin.customer_id, license_id)
            .await?
            .ok_or(Error::LicenseNotFound)?;
        if license.is_pending() {
            finish::finish_for_request(app, &license).await?;
            return Ok(Step::Again);
        }
        let now = app.now();
        let policy = license.reclaim.asked(ask, now.date_naive());
        if policy == license.reclaim {
            return Ok(Step::Done(license));
        }
        let entry = Entry::new(&license, now, &admin.name, Action::LicenseReclaimChanged)
            .before(State::Reclaim(license.reclaim.clone()))
            .after(State::Reclaim(policy.clone()));
        let changed = License { reclaim: policy, version: license.version + 1, ..license.clone() };
        let writes = [
            Write::License { license: changed.clone(), expected_version: Some(license.version) },
            Write::Entry(entry),
        ];
        Ok(committed(app.store.transact(&writes).await)?.map(|()| changed))
    })
    .await
}

/// Who a run today would warn, and whose seat it would free.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preview {
    pub warn: Vec<(String, Option<NaiveDate>)>,
    pub revoke: Vec<(String, Option<NaiveDate>, DateTime<Utc>)>,
}

/// What the daily run would do on this licence today, by the same rule
/// (`ReclaimPolicy::step`); nothing is written. The licence, then its
/// assignments as readers see them, page by page.
pub async fn preview(app: &App, admin: &Admin, license_id: &str) -> Result<Preview> {
    known_license_id(license_id)?;
    let license = app.store.license(&admin.customer_id, license_id).await?;
    let license = license.ok_or(Error::LicenseNotFound)?;
    let today = app.today();
    let mut preview = Preview::default();
    query::each_visible(app, &license, |a| match license.reclaim.step(&a, today) {
        Some(IdleStep::Warn) => preview.warn.push((a.email, a.last_active_on)),
        Some(IdleStep::Revoke { warned_at }) => {
            preview.revoke.push((a.email, a.last_active_on, warned_at))
        }
        None => {}
    })
    .await?;
    Ok(preview)
}
