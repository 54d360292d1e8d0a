//! Links between a customer's groups and its licences (API.md v3,
//! "Group-based assignment"), as its licence admins make and end them. A
//! link is kept on both sides, the licence (with the language of its seats'
//! invitations, in the order linked) and the group (the licence's id), and
//! each change of it writes both and the licence's history entry in one
//! transaction, under the versions read. A group's removal over SCIM ends
//! its links in its own transaction (`usecase::groups::remove`).

use super::finish;
use super::known_license_id;
use super::retry::{Step, retry_on_conflict};
use crate::App;
use crate::error::{Error, Result};
use crate::model::{
    Action, Admin, Entry, Group, GroupLink, Language, License, LinkRefusal, LinkState,
    MAX_LINKS_PER_GROUP, MAX_LINKS_PER_LICENSE, State, link as linking, unlinked, without_license,
};
use crate::store::{GroupConflictOr, Write};

/// A link of a licence with the group it names.
#[derive(Clone, Debug, PartialEq)]
pub struct Linked {
    pub link: GroupLink,
    pub group: Group,
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
        entry.before = linked.before.map(State::Link);
        let (new, writes) = rewritten(&license, linked.license, entry);
        let new_group = Group { version: group.version + 1, ..linked.group };
        Ok(saved(app.store.save_link(&group, &new_group, &writes).await)?.map(|()| new.clone()))
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
        let entry = Entry::new(&license, app.now(), &admin.name, Action::LicenseGroupUnlinked)
            .before(State::Link(LinkState::of(&group, link.language)));
        let (new, writes) = rewritten(&license, new, entry);
        let new_group = Group { version: group.version + 1, ..without_license(&group, license_id) };
        Ok(saved(app.store.save_link(&group, &new_group, &writes).await)?.map(|()| new.clone()))
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
    let ids: Vec<(String, String)> =
        group.licenses.iter().map(|l| (group.customer_id.clone(), l.clone())).collect();
    let licenses = app.store.licenses_by_id(&ids, true).await?;
    if let Some(pending) = licenses.iter().find(|l| l.is_pending()) {
        finish::finish_for_request(app, pending).await?;
        return Ok(None);
    }
    let now = app.now();
    let mut writes = Vec::new();
    for license in licenses {
        let Some(link) = license.groups.iter().find(|l| l.group_id == group.id) else {
            continue;
        };
        let entry = Entry::new(&license, now, actor, Action::LicenseGroupUnlinked)
            .before(State::Link(LinkState::of(group, link.language)));
        let Some(new) = unlinked(&license, &group.id) else { continue };
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

/// The licence's links with their groups (one BatchGetItem); a link whose
/// group is gone is left out.
async fn linked_groups(app: &App, license: &License) -> Result<Vec<Linked>> {
    let ids: Vec<String> = license.groups.iter().map(|l| l.group_id.clone()).collect();
    let groups = app.store.groups_by_id(&license.customer_id, &ids).await?;
    Ok(license
        .groups
        .iter()
        .filter_map(|link| {
            let group = groups.iter().find(|g| g.id == link.group_id)?;
            Some(Linked { link: link.clone(), group: group.clone() })
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

/// A link's write as a step of the optimistic loop.
fn saved(result: std::result::Result<(), GroupConflictOr>) -> Result<Step<()>> {
    match result {
        Ok(()) => Ok(Step::Done(())),
        Err(GroupConflictOr::Conflict(_)) => Ok(Step::Again),
        Err(GroupConflictOr::Failed(e)) => Err(e),
    }
}
