//! Links between a customer's groups and its licences (API.md v3,
//! "Group-based assignment"), as its licence admins make and end them. A
//! link is kept on both sides, the licence (with the language of its seats'
//! invitations, in the order linked) and the group (the licence's id), and
//! each change of it writes both and the licence's history entry in one
//! transaction, under the versions read, with what the link does to the
//! licence's seats (its members join or leave the licence's rules: the
//! run of `usecase::rule`). A group's removal over SCIM ends its links in
//! its own transaction (`usecase::groups::remove`).

use std::collections::HashMap;

use super::known_license_id;
use super::retry::{Step, retry_on_conflict};
use super::{finish, rule};
use crate::App;
use crate::error::{Error, Result};
use crate::model::{
    Action, Admin, Entry, Group, GroupLink, Language, License, LinkRefusal, LinkState,
    MAX_LINKS_PER_GROUP, MAX_LINKS_PER_LICENSE, State, WaitingEntry, link as linking, rule_group,
    unlinked, without_license,
};
use crate::store::{GroupConflictOr, Write};

/// A link of a licence with the group it names, and what its rule holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Linked {
    pub link: GroupLink,
    pub group: Group,
    /// Seats of the licence the group's rule gave (named by it).
    pub assigned: u32,
    /// People waiting for a seat, named by it.
    pub waiting: u32,
}

/// Every group of the admin's customer's directory, in id order.
pub async fn groups(app: &App, admin: &Admin) -> Result<Vec<Group>> {
    app.store.groups(&admin.customer_id).await
}

/// The groups linked to a licence, in the order they were linked.
pub async fn links(app: &App, admin: &Admin, license_id: &str) -> Result<Vec<Linked>> {
    let license = licence(app, admin, license_id).await?;
    linked_groups(app, &license).await
}

/// Links `group_id` to the licence, its seats' invitations in `language`
/// (again with another language: the language changes); the licence's
/// links afterwards.
pub async fn link(
    app: &App,
    admin: &Admin,
    license_id: &str,
    group_id: &str,
    language: Language,
) -> Result<Vec<Linked>> {
    let license = retry_on_conflict("group link", || async {
        let Some(license) = writable(app, admin, license_id).await? else {
            return Ok(Step::Again);
        };
        let group = known_group(app, admin, group_id).await?;
        let now = app.now();
        let linked = match linking(&license, &group, language, now) {
            Ok(None) => return Ok(Step::Done(license)),
            Ok(Some(linked)) => linked,
            Err(LinkRefusal::LicenseFull) => {
                let why = format!("a licence has at most {MAX_LINKS_PER_LICENSE} linked groups");
                return Err(Error::field("groupId", why));
            }
            Err(LinkRefusal::GroupFull) => {
                let why = format!("a group is linked to at most {MAX_LINKS_PER_GROUP} licences");
                return Err(Error::field("groupId", why));
            }
        };
        let mut entry = Entry::new(&license, now, &admin.name, Action::LicenseGroupLinked)
            .after(State::Link(LinkState::of(&group, language)));
        // A new link: its members join the licence's rules (a new language only changes it).
        let steps = match linked.before {
            None => rule::all_members(app, &group, true).await?,
            Some(_) => Vec::new(),
        };
        entry.before = linked.before.map(State::Link);
        let into = Box::pin(rule::decide(app, &license, linked.license, &steps, now)).await?;
        let (new, writes) = rewritten(&license, into, entry);
        let new_group = Group { version: group.version + 1, ..linked.group };
        let done = saved(app.store.save_link(&group, &new_group, &writes).await)?;
        followed(app, done, &writes, &new).await
    })
    .await?;
    linked_groups(app, &license).await
}

/// Ends the link of `group_id` to the licence (`group-not-found` when there
/// is none); the licence's links afterwards.
pub async fn unlink(
    app: &App,
    admin: &Admin,
    license_id: &str,
    group_id: &str,
) -> Result<Vec<Linked>> {
    let license = retry_on_conflict("group unlink", || async {
        let Some(license) = writable(app, admin, license_id).await? else {
            return Ok(Step::Again);
        };
        let link = license.groups.iter().find(|l| l.group_id == group_id);
        let (Some(link), Some(new)) = (link, unlinked(&license, group_id)) else {
            return Err(Error::GroupNotFound);
        };
        // A linked group is there: its removal ends its links in its own transaction.
        let group = known_group(app, admin, group_id).await?;
        let now = app.now();
        let entry = Entry::new(&license, now, &admin.name, Action::LicenseGroupUnlinked)
            .before(State::Link(LinkState::of(&group, link.language)));
        let steps = rule::all_members(app, &group, false).await?;
        let new = Box::pin(rule::decide(app, &license, new, &steps, now)).await?;
        let (new, writes) = rewritten(&license, new, entry);
        let new_group = Group { version: group.version + 1, ..without_license(&group, license_id) };
        let done = saved(app.store.save_link(&group, &new_group, &writes).await)?;
        followed(app, done, &writes, &new).await
    })
    .await?;
    linked_groups(app, &license).await
}

