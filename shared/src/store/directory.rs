//! A customer's directory (SCIM users): each person's record, and two
//! uniqueness items beside it in the customer's partition, written in the
//! same transactions: the `userName` (case-insensitively; it holds a copy of
//! the person, so a `userName eq` filter is one key read whatever the
//! directory's size) and, while the person is active, their seat address
//! (so two active people never share one, and deprovisioning one never
//! touches another's seats); during a rename, the address moved from too.

use aws_sdk_dynamodb::types::TransactWriteItem;

use super::expr::{self, Expr, KeyRange};
use super::items::{from_item, key, to_item};
use super::keys::{self, attr, kind};
use super::transaction::{ConflictOr, Refusable};
use super::{Item, Store, s};
use crate::error::Result;
use crate::model::DirectoryUser;

/// Why a directory write did not commit.
#[derive(Debug, PartialEq, Eq)]
pub enum DirectoryConflict {
    /// Another person has this `userName`.
    UserName,
    /// Another active person has this seat address.
    SeatAddress,
    /// The person changed (or is gone) since they were read.
    Changed,
}

fn record_key(customer_id: &str, id: &str) -> Item {
    key(keys::customer(customer_id), keys::directory_user(id))
}

fn name_key(customer_id: &str, user_name_key: &str) -> Item {
    key(keys::customer(customer_id), keys::directory_name(user_name_key))
}

fn seat_key(customer_id: &str, address: &str) -> Item {
    key(keys::customer(customer_id), keys::directory_seat(address))
}

fn user_item(u: &DirectoryUser, key: Item, kind: &str) -> Result<Item> {
    let mut item = to_item(u)?;
    item.extend(key);
    item.insert(keys::TYPE.into(), s(kind));
    Ok(item)
}

/// One write of a directory transaction, with what its failed condition means.
type DirectoryWrite = Refusable<DirectoryConflict>;

impl Store {
    /// One person, strongly consistent.
    pub async fn directory_user(
        &self,
        customer_id: &str,
        id: &str,
    ) -> Result<Option<DirectoryUser>> {
        self.get(record_key(customer_id, id), true).await?.map(from_item).transpose()
    }

    /// The person with this `userName` (any case): one strongly consistent
    /// read of the name's item, which holds a copy of the person.
    pub async fn directory_user_named(
        &self,
        customer_id: &str,
        user_name: &str,
    ) -> Result<Option<DirectoryUser>> {
        let key = name_key(customer_id, &crate::model::user_name_key(user_name));
        self.get(key, true).await?.map(from_item).transpose()
    }

    /// Everyone in a customer's directory, in id order, strongly consistent.
    pub async fn directory(&self, customer_id: &str) -> Result<Vec<DirectoryUser>> {
        let range =
            KeyRange::table(keys::customer(customer_id)).begins_with(keys::DIRECTORY_PREFIX);
        let query = self.query(range).consistent_read(true);
        self.query_all(query).await?.into_iter().map(from_item).collect()
    }

    /// Writes `new` in place of `old` (`None`: a new person): the record
    /// under its version, the name's item and the seat address's item moved
    /// with them, all in one transaction.
    pub async fn save_directory_user(
        &self,
        old: Option<&DirectoryUser>,
        new: &DirectoryUser,
    ) -> Result<(), DirectoryConflictOr> {
        let table = &self.table;
        let customer = &new.customer_id;
        let mut steps = Vec::new();
        let record = user_item(new, record_key(customer, &new.id), kind::DIRECTORY_USER)?;
        let condition = match old {
            None => Expr::item_absent(),
            Some(old) => Expr::version_is(old.version),
        };
        steps.push(DirectoryWrite {
            item: TransactWriteItem::builder()
                .put(expr::put(table, record, Some(condition))?)
                .build(),
            refused: DirectoryConflict::Changed,
        });
        let new_name = new.user_name_key();
        let name = user_item(new, name_key(customer, &new_name), kind::DIRECTORY_NAME)?;
        // The name's item is the person's or nobody's.
        let mine = Expr::item_absent()
            .or(Expr::new("#id = :id").name("#id", attr::ID).value(":id", s(&new.id)));
        steps.push(DirectoryWrite {
            item: TransactWriteItem::builder().put(expr::put(table, name, Some(mine))?).build(),
            refused: DirectoryConflict::UserName,
        });
        if let Some(old_name) = old.map(DirectoryUser::user_name_key).filter(|n| *n != new_name) {
            let delete = expr::delete(table, name_key(customer, &old_name), None)?;
            steps.push(DirectoryWrite {
                item: TransactWriteItem::builder().delete(delete).build(),
                refused: DirectoryConflict::Changed,
            });
        }
        let old_claims = old.map(DirectoryUser::claimed_addresses).unwrap_or_default();
        let new_claims = new.claimed_addresses();
        for seat in new_claims.iter().filter(|a| !old_claims.contains(a)) {
            let mut item = seat_key(customer, seat);
            item.extend([
                (keys::TYPE.to_string(), s(kind::DIRECTORY_SEAT)),
                (attr::ID.to_string(), s(&new.id)),
            ]);
            let put = expr::put(table, item, Some(Expr::item_absent()))?;
            steps.push(DirectoryWrite {
                item: TransactWriteItem::builder().put(put).build(),
                refused: DirectoryConflict::SeatAddress,
            });
        }
        for seat in old_claims.iter().filter(|a| !new_claims.contains(a)) {
            let delete = expr::delete(table, seat_key(customer, seat), None)?;
            steps.push(DirectoryWrite {
                item: TransactWriteItem::builder().delete(delete).build(),
                refused: DirectoryConflict::Changed,
            });
        }
        self.commit_refusable(steps, DirectoryConflict::Changed).await
    }

    /// Removes a person: the record (under its version) and both items.
    pub async fn delete_directory_user(
        &self,
        u: &DirectoryUser,
    ) -> Result<(), DirectoryConflictOr> {
        let table = &self.table;
        let customer = &u.customer_id;
        let delete = |key: Item| expr::delete(table, key, None);
        let record =
            expr::delete(table, record_key(customer, &u.id), Some(Expr::version_is(u.version)))?;
        let mut steps = vec![
            DirectoryWrite {
                item: TransactWriteItem::builder().delete(record).build(),
                refused: DirectoryConflict::Changed,
            },
            DirectoryWrite {
                item: TransactWriteItem::builder()
                    .delete(delete(name_key(customer, &u.user_name_key()))?)
                    .build(),
                refused: DirectoryConflict::Changed,
            },
        ];
        for seat in u.claimed_addresses() {
            steps.push(DirectoryWrite {
                item: TransactWriteItem::builder()
                    .delete(delete(seat_key(customer, &seat))?)
                    .build(),
                refused: DirectoryConflict::Changed,
            });
        }
        self.commit_refusable(steps, DirectoryConflict::Changed).await
    }
}

/// A directory write's failure: a conflict of the data, or a dependency.
pub type DirectoryConflictOr = ConflictOr<DirectoryConflict>;
