//! Assign: addresses to a licence, all or nothing, within the customer's
//! assign budget.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::budget::Budget;
use super::retry::{Step, committed, retry_on_conflict};
use super::{bulk, known_license_id, pending};
use crate::App;
use crate::error::{Error, Result};
use crate::model::{
    Action, Admin, Assignment, Entry, Language, License, LicenseStatus, Operation, Period,
};
use crate::plan::{self, Outcome, Plan, Wanted};
use crate::store::{MAX_TRANSACTION_ITEMS, TxError, Write};

/// A decoded assign request: normalised, distinct, valid addresses, each
/// with the period asked for (the licence's default where not given).
#[derive(Clone, Debug, PartialEq)]
pub struct AssignInput {
    pub rows: Vec<Row>,
    pub dry_run: bool,
}

/// One address of a request. A JSON request gives every address the same
/// period and language; a CSV import gives each row its own.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub email: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub language: Language,
    /// The CSV row it came from, named in its errors.
    pub row: Option<usize>,
}

impl AssignInput {
    /// The same period and language for every address.
    pub fn uniform(
        emails: Vec<String>,
        valid_from: Option<NaiveDate>,
        valid_until: Option<NaiveDate>,
        language: Language,
        dry_run: bool,
    ) -> Self {
        let rows = emails
            .into_iter()
            .map(|email| Row { email, valid_from, valid_until, language, row: None })
            .collect();
        Self { rows, dry_run }
    }

    pub fn emails(&self) -> Vec<String> {
        self.rows.iter().map(|r| r.email.clone()).collect()
    }
}

/// What an assign did (or, for a dry run, would do).
#[derive(Clone, Debug, PartialEq)]
pub struct Assigned {
    /// Each address with its outcome and assignment, in request order.
    pub results: Vec<(Outcome, Assignment)>,
    /// The licence after the request.
    pub license: License,
    /// At least one address was newly assigned (and written).
    pub created: bool,
    pub today: NaiveDate,
}

impl Assigned {
    fn of(plan: Plan, today: NaiveDate, created: bool) -> Self {
        let mut license = plan.license;
        license.operation = None;
        Self { results: plan.results, license, created, today }
    }
}

/// Items of a commit besides the assignments and their history entries:
/// the licence and the budget.
const COMMIT_OVERHEAD: usize = 2;

pub async fn assign(
    app: &App,
    admin: &Admin,
    license_id: &str,
    input: &AssignInput,
) -> Result<Assigned> {
    known_license_id(license_id)?;
    let budget = Budget::of(app, &admin.customer_id, input.rows.len());
    let emails = input.emails();
    let read = || app.store.license_and_assignments(&admin.customer_id, license_id, &emails);
    // A dry run commits nothing: it is counted on its own, alongside the read.
    let mut first_read = if input.dry_run {
        let (read, charged) = tokio::join!(read(), budget.charge(app));
        charged?;
        Some(read)
    } else {
        None
    };
    retry_on_conflict("assign", || {
        let first = first_read.take();
        let budget = &budget;
        async move {
            let (license, existing) = match first {
                Some(read) => read?,
                None => read().await?,
            };
            let license = license.ok_or(Error::LicenseNotFound)?;
            if license.is_pending() {
                super::finish::finish_for_request(app, &license).await?;
                return Ok(Step::Again);
            }
            let (plan, today) = decide(app, admin, &license, &existing, input)?;
            settle(app, &license, &existing, plan, today, input.dry_run, budget).await
        }
    })
    .await
}

/// What the request does to the licence as read: the period rules, then
/// the planner.
fn decide(
    app: &App,
    admin: &Admin,
    license: &License,
    existing: &HashMap<String, Assignment>,
    input: &AssignInput,
) -> Result<(Plan, NaiveDate)> {
    let now = app.now();
    let today = now.date_naive();
    if license.status(today) == LicenseStatus::Expired {
        return Err(Error::LicenseNotActive);
    }
    let wanted = periods(license, &input.rows, today)?;
    Ok((plan::plan_each(license, existing, &wanted, now, &admin.name)?, today))
}

