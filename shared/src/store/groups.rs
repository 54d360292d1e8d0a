//! A customer's groups (SCIM): each group's record, its name's item (a copy
//! of the record, so a `displayName eq` filter is one key read, and two
//! groups never share a name) and its members in [`MEMBER_PAGES`] pages,
//! all in the customer's partition. A change writes the record under its
//! version, the name, and the pages it touched, in one transaction: a
//! PATCH of a thousand members commits whole or not at all. Reading a group
//! with all its members is one TransactGetItems, so what a change decides
//! on, and what a reader sees, is the group as it was at one moment.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::TransactWriteItem;
use serde::{Deserialize, Serialize};

use super::expr::{self, Expr, KeyRange};
use super::items::{from_item, key, to_item};
use super::keys::{self, attr, kind};
use super::transaction::{ConflictOr, Refusable};
use super::{Item, Store, Write, s};
use crate::error::{Error, Result};
use crate::model::{DirectoryUser, Group, MEMBER_PAGES, Member, Members};

/// Why a group write did not commit.
#[derive(Debug, PartialEq, Eq)]
pub enum GroupConflict {
    /// Another group has this `displayName`.
    Name,
    /// The group changed (or is gone) since it was read.
    Changed,
}

pub type GroupConflictOr = ConflictOr<GroupConflict>;

/// How often a group read across concurrent changes is read again.
const MAX_READS: u32 = 8;

/// One page of a group's members, as stored: an emptied page stays (with
/// no members), so that its version says which change emptied it.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Page {
    #[serde(default)]
    members: Vec<Member>,
    #[serde(default)]
    version: u64,
}

fn record_key(customer_id: &str, id: &str) -> Item {
    key(keys::customer(customer_id), keys::group(id))
}

fn name_key(customer_id: &str, name_key: &str) -> Item {
    key(keys::customer(customer_id), keys::group_name(name_key))
}

fn page_key(customer_id: &str, id: &str, page: u32) -> Item {
    key(keys::customer(customer_id), keys::group_members(id, page))
}

fn group_item(g: &Group, key: Item, kind: &str) -> Result<Item> {
    let mut item = to_item(g)?;
    item.extend(key);
    item.insert(keys::TYPE.into(), s(kind));
    Ok(item)
}

impl Store {
    /// One group, without its members, strongly consistent.
    pub async fn group(&self, customer_id: &str, id: &str) -> Result<Option<Group>> {
        self.get(record_key(customer_id, id), true).await?.map(from_item).transpose()
    }

