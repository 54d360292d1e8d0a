//! The group rule applied to a licence (API.md v3, "Group-based
//! assignment"), on the one pending-operation protocol ([`super::pending`]).
//! Whatever sets it off (a linked group's membership change, a link made
//! or ended, seats freed for those who wait) decides once, on the licence
//! as read: its standing ([`Standing`]: who holds a rule's or a hand's
//! seat, who waits, who is out of the rules, whom each linked group
//! covers) and the net changes of the steps ([`Standing::changes`]). The
//! changes are stored in parts beside the licence, then the licence
//! commits under its version with its new seats and waiting count and the
//! run's marker, in the same transaction as what set it off (a SCIM group
//! change, a link). From then on, the request that committed it (for a
//! bounded time), every writer that meets the marker and the minute's run
//! (`notify`'s schedule, for every licence with a run or people waiting)
//! write the parts, one transaction each (its seats, revokes and waiting
//! list with their history entries, and the part's removal, so each part
//! is written once), and clear the marker. Readers see the licence as it
//! was until then.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};

use super::pending::{CHUNK, Feed};
use super::retry::{Step, committed, retry_on_conflict};
use super::{bulk, finish, revoke};
use crate::App;
use crate::error::{Error, Result};
use crate::model::{
    Action, Assignment, Change, Entry, Exclusion, Group, Holding, InvitationStatus, Language,
    License, MemberStep, OpRef, Operation, RuleRun, RuleStep, RuleWork, Standing, Undo, Waiter,
    WaitingEntry, group_actor, rule_group,
};
use crate::plan;
use crate::store::Write;

/// Why a rule revokes a seat (the history entry's `reason`).
pub const GROUP_LEFT: &str = "group-left";

/// Whom a licence's linked groups cover: for each seat address, the groups
/// in the order they were linked.
pub type Cover = BTreeMap<String, Vec<String>>;

/// The seat address of each of these people of a customer's directory who
/// can hold a seat (active, with a valid address); the others are left out.
pub(crate) async fn addresses(
    app: &App,
    customer_id: &str,
    ids: &[String],
) -> Result<HashMap<String, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let people = app.store.directory_users(customer_id, ids).await?;
    Ok(people
        .into_iter()
        .filter(|p| p.is_active())
        .filter_map(|p| Some((p.id.clone(), p.seat_address()?)))
        .collect())
}

/// Whom the groups linked to `license` cover, as they are now.
async fn coverage(app: &App, license: &License) -> Result<Cover> {
    let ids: Vec<String> = license.groups.iter().map(|l| l.group_id.clone()).collect();
    let groups = app.store.groups_with_members(&license.customer_id, &ids).await?;
    let everyone: Vec<String> = {
        let mut all: Vec<String> =
            groups.iter().flat_map(|(_, m)| m.iter().map(|m| m.value)).collect();
        all.sort();
        all.dedup();
        all
    };
    let address = addresses(app, &license.customer_id, &everyone).await?;
    let mut cover = Cover::new();
    for link in &license.groups {
        let Some((_, members)) = groups.iter().find(|(g, _)| g.id == link.group_id) else {
            continue;
        };
        for member in members.iter() {
            if let Some(email) = address.get(&member.value) {
                cover.entry(email.clone()).or_default().push(link.group_id.clone());
            }
        }
    }
    Ok(cover)
}

/// What the rules know of a licence, read as a writer decides on it:
/// every assignment, the waiting list as stored, and who is out of the
/// rules (after the licence: what changed since fails the commit).
pub struct Read {
    pub assignments: Vec<Assignment>,
    pub entries: Vec<WaitingEntry>,
    pub exclusions: Vec<Exclusion>,
}

async fn read(app: &App, license: &License) -> Result<Read> {
    let (customer, id) = (&license.customer_id, &license.license_id);
    let (assignments, entries, exclusions) = tokio::try_join!(
        app.store.all_assignments(customer, id),
        app.store.waiting_entries(customer, id),
        app.store.exclusions(customer, id),
    )?;
    Ok(Read { assignments, entries, exclusions })
}