/// Each row's period (the licence's default where not given), checked
/// against the term: every refused row is named, or, for a request without
/// rows, its one period's errors.
fn periods(license: &License, rows: &[Row], today: NaiveDate) -> Result<Vec<Wanted>> {
    let default = license.default_period(today);
    let mut wanted = Vec::with_capacity(rows.len());
    let mut errors = Vec::new();
    for r in rows {
        let asked = Period::new(
            r.valid_from.unwrap_or(default.from),
            r.valid_until.unwrap_or(default.until),
        );
        match (license.term.check(asked, today), r.row) {
            (Ok(period), _) => {
                wanted.push(Wanted { email: r.email.clone(), period, language: r.language })
            }
            (Err(Error::Validation(found)), Some(row)) => {
                errors.extend(found.into_iter().map(|e| e.in_row(row)))
            }
            (Err(e), _) => return Err(e),
        }
    }
    if errors.is_empty() { Ok(wanted) } else { Err(Error::Validation(errors)) }
}

/// A dry run answers; nothing new is only counted; anything new is committed.
async fn settle(
    app: &App,
    license: &License,
    existing: &HashMap<String, Assignment>,
    plan: Plan,
    today: NaiveDate,
    dry_run: bool,
    budget: &Budget,
) -> Result<Step<Assigned>> {
    if dry_run {
        return Ok(Step::Done(Assigned::of(plan, today, false)));
    }
    if plan.new.is_empty() {
        budget.charge(app).await?;
        return Ok(Step::Done(Assigned::of(plan, today, false)));
    }
    let step = commit(app, license, existing, &plan, budget).await?;
    Ok(step.map(|()| Assigned::of(plan, today, true)))
}

/// Commits a plan: in one transaction with the licence and the budget when
/// it fits, otherwise by reserving the seats on the licence (the commit
/// point, with the budget) and finishing the batch. The budget rides in the
/// commit's transaction, so it costs no round trip.
async fn commit(
    app: &App,
    before: &License,
    existing: &HashMap<String, Assignment>,
    plan: &Plan,
    budget: &Budget,
) -> Result<Step<()>> {
    let first = plan.new.first().expect("a plan to commit assigns someone");
    // v3: the last free seat taken is recorded (and its buyer told).
    let exhausted =
        Entry::seats_exhausted(Some(before), &plan.license, first.assigned_at, &first.assigned_by);
    let overhead = COMMIT_OVERHEAD + usize::from(exhausted.is_some());
    let single = 2 * plan.new.len() + overhead <= MAX_TRANSACTION_ITEMS;
    let mut license = plan.license.clone();
    if !single {
        license.operation = Some(Operation::Batch(bulk::batch_of(&plan.new)));
    }
    let mut writes = Vec::with_capacity(MAX_TRANSACTION_ITEMS);
    writes
        .push(Write::License { license: license.clone(), expected_version: Some(before.version) });
    writes.push(budget.write());
    if single {
        // In request order: each entry right after the one before.
        let mut last: Option<Entry> = None;
        for a in &plan.new {
            let (at, by) = (a.assigned_at, &a.assigned_by);
            let mut entry = Entry::assignment(before, at, by, Action::AssignmentCreated, None, a);
            if let Some(last) = &last {
                entry = entry.following(last);
            }
            last = Some(entry.clone());
            writes.extend([Write::Assignment(a.clone()), Write::Entry(entry)]);
        }
        if let (Some(entry), Some(last)) = (exhausted, &last) {
            writes.push(Write::Entry(entry.following(last)));
        }
    } else if let Some(entry) = exhausted {
        // Shown with the batch's own entries, once it is complete.
        let op = license.pending_op().map(str::to_string);
        writes.push(Write::Entry(Entry { op, op_version: Some(license.version), ..entry }));
    }
    match app.store.transact(&writes).await {
        Err(TxError::Condition(failed)) if failed.contains(&1) => Err(budget.exceeded()),
        result => match committed(result)? {
            Step::Done(()) if !single => {
                pending::drive(app, &license, bulk::Batch::known(&license, existing)).await?;
                Ok(Step::Done(()))
            }
            step => Ok(step),
        },
    }
}
