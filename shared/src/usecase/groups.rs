//! A customer's groups, as its identity provider keeps them over SCIM
//! (API.md v3, "Group-based assignment"): created, changed (members added
//! and removed, renamed) and removed. Every change reads the group and all
//! its members, applies the request's edits in order, checks that each
//! person who joins is one of the customer's directory, and commits the
//! record and the pages it touched in one transaction under the version
//! read: all or nothing, whatever its size, and a concurrent change makes
//! it read again.

use chrono::SubsecRound;

use super::retry::{Step, retry_on_conflict};
use super::tokens::Machine;
use crate::App;
use crate::error::{Error, Result};
use crate::model::{
    Group, GroupEdit, MAX_MEMBERS, Member, MemberStep, Members, is_resource_id, renamed,
};
use crate::store::{GroupConflict, GroupConflictOr};

/// A group write's outcome as a step of the optimistic loop.
fn step(result: std::result::Result<(), GroupConflictOr>, name: &str) -> Result<Step<()>> {
    match result {
        Ok(()) => Ok(Step::Done(())),
        Err(GroupConflictOr::Conflict(GroupConflict::Changed)) => Ok(Step::Again),
        Err(GroupConflictOr::Conflict(GroupConflict::Name)) => {
            Err(Error::Uniqueness(format!("displayName {name}")))
        }
        Err(GroupConflictOr::Failed(e)) => Err(e),
    }
}

/// Adds a group to the machine's customer's directory: `edits` make it (a
/// POST's name, external id and members).
pub async fn create(app: &App, m: &Machine, edits: &[GroupEdit]) -> Result<(Group, Members)> {
    let now = app.now().trunc_subsecs(0);
    let blank = Group {
        id: format!("grp_{}", ulid::Ulid::new().to_string().to_ascii_lowercase()),
        customer_id: m.customer_id.clone(),
        created: now,
        last_modified: now,
        ..Group::default()
    };
    let (group, members, pages, _) = decide(app, m, &blank, &Members::default(), edits).await?;
    match step(app.store.save_group(None, &group, &pages, &[]).await, &group.display_name)? {
        Step::Done(()) => Ok((group, members)),
        Step::Again => Err(Error::Uniqueness(format!("the id {}", group.id))),
    }
}

/// One group of the machine's customer's directory, with its members.
pub async fn get(app: &App, m: &Machine, id: &str) -> Result<(Group, Members)> {
    if !is_resource_id(id) {
        return Err(Error::GroupNotFound);
    }
    let found = app.store.groups_with_members(&m.customer_id, &[id.to_string()]).await?;
    found.into_iter().next().ok_or(Error::GroupNotFound)
}

/// Changes a group as `edits` say (a PUT's replacement, a PATCH's
/// operations), under the version read; its linked licences' rules run in
/// the same transaction (`usecase::rule`), so the change and what it does
/// to seats commit together, and seats follow as the runs are written.
pub async fn change(
    app: &App,
    m: &Machine,
    id: &str,
    edits: &[GroupEdit],
) -> Result<(Group, Members)> {
    retry_on_conflict("scim group change", || async {
        let (old, members) = get(app, m, id).await?;
        let (mut new, after, pages, steps) = decide(app, m, &old, &members, edits).await?;
        new.last_modified = app.now().trunc_subsecs(0);
        let Some(licenses) = Box::pin(super::rule::on_members(app, &old, &steps)).await? else {
            return Ok(Step::Again);
        };
        let saved = app.store.save_group(Some(&old), &new, &pages, &licenses).await;
        let saved = step(saved, &new.display_name)?;
        if let Step::Done(()) = saved {
            Box::pin(super::rule::follow(app, &licenses)).await;
        }
        Ok(saved.map(|()| (new.clone(), after.clone())))
    })
    .await
}

/// Removes a group and its members, and ends its links to licences in the
/// same transaction.
pub async fn remove(app: &App, m: &Machine, id: &str) -> Result<()> {
    if !is_resource_id(id) {
        return Err(Error::GroupNotFound);
    }
    retry_on_conflict("scim group delete", || async {
        let group = app.store.group(&m.customer_id, id).await?.ok_or(Error::GroupNotFound)?;
        let Some(unlinks) = Box::pin(super::links::unlink_all(app, &group, &m.actor())).await?
        else {
            return Ok(Step::Again);
        };
        let deleted = step(app.store.delete_group(&group, &unlinks).await, &group.display_name)?;
        if let Step::Done(()) = deleted {
            Box::pin(super::rule::follow(app, &unlinks)).await;
        }
        Ok(deleted)
    })
    .await
}

/// The group after `edits`, its members, the pages to write, and what
/// the change did to each person in order. Everyone
/// who joins must be a person of the customer's directory (one read of
/// them all); one who comes without a `display` is shown by their
/// `displayName`, else their `userName`.
async fn decide(
    app: &App,
    m: &Machine,
    group: &Group,
    members: &Members,
    edits: &[GroupEdit],
) -> Result<(Group, Members, Vec<(u32, Vec<Member>)>, Vec<MemberStep>)> {
    let mut new = renamed(group, edits);
    if new.display_name.trim().is_empty() {
        return Err(Error::field("displayName", "is required"));
    }
    let (mut after, steps) = members.apply(edits);
    if after.len() > MAX_MEMBERS {
        return Err(Error::field("members", format!("a group has at most {MAX_MEMBERS} members")));
    }
    let joined: Vec<String> = steps
        .iter()
        .cloned()
        .filter_map(|s| match s {
            MemberStep::Join(id) => Some(id),
            MemberStep::Leave(_) => None,
        })
        .collect();
    if !joined.is_empty() {
        let people = app.store.directory_users(&m.customer_id, &joined).await?;
        let names: std::collections::HashMap<&str, &String> = people
            .iter()
            .map(|p| (p.id.as_str(), p.display_name.as_ref().unwrap_or(&p.user_name)))
            .collect();
        if let Some(stranger) = joined.iter().find(|id| !names.contains_key(id.as_str())) {
            return Err(Error::field(
                "members",
                format!("{stranger} is not a user of this directory"),
            ));
        }
        after = after.shown_as(|id| names.get(id).map(|n| n.to_string()));
    }
    new.member_count = after.len();
    let pages = members.changed_pages(&after);
    new.version = group.version + 1;
    new.wrote_pages(pages.iter().map(|(n, _)| *n), new.version);
    Ok((new, after, pages, steps))
}