/// The standing of a licence that has nothing pending, from what was read
/// and whom its linked groups cover (pure).
pub fn standing_of(license: &License, read: &Read, cover: Cover, today: NaiveDate) -> Standing {
    let mut people = BTreeMap::new();
    let mut assigned_at = HashMap::new();
    for a in &read.assignments {
        assigned_at.insert(a.email.as_str(), a.assigned_at);
        if a.is_current(today) {
            let holding = match rule_group(&a.assigned_by) {
                Some(group) => Holding::RuleSeat { group: group.to_string() },
                None => Holding::HandSeat,
            };
            people.insert(a.email.clone(), holding);
        }
    }
    for x in &read.exclusions {
        // Assigned by hand since: back in the rules.
        let since = assigned_at.get(x.email.as_str()).is_some_and(|at| *at > x.at);
        if !since && !people.contains_key(&x.email) {
            people.insert(x.email.clone(), Holding::Excluded);
        }
    }
    let waiting = read
        .entries
        .iter()
        .filter(|e| e.gone.is_none())
        .map(|e| Waiter { person: e.email.clone(), group: e.group_id.clone() });
    Standing {
        free: license.seats.room(&license.quantities(), license.default_period(today)),
        waiting: waiting.collect(),
        people,
        covered_by: cover,
    }
}

/// The decision of a run (pure): `into` (the licence as the caller writes
/// it, from `license` as read) under the next version, with its seats and
/// waiting count after the net changes of `steps` and, when anything
/// changes, the marker of run `id`; and the run's parts of `part` changes
/// each.
pub fn decided(
    license: &License,
    into: License,
    read: &Read,
    standing: &Standing,
    steps: &[RuleStep],
    (id, now, part): (String, DateTime<Utc>, usize),
) -> (License, Vec<Vec<RuleWork>>) {
    let today = now.date_naive();
    let (_, changes) = standing.changes(steps);
    let mut after = License { version: license.version + 1, ..into };
    if changes.is_empty() {
        return (after, Vec::new());
    }
    let before = Box::new(License { operation: None, ..after.clone() });
    let period = license.default_period(today);
    let mut work = Vec::with_capacity(changes.len());
    for change in changes {
        let seq = match &change {
            Change::Seat { .. } => {
                after.seats.add(period, 1);
                None
            }
            Change::Revoke { person } => {
                if let Some(a) = read.assignments.iter().find(|a| a.email == *person) {
                    after = License { version: after.version, ..plan::revoke(&after, a, today) };
                }
                None
            }
            Change::Wait(_) => {
                after.waiting += 1;
                after.waiting_seq += 1;
                Some(after.waiting_seq)
            }
            Change::Unwait { person } => {
                after.waiting = after.waiting.saturating_sub(1);
                let current = read.entries.iter().filter(|e| e.gone.is_none());
                current.into_iter().find(|e| e.email == *person).map(|e| e.seq)
            }
            Change::Readmit { .. } => None,
        };
        work.push(RuleWork { change, seq });
    }
    let parts: Vec<Vec<RuleWork>> = work.chunks(part).map(<[RuleWork]>::to_vec).collect();
    after.operation =
        Some(Operation::Rule(RuleRun { id, at: now, parts: parts.len() as u32, before }));
    (after, parts)
}

/// Decides what `steps` do to `license` (read, with nothing pending) and
/// answers `into` (the licence as the caller writes it: as read, or with a
/// link made or ended) under the next version, with its new seats and
/// waiting count and, when anything changes, the run's marker; the run's
/// parts are stored first. `steps` empty: those who wait get the seats
/// that are free.
pub(crate) async fn decide(
    app: &App,
    license: &License,
    into: License,
    steps: &[RuleStep],
    now: DateTime<Utc>,
) -> Result<License> {
    debug_assert!(!license.is_pending(), "a writer finishes what is pending first");
    let cover = if steps.is_empty() { Cover::new() } else { coverage(app, license).await? };
    let read = read(app, license).await?;
    let standing = standing_of(license, &read, cover, now.date_naive());
    let id = ulid::Ulid::new().to_string();
    let (after, parts) = decided(license, into, &read, &standing, steps, (id, now, CHUNK));
    if let Some(Operation::Rule(run)) = &after.operation {
        let (customer, license_id) = (&license.customer_id, &license.license_id);
        app.store.put_rule_parts(customer, license_id, &run.id, &parts, now.timestamp()).await?;
    }
    Ok(after)
}

