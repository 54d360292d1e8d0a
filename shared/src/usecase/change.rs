//! Change: a new access period for an assignment, within the seats.

use chrono::NaiveDate;

use super::retry::{Step, committed};
use super::{AssignmentRef, on_assignment};
use crate::App;
use crate::error::{Error, Result};
use crate::model::{Action, Assignment, Entry, LicenseStatus, Period};
use crate::plan;
use crate::store::Write;

/// The requested new bounds and (v3) reclaim exemption; at least one is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChangeInput {
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub reclaim_exempt: Option<bool>,
}

/// The assignment with its new period and exemption (unchanged if it was
/// already that). A new period is checked against the term and the seats
/// (an expired licence refuses it); the exemption takes no seat.
pub async fn change(
    app: &App,
    target: AssignmentRef<'_>,
    input: ChangeInput,
) -> Result<Assignment> {
    on_assignment("change", app, target, |license, a| async move {
        a.ensure_not_revoked()?;
        let today = app.today();
        let old = a.period();
        let period = match (input.valid_from, input.valid_until) {
            (None, None) => old,
            (from, until) => {
                if license.status(today) == LicenseStatus::Expired {
                    return Err(Error::LicenseNotActive);
                }
                let asked = Period::new(from.unwrap_or(old.from), until.unwrap_or(old.until));
                license.term.check(asked, today)?
            }
        };
        let exempt = input.reclaim_exempt.unwrap_or(a.reclaim_exempt);
        if period == old && exempt == a.reclaim_exempt {
            return Ok(Step::Done(a));
        }
        let mut changed = a.clone();
        changed.valid_from = period.from;
        changed.valid_until = period.until;
        changed.reclaim_exempt = exempt;
        let by = &target.admin.name;
        let entry = Entry::assignment(
            &license,
            app.now(),
            by,
            Action::AssignmentChanged,
            Some(&a),
            &changed,
        );
        let mut writes = Vec::with_capacity(3);
        let mut exhausted = None;
        if period != old {
            let after = plan::change(&license, &a, period)?;
            exhausted = Entry::seats_exhausted(Some(&license), &after, entry.at, by)
                .map(|e| Write::Entry(e.following(&entry)));
            writes.push(Write::License { license: after, expected_version: Some(license.version) });
        } else {
            // The idle index's day follows the licence's reclaim rule as read.
            writes.push(Write::LicenseAt {
                customer_id: license.customer_id.clone(),
                license_id: license.license_id.clone(),
                version: license.version,
            });
        }
        writes.extend([
            Write::Period {
                customer_id: license.customer_id.clone(),
                license_id: license.license_id.clone(),
                email: a.email.clone(),
                period: (period != old).then_some(period),
                reclaim_exempt: (exempt != a.reclaim_exempt).then_some(exempt),
                idle_due: changed.reclaim_rule.and_then(|rule| rule.due_on(&changed)),
            },
            Write::Entry(entry),
        ]);
        writes.extend(exhausted);
        let done = committed(app.store.transact(&writes).await)?;
        if let (Step::Done(()), true) = (&done, period != old) {
            // A shorter period frees a seat for those who wait.
            Box::pin(super::rule::seats_freed(app, &license)).await;
        }
        Ok(done.map(|()| changed))
    })
    .await
}