/// The writes that end every link of `group` as part of its removal by
/// `actor`: each licence without it, under its version, with its history
/// entry. `None` when a licence has an operation pending: it was finished,
/// read again.
pub(crate) async fn unlink_all(
    app: &App,
    group: &Group,
    actor: &str,
) -> Result<Option<Vec<Write>>> {
    if group.licenses.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let Some(licenses) = rule::licenses_of(app, group).await? else { return Ok(None) };
    let now = app.now();
    let steps = rule::all_members(app, group, false).await?;
    let mut writes = Vec::new();
    for license in licenses {
        let Some(link) = license.groups.iter().find(|l| l.group_id == group.id) else {
            continue;
        };
        let entry = Entry::new(&license, now, actor, Action::LicenseGroupUnlinked)
            .before(State::Link(LinkState::of(group, link.language)));
        let Some(new) = unlinked(&license, &group.id) else { continue };
        let new = Box::pin(rule::decide(app, &license, new, &steps, now)).await?;
        writes.extend(rewritten(&license, new, entry).1);
    }
    Ok(Some(writes))
}

/// A group of the admin's customer's directory, strongly consistent; an id
/// this service could never have given (ours are `grp_` and a ULID) is
/// not found without a read.
async fn known_group(app: &App, admin: &Admin, group_id: &str) -> Result<Group> {
    if !crate::model::is_resource_id(group_id) {
        return Err(Error::GroupNotFound);
    }
    app.store.group(&admin.customer_id, group_id).await?.ok_or(Error::GroupNotFound)
}

/// A licence of the admin's customer, strongly consistent.
async fn licence(app: &App, admin: &Admin, license_id: &str) -> Result<License> {
    known_license_id(license_id)?;
    app.store.license(&admin.customer_id, license_id).await?.ok_or(Error::LicenseNotFound)
}

/// [`licence`], for a writer: `None` when an operation was pending on it
/// (finished now: read again).
async fn writable(app: &App, admin: &Admin, license_id: &str) -> Result<Option<License>> {
    let license = licence(app, admin, license_id).await?;
    if license.is_pending() {
        finish::finish_for_request(app, &license).await?;
        return Ok(None);
    }
    Ok(Some(license))
}

/// Who waits for a seat of the licence, first first, as readers see it.
pub async fn waiting(app: &App, admin: &Admin, license_id: &str) -> Result<Vec<WaitingEntry>> {
    let license = licence(app, admin, license_id).await?;
    waiting_of(app, &license).await
}

async fn waiting_of(app: &App, license: &License) -> Result<Vec<WaitingEntry>> {
    let (customer, id) = (&license.customer_id, &license.license_id);
    let entries = app.store.waiting_entries(customer, id).await?;
    Ok(entries.into_iter().filter(|e| e.shown_with(license)).collect())
}

/// The licence's links with their groups (one BatchGetItem) and what each
/// rule holds (its seats and waiting list, as readers see them); a link
/// whose group is gone is left out.
async fn linked_groups(app: &App, license: &License) -> Result<Vec<Linked>> {
    let ids: Vec<String> = license.groups.iter().map(|l| l.group_id.clone()).collect();
    let (customer, id) = (&license.customer_id, &license.license_id);
    let (groups, assignments, waiting) = tokio::try_join!(
        app.store.groups_by_id(customer, &ids),
        app.store.all_assignments(customer, id),
        waiting_of(app, license),
    )?;
    let today = app.today();
    let mut seats: HashMap<String, u32> = HashMap::new();
    for a in assignments.into_iter().filter_map(|a| a.into_visible(license)) {
        if let Some(group) = rule_group(&a.assigned_by).filter(|_| a.is_current(today)) {
            *seats.entry(group.to_string()).or_default() += 1;
        }
    }
    Ok(license
        .groups
        .iter()
        .filter_map(|link| {
            let group = groups.iter().find(|g| g.id == link.group_id)?;
            let waits = waiting.iter().filter(|w| w.group_id == link.group_id).count();
            Some(Linked {
                link: link.clone(),
                group: group.clone(),
                assigned: seats.get(&link.group_id).copied().unwrap_or(0),
                waiting: waits as u32,
            })
        })
        .collect())
}

/// `new` in place of `license` (its version bumped) with its history entry:
/// the licence as written, and the writes (under the version read).
fn rewritten(license: &License, new: License, entry: Entry) -> (License, [Write; 2]) {
    let new = License { version: license.version + 1, ..new };
    let writes = [
        Write::License { license: new.clone(), expected_version: Some(license.version) },
        Write::Entry(entry),
    ];
    (new, writes)
}

/// A link's change committed: its rule's run written (see
/// [`rule::follow`]), and the licence as it is then.
async fn followed(
    app: &App,
    done: Step<()>,
    writes: &[Write],
    new: &License,
) -> Result<Step<License>> {
    let Step::Done(()) = done else { return Ok(Step::Again) };
    if !new.is_pending() {
        return Ok(Step::Done(new.clone()));
    }
    Box::pin(rule::follow(app, writes)).await;
    let now = app.store.license(&new.customer_id, &new.license_id).await?;
    Ok(Step::Done(now.unwrap_or_else(|| new.clone())))
}

/// A link's write as a step of the optimistic loop.
fn saved(result: std::result::Result<(), GroupConflictOr>) -> Result<Step<()>> {
    match result {
        Ok(()) => Ok(Step::Done(())),
        Err(GroupConflictOr::Conflict(_)) => Ok(Step::Again),
        Err(GroupConflictOr::Failed(e)) => Err(e),
    }
}