/// A run's parts, as [`super::pending::drive`] writes them: one part a chunk.
pub(crate) struct Run<'a> {
    license: &'a License,
    run: &'a RuleRun,
}

impl<'a> Run<'a> {
    pub fn read(license: &'a License, run: &'a RuleRun) -> Self {
        Self { license, run }
    }
}

impl Feed for Run<'_> {
    type Item = (u32, Vec<RuleWork>);
    const PER_CHUNK: usize = 1;

    async fn left(&mut self, app: &App) -> Result<Vec<Self::Item>> {
        let (customer, id) = (&self.license.customer_id, &self.license.license_id);
        app.store.rule_parts(customer, id, &self.run.id).await
    }

    async fn writes(&mut self, app: &App, chunk: &[Self::Item]) -> Result<Vec<Write>> {
        let license = self.license;
        let (customer, id) = (&license.customer_id, &license.license_id);
        let mut writes = Vec::new();
        for (part, work) in chunk {
            let people: Vec<String> = work
                .iter()
                .filter_map(|w| match &w.change {
                    Change::Seat { person, .. } | Change::Revoke { person } => Some(person.clone()),
                    _ => None,
                })
                .collect();
            // The licence is the one read with the marker: only the items (a
            // refused chunk reads it again).
            let mut items: HashMap<String, Assignment> = if people.is_empty() {
                HashMap::new()
            } else {
                let emails: Vec<&str> = people.iter().map(String::as_str).collect();
                let ids = std::slice::from_ref(id);
                let found = app.store.assignments_of_each(customer, ids, &emails).await?;
                found.into_iter().map(|a| (a.email.clone(), a)).collect()
            };
            let unwaits = work.iter().any(|w| matches!(w.change, Change::Unwait { .. }));
            let entries =
                if unwaits { app.store.waiting_entries(customer, id).await? } else { Vec::new() };
            writes.extend(part_writes(license, self.run, *part, work, &mut items, &entries));
        }
        Ok(writes)
    }
}

/// The writes of one part of a run (pure), from the items of its people
/// and the waiting list as read: each change with its history entry, all
/// hidden with the run while it is pending, and the part's removal, so
/// the part is written once.
pub fn part_writes(
    license: &License,
    run: &RuleRun,
    part: u32,
    work: &[RuleWork],
    items: &mut HashMap<String, Assignment>,
    entries: &[WaitingEntry],
) -> Vec<Write> {
    let (customer, id) = (&license.customer_id, &license.license_id);
    let entry = |action: Action, email: &str, actor: &str| {
        Write::Entry(Entry::of_op(license, &run.id, run.at, actor, action, email))
    };
    let mut writes = Vec::with_capacity(2 * work.len() + 1);
    for w in work {
        match &w.change {
            Change::Seat { person, group } => {
                writes.extend(seat(license, run, person, group, items.remove(person)))
            }
            Change::Revoke { person } => {
                let today = run.at.date_naive();
                if let Some(a) = items.remove(person).filter(|a| a.is_current(today)) {
                    writes.extend(revoke_seat(license, run, &a));
                }
            }
            Change::Wait(waiter) => {
                let stored = WaitingEntry {
                    customer_id: customer.clone(),
                    license_id: id.clone(),
                    email: waiter.person.clone(),
                    group_id: waiter.group.clone(),
                    since: run.at,
                    seq: w.seq.unwrap_or_default(),
                    op: run.id.clone(),
                    op_version: license.version,
                    gone: None,
                };
                let actor = group_actor(&waiter.group);
                writes.extend([
                    Write::Waiting(stored),
                    entry(Action::WaitingAdded, &waiter.person, &actor),
                ]);
            }
            Change::Unwait { person } => {
                let Some(mut stored) = entries.iter().find(|e| Some(e.seq) == w.seq).cloned()
                else {
                    continue;
                };
                stored.gone = Some(OpRef { op: run.id.clone(), version: license.version });
                let actor = group_actor(&stored.group_id);
                writes.extend([
                    Write::Waiting(stored),
                    entry(Action::WaitingRemoved, person, &actor),
                ]);
            }
            Change::Readmit { person } => writes.push(Write::Readmit {
                customer_id: customer.clone(),
                license_id: id.clone(),
                email: person.clone(),
            }),
        }
    }
    writes.push(Write::PartDone {
        customer_id: customer.clone(),
        license_id: id.clone(),
        op: run.id.clone(),
        part,
    });
    writes
}

