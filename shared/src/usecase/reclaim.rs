//! A licence's reclaim policy (API.md v3): set by its admins, recorded in
//! the licence's history. Every seat carries a copy of the rule and is keyed
//! by it in the idle index, so a change commits with a rekeying operation
//! (the pending-operation protocol) that rewrites each seat; the daily run
//! (`usecase::idle`) reads the index.

use chrono::{DateTime, NaiveDate, Utc};

use super::pending::Feed;
use super::retry::{Step, committed, retry_on_conflict};
use super::{finish, known_license_id, query};
use crate::App;
use crate::error::{Error, Result};
use crate::model::{
    Action, Admin, Assignment, Entry, IdleStep, License, Operation, ReclaimAsk, Rekey, State,
};
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
    let changed = retry_on_conflict("reclaim policy", || async {
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
        let op = ulid::Ulid::new().to_string();
        let rekey = Operation::Rekey(Rekey { id: op.clone(), at: now });
        let changed = License {
            reclaim: policy,
            version: license.version + 1,
            operation: Some(rekey),
            ..license.clone()
        };
        let entry = Entry { op: Some(op), op_version: Some(changed.version), ..entry };
        let writes = [
            Write::License { license: changed.clone(), expected_version: Some(license.version) },
            Write::Entry(entry),
        ];
        Ok(committed(app.store.transact(&writes).await)?.map(|()| changed))
    })
    .await?;
    // The seats are rewritten now, as far as the request's budget goes; the
    // minute's finisher (or the next writer) completes what is left.
    if changed.operation.is_none() {
        return Ok(changed);
    }
    match tokio::time::timeout(finish::FINISHING_BUDGET, finish::finish(app, &changed)).await {
        Ok(done) => {
            done?;
            Ok(License { operation: None, version: changed.version + 1, ..changed })
        }
        Err(_) => {
            tracing::warn!(license_id, "reclaim rekeying goes on in the background");
            Ok(changed)
        }
    }
}

/// What a policy change has left to rewrite: the non-revoked seats whose
/// copy of the rule is not the licence's (read strongly).
pub(crate) struct Seats<'a> {
    pub license: &'a License,
}

impl Feed for Seats<'_> {
    type Item = Assignment;

    async fn left(&mut self, app: &App) -> Result<Vec<Assignment>> {
        let (customer, id) = (&self.license.customer_id, &self.license.license_id);
        let rule = self.license.reclaim.rule();
        let all = app.store.all_assignments(customer, id).await?;
        Ok(all.into_iter().filter(|a| !a.is_revoked() && a.reclaim_rule != rule).collect())
    }

    async fn writes(&mut self, app: &App, chunk: &[Assignment]) -> Result<Vec<Write>> {
        Ok(chunk.iter().map(|a| keyed(self.license, a, None, app.today())).collect())
    }
}

/// The write that keys `a` by its licence's rule (warned `warned_at`, if
/// it is warned now): its rule copy and its day in the idle index; out of
/// the index once its period ended before `today` (a period moved later
/// keys it again).
pub(crate) fn keyed(
    license: &License,
    a: &Assignment,
    warned_at: Option<DateTime<Utc>>,
    today: NaiveDate,
) -> Write {
    let rule = license.reclaim.rule();
    let mut after = a.clone();
    after.reclaim_rule = rule;
    after.reclaim_warned_at = warned_at.or(a.reclaim_warned_at);
    Write::Idle {
        customer_id: a.customer_id.clone(),
        license_id: a.license_id.clone(),
        email: a.email.clone(),
        last_active_on: a.last_active_on,
        warned_before: a.reclaim_warned_at,
        rule,
        warned_at,
        due: rule.and_then(|r| r.due_on(&after)).filter(|_| a.valid_until >= today),
    }
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
