//! Change: a new access period for an assignment, within the seats.

use chrono::NaiveDate;

use super::retry::{Step, committed};
use super::{AssignmentRef, on_assignment};
use crate::App;
use crate::error::{Error, Result};
use crate::model::{Action, Assignment, Entry, LicenseStatus, Period};
use crate::plan;
use crate::store::Write;

/// The requested new bounds; at least one is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChangeInput {
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
}

/// The assignment with its new period (unchanged if it was already that).
pub async fn change(
    app: &App,
    target: AssignmentRef<'_>,
    input: ChangeInput,
) -> Result<Assignment> {
    on_assignment("change", app, target, |license, a| async move {
        a.ensure_not_revoked()?;
        let today = app.today();
        if license.status(today) == LicenseStatus::Expired {
            return Err(Error::LicenseNotActive);
        }
        let old = a.period();
        let period = Period::new(
            input.valid_from.unwrap_or(old.from),
            input.valid_until.unwrap_or(old.until),
        );
        let period = license.term.check(period, today)?;
        if period == old {
            return Ok(Step::Done(a));
        }
        let mut changed = a.clone();
        changed.valid_from = period.from;
        changed.valid_until = period.until;
        let by = &target.admin.name;
        let entry = Entry::assignment(
            &license,
            app.now(),
            by,
            Action::AssignmentChanged,
            Some(&a),
            &changed,
        );
        let writes = [
            Write::License {
                license: plan::change(&license, &a, period)?,
                expected_version: Some(license.version),
            },
            Write::Period {
                customer_id: license.customer_id.clone(),
                license_id: license.license_id.clone(),
                email: a.email.clone(),
                period,
            },
            Write::Entry(entry),
        ];
        Ok(committed(app.store.transact(&writes).await)?.map(|()| changed))
    })
    .await
}