/// The language of the invitations of `group`'s seats on `license`.
fn language(license: &License, group: &str) -> Language {
    let link = license.groups.iter().find(|l| l.group_id == group);
    link.map_or(Language::En, |l| l.language)
}

/// A seat the rule gives (taking over a revoked or ended item of the
/// address), hidden with the run while it is pending.
fn seat(
    license: &License,
    run: &RuleRun,
    email: &str,
    group: &str,
    existing: Option<Assignment>,
) -> [Write; 2] {
    let period = license.default_period(run.at.date_naive());
    let actor = group_actor(group);
    let language = language(license, group);
    let mut a = Assignment::new(
        license,
        email,
        period,
        run.at,
        &actor,
        language,
        InvitationStatus::Pending,
    );
    a.batch = Some(run.id.clone());
    a.batch_version = Some(license.version);
    let item = plan::batch_item(a, existing);
    [Write::Entry(bulk::created(license, &run.id, &item)), Write::Assignment(item)]
}

/// The revoke of a rule's seat, hidden with the run while it is pending.
fn revoke_seat(license: &License, run: &RuleRun, a: &Assignment) -> Vec<Write> {
    let actor = rule_group(&a.assigned_by).map_or_else(|| a.assigned_by.clone(), group_actor);
    let (_, mut writes) = revoke::revoking(license, a, run.at, &actor, Some(GROUP_LEFT));
    for w in &mut writes {
        match w {
            Write::Revoke { undo, .. } => {
                *undo = Some(Undo {
                    op: run.id.clone(),
                    version: license.version,
                    valid_until: a.valid_until,
                    invitation: Some(a.invitation.clone()),
                })
            }
            Write::Entry(e) => {
                e.op = Some(run.id.clone());
                e.op_version = Some(license.version);
            }
            _ => {}
        }
    }
    writes
}

/// The exclusion an admin's revoke (or a reclaim) of a rule's seat writes:
/// the person is out of the licence's rules (`None`: a hand's seat).
pub(crate) fn exclusion(a: &Assignment, at: DateTime<Utc>) -> Option<Write> {
    rule_group(&a.assigned_by)?;
    Some(Write::Exclude(Exclusion {
        customer_id: a.customer_id.clone(),
        license_id: a.license_id.clone(),
        email: a.email.clone(),
        at,
    }))
}

/// How often [`settle`] reads a licence again before it gives up.
const SETTLE_ROUNDS: u32 = 8;

/// Brings a licence's rule up to date: finishes what is pending on it,
/// then gives seats that are free to those who wait (a run of its own).
/// What the minute's run does for every licence with a run or people
/// waiting, and a writer that freed seats of such a licence.
pub async fn settle(app: &App, customer_id: &str, license_id: &str) -> Result<()> {
    for _ in 0..SETTLE_ROUNDS {
        let Some(license) = app.store.license(customer_id, license_id).await? else {
            return Ok(());
        };
        if license.is_pending() {
            finish::finish(app, &license).await?;
            continue;
        }
        let now = app.now();
        let today = now.date_naive();
        let period = license.default_period(today);
        let due = license.rule_recheck_on.is_some_and(|day| day <= today);
        if !due && (license.waiting == 0 || license.seats.room(&license.quantities(), period) == 0)
        {
            return Ok(());
        }
        // Due: everyone the linked groups cover joins again (a no-op for
        // those who hold a seat or wait); else the seats free go to those who wait.
        let steps = if due { everyone_covered(app, &license).await? } else { Vec::new() };
        let into = License { rule_recheck_on: None, ..license.clone() };
        let filled = decide(app, &license, into, &steps, now).await?;
        if filled.operation.is_none() && !due {
            // Nobody who waits could take a seat (their seats are gone).
            return Ok(());
        }
        let write = Write::License { license: filled, expected_version: Some(license.version) };
        super::retry::commit_unless_refused(&app.store, &[write]).await?;
    }
    Err(Error::Unavailable(format!("licence {license_id} kept changing while its rule settled")))
}