    /// Groups by id, without members, strongly consistent (ids not found
    /// are left out), in the order of `ids`: one BatchGetItem.
    pub async fn groups_by_id(&self, customer_id: &str, ids: &[String]) -> Result<Vec<Group>> {
        let keys = ids.iter().map(|id| record_key(customer_id, id)).collect();
        let mut found: BTreeMap<String, Group> = BTreeMap::new();
        for item in self.batch_get(keys, true).await? {
            let g: Group = from_item(item)?;
            found.insert(g.id.clone(), g);
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    /// Groups with all their members, each as it was at one moment (ids
    /// not found are left out): BatchGetItems of each record and its pages.
    /// A BatchGetItem reads each item on its own, so a change may commit
    /// between a group's record and its pages; the record names the version
    /// that last wrote each page, and a group whose pages disagree with it
    /// is read again.
    pub async fn groups_with_members(
        &self,
        customer_id: &str,
        ids: &[String],
    ) -> Result<Vec<(Group, Members)>> {
        let mut found: BTreeMap<String, (Group, Members)> = BTreeMap::new();
        let mut left: Vec<String> = ids.to_vec();
        for attempt in 0..MAX_READS {
            if left.is_empty() {
                break;
            }
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(5 << attempt)).await;
            }
            let keys = left
                .iter()
                .flat_map(|id| {
                    std::iter::once(record_key(customer_id, id))
                        .chain((0..MEMBER_PAGES).map(|n| page_key(customer_id, id, n)))
                })
                .collect();
            let mut records = BTreeMap::new();
            let mut pages: BTreeMap<(String, u32), Page> = BTreeMap::new();
            for item in self.batch_get(keys, true).await? {
                let sk =
                    item.get(keys::SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                if let Some(id) = sk.strip_prefix(keys::GROUP_PREFIX) {
                    records.insert(id.to_string(), from_item::<Group>(item)?);
                } else if let Some(page) = keys::group_members_page(&sk) {
                    pages.insert((page.0.to_string(), page.1), from_item(item)?);
                }
            }
            left.retain(|id| {
                let Some(group) = records.remove(id) else { return false };
                let consistent = (0..MEMBER_PAGES).all(|n| {
                    let read = pages.get(&(id.clone(), n)).map_or(0, |p| p.version);
                    read == group.page_version(n)
                });
                if !consistent {
                    return true;
                }
                let members = (0..MEMBER_PAGES)
                    .filter_map(|n| pages.remove(&(id.clone(), n)))
                    .map(|p| p.members);
                found.insert(id.clone(), (group, Members::from_pages(members)));
                false
            });
        }
        if !left.is_empty() {
            return Err(Error::Unavailable("a group kept changing while it was read".into()));
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    /// The group with this `displayName` (any case): one strongly
    /// consistent read of the name's item, which holds a copy of the group.
    pub async fn group_named(
        &self,
        customer_id: &str,
        display_name: &str,
    ) -> Result<Option<Group>> {
        let key = name_key(customer_id, &crate::model::group_name_key(display_name));
        self.get(key, true).await?.map(from_item).transpose()
    }

    /// Every group of a customer, in id order, without members, strongly
    /// consistent (the pages are under another prefix: not read).
    pub async fn groups(&self, customer_id: &str) -> Result<Vec<Group>> {
        let range = KeyRange::table(keys::customer(customer_id)).begins_with(keys::GROUP_PREFIX);
        let query = self.query(range).consistent_read(true);
        self.query_all(query).await?.into_iter().map(from_item).collect()
    }

    /// Writes `new` in place of `old` (`None`: a new group) with the member
    /// pages that changed, each marked with `new`'s version (as `new`'s
    /// record says): the record under `old`'s version, the name's item
    /// moved with it, and `licenses` (its linked licences under their
    /// versions, with their rules' runs), all in one transaction.
    pub async fn save_group(
        &self,
        old: Option<&Group>,
        new: &Group,
        pages: &[(u32, Vec<Member>)],
        licenses: &[Write],
    ) -> Result<(), GroupConflictOr> {
        let table = &self.table;
        let customer = &new.customer_id;
        let changed = |item| Refusable { item, refused: GroupConflict::Changed };
        let mut steps = self.record_steps(old, new)?;
        for (n, members) in pages {
            debug_assert_eq!(
                new.page_version(*n),
                new.version,
                "the record names the page's writer"
            );
            let mut item = to_item(&Page { members: members.clone(), version: new.version })?;
            item.extend(page_key(customer, &new.id, *n));
            item.insert(keys::TYPE.into(), s(kind::GROUP_MEMBERS));
            steps.push(changed(
                TransactWriteItem::builder().put(expr::put(table, item, None)?).build(),
            ));
        }
        steps.extend(self.license_steps(licenses)?);
        self.commit_refusable(steps, GroupConflict::Changed).await
    }

    /// The record of `new` under `old`'s version (`None`: a new group), and
    /// its name's item moved with it, as steps of a transaction.
    fn record_steps(
        &self,
        old: Option<&Group>,
        new: &Group,
    ) -> Result<Vec<Refusable<GroupConflict>>> {
        let table = &self.table;
        let customer = &new.customer_id;
        let changed = |item| Refusable { item, refused: GroupConflict::Changed };
        let record = group_item(new, record_key(customer, &new.id), kind::GROUP)?;
        let condition = old.map_or_else(Expr::item_absent, |old| Expr::version_is(old.version));
        let mut steps = vec![changed(
            TransactWriteItem::builder().put(expr::put(table, record, Some(condition))?).build(),
        )];
        let name = group_item(new, name_key(customer, &new.name_key()), kind::GROUP_NAME)?;
        // The name's item is the group's or nobody's.
        let mine = Expr::item_absent()
            .or(Expr::new("#id = :id").name("#id", attr::ID).value(":id", s(&new.id)));
        steps.push(Refusable {
            item: TransactWriteItem::builder().put(expr::put(table, name, Some(mine))?).build(),
            refused: GroupConflict::Name,
        });
        if let Some(old_name) = old.map(Group::name_key).filter(|n| *n != new.name_key()) {
            let delete = expr::delete(table, name_key(customer, &old_name), None)?;
            steps.push(changed(TransactWriteItem::builder().delete(delete).build()));
        }
        Ok(steps)
    }

    /// The licence writes of a link or unlink (each under the licence's
    /// version, with its history entry) as steps of a group's transaction:
    /// a licence that changed since it was read makes it read again.
    fn license_steps(&self, writes: &[Write]) -> Result<Vec<Refusable<GroupConflict>>> {
        writes
            .iter()
            .map(|w| {
                Ok(Refusable { item: self.transact_item(w)?, refused: GroupConflict::Changed })
            })
            .collect()
    }

    /// A link between a group and licences made or ended: `new` in place of
    /// `old` (the group's record and name, its members untouched) and
    /// `licenses` (the licences under their versions, their history
    /// entries), in one transaction.
    pub async fn save_link(
        &self,
        old: &Group,
        new: &Group,
        licenses: &[Write],
    ) -> Result<(), GroupConflictOr> {
        let mut steps = self.record_steps(Some(old), new)?;
        steps.extend(self.license_steps(licenses)?);
        self.commit_refusable(steps, GroupConflict::Changed).await
    }

    /// Removes a group: the record (under its version), its name and every
    /// page of its members, with `licenses` (the licences it was linked to,
    /// unlinked: see [`Store::save_link`]), in one transaction.
    pub async fn delete_group(&self, g: &Group, licenses: &[Write]) -> Result<(), GroupConflictOr> {
        let table = &self.table;
        let customer = &g.customer_id;
        let delete = |key: Item, condition: Option<Expr>| -> Result<Refusable<GroupConflict>> {
            let item = TransactWriteItem::builder().delete(expr::delete(table, key, condition)?);
            Ok(Refusable { item: item.build(), refused: GroupConflict::Changed })
        };
        let mut steps = vec![
            delete(record_key(customer, &g.id), Some(Expr::version_is(g.version)))?,
            delete(name_key(customer, &g.name_key()), None)?,
        ];
        for n in 0..MEMBER_PAGES {
            steps.push(delete(page_key(customer, &g.id, n), None)?);
        }
        steps.extend(self.license_steps(licenses)?);
        self.commit_refusable(steps, GroupConflict::Changed).await
    }

    /// Which of `groups` (one customer's) have `user_id` as a member: one
    /// BatchGetItem of the one page of each that would hold them.
    pub async fn groups_of_member(&self, groups: &[Group], user_id: &str) -> Result<Vec<Group>> {
        let page = crate::model::member_page(user_id);
        let keys = groups.iter().map(|g| page_key(&g.customer_id, &g.id, page)).collect();
        let mut holding = std::collections::BTreeSet::new();
        for item in self.batch_get(keys, true).await? {
            let sk = item.get(keys::SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let Some((id, _)) = keys::group_members_page(&sk) else { continue };
            let id = id.to_string();
            let stored: Page = from_item(item)?;
            if stored.members.iter().any(|m| m.value == user_id) {
                holding.insert(id);
            }
        }
        Ok(groups.iter().filter(|g| holding.contains(&g.id)).cloned().collect())
    }

    /// The people of a customer's directory with these ids (those not
    /// found are left out), strongly consistent, in BatchGetItems of 100.
    pub async fn directory_users(
        &self,
        customer_id: &str,
        ids: &[String],
    ) -> Result<Vec<DirectoryUser>> {
        let keys = ids
            .iter()
            .map(|id| key(keys::customer(customer_id), keys::directory_user(id)))
            .collect();
        self.batch_get(keys, true).await?.into_iter().map(from_item).collect()
    }
}