/// The minute's run (v3): every licence that has a rule's run pending or
/// people waiting, settled: a run is written, and a seat freed by anything
/// (a lifecycle event, a revoke that ran out of time) is given within a
/// minute.
/// Answers how many it settled.
pub async fn settle_waiting(app: &App) -> Result<u32> {
    let mut settled = 0;
    for (customer_id, license_id) in app.store.licenses_with_waiting().await? {
        match settle(app, &customer_id, &license_id).await {
            Ok(()) => settled += 1,
            Err(e) => tracing::warn!(%license_id, error = %e, "waiting list not settled yet"),
        }
    }
    Ok(settled)
}

/// Every person the licence's linked groups cover, joining in link order
/// and each group's member order: the rules applied afresh.
async fn everyone_covered(app: &App, license: &License) -> Result<Vec<RuleStep>> {
    let ids: Vec<String> = license.groups.iter().map(|l| l.group_id.clone()).collect();
    let groups = app.store.groups_with_members(&license.customer_id, &ids).await?;
    let mut steps = Vec::new();
    for (group, members) in &groups {
        let joining: Vec<MemberStep> = members.iter().map(|m| MemberStep::Join(m.value)).collect();
        steps.extend(steps_of(app, group, &joining).await?);
    }
    Ok(steps)
}

/// The rule's steps of a membership change of `group` (its people who can
/// hold a seat, in the order of the change).
pub(crate) async fn steps_of(
    app: &App,
    group: &Group,
    steps: &[MemberStep],
) -> Result<Vec<RuleStep>> {
    let ids: Vec<String> = steps
        .iter()
        .map(|s| match s {
            MemberStep::Join(id) | MemberStep::Leave(id) => id.clone(),
        })
        .collect();
    let address = addresses(app, &group.customer_id, &ids).await?;
    let g = &group.id;
    Ok(steps
        .iter()
        .filter_map(|s| match s {
            MemberStep::Join(id) => {
                Some(RuleStep::Join { person: address.get(id)?.clone(), group: g.clone() })
            }
            MemberStep::Leave(id) => {
                Some(RuleStep::Leave { person: address.get(id)?.clone(), group: g.clone() })
            }
        })
        .collect())
}

/// Every member of `group` joining (`true`: the group is linked) or
/// leaving (it is unlinked, or removed), in id order.
pub(crate) async fn all_members(app: &App, group: &Group, join: bool) -> Result<Vec<RuleStep>> {
    let found =
        app.store.groups_with_members(&group.customer_id, std::slice::from_ref(&group.id)).await?;
    let Some((_, members)) = found.into_iter().next() else {
        return Ok(Vec::new());
    };
    let steps: Vec<MemberStep> = members
        .iter()
        .map(|m| if join { MemberStep::Join(m.value) } else { MemberStep::Leave(m.value) })
        .collect();
    steps_of(app, group, &steps).await
}

/// The licences `group` is linked to, strongly consistent, for a writer of
/// them all: `None` when one had an operation pending (finished now: read
/// again).
pub(crate) async fn licenses_of(app: &App, group: &Group) -> Result<Option<Vec<License>>> {
    let ids: Vec<(String, String)> =
        group.licenses.iter().map(|l| (group.customer_id.clone(), l.clone())).collect();
    let licenses = app.store.licenses_by_id(&ids, true).await?;
    if let Some(pending) = licenses.iter().find(|l| l.is_pending()) {
        finish::finish_for_request(app, pending).await?;
        return Ok(None);
    }
    Ok(Some(licenses))
}

/// The licence writes of a membership change of `group` (its licences,
/// each under its version with its rule's run), to commit with the group.
/// `None`: a licence had an operation pending (finished now: decide again).
pub(crate) async fn on_members(
    app: &App,
    group: &Group,
    steps: &[MemberStep],
) -> Result<Option<Vec<Write>>> {
    if group.licenses.is_empty() || steps.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let Some(licenses) = licenses_of(app, group).await? else { return Ok(None) };
    let steps = steps_of(app, group, steps).await?;
    let now = app.now();
    let mut writes = Vec::new();
    for license in licenses.iter().filter(|l| l.groups.iter().any(|g| g.group_id == group.id)) {
        let new = decide(app, license, license.clone(), &steps, now).await?;
        if new.operation.is_some() {
            writes.push(Write::License { license: new, expected_version: Some(license.version) });
        }
    }
    Ok(Some(writes))
}

/// After a commit that may have freed seats of `license` (as read before
/// it): when people wait for its seats, settles it for at most
/// [`finish::FINISHING_BUDGET`], so that the first who waits gets a freed
/// seat at once; the minute's run does what is left. Never fails.
pub(crate) async fn seats_freed(app: &App, license: &License) {
    if license.waiting == 0 {
        return;
    }
    let (customer, id) = (&license.customer_id, &license.license_id);
    match tokio::time::timeout(finish::FINISHING_BUDGET, settle(app, customer, id)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(license_id = %id, error = %e, "waiting list left to the minute's run")
        }
        Err(_) => tracing::info!(license_id = %id, "waiting list left to the minute's run"),
    }
}

/// A person of the directory deactivated or removed (`active` false), or
/// active again (true), with their seat address: every licence linked to a
/// group they are a member of runs its rule for them, licence by licence
/// (each all or nothing, like the deprovisioning of their seats): they
/// leave its waiting list, or join it or get a seat again.
pub(crate) async fn person(
    app: &App,
    customer_id: &str,
    user_id: &str,
    address: &str,
    active: bool,
) -> Result<()> {
    let linked: Vec<Group> = app
        .store
        .groups(customer_id)
        .await?
        .into_iter()
        .filter(|g| !g.licenses.is_empty())
        .collect();
    if linked.is_empty() {
        return Ok(());
    }
    let theirs = app.store.groups_of_member(&linked, user_id).await?;
    let mut license_ids: Vec<&String> = theirs.iter().flat_map(|g| &g.licenses).collect();
    license_ids.sort();
    license_ids.dedup();
    for license_id in license_ids {
        retry_on_conflict("group rule of a person", || async {
            let Some(license) = app.store.license(customer_id, license_id).await? else {
                return Ok(Step::Done(()));
            };
            if license.is_pending() {
                finish::finish(app, &license).await?;
                return Ok(Step::Again);
            }
            let (person, mine) = (address.to_string(), |g: &str| theirs.iter().any(|t| t.id == g));
            let steps: Vec<RuleStep> = license
                .groups
                .iter()
                .filter(|l| mine(&l.group_id))
                .map(|l| {
                    let group = l.group_id.clone();
                    let person = person.clone();
                    if active {
                        RuleStep::Join { person, group }
                    } else {
                        RuleStep::Leave { person, group }
                    }
                })
                .collect();
            let new = decide(app, &license, license.clone(), &steps, app.now()).await?;
            if new.operation.is_none() {
                return Ok(Step::Done(()));
            }
            let writes = [Write::License { license: new, expected_version: Some(license.version) }];
            let done = committed(app.store.transact(&writes).await)?;
            if let Step::Done(()) = done {
                follow(app, &writes).await;
            }
            Ok(done)
        })
        .await?;
    }
    Ok(())
}

/// After a commit that started rule runs: writes them for at most
/// [`finish::FINISHING_BUDGET`] in all, so that a small change answers
/// with its seats in place; what is left, the minute's run writes (and
/// any writer that meets it first). Never fails: the change is
/// committed either way.
pub(crate) async fn follow(app: &App, written: &[Write]) {
    let runs = written.iter().filter_map(|w| match w {
        Write::License { license, .. } if matches!(license.operation, Some(Operation::Rule(_))) => {
            Some(license)
        }
        _ => None,
    });
    let all = async {
        for license in runs {
            if let Err(e) = finish::finish(app, license).await {
                tracing::warn!(license_id = %license.license_id, error = %e, "rule run left to finish");
            }
        }
    };
    if tokio::time::timeout(finish::FINISHING_BUDGET, all).await.is_err() {
        tracing::info!("rule runs left to finish after the request");
    }
}
